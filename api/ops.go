package api

import (
	"context"
	"net/http"
	"time"

	"logbook/internal/crm"
)

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
