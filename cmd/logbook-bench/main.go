// Command logbook-bench measures Logbook: the benchmarks (bench), the
// retrieval harness on the hand-written labelled set (eval) and the quality
// loop on real meetings (quality). It builds Logbook exactly as the server
// does, through internal/app, on databases of its own. Configuration comes
// from the environment, as for cmd/logbook; see `logbook-bench help`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"logbook/internal/app"
)

const usage = `logbook-bench: Logbook's benchmarks and quality harnesses (the server is cmd/logbook).

Usage:
  logbook-bench bench [flags]       run the benchmarks and print the figures (BENCHMARKS.md)
  logbook-bench eval [flags]        score retrieval (recall@5/10, MRR: hybrid, vector, full-text) on the labelled set
  logbook-bench quality [flags]     the quality loop: the dev set of real meetings through the API and worker, scored (QUALITY.md)
  logbook-bench help                this text
  logbook-bench COMMAND -h          a command's flags (nothing is run)

Each command works on a database of its own (its -db flag) on the server of DATABASE_URL, never on
live data; configuration comes from the environment as for logbook (go run ./cmd/logbook help).
`

func main() { app.Main("logbook-bench", usage, run) }

// usageError is a mistake on the command line (exit status 2).
type usageError = app.UsageError

// run dispatches a subcommand. It is main without the process: tests call
// it with their own arguments, output and environment. A request for help
// prints the usage, runs nothing and returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	err := dispatch(ctx, args, stdout, stderr, getenv)
	if app.IsHelp(err) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return usageError{Msg: "no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr, getenv)
	case "eval":
		return cmdEval(ctx, rest, stdout, stderr, getenv)
	case "quality":
		return cmdQuality(ctx, rest, stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{Msg: fmt.Sprintf("unknown command %q", cmd)}
}

// newFlagSet returns the flag set of a subcommand: it reports errors
// instead of exiting, and -h prints synopsis and the flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return app.NewFlagSet("logbook-bench", name, synopsis, stderr)
}

// parseFlags parses a subcommand's flags: flag.ErrHelp after printing the
// usage when they ask for help (the command returns it at once), a
// usageError when they are wrong.
func parseFlags(fs *flag.FlagSet, args []string) error { return app.ParseFlags(fs, args) }

// openApp opens the App (internal/app) as the server would.
func openApp(ctx context.Context, stderr io.Writer, getenv func(string) string) (*app.App, error) {
	return app.Open(ctx, stderr, getenv)
}
