// Package answer is the local provider's answer.v4: it quotes the one to
// three source sentences that say most about what is asked, each as the
// words of the speaker named outside the quotation and followed by its
// source marker "[n]", or says NothingOnRecord. See package local's doc.
package answer

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"logbook/internal/llm"
	"logbook/internal/llm/local/hashvec"
	"logbook/internal/llm/local/speech"
	"logbook/internal/stem"
	"logbook/prompts"
)

// NothingOnRecord is the answer when no source bears on the question.
const NothingOnRecord = "Nothing on record answers this."

// answerThreshold is the least score a sentence needs to be quoted.
const answerThreshold = 0.2

// Limits of what an answer quotes.
const (
	// maxQuotes is the most passages an answer quotes, each from a
	// different line (a speaker's turn, or a line of a record).
	maxQuotes = 3
	// minContent is the fewest content words a quoted sentence has:
	// fewer is a backchannel ("okay", "Mm") or a fragment ("the blue one").
	minContent = 3
	// maxQuoteWords is the longest a quote grows when a neighbouring
	// sentence of the same turn is added for context.
	maxQuoteWords = 60
	// rankWeight is how much a source's place in the search's order adds
	// to its sentences' scores (the first source's all of it, the last's
	// none), once they pass answerThreshold.
	rankWeight = 0.15
	// clauseWords is the length at which a sentence is taken to have a
	// verb even when answerHasVerb finds none it knows.
	clauseWords = 8
)

// questionWords are dropped from a question's terms on top of stop words:
// they ask, they do not say what about.
var questionWords = speech.WordSet(`tell anything mention mentioned discuss discussed discussing discussion talk talked talking
happen happened ask asked status latest update updates anyone someone somebody everything give show find remind please
summarize summarise summary`)

// askDecisionStems are the stems of words that make a question ask what
// was decided or agreed.
var askDecisionStems = []string{"decid", "decision", "agre", "conclu", "settl", "resolv", "chose", "choos", "final", "outcome"}

// answerDecisionCues are general English ways of saying that something was
// decided or agreed: a sentence with one answers "what was decided" better
// than one that only mentions the subject.
var answerDecisionCues = speech.NewPhraseSet("decided", "decide", "decision", "decisions", "agreed", "agree", "agreement", "settled",
	"settle on", "go with", "go for", "going with", "stick with", "stick to", "we'll", "we will", "let's", "lets",
	"we're going to", "we are going to", "chose", "chosen", "choose", "final", "finally", "conclusion", "concluded",
	"opted", "approved", "confirmed")

// answerAuxiliaries are the verbs of English grammar (being, having, doing and
// the modals, with their contractions): a sentence with one has a verb.
var answerAuxiliaries = speech.WordSet(`is are was were be been being am isn't aren't wasn't weren't
have has had having haven't hasn't hadn't do does did don't doesn't didn't
will would can could should shall may might must won't wouldn't can't cannot couldn't shouldn't mustn't
it's that's there's what's he's she's let's
i'm i've i'll i'd we're we've we'll we'd you're you've you'll you'd they're they've they'll they'd he'll she'll it'll`)

// answerVerbs are frequent English verbs in their plain forms (the -s,
// -ed and -ing forms are found by their endings).
var answerVerbs = speech.WordSet(`go get make need want think know see say use like take come look give find put try mean let
keep work feel seem show agree decide prefer suggest add cost buy sell build choose pick start stop finish change move
turn press hold call send tell ask help include become leave bring begin run pay set sit stand lose meet talk speak read
write provide plan expect hope believe guess wonder reckon suppose remember forget understand consider love hate wish
require allow offer create produce test check sound fit match depend`)

// answerSubjects are the pronouns that start a clause ("we need …"): one
// followed by a word that is not a function word is taken as a clause with
// its verb.
var answerSubjects = speech.WordSet(`i we you they he she it people everyone somebody someone`)

// answerBackchannels are the words of spoken acknowledgement and hesitation,
// left out when counting what a sentence says and dropped from the
// answer's text (never from a citation's quote).
var answerBackchannels = speech.WordSet(`okay ok yeah yes yep yup mm mhm mm-hmm hmm um uh umm uhh er erm ah oh right alright sure`)

// answerHesitations are dropped from an answer's rendering of a quote (the
// citation keeps them: it is the transcript's words).
var answerHesitations = speech.WordSet(`um uh umm uhh er erm`)

