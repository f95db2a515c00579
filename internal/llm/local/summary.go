package local

import (
	"strings"

	"logbook/internal/llm/local/speech"
)

// The summary is written as reported speech, in the third person ("The
// Team Lead said the team would…"), without disfluencies; its
// evidence quotes stay verbatim.

// Summary limits: at most maxSummaryWords words in all, and no sentence
// longer than maxSummarySentence words.
const (
	maxSummaryWords    = 120
	maxSummarySentence = 40
)

// openers are discourse words and hedges trimmed from the start of a
// reported sentence ("so, I think, …").
var openers = speech.NewPhraseSet("so", "and", "but", "well", "okay", "ok", "yeah", "yes", "right", "now", "then",
	"alright", "oh", "also", "anyway", "basically", "actually", "i think", "i mean", "you know", "i guess",
	"like", "um", "uh", "just", "maybe", "of course", "obviously", "sure", "mm")

// thirdPerson turns first-person words into the third person: the speaker
// becomes "they" (singular), "we" becomes "the team".
var thirdPerson = map[string]string{
	"i": "they", "i'm": "they are", "i'll": "they would", "i've": "they have", "i'd": "they would",
	"me": "them", "my": "their", "mine": "theirs", "myself": "themselves",
	"we": "the team", "we're": "the team is", "we'll": "the team would", "we've": "the team has",
	"we'd": "the team would", "us": "the team", "our": "the team's", "ours": "the team's",
	"ourselves": "the team", "let's": "the team should",
}

// reported is sentence s as reported speech: "<the speaker> said <the
// sentence>", its disfluencies and opening discourse words dropped, first
// person made third.
func (m *meeting) reported(s *sent) string {
	ws := s.ws
	for len(ws) > 4 {
		n := 0
		openers.Find(ws, 0, 1, func(k int, p []string) bool { n = len(p); return true })
		if n == 0 || len(ws)-n < 4 {
			break
		}
		ws = ws[n:]
	}
	text := m.segs[s.seg].Text
	var b strings.Builder
	b.WriteString(m.speakerPhrase(m.segs[s.seg].Speaker))
	b.WriteString(" said ")
	for k := 0; k < len(ws); k++ {
		w := ws[k]
		if speech.Seq(ws, k, "you", "know") || speech.Seq(ws, k, "i", "mean") {
			k++ // a filler said mid-sentence
			continue
		}
		if k > 0 {
			if g := text[ws[k-1].End:w.Start]; strings.Contains(g, ",") && !strings.Contains(g, "{") {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
		}
		if t, ok := thirdPerson[w.W]; ok {
			b.WriteString(t)
			if w.W == "i" && k+1 < len(ws) && (ws[k+1].W == "was" || ws[k+1].W == "am") {
				b.WriteString(map[string]string{"was": " were", "am": " are"}[ws[k+1].W])
				k++ // "they were", "they are"
			}
			continue
		}
		orig := text[w.Start:w.End]
		if k == 0 && orig != "I" && !(len(orig) > 1 && orig[1] >= 'A' && orig[1] <= 'Z') {
			orig = strings.ToLower(orig[:1]) + orig[1:]
		}
		b.WriteString(orig)
	}
	b.WriteByte('.')
	return b.String()
}

// speakerPhrase names a speaker in a sentence: the label as it is, a name
// ("Dana Lee") or a role ("Team Lead"), and "A participant" for an
// unnamed one. No article is added to a role: the label alone cannot tell
// a name from a role, and "The Dana Lee said" is worse than "Team
// Lead said".
func (m *meeting) speakerPhrase(label string) string {
	label = strings.Join(strings.Fields(label), " ")
	if !validLabel(label) {
		return "A participant"
	}
	return label
}
