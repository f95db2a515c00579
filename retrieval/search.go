package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/stem"
)

// Mode picks the retrieval method.
type Mode int

// Retrieval methods. Hybrid is what questions use; the others exist to
// measure it against (logbook eval).
const (
	Hybrid Mode = iota
	VectorOnly
	TextOnly
)

func (m Mode) String() string {
	switch m {
	case VectorOnly:
		return "vector"
	case TextOnly:
		return "full-text"
	}
	return "hybrid"
}

// RRFK is reciprocal rank fusion's k: a hit's fused score is the sum over
// the lists it is in of 1/(RRFK + rank), rank counted from 1. Hits a list
// scores the same share the average of the ranks they span (see fuse).
const RRFK = 60

// Hit is a chunk a search found.
type Hit struct {
	crm.Chunk
	// Score is the fused RRF score (or the single list's for one method).
	Score float64
	// VectorRank and TextRank are the hit's 1-based rank in each list (0:
	// not in it); Similarity is its cosine similarity to the question
	// (0 when the vector list did not reach it).
	VectorRank, TextRank int
	Similarity           float64
	// Coverage is the share of the question's content words the chunk has.
	Coverage float64
	// Highlights mark the question's words in Text (set by Passages).
	Highlights []Highlight
}

// candidates is how many hits each method contributes before fusion.
func candidates(k int) int { return max(50, 5*k) }

// Search returns the k chunks that best match the question, by the given
// method. The org (and the account, when the question names one) bounds
// every query; the filters apply to both lists.
func (s *Service) Search(ctx context.Context, q Question, mode Mode, k int) ([]Hit, error) {
	if k <= 0 {
		k = 10
	}
	cq := crm.ChunkQuery{OrgID: q.OrgID, AccountID: q.AccountID, Since: q.Since, Until: q.Until, Types: q.Types,
		Model: s.cfg.EmbedModel, Limit: candidates(k)}
	var vec, txt []crm.ChunkHit
	if mode != TextOnly {
		vs, err := s.cfg.Embedder.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("%w: embed question: %w", ErrUnavailable, err)
		}
		if len(vs) != 1 {
			return nil, fmt.Errorf("retrieval: embed question: got %d vectors", len(vs))
		}
		if vec, err = s.cfg.Store.ChunkSearchVector(ctx, cq, vs[0], s.cfg.EfSearch); err != nil {
			return nil, err
		}
	}
	var named map[string]bool
	if mode != VectorOnly {
		var err error
		if txt, named, err = s.textSearch(ctx, cq, q.Text); err != nil {
			return nil, err
		}
	}
	if len(named) > 0 {
		boost(vec, named)
	}
	hits := fuse(vec, txt, s.cfg.VectorWeight)
	terms, topic := contentTerms(q.Text), topicTerms(q.Text)
	for i := range hits {
		hits[i].Coverage = coverage(terms, topic, hits[i].Text)
	}
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

// fuse merges the vector and text lists by reciprocal rank fusion, the
// vector list's terms weighted by vw (the text list's by 1); equal
// fused scores go to the better vector rank, then keep the lists' order,
// so the order is stable.
//
// Hits a list scores the same are tied in that list, and tied hits share
// the average of the ranks they span (fractional ranking): BM25 gives
// chunks that hold the same question words as often, in texts of the same
// length, the same score, and the database breaks such ties by chunk id,
// so counting their positions would let ids decide the fused ranking.
func fuse(vec, txt []crm.ChunkHit, vw float64) []Hit {
	byID := map[string]*Hit{}
	var order []*Hit
	get := func(h crm.ChunkHit) *Hit {
		if x, ok := byID[h.ID]; ok {
			return x
		}
		x := &Hit{Chunk: h.Chunk}
		byID[h.ID] = x
		order = append(order, x)
		return x
	}
	vr := tiedRanks(vec)
	for i, h := range vec {
		x := get(h)
		x.VectorRank, x.Similarity = i+1, h.Score
		x.Score += vw / (RRFK + vr[i])
	}
	tr := tiedRanks(txt)
	for i, h := range txt {
		x := get(h)
		x.TextRank = i + 1
		x.Score += 1 / (RRFK + tr[i])
	}
	out := make([]Hit, len(order))
	for i, x := range order {
		out[i] = *x
	}
	slices.SortStableFunc(out, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(rankOrMax(a.VectorRank), rankOrMax(b.VectorRank))
	})
	return out
}

