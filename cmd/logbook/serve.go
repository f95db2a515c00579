package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"logbook/api"
	"logbook/internal/store"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("serve", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.close()
	h, err := a.apiHandler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
	}
	return a.serveHTTP(ctx, ln, h)
}

// apiHandler builds the HTTP API. It starts the API key cache's listener,
// which runs until ctx is done: the caller's ctx must last as long as the
// handler serves.
func (a *app) apiHandler(ctx context.Context) (http.Handler, error) {
	enq, w, err := a.pipeline(a.queues())
	if err != nil {
		return nil, err
	}
	return a.apiHandlerWith(ctx, enq, w)
}

// apiHandlerWith builds the HTTP API on an enqueuer (where posted
// transcripts and webhook deliveries go) and a follow-up regenerator.
func (a *app) apiHandlerWith(ctx context.Context, enq api.Enqueuer, fu api.FollowUpGenerator) (http.Handler, error) {
	st := storeOf(a.pool)
	rs, err := a.retrievalService()
	if err != nil {
		return nil, err
	}
	keys := store.NewKeyCache(a.pool, st, store.KeyCacheOptions{Logger: a.log})
	go func() { _ = keys.Run(ctx) }()
	return api.NewHandler(api.Deps{
		Store:     st,
		Auth:      keys,
		Enqueuer:  enq,
		FollowUps: fu,
		Asker:     rs,
		Searcher:  rs,
		Logger:    a.log,
		Version:   buildVersion(),
		Ready: []api.ReadyCheck{
			{Name: "postgres", Check: func(ctx context.Context) error { return a.pool.Ping(ctx) }},
			{Name: "redis", Check: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() }},
		},
	})
}

// serveHTTP serves h on ln until ctx is done, then shuts down gracefully:
// no new connections, in-flight requests get up to ShutdownTimeout.
func (a *app) serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("version", buildVersion()))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down", slog.Duration("timeout", a.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("stopped")
	return nil
}
