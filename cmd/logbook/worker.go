package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"logbook/internal/app"
)

func cmdWorker(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("worker", "Run the Asynq workers (transcripts → notes, webhooks) and the reconciler; "+
		"serve /healthz, /readyz and /metrics on WORKER_HTTP_ADDR.", stderr)
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
	if err := a.WatchQueues(a.Queues()); err != nil {
		return err
	}
	if a.Cfg.WorkerHTTPAddr == "" {
		return w.Run(ctx, a.Cfg.ShutdownTimeout)
	}
	ln, err := net.Listen("tcp", a.Cfg.WorkerHTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on WORKER_HTTP_ADDR %s: %w", a.Cfg.WorkerHTTPAddr, err)
	}
	// The port and the workers stop together: when either ends, so does
	// the other.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = a.ServeOps(ctx, ln); cancel() }()
	go func() { defer wg.Done(); errs[1] = w.Run(ctx, a.Cfg.ShutdownTimeout); cancel() }()
	wg.Wait()
	return errors.Join(errs...)
}

// cmdAll runs the API and the worker in one process: for a laptop, a small
// team or the demo. The worker's metrics are on the API's /metrics; no
// worker port is opened.
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
