package main

import (
	"fmt"
	"io"

	"logbook/internal/app"
	"logbook/internal/secretbox"
)

// cmdSecretKey prints a new LOGBOOK_SECRET_KEY: 32 random bytes in base64,
// what the server seals connector secrets with. It touches nothing else.
func cmdSecretKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("secret-key", "Print a new random LOGBOOK_SECRET_KEY (32 bytes, base64): the key that seals the stored passwords and\n"+
		"tokens of mailboxes, calendars and note-takers.\n"+
		"To rotate: set the new key as LOGBOOK_SECRET_KEY and the old one in LOGBOOK_SECRET_KEY_OLD; secrets sealed\n"+
		"with the old key still open, and every secret saved again is sealed with the new one.", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return app.UsageError{Msg: fmt.Sprintf("secret-key takes no arguments (got %q)", fs.Arg(0))}
	}
	fmt.Fprintln(stdout, secretbox.NewKey())
	return nil
}
