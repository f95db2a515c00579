package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is a mistake on the command line: the command prints it with
// its usage and exits with status 2.
type UsageError struct{ Msg string }

// Error is the mistake, as the command prints it above its usage.
func (e UsageError) Error() string { return e.Msg }

// IsHelp reports whether err is a request for help (-h, -help, --help): the
// usage has been printed, nothing was run, and the process exits 0.
func IsHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// NewFlagSet returns the flag set of the subcommand name of the program
// prog: it reports errors instead of exiting, and its usage (printed to
// stderr on -h and on a wrong flag) is the command line, what the command
// does (synopsis) and its flags.
func NewFlagSet(prog, name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s %s [flags]\n\n%s\n", prog, name, synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			fmt.Fprintln(w, "\nIt takes no flags.")
			return
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses args into fs. It returns flag.ErrHelp (see IsHelp)
// when they ask for help, after fs has printed its usage: the caller must
// return it at once, before it touches anything. A wrong flag or a stray
// argument is a UsageError.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return UsageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("%s: unexpected arguments %v", fs.Name(), fs.Args())}
	}
	return nil
}
