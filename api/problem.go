package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/transcript"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail,omitempty"`
	Errors []crm.FieldError `json:"errors,omitempty"`
}

// httpError is an error that already knows its status: bad JSON, a body too
// large, a missing key.
type httpError struct {
	status int
	detail string
	fields []crm.FieldError
}

func (e *httpError) Error() string { return e.detail }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, detail: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("Content-Length")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// writeError maps an error to a problem response: crm.ErrNotFound → 404,
// crm.ErrInvalid → 422 with the field list, crm.ErrConflict → 409, an
// httpError → its status, anything else → 500, logged (its text is not shown
// to the client).
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var ve *crm.ValidationError
	var ce *crm.ConflictError
	switch {
	case errors.As(err, &he):
		writeProblem(w, Problem{Status: he.status, Detail: he.detail, Errors: he.fields})
	case errors.As(err, &ve):
		writeProblem(w, Problem{
			Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Detail: "the request has invalid fields; see errors", Errors: ve.Fields,
		})
	case errors.Is(err, crm.ErrInvalid):
		writeProblem(w, Problem{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Detail: err.Error()})
	case errors.Is(err, transcript.ErrTooLong):
		writeProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Detail: err.Error()})
	case errors.Is(err, crm.ErrNotFound):
		writeProblem(w, Problem{Status: http.StatusNotFound, Detail: "no such resource"})
	case errors.As(err, &ce):
		writeProblem(w, Problem{Status: http.StatusConflict, Detail: ce.Detail})
	case errors.Is(err, crm.ErrConflict):
		writeProblem(w, Problem{Status: http.StatusConflict, Detail: "conflict"})
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		writeProblem(w, Problem{Status: 499, Title: "Client Closed Request"})
	default:
		h.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Detail: "internal error; it has been logged"})
	}
}

func isNotFound(err error) bool { return errors.Is(err, crm.ErrNotFound) }
