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

func searchRoutes() []route {
	about := "Passages are ranked best first by hybrid search (meaning and words, fused by reciprocal rank fusion; score is the fused score): " +
		"each holds at least one of the query's words (in any form: \"promised\" for \"promise\") or is close to it in meaning. " +
		"`highlights` are the query's words in `text`, as half-open [start, end) ranges counted in UTF-16 code units " +
		"(JavaScript string indices: text.slice(start, end) is the word; for characters outside the Basic Multilingual Plane, such as emoji, " +
		"they differ from code point offsets), matched whole-word, case-insensitively and by stem. `speaker` (the passage's first), `start_ms` and `end_ms` are set on " +
		"transcript passages only. A query with no searchable words (only punctuation or stop words) finds nothing: 200 with no items."
	params := []param{
		{Name: "q", Type: "string", Required: true, Description: "what to search for, 1 to 1000 characters (trimmed)"},
		{Name: "limit", Type: "integer", Description: "most passages to return, 1 to 50 (default 10)"},
		{Name: "types", Type: "string", Description: "comma-separated activity types, e.g. meeting,email (any of " +
			strings.Join(activityTypeNames(), ", ") + ")"},
		{Name: "since", Type: "string", Format: "date-time", Description: "occurred at or after (inclusive), RFC 3339"},
		{Name: "until", Type: "string", Format: "date-time", Description: "occurred before (exclusive), RFC 3339; not before since"},
	}
	return []route{
		{Method: "GET", Path: "/v1/accounts/{id}/search", Scope: crm.ScopeRead, Handle: (*handler).accountSearch, Tag: "questions",
			Object:  "account",
			Summary: "Search one account's history for passages: only that account's records are searched. " + about,
			Query:   params,
			Resp:    errResps(map[int]any{200: itemsOf[Passage]{}}, 404, 422, 503)},
		{Method: "GET", Path: "/v1/search", Scope: crm.ScopeRead, Handle: (*handler).orgSearch, Tag: "questions",
			Summary: "Search the whole org's history for passages (account_id names each passage's account). " + about,
			Query:   params,
			Resp:    errResps(map[int]any{200: itemsOf[Passage]{}}, 422, 503)},
	}
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
