package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"logbook/internal/config"
)

// cmdHealthcheck asks a running logbook whether it is ready: GET /readyz on
// HTTP_ADDR (serve, all) or, with -worker, on WORKER_HTTP_ADDR. Without
// -worker, when nothing listens on HTTP_ADDR it asks WORKER_HTTP_ADDR, so
// the image's one HEALTHCHECK fits a worker container too. It exits 0 on
// 200 and 1 otherwise: the container image has no curl.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("healthcheck", "GET /readyz of a running logbook on HTTP_ADDR (or WORKER_HTTP_ADDR with -worker); exit 0 when ready, 1 otherwise.", stderr)
	workerPort := fs.Bool("worker", false, "check the worker's port (WORKER_HTTP_ADDR) instead of HTTP_ADDR")
	addr := fs.String("addr", "", "host:port to check instead of the configured address")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *addr != "" {
		return checkReady(ctx, *addr, stdout)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if *workerPort {
		if cfg.WorkerHTTPAddr == "" {
			return fmt.Errorf("healthcheck: WORKER_HTTP_ADDR is off: the worker serves no /readyz")
		}
		return checkReady(ctx, cfg.WorkerHTTPAddr, stdout)
	}
	err = checkReady(ctx, cfg.HTTPAddr, stdout)
	var refused *net.OpError
	if errors.As(err, &refused) && refused.Op == "dial" && cfg.WorkerHTTPAddr != "" {
		return checkReady(ctx, cfg.WorkerHTTPAddr, stdout)
	}
	return err
}

// checkReady GETs /readyz on the listen address listen: nil on 200.
func checkReady(ctx context.Context, listen string, stdout io.Writer) error {
	u, err := readyzURL(listen)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", u, res.Status, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}

// readyzURL is the /readyz URL of a listen address: a wildcard host (":8080",
// "0.0.0.0:8080", "[::]:8080") is reached on loopback.
func readyzURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: bad address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
