package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/openapi"
	"logbook/internal/store"
)

// GET /v1/activities: the org's activity feed (store.ActivityFeed), for a
// warehouse or another CRM to sync incrementally. JSON pages hold up to
// 200 items; with Accept: text/csv or application/x-ndjson a page of up to
// 100,000 is streamed as it is read (the cursors are in the headers, known
// before the body).

// Response headers of the feed, in every representation.
const (
	feedNextHeader  = "Logbook-Next-Cursor"
	feedSyncHeader  = "Logbook-Sync-Cursor"
	feedCountHeader = "Logbook-Item-Count"
)

// feedFlushEvery is how many streamed items go out between flushes.
const feedFlushEvery = 1000

// activityFeedPage is the JSON answer of GET /v1/activities.
type activityFeedPage struct {
	Items []crm.FeedItem `json:"items"`
	// NextCursor reads the next page; null when the client is caught up.
	NextCursor *string `json:"next_cursor"`
	// SyncCursor is where to resume next time (always set).
	SyncCursor string `json:"sync_cursor"`
}

func (h *handler) activityFeed(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	f, err := negotiate(r, formatCSV, formatNDJSON)
	if err != nil {
		return err
	}
	def, max := store.FeedDefaultLimit, store.FeedMaxLimit
	if f != formatJSON {
		def, max = store.FeedBulkDefaultLimit, store.FeedBulkMaxLimit
	}
	var pr crm.Problems
	ff := store.FeedFilter{
		Types:        queryActivityTypes(&pr, r),
		UpdatedSince: queryTime(&pr, r, "updated_since"),
		Limit:        queryInt(&pr, r, "limit", 1, max),
		Cursor:       r.URL.Query().Get("cursor"),
	}
	if ff.Limit == 0 {
		ff.Limit = def
	}
	if err := pr.Err(); err != nil {
		return err
	}
	setHeaders := func(pg store.FeedPage) {
		hd := w.Header()
		if pg.NextCursor != nil {
			hd.Set(feedNextHeader, *pg.NextCursor)
		}
		hd.Set(feedSyncHeader, pg.SyncCursor)
		hd.Set(feedCountHeader, strconv.Itoa(pg.Items))
	}
	if f == formatJSON {
		out := activityFeedPage{Items: []crm.FeedItem{}}
		err := h.store.ActivityFeed(r.Context(), p.OrgID, ff, func(pg store.FeedPage) error {
			out.NextCursor, out.SyncCursor = pg.NextCursor, pg.SyncCursor
			setHeaders(pg)
			return nil
		}, func(it crm.FeedItem) error {
			out.Items = append(out.Items, it)
			return nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	rc := http.NewResponseController(w)
	var enc FeedEncoder
	started := false
	err = h.store.ActivityFeed(r.Context(), p.OrgID, ff, func(pg store.FeedPage) error {
		setHeaders(pg)
		w.Header().Set("Content-Type", string(f)+"; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		started = true
		var err error
		enc, err = NewFeedEncoder(w, f == formatCSV, func() error { return rc.Flush() })
		return err
	}, func(it crm.FeedItem) error { return enc.Encode(it) })
	if err == nil && started {
		err = enc.Close()
	}
	if err != nil && started {
		// The status line is gone: end the response unfinished, so the
		// client sees a broken transfer (and Logbook-Item-Count unmet),
		// never a short page that looks whole.
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // the client went away, or the deadline passed
		}
		h.log.Log(r.Context(), level, "activity feed stream failed", slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
	return err
}

// FeedEncoder writes feed items as NDJSON (one JSON object a line) or CSV
// (crm.FeedCSVColumns, RFC 4180, CRLF), buffered, flushing every
// feedFlushEvery items: the API's stream and logbook export share it.
type FeedEncoder struct {
	bw    *bufio.Writer
	csv   *csv.Writer
	json  *json.Encoder
	flush func() error
	n     int
}

// NewFeedEncoder starts an encoder on w (a CSV one writes its header row
// now). flush, when not nil, is called after the buffer is written out at
// each flush point (an HTTP flush).
func NewFeedEncoder(w io.Writer, asCSV bool, flush func() error) (FeedEncoder, error) {
	e := FeedEncoder{bw: bufio.NewWriterSize(w, 64<<10), flush: flush}
	if asCSV {
		e.csv = csv.NewWriter(e.bw)
		e.csv.UseCRLF = true
		if err := e.csv.Write(crm.FeedCSVColumns); err != nil {
			return e, err
		}
	} else {
		e.json = json.NewEncoder(e.bw)
		e.json.SetEscapeHTML(false)
	}
	return e, nil
}

// Encode writes one item.
func (e *FeedEncoder) Encode(it crm.FeedItem) error {
	var err error
	if e.csv != nil {
		err = e.csv.Write(it.CSVRecord())
	} else {
		err = e.json.Encode(it)
	}
	if err != nil {
		return err
	}
	e.n++
	if e.n%feedFlushEvery == 0 {
		return e.Flush()
	}
	return nil
}

// Flush writes out what is buffered.
func (e *FeedEncoder) Flush() error {
	if e.csv != nil {
		e.csv.Flush()
		if err := e.csv.Error(); err != nil {
			return err
		}
	}
	if err := e.bw.Flush(); err != nil {
		return err
	}
	if e.flush != nil {
		return e.flush()
	}
	return nil
}

// Close flushes the rest.
func (e *FeedEncoder) Close() error { return e.Flush() }

// feedResponse documents GET /v1/activities' answer in its three
// representations.
type feedResponse struct{}

func (feedResponse) ContentTypes(g *openapi.Generator) map[string]any {
	item := g.Schema(reflect.TypeOf(crm.FeedItem{}))
	return map[string]any{
		"application/json": map[string]any{"schema": g.Schema(reflect.TypeOf(activityFeedPage{}))},
		"application/x-ndjson": map[string]any{
			"schema": map[string]any{"type": "string",
				"description": "Newline-delimited JSON: one FeedItem object a line (x-item gives its schema), in change order; " +
					"the cursors are in the Logbook-Next-Cursor and Logbook-Sync-Cursor headers."},
			"x-item": item,
		},
		"text/csv": map[string]any{"schema": map[string]any{"type": "string",
			"description": "RFC 4180 CSV, UTF-8, CRLF, a header row then one row per item in change order; columns: " +
				strings.Join(crm.FeedCSVColumns, ", ") + ". A tombstone fills id, deleted (true), deleted_at, type and account_id; " +
				"a live item all but deleted_at. Times RFC 3339 UTC, next_step_due YYYY-MM-DD, null empty, contact_ids " +
				"space-separated, participants, metadata and notes JSON text. Data is written as stored, with no " +
				"spreadsheet-formula escaping: the feed is for loaders, not spreadsheets."}},
	}
}
