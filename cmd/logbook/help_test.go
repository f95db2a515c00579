package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/secretbox"
)

// trap listens on a loopback port, counts every connection made to it and
// closes it at once: a database or Redis that is never there, and that
// tells whether anything tried to reach it.
func trap(t *testing.T) (addr string, dials *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	dials = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), dials
}

// runMain runs this binary's main() (TestMain) with args and env and
// returns its combined output and exit status.
func runMain(t *testing.T, env []string, args ...string) (string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "LOGBOOK_TEST_MAIN=1"), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), took
	}
	require.NoError(t, err, "%v: %s", args, out)
	return string(out), 0, took
}

// TestHelpRunsNothing runs every command with -h, -help and --help against
// a database and a Redis that count connections: each prints its usage and
// exits 0 at once, and nothing dials either. An unknown flag still exits 2
// with the usage.
func TestHelpRunsNothing(t *testing.T) {
	t.Parallel()
	db, dbDials := trap(t)
	rd, redisDials := trap(t)
	env := []string{"DATABASE_URL=postgres://postgres@" + db + "/logbook_help?sslmode=disable&connect_timeout=2",
		"REDIS_URL=redis://" + rd + "/0", "RUN_MIGRATIONS=1", "HTTP_ADDR=127.0.0.1:0"}

	for _, h := range []string{"-h", "-help", "--help", "help"} {
		out, code, _ := runMain(t, env, h)
		require.Equal(t, 0, code, "logbook %s: %s", h, out)
		require.Contains(t, out, "logbook serve", "logbook %s", h)
	}
	commands := [][]string{{"serve"}, {"worker"}, {"all"}, {"migrate"}, {"orgs"}, {"orgs", "create"}, {"demo"}, {"reindex"}, {"version"}, {"healthcheck"}, {"export"}, {"users", "invite"}, {"secret-key"}}
	for _, c := range commands {
		name := strings.Join(c, " ")
		for _, h := range []string{"-h", "-help", "--help"} {
			out, code, took := runMain(t, env, append(c, h)...)
			require.Equal(t, 0, code, "logbook %s %s: %s", name, h, out)
			require.Contains(t, strings.ToLower(out), "usage: logbook "+name, "logbook %s %s", name, h)
			require.NotContains(t, out, "connect", "logbook %s %s", name, h)
			require.Less(t, took, 10*time.Second, "logbook %s %s", name, h)
		}
		if name == "orgs" {
			continue // "orgs -bogus" is a wrong subcommand, not a flag
		}
		out, code, _ := runMain(t, env, append(c, "-bogus")...)
		require.Equal(t, 2, code, "logbook %s -bogus: %s", name, out)
		require.Contains(t, out, "flag provided but not defined: -bogus")
		require.Contains(t, out, "Usage: logbook "+name)
	}
	require.Zero(t, dbDials.Load(), "a help or a wrong flag connected to the database")
	require.Zero(t, redisDials.Load(), "a help or a wrong flag connected to Redis")
}

// TestSecretKey: `logbook secret-key` prints a fresh key that
// LOGBOOK_SECRET_KEY takes, a new one each time, and runs nothing else.
func TestSecretKey(t *testing.T) {
	t.Parallel()
	var out1, out2, errOut strings.Builder
	require.NoError(t, run(context.Background(), []string{"secret-key"}, &out1, &errOut, func(string) string { return "" }))
	require.NoError(t, run(context.Background(), []string{"secret-key"}, &out2, &errOut, func(string) string { return "" }))
	k := strings.TrimSpace(out1.String())
	raw, err := secretbox.ParseKey(k)
	require.NoError(t, err)
	require.Len(t, raw, 32)
	require.NotEqual(t, k, strings.TrimSpace(out2.String()))
	_, err = secretbox.New(k)
	require.NoError(t, err)
	require.Error(t, run(context.Background(), []string{"secret-key", "extra"}, &out1, &errOut, func(string) string { return "" }))
}
