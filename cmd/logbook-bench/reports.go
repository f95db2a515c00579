package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// The reports benchmark (issue #12): with N activities in one org, the
// connect-rate report over 90 days must answer in under 500 ms and within
// 2× of the same aggregate in raw SQL measured in the same run. The
// activity-volume report is measured the same way (no goal of its own).

// reportsOptions are the reports benchmark's flags.
type reportsOptions struct {
	db       string
	rows     int
	accounts int
	days     int
	samples  int
	keep     bool
}

// reportsFlags registers the reports benchmark's flags on fs.
func reportsFlags(fs *flag.FlagSet) *reportsOptions {
	o := &reportsOptions{}
	fs.StringVar(&o.db, "reports-db", "logbook_bench_reports", "reports: database the reports bench creates (and drops unless -reports-keep)")
	fs.IntVar(&o.rows, "reports-rows", 5_000_000, "reports: activities in the bench org, spread over two years")
	fs.IntVar(&o.accounts, "reports-accounts", 20_000, "reports: accounts the activities are spread over")
	fs.IntVar(&o.days, "reports-days", 90, "reports: the range each report covers, the data's last days")
	fs.IntVar(&o.samples, "reports-samples", 30, "reports: timed repetitions of each report and its raw-SQL baseline")
	fs.BoolVar(&o.keep, "reports-keep", false, "reports: keep the database for reruns (a rerun with the same -reports-rows and -reports-accounts reuses it)")
	return o
}

const (
	reportsOrgName = "bench reports"
	reportsUsers   = 12
	reportsSpan    = 730 * 24 * time.Hour
)

// reportsEnd is when the generated data ends; the reports cover the days
// before it.
var reportsEnd = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// reportsBaseline is the raw-SQL aggregate each connect-rate grouping is
// measured against: the same counts, written as one would by hand, without
// labels or order.
var reportsBaseline = map[string]string{
	store.GroupSegment: `SELECT acc.segment, count(*), count(*) FILTER (WHERE d.connect), count(*) FILTER (WHERE d.code IS NULL)
		FROM activities a JOIN accounts acc ON acc.org_id = a.org_id AND acc.id = a.account_id
		LEFT JOIN dispositions d ON d.org_id = a.org_id AND d.code = a.disposition
		WHERE a.org_id = $1 AND a.direction = 'outbound' AND a.type IN ('call', 'voicemail')
		  AND a.occurred_at >= $2 AND a.occurred_at < $3
		GROUP BY acc.segment`,
	store.GroupOwner: `SELECT a.owner_id::text, count(*), count(*) FILTER (WHERE d.connect), count(*) FILTER (WHERE d.code IS NULL)
		FROM activities a LEFT JOIN dispositions d ON d.org_id = a.org_id AND d.code = a.disposition
		WHERE a.org_id = $1 AND a.direction = 'outbound' AND a.type IN ('call', 'voicemail')
		  AND a.occurred_at >= $2 AND a.occurred_at < $3
		GROUP BY a.owner_id`,
	store.GroupList: `SELECT a.list, count(*), count(*) FILTER (WHERE d.connect), count(*) FILTER (WHERE d.code IS NULL)
		FROM activities a LEFT JOIN dispositions d ON d.org_id = a.org_id AND d.code = a.disposition
		WHERE a.org_id = $1 AND a.direction = 'outbound' AND a.type IN ('call', 'voicemail')
		  AND a.occurred_at >= $2 AND a.occurred_at < $3
		GROUP BY a.list`,
	store.GroupDisposition: `SELECT d.code, count(*), count(*) FILTER (WHERE d.connect), count(*) FILTER (WHERE d.code IS NULL)
		FROM activities a LEFT JOIN dispositions d ON d.org_id = a.org_id AND d.code = a.disposition
		WHERE a.org_id = $1 AND a.direction = 'outbound' AND a.type IN ('call', 'voicemail')
		  AND a.occurred_at >= $2 AND a.occurred_at < $3
		GROUP BY d.code`,
}

// volumeBaseline is the same for the activity-volume groupings ($4 is the
// zone of the weeks).
var volumeBaseline = map[string]string{
	store.GroupOwner: `SELECT a.owner_id::text, count(*) FROM activities a
		WHERE a.org_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 GROUP BY a.owner_id`,
	store.GroupType: `SELECT a.type, count(*) FROM activities a
		WHERE a.org_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 GROUP BY a.type`,
	store.GroupWeek: `SELECT date_trunc('week', a.occurred_at AT TIME ZONE $4)::text, count(*) FROM activities a
		WHERE a.org_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 GROUP BY 1`,
}

