package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// retrievalOpts are the flags of the retrieval benchmark (issue #4).
type retrievalOpts struct {
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

// retrievalFlags registers the retrieval benchmark's flags on fs.
func retrievalFlags(fs *flag.FlagSet) *retrievalOpts {
	o := &retrievalOpts{}
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

// benchRetrievalRun runs the retrieval benchmark in its own databases next
// to the bench database u: o.db for search, o.db+"_rss" for the memory
// curve. Both are created and migrated here; o.db is dropped at the end
// unless o.keep, the other always.
func benchRetrievalRun(ctx context.Context, w io.Writer, u *url.URL, o *retrievalOpts) error {
	dbURL := func(name string) string {
		v := *u
		v.Path = "/" + name
		return v.String()
	}
	mainURL, rssURL := dbURL(o.db), dbURL(o.db+"_rss")
	if err := dropDatabase(ctx, dbURL("postgres"), o.db+"_rss"); err != nil {
		return err
	}
	if _, err := app.Migrate(ctx, rssURL); err != nil {
		return err
	}
	defer func() { _ = dropDatabase(context.WithoutCancel(ctx), dbURL("postgres"), o.db+"_rss") }()
	if !o.keep {
		if err := dropDatabase(ctx, dbURL("postgres"), o.db); err != nil {
			return err
		}
		defer func() { _ = dropDatabase(context.WithoutCancel(ctx), dbURL("postgres"), o.db) }()
	}
	if _, err := app.Migrate(ctx, mainURL); err != nil {
		return err
	}
	_, err := benchRetrieval(ctx, w, mainURL, rssURL, o)
	return err
}

func dropDatabase(ctx context.Context, adminURL, name string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to drop database %q: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
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
func benchRetrieval(ctx context.Context, w io.Writer, mainURL, rssURL string, o *retrievalOpts) (retrievalResult, error) {
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
	fmt.Fprintln(w, "exact, returns ids only). Real path: `(*store.Store).ChunkSearchVector` with the account set (ChunkVectorSQL: index-only")
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
	sql, args := store.ChunkVectorSQL(big.q, big.vecs[0])
	ex, err := explainAnalyze(ctx, pool, sql, args...)
	if err != nil {
		return res, err
	}
	notes = append(notes, fmt.Sprintf("\nEXPLAIN (ANALYZE, BUFFERS) of ChunkVectorSQL, %d-chunk account:\n\n```\n%s```", big.target, ex))
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
	fmt.Fprintf(w, "without an account (HNSW, iterative scan relaxed_order, max_scan_tuples %d, in its own transaction).\n\n", store.MaxScanTuples)
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

var leadingTabs = regexp.MustCompile(`(?m)^\t\t`)

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

// ---- Generated text with topic structure ----

// textModel makes meeting text that clusters as real text does: a
// vocabulary of topics (each a set of rare words with Zipf frequencies,
// some shared between topics) mixed with common English and generic
// business words. An account talks about a few topics; a sentence is about
// one of them.
//
// Without a tail an account's whole vocabulary is those words (about 200
// lexemes), so every topic word of an account is in thousands of its
// chunks; real speech has a long tail of words each said seldom (Zipf's
// law). With tail > 0, half the topic draws come from the topic's own
// tail of tail words and 15% of the common draws from a general tail of
// benchGeneralTail words, both Zipf-distributed (s = 1): words then
// spread from most chunks to a handful, in an account and in the org.
type textModel struct {
	common     []string
	commonCum  []float64
	topics     [][]string
	topicCum   []float64
	speakers   []string
	tail       int
	tailCum    []float64
	generalCum []float64
}

// benchGeneralTail is the size of the general long tail (textModel).
const benchGeneralTail = 20_000

// topicWord draws a word of topic t.
func (m *textModel) topicWord(rng *rand.Rand, t int) string {
	if m.tail > 0 && rng.Float64() < 0.5 {
		return pseudoWord(20_000 + t*m.tail + pickCum(rng, m.tailCum))
	}
	return m.topics[t][pickCum(rng, m.topicCum)]
}

// commonWord draws a word of no topic.
func (m *textModel) commonWord(rng *rand.Rand) string {
	if m.tail > 0 && rng.Float64() < 0.15 {
		return pseudoWord(20_000+benchTopics*m.tail+pickCum(rng, m.generalCum)) + "o"
	}
	return m.common[pickCum(rng, m.commonCum)]
}

const (
	benchTopics     = 400
	benchTopicWords = 40
)

func zipfCum(n int, s float64) []float64 {
	c := make([]float64, n)
	t := 0.0
	for i := range c {
		t += 1 / math.Pow(float64(i+1), s)
		c[i] = t
	}
	return c
}

func pickCum(rng *rand.Rand, cum []float64) int {
	return sort.SearchFloat64s(cum, rng.Float64()*cum[len(cum)-1])
}

// pseudoWord is the i-th made-up word: two or three syllables.
func pseudoWord(i int) string {
	const cons, vows = "bdfgklmnprstvz", "aeiou"
	syl := func(k int) string { return string(cons[k%len(cons)]) + string(vows[(k/len(cons))%len(vows)]) }
	n := len(cons) * len(vows)
	w := syl(i%n) + syl((i/n)%n)
	if i >= n*n/2 || i%3 == 0 {
		w += syl((i/(n*n) + i*7) % n)
	}
	return w + string(cons[(i/7)%len(cons)])
}

// newTextModel makes the text model of seed; tail > 0 gives every topic a
// long tail of that many words and the text a general one (textModel).
func newTextModel(seed uint64, tail int) *textModel {
	rng := rand.New(rand.NewPCG(seed, 1))
	common := strings.Fields(`the and to we i you that it a of is for on this so in be can with have just
		our they will what do at if are not but as about from your there would need get think
		then one now time week team next plan call update customer pricing contract timeline rollout
		budget renewal meeting support integration data access security review question process project
		quarter users launch follow issue report demo account price cost goal approval legal pilot
		feature feedback training onboarding deadline scope risk decision options proposal roadmap`)
	m := &textModel{common: common, commonCum: zipfCum(len(common), 0.9), topicCum: zipfCum(benchTopicWords, 1.0), tail: tail}
	if tail > 0 {
		m.tailCum, m.generalCum = zipfCum(tail, 1.0), zipfCum(benchGeneralTail, 1.0)
	}
	// Topic words: most are the topic's own; a fifth come from a shared
	// pool, so topics overlap as real subjects do.
	shared := make([]string, 1500)
	for i := range shared {
		shared[i] = pseudoWord(benchTopics*benchTopicWords + i)
	}
	m.topics = make([][]string, benchTopics)
	for t := range m.topics {
		ws := make([]string, benchTopicWords)
		for j := range ws {
			if j%5 == 4 {
				ws[j] = shared[rng.IntN(len(shared))]
			} else {
				ws[j] = pseudoWord(t*benchTopicWords + j)
			}
		}
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		m.topics[t] = ws
	}
	m.speakers = []string{"Maya Patel", "Dana Lee", "Jon Okafor", "Sam Ortiz", "Wei Zhang", "Ana Ruiz", "Tom Berg", "Ife Musa"}
	return m
}

// sentence writes one sentence about topic t.
func (m *textModel) sentence(rng *rand.Rand, b *strings.Builder, t int) {
	n := 8 + rng.IntN(11)
	for i := 0; i < n; i++ {
		var w string
		if rng.Float64() < 0.4 {
			w = m.topicWord(rng, t)
		} else {
			w = m.commonWord(rng)
		}
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteString(". ")
}

func pickWeighted(rng *rand.Rand, ws []float64) int {
	t := 0.0
	for _, w := range ws {
		t += w
	}
	x := rng.Float64() * t
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

// transcript generates one meeting of an account: 200 to 500 segments by
// two to four speakers, in sections of one topic each.
func (m *textModel) transcript(topics []int, weights []float64, seed uint64) []crm.Segment {
	rng := rand.New(rand.NewPCG(seed, 2))
	n := 200 + rng.IntN(301)
	sp := m.speakers[rng.IntN(len(m.speakers)):]
	sp = append(slices.Clone(sp), m.speakers...)[:2+rng.IntN(3)]
	segs := make([]crm.Segment, n)
	var at int64
	t := topics[pickWeighted(rng, weights)]
	var b strings.Builder
	for i := range segs {
		if rng.IntN(10) == 0 {
			t = topics[pickWeighted(rng, weights)]
		}
		b.Reset()
		for k := 1 + rng.IntN(3); k > 0; k-- {
			m.sentence(rng, &b, t)
		}
		text := strings.TrimSpace(b.String())
		d := int64(len(text)) * 60
		segs[i] = crm.Segment{Index: i, Speaker: sp[i%len(sp)], StartMS: at, EndMS: at + d, Text: text}
		at += d + 300
	}
	return segs
}

// queries generates n questions about an account's topics: one or two
// sentences, never a copy of a chunk.
func (m *textModel) queries(topics []int, weights []float64, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		t := topics[pickWeighted(rng, weights)]
		for k := 1 + rng.IntN(2); k > 0; k-- {
			m.sentence(rng, &b, t)
		}
		out[i] = strings.TrimSpace(b.String())
	}
	return out
}

// questionOpenings begin generated questions: general meeting language.
var questionOpenings = []string{"What did we say about", "Where are we on", "Any update on", "What was decided about",
	"Who raised", "Why did we change", "What are the next steps for", "How did they react to", "Did anyone follow up on",
	"When is", "Remind me about", "What is the status of"}

// questions generates n questions about an account's topics as people
// type them: an opening and 4 to 9 words drawn as a sentence's are (two
// in five from one topic, the rest common words). About one in twenty
// then holds no topic word (0.6^n averaged over n), so full-text search
// meets questions of common words alone, as it does in use.
func (m *textModel) questions(topics []int, weights []float64, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 6))
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		t := topics[pickWeighted(rng, weights)]
		b.WriteString(questionOpenings[rng.IntN(len(questionOpenings))])
		for k := 4 + rng.IntN(6); k > 0; k-- {
			b.WriteByte(' ')
			if rng.Float64() < 0.4 {
				b.WriteString(m.topicWord(rng, t))
			} else {
				b.WriteString(m.commonWord(rng))
			}
		}
		b.WriteByte('?')
		out[i] = b.String()
	}
	return out
}

// ---- Loading ----

type planAccount struct {
	name    string
	org     int
	target  int
	topics  []int
	weights []float64
}

type loadPlan struct {
	accounts []planAccount
}

// newLoadPlan sizes the accounts: account 0 has o.big chunks, account 1
// o.small, the rest 50 to 5,000 (log-uniform) until o.chunks; a tenth of
// the chunks belong to a second org, so org-wide search filters.
func newLoadPlan(m *textModel, o *retrievalOpts) loadPlan {
	rng := rand.New(rand.NewPCG(o.seed, 4))
	var p loadPlan
	add := func(org, n int) {
		k := 3 + rng.IntN(3)
		a := planAccount{name: fmt.Sprintf("acct-%05d", len(p.accounts)), org: org, target: n}
		for range k {
			a.topics = append(a.topics, rng.IntN(len(m.topics)))
			a.weights = append(a.weights, 0.2+rng.Float64())
		}
		p.accounts = append(p.accounts, a)
	}
	add(0, o.big)
	add(0, o.small)
	left := o.chunks - o.big - o.small
	other := left / 10
	for left > 0 {
		n := min(left, int(math.Exp(math.Log(50)+rng.Float64()*(math.Log(5000)-math.Log(50)))))
		org := 0
		if left <= other {
			org = 1
		}
		add(org, n)
		left -= n
	}
	return p
}

// retrievalData makes sure the database holds the plan's data, loading it
// (and building the indexes) unless a kept database already does. It
// returns the two orgs' IDs and the accounts' IDs in plan order.
func retrievalData(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, gen *textModel, emb *local.Provider,
	model string, plan loadPlan, o *retrievalOpts) ([2]string, []string, error) {
	var orgs [2]string
	ids := make([]string, len(plan.accounts))
	mark := fmt.Sprintf("bench retrieval chunks=%d big=%d small=%d model=%s order=%s seed=%d tail=%d", o.chunks, o.big, o.small, model, o.order, o.seed, o.tail)
	err := pool.QueryRow(ctx, `SELECT id FROM orgs WHERE name = $1`, mark).Scan(&orgs[0])
	if err == nil {
		if err := pool.QueryRow(ctx, `SELECT id FROM orgs WHERE name = $1`, mark+" other").Scan(&orgs[1]); err != nil {
			return orgs, nil, err
		}
		rows, err := pool.Query(ctx, `SELECT name, id FROM accounts WHERE org_id = ANY($1)`, orgs[:])
		if err != nil {
			return orgs, nil, err
		}
		byName := map[string]string{}
		var name, id string
		if _, err := pgx.ForEachRow(rows, []any{&name, &id}, func() error { byName[name] = id; return nil }); err != nil {
			return orgs, nil, err
		}
		for i, a := range plan.accounts {
			ids[i] = byName[a.name]
		}
		fmt.Fprintf(w, "Reusing the kept database (%s).\n\n", mark)
		var cur []string
		if err := pool.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'chunks_embedding_hnsw'::regclass`).Scan(&cur); err != nil {
			return orgs, nil, err
		}
		if want := o.hnswOptions(); strings.Join(cur, ",") != want {
			fmt.Fprintf(w, "The kept HNSW index was built with (%s); rebuilt with (%s):\n\n", strings.Join(cur, ","), want)
			fmt.Fprintln(w, "| step | time |")
			fmt.Fprintln(w, "|---|---:|")
			defs, err := dropChunkIndexes(ctx, pool, "chunks_embedding_hnsw")
			if err != nil {
				return orgs, nil, err
			}
			if err := buildIndexes(ctx, w, pool, o, defs); err != nil {
				return orgs, nil, err
			}
			fmt.Fprintln(w)
		}
		return orgs, ids, retrievalSizes(ctx, w, pool)
	}
	if err != pgx.ErrNoRows {
		return orgs, nil, err
	}
	// A fresh (or differently made) database: start over.
	if _, err := pool.Exec(ctx, `TRUNCATE orgs CASCADE`); err != nil {
		return orgs, nil, err
	}
	if dim, err := st.EmbeddingDim(ctx); err != nil {
		return orgs, nil, err
	} else if dim != o.dim {
		if err := st.SetEmbeddingDim(ctx, o.dim); err != nil {
			return orgs, nil, err
		}
	}
	for i := range orgs {
		name := mark + " (loading)"
		if i == 1 {
			name = mark + " other"
		}
		org, err := st.OrgCreate(ctx, name)
		if err != nil {
			return orgs, nil, err
		}
		orgs[i] = org.ID
	}
	var acctRows [][]any
	for i, a := range plan.accounts {
		ids[i] = store.NewID()
		acctRows = append(acctRows, []any{orgs[a.org], ids[i], a.name})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"org_id", "id", "name"}, pgx.CopyFromRows(acctRows)); err != nil {
		return orgs, nil, err
	}
	// Bulk load: secondary indexes that are cheaper built once than
	// maintained row by row are dropped and built after, from the
	// definitions the migrations gave them.
	defs, err := dropChunkIndexes(ctx, pool, "chunks_tsv", "chunks_account_vec", "chunks_embedding_hnsw")
	if err != nil {
		return orgs, nil, err
	}
	fmt.Fprintf(w, "Load: %d accounts in 2 orgs (%d-chunk and %d-chunk accounts measured), one activity per transcript.\n", len(plan.accounts), o.big, o.small)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| step | time |")
	fmt.Fprintln(w, "|---|---:|")
	start := time.Now()
	if err := loadChunks(ctx, pool, gen, emb, model, plan, orgs, ids, o); err != nil {
		return orgs, nil, err
	}
	fmt.Fprintf(w, "| generate, chunk (retrieval.ChunkTranscript), embed and COPY %d chunks | %s |\n", o.chunks, time.Since(start).Round(time.Second))
	if err := buildIndexes(ctx, w, pool, o, defs); err != nil {
		return orgs, nil, err
	}
	fmt.Fprintln(w)
	if _, err := pool.Exec(ctx, `UPDATE orgs SET name = $1 WHERE id = $2`, mark, orgs[0]); err != nil {
		return orgs, nil, err
	}
	return orgs, ids, retrievalSizes(ctx, w, pool)
}

var hnswOptions = regexp.MustCompile(`^[a-z_]+=[0-9]+(,[a-z_]+=[0-9]+)*$`)

// hnswOptions are the HNSW build options measured: -retrieval-hnsw, or
// the migrations' (store.HNSWOptions).
func (o *retrievalOpts) hnswOptions() string {
	if o.hnsw != "" {
		return o.hnsw
	}
	return store.HNSWOptions
}

// indexDef is an index to build again after a load.
type indexDef struct{ name, sql string }

// dropChunkIndexes drops the named indexes of chunks and returns their
// definitions, in the order given.
func dropChunkIndexes(ctx context.Context, pool *pgxpool.Pool, names ...string) ([]indexDef, error) {
	var defs []indexDef
	for _, n := range names {
		var def string
		if err := pool.QueryRow(ctx, `SELECT pg_get_indexdef($1::regclass)`, n).Scan(&def); err != nil {
			return nil, fmt.Errorf("definition of index %s: %w", n, err)
		}
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{n}.Sanitize()); err != nil {
			return nil, err
		}
		defs = append(defs, indexDef{n, def})
	}
	return defs, nil
}

// hnswWith matches the build options of an HNSW index definition.
var hnswWith = regexp.MustCompile(` WITH \([^)]*\)$`)

// buildIndexes builds the dropped indexes defs again, the HNSW index with
// o's options, printing a row per step; VACUUM ANALYZE runs before the
// HNSW build, as after a load the statistics are needed and the visibility
// map lets the covering index's scans stay index-only.
func buildIndexes(ctx context.Context, w io.Writer, pool *pgxpool.Pool, o *retrievalOpts, defs []indexDef) error {
	var steps []indexDef
	for _, d := range defs {
		if d.name == "chunks_embedding_hnsw" {
			d.sql = hnswWith.ReplaceAllString(d.sql, "") + " WITH (" + o.hnswOptions() + ")"
			if len(defs) > 1 {
				steps = append(steps, indexDef{"VACUUM ANALYZE chunks", `VACUUM ANALYZE chunks`})
			}
			d.name += " (" + o.hnswOptions() + "), 1 parallel worker + leader"
		}
		d.name = "CREATE INDEX " + d.name + ", maintenance_work_mem 2GB"
		steps = append(steps, d)
	}
	for _, s := range steps {
		t := time.Now()
		c, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		progress("retrieval: %s ...", s.name)
		_, err = c.Exec(ctx, `SET maintenance_work_mem = '2GB'`)
		if err == nil {
			_, err = c.Exec(ctx, `SET max_parallel_maintenance_workers = 1`)
		}
		if err == nil {
			_, err = c.Exec(ctx, s.sql)
		}
		c.Release()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(w, "| %s | %s |\n", s.name, time.Since(t).Round(time.Second))
	}
	return nil
}

func retrievalSizes(ctx context.Context, w io.Writer, pool *pgxpool.Pool) error {
	var table, toast, hnsw, gin, btree string
	err := pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_relation_size('chunks')),
		pg_size_pretty(pg_total_relation_size('chunks') - pg_relation_size('chunks') - pg_indexes_size('chunks')),
		pg_size_pretty(pg_relation_size('chunks_embedding_hnsw')), pg_size_pretty(pg_relation_size('chunks_tsv')),
		pg_size_pretty(pg_relation_size('chunks_account_vec'))`).Scan(&table, &toast, &hnsw, &gin, &btree)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Sizes: chunks heap %s (+ TOAST %s), HNSW index %s, GIN %s, chunks_account_vec btree (with the vectors) %s.\n\n", table, toast, hnsw, gin, btree)
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// loadSched hands out transcripts to generate, so that each account ends
// with exactly its target (the writer truncates an account's last
// transcript) and, in interleaved order, accounts progress together as
// meetings across a customer base do.
type loadSched struct {
	mu        sync.Mutex
	cond      *sync.Cond
	remaining []int
	inflight  []int
	est       float64
	rng       *rand.Rand
	clustered bool
	seq       int
}

type loadJob struct {
	acct int
	seq  int
	seed uint64
}

func (s *loadSched) take() (loadJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	need := make([]float64, len(s.remaining))
	for {
		total, busy := 0.0, 0
		first := -1
		for a, r := range s.remaining {
			n := float64(r) - float64(s.inflight[a])*s.est
			busy += s.inflight[a]
			need[a] = max(n, 0)
			total += need[a]
			if first < 0 && n > 0 {
				first = a
			}
		}
		if total > 0 {
			a := first
			if !s.clustered {
				x := s.rng.Float64() * total
				for a = range need {
					if x < need[a] && need[a] > 0 {
						break
					}
					x -= need[a]
				}
				if need[a] == 0 {
					a = first
				}
			}
			s.inflight[a]++
			s.seq++
			return loadJob{acct: a, seq: s.seq, seed: s.rng.Uint64()}, true
		}
		if busy == 0 {
			return loadJob{}, false
		}
		s.cond.Wait()
	}
}

// commit records that a transcript of n chunks of account a arrived and
// returns how many of them to keep.
func (s *loadSched) commit(a, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := min(n, s.remaining[a])
	s.remaining[a] -= k
	s.inflight[a]--
	s.est = 0.98*s.est + 0.02*float64(n)
	s.cond.Broadcast()
	return k
}

type genTranscript struct {
	job    loadJob
	chunks []crm.Chunk
}

var chunkColumnsCopy = []string{"org_id", "id", "account_id", "activity_id", "activity_type", "occurred_at", "kind", "position",
	"text", "speaker", "start_ms", "end_ms", "seg_first", "seg_last", "lines", "content_hash", "model", "embedding"}

var activityColumnsCopy = []string{"org_id", "id", "type", "account_id", "occurred_at", "subject", "source", "duration_seconds"}

// transcriptRows turns one chunked, embedded transcript into COPY rows of
// its activity and chunks.
func transcriptRows(orgID, accountID string, at time.Time, cs []crm.Chunk, model string) ([]any, [][]any, error) {
	actID := store.NewID()
	var dur int64
	if len(cs) > 0 && cs[len(cs)-1].EndMS != nil {
		dur = *cs[len(cs)-1].EndMS / 1000
	}
	act := []any{orgID, actID, "meeting", accountID, at, "Meeting", "bench", dur}
	rows := make([][]any, len(cs))
	for i, c := range cs {
		lines, err := json.Marshal(c.Lines)
		if err != nil {
			return nil, nil, err
		}
		rows[i] = []any{orgID, store.NewID(), accountID, actID, "meeting", at, string(crm.ChunkTranscript), c.Position,
			c.Text, c.Speaker, c.StartMS, c.EndMS, c.SegFirst, c.SegLast, lines, crm.ChunkHash(c.Text), model,
			pgvector.NewHalfVector(c.Embedding)}
	}
	return act, rows, nil
}

func loadChunks(ctx context.Context, pool *pgxpool.Pool, gen *textModel, emb *local.Provider, model string,
	plan loadPlan, orgs [2]string, ids []string, o *retrievalOpts) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &loadSched{est: 60, rng: rand.New(rand.NewPCG(o.seed, 5)), clustered: o.order == "account"}
	s.cond = sync.NewCond(&s.mu)
	for _, a := range plan.accounts {
		s.remaining = append(s.remaining, a.target)
		s.inflight = append(s.inflight, 0)
	}
	out := make(chan genTranscript, 8)
	var errOnce sync.Once
	var firstErr error
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	var gwg sync.WaitGroup
	for range runtime.NumCPU() {
		gwg.Add(1)
		go func() {
			defer gwg.Done()
			for {
				j, ok := s.take()
				if !ok {
					return
				}
				if ctx.Err() != nil {
					s.commit(j.acct, 0)
					return
				}
				a := plan.accounts[j.acct]
				cs := retrieval.ChunkTranscript(gen.transcript(a.topics, a.weights, j.seed))
				texts := make([]string, len(cs))
				for i := range cs {
					texts[i] = cs[i].Text
				}
				vecs, err := emb.Embed(ctx, texts)
				if err != nil {
					fail(err)
					s.commit(j.acct, 0)
					return
				}
				for i := range cs {
					cs[i].Embedding = vecs[i]
				}
				select {
				case out <- genTranscript{job: j, chunks: cs}:
				case <-ctx.Done():
					s.commit(j.acct, 0)
					return
				}
			}
		}()
	}
	go func() { gwg.Wait(); close(out) }()

	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var acts, chunks [][]any
	written, lastReport := 0, time.Now()
	start := time.Now()
	flush := func() error {
		if len(acts) == 0 {
			return nil
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"activities"}, activityColumnsCopy, pgx.CopyFromRows(acts)); err != nil {
			return fmt.Errorf("copy activities: %w", err)
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"chunks"}, chunkColumnsCopy, pgx.CopyFromRows(chunks)); err != nil {
			return fmt.Errorf("copy chunks: %w", err)
		}
		written += len(chunks)
		acts, chunks = acts[:0], chunks[:0]
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			el := time.Since(start)
			progress("retrieval: loaded %d of %d chunks (%.0f/s)", written, o.chunks, float64(written)/el.Seconds())
		}
		return nil
	}
	for t := range out {
		k := s.commit(t.job.acct, len(t.chunks))
		if k == 0 || ctx.Err() != nil {
			continue
		}
		a := plan.accounts[t.job.acct]
		act, rows, err := transcriptRows(orgs[a.org], ids[t.job.acct], base.Add(time.Duration(t.job.seq)*time.Hour), t.chunks[:k], model)
		if err != nil {
			fail(err)
			continue
		}
		acts = append(acts, act)
		chunks = append(chunks, rows...)
		if len(chunks) >= 5000 {
			if err := flush(); err != nil {
				fail(err)
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return flush()
}

// ---- Worker memory ----

type rssSample struct {
	Transcripts int
	RSS, HWM    int64 // bytes
	HeapInuse   uint64
}

// procStatus reads VmRSS and VmHWM of this process.
func procStatus() (rss, hwm int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n * 1024
		case "VmHWM:":
			hwm = n * 1024
		}
	}
	return rss, hwm
}

