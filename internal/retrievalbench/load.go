package retrievalbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// Loading the retrieval bench's database: the plan of accounts, the
// parallel generate-chunk-embed-COPY load and the index builds.

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
func newLoadPlan(m *textModel, o *Options) loadPlan {
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
	model string, plan loadPlan, o *Options) ([2]string, []string, error) {
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
func (o *Options) hnswOptions() string {
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
func buildIndexes(ctx context.Context, w io.Writer, pool *pgxpool.Pool, o *Options, defs []indexDef) error {
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
	plan loadPlan, orgs [2]string, ids []string, o *Options) error {
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