// benchReports loads (or, kept, reuses) the reports database next to the
// bench database u and measures every grouping of both reports through
// the API handler, in process, beside its raw-SQL baseline.
func benchReports(ctx context.Context, w, stderr io.Writer, cfg config.Config, u *url.URL, o *reportsOptions) error {
	dbURL := func(name string) string {
		v := *u
		v.Path = "/" + name
		return v.String()
	}
	if !o.keep {
		if err := app.DropDatabase(ctx, dbURL("postgres"), o.db); err != nil {
			return err
		}
		defer func() { _ = app.DropDatabase(context.WithoutCancel(ctx), dbURL("postgres"), o.db) }()
	}
	if _, err := app.Migrate(ctx, dbURL(o.db)); err != nil {
		return err
	}
	pool, err := store.Connect(ctx, dbURL(o.db), store.PoolConfig{MaxConns: 4})
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)

	orgID, loaded, err := reportsLoad(ctx, stderr, pool, st, o)
	if err != nil {
		return err
	}
	k, err := st.APIKeyCreate(ctx, orgID, "bench reports", []crm.Scope{crm.ScopeRead})
	if err != nil {
		return err
	}

	// The API as the server runs it (auth cache, middleware, metrics), served
	// in process: the measure is the handler's, not a TCP loop's.
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("parse REDIS_URL: %w", err)
	}
	a := &app.App{Cfg: cfg, Log: app.NewLogger(stderr, slog.LevelWarn), Pool: pool, Redis: redis.NewClient(ropt)}
	defer a.Redis.Close()
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	h, err := a.APIHandler(hctx)
	if err != nil {
		return err
	}

	until := reportsEnd
	since := until.Add(-time.Duration(o.days) * 24 * time.Hour)
	var dials, inRange int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE direction = 'outbound' AND type IN ('call', 'voicemail')), count(*)
		FROM activities WHERE org_id = $1 AND occurred_at >= $2 AND occurred_at < $3`, orgID, since, until).Scan(&dials, &inRange); err != nil {
		return err
	}
	fmt.Fprintf(w, "## Reports (%d activities in one org over two years, %d accounts, %d owners; %s)\n\n",
		o.rows, o.accounts, reportsUsers, loaded)
	fmt.Fprintf(w, "Range: %d days, [%s, %s): %d activities, %d dials. %d samples each, alternated with the baseline after 3 warm-ups.\n\n",
		o.days, since.Format(time.DateOnly), until.Format(time.DateOnly), inRange, dials, o.samples)

	q := "&since=" + since.Format(time.RFC3339) + "&until=" + until.Format(time.RFC3339)
	fmt.Fprintln(w, "| report | group_by | rows | HTTP p50 | HTTP p95 | raw SQL p50 | raw SQL p95 | p50 ratio | p95 ratio |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	worstP95, worstRatio := time.Duration(0), 0.0
	for _, g := range store.ConnectRateGroups {
		m, err := reportsMeasure(ctx, h, pool, k.Key, "/v1/reports/connect-rates?group_by="+g+q,
			reportsBaseline[g], []any{orgID, since, until}, o.samples, func(body []byte) (int64, error) {
				var r struct{ Total struct{ Dials int64 } }
				err := json.Unmarshal(body, &r)
				return r.Total.Dials, err
			}, dials)
		if err != nil {
			return fmt.Errorf("connect-rates by %s: %w", g, err)
		}
		m.print(w, "connect-rates", g)
		worstP95 = max(worstP95, m.http[1])
		worstRatio = max(worstRatio, m.ratio(0))
	}
	for _, g := range store.VolumeGroups {
		args := []any{orgID, since, until}
		if g == store.GroupWeek {
			args = append(args, "UTC")
		}
		m, err := reportsMeasure(ctx, h, pool, k.Key, "/v1/reports/activity-volume?group_by="+g+q,
			volumeBaseline[g], args, o.samples, func(body []byte) (int64, error) {
				var r struct{ Total struct{ Activities int64 } }
				err := json.Unmarshal(body, &r)
				return r.Total.Activities, err
			}, inRange)
		if err != nil {
			return fmt.Errorf("activity-volume by %s: %w", g, err)
		}
		m.print(w, "activity-volume", g)
	}
	fmt.Fprintf(w, "\nGoals (connect-rates, every grouping): p95 under 500 ms (%s: worst %s), p50 within 2× of raw SQL (%s: worst %.2f×).\n\n",
		verdict(worstP95 < 500*time.Millisecond), ms(worstP95), verdict(worstRatio <= 2), worstRatio)
	return nil
}

// reportsLoad makes the bench org and its data, or finds them in a kept
// database; it says which it did. Progress goes to w.
func reportsLoad(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, o *reportsOptions) (string, string, error) {
	var orgID string
	var n, accounts int
	err := pool.QueryRow(ctx, `SELECT o.id::text,
			(SELECT count(*) FROM activities a WHERE a.org_id = o.id), (SELECT count(*) FROM accounts a WHERE a.org_id = o.id)
		FROM orgs o WHERE o.name = $1`, reportsOrgName).Scan(&orgID, &n, &accounts)
	switch {
	case err == nil && n == o.rows && accounts == o.accounts:
		return orgID, "the kept database reused", nil
	case err == nil:
		if _, err := pool.Exec(ctx, `DELETE FROM orgs WHERE id = $1`, orgID); err != nil {
			return "", "", err
		}
	case err != pgx.ErrNoRows:
		return "", "", err
	}
	start := time.Now()
	org, err := st.OrgCreate(ctx, reportsOrgName)
	if err != nil {
		return "", "", err
	}
	orgID = org.ID
	// One connection, seeded, so the data is the same in every run.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return "", "", err
	}
	defer conn.Release()
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"seed", `SELECT setseed(0.42)`, nil},
		{"users", `INSERT INTO users (org_id, id, email, name, role)
			SELECT $1, md5('user' || i)::uuid, 'rep' || i || '@bench.test', 'Rep ' || i, 'rep'
			FROM generate_series(1, $2::int) i`, []any{orgID, reportsUsers}},
		// Segments: 10% none, 10% empty, then Enterprise, Mid-Market, SMB.
		{"accounts", `INSERT INTO accounts (org_id, id, name, segment, owner_id)
			SELECT $1, md5('account' || i)::uuid, 'Account ' || i,
			       CASE i % 10 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'Enterprise' WHEN 3 THEN 'Enterprise'
			                   WHEN 4 THEN 'Mid-Market' WHEN 5 THEN 'Mid-Market' WHEN 6 THEN 'Mid-Market' ELSE 'SMB' END,
			       md5('user' || (1 + i % $3::int))::uuid
			FROM generate_series(1, $2::int) i`, []any{orgID, o.accounts, reportsUsers}},
		// A code the org retired: its calls keep it.
		{"retire", `UPDATE dispositions SET retired_at = now() WHERE org_id = $1 AND code = 'wrong_number'`, []any{orgID}},
	}
	for _, s := range steps {
		if _, err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			return "", "", fmt.Errorf("load %s: %w", s.what, err)
		}
	}
	// Activities in time order (as they arrive), in chunks: 34% outbound
	// calls and 6% outbound voicemails (the dials), then inbound calls,
	// emails, meetings, notes, tasks, LinkedIn and SMS. Dials carry a list
	// (15 lists; 10% none) and a disposition (8% none; voicemails mostly
	// "voicemail"); 3% of activities have no owner.
	const chunk = 500_000
	step := reportsSpan / time.Duration(o.rows)
	begin := reportsEnd.Add(-reportsSpan)
	for from := 1; from <= o.rows; from += chunk {
		to := min(from+chunk-1, o.rows)
		if _, err := conn.Exec(ctx, `
			INSERT INTO activities (org_id, id, type, direction, account_id, owner_id, occurred_at, subject, disposition, source, metadata)
			SELECT $1, gen_random_uuid(), t.type,
			       CASE WHEN t.type IN ('meeting', 'note', 'task') THEN NULL
			            WHEN x.r < 0.40 OR (x.r >= 0.48 AND x.r < 0.63) OR x.r >= 0.95 THEN 'outbound' ELSE 'inbound' END,
			       md5('account' || (1 + floor(x.acct * $4::int)::int))::uuid,
			       CASE WHEN x.own < 0.03 THEN NULL ELSE md5('user' || (1 + floor(x.own * $5::int)::int % $5::int))::uuid END,
			       $6::timestamptz + (x.g + x.jit) * $7::double precision * interval '1 microsecond',
			       initcap(t.type) || ' ' || x.g,
			       CASE WHEN t.type = 'voicemail' THEN CASE WHEN x.d < 0.9 THEN 'voicemail' END
			            WHEN x.r < 0.34 THEN CASE WHEN x.d < 0.08 THEN NULL WHEN x.d < 0.20 THEN 'connected'
			                 WHEN x.d < 0.23 THEN 'meeting_booked' WHEN x.d < 0.28 THEN 'not_interested' WHEN x.d < 0.55 THEN 'voicemail'
			                 WHEN x.d < 0.80 THEN 'no_answer' WHEN x.d < 0.86 THEN 'busy' WHEN x.d < 0.95 THEN 'gatekeeper'
			                 ELSE 'wrong_number' END
			            WHEN t.type = 'call' THEN 'connected' END,
			       CASE WHEN x.r < 0.40 THEN 'dialer' ELSE 'api' END,
			       CASE WHEN x.r < 0.40 AND x.l >= 0.1 THEN jsonb_build_object('list', 'List ' || (1 + floor((x.l - 0.1) / 0.9 * 15)::int))
			            ELSE '{}' END
			FROM (SELECT g, random() AS r, random() AS d, random() AS l, random() AS own, random() AS acct, random() AS jit
			      FROM generate_series($2::int, $3::int) g) x,
			LATERAL (SELECT CASE WHEN x.r < 0.34 THEN 'call' WHEN x.r < 0.40 THEN 'voicemail' WHEN x.r < 0.48 THEN 'call'
			                     WHEN x.r < 0.73 THEN 'email' WHEN x.r < 0.81 THEN 'meeting' WHEN x.r < 0.91 THEN 'note'
			                     WHEN x.r < 0.95 THEN 'task' WHEN x.r < 0.98 THEN 'linkedin' ELSE 'sms' END AS type) t`,
			orgID, from, to, o.accounts, reportsUsers, begin, float64(step.Microseconds())); err != nil {
			return "", "", fmt.Errorf("load activities %d-%d: %w", from, to, err)
		}
		fmt.Fprintf(w, "loaded %d of %d activities (%s)\n", to, o.rows, time.Since(start).Round(time.Second))
	}
	// VACUUM as well as ANALYZE: the visibility map lets the reports' scans
	// be index-only, as autovacuum has it on a table in service.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) activities, accounts, users, dispositions`); err != nil {
		return "", "", err
	}
	return orgID, fmt.Sprintf("loaded in %s", time.Since(start).Round(time.Second)), nil
}

