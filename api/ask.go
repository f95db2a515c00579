package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/sse"
	"logbook/retrieval"
)

// Asker answers a question from an org's history. onToken, when not nil,
// receives the validated answer's text (for text/event-stream): sentence
// by sentence while the model writes when it can stream, and never
// anything the validation drops.
type Asker interface {
	Ask(ctx context.Context, q retrieval.Question, onToken func(string) error) (retrieval.Answer, error)
}

func (h *handler) accountAsk(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.store.AccountGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	return h.ask(w, r, p, id)
}

func (h *handler) orgAsk(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	return h.ask(w, r, p, "")
}

func (h *handler) ask(w http.ResponseWriter, r *http.Request, p crm.Principal, accountID string) error {
	var in crm.AskInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	aq, err := in.Validate()
	if err != nil {
		return err
	}
	if h.asker == nil {
		return errStatus(http.StatusServiceUnavailable, "questions are not available: this server runs without a retrieval service")
	}
	q := retrieval.Question{OrgID: p.OrgID, AccountID: accountID, Text: aq.Question, Since: aq.Since, Until: aq.Until, Types: aq.Types}
	if !acceptsEventStream(r) {
		a, err := h.asker.Ask(r.Context(), q, nil)
		if err != nil {
			return askError(err)
		}
		writeJSON(w, http.StatusOK, withCitations(a))
		return nil
	}
	s := sse.New(w)
	a, err := h.asker.Ask(r.Context(), q, func(tok string) error {
		return s.Event("token", map[string]string{"text": tok})
	})
	if err != nil {
		if !s.Started {
			return askError(err)
		}
		if r.Context().Err() != nil {
			// The client went away: nobody is left to tell, and it is not
			// a server fault.
			h.log.InfoContext(r.Context(), "client left an answer mid-stream", slog.String("path", r.URL.Path))
			return nil
		}
		// The status is sent; the failure goes down the stream.
		h.log.ErrorContext(r.Context(), "answer failed mid-stream", slog.String("path", r.URL.Path), slog.Any("error", err))
		_ = s.Event("error", Problem{Type: "about:blank", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Detail: askDetail(err)})
		return nil
	}
	if err := s.Event("citations", withCitations(a).Citations); err != nil {
		return nil // the client went away
	}
	_ = s.Event("done", map[string]any{"answer": a.Answer, "grounded": a.Grounded})
	return nil
}

// withCitations returns a with an empty list for no citations: the answer
// always has the array, whatever the Asker returned.
func withCitations(a retrieval.Answer) retrieval.Answer {
	if a.Citations == nil {
		a.Citations = []retrieval.Citation{}
	}
	return a
}

// askError maps a failure to answer: the model or embedder being
// unavailable is a 503 the client may retry, not a server fault.
func askError(err error) error {
	if errors.Is(err, retrieval.ErrUnavailable) {
		return errStatus(http.StatusServiceUnavailable, "%s", askDetail(err))
	}
	return err
}

func askDetail(err error) string {
	if errors.Is(err, retrieval.ErrUnavailable) {
		return "the language model could not answer just now; try again shortly"
	}
	return "internal error; it has been logged"
}

// acceptsEventStream reports whether the client asked for server-sent
// events.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				return true
			}
		}
	}
	return false
}
