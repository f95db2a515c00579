package local

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"logbook/internal/llm"
	"logbook/internal/stem"
)

// NothingOnRecord is the answer when no source bears on the question.
const NothingOnRecord = "Nothing on record answers this."

// answerThreshold is the least score a sentence needs to be quoted.
const answerThreshold = 0.25

// questionWords are dropped from a question's terms on top of stop words:
// they ask, they do not say what about.
var questionWords = wordSet(`tell anything mention mentioned discuss discussed talk talked happen happened ask asked
status latest update updates anyone someone somebody everything give show find remind please`)

// terms are the distinct stemmed content words of text.
func terms(text string, drop map[string]bool) []string {
	var out []string
	for _, w := range embedWords(text, nil) {
		if !contentWord(w) || drop[w] || (len(w) < 3 && !isNumber(w)) {
			continue
		}
		if s := stem.Word(w); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func isNumber(w string) bool {
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// candidate is a source sentence scored against the question.
type candidate struct {
	src   int // position in Sources
	order int // sentence order overall
	text  string
	vec   sparse
	score float64
}

// answer quotes the one to three source sentences that best match the
// question (keyword overlap and hashed-embedding cosine), each followed by
// its source marker "[n]", and cites them; with no sentence above the
// threshold it answers NothingOnRecord and cites nothing.
func answer(in *llm.AnswerInput) llm.AnswerOutput {
	none := llm.AnswerOutput{Answer: NothingOnRecord, Citations: []llm.AnswerCitation{}}
	qTerms := terms(in.Question, questionWords)
	if len(qTerms) == 0 {
		return none
	}
	var buf buffers
	qVec := sparseOf(in.Question, &buf)
	var cands []candidate
	order := 0
	for si, src := range in.Sources {
		for _, sp := range sentences(src.Text) {
			text := src.Text[sp.start:sp.end]
			ws := wordsOf(src.Text, sp)
			order++
			if len(ws) < 3 || injection(ws) {
				continue
			}
			st := terms(text, nil)
			hits := 0
			for _, t := range qTerms {
				if slices.Contains(st, t) {
					hits++
				}
			}
			if hits == 0 {
				continue
			}
			v := sparseOf(text, &buf)
			score := 0.6*float64(hits)/float64(len(qTerms)) + 0.4*cosine(qVec, v)
			if score >= answerThreshold {
				cands = append(cands, candidate{src: si, order: order, text: text, vec: v, score: score})
			}
		}
	}
	if len(cands) == 0 {
		return none
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	var picked []candidate
	for _, c := range cands {
		if len(picked) == 3 || c.score < 0.6*cands[0].score {
			break
		}
		dup := false
		for _, p := range picked {
			if cosine(p.vec, c.vec) > 0.9 {
				dup = true
			}
		}
		if !dup {
			picked = append(picked, c)
		}
	}
	out := llm.AnswerOutput{Citations: []llm.AnswerCitation{}}
	var parts []string
	for _, p := range picked {
		n := in.Sources[p.src].N
		parts = append(parts, p.text+" ["+strconv.Itoa(n)+"]")
		out.Citations = append(out.Citations, llm.AnswerCitation{Source: n, Quote: p.text})
	}
	out.Answer = strings.Join(parts, " ")
	return out
}
