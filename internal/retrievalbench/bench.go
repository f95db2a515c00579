package retrievalbench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
)

// Options are the flags of the retrieval benchmark (issue #4).
type Options struct {
	db          string
	chunks      int
	big, small  int
	dim         int
	queries     int
	orgQueries  int
	efs         string
	transcripts int
	order       string
	keep        bool
	hnsw        string
	seed        uint64
	tail        int
}

// Flags registers the retrieval benchmark's flags on fs.
func Flags(fs *flag.FlagSet) *Options {
	o := &Options{}
	fs.StringVar(&o.db, "retrieval-db", "logbook_bench_retrieval", "database the retrieval bench creates (and drops unless -retrieval-keep)")
	fs.IntVar(&o.chunks, "retrieval-chunks", 1_000_000, "chunks in the retrieval bench database")
	fs.IntVar(&o.big, "retrieval-big", 20_000, "chunks of the large account measured")
	fs.IntVar(&o.small, "retrieval-small", 500, "chunks of the small account measured")
	fs.IntVar(&o.dim, "retrieval-dim", 384, "embedding dimension (local embedder) of the retrieval bench")
	fs.IntVar(&o.queries, "retrieval-queries", 300, "queries per account for per-account search")
	fs.IntVar(&o.orgQueries, "retrieval-org-queries", 100, "queries for org-wide search (each also runs an exact scan)")
	fs.StringVar(&o.efs, "retrieval-ef", "40,100,200,400,800", "hnsw.ef_search values for org-wide search")
	fs.IntVar(&o.transcripts, "retrieval-transcripts", 10_000, "transcripts indexed one at a time for the worker memory curve (0: skip)")
	fs.StringVar(&o.order, "retrieval-order", "interleaved", "row order of the load: interleaved (accounts' meetings mixed in time, as in production) or account (clustered by account)")
	fs.BoolVar(&o.keep, "retrieval-keep", false, "keep the retrieval database for reruns (a rerun with the same data flags reuses it)")
	fs.StringVar(&o.hnsw, "retrieval-hnsw", "", "HNSW build options, e.g. m=16,ef_construction=64 (default: the migrations', store.HNSWOptions); a kept database's index is rebuilt when they differ")
	fs.Uint64Var(&o.seed, "retrieval-seed", 1, "seed of the generated text")
	fs.IntVar(&o.tail, "retrieval-tail", 500, "long-tail words of each topic, beside its 40 core words, and a general long tail of 20,000 words (0: neither, the text as measured before issue #9)")
	return o
}

// Run runs the retrieval benchmark in its own databases next
// to the bench database u: o.db for search, o.db+"_rss" for the memory
// curve. Both are created and migrated here; o.db is dropped at the end
// unless o.keep, the other always.
func Run(ctx context.Context, w io.Writer, u *url.URL, o *Options) error {
	dbURL := func(name string) string {
		v := *u
		v.Path = "/" + name
		return v.String()
	}
	mainURL, rssURL := dbURL(o.db), dbURL(o.db+"_rss")
	if err := app.DropDatabase(ctx, dbURL("postgres"), o.db+"_rss"); err != nil {
		return err
	}
	if _, err := app.Migrate(ctx, rssURL); err != nil {
		return err
	}
	defer func() { _ = app.DropDatabase(context.WithoutCancel(ctx), dbURL("postgres"), o.db+"_rss") }()
	if !o.keep {
		if err := app.DropDatabase(ctx, dbURL("postgres"), o.db); err != nil {
			return err
		}
		defer func() { _ = app.DropDatabase(context.WithoutCancel(ctx), dbURL("postgres"), o.db) }()
	}
	if _, err := app.Migrate(ctx, mainURL); err != nil {
		return err
	}
	_, err := benchRetrieval(ctx, w, mainURL, rssURL, o)
	return err
}

// retrievalResult is what a run measured, for the test.
type retrievalResult struct {
	AccountRecall map[int]float64
	OrgRecall     map[int]float64
	RSS           []rssSample
	Text          map[int]textResult // by account size
}

// acctCase is a measured account: its size, its query (top 10) and the
// questions asked of it, with their embeddings.
type acctCase struct {
	acct   int // in the load plan
	target int
	q      crm.ChunkQuery
	texts  []string
	vecs   [][]float32
}

