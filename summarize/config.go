package summarize

import (
	"time"

	"logbook/internal/crm"
)

// Defaults applied to a zero Config field.
const (
	DefaultContextTokens   = 12_000
	DefaultMaxWindows      = 40
	DefaultMaxOutputTokens = 4_000
	DefaultConcurrency     = 4
	// DefaultMaxSegments is the most speaker turns a transcript may have
	// (internal/transcript caps parsed ones at the same number).
	DefaultMaxSegments = 20_000
	// DefaultMaxSegmentChars is the longest one segment may be: 40,000
	// bytes, about 10,000 tokens, so that it still fits one call of the
	// default context budget with the prompt around it (a segment is never
	// split: its index is what evidence cites). Speech is 40 minutes of one
	// uninterrupted voice at that length; a longer segment is text without
	// turns or timestamps (a pasted document, an encoded blob).
	DefaultMaxSegmentChars = 40_000
	// DefaultMaxTotalTokens is the most transcript tokens (estimated) a
	// meeting may have: 500,000, some 2 MB of text, well above the 60,000
	// words internal/transcript accepts and the 480,000 the default
	// MaxWindows×ContextTokens reads.
	DefaultMaxTotalTokens = 500_000
)

// segmentOverhead is the estimated token cost of a segment's framing in the
// prompt: "[123] (1:02:05) " before the speaker, ": " after it, the line
// break.
const segmentOverhead = 8

// Price is what a model costs in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// Config tunes a Summarizer. The zero value is usable: every zero field
// takes its default.
type Config struct {
	// ContextTokens is the budget of transcript tokens per call (default
	// 12,000). A transcript whose estimate fits is summarised in one call.
	ContextTokens int
	// MaxWindows caps the number of windows read in map-reduce (default 40);
	// the rest of a longer meeting is not read and Notes.Coverage says so.
	MaxWindows int
	// MaxOutputTokens caps every completion (default 4,000).
	MaxOutputTokens int
	// Concurrency is how many window calls run at once (default 4).
	Concurrency int
	// MaxSegments, MaxSegmentChars and MaxTotalTokens bound what is sent to
	// the model at all (defaults DefaultMaxSegments, DefaultMaxSegmentChars,
	// DefaultMaxTotalTokens): a transcript over any of them is refused
	// before the first call with a *RejectedError that says why (Check).
	MaxSegments     int
	MaxSegmentChars int
	MaxTotalTokens  int
	// Prices maps a model name to its price; a model not listed costs 0.
	Prices map[string]Price
	// Model is the configured model name, used for Notes.Model and pricing
	// when a completion does not name its model.
	Model string
	// Now is the clock for GeneratedAt (default time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.ContextTokens <= 0 {
		c.ContextTokens = DefaultContextTokens
	}
	if c.MaxWindows <= 0 {
		c.MaxWindows = DefaultMaxWindows
	}
	if c.MaxOutputTokens <= 0 {
		c.MaxOutputTokens = DefaultMaxOutputTokens
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxSegments <= 0 {
		c.MaxSegments = DefaultMaxSegments
	}
	if c.MaxSegmentChars <= 0 {
		c.MaxSegmentChars = DefaultMaxSegmentChars
	}
	if c.MaxTotalTokens <= 0 {
		c.MaxTotalTokens = DefaultMaxTotalTokens
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// cost prices one completion; an unknown model costs 0.
func (c Config) cost(model string, in, out int) float64 {
	p, ok := c.Prices[model]
	if !ok {
		return 0
	}
	return float64(in)*p.InputPerMTok/1e6 + float64(out)*p.OutputPerMTok/1e6
}

// SegmentTokens estimates what one segment costs in prompt tokens: a token
// per four bytes of speaker and text, plus the line's framing.
func SegmentTokens(s crm.Segment) int {
	return (len(s.Text)+len(s.Speaker))/4 + segmentOverhead
}

// EstimateTokens estimates what segs cost in prompt tokens.
func EstimateTokens(segs []crm.Segment) int {
	n := 0
	for _, s := range segs {
		n += SegmentTokens(s)
	}
	return n
}

// Fits reports whether segs fit cfg.ContextTokens, so one call reads them
// all.
func Fits(cfg Config, segs []crm.Segment) bool {
	return EstimateTokens(segs) <= cfg.withDefaults().ContextTokens
}

// Windows splits segs into consecutive windows that each fit
// cfg.ContextTokens, filling each window greedily. A segment is never
// split: one that alone exceeds the budget gets a window of its own. Every
// segment is in exactly one window, in order; the windows share segs'
// backing array. No segments, no windows.
func Windows(cfg Config, segs []crm.Segment) [][]crm.Segment {
	budget := cfg.withDefaults().ContextTokens
	var out [][]crm.Segment
	start, used := 0, 0
	for i, s := range segs {
		t := SegmentTokens(s)
		if i > start && used+t > budget {
			out = append(out, segs[start:i:i])
			start, used = i, 0
		}
		used += t
	}
	if start < len(segs) {
		out = append(out, segs[start:len(segs):len(segs)])
	}
	return out
}
