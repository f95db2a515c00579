package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/retrievalbench"
	"logbook/internal/store"
)

// cmdBench measures what issue #2 asks, each figure beside a baseline taken
// in the same run on the same machine:
//   - activities logged per second through HTTP, one per request, against
//     raw pgx INSERTs of the same rows at the same concurrency;
//   - batched through HTTP (1000 per request) against pgx COPY;
//   - timeline page latency (p50/p99) at page 1 and at page 10,000 of an
//     account with 1,000,000 activities.
//
// It uses its own database (DATABASE_URL with the name logbook_bench unless
// -db is given), so it never touches real data.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("bench", "Run the benchmarks (ingest, timeline, pipeline, retrieval, memory, feed, reports) on a database of their own and print the\nfigures, each beside a baseline taken in the same run (BENCHMARKS.md).", stderr)
	rows := fs.Int("rows", 20000, "activities per ingest measurement")
	conc := fs.Int("concurrency", 8, "concurrent clients for single-row ingest (HTTP and raw alike)")
	timelineRows := fs.Int("timeline-rows", 1_000_000, "activities in the timeline account")
	deepPage := fs.Int("deep-page", 10_000, "the deep timeline page to measure")
	samples := fs.Int("samples", 300, "timeline requests per page measured")
	dbName := fs.String("db", "logbook_bench", "database to create and use for the benchmark")
	only := fs.String("only", "", "comma-separated subset: ingest,timeline,pipeline,retrieval,memory,feed,reports (reports loads 5,000,000 activities: -reports-rows)")
	retrievalOpts := retrievalbench.Flags(fs)
	reportsOpts := reportsFlags(fs)
	transcripts := fs.Int("transcripts", 200, "one-hour transcripts per pipeline run")
	rounds := fs.Int("rounds", 2, "single-row ingest alternates raw and HTTP in this many rounds of rows/rounds each")
	feedRows := fs.Int("feed-rows", 200_000, "feed: activities in the org whose activity feed is exported (-only feed)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	var mem memoryOpts
	fs.StringVar(&mem.serverBin, "server-bin", "", "memory: the logbook binary to measure (empty: go build ./cmd/logbook)")
	fs.IntVar(&mem.conc, "memory-concurrency", 12, "memory: concurrent posts per scenario")
	fs.Float64Var(&mem.sizeMB, "memory-mb", 14.9, "memory: size of each posted transcript, in MB")
	fs.StringVar(&mem.match, "memory-match", "", "memory: run only the scenarios whose name contains this")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// The bench drives one key far past any quota: it measures the API, not the rate limits.
	cfg.RateLimitKeyPerMin, cfg.RateLimitOrgPerMin, cfg.RateLimitAskPerMin, cfg.RateLimitOrgAskPerMin = 0, 0, 0, 0
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	u.Path = "/" + *dbName
	if _, err := app.Migrate(ctx, u.String()); err != nil {
		return err
	}
	pool, err := store.Connect(ctx, u.String(), store.PoolConfig{MaxConns: int32(*conc + 4)})
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The handler and server serve runs, the API key cache and its listener
	// included; Redis is only dialled by /readyz, which the bench never calls.
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("parse REDIS_URL: %w", err)
	}
	a := &app.App{Cfg: cfg, Log: app.NewLogger(stderr, slog.LevelWarn), Pool: pool, Redis: redis.NewClient(ropt)}
	defer a.Redis.Close()
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	h, err := a.APIHandler(srvCtx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(srvCtx, ln, h) }()
	defer func() { stopSrv(); <-served }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}, Timeout: time.Minute}

	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "# logbook bench\n\nmachine: %s, %s/%s, %d CPUs, %s; PostgreSQL at %s (database %s)\n",
		host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), u.Host, *dbName)
	fmt.Fprintf(stdout, "command: logbook-bench bench %s\n\n", strings.Join(args, " "))

	want := func(s string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), s) }
	if want("ingest") {
		if err := benchIngest(ctx, stdout, pool, st, client, base, *rows, *conc, max(*rounds, 1)); err != nil {
			return err
		}
	}
	if want("timeline") {
		if err := benchTimeline(ctx, stdout, pool, st, client, base, *timelineRows, *deepPage, *samples); err != nil {
			return err
		}
	}
	if want("pipeline") {
		if err := benchPipeline(ctx, stdout, pool, a.Redis, *transcripts, cfg.WorkerConcurrency); err != nil {
			return err
		}
	}
	if want("memory") {
		if err := benchMemory(ctx, stdout, cfg, u.String(), st, a.Redis, mem); err != nil {
			return err
		}
	}
	if want("feed") {
		if err := benchFeed(ctx, stdout, pool, st, client, base, *feedRows); err != nil {
			return err
		}
	}
	if want("retrieval") {
		if err := retrievalbench.Run(ctx, stdout, u, retrievalOpts); err != nil {
			return err
		}
	}
	if want("reports") {
		if err := benchReports(ctx, stdout, stderr, cfg, u, reportsOpts); err != nil {
			return err
		}
	}
	return nil
}