// benchRetrievalRSS indexes o.transcripts generated one-hour transcripts
// one at a time, as the worker does (chunk with retrieval.ChunkTranscript,
// embed with the local embedder, COPY the activity and its chunks), and
// samples the process's RSS along the way.
func benchRetrievalRSS(ctx context.Context, w io.Writer, pool *pgxpool.Pool, gen *textModel, emb *local.Provider, model string,
	o *retrievalOpts) ([]rssSample, error) {
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "bench retrieval rss")
	if err != nil {
		return nil, err
	}
	// Bulk mode, as in the main load: incremental HNSW and GIN upkeep is
	// the database's cost, not the worker's memory.
	if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS chunks_tsv, chunks_embedding_hnsw`); err != nil {
		return nil, err
	}
	if dim, err := st.EmbeddingDim(ctx); err != nil {
		return nil, err
	} else if dim != o.dim {
		if err := st.SetEmbeddingDim(ctx, o.dim); err != nil {
			return nil, err
		}
		if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS chunks_embedding_hnsw`); err != nil {
			return nil, err
		}
	}
	const nAccounts = 100
	accts := make([]string, nAccounts)
	topics := make([][]int, nAccounts)
	rng := rand.New(rand.NewPCG(o.seed, 9))
	for i := range accts {
		accts[i] = store.NewID()
		if _, err := pool.Exec(ctx, `INSERT INTO accounts (org_id, id, name) VALUES ($1, $2, $3)`, org.ID, accts[i], fmt.Sprintf("rss-%03d", i)); err != nil {
			return nil, err
		}
		topics[i] = []int{rng.IntN(benchTopics), rng.IntN(benchTopics), rng.IntN(benchTopics)}
	}
	weights := []float64{1, 1, 1}
	marks := map[int]bool{1: true} // after the first transcript, then every tenth of the run
	for k := 1; k <= 10; k++ {
		marks[k*o.transcripts/10] = true
	}
	var samples []rssSample
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	chunks, segments := 0, 0
	for i := 1; i <= o.transcripts; i++ {
		a := i % nAccounts
		segs := gen.transcript(topics[a], weights, o.seed<<32+uint64(i))
		segments += len(segs)
		cs := retrieval.ChunkTranscript(segs)
		texts := make([]string, len(cs))
		for k := range cs {
			texts[k] = cs[k].Text
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		for k := range cs {
			cs[k].Embedding = vecs[k]
		}
		act, rows, err := transcriptRows(org.ID, accts[a], base.Add(time.Duration(i)*time.Hour), cs, model)
		if err != nil {
			return nil, err
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"activities"}, activityColumnsCopy, pgx.CopyFromRows([][]any{act})); err != nil {
			return nil, err
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"chunks"}, chunkColumnsCopy, pgx.CopyFromRows(rows)); err != nil {
			return nil, err
		}
		chunks += len(cs)
		if marks[i] {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rss, hwm := procStatus()
			samples = append(samples, rssSample{Transcripts: i, RSS: rss, HWM: hwm, HeapInuse: ms.HeapInuse})
			progress("retrieval: indexed %d of %d transcripts one at a time (RSS %.1f MiB)", i, o.transcripts, mib(rss))
		}
	}
	el := time.Since(start)
	fmt.Fprintf(w, "### Worker memory while indexing (%d transcripts, one at a time, in process)\n\n", o.transcripts)
	fmt.Fprintf(w, "Each transcript: %d segments on average (200–500), chunked by retrieval.ChunkTranscript (%d chunks on average),\n",
		segments/o.transcripts, chunks/o.transcripts)
	fmt.Fprintf(w, "embedded by the local embedder (%d dims), written with two COPYs (activity, chunks) into a separate migrated database\n", o.dim)
	fmt.Fprintf(w, "(GIN and HNSW dropped). %d chunks in %s (%.0f transcripts/s). Go %s, GOGC default.\n\n",
		chunks, el.Round(time.Second), float64(o.transcripts)/el.Seconds(), runtime.Version())
	fmt.Fprintln(w, "| transcripts indexed | VmRSS | VmHWM (peak) | Go heap in use |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|")
	for _, s := range samples {
		fmt.Fprintf(w, "| %d | %.1f MiB | %.1f MiB | %.1f MiB |\n", s.Transcripts, mib(s.RSS), mib(s.HWM), float64(s.HeapInuse)/(1<<20))
	}
	fmt.Fprintln(w)
	return samples, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ---- Full-text and hybrid search ----