// tiedRanks returns the 1-based rank of each hit of a list sorted best
// first, hits with equal scores sharing the average of their positions
// (scores 0.3, 0.1, 0.1, 0.1 rank 1, 3, 3, 3).
func tiedRanks(l []crm.ChunkHit) []float64 {
	ranks := make([]float64, len(l))
	for i := 0; i < len(l); {
		j := i + 1
		for j < len(l) && l[j].Score == l[i].Score {
			j++
		}
		for k := i; k < j; k++ {
			ranks[k] = float64(i+j+1) / 2 // mean of positions i+1 … j
		}
		i = j
	}
	return ranks
}

func rankOrMax(r int) int {
	if r == 0 {
		return 1 << 30
	}
	return r
}

// textSearch is the lexical list: BM25 over the question's words. When
// the question names a speaker of the chunks found (a name or role their
// lines are labelled with: "what did the engineer think of …"), the
// naming words leave the query, which otherwise matches every line that
// speaker says rather than what was said, and the chunks are reordered
// with the share of their text that speaker says weighing in
// (speakerWeight).
//
// It returns the speakers named, whose share weighs in the vector list
// too.
func (s *Service) textSearch(ctx context.Context, cq crm.ChunkQuery, question string) ([]crm.ChunkHit, map[string]bool, error) {
	toks := questionTokens(question)
	ws := searchWords(toks, nil)
	if ws == "" {
		return nil, nil, nil
	}
	txt, err := s.cfg.Store.ChunkSearchBM25(ctx, cq, ws)
	if err != nil {
		return nil, nil, err
	}
	named, naming := namedSpeakers(toks, txt)
	if len(named) == 0 {
		return txt, nil, nil
	}
	if ws2 := searchWords(toks, naming); ws2 != ws && ws2 != "" {
		if txt, err = s.cfg.Store.ChunkSearchBM25(ctx, cq, ws2); err != nil {
			return nil, nil, err
		}
	}
	boost(txt, named)
	return txt, named, nil
}

// boost multiplies each hit's score by 1 + speakerWeight times the share
// of its text the named speakers say, and sorts the list again, best
// first.
func boost(l []crm.ChunkHit, named map[string]bool) {
	for i := range l {
		l[i].Score *= 1 + speakerWeight*speakerShare(l[i].Chunk, named)
	}
	slices.SortStableFunc(l, func(a, b crm.ChunkHit) int { return cmp.Compare(b.Score, a.Score) })
}

// speakerWeight is how much a chunk's score grows with the share of its
// text said by a speaker the question names: ×(1 + speakerWeight·share),
// so a chunk that speaker says all of counts double (on the quality dev
// set 0.5 and 2 did a little worse than 1).
const speakerWeight = 1.0

// token is a word of a question as written.
type token struct {
	word string // as written
	low  string // lower-case
}

func questionTokens(question string) []token {
	var out []token
	for _, w := range strings.FieldsFunc(question, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.Trim(w, "'")
		if i := strings.Index(w, "'"); i > 0 { // possessive or contraction: "Maya's"
			w = w[:i]
		}
		if w != "" {
			out = append(out, token{word: w, low: strings.ToLower(w)})
		}
	}
	return out
}

// searchWords are the words of a question that full-text search looks
// for: all but the ones that ask rather than name a subject (askWords)
// and the ones at positions in skip.
func searchWords(toks []token, skip map[int]bool) string {
	var out []string
	for i, t := range toks {
		if skip[i] || t.low == "or" || askWords[stem.Word(t.low)] {
			continue
		}
		out = append(out, t.word)
	}
	return strings.Join(out, " ")
}

// SearchWords are the words of a question that full-text search looks
// for (searchWords): what Search gives store.ChunkSearchBM25, for a tool
// that runs that query as Search does (the BM25 latency measurements).
func SearchWords(question string) string { return searchWords(questionTokens(question), nil) }

// sameWord reports whether a question's word names a label's word: equal,
// or one a prefix of the other of at least four letters ("engineering"
// names "engineer").
func sameWord(q, label string) bool {
	if q == label {
		return true
	}
	short, long := q, label
	if len(short) > len(long) {
		short, long = long, short
	}
	return len(short) >= 4 && strings.HasPrefix(long, short) && len(long)-len(short) <= 3
}

