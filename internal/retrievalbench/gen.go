package retrievalbench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"logbook/internal/crm"
)

// The retrieval bench's generated text: topic-structured meeting text
// and questions, deterministic for a seed.

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