type benchOrg struct {
	orgID, key, accountID string
}

func newBenchOrg(ctx context.Context, st *store.Store, client *http.Client, base, name string) (benchOrg, error) {
	orgID, key, err := app.CreateOrg(ctx, st, name)
	if err != nil {
		return benchOrg{}, err
	}
	var acct struct{ ID string }
	if err := app.PostJSON(ctx, client, base+"/v1/accounts", key, map[string]any{"name": name + " account"}, &acct, 201); err != nil {
		return benchOrg{}, err
	}
	return benchOrg{orgID: orgID, key: key, accountID: acct.ID}, nil
}

// benchOccurredAt is when activity i happened, the same in every path.
func benchOccurredAt(i int) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
}

const benchBody = "Discussed renewal timing and the SSO rollout; follow up next week."

// benchActivity is the activity every ingest measurement writes: a dialer's
// call with a disposition, subject and body, as a real one looks. It is a
// struct rather than a map so that the client, which shares the machine's
// CPUs with the server and PostgreSQL, spends little encoding it (a map is
// marshalled by reflection with its keys sorted).
type benchActivity struct {
	Type            string `json:"type"`
	Direction       string `json:"direction"`
	AccountID       string `json:"account_id"`
	OccurredAt      string `json:"occurred_at"`
	DurationSeconds int    `json:"duration_seconds"`
	Disposition     string `json:"disposition"`
	Source          string `json:"source"`
	Subject         string `json:"subject"`
	Body            string `json:"body"`
}

func newBenchActivity(accountID string, i int) benchActivity {
	return benchActivity{
		Type: "call", Direction: "outbound", AccountID: accountID,
		OccurredAt:      benchOccurredAt(i).Format(time.RFC3339),
		DurationSeconds: 120 + i%300, Disposition: "connected", Source: "dialer",
		Subject: fmt.Sprintf("Call %d", i), Body: benchBody,
	}
}

// benchColumns and benchRow are newBenchActivity as the raw baselines write it:
// the same row the API stores (participants, metadata, content_hash and the
// timestamps are the columns' defaults, as the API's values are for it).
var benchColumns = []string{"org_id", "id", "type", "direction", "account_id", "occurred_at",
	"duration_seconds", "disposition", "source", "subject", "body"}

func benchRow(org benchOrg, i int) []any {
	return []any{org.orgID, store.NewID(), "call", "outbound", org.accountID, benchOccurredAt(i),
		120 + i%300, "connected", "dialer", fmt.Sprintf("Call %d", i), benchBody}
}

