package sse

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	s := New(rec)
	s.Status = http.StatusTooManyRequests
	if err := s.Event("error", map[string]string{"message": "wait"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Event("done", 1); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Content-Type") != "text/event-stream" || !s.Started {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	want := "event: error\ndata: {\"message\":\"wait\"}\n\nevent: done\ndata: 1\n\n"
	if rec.Body.String() != want {
		t.Errorf("body %q, want %q", rec.Body.String(), want)
	}
}