// textResult is what the full-text section measured on one account, for
// the test: how many questions each query answered with at least one hit,
// on how many the BM25 top 10 equalled the unpruned query's, and on how
// many ChunkSearchBM25 ran the full query after the pruned one.
type textResult struct {
	Queries                      int
	TextHits, BM25Hits, Hybrid   int
	SameAsUnpruned, RanInFull    int
	BM25P, TextP, UnprunedP, Hyb [2]time.Duration
}

// textPath is one way of answering question i of an account.
type textPath struct {
	name string
	run  func(i int) ([]string, error)
}

// benchRetrievalText measures per-account full-text search on the
// accounts of cases: BM25 as Search runs it ((*store.Store).ChunkSearchBM25
// with retrieval.SearchWords of the question: pruned, and in full when the
// pruned ranking may differ) beside the ts_rank_cd query it replaced
// (ChunkSearchText with retrieval.TextQuery), back to back, question by
// question; the unpruned BM25 query, whose top 10 the pruned one must
// equal; and retrieval.Service.Search in hybrid mode end to end, as the
// API serves a question about an account. It first prints how the
// generated text's words spread over the org's chunks, since BM25's
// pruning depends on it.
func benchRetrievalText(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, gen *textModel, emb *local.Provider,
	plan loadPlan, cases []acctCase, o *retrievalOpts) (map[int]textResult, error) {
	out := map[int]textResult{}
	// Questions as people type them, not the sentences the vector
	// section embeds: short, so some hold only common words.
	cases = slices.Clone(cases)
	for i := range cases {
		a := plan.accounts[cases[i].acct]
		cases[i].texts = gen.questions(a.topics, a.weights, o.queries, o.seed*1000+uint64(cases[i].acct)+500)
	}
	svc, err := retrieval.New(retrieval.Config{Store: st, Embedder: emb, EmbedModel: emb.Model()})
	if err != nil {
		return nil, err
	}
	if err := wordSpread(ctx, w, pool, cases); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "### Per-account full-text and hybrid search (%d chunks in the table)\n\n", o.chunks)
	fmt.Fprintf(w, "%d questions per account (an opening such as \"what did we say about\" and 4–9 words drawn as the transcripts' are),\n", o.queries)
	fmt.Fprintln(w, "every path back to back per question, after 20 warm-up questions.")
	fmt.Fprintln(w, "Baseline: the query BM25 replaced, `(*store.Store).ChunkSearchText` (websearch_to_tsquery of `retrieval.TextQuery`,")
	fmt.Fprintln(w, "ranked by ts_rank_cd). BM25: `ChunkSearchBM25` with `retrieval.SearchWords`, as Search calls it (words held by more than")
	fmt.Fprintf(w, "%.0f%% of the org's chunks make no candidate; the full query runs again when the pruned ranking may differ). The unpruned\n", store.PruneShare*100)
	fmt.Fprintln(w, "query (`ChunkBM25SQL`, prune false) is the truth the pruned top 10 is compared with. Hybrid: `retrieval.Service.Search`,")
	fmt.Fprintln(w, "k 10, end to end (embed the question, vector top 50 and BM25 top 50, fusion), as the API serves a question about an account.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| account | path | p50 | p99 | p50 / p99 vs ts_rank_cd | questions with hits | top 10 = unpruned |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	var notes []string
	for _, c := range cases {
		r, note, err := measureText(ctx, w, pool, st, svc, c)
		if err != nil {
			return nil, err
		}
		out[c.target] = r
		notes = append(notes, note)
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
	return out, nil
}

// measureText runs one account's rows of the full-text table.
func measureText(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, svc *retrieval.Service, c acctCase) (textResult, string, error) {
	r := textResult{Queries: len(c.texts)}
	words := make([]string, len(c.texts))
	for i, t := range c.texts {
		words[i] = retrieval.SearchWords(t)
	}
	q50 := c.q
	q50.Limit = 50
	paths := []textPath{
		{"ts_rank_cd, top 10 (ChunkSearchText, baseline)", func(i int) ([]string, error) {
			return hitIDs(st.ChunkSearchText(ctx, c.q, retrieval.TextQuery(c.texts[i])))
		}},
		{"BM25, top 10 (ChunkSearchBM25)", func(i int) ([]string, error) { return hitIDs(st.ChunkSearchBM25(ctx, c.q, words[i])) }},
		{"BM25 unpruned, top 10 (ChunkBM25SQL, prune false)", func(i int) ([]string, error) {
			ids, _, _, err := bm25Rows(ctx, pool, c.q, words[i], false)
			return ids, err
		}},
		{"BM25, top 50 (ChunkSearchBM25, as Search asks)", func(i int) ([]string, error) { return hitIDs(st.ChunkSearchBM25(ctx, q50, words[i])) }},
		{"hybrid Search, k 10 (retrieval.Service.Search)", func(i int) ([]string, error) {
			hits, err := svc.Search(ctx, retrieval.Question{OrgID: c.q.OrgID, AccountID: c.q.AccountID, Text: c.texts[i]}, retrieval.Hybrid, 10)
			ids := make([]string, len(hits))
			for k, h := range hits {
				ids[k] = h.ID
			}
			return ids, err
		}},
	}
	for i := 0; i < min(20, len(c.texts)); i++ {
		for _, p := range paths {
			if _, err := p.run(i); err != nil {
				return r, "", fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	ts := make([][]time.Duration, len(paths))
	hits := make([]int, len(paths))
	same := make([]int, len(paths))
	for i := range c.texts {
		got := make([][]string, len(paths))
		for k, p := range paths {
			start := time.Now()
			ids, err := p.run(i)
			if err != nil {
				return r, "", fmt.Errorf("%s: %w", p.name, err)
			}
			ts[k] = append(ts[k], time.Since(start))
			got[k] = ids
			if len(ids) > 0 {
				hits[k]++
			}
		}
		if slices.Equal(got[1], got[2]) {
			same[1]++
		}
		// Whether ChunkSearchBM25 ran the full query too: its rule, on the
		// pruned query's page and bound (untimed).
		ids, scores, bound, err := bm25Rows(ctx, pool, c.q, words[i], true)
		if err != nil {
			return r, "", err
		}
		if !(len(ids) > 0 && (bound == 0 || len(ids) == c.q.Limit && scores[len(scores)-1] >= bound)) {
			r.RanInFull++
		}
	}
	ps := make([][2]time.Duration, len(paths))
	for k := range paths {
		ps[k] = pcts(ts[k])
	}
	for k, p := range paths {
		vs := "1.00 / 1.00"
		if k > 0 {
			vs = fmt.Sprintf("%.2f / %.2f", float64(ps[k][0])/float64(ps[0][0]), float64(ps[k][1])/float64(ps[0][1]))
		}
		eq := ""
		switch k {
		case 1:
			eq = fmt.Sprintf("%d of %d", same[1], len(c.texts))
		case 2:
			eq = "(is the truth)"
		}
		fmt.Fprintf(w, "| %d chunks | %s | %s | %s | %s | %d of %d | %s |\n", c.target, p.name, ms(ps[k][0]), ms(ps[k][1]), vs, hits[k], len(c.texts), eq)
	}
	r.TextHits, r.BM25Hits, r.Hybrid, r.SameAsUnpruned = hits[0], hits[1], hits[4], same[1]
	r.TextP, r.BM25P, r.UnprunedP, r.Hyb = ps[0], ps[1], ps[2], ps[4]
	note := fmt.Sprintf("%d-chunk account: ChunkSearchBM25 ran the full query after the pruned one for %d of %d questions; "+
		"BM25 top-10 p99 ≤ 20 ms: %s; hybrid Search p99 ≤ 20 ms: %s.", c.target, r.RanInFull, len(c.texts),
		verdict(ps[1][1] <= 20*time.Millisecond), verdict(ps[4][1] <= 20*time.Millisecond))
	return r, note, nil
}

// bm25Rows runs ChunkBM25SQL and returns the hits' ids and scores and the
// query's bound, scanning every column as ChunkSearchBM25 does.
func bm25Rows(ctx context.Context, pool *pgxpool.Pool, q crm.ChunkQuery, words string, prune bool) ([]string, []float64, float64, error) {
	sql, args := store.ChunkBM25SQL(q, words, prune)
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("bm25 query: %w", err)
	}
	var ids []string
	var scores []float64
	var bound float64
	var id string
	var score float64
	dest := []any{&id}
	for range 14 { // the other chunk columns
		dest = append(dest, new(any))
	}
	dest = append(dest, &score, &bound)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		ids, scores = append(ids, id), append(scores, score)
		return nil
	})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("bm25 query: %w", err)
	}
	return ids, scores, bound, nil
}

