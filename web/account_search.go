package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"logbook/internal/crm"
	"logbook/retrieval"
)

// Searcher finds the passages of an account's history that best match a
// query (retrieval.Service), the same as the API's search.
type Searcher interface {
	// Passages returns at most k matching passages, best first, with the
	// query's words highlighted; none for a query with no searchable words.
	Passages(ctx context.Context, q retrieval.Question, k int) ([]retrieval.Hit, error)
}

// Search limits: the query's length is the API's; a page shows the best
// searchLimit passages.
const (
	maxSearchQuery = 1000
	searchLimit    = 10
)

// searchView is a search and what it found.
type searchView struct {
	Query string
	// Error is the sentence shown instead of results (a query too long,
	// search unavailable); empty when the search ran.
	Error    string
	Passages []passageView
}

// passageView is one passage found: where it is from and its text in
// parts, the query's words marked.
type passageView struct {
	Type       string
	OccurredAt time.Time
	// Speaker and StartMS are who speaks in a transcript passage and
	// when: at the line of its first highlighted word (the line Href
	// opens), else its first line; empty and nil for other passages.
	Speaker string
	StartMS *int64
	// Href is where the passage is read in full: the transcript at its
	// line for a meeting's transcript, the activity otherwise.
	Href  string
	Parts []textPart
}

// TypeLabel is the passage's activity type for a reader.
func (p passageView) TypeLabel() string { return typeLabel(p.Type) }

// textPart is a run of a passage's text, Mark when it is one of the
// query's words. Templates write Text escaped, inside <mark> when marked.
type textPart struct {
	Text string
	Mark bool
}

// accountSearch is GET /accounts/{id}/search?q=: the results page.
func (h *handler) accountSearch(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	sv := &searchView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	t.Search = sv
	status := http.StatusOK
	var p crm.Problems
	crm.CheckText(&p, "q", sv.Query, maxSearchQuery, false)
	switch {
	case sv.Query == "":
		// The empty form: the page says what to do.
	case p.Len() > 0:
		status = http.StatusUnprocessableEntity
		sv.Error = "That search is too long or not plain text: use at most " + strconv.Itoa(maxSearchQuery) + " characters."
	case h.Searcher == nil:
		status = http.StatusServiceUnavailable
		sv.Error = "Search is not available: this server runs without a retrieval service."
	default:
		hits, err := h.Searcher.Passages(r.Context(), retrieval.Question{OrgID: v.OrgID, AccountID: t.AccountID, Text: sv.Query}, searchLimit)
		switch {
		case errors.Is(err, retrieval.ErrUnavailable):
			status = http.StatusServiceUnavailable
			sv.Error = "The search model could not be reached just now. Try again in a moment."
		case err != nil:
			return err
		}
		for _, hit := range hits {
			sv.Passages = append(sv.Passages, passageOf(hit))
		}
	}
	return h.render(w, r, v, status, "tools_search.html", "accounts", t)
}

// passageOf is a search hit as the page shows it.
func passageOf(hit retrieval.Hit) passageView {
	p := passageView{Type: hit.ActivityType, OccurredAt: hit.OccurredAt, StartMS: hit.StartMS,
		Href: "/activities/" + hit.ActivityID, Parts: markParts(hit.Text, hit.Highlights)}
	if hit.Speaker != nil {
		p.Speaker = *hit.Speaker
	}
	if hit.Kind == crm.ChunkTranscript {
		// The line the first highlighted word is on (its segment, speaker
		// and moment), else the passage's first line.
		seg := hit.SegFirst
		if len(hit.Highlights) > 0 {
			if off, ok := byteOffset(hit.Text, hit.Highlights[0].Start); ok {
				if l := hit.LineAt(off); l.Segment != nil {
					seg = l.Segment
					if l.Speaker != nil {
						p.Speaker = *l.Speaker
					}
					if l.StartMS != nil {
						p.StartMS = l.StartMS
					}
				}
			}
		}
		if seg != nil {
			p.Href = "/activities/" + hit.ActivityID + "/transcript#seg-" + strconv.Itoa(*seg)
		}
	}
	return p
}

// markParts cuts text at the highlights (UTF-16 offsets, as
// retrieval.Highlights gives them) into plain and marked parts. A
// highlight out of order or out of range is ignored.
func markParts(text string, hs []retrieval.Highlight) []textPart {
	var out []textPart
	at := 0 // byte offset reached
	for _, hl := range hs {
		start, ok1 := byteOffset(text, hl.Start)
		end, ok2 := byteOffset(text, hl.End)
		if !ok1 || !ok2 || start < at || end <= start {
			continue
		}
		if start > at {
			out = append(out, textPart{Text: text[at:start]})
		}
		out = append(out, textPart{Text: text[start:end], Mark: true})
		at = end
	}
	if at < len(text) {
		out = append(out, textPart{Text: text[at:]})
	}
	return out
}

// byteOffset converts a UTF-16 offset into text to a byte offset, counting
// as retrieval.Highlights does (an invalid byte is one code unit).
func byteOffset(text string, u16 int) (int, bool) {
	n := 0
	for i, r := range text {
		if n == u16 {
			return i, true
		}
		if n > u16 {
			return 0, false
		}
		if k := utf16.RuneLen(r); k > 0 {
			n += k
		} else {
			n++
		}
	}
	if n == u16 {
		return len(text), true
	}
	return 0, false
}

// Who is the passage's speaker and moment ("Wei Zhang at 0:04"), "" for
// a passage that is not a transcript's.
func (p passageView) Who() string {
	w := p.Speaker
	if p.StartMS != nil {
		if w != "" {
			w += " "
		}
		w += "at " + msClock(*p.StartMS)
	}
	return w
}