// terms are the distinct stemmed content words of text.
func terms(text string, drop map[string]bool) []string {
	var out []string
	for _, w := range hashvec.Words(text, nil) {
		if !hashvec.ContentWord(w) || drop[w] || (len(w) < 3 && !isNumber(w)) {
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

// contextWords open a question's clause that sets the scene rather than
// says what is asked ("… when discussing the budget", "… during the
// review"): its terms weigh half, and are not the subject.
var contextWords = speech.WordSet(`when while during whilst`)

// opinionWords take their subject after "of" or "on" ("what did they
// think of the price", "views on the launch").
var opinionWords = speech.WordSet(`think thought thinks opinion opinions view views feel felt feels`)

// questionFocus splits a question's terms into those of what it asks and
// those of a clause that sets the scene (contextWords, not as its first
// word), and finds its subject: the terms after "about" (stem.Subject) or
// after an opinion's "of" ("think of the price"), within what it asks.
func questionFocus(question string) (asked, scene, subject []string) {
	ws := hashvec.Words(question, nil)
	cut := len(ws)
	for i := 1; i < len(ws); i++ {
		if contextWords[ws[i]] {
			cut = i
			break
		}
	}
	asked = terms(strings.Join(ws[:cut], " "), questionWords)
	for _, t := range terms(strings.Join(ws[cut:], " "), questionWords) {
		if !slices.Contains(asked, t) {
			scene = append(scene, t)
		}
	}
	sub := stem.Subject(ws[:cut])
	if sub == nil {
		for i := 0; i+1 < cut; i++ {
			if opinionWords[ws[i]] && (ws[i+1] == "of" || ws[i+1] == "on") {
				sub = ws[i+2 : cut]
			}
		}
	}
	if len(sub) > 0 {
		subject = terms(strings.Join(sub, " "), questionWords)
	}
	return asked, scene, subject
}

// answerLine is one line of a source: who or what it is (the label before
// its text: a speaker, a kind of note, the record's type) and the span of
// its text after the label.
type answerLine struct {
	src   int // position in Sources
	label string
	// speaker says the label is a person (or a role) who said the line.
	speaker bool
	body    speech.Span
}

// answerLines splits a source into its lines. Retrieval gives each line of
// a transcript excerpt as "Speaker: text" and each line of a meeting's
// notes as "Decision: text"; a record's first line may be its type
// ("Email: subject"). The label is not the record's words, so it is never
// quoted.
func answerLines(si int, src prompts.Source) []answerLine {
	var out []answerLine
	off := 0
	for i, raw := range strings.SplitAfter(src.Text, "\n") {
		text := strings.TrimRight(raw, "\r\n")
		l := answerLine{src: si, body: speech.Span{Start: off, End: off + len(text)}}
		if label, _, ok := strings.Cut(text, ": "); ok && answerLabel(label) {
			switch {
			case src.Speaker != "":
				l.label, l.speaker = label, true
			case i == 0 && src.Type != "" && strings.HasPrefix(strings.ToLower(label), strings.ToLower(src.Type)):
				l.label = label
			case src.Type == "meeting":
				l.label = label // a line of the meeting's notes
			}
			if l.label != "" {
				l.body.Start += len(label) + 2
			}
		} else if src.Speaker != "" && i == 0 {
			l.label, l.speaker = src.Speaker, true
		}
		out = append(out, l)
		off += len(raw)
	}
	return out
}

// answerLabel reports whether s can be a line's label: one to four words
// with no sentence punctuation.
func answerLabel(s string) bool {
	n := len(strings.Fields(s))
	return n >= 1 && n <= 4 && !strings.ContainsAny(s, ".?!,;\"")
}

// answerSentence is a sentence of a source line, scored against the question.
type answerSentence struct {
	line  int // index in the answer's lines
	k     int // position in its line
	sp    speech.Span
	ws    []speech.Word
	terms []string
	// content counts the words that say something (not function words,
	// fillers or answerBackchannels).
	content int
	verb    bool
	// question says the sentence ends in a question mark.
	question bool
	score    float64
}

// Answer quotes the passages of the sources that best answer the
// question, each in its own sentence naming who said it, and cites them.
//
// Every sentence of every source is scored: how much of the question's
// terms it holds, each term weighed by how rare it is among the sources'
// sentences (a word every passage shares says little about which one
// answers) and twice when it is the question's subject ("… about SSO",
// which a sentence must then mention), and how close it is to the question
// by the hashed embedding. A line whose speaker the question names counts
// as holding that term. A sentence is quoted only when it says something:
// at least minContent content words, a verb, and one of the question's
// terms; answerBackchannels and fragments never are. For a question about what
// was decided or agreed, sentences in the language of decisions score
// higher. A sentence scoring answerThreshold or more is relevant; among
// those, the search's order of the sources counts too (rankWeight). The
// best sentences (within 0.6 of the best), one per line, are quoted with a
// neighbouring sentence of the same line when it adds something; a line of
// a meeting's notes never (it restates what was said in Logbook's words).
// With none, it answers NothingOnRecord and cites nothing.
func Answer(in *prompts.AnswerInput) llm.AnswerOutput {
	none := llm.AnswerOutput{Answer: NothingOnRecord, Citations: []llm.AnswerCitation{}}
	asked, scene, topic := questionFocus(in.Question)
	qTerms := append(asked, scene...)
	if len(qTerms) == 0 {
		return none
	}
	qStems := answerStems(in.Question)
	decision := slices.ContainsFunc(qStems, func(s string) bool {
		return slices.ContainsFunc(askDecisionStems, func(p string) bool { return strings.HasPrefix(s, p) })
	})

	var lines []answerLine
	var sents []answerSentence
	df := map[string]int{}
	for si, src := range in.Sources {
		for _, l := range answerLines(si, src) {
			li := len(lines)
			lines = append(lines, l)
			body := src.Text[l.body.Start:l.body.End]
			for k, sp := range speech.Sentences(body) {
				sp = speech.Span{Start: sp.Start + l.body.Start, End: sp.End + l.body.Start}
				ws := speech.WordsOf(src.Text, sp)
				if speech.Injection(ws) {
					continue
				}
				st := terms(src.Text[sp.Start:sp.End], nil)
				for _, t := range st {
					df[t]++
				}
				sents = append(sents, answerSentence{line: li, k: k, sp: sp, ws: ws, terms: st,
					content: answerContent(ws), verb: answerHasVerb(src.Text, ws), question: strings.HasSuffix(src.Text[sp.Start:sp.End], "?")})
			}
		}
	}
	if len(sents) == 0 {
		return none
	}
	n := float64(len(sents))
	weight := func(t string) float64 {
		// A term no source has weighs as one that a single sentence has:
		// as rare as any, not rarer, so it does not dwarf the rest.
		w := math.Log((n + 1) / (float64(max(df[t], 1)) + 0.5))
		w = max(w, 0.1)
		switch {
		case slices.Contains(topic, t):
			w *= 2
		case slices.Contains(scene, t):
			w /= 2
		}
		return w
	}
	total := 0.0
	for _, t := range qTerms {
		total += weight(t)
	}
	var buf hashvec.Buffers
	qVec := hashvec.SparseOf(in.Question, &buf)
	var cands []int
	for i := range sents {
		s := &sents[i]
		l := lines[s.line]
		text := in.Sources[l.src].Text[s.sp.Start:s.sp.End]
		var speakerTerms []string
		if l.speaker {
			speakerTerms = terms(l.label, nil)
		}
		hits, said, onTopic := 0.0, false, len(topic) == 0
		for _, t := range qTerms {
			switch {
			case slices.Contains(s.terms, t):
				hits += weight(t)
				said = true
				onTopic = onTopic || slices.Contains(topic, t)
			case slices.Contains(speakerTerms, t):
				hits += weight(t)
			}
		}
		if !said || !onTopic || s.content < minContent || !s.verb {
			continue
		}
		s.score = 0.6*hits/total + 0.4*hashvec.Cosine(qVec, hashvec.SparseOf(text, &buf))
		if decision && answerDecisionCues.Has(s.ws) {
			s.score += 0.15
		}
		if s.question {
			s.score *= 0.8 // a question is seldom the answer
		}
		if s.score < answerThreshold {
			continue
		}
		// Sources come best first, in the search's order, which weighs
		// the whole passage (every word of it, and its meaning): among
		// sentences relevant enough, that order counts too.
		s.score += rankWeight * (1 - float64(l.src)/float64(len(in.Sources)))
		if !l.speaker && l.label != "" && in.Sources[l.src].Type == "meeting" {
			// A line of a meeting's notes restates what was said in
			// Logbook's words, and an extraction can be wrong: an answer
			// quotes what was said or written, never the notes.
			continue
		}
		cands = append(cands, i)
	}
	if len(cands) == 0 {
		return none
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		if c := cmp.Compare(sents[b].score, sents[a].score); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	best := sents[cands[0]].score
	out := llm.AnswerOutput{Citations: []llm.AnswerCitation{}}
	var parts []string
	usedLine := map[int]bool{}
	var quoted []hashvec.Sparse
	for _, ci := range cands {
		s := sents[ci]
		if len(parts) == maxQuotes || s.score < 0.6*best {
			break
		}
		if usedLine[s.line] {
			continue
		}
		l := lines[s.line]
		src := in.Sources[l.src]
		sp := answerContext(sents, ci)
		quote := src.Text[sp.Start:sp.End]
		v := hashvec.SparseOf(quote, &buf)
		if slices.ContainsFunc(quoted, func(q hashvec.Sparse) bool { return hashvec.Cosine(q, v) > 0.9 }) {
			continue
		}
		usedLine[s.line] = true
		quoted = append(quoted, v)
		parts = append(parts, renderQuote(src, l, quote))
		out.Citations = append(out.Citations, llm.AnswerCitation{Source: src.N, Quote: quote})
	}
	out.Answer = strings.Join(parts, " ")
	return out
}

// answerContext returns the span of sentence i with a neighbour of the same
// line added when the neighbour says something the sentence does not (at
// least two content words of its own, and a verb) and the two stay within
// maxQuoteWords: the next sentence, or else the one before.
func answerContext(sents []answerSentence, i int) speech.Span {
	s := sents[i]
	if len(s.ws) >= maxQuoteWords/2 {
		return s.sp
	}
	adds := func(j int) bool {
		if j < 0 || j >= len(sents) || sents[j].line != s.line || !sents[j].verb || sents[j].question ||
			len(s.ws)+len(sents[j].ws) > maxQuoteWords {
			return false
		}
		fresh := 0
		for _, t := range sents[j].terms {
			if !slices.Contains(s.terms, t) {
				fresh++
			}
		}
		return fresh >= 2
	}
	switch {
	case adds(i + 1):
		return speech.Span{Start: s.sp.Start, End: sents[i+1].sp.End}
	case adds(i - 1):
		return speech.Span{Start: sents[i-1].sp.Start, End: s.sp.End}
	}
	return s.sp
}

// renderQuote writes a quote as a sentence of the answer, naming who said it
// outside the quotation marks and citing its source before the closing
// punctuation: `Maya Patel said: "we ship in April" [2].` The rendering
// drops answerHesitations ("uh", "um") and uses single quotation marks inside;
// the citation keeps the quote as the source has it.
func renderQuote(src prompts.Source, l answerLine, quote string) string {
	var b strings.Builder
	for _, f := range strings.Fields(quote) {
		if answerHesitations[strings.Trim(strings.ToLower(f), ",.;:")] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ReplaceAll(f, `"`, "'"))
	}
	body := strings.TrimRight(b.String(), " .!…,;:")
	verb, ref := "said", " ["+strconv.Itoa(src.N)+"]."
	if strings.HasSuffix(body, "?") {
		// The question mark ends the sentence, inside the quotation.
		verb, ref = "asked", " ["+strconv.Itoa(src.N)+"]"
	}
	switch {
	case l.speaker:
		return l.label + " " + verb + `: "` + body + `"` + ref
	case src.Type != "":
		what := "The " + src.Type
		if !src.OccurredAt.IsZero() {
			what += " of " + src.OccurredAt.Format("2 January 2006")
		}
		return what + ` says: "` + body + `"` + ref
	}
	return `The record says: "` + body + `"` + ref
}

// answerContent counts the words of ws that say something: not function
// words, fillers or answerBackchannels.
func answerContent(ws []speech.Word) int {
	n := 0
	for _, w := range ws {
		plain := strings.ReplaceAll(w.W, "'", "")
		if hashvec.ContentWord(plain) && !answerBackchannels[w.W] && !speech.Filler(w.W) && len(plain) > 1 {
			n++
		}
	}
	return n
}

// answerHasVerb reports whether ws looks like a clause rather than a fragment:
// it has an auxiliary or modal, a common verb, a word in -ed (not ending a
// compound, "sky-coloured"), or a subject
// pronoun followed by a word that is not a function word ("we need"). A
// run of clauseWords words or more is taken to have one (a fragment that
// long is rare; a verb this test does not know, "the app launches in
// June", is not).
func answerHasVerb(text string, ws []speech.Word) bool {
	if len(ws) >= clauseWords {
		return true
	}
	for k, w := range ws {
		switch {
		case answerAuxiliaries[w.W], answerVerbs[w.W], answerVerbs[strings.TrimSuffix(w.W, "s")],
			len(w.W) > 4 && strings.HasSuffix(w.W, "ed") && answerVerbs[stem.Word(w.W)]:
			return true
		case len(w.W) > 5 && strings.HasSuffix(w.W, "ed") && len(ws) >= 3 && (w.Start == 0 || text[w.Start-1] != '-'):
			// a past tense or participle, but not the end of a compound
			// adjective ("sky-coloured")
			return true
		case answerSubjects[w.W] && k+1 < len(ws) && !hashvec.Stopword(ws[k+1].W) && !answerBackchannels[ws[k+1].W]:
			return true
		}
	}
	return false
}

// answerStems returns the stems of text's words, function words included.
func answerStems(text string) []string {
	var out []string
	for _, w := range hashvec.Words(text, nil) {
		out = append(out, stem.Word(w))
	}
	return out
}
