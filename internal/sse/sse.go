// Package sse writes server-sent events (text/event-stream) the way both
// the API and the web UI stream answers: each event a name and one JSON
// value on one data: line, flushed at once. Stdlib only.
package sse

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Writer writes events to w, sending the headers (with Status, 200 when
// zero) before the first. Started reports whether they were sent.
type Writer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	Status  int
	Started bool
}

// New returns a Writer on w.
func New(w http.ResponseWriter) *Writer {
	return &Writer{w: w, rc: http.NewResponseController(w)}
}

// Event writes one event whose data is v as JSON, and flushes it.
func (s *Writer) Event(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !s.Started {
		s.Started = true
		hd := s.w.Header()
		hd.Set("Content-Type", "text/event-stream")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Accel-Buffering", "no")
		if s.Status == 0 {
			s.Status = http.StatusOK
		}
		s.w.WriteHeader(s.Status)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return err
	}
	return s.rc.Flush()
}
