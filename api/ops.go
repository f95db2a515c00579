package api

import (
	"context"
	"net/http"
	"time"

	"logbook/internal/crm"
)

func opsRoutes() []route {
	return []route{
		{Method: "GET", Path: "/healthz", Handle: (*handler).healthz, Tag: "ops",
			Summary: "Liveness: the process is up.", Resp: map[int]any{200: health{}}},
		{Method: "GET", Path: "/readyz", Handle: (*handler).readyz, Tag: "ops",
			Summary: "Readiness: PostgreSQL and Redis are reachable.", Resp: map[int]any{200: health{}, 503: health{}}},
		{Method: "GET", Path: "/metrics", Handle: (*handler).serveMetrics, Tag: "ops",
			Summary: "Prometheus metrics (text exposition format).", Resp: map[int]any{200: "text"}},
		{Method: "GET", Path: "/openapi.json", Handle: (*handler).serveOpenAPI, Tag: "ops",
			Summary: "This OpenAPI 3.1 document.", Resp: map[int]any{200: map[string]any{}}},
	}
}

// health is the body of /healthz and /readyz.
type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
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
	writeJSON(w, status, res)
	return nil
}

func (h *handler) serveMetrics(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	h.metrics.ServeHTTP(w, r)
	return nil
}

func (h *handler) serveOpenAPI(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(h.openapi)
	return nil
}
