package quality

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Item is one retrieved passage (or citation) of a ranked list. It names
// its meeting and says what it covers in exactly one of three ways, tried
// in this order: Turns (turn indices), StartMS/EndMS (a time range, mapped
// through the turn index), or Text (the passage's words, mapped to the
// turns it contains).
type Item struct {
	MeetingID string `json:"meeting_id"`
	Turns     []int  `json:"turns,omitempty"`
	StartMS   *int64 `json:"start_ms,omitempty"`
	EndMS     *int64 `json:"end_ms,omitempty"`
	Text      string `json:"text,omitempty"`
}

// TurnsItem is an item covering the given turns.
func TurnsItem(meetingID string, turns []int) Item {
	if turns == nil {
		turns = []int{}
	}
	return Item{MeetingID: meetingID, Turns: turns}
}

// TimeItem is an item covering the time range [startMS, endMS).
func TimeItem(meetingID string, startMS, endMS int64) Item {
	return Item{MeetingID: meetingID, StartMS: &startMS, EndMS: &endMS}
}

// TextItem is an item covering the turns its text contains.
func TextItem(meetingID, text string) Item {
	return Item{MeetingID: meetingID, Text: text}
}

// Run maps a query id to its retrieved items, best first. A query absent
// from the run counts as one with nothing retrieved (and as "missing").
type Run map[string][]Item

// DefaultKs returns score_retrieval.py's default cut-offs (--ks 1,3,5,10).
func DefaultKs() []int { return []int{1, 3, 5, 10} }

// AtK are one query's (or the mean) figures over the top K items.
type AtK struct {
	K int
	// TurnRecall is the share of the question's gold turns covered by the
	// top K items.
	TurnRecall float64
	// Hit is 1 when the top K items cover any gold turn (for a mean: the
	// share of questions where they do).
	Hit float64
	// MtgHit is 1 when any of the top K items is from the question's
	// meeting, covering a gold turn or not (it matters for account scope).
	MtgHit float64
	// Words is the number of transcript words (of the question's meeting)
	// the top K items cover: the reading budget the ranking spends.
	Words float64
}

// QueryScore is one question's row (score_retrieval.py --per-query).
type QueryScore struct {
	QID, Domain string
	// Missing is true when the run has no entry for the question.
	Missing bool
	// MRR is the reciprocal rank of the first item covering a gold turn
	// (0 when none does).
	MRR float64
	AtK []AtK
}

// RetrievalSummary is the mean of QueryScores (macro average over
// questions), as score_retrieval.py computes it; values are unrounded
// (the script prints them rounded to 4 places).
type RetrievalSummary struct {
	// N is the number of questions; Missing how many had no run entry.
	N, Missing int
	MRR        float64
	AtK        []AtK
}

// At returns the figures at cut-off k, and whether k was scored.
func (s RetrievalSummary) At(k int) (AtK, bool) {
	for _, a := range s.AtK {
		if a.K == k {
			return a, true
		}
	}
	return AtK{}, false
}

// RetrievalReport is score_retrieval.py score's output.
type RetrievalReport struct {
	// All is over every question; Domains per domain (sorted in
	// DomainOrder).
	All         RetrievalSummary
	Domains     map[string]RetrievalSummary
	DomainOrder []string
	// Queries are the per-question rows in the gold file's order.
	Queries []QueryScore
}

// ScoreRetrieval scores a run against the dev set's retrieval gold exactly
// as `score_retrieval.py score` does with --meetings and --turn-index given.
// Only items from the question's own meeting can cover its turns. Nil ks
// means DefaultKs. An item
// with neither turns, a time range nor text, or with only one end of its
// time range (start_ms without end_ms), is an error (the script stops on it
// too), as is an item naming a negative turn.
func ScoreRetrieval(ds *DevSet, run Run, ks []int) (RetrievalReport, error) {
	if len(ks) == 0 {
		ks = DefaultKs()
	}
	words := map[string][]int{}
	textTurns := map[string][][]string{}
	for _, m := range ds.Meetings {
		w := make([]int, len(m.Turns))
		tt := make([][]string, len(m.Turns))
		for i, t := range m.Turns {
			tt[i] = retrievalTokens(t.Content)
			w[i] = len(tt[i])
		}
		words[m.ID], textTurns[m.ID] = w, tt
	}
	var rep RetrievalReport
	for _, g := range ds.Retrieval {
		items, ok := run[g.QID]
		gt := map[int]bool{}
		for _, t := range g.RelevantTurns {
			gt[t] = true
		}
		row := QueryScore{QID: g.QID, Domain: g.Domain, Missing: !ok}
		covs := make([]map[int]bool, len(items))
		first := 0
		for r, it := range items {
			c := map[int]bool{}
			if it.MeetingID == g.MeetingID {
				var err error
				if c, err = coveredByItem(it, textTurns[it.MeetingID], ds.TurnIndex[it.MeetingID]); err != nil {
					return RetrievalReport{}, fmt.Errorf("quality: score retrieval: query %s item %d: %w", g.QID, r+1, err)
				}
			}
			covs[r] = c
			if first == 0 && intersects(c, gt) {
				first = r + 1
			}
		}
		if first > 0 {
			row.MRR = 1.0 / float64(first)
		}
		for _, k := range ks {
			cov := map[int]bool{}
			mtg := 0.0
			for r := 0; r < k && r < len(items); r++ {
				for i := range covs[r] {
					cov[i] = true
				}
				if items[r].MeetingID == g.MeetingID {
					mtg = 1
				}
			}
			a := AtK{K: k, MtgHit: mtg}
			inter := 0
			w := words[g.MeetingID]
			for i := range cov {
				if gt[i] {
					inter++
				}
				if i < len(w) {
					a.Words += float64(w[i])
				}
			}
			a.TurnRecall = float64(inter) / float64(len(gt))
			if inter > 0 {
				a.Hit = 1
			}
			row.AtK = append(row.AtK, a)
		}
		rep.Queries = append(rep.Queries, row)
	}
	rep.All = summarize(rep.Queries, ks)
	byDom := map[string][]QueryScore{}
	for _, q := range rep.Queries {
		byDom[q.Domain] = append(byDom[q.Domain], q)
	}
	rep.Domains = map[string]RetrievalSummary{}
	for d, qs := range byDom {
		rep.Domains[d] = summarize(qs, ks)
		rep.DomainOrder = append(rep.DomainOrder, d)
	}
	sort.Strings(rep.DomainOrder)
	return rep, nil
}