// benchIngest compares each HTTP ingest path with its raw pgx baseline.
// Single-row: both run at concurrency conc over the same kind of rows; after
// a warm-up of each (which opens every pooled and keep-alive connection and
// prepares the statements), they alternate in rounds so that drift over the
// run (the table growing, autovacuum, checkpoints) falls on both alike.
func benchIngest(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, client *http.Client, base string, n, conc, rounds int) error {
	fmt.Fprintf(w, "## Ingest (%d activities per path, single-row at concurrency %d in %d alternating rounds)\n\n", n, conc, rounds)
	fmt.Fprintln(w, "| path | activities/s | vs baseline |")
	fmt.Fprintln(w, "|---|---:|---:|")

	var cpuPerRow string
	rawOrg, err := newBenchOrg(ctx, st, client, base, "bench raw single")
	if err != nil {
		return err
	}
	httpOrg, err := newBenchOrg(ctx, st, client, base, "bench http single")
	if err != nil {
		return err
	}
	insert := `INSERT INTO activities (` + strings.Join(benchColumns, ", ") + `) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`
	raw := func(ctx context.Context, i int) error {
		_, err := pool.Exec(ctx, insert, benchRow(rawOrg, i)...)
		return err
	}
	viaHTTP := func(ctx context.Context, i int) error {
		return app.PostJSON(ctx, client, base+"/v1/activities", httpOrg.key, newBenchActivity(httpOrg.accountID, i), nil, 201)
	}
	// Warm-up rows are numbered after the measured ones.
	warm := max(conc*50, n/20)
	if _, err := parallelRun(ctx, n, n+warm, conc, raw); err != nil {
		return fmt.Errorf("raw single warm-up: %w", err)
	}
	if _, err := parallelRun(ctx, n, n+warm, conc, viaHTTP); err != nil {
		return fmt.Errorf("http single warm-up: %w", err)
	}
	backends := benchBackendPIDs(ctx, pool)
	var rawTime, httpTime time.Duration
	var rawCPU, httpCPU benchCPU
	for r := 0; r < rounds; r++ {
		from, to := r*n/rounds, (r+1)*n/rounds
		c0 := readBenchCPU(backends)
		d, err := parallelRun(ctx, from, to, conc, raw)
		if err != nil {
			return fmt.Errorf("raw single: %w", err)
		}
		c1 := readBenchCPU(backends)
		rawTime += d
		if d, err = parallelRun(ctx, from, to, conc, viaHTTP); err != nil {
			return fmt.Errorf("http single: %w", err)
		}
		c2 := readBenchCPU(backends)
		httpTime += d
		rawCPU, httpCPU = rawCPU.add(c1.sub(c0)), httpCPU.add(c2.sub(c1))
	}
	rawSingle, httpSingle := float64(n)/rawTime.Seconds(), float64(n)/httpTime.Seconds()
	fmt.Fprintf(w, "| raw pgx INSERT, one row per statement (baseline) | %.0f | 1.00 |\n", rawSingle)
	fmt.Fprintf(w, "| HTTP POST /v1/activities, one per request | %.0f | %.2f |\n", httpSingle, httpSingle/rawSingle)
	cpuPerRow = fmt.Sprintf("CPU per single-row activity (this process: the clients, and in the HTTP path also the server; "+
		"PostgreSQL: the pool's backends%s): raw %s; HTTP %s.\n\n", backends.note(), rawCPU.perRow(n), httpCPU.perRow(n))

	// COPY in chunks of 1000 on one connection: the baseline for batches,
	// both sequential.
	const batch = 1000
	copyOrg, err := newBenchOrg(ctx, st, client, base, "bench copy")
	if err != nil {
		return err
	}
	batchOrg, err := newBenchOrg(ctx, st, client, base, "bench http batch")
	if err != nil {
		return err
	}
	copyRows := func(from, to int) error {
		rows := make([][]any, 0, to-from)
		for i := from; i < to; i++ {
			rows = append(rows, benchRow(copyOrg, i))
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"activities"}, benchColumns, pgx.CopyFromRows(rows))
		return err
	}
	postBatch := func(from, to int) error {
		items := make([]benchActivity, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, newBenchActivity(batchOrg.accountID, i))
		}
		return app.PostJSON(ctx, client, base+"/v1/activities", batchOrg.key, map[string]any{"activities": items}, nil, 201)
	}
	for _, f := range []func(int, int) error{copyRows, postBatch} { // warm-up
		if err := f(n, n+batch); err != nil {
			return fmt.Errorf("batch warm-up: %w", err)
		}
	}
	timed := func(f func(int, int) error) (float64, error) {
		start := time.Now()
		for off := 0; off < n; off += batch {
			if err := f(off, min(off+batch, n)); err != nil {
				return 0, err
			}
		}
		return float64(n) / time.Since(start).Seconds(), nil
	}
	copyRate, err := timed(copyRows)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	fmt.Fprintf(w, "| raw pgx COPY, %d rows per COPY (baseline) | %.0f | 1.00 |\n", batch, copyRate)
	httpBatch, err := timed(postBatch)
	if err != nil {
		return fmt.Errorf("http batch: %w", err)
	}
	fmt.Fprintf(w, "| HTTP POST /v1/activities, %d per request | %.0f | %.2f |\n\n", batch, httpBatch, httpBatch/copyRate)
	fmt.Fprintf(w, "Goals: HTTP single ≥ 0.50 of raw single (%s); HTTP batched ≥ 0.50 of COPY (%s).\n\n",
		verdict(httpSingle/rawSingle >= 0.5), verdict(httpBatch/copyRate >= 0.5))
	fmt.Fprint(w, cpuPerRow)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// parallelRun calls fn for every i in [from, to) over conc goroutines and
