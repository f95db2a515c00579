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

// topicTerms are the terms of the question's subject (the words after its
// last "about", stem.Subject): what an answer must be about.
func topicTerms(question string) []string {
	if ws := stem.Subject(embedWords(question, nil)); len(ws) > 0 {
		return terms(strings.Join(ws, " "), questionWords)
	}
	return nil
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
// question (keyword overlap and hashed-embedding cosine), each with its
// source marker "[n]" before its closing punctuation, and cites them; with no sentence above the
// threshold it answers NothingOnRecord and cites nothing. When the
// question names its subject ("… about SSO"), a sentence must mention it,
// and its words count twice: "I'll keep it short, I promise" shares a word
// with "what did we promise about SSO?" but does not answer it.
func answer(in *llm.AnswerInput) llm.AnswerOutput {
	none := llm.AnswerOutput{Answer: NothingOnRecord, Citations: []llm.AnswerCitation{}}
	qTerms := terms(in.Question, questionWords)
	if len(qTerms) == 0 {
		return none
	}
	topic := topicTerms(in.Question)
	weight := func(t string) int {
		if slices.Contains(topic, t) {
			return 2
		}
		return 1
	}
	total := 0
	for _, t := range qTerms {
		total += weight(t)
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
			hits, onTopic := 0, len(topic) == 0
			for _, t := range qTerms {
				if slices.Contains(st, t) {
					hits += weight(t)
					onTopic = onTopic || weight(t) == 2
				}
			}
			if hits == 0 || !onTopic {
				continue
			}
			v := sparseOf(text, &buf)
			score := 0.6*float64(hits)/float64(total) + 0.4*cosine(qVec, v)
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
		// The marker goes before the sentence's closing punctuation
		// ("… by Friday [2]."), where a reader and the answer's sentence
		// splitting both take it to belong to this sentence, not the next.
		body := strings.TrimRight(p.text, ".!?…")
		parts = append(parts, body+" ["+strconv.Itoa(n)+"]"+p.text[len(body):])
		out.Citations = append(out.Citations, llm.AnswerCitation{Source: n, Quote: p.text})
	}
	out.Answer = strings.Join(parts, " ")
	return out
}