func summarize(rows []QueryScore, ks []int) RetrievalSummary {
	s := RetrievalSummary{N: len(rows)}
	if len(rows) == 0 {
		return s
	}
	col := func(f func(QueryScore) float64) float64 {
		xs := make([]float64, len(rows))
		for i, r := range rows {
			xs[i] = f(r)
		}
		return mean(xs)
	}
	s.MRR = col(func(r QueryScore) float64 { return r.MRR })
	for j, k := range ks {
		s.AtK = append(s.AtK, AtK{
			K:          k,
			TurnRecall: col(func(r QueryScore) float64 { return r.AtK[j].TurnRecall }),
			Hit:        col(func(r QueryScore) float64 { return r.AtK[j].Hit }),
			MtgHit:     col(func(r QueryScore) float64 { return r.AtK[j].MtgHit }),
			Words:      col(func(r QueryScore) float64 { return r.AtK[j].Words }),
		})
	}
	for _, r := range rows {
		if r.Missing {
			s.Missing++
		}
	}
	return s
}

func intersects(a, b map[int]bool) bool {
	for i := range a {
		if b[i] {
			return true
		}
	}
	return false
}

// coveredByItem is score_retrieval.py's covered_turns for an item of the
// question's meeting; turns are that meeting's turns as retrieval tokens.
func coveredByItem(it Item, turns [][]string, tindex []TurnTime) (map[int]bool, error) {
	out := map[int]bool{}
	switch {
	case it.Turns != nil:
		for _, t := range it.Turns {
			if t < 0 {
				return nil, fmt.Errorf("negative turn %d", t)
			}
			out[t] = true
		}
	case it.StartMS != nil:
		if it.EndMS == nil {
			return nil, fmt.Errorf("time range needs end_ms as well as start_ms")
		}
		s, e := *it.StartMS, *it.EndMS
		for _, r := range tindex {
			if r.StartMS < e && r.EndMS > s {
				out[r.I] = true
			}
		}
	case it.Text != "":
		if turns == nil {
			return nil, fmt.Errorf("meeting %s is not in the dev set", it.MeetingID)
		}
		chunk := " " + strings.Join(retrievalTokens(it.Text), " ") + " "
		in := func(x []string) bool { return strings.Contains(chunk, " "+strings.Join(x, " ")+" ") }
		for i, x := range turns {
			if len(x) >= 8 {
				h := (len(x) + 1) / 2 // a turn split across chunks counts where half of it is
				if in(x[:h]) || in(x[len(x)-h:]) {
					out[i] = true
				}
			} else if len(x) >= 4 && in(x) {
				out[i] = true
			}
		}
		for i, x := range turns { // short turns ("yeah .") only next to a covered long turn
			if len(x) > 0 && len(x) < 4 && in(x) && (out[i-1] || out[i+1]) {
				out[i] = true
			}
		}
	default:
		return nil, fmt.Errorf("item covers nothing: it needs turns, start_ms and end_ms, or text")
	}
	return out, nil
}

// Scope is the set of chunks a BM25 question searches.
type Scope string

// Scopes of BM25Run, as score_retrieval.py bm25 --scope.
const (
	// ScopeMeeting searches the question's own meeting only.
	ScopeMeeting Scope = "meeting"
	// ScopeAccount searches every meeting of the question's account.
	ScopeAccount Scope = "account"
	// ScopeAll searches every meeting of the dev set.
	ScopeAll Scope = "all"
)