// dfBands are the bands of document frequency (the share of the org's
// chunks holding a lexeme) the word spread is printed in, highest first.
var dfBands = []struct {
	name string
	min  float64
}{{"over 50%", 0.5}, {"10–50% (pruned)", store.PruneShare}, {"1–10%", 0.01}, {"0.1–1%", 0.001}, {"under 0.1% (or none)", 0}}

// wordSpread prints how the org's lexemes spread over its chunks (from
// migration 00007's statistics) and where the questions' search words
// fall, so that a reader can tell whether pruning has common words to
// leave out and rare ones to find candidates by.
func wordSpread(ctx context.Context, w io.Writer, pool *pgxpool.Pool, cases []acctCase) error {
	org := cases[0].q.OrgID
	var n, words int64
	if err := pool.QueryRow(ctx, `SELECT chunks, words FROM chunk_stats WHERE org_id = $1`, org).Scan(&n, &words); err != nil {
		return fmt.Errorf("org statistics: %w", err)
	}
	band := func(df int64) int {
		for i, b := range dfBands {
			if float64(df) > b.min*float64(n) {
				return i
			}
		}
		return len(dfBands) - 1
	}
	lex := make([]int, len(dfBands))
	occ := make([]int64, len(dfBands))
	rows, err := pool.Query(ctx, `SELECT chunks FROM chunk_terms WHERE org_id = $1`, org)
	if err != nil {
		return fmt.Errorf("org lexemes: %w", err)
	}
	var df int64
	if _, err := pgx.ForEachRow(rows, []any{&df}, func() error {
		b := band(df)
		lex[b]++
		occ[b] += df
		return nil
	}); err != nil {
		return fmt.Errorf("org lexemes: %w", err)
	}
	var qs []string
	for _, c := range cases {
		for _, t := range c.texts {
			qs = append(qs, retrieval.SearchWords(t))
		}
	}
	rows, err = pool.Query(ctx, `SELECT q.i, coalesce(t.chunks, 0)
		FROM unnest($2::text[]) WITH ORDINALITY q(text, i), unnest(to_tsvector('english', q.text)) u
		LEFT JOIN chunk_terms t ON t.org_id = $1 AND t.lexeme = u.lexeme`, org, qs)
	if err != nil {
		return fmt.Errorf("question lexemes: %w", err)
	}
	qlex := make([]int, len(dfBands))
	rare := map[int64]bool{} // questions with a lexeme under the prune share
	var qi int64
	if _, err := pgx.ForEachRow(rows, []any{&qi, &df}, func() error {
		b := band(df)
		qlex[b]++
		if float64(df) <= store.PruneShare*float64(n) {
			rare[qi] = true
		}
		return nil
	}); err != nil {
		return fmt.Errorf("question lexemes: %w", err)
	}
	totalQ := 0
	for _, x := range qlex {
		totalQ += x
	}
	fmt.Fprintf(w, "### Word spread of the generated text (org of %d chunks, %.0f words a chunk after stop words)\n\n", n, float64(words)/float64(n))
	fmt.Fprintln(w, "Lexemes of the org's chunks (english configuration) by the share of chunks holding them, how many word occurrences")
	fmt.Fprintln(w, "(chunk-lexeme pairs) each band makes up, and the questions' search words (retrieval.SearchWords) in each band.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| chunks holding the lexeme | lexemes | share of chunk-lexeme pairs | share of question lexemes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	var totalOcc int64
	for _, x := range occ {
		totalOcc += x
	}
	for i, b := range dfBands {
		fmt.Fprintf(w, "| %s | %d | %.1f%% | %.1f%% |\n", b.name, lex[i], 100*float64(occ[i])/float64(max(totalOcc, 1)),
			100*float64(qlex[i])/float64(max(totalQ, 1)))
	}
	fmt.Fprintf(w, "\n%d of %d questions have no search word under the prune share (they can only be answered by the full query).\n\n",
		len(qs)-len(rare), len(qs))
	return nil
}
