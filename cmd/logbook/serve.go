package main

import (
	"context"
	"fmt"
	"io"
	"net"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("serve", "Run the HTTP API and the web UI on HTTP_ADDR (configuration from the environment: logbook help).", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	h, err := a.Handler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Cfg.HTTPAddr, err)
	}
	return a.Serve(ctx, ln, h)
}