// AccountOf is score_retrieval.py's account_of: the account a meeting id
// belongs to for account scope (one AMI team, e.g. ES2006a → ES2006; one
// ICSI series; one committee).
func AccountOf(meetingID string) string {
	if len(meetingID) >= 2 && (strings.HasPrefix(meetingID, "ES") || strings.HasPrefix(meetingID, "IS") || strings.HasPrefix(meetingID, "TS")) {
		return meetingID[:len(meetingID)-1]
	}
	if strings.HasPrefix(meetingID, "B") {
		return meetingID[:min(3, len(meetingID))]
	}
	return strings.SplitN(meetingID, "_", 2)[0]
}

type bm25Chunk struct {
	meetingID string
	turns     []int
	toks      []string
}

// BM25Run is the baseline of `score_retrieval.py bm25`: every meeting is cut
// into chunks of whole turns, a chunk closing once it holds chunkWords
// tokens or more (speaker and words), and each question ranks the chunks in
// its scope by Okapi BM25 (k1 1.2, b 0.75, idf log(1 + (N-df+0.5)/(df+0.5))
// over the scope's chunks), keeping the top items (ties keep chunk order).
// The script's defaults are chunkWords 250 and top 20.
func BM25Run(ds *DevSet, scope Scope, chunkWords, top int) (Run, error) {
	if scope != ScopeMeeting && scope != ScopeAccount && scope != ScopeAll {
		return nil, fmt.Errorf("quality: bm25: unknown scope %q (want meeting, account or all)", scope)
	}
	if chunkWords <= 0 || top <= 0 {
		return nil, fmt.Errorf("quality: bm25: chunk words %d and top %d must be positive", chunkWords, top)
	}
	var chunks []bm25Chunk
	for _, m := range ds.Meetings {
		var cur []int
		var curT []string
		for _, t := range m.Turns {
			cur = append(cur, t.I)
			curT = append(curT, retrievalTokens(t.Speaker+" "+t.Content)...)
			if len(curT) >= chunkWords {
				chunks = append(chunks, bm25Chunk{m.ID, cur, curT})
				cur, curT = nil, nil
			}
		}
		if len(cur) > 0 {
			chunks = append(chunks, bm25Chunk{m.ID, cur, curT})
		}
	}
	rankers := map[string]*bm25Ranker{}
	run := Run{}
	for _, g := range ds.Retrieval {
		var key string
		switch scope {
		case ScopeMeeting:
			key = g.MeetingID
		case ScopeAccount:
			key = AccountOf(g.MeetingID)
		default:
			key = "all"
		}
		rk, ok := rankers[key]
		if !ok {
			var idx []int
			for i, c := range chunks {
				if scope == ScopeAll || (scope == ScopeMeeting && c.meetingID == key) || (scope == ScopeAccount && AccountOf(c.meetingID) == key) {
					idx = append(idx, i)
				}
			}
			rk = newBM25Ranker(chunks, idx)
			rankers[key] = rk
		}
		var items []Item
		for _, i := range rk.rank(g.Query, top) {
			items = append(items, TurnsItem(chunks[i].meetingID, append([]int(nil), chunks[i].turns...)))
		}
		if items == nil {
			items = []Item{}
		}
		run[g.QID] = items
	}
	return run, nil
}

type bm25Ranker struct {
	chunks []bm25Chunk
	idx    []int
	n      int
	avgdl  float64
	df     map[string]int
	tfs    []map[string]int // parallel to idx
}

func newBM25Ranker(chunks []bm25Chunk, idx []int) *bm25Ranker {
	r := &bm25Ranker{chunks: chunks, idx: idx, n: len(idx), df: map[string]int{}}
	total := 0
	for _, i := range idx {
		total += len(chunks[i].toks)
		tf := map[string]int{}
		for _, w := range chunks[i].toks {
			tf[w]++
		}
		for w := range tf {
			r.df[w]++
		}
		r.tfs = append(r.tfs, tf)
	}
	r.avgdl = float64(total) / float64(max(r.n, 1))
	return r
}

// rank returns the top chunk indices for a query. The arithmetic follows
// the script's expression term by term (explicit conversions keep the
// compiler from fusing multiply-adds), so scores and ties are the same.
func (r *bm25Ranker) rank(q string, top int) []int {
	qt := retrievalTokens(q)
	type scored struct {
		s float64
		i int
	}
	sc := make([]scored, 0, len(r.idx))
	for k, i := range r.idx {
		tf := r.tfs[k]
		dl := float64(len(r.chunks[i].toks))
		s := 0.0
		for _, w := range qt {
			f := tf[w]
			if f == 0 {
				continue
			}
			df := r.df[w]
			idf := math.Log(1 + (float64(r.n-df)+0.5)/(float64(df)+0.5))
			num := float64(float64(idf*float64(f)) * 2.2)
			lenNorm := float64(0.75*dl) / r.avgdl
			den := float64(f) + float64(1.2*((1-0.75)+lenNorm))
			s += num / den
		}
		sc = append(sc, scored{s, i})
	}
	sort.SliceStable(sc, func(a, b int) bool { return sc[a].s > sc[b].s })
	out := make([]int, 0, min(top, len(sc)))
	for _, x := range sc[:min(top, len(sc))] {
		out = append(out, x.i)
	}
	return out
}
