package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/api"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// benchFeed measures the activity feed's export throughput (rows/s) over
// an org of n activities: logbook export's path (the store's pages of
// 10,000 encoded as NDJSON) and GET /v1/activities as NDJSON and CSV
// (pages of 100,000) against PostgreSQL's own fastest JSON export of the
// same rows in the same order (COPY of row_to_json), all to io.Discard.
func benchFeed(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, client *http.Client, base string, n int) error {
	fmt.Fprintf(w, "## Activity feed export (%d activities, one org)\n\n", n)
	org, err := newBenchOrg(ctx, st, client, base, "bench feed")
	if err != nil {
		return err
	}
	rows := make([][]any, 0, 10000)
	for i := 0; i < n; i++ {
		rows = append(rows, benchRow(org, i))
		if len(rows) == cap(rows) || i == n-1 {
			if _, err := pool.CopyFrom(ctx, pgx.Identifier{"activities"}, benchColumns, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE activities`); err != nil {
		return err
	}
	if err := benchFeedWatermark(ctx, pool); err != nil {
		return err
	}
	type path struct {
		name string
		run  func() (int, error)
	}
	baseline := func() (int, error) {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Release()
		tag, err := conn.Conn().PgConn().CopyTo(ctx, io.Discard, fmt.Sprintf(
			`COPY (SELECT row_to_json(a) FROM activities a WHERE org_id = '%s' ORDER BY change_xid, id) TO STDOUT`, org.orgID))
		return int(tag.RowsAffected()), err
	}
	viaStore := func() (int, error) {
		enc, err := api.NewFeedEncoder(io.Discard, false, nil)
		if err != nil {
			return 0, err
		}
		count, f := 0, store.FeedFilter{Limit: store.FeedBulkDefaultLimit}
		for {
			var pg store.FeedPage
			err := st.ActivityFeed(ctx, org.orgID, f, func(p store.FeedPage) error { pg = p; return nil },
				func(it crm.FeedItem) error { count++; return enc.Encode(it) })
			if err != nil {
				return count, err
			}
			if pg.NextCursor == nil {
				return count, enc.Close()
			}
			f.Cursor = *pg.NextCursor
		}
	}
	viaHTTP := func(accept string) func() (int, error) {
		return func() (int, error) {
			count, cursor := 0, ""
			for {
				q := url.Values{"limit": {fmt.Sprint(store.FeedBulkMaxLimit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/activities?"+q.Encode(), nil)
				if err != nil {
					return count, err
				}
				req.Header.Set("Authorization", "Bearer "+org.key)
				req.Header.Set("Accept", accept)
				res, err := client.Do(req)
				if err != nil {
					return count, err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil {
					return count, err
				}
				if res.StatusCode != http.StatusOK {
					return count, fmt.Errorf("GET /v1/activities: %s", res.Status)
				}
				var k int
				if _, err := fmt.Sscan(res.Header.Get("Logbook-Item-Count"), &k); err != nil {
					return count, err
				}
				count += k
				cursor = res.Header.Get("Logbook-Next-Cursor")
				if cursor == "" {
					return count, nil
				}
			}
		}
	}
	paths := []path{
		{"PostgreSQL COPY of row_to_json (baseline)", baseline},
		{"logbook export path (store, NDJSON, pages of 10,000)", viaStore},
		{"GET /v1/activities, NDJSON (pages of 100,000)", viaHTTP("application/x-ndjson")},
		{"GET /v1/activities, CSV (pages of 100,000)", viaHTTP("text/csv")},
	}
	fmt.Fprintln(w, "| path | rows/s | vs baseline |")
	fmt.Fprintln(w, "|---|---:|---:|")
	var baseRate float64
	for i, p := range paths {
		// A warm-up pass, then the measured one.
		if _, err := p.run(); err != nil {
			return fmt.Errorf("feed %s: %w", p.name, err)
		}
		start := time.Now()
		got, err := p.run()
		if err != nil {
			return fmt.Errorf("feed %s: %w", p.name, err)
		}
		if got != n {
			return fmt.Errorf("feed %s: %d rows, want %d", p.name, got, n)
		}
		rate := float64(got) / time.Since(start).Seconds()
		if i == 0 {
			baseRate = rate
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f× |\n", p.name, rate, rate/baseRate)
	}
	fmt.Fprintln(w)

	// Memory: the server runs in this process; the Go heap's peak while
	// one page of every row streams as NDJSON, above the heap before it.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	_, err = viaHTTP("application/x-ndjson")()
	close(stop)
	<-sampled
	if err != nil {
		return err
	}
	grown := int64(peak.Load()) - int64(before)
	fmt.Fprintf(w, "Go heap while a %d-row NDJSON page streams: peak %.1f MB above the %.1f MB before it "+
		"(the rows are read 500 at a time and flushed every 1,000).\n\n", n, float64(max(grown, 0))/(1<<20), float64(before)/(1<<20))
	return nil
}

// benchFeedWatermark waits until the feed serves everything committed so
// far (every older transaction on the server has ended).
func benchFeedWatermark(ctx context.Context, pool *pgxpool.Pool) error {
	var xid string
	if err := pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid); err != nil {
		return err
	}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var past bool
		if err := pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8`, xid).Scan(&past); err != nil {
			return err
		}
		if past {
			return nil
		}
	}
	return fmt.Errorf("a transaction older than xid %s is still open", xid)
}