// benchRetrieval measures issue #4 on the migrated database at mainURL
// (search) and rssURL (worker memory):
//   - per-account top-10 through (*store.Store).ChunkSearchVector beside a
//     raw exact-scan query, for a small and a large account, with recall;
//   - per-account full-text top-10, BM25 beside the ts_rank_cd query it
//     replaced, and hybrid retrieval.Service.Search end to end;
//   - org-wide top-10 through the HNSW path at several ef_search values
//     beside the exact scan it is scored against;
//   - the process's RSS while 10,000 transcripts are chunked, embedded and
//     written one at a time.
func benchRetrieval(ctx context.Context, w io.Writer, mainURL, rssURL string, o *Options) (retrievalResult, error) {
	res := retrievalResult{AccountRecall: map[int]float64{}, OrgRecall: map[int]float64{}}
	if o.order != "interleaved" && o.order != "account" {
		return res, fmt.Errorf("-retrieval-order %q: want interleaved or account", o.order)
	}
	if o.hnsw != "" && !hnswOptions.MatchString(o.hnsw) {
		return res, fmt.Errorf("-retrieval-hnsw %q: want name=number pairs separated by commas", o.hnsw)
	}
	if o.big+o.small > o.chunks {
		return res, fmt.Errorf("-retrieval-chunks %d is less than the two measured accounts (%d + %d)", o.chunks, o.big, o.small)
	}
	emb := local.New(o.dim)
	model := emb.Model()
	gen := newTextModel(o.seed, o.tail)
	fmt.Fprintf(w, "## Retrieval (issue #4: %d chunks, local embedder at %d dimensions, halfvec, %s row order)\n\n", o.chunks, o.dim, o.order)

	// Worker memory first, while the process holds nothing else.
	if o.transcripts > 0 {
		rssPool, err := store.Connect(ctx, rssURL, store.PoolConfig{MaxConns: 2})
		if err != nil {
			return res, err
		}
		res.RSS, err = benchRetrievalRSS(ctx, w, rssPool, gen, emb, model, o)
		rssPool.Close()
		if err != nil {
			return res, err
		}
	}

	pool, err := store.Connect(ctx, mainURL, store.PoolConfig{MaxConns: 6})
	if err != nil {
		return res, err
	}
	defer pool.Close()
	st := store.New(pool)
	plan := newLoadPlan(gen, o)
	orgs, ids, err := retrievalData(ctx, w, pool, st, gen, emb, model, plan, o)
	if err != nil {
		return res, err
	}

	// Per-account search.
	fmt.Fprintf(w, "### Per-account top-10 (exact scan; %d chunks in the table, HNSW index present)\n\n", o.chunks)
	fmt.Fprintf(w, "%d queries per account, drawn from the account's topics; each query runs every path back to back.\n", o.queries)
	fmt.Fprintln(w, "Baseline: `SELECT id FROM chunks WHERE org_id = $1 AND account_id = $2 AND model = $3 ORDER BY embedding <=> $4, id LIMIT 10`")
	fmt.Fprintln(w, "with `enable_indexscan = off, enable_indexonlyscan = off` (a bitmap scan of an (org_id, account_id) index, then a top-10 sort:")
	fmt.Fprintln(w, "exact, returns ids only). Real path: `(*store.Store).ChunkSearchVector` with the account set (its query: index-only")
	fmt.Fprintln(w, "scan of chunks_account_vec ordered by cosine_distance(), which no index serves, then the top 10 fetched with all chunk columns).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| account | path | p50 | p99 | p99 vs baseline | recall@10 vs exact |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	exactConn, err := pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer exactConn.Release()
	if _, err := exactConn.Exec(ctx, `SET enable_indexscan = off; SET enable_indexonlyscan = off`); err != nil {
		return res, err
	}
	var cases []acctCase
	for _, a := range []int{1, 0} { // small, then big
		acct := plan.accounts[a]
		texts := gen.queries(acct.topics, acct.weights, o.queries, o.seed*1000+uint64(a))
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return res, err
		}
		cases = append(cases, acctCase{a, acct.target, crm.ChunkQuery{OrgID: orgs[acct.org], AccountID: ids[a], Model: model, Limit: 10}, texts, vecs})
	}
	exactPath := func(q crm.ChunkQuery) acctPath {
		return acctPath{"raw exact SQL, ids only (baseline)", func(v []float32) ([]string, error) {
			return queryIDs(ctx, exactConn, `SELECT id FROM chunks WHERE org_id = $1 AND account_id = $2 AND model = $3
				ORDER BY embedding <=> $4, id LIMIT 10`, q.OrgID, q.AccountID, q.Model, pgvector.NewHalfVector(v))
		}}
	}
	storePath := func(q crm.ChunkQuery) acctPath {
		return acctPath{"ChunkSearchVector", func(v []float32) ([]string, error) {
			return hitIDs(st.ChunkSearchVector(ctx, q, v, 0))
		}}
	}
	var notes []string
	for _, c := range cases {
		rs, err := measureAccount(w, c.target, c.vecs, exactPath(c.q), storePath(c.q))
		if err != nil {
			return res, err
		}
		res.AccountRecall[c.target] = rs[0].recall
		notes = append(notes, fmt.Sprintf("%d-chunk account: p99 ≤ 20 ms with recall 1.0: %s", c.target,
			verdict(rs[0].p[1] <= 20*time.Millisecond && rs[0].recall == 1)))
	}
	big := cases[len(cases)-1]
	// The statement ChunkSearchVector sends for the big account, recorded
	// and explained.
	rec := newRecorder(pool)
	if _, err := store.New(rec).ChunkSearchVector(ctx, big.q, big.vecs[0], 0); err != nil {
		return res, err
	}
	sent := rec.take()
	if len(sent) == 0 {
		return res, fmt.Errorf("ChunkSearchVector sent no statement")
	}
	ex, err := explainAnalyze(ctx, pool, sent[len(sent)-1].sql, sent[len(sent)-1].args...)
	if err != nil {
		return res, err
	}
	notes = append(notes, fmt.Sprintf("\nEXPLAIN (ANALYZE, BUFFERS) of ChunkSearchVector's query, %d-chunk account:\n\n```\n%s```", big.target, ex))
	fmt.Fprintln(w)
	for _, e := range notes {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintln(w)

	// Per-account full-text and hybrid search.
	if res.Text, err = benchRetrievalText(ctx, w, pool, st, gen, emb, plan, cases, o); err != nil {
		return res, err
	}

	// Org-wide search.
	orgID := orgs[0]
	var orgAccounts []int
	for i, a := range plan.accounts {
		if a.org == 0 {
			orgAccounts = append(orgAccounts, i)
		}
	}
	rng := rand.New(rand.NewPCG(o.seed, 77))
	oqs := make([]string, o.orgQueries)
	for i := range oqs {
		a := plan.accounts[orgAccounts[rng.IntN(len(orgAccounts))]]
		oqs[i] = gen.queries(a.topics, a.weights, 1, rng.Uint64())[0]
	}
	ovecs, err := emb.Embed(ctx, oqs)
	if err != nil {
		return res, err
	}
	var orgChunks int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM chunks WHERE org_id = $1`, orgID).Scan(&orgChunks); err != nil {
		return res, err
	}
	fmt.Fprintf(w, "### Org-wide top-10 (org of %d chunks in a %d-chunk table; %d queries)\n\n", orgChunks, o.chunks, len(ovecs))
	fmt.Fprintln(w, "Baseline: exact scan, `SELECT id FROM chunks WHERE org_id = $1 AND model = $2 ORDER BY embedding <=> $3, id LIMIT 10` with")
	fmt.Fprintln(w, "`enable_indexscan = off` (parallel seq scan); its answers are the truth recall is scored against. Real path: `ChunkSearchVector`")
	hnswSet, err := orgSearchSettings(ctx, pool, crm.ChunkQuery{OrgID: orgID, Model: model, Limit: 10}, ovecs[0])
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "without an account (HNSW, iterative scan %s, max_scan_tuples %s, in its own transaction).\n\n",
		hnswSet["hnsw.iterative_scan"], hnswSet["hnsw.max_scan_tuples"])
	fmt.Fprintln(w, "| path | p50 | p99 | p99 vs baseline | recall@10 (mean) | queries with recall < 0.8 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	truth := make([][]string, len(ovecs))
	var tb []time.Duration
	for i, v := range ovecs {
		start := time.Now()
		ids, err := queryIDs(ctx, exactConn, `SELECT id FROM chunks WHERE org_id = $1 AND model = $2
			ORDER BY embedding <=> $3, id LIMIT 10`, orgID, model, pgvector.NewHalfVector(v))
		if err != nil {
			return res, fmt.Errorf("exact org-wide: %w", err)
		}
		if i > 0 { // the first query warms the cache
			tb = append(tb, time.Since(start))
		}
		truth[i] = ids
	}
	b := pcts(tb)
	fmt.Fprintf(w, "| exact scan (baseline) | %s | %s | 1.00 | 1 (is exact) | 0 |\n", ms(b[0]), ms(b[1]))
	var goals []string
	for _, f := range strings.Split(o.efs, ",") {
		ef, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return res, fmt.Errorf("-retrieval-ef %q: %w", o.efs, err)
		}
		q := crm.ChunkQuery{OrgID: orgID, Model: model, Limit: 10}
		for i := 0; i < min(20, len(ovecs)); i++ {
			if _, err := st.ChunkSearchVector(ctx, q, ovecs[i], ef); err != nil {
				return res, err
			}
		}
		var ts []time.Duration
		var recall float64
		low := 0
		for i, v := range ovecs {
			start := time.Now()
			hits, err := st.ChunkSearchVector(ctx, q, v, ef)
			if err != nil {
				return res, fmt.Errorf("org-wide search: %w", err)
			}
			ts = append(ts, time.Since(start))
			got := make([]string, len(hits))
			for j, h := range hits {
				got[j] = h.ID
			}
			r := recallOf(got, truth[i])
			if r < 0.8 {
				low++
			}
			recall += r
		}
		recall /= float64(len(ovecs))
		res.OrgRecall[ef] = recall
		p := pcts(ts)
		fmt.Fprintf(w, "| HNSW, ef_search %d | %s | %s | %.3f | %.3f | %d |\n", ef, ms(p[0]), ms(p[1]), float64(p[1])/float64(b[1]), recall, low)
		goals = append(goals, fmt.Sprintf("ef_search %d: p99 ≤ 100 ms %s, recall@10 ≥ 0.95 %s", ef, verdict(p[1] <= 100*time.Millisecond), verdict(recall >= 0.95)))
	}
	fmt.Fprintf(w, "\nGoals: %s.\n\n", strings.Join(goals, "; "))
	return res, nil
}

// acctPath is one way of answering a per-account top-10 query.
type acctPath struct {
	name string
	run  func(v []float32) ([]string, error)
}

type pathResult struct {
	p      [2]time.Duration
	recall float64
}

// measureAccount runs every query through base (the exact baseline) and
// each path, back to back, after a warm-up, prints a row per path and
// returns the paths' figures.
func measureAccount(w io.Writer, target int, vecs [][]float32, base acctPath, paths ...acctPath) ([]pathResult, error) {
	all := append([]acctPath{base}, paths...)
	for i := 0; i < min(20, len(vecs)); i++ {
		for _, p := range all {
			if _, err := p.run(vecs[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	ts := make([][]time.Duration, len(all))
	recall := make([]float64, len(all))
	for _, v := range vecs {
		var want []string
		for k, p := range all {
			start := time.Now()
			got, err := p.run(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			ts[k] = append(ts[k], time.Since(start))
			if k == 0 {
				want = got
			}
			recall[k] += recallOf(got, want)
		}
	}
	b := pcts(ts[0])
	fmt.Fprintf(w, "| %d chunks | %s | %s | %s | 1.00 | 1 (is exact) |\n", target, base.name, ms(b[0]), ms(b[1]))
	var out []pathResult
	for k := 1; k < len(all); k++ {
		r := pathResult{pcts(ts[k]), recall[k] / float64(len(vecs))}
		fmt.Fprintf(w, "| %d chunks | %s | %s | %s | %.2f | %.3f |\n", target, all[k].name, ms(r.p[0]), ms(r.p[1]),
			float64(r.p[1])/float64(b[1]), r.recall)
		out = append(out, r)
	}
	return out, nil
}

func hitIDs(hits []crm.ChunkHit, err error) ([]string, error) {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out, err
}

func queryIDs(ctx context.Context, c *pgxpool.Conn, sql string, args ...any) ([]string, error) {
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// orgSearchSettings returns the hnsw.* settings an org-wide
// ChunkSearchVector runs its query under: it records the statements the
// search sends, runs all but the query itself in a transaction of its own
// and reads the settings back there.
func orgSearchSettings(ctx context.Context, pool *pgxpool.Pool, q crm.ChunkQuery, vec []float32) (map[string]string, error) {
	rec := newRecorder(pool)
	if _, err := store.New(rec).ChunkSearchVector(ctx, q, vec, 0); err != nil {
		return nil, err
	}
	sent := rec.take()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, s := range sent[:max(len(sent)-1, 0)] {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return nil, fmt.Errorf("replay the org-wide search's settings: %w", err)
		}
	}
	out := map[string]string{}
	for _, name := range []string{"hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples"} {
		var v string
		if err := tx.QueryRow(ctx, `SELECT coalesce(current_setting($1, true), '')`, name).Scan(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func explainAnalyze(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) (string, error) {
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	// The query vector's literal is hundreds of numbers: elide it.
	return vectorLiteral.ReplaceAllString(strings.Join(lines, "\n"), "'[…]'::halfvec") + "\n", nil
}

var vectorLiteral = regexp.MustCompile(`'\[[^\]]*\]'::halfvec`)

// recallOf is the share of want found in got.
func recallOf(got, want []string) float64 {
	if len(want) == 0 {
		return 1
	}
	n := 0
	for _, id := range want {
		if slices.Contains(got, id) {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// pcts returns p50 and p99 of ds.
func pcts(ds []time.Duration) [2]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return [2]time.Duration{s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]}
}

// verdict says whether a goal is met.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
