package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// health is the body of /healthz and /readyz.
type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
	// Details say what readiness does not depend on (a connector whose
	// mailbox is broken must not take the API out of a load balancer).
	Details *healthDetails `json:"details,omitempty"`
}

// healthDetails are /readyz's details.
type healthDetails struct {
	// Connectors counts every org's connectors by health status; only
	// counts, since /readyz is public.
	Connectors *connectorCounts `json:"connectors,omitempty"`
}

// connectorCounts counts connectors by crm.ConnectorHealth.Status.
type connectorCounts struct {
	OK        int `json:"ok"`
	Failing   int `json:"failing"`
	Unhealthy int `json:"unhealthy"`
	Pending   int `json:"pending"`
	Disabled  int `json:"disabled"`
}

// connectorDetails counts the connectors' health for /readyz. A failure
// (the database is down, which the postgres check reports) shows nothing.
func (h *handler) connectorDetails(ctx context.Context) *healthDetails {
	if h.connectorHealth == nil {
		return nil
	}
	rows, err := h.connectorHealth(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "readyz: counting connectors by health", slog.Any("error", err))
		return nil
	}
	var c connectorCounts
	for _, r := range rows {
		switch r.Status {
		case "ok":
			c.OK += r.Count
		case "failing":
			c.Failing += r.Count
		case "unhealthy":
			c.Unhealthy += r.Count
		case "pending":
			c.Pending += r.Count
		case "disabled":
			c.Disabled += r.Count
		}
	}
	return &healthDetails{Connectors: &c}
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	writeJSON(w, http.StatusOK, health{Status: "ok"})
	return nil
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res := health{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for _, c := range h.ready {
		if err := c.Check(ctx); err != nil {
			res.Checks[c.Name] = err.Error()
			res.Status = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		res.Checks[c.Name] = "ok"
	}
	// Connector health is shown, never a reason to be unready.
	if ctx.Err() == nil {
		res.Details = h.connectorDetails(ctx)
	}
	writeJSON(w, status, res)
	return nil
}

// serveMetrics serves the registry, behind the metrics token when one is
// set: "Authorization: Bearer <token>", compared in constant time; anything
// else is a 401.
func (h *handler) serveMetrics(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	if h.metricsToken != "" && !bearerIs(r, h.metricsToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		writeProblem(w, Problem{Status: http.StatusUnauthorized, Detail: "/metrics requires the metrics token: Authorization: Bearer <METRICS_TOKEN>"})
		return nil
	}
	h.metrics.ServeHTTP(w, r)
	return nil
}

// bearerIs reports whether r carries "Authorization: Bearer token".
func bearerIs(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

func (h *handler) serveOpenAPI(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(h.openapi)
	return nil
}

// OpsDeps is what NewOpsHandler serves.
type OpsDeps struct {
	// Ready lists what /readyz checks.
	Ready []ReadyCheck
	// Registry is served at /metrics. Required.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Logger gets the errors of serving metrics; nil discards.
	Logger *slog.Logger
	// Store, when set, counts the connectors by health for /readyz's
	// details (as the API's /readyz shows them).
	Store *store.Store
}

// NewOpsHandler serves /healthz, /readyz and /metrics alone, exactly as
// the API does: the port of a process that serves no API (logbook worker).
func NewOpsHandler(d OpsDeps) http.Handler {
	h := &handler{ready: d.Ready, metricsToken: d.MetricsToken, log: d.Logger}
	if d.Store != nil {
		h.connectorHealth = d.Store.ConnectorsHealth
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.metrics = promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)})
	mux := http.NewServeMux()
	for _, rt := range []struct {
		path string
		fn   handlerFunc
	}{{"/healthz", (*handler).healthz}, {"/readyz", (*handler).readyz}, {"/metrics", (*handler).serveMetrics}} {
		mux.HandleFunc("GET "+rt.path, func(w http.ResponseWriter, r *http.Request) { _ = rt.fn(h, w, r, crm.Principal{}) })
	}
	return mux
}
