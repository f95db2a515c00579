package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestMetricsToken: with a metrics token /metrics answers 401 (problem+json,
// WWW-Authenticate) to no token, another scheme and a wrong or longer
// token, and the metrics to the right one; without a token it is open.
// NewOpsHandler (the worker's port) behaves the same.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef-metrics"
	pool := testdb.Pool(t)
	h, err := NewHandler(Deps{Store: store.New(pool), MetricsToken: token})
	require.NoError(t, err)
	open, err := NewHandler(Deps{Store: store.New(pool)})
	require.NoError(t, err)
	ready := []ReadyCheck{{Name: "redis", Check: func(context.Context) error { return errors.New("connection refused") }}}
	ops := NewOpsHandler(OpsDeps{Registry: prometheus.NewRegistry(), MetricsToken: token, Ready: ready})

	do := func(h http.Handler, path, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for name, h := range map[string]http.Handler{"api": h, "ops": ops} {
		for _, auth := range []string{"", "Basic " + token, "Bearer ", "Bearer " + token[:len(token)-1], "Bearer " + token + "x", token} {
			rec := do(h, "/metrics", auth)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s %q", name, auth)
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), name)
			require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			require.NotContains(t, rec.Body.String(), "go_", name)
		}
		for _, auth := range []string{"Bearer " + token, "bearer " + token} {
			rec := do(h, "/metrics", auth)
			require.Equal(t, http.StatusOK, rec.Code, "%s %q", name, auth)
		}
	}
	rec := do(h, "/metrics", "Bearer "+token)
	require.True(t, strings.Contains(rec.Body.String(), "go_goroutines"), "the API's own registry has the Go collector")
	require.Equal(t, http.StatusOK, do(open, "/metrics", "").Code, "no token configured: open")

	require.Equal(t, http.StatusOK, do(ops, "/healthz", "").Code)
	rec = do(ops, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "connection refused")
	require.Equal(t, http.StatusNotFound, do(ops, "/v1/accounts", "").Code, "the ops port serves no API")
}
