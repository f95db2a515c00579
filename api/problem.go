package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/transcript"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string           `json:"type" openapi:"schema=ProblemType"`
	Title  string           `json:"title" openapi:"schema=Text"`
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

// writeJSON writes v as JSON with status. v is encoded into a buffer first,
// so a value encoding/json cannot write (a time past year 9999, say) never
// leaves a status line with an empty body: it is a 500 problem instead, and
// the error is logged by the middleware (through the statusRecorder).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		for rw := w; rw != nil; {
			if rec, ok := rw.(*statusRecorder); ok {
				rec.err = fmt.Errorf("api: encode %T response: %w", v, err)
				break
			}
			u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				break
			}
			rw = u.Unwrap()
		}
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Detail: "internal error; it has been logged"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		// Only strings and ints: unreachable, but never an empty body.
		buf.Reset()
		fmt.Fprintf(&buf, `{"type":"about:blank","title":%q,"status":%d}`+"\n", http.StatusText(p.Status), p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(p.Status)
	_, _ = w.Write(buf.Bytes())
}

// retryAfterUnavailable is the Retry-After (seconds) of a 503 that says the
// database cannot answer now.
const retryAfterUnavailable = "5"

// writeUnavailable answers 503 with Retry-After: a dependency cannot answer
// now; the same request may succeed later.
func writeUnavailable(w http.ResponseWriter, detail string) {
	w.Header().Set("Retry-After", retryAfterUnavailable)
	writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Detail: detail})
}

// writeError maps an error to a problem response: crm.ErrNotFound → 404,
// crm.ErrInvalid → 422 with the field list, crm.ErrConflict → 409, an
// httpError → its status, a database that cannot answer now (down, frozen,
// out of connections, a statement or the request's deadline run out:
// store.ErrUnavailable) → 503 with Retry-After, logged; anything else →
// 500, logged (its text is not shown to the client).
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var ve *crm.ValidationError
	var ce *crm.ConflictError
	clientGone := errors.Is(r.Context().Err(), context.Canceled)
	switch {
	case clientGone && errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		writeProblem(w, Problem{Status: 499, Title: "Client Closed Request"})
	case errors.Is(store.Classify(err), store.ErrUnavailable):
		h.log.WarnContext(r.Context(), "request failed: database unavailable", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		writeUnavailable(w, "the database cannot answer right now; retry later")
	case errors.As(err, &he):
		if he.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfterUnavailable)
		}
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
		var fields []crm.FieldError
		if ce.Field != "" {
			fields = []crm.FieldError{{Field: ce.Field, Message: ce.Detail}}
		}
		writeProblem(w, Problem{Status: http.StatusConflict, Detail: ce.Detail, Errors: fields})
	case errors.Is(err, crm.ErrConflict):
		writeProblem(w, Problem{Status: http.StatusConflict, Detail: "conflict"})
	default:
		h.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Detail: "internal error; it has been logged"})
	}
}

func isNotFound(err error) bool { return errors.Is(err, crm.ErrNotFound) }