// reportsMeasurement is one report's latencies (p50, p95) through the API
// and its baseline's, and how many rows the report had.
type reportsMeasurement struct {
	http, raw [2]time.Duration
	rows      int
}

func (m reportsMeasurement) ratio(i int) float64 { return float64(m.http[i]) / float64(m.raw[i]) }

func (m reportsMeasurement) print(w io.Writer, report, group string) {
	fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %.2f | %.2f |\n", report, group, m.rows,
		ms(m.http[0]), ms(m.http[1]), ms(m.raw[0]), ms(m.raw[1]), m.ratio(0), m.ratio(1))
}

// reportsMeasure times GET path through h against the baseline query,
// alternating which goes first, and checks every answer's total (read by
// total from the JSON) is want.
func reportsMeasure(ctx context.Context, h http.Handler, pool *pgxpool.Pool, key, path, baseline string, args []any,
	samples int, total func([]byte) (int64, error), want int64) (reportsMeasurement, error) {
	const warm = 3
	var httpD, rawD []time.Duration
	var m reportsMeasurement
	viaHTTP := func() (time.Duration, error) {
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body.Bytes())
		}
		got, err := total(rec.Body.Bytes())
		if err != nil {
			return 0, err
		}
		if got != want {
			return 0, fmt.Errorf("GET %s: total %d, want %d", path, got, want)
		}
		var r struct{ Rows []json.RawMessage }
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			return 0, err
		}
		m.rows = len(r.Rows)
		return d, nil
	}
	viaSQL := func() (time.Duration, error) {
		start := time.Now()
		rows, err := pool.Query(ctx, baseline, args...)
		if err != nil {
			return 0, err
		}
		type row struct {
			key    *string
			counts [3]int64
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			dst := []any{&x.key}
			for i := range len(r.FieldDescriptions()) - 1 {
				dst = append(dst, &x.counts[i])
			}
			return x, r.Scan(dst...)
		})
		d := time.Since(start)
		if err != nil {
			return 0, err
		}
		var sum int64
		for _, x := range got {
			sum += x.counts[0]
		}
		if sum != want {
			return 0, fmt.Errorf("baseline total %d, want %d", sum, want)
		}
		return d, nil
	}
	for i := range warm + samples {
		first, second := viaHTTP, viaSQL
		if i%2 == 1 {
			first, second = viaSQL, viaHTTP
		}
		d1, err := first()
		if err != nil {
			return m, err
		}
		d2, err := second()
		if err != nil {
			return m, err
		}
		if i < warm {
			continue
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		httpD, rawD = append(httpD, d1), append(rawD, d2)
	}
	pct := func(ds []time.Duration) [2]time.Duration {
		slices.Sort(ds)
		return [2]time.Duration{ds[len(ds)*50/100], ds[min(len(ds)-1, len(ds)*95/100)]}
	}
	m.http, m.raw = pct(httpD), pct(rawD)
	return m, nil
}