// namedSpeakers returns the speakers of hits' lines that the question
// names, and the positions of the question's words that name them. A
// speaker is named by their whole label as a phrase ("Sales Engineer",
// "Maya Patel", the last word's ending aside), or by its first word alone
// when the question writes that word capitalised after its first word
// ("what did Maya say").
func namedSpeakers(toks []token, hits []crm.ChunkHit) (map[string]bool, map[int]bool) {
	labels := map[string]bool{}
	for _, h := range hits {
		for _, l := range h.Lines {
			if l.Speaker != nil && *l.Speaker != "" {
				labels[*l.Speaker] = true
			}
		}
	}
	named, naming := map[string]bool{}, map[int]bool{}
	for label := range labels {
		lw := words(label)
		if len(lw) == 0 {
			continue
		}
		for i := range toks {
			n := 0
			for n < len(lw) && i+n < len(toks) && sameWord(toks[i+n].low, lw[n]) {
				n++
			}
			first := n >= 1 && i > 0 && len(lw[0]) >= 3 && !stopWords[lw[0]] && unicode.IsUpper([]rune(toks[i].word)[0])
			if n == len(lw) || first {
				named[label] = true
				for j := i; j < i+max(n, 1); j++ {
					naming[j] = true
				}
			}
		}
	}
	return named, naming
}

// speakerShare is the share of a chunk's text (in bytes) in lines said by
// one of the named speakers.
func speakerShare(c crm.Chunk, named map[string]bool) float64 {
	if len(c.Text) == 0 {
		return 0
	}
	said := 0
	for i, l := range c.Lines {
		end := len(c.Text)
		if i+1 < len(c.Lines) {
			end = c.Lines[i+1].Offset
		}
		if l.Speaker != nil && named[*l.Speaker] && end > l.Offset {
			said += end - l.Offset
		}
	}
	return float64(said) / float64(len(c.Text))
}

// askWords (stemmed) are the words a question is asked with whatever it
// is about: verbs of saying and thinking, the names of a talk and of the
// people in it, and summary requests. They are general English; said in
// a meeting they are as often talk about talk ("as we discussed") as the
// subject, so a chunk holding them is no likelier to answer.
var askWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`discuss discussed discussing discussion discussions talk talked talking
		think thinks thought say says said saying tell told mention mentioned mentions
		summarize summarise summarized summary describe described explain explained
		opinion opinions view views feel felt
		group groups team teams meeting meetings everyone everybody people member members
		mainly main overall specifically particular generally`) {
		m[stem.Word(w)] = true
	}
	return m
}()

// TextQuery turns a question into the websearch_to_tsquery query full-text
// search ran before BM25: one that matches any of its words ("what did we
// promise about SSO" → "what or did or we or promise or about or SSO"),
// ranked by ts_rank_cd (store.ChunkSearchText). Search no longer calls it;
// it stays with ChunkSearchText as the ranking BM25 is measured against.
func TextQuery(question string) string {
	var words []string
	for _, w := range strings.FieldsFunc(question, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.Trim(w, "'")
		if w == "" || strings.EqualFold(w, "or") {
			continue
		}
		words = append(words, w)
	}
	return strings.Join(words, " or ")
}

// stopWords carry no topic: a question's other words are its content.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at by for with about from into over after before
		is are was were be been being am do does did done have has had having will would shall should can could may might must
		i me my we us our you your he him his she her it its they them their this that these those there here
		what which who whom whose when where why how not no yes any all some each every more most other such than too very
		so just also only then again ever up down out off own same both few nor s t don now ask asked say said tell told
		anything something everything thing things anyone someone get got give gave go went make made let lets know knew`) {
		m[w] = true
	}
	return m
}()

func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// contentTerms are the distinct stemmed non-stop words of text.
func contentTerms(text string) []string {
	var out []string
	for _, w := range words(text) {
		if stopWords[w] || len(w) < 2 {
			continue
		}
		if s := stem.Word(w); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// topicTerms are the content terms of the question's subject (the words
// after its last "about", stem.Subject): what an answer must be about.
func topicTerms(question string) []string {
	if ws := stem.Subject(words(question)); len(ws) > 0 {
		return contentTerms(strings.Join(ws, " "))
	}
	return nil
}

// coverage is the share of terms that occur in text, the question's
// subject (topic, a subset of terms) counting twice: a chunk about the
// subject answers "what did we promise Acme about SSO?" more than one
// that says "promise" and "Acme".
func coverage(terms, topic []string, text string) float64 {
	if len(terms) == 0 {
		return 0
	}
	have := map[string]bool{}
	for _, w := range words(text) {
		have[stem.Word(w)] = true
	}
	n, total := 0, 0
	for _, t := range terms {
		w := 1
		if slices.Contains(topic, t) {
			w = 2
		}
		total += w
		if have[t] {
			n += w
		}
	}
	return float64(n) / float64(total)
}
