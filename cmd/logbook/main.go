// Command logbook runs Logbook: the HTTP API (serve), the Asynq workers
// (worker), both in one process (all), schema migrations (migrate), org
// bootstrap and removal (orgs create, orgs delete), the offline demo (demo) and re-embedding
// (reindex). Configuration comes from the environment; see `logbook help`.
// The benchmarks and the quality harnesses are cmd/logbook-bench; the
// wiring both share is internal/app.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"

	"logbook/internal/app"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision from the build info is used.
var version = ""

// revision and buildDate are set at build time with -ldflags "-X
// main.revision=<commit> -X main.buildDate=<RFC 3339>" (scripts/build.sh,
// the Dockerfile); otherwise the build info's VCS revision, or unknown.
var (
	revision  = ""
	buildDate = ""
)

const usage = `logbook: the activity log and meeting-note pipeline for sales and CS teams.

Usage:
  logbook serve                     run the HTTP API
  logbook worker                    run the Asynq workers (transcripts → notes, webhooks) and the reconciler
  logbook all                       serve and worker in one process
  logbook migrate                   apply pending schema migrations (creates the database if missing)
  logbook orgs create --name NAME   create an org; prints {"org_id","api_key"} (an admin key)
  logbook orgs delete --id ID [--yes]  delete an org and all its data (rows, keys, queued tasks); --yes to do it
  logbook users invite -org ID -email EMAIL [-name NAME] [-role ROLE] [-url BASE]
                                    invite a person to the web UI (creates the user if missing); prints a one-time link
  logbook demo                      the offline demo: migrate, run Logbook, post the sample meetings in examples/, print their notes
  logbook reindex [--org ID]        embed every chunk the configured model has not (resumable; changes EMBED_DIM)
  logbook export -org ID [-format ndjson|csv] [-updated-since T] [-types a,b] [-state FILE] [-o FILE]
                                    write an org's activity feed (GET /v1/activities) with progress; -state makes the next run incremental
  logbook version                   print the version, revision, build date and Go version
  logbook healthcheck [-worker]     GET /readyz of a running logbook (HTTP_ADDR, or WORKER_HTTP_ADDR); exit 0 when ready
  logbook secret-key                print a new random LOGBOOK_SECRET_KEY (connector secrets are sealed with it)
  logbook help                      this text
  logbook COMMAND -h                a command's flags (nothing is run)

The benchmarks and the quality loop are another command: go run ./cmd/logbook-bench help

Environment (defaults in brackets):
  DATABASE_URL        PostgreSQL URL [postgres://postgres@127.0.0.1:5432/logbook?sslmode=disable]
  REDIS_URL           Redis URL [redis://127.0.0.1:6379/0]
  HTTP_ADDR           listen address of serve [127.0.0.1:8080]
  LLM_PROVIDER        local (offline) or openai [local]
  OPENAI_API_KEY      key for LLM_PROVIDER=openai
  OPENAI_BASE_URL     any OpenAI-compatible server [the OpenAI API]
  CHAT_MODEL          chat model [gpt-4o-mini]
  EMBED_MODEL         embedding model [text-embedding-3-small]
  EMBED_DIM           embedding dimension [384]
  WORKER_CONCURRENCY  transcripts a worker processes at once [8]
  QUEUE_PREFIX        prefix of the task queue names, to share one Redis between deployments []
  RATE_LIMIT_KEY_PER_MIN, RATE_LIMIT_ORG_PER_MIN  requests a minute per API key, per org; 0 disables [600, 3000]
  RATE_LIMIT_ASK_PER_MIN, RATE_LIMIT_ORG_ASK_PER_MIN  questions (ask) a minute per API key, per org [20, 100]
  LLM_CONTEXT_TOKENS  transcript tokens per model call; longer meetings go map-reduce [12000]
  ANSWER_MIN_SIMILARITY  least similarity of a record to a question to answer from it [0.2, for the local embedder]
  SEARCH_VECTOR_WEIGHT  weight of search by meaning against BM25's 1 in hybrid search [0.3, for the local embedder]
  HNSW_EF_SEARCH      candidates an org-wide question's vector search keeps (hnsw.ef_search, 10-1000) [800]
  LLM_PRICES          JSON price table, USD per million tokens: {"model":{"input":0.15,"output":0.6}}
  RUN_MIGRATIONS      1 lets serve migrate at start; otherwise it refuses a schema with pending migrations [0]
  LOG_LEVEL           debug, info, warn or error [info]
  SHUTDOWN_TIMEOUT    graceful shutdown bound [20s]
  DB_MAX_CONNS, DB_MIN_CONNS  PostgreSQL pool size [max(8, 4*GOMAXPROCS), 0]
  DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT  connect and statement timeouts [5s, 10s; 0 turns statements' off]
  REQUEST_TIMEOUT, LONG_REQUEST_TIMEOUT  API request deadline; of ask, follow-up, transcripts [15s, 2m]
  HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT  [10s, 2m, REQUEST_TIMEOUT+15s, 2m]
  HTTP_MAX_HEADER_BYTES  largest request header block [65536]
  REDIS_DIAL_TIMEOUT, REDIS_READ_TIMEOUT, REDIS_WRITE_TIMEOUT  Redis client timeouts [5s, 3s, 3s]
  TRANSCRIPT_PARSE_CONCURRENCY  maximum-size transcripts read, parsed and stored at once; smaller share by size [1]
  TRANSCRIPT_PARSE_WAIT  how long a posted transcript waits for its turn before 503 [30s]
  WORKER_HTTP_ADDR    where worker serves /healthz, /readyz and /metrics; off serves nothing [127.0.0.1:9091]
  PUBLIC_URL          the web UI's address as people reach it, the base of invite links [the request's host]
  METRICS_TOKEN       when set, /metrics (API and worker ports) requires Authorization: Bearer METRICS_TOKEN []
  LOGBOOK_SECRET_KEY  32 bytes (base64 or hex; logbook secret-key makes one) sealing connector passwords and tokens; unset, none can be stored []
  LOGBOOK_SECRET_KEY_OLD  earlier keys, comma-separated, still opening what they sealed (rotation) []
  CONNECTOR_ALLOW_PRIVATE  private hosts connectors may reach (mail, calendar servers): CIDRs, IPs, host names, *.suffix []
`

