package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"logbook/internal/app"
)

func cmdWorker(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("worker", "Run the Asynq workers (transcripts → notes, webhooks) and the reconciler.", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", app.RedactURL(a.Cfg.RedisURL), err)
	}
	enq, w, err := a.Pipeline(a.Queues())
	if err != nil {
		return err
	}
	defer enq.Close()
	return w.Run(ctx, a.Cfg.ShutdownTimeout)
}

// cmdAll runs the API and the worker in one process: for a laptop, a small
// team or the demo.
func cmdAll(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("all", "Run serve and worker in one process.", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Cfg.HTTPAddr, err)
	}
	return a.RunAll(ctx, ln, a.Queues())
}
