package retrievalbench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// Per-account full-text and hybrid search in the retrieval bench.

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
//
// The unpruned query and the prune share are the store's own, learned
// from the statements ChunkSearchBM25 sends (learnBM25).
func benchRetrievalText(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, gen *textModel, emb *local.Provider,
	plan loadPlan, cases []acctCase, o *Options) (map[int]textResult, error) {
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
	forms, err := learnBM25(ctx, pool, cases[0].q)
	if err != nil {
		return nil, err
	}
	if err := wordSpread(ctx, w, pool, cases, forms.share); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "### Per-account full-text and hybrid search (%d chunks in the table)\n\n", o.chunks)
	fmt.Fprintf(w, "%d questions per account (an opening such as \"what did we say about\" and 4–9 words drawn as the transcripts' are),\n", o.queries)
	fmt.Fprintln(w, "every path back to back per question, after 20 warm-up questions.")
	fmt.Fprintln(w, "Baseline: the query BM25 replaced, `(*store.Store).ChunkSearchText` (websearch_to_tsquery of `retrieval.TextQuery`,")
	fmt.Fprintln(w, "ranked by ts_rank_cd). BM25: `ChunkSearchBM25` with `retrieval.SearchWords`, as Search calls it (words held by more than")
	fmt.Fprintf(w, "%.0f%% of the org's chunks make no candidate; the full query runs again when the pruned ranking may differ). The unpruned\n", forms.share*100)
	fmt.Fprintln(w, "query (ChunkSearchBM25's full query, for every question) is the truth the pruned top 10 is compared with. Hybrid: `retrieval.Service.Search`,")
	fmt.Fprintln(w, "k 10, end to end (embed the question, vector top 50 and BM25 top 50, fusion), as the API serves a question about an account.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| account | path | p50 | p99 | p50 / p99 vs ts_rank_cd | questions with hits | top 10 = unpruned |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	var notes []string
	for _, c := range cases {
		r, note, err := measureText(ctx, w, pool, st, svc, forms, c)
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
func measureText(ctx context.Context, w io.Writer, pool *pgxpool.Pool, st *store.Store, svc *retrieval.Service, forms bm25Forms,
	c acctCase) (textResult, string, error) {
	r := textResult{Queries: len(c.texts)}
	words := make([]string, len(c.texts))
	for i, t := range c.texts {
		words[i] = retrieval.SearchWords(t)
	}
	// Untimed, per question: whether ChunkSearchBM25 ran the full query
	// after the pruned one (it sent two statements), and the full form of
	// the pruned statement it sent, the truth the table times too.
	rec := newRecorder(pool)
	unpruned := make([]stmt, len(c.texts))
	for i := range c.texts {
		if _, err := store.New(rec).ChunkSearchBM25(ctx, c.q, words[i]); err != nil {
			return r, "", err
		}
		sent := rec.take()
		if len(sent) == 0 {
			return r, "", fmt.Errorf("ChunkSearchBM25 sent no statement")
		}
		if len(sent) == 2 {
			r.RanInFull++
		}
		var err error
		if unpruned[i], err = forms.full.apply(sent[0]); err != nil {
			return r, "", fmt.Errorf("the unpruned BM25 query: %w", err)
		}
	}
	q50 := c.q
	q50.Limit = 50
	paths := []textPath{
		{"ts_rank_cd, top 10 (ChunkSearchText, baseline)", func(i int) ([]string, error) {
			return hitIDs(st.ChunkSearchText(ctx, c.q, retrieval.TextQuery(c.texts[i])))
		}},
		{"BM25, top 10 (ChunkSearchBM25)", func(i int) ([]string, error) { return hitIDs(st.ChunkSearchBM25(ctx, c.q, words[i])) }},
		{"BM25 unpruned, top 10 (ChunkSearchBM25's full query)", func(i int) ([]string, error) {
			return bm25IDs(ctx, pool, unpruned[i])
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

// bm25Forms is what the bench knows of the query ChunkSearchBM25 sends.
type bm25Forms struct {
	// full turns the pruned statement into the full (unpruned) one.
	full stmtDiff
	// share is the prune share: lexemes held by more than this share of
	// the org's chunks make no candidate in the pruned query.
	share float64
}

// bm25Probe is a word no generated chunk holds (the generator's words all
// have vowels).
const bm25Probe = "zqxjv"

// learnBM25 learns the two forms of ChunkSearchBM25's query from the
// store itself: asked for a word no chunk holds, the pruned query finds
// nothing, so ChunkSearchBM25 runs the full query after it, and the two
// statements it sends differ in the prune share alone (the full query's
// share takes every lexeme).
func learnBM25(ctx context.Context, pool *pgxpool.Pool, q crm.ChunkQuery) (bm25Forms, error) {
	rec := newRecorder(pool)
	if _, err := store.New(rec).ChunkSearchBM25(ctx, q, bm25Probe); err != nil {
		return bm25Forms{}, err
	}
	sent := rec.take()
	if len(sent) != 2 {
		return bm25Forms{}, fmt.Errorf("ChunkSearchBM25 sent %d statement(s) for a word no chunk holds, want 2 (pruned, then full)", len(sent))
	}
	d, err := diffStmts(sent[0], sent[1])
	if err != nil {
		return bm25Forms{}, fmt.Errorf("the pruned and the full BM25 query: %w", err)
	}
	f := bm25Forms{full: d, share: -1}
	for i := range d.args {
		if v, ok := sent[0].args[i].(float64); ok && len(d.args) == 1 {
			f.share = v
		}
	}
	if f.share < 0 {
		return bm25Forms{}, fmt.Errorf("the pruned and the full BM25 query differ in %d argument(s), not in one share", len(d.args))
	}
	return f, nil
}

// bm25IDs runs a BM25 statement of the store and returns the hits' ids,
// scanning every column as ChunkSearchBM25 does.
func bm25IDs(ctx context.Context, pool *pgxpool.Pool, s stmt) ([]string, error) {
	rows, err := pool.Query(ctx, s.sql, s.args...)
	if err != nil {
		return nil, fmt.Errorf("bm25 query: %w", err)
	}
	var ids []string
	var id string
	dest := []any{&id}
	for range len(rows.FieldDescriptions()) - 1 { // the other columns
		dest = append(dest, new(any))
	}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bm25 query: %w", err)
	}
	return ids, nil
}

// dfBand is a band of document frequency (the share of the org's chunks
// holding a lexeme): those above min.
type dfBand struct {
	name string
	min  float64
}

// dfBands are the bands the word spread is printed in, highest first;
// share is the prune share.
func dfBands(share float64) []dfBand {
	return []dfBand{{"over 50%", 0.5}, {fmt.Sprintf("%g–50%% (pruned)", share*100), share},
		{fmt.Sprintf("1–%g%%", share*100), 0.01}, {"0.1–1%", 0.001}, {"under 0.1% (or none)", 0}}
}

// wordSpread prints how the org's lexemes spread over its chunks (from
// migration 00007's statistics) and where the questions' search words
// fall, so that a reader can tell whether pruning has common words to
// leave out and rare ones to find candidates by.
func wordSpread(ctx context.Context, w io.Writer, pool *pgxpool.Pool, cases []acctCase, share float64) error {
	bands := dfBands(share)
	org := cases[0].q.OrgID
	var n, words int64
	if err := pool.QueryRow(ctx, `SELECT chunks, words FROM chunk_stats WHERE org_id = $1`, org).Scan(&n, &words); err != nil {
		return fmt.Errorf("org statistics: %w", err)
	}
	band := func(df int64) int {
		for i, b := range bands {
			if float64(df) > b.min*float64(n) {
				return i
			}
		}
		return len(bands) - 1
	}
	lex := make([]int, len(bands))
	occ := make([]int64, len(bands))
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
	qlex := make([]int, len(bands))
	rare := map[int64]bool{} // questions with a lexeme under the prune share
	var qi int64
	if _, err := pgx.ForEachRow(rows, []any{&qi, &df}, func() error {
		b := band(df)
		qlex[b]++
		if float64(df) <= share*float64(n) {
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
	for i, b := range bands {
		fmt.Fprintf(w, "| %s | %d | %.1f%% | %.1f%% |\n", b.name, lex[i], 100*float64(occ[i])/float64(max(totalOcc, 1)),
			100*float64(qlex[i])/float64(max(totalQ, 1)))
	}
	fmt.Fprintf(w, "\n%d of %d questions have no search word under the prune share (they can only be answered by the full query).\n\n",
		len(qs)-len(rare), len(qs))
	return nil
}