func main() { app.Main("logbook", usage, run) }

// usageError is a mistake on the command line (exit status 2).
type usageError = app.UsageError

// run dispatches a subcommand. It is main without the process: tests call
// it with their own arguments, output and environment. A request for help
// (-h, -help, --help, on its own or after a command) prints the usage, runs
// nothing and returns nil.
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
	case "serve":
		return cmdServe(ctx, rest, stderr, getenv)
	case "worker":
		return cmdWorker(ctx, rest, stderr, getenv)
	case "all":
		return cmdAll(ctx, rest, stderr, getenv)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr, getenv)
	case "orgs":
		return cmdOrgs(ctx, rest, stdout, stderr, getenv)
	case "users":
		return cmdUsers(ctx, rest, stdout, stderr, getenv)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr, getenv)
	case "reindex":
		return cmdReindex(ctx, rest, stdout, stderr, getenv)
	case "export":
		return cmdExport(ctx, rest, stdout, stderr, getenv)
	case "version", "--version", "-v":
		fs := newFlagSet("version", "Print the version, VCS revision, build date and Go version.", stderr)
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		printVersion(stdout)
		return nil
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, stdout, stderr, getenv)
	case "secret-key":
		return cmdSecretKey(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{Msg: fmt.Sprintf("unknown command %q", cmd)}
}

// buildVersion is version when the build stamped it, else the build info's.
func buildVersion() string { return app.BuildVersion(version) }

// printVersion writes what `logbook version` says: the version on the
// first line ("logbook v1.2.3"), then the revision, the build date and the
// Go version. A build nobody stamped says so rather than pass for a release.
func printVersion(w io.Writer) {
	v := buildVersion()
	if version == "" {
		v += " (not stamped: build with scripts/build.sh or the Dockerfile)"
	}
	fmt.Fprintln(w, "logbook", v)
	fmt.Fprintln(w, "revision:", app.BuildRevision(revision))
	fmt.Fprintln(w, "built:", or(buildDate, "unknown"))
	fmt.Fprintln(w, "go:", runtime.Version())
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newFlagSet returns the flag set of a subcommand: it reports errors
// instead of exiting, and -h prints synopsis and the flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return app.NewFlagSet("logbook", name, synopsis, stderr)
}

// parseFlags parses a subcommand's flags: flag.ErrHelp after printing the
// usage when they ask for help (the command returns it at once), a
// usageError when they are wrong.
func parseFlags(fs *flag.FlagSet, args []string) error { return app.ParseFlags(fs, args) }

// openApp opens the App (internal/app) with this binary's version.
func openApp(ctx context.Context, stderr io.Writer, getenv func(string) string) (*app.App, error) {
	a, err := app.Open(ctx, stderr, getenv)
	if err != nil {
		return nil, err
	}
	a.Version = buildVersion()
	a.Revision = app.BuildRevision(revision)
	return a, nil
}
