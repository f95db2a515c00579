package quality

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// PRF is a precision, recall and F1 triple in [0, 1].
type PRF struct {
	P, R, F float64
}

// RougeScores are one prediction's ROUGE scores against one reference.
type RougeScores struct {
	// Rouge1 and Rouge2 compare the unigrams and bigrams the two texts
	// share (clipped counts): precision over the prediction's, recall over
	// the reference's.
	Rouge1, Rouge2 PRF
	// RougeL is the longest common subsequence of the two whole texts,
	// over the prediction's and the reference's lengths.
	RougeL PRF
	// RougeLsum is the summary-level LCS: for each reference sentence, the
	// union of its LCS with every predicted sentence, each word counted at
	// most as often as it occurs on both sides (the ROUGE-L that QMSum and
	// most papers report).
	RougeLsum PRF
}

// nonWordRE is what rouge.py turns into spaces.
var nonWordRE = regexp.MustCompile(`[^a-z0-9]+`)

// RougeTokens is rouge.py's tokens: lowercase, anything but [a-z0-9]
// becomes a space, split; with stem, words longer than three letters are
// reduced by PorterStem.
func RougeTokens(text string, stem bool) []string {
	toks := strings.Fields(nonWordRE.ReplaceAllString(strings.ToLower(text), " "))
	if stem {
		for i, t := range toks {
			if len(t) > 3 {
				toks[i] = PorterStem(t)
			}
		}
	}
	return toks
}

// Rouge scores a prediction against a reference exactly as rouge.py's
// score does; stem is rouge.py with NLTK importable, !stem is rouge.py
// without NLTK (or --no-stem).
func Rouge(reference, prediction string, stem bool) RougeScores {
	r, p := RougeTokens(reference, stem), RougeTokens(prediction, stem)
	return RougeScores{
		Rouge1:    rougeN(r, p, 1),
		Rouge2:    rougeN(r, p, 2),
		RougeL:    prf(lcsLen(r, p), len(p), len(r)),
		RougeLsum: rougeLsum(reference, prediction, stem),
	}
}

func prf(overlap, nPred, nRef int) PRF {
	var s PRF
	if nPred > 0 {
		s.P = float64(overlap) / float64(nPred)
	}
	if nRef > 0 {
		s.R = float64(overlap) / float64(nRef)
	}
	if s.P+s.R != 0 {
		s.F = float64(float64(2*s.P)*s.R) / (s.P + s.R)
	}
	return s
}

func ngrams(toks []string, n int) map[string]int {
	c := map[string]int{}
	for i := 0; i+n <= len(toks); i++ {
		c[strings.Join(toks[i:i+n], "\x00")]++
	}
	return c
}

func rougeN(ref, pred []string, n int) PRF {
	a, b := ngrams(ref, n), ngrams(pred, n)
	ov, na, nb := 0, 0, 0
	for k, v := range a {
		ov += min(v, b[k])
		na += v
	}
	for _, v := range b {
		nb += v
	}
	return prf(ov, nb, na)
}

