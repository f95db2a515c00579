package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/retrieval"
)

// Searcher finds the passages of an org's history that best match a query
// (retrieval.Service).
type Searcher interface {
	// Passages returns at most k matching passages, best first, with the
	// query's words highlighted; none for a query with no searchable words.
	Passages(ctx context.Context, q retrieval.Question, k int) ([]retrieval.Hit, error)
}

// Search limits.
const (
	// maxSearchQuery is the longest q, in characters.
	maxSearchQuery = 1000
	// defaultSearchLimit and maxSearchLimit bound ?limit=.
	defaultSearchLimit = 10
	maxSearchLimit     = 50
)

// Passage is one search result: a chunk of an activity's text (a window
// of a meeting's transcript, part of its notes, or an email's, note's or
// call's own text) and where the query's words occur in it.
type Passage struct {
	ActivityID string           `json:"activity_id"`
	AccountID  string           `json:"account_id"`
	ChunkID    string           `json:"chunk_id"`
	Type       crm.ActivityType `json:"type"`
	OccurredAt time.Time        `json:"occurred_at"`
	// Speaker is the first speaker of a transcript passage; null for any
	// other passage.
	Speaker *string `json:"speaker"`
	// StartMS and EndMS are the transcript passage's span in the meeting;
	// null for any other passage.
	StartMS *int64 `json:"start_ms"`
	EndMS   *int64 `json:"end_ms"`
	// Text is the passage as stored: a transcript passage's lines are
	// "Speaker: words".
	Text string `json:"text"`
	// Highlights are the query's words in Text, in order (UTF-16 offsets,
	// retrieval.Highlight).
	Highlights []retrieval.Highlight `json:"highlights"`
	// Score is the fused (reciprocal rank fusion) score the ranking is by.
	Score float64 `json:"score"`
}

func (h *handler) accountSearch(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// The account first: another org's is 404 whatever the query says.
	if _, err := h.store.AccountGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	return h.search(w, r, p, id)
}

func (h *handler) orgSearch(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	return h.search(w, r, p, "")
}

func (h *handler) search(w http.ResponseWriter, r *http.Request, p crm.Principal, accountID string) error {
	var pr crm.Problems
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	crm.CheckText(&pr, "q", text, maxSearchQuery, true)
	limit := queryInt(&pr, r, "limit", 1, maxSearchLimit)
	if limit == 0 {
		limit = defaultSearchLimit
	}
	var types []string
	for _, t := range queryActivityTypes(&pr, r) {
		types = append(types, string(t))
	}
	q := retrieval.Question{OrgID: p.OrgID, AccountID: accountID, Text: text, Types: types}
	if since := queryTime(&pr, r, "since"); since != nil {
		q.Since = *since
	}
	if until := queryTime(&pr, r, "until"); until != nil {
		q.Until = *until
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		pr.Add("until", "must not be before since")
	}
	if err := pr.Err(); err != nil {
		return err
	}
	if h.searcher == nil {
		return errStatus(http.StatusServiceUnavailable, "search is not available: this server runs without a retrieval service")
	}
	out := itemsOf[Passage]{Items: []Passage{}}
	hits, err := h.searcher.Passages(r.Context(), q, limit)
	if err != nil {
		if errors.Is(err, retrieval.ErrUnavailable) {
			return errStatus(http.StatusServiceUnavailable, "the embedding model could not be reached just now; try again shortly")
		}
		return err
	}
	for _, hit := range hits {
		speaker := hit.Speaker
		if speaker != nil && *speaker == "" {
			speaker = nil
		}
		out.Items = append(out.Items, Passage{
			ActivityID: hit.ActivityID, AccountID: hit.AccountID, ChunkID: hit.ID,
			Type: crm.ActivityType(hit.ActivityType), OccurredAt: hit.OccurredAt,
			Speaker: speaker, StartMS: hit.StartMS, EndMS: hit.EndMS,
			Text: hit.Text, Highlights: hit.Highlights, Score: hit.Score,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