// returns how long that took.
func parallelRun(ctx context.Context, from, to, conc int, fn func(ctx context.Context, i int) error) (time.Duration, error) {
	next := atomic.Int64{}
	next.Store(int64(from))
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= to {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func benchTimeline(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, client *http.Client, base string, rows, deepPage, samples int) error {
	const limit = 50
	org, err := newBenchOrg(ctx, st, client, base, "bench timeline")
	if err != nil {
		return err
	}
	// The measured account's activities, seeded in one statement. The
	// index also holds the ingest runs' rows (other orgs), when they ran.
	start := time.Now()
	if _, err := pool.Exec(ctx, `
		INSERT INTO activities (org_id, id, type, direction, account_id, occurred_at, subject, body, source, disposition)
		SELECT $1, gen_random_uuid(), (ARRAY['call','email','meeting','note'])[1 + g % 4], 'outbound', $2,
		       timestamptz '2020-01-01' + g * interval '97 seconds', 'Touch ' || g,
		       'Discussed next steps for the rollout and pricing.', 'api',
		       CASE WHEN g % 4 = 0 THEN 'connected' END
		FROM generate_series(1, $3::int) AS g`, org.orgID, org.accountID, rows); err != nil {
		return fmt.Errorf("seed timeline: %w", err)
	}
	// VACUUM as well as ANALYZE: a bulk load leaves hint bits unset and an
	// insert-triggered autovacuum due, which would otherwise run in the
	// middle of the measurement. A table in service has had both.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) activities`); err != nil {
		return err
	}
	fmt.Fprintf(w, "## Timeline (%d activities on one account, %d per page; seeded in %s)\n\n", rows, limit, time.Since(start).Round(time.Second))

	// The cursor that starts page deepPage, after the last row of page
	// deepPage-1, as a client reaches it: by paging through the timeline
	// (the API's largest pages, next_cursor to next_cursor).
	off := (deepPage - 1) * limit
	if off >= rows {
		return fmt.Errorf("-deep-page %d needs more than %d rows", deepPage, rows)
	}
	path := base + "/v1/accounts/" + org.accountID + "/timeline?limit=50"
	deepCursor, err := timelineCursorAfter(ctx, client, base+"/v1/accounts/"+org.accountID+"/timeline", org.key, off)
	if err != nil {
		return fmt.Errorf("find deep cursor: %w", err)
	}
	fmt.Fprintln(w, "| page | p50 | p99 | p99 vs page 1 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	// The two pages are sampled alternately, so whatever else the machine
	// does during the run falls on both alike.
	lat, err := latencies(ctx, client, []string{path, path + "&cursor=" + deepCursor}, org.key, samples)
	if err != nil {
		return err
	}
	p1, pd := lat[0], lat[1]
	fmt.Fprintf(w, "| 1 | %s | %s | 1.00 |\n", ms(p1[0]), ms(p1[1]))
	fmt.Fprintf(w, "| %d | %s | %s | %.2f |\n\n", deepPage, ms(pd[0]), ms(pd[1]), float64(pd[1])/float64(p1[1]))
	fmt.Fprintf(w, "Goals: deep page p99 within 2× of page 1 (%s) and under 10 ms (%s). Latency is measured through HTTP, JSON included.\n\n",
		verdict(float64(pd[1]) <= 2*float64(p1[1])), verdict(pd[1] < 10*time.Millisecond))
	return nil
}

// timelineCursorAfter pages through the timeline at u from its start, as
// a client would, until n activities lie behind, and returns the
// next_cursor there: the cursor of the page after them. The pages are the
// API's largest (store.MaxLimit), the last cut to end at n.
func timelineCursorAfter(ctx context.Context, client *http.Client, u, key string, n int) (string, error) {
	cursor := ""
	for done := 0; done < n; {
		size := min(store.MaxLimit, n-done)
		page := fmt.Sprintf("%s?limit=%d", u, size)
		if cursor != "" {
			page += "&cursor=" + url.QueryEscape(cursor)
		}
		var res struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := app.GetJSON(ctx, client, page, key, &res); err != nil {
			return "", err
		}
		if len(res.Items) != size || res.NextCursor == nil {
			return "", fmt.Errorf("the timeline ends after %d activities, before %d", done+len(res.Items), n)
		}
		done += size
		cursor = *res.NextCursor
	}
	return cursor, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// latencies GETs each of urls n times, taking turns (after a warm-up), and
// returns each one's p50 and p99.
func latencies(ctx context.Context, client *http.Client, urls []string, key string, n int) ([][2]time.Duration, error) {
	ds := make([][]time.Duration, len(urls))
	for i := 0; i < n+20; i++ {
		for j, u := range urls {
			start := time.Now()
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := app.GetJSON(ctx, client, u, key, &page); err != nil {
				return nil, err
			}
			if len(page.Items) == 0 {
				return nil, fmt.Errorf("timeline page is empty: %s", u)
			}
			if i >= 20 {
				ds[j] = append(ds[j], time.Since(start))
			}
		}
	}
	out := make([][2]time.Duration, len(urls))
	for j, d := range ds {
		slices.Sort(d)
		out[j] = [2]time.Duration{d[len(d)*50/100], d[min(len(d)-1, len(d)*99/100)]}
	}
	return out, nil
}