func lcsLen(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for _, x := range a {
		cur[0] = 0
		for j, y := range b {
			if x == y {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lcsIndices returns the indices in ref of one LCS of ref and can, the one
// rouge.py's backtrack picks (on a tie it moves up in ref first).
func lcsIndices(ref, can []string) []int {
	t := make([][]int, len(ref)+1)
	for i := range t {
		t[i] = make([]int, len(can)+1)
	}
	for i := 1; i <= len(ref); i++ {
		for j := 1; j <= len(can); j++ {
			if ref[i-1] == can[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	var idx []int
	for i, j := len(ref), len(can); i > 0 && j > 0; {
		switch {
		case ref[i-1] == can[j-1]:
			idx = append(idx, i-1)
			i, j = i-1, j-1
		case t[i-1][j] >= t[i][j-1]:
			i--
		default:
			j--
		}
	}
	return idx
}

// pySpace is Python's str.isspace (what \s matches in a str pattern).
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// splitSentences is rouge.py's SENT.split: a break is whitespace after
// '.', '!' or '?', or a run of newlines.
func splitSentences(s string) []string {
	rs := []rune(s)
	var out []string
	start := 0
	for i := 0; i < len(rs); {
		end := i
		if i > 0 && strings.ContainsRune(".!?", rs[i-1]) && pySpace(rs[i]) {
			for end < len(rs) && pySpace(rs[end]) {
				end++
			}
		} else if rs[i] == '\n' {
			for end < len(rs) && rs[end] == '\n' {
				end++
			}
		}
		if end == i {
			i++
			continue
		}
		out = append(out, string(rs[start:i]))
		start, i = end, end
	}
	return append(out, string(rs[start:]))
}

func sentenceTokens(text string, stem bool) [][]string {
	var out [][]string
	for _, s := range splitSentences(text) {
		if strings.TrimFunc(s, pySpace) == "" {
			continue
		}
		if t := RougeTokens(s, stem); len(t) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func rougeLsum(reference, prediction string, stem bool) PRF {
	rs, cs := sentenceTokens(reference, stem), sentenceTokens(prediction, stem)
	m, n := 0, 0
	cr, cc := map[string]int{}, map[string]int{}
	for _, x := range rs {
		m += len(x)
		for _, t := range x {
			cr[t]++
		}
	}
	for _, x := range cs {
		n += len(x)
		for _, t := range x {
			cc[t]++
		}
	}
	if m == 0 || n == 0 {
		return PRF{}
	}
	hits := 0
	for _, r := range rs {
		set := map[int]bool{}
		for _, c := range cs {
			for _, i := range lcsIndices(r, c) {
				set[i] = true
			}
		}
		union := make([]int, 0, len(set))
		for i := range set {
			union = append(union, i)
		}
		sort.Ints(union)
		for _, i := range union {
			t := r[i]
			if cc[t] > 0 && cr[t] > 0 {
				hits++
				cc[t]--
				cr[t]--
			}
		}
	}
	return prf(hits, n, m)
}

// SummaryReport is rouge.py's output: the mean scores over the summary
// queries that have a prediction.
type SummaryReport struct {
	// Pairs is the number of scored (reference, prediction) pairs; Refs the
	// number of references; Missing the queries without a prediction.
	Pairs, Refs int
	Missing     []string
	// Stemming says whether words were Porter-stemmed.
	Stemming bool
	// MeanPoints are the mean scores in points (×100, computed as rouge.py
	// does: 100·sum/pairs), unrounded; rouge.py prints them rounded to 2
	// places.
	MeanPoints RougeScores
	// PerQuery has each scored query's scores, keyed by qid.
	PerQuery map[string]RougeScores
}

// ScoreSummaries scores predicted summaries (keyed by summary query id,
// e.g. "ES2006a/g0") against the dev set's references as rouge.py does.
func ScoreSummaries(ds *DevSet, preds map[string]string, stem bool) SummaryReport {
	rep := SummaryReport{Refs: len(ds.Summaries), Stemming: stem, PerQuery: map[string]RougeScores{}}
	var tot [4]PRF
	for _, q := range ds.Summaries {
		p, ok := preds[q.QID]
		if !ok {
			rep.Missing = append(rep.Missing, q.QID)
			continue
		}
		s := Rouge(q.Reference, p, stem)
		rep.PerQuery[q.QID] = s
		for i, x := range []PRF{s.Rouge1, s.Rouge2, s.RougeL, s.RougeLsum} {
			tot[i].P += x.P
			tot[i].R += x.R
			tot[i].F += x.F
		}
		rep.Pairs++
	}
	sort.Strings(rep.Missing)
	d := float64(max(rep.Pairs, 1))
	for i := range tot {
		tot[i] = PRF{float64(100*tot[i].P) / d, float64(100*tot[i].R) / d, float64(100*tot[i].F) / d}
	}
	rep.MeanPoints = RougeScores{tot[0], tot[1], tot[2], tot[3]}
	return rep
}
