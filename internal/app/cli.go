package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is a command's main: it runs run with the process's arguments,
// output and environment under a context that SIGINT and SIGTERM cancel,
// and exits 2 with the usage on a UsageError, 1 on any other error, 0
// otherwise. prog names the program in its messages.
func Main(prog, usage string, run func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		var ue UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "%s: %v\n\n%s", prog, err, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		os.Exit(1)
	}
}

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
