package summarize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/llm"
)

// RejectedError is a transcript that Notes refuses before any model call,
// because no attempt could ever summarise it: empty, too long, one turn of
// text without breaks, or no speech at all. Reason says why in words a
// user understands (it is what GET /v1/transcripts/{id} shows). It matches
// crm.ErrInvalid and llm.ErrPermanent, so the worker fails the transcript
// at once instead of retrying it.
type RejectedError struct {
	Reason string
}

// Error returns the reason, prefixed with the package.
func (e *RejectedError) Error() string { return "summarize: transcript rejected: " + e.Reason }

// Is makes errors.Is(err, crm.ErrInvalid) and errors.Is(err,
// llm.ErrPermanent) true.
func (e *RejectedError) Is(target error) bool {
	return target == crm.ErrInvalid || target == llm.ErrPermanent
}

// maxWordRunes is the longest run of non-space characters that still
// counts as a spoken word (longer ones are URLs at best, encoded data at
// worst).
const maxWordRunes = 45

// Check reports whether segs can be summarised under cfg's limits, before
// any model call: nil, or a *RejectedError saying why not. It checks, in
// order, that there are segments at all, that there are at most
// cfg.MaxSegments of them, that no segment is longer than
// cfg.MaxSegmentChars, that the estimated total is at most
// cfg.MaxTotalTokens, and that some segment holds a word (a run of at most
// 45 non-space characters with a letter in it).
func Check(cfg Config, segs []crm.Segment) error {
	cfg = cfg.withDefaults()
	if len(segs) == 0 {
		return &RejectedError{Reason: "no speech found: the transcript has no segments"}
	}
	if len(segs) > cfg.MaxSegments {
		return &RejectedError{Reason: fmt.Sprintf("the transcript has %d speaker turns; at most %d can be processed",
			len(segs), cfg.MaxSegments)}
	}
	for i, s := range segs {
		if len(s.Text) > cfg.MaxSegmentChars {
			what := "no sentence breaks or speaker turns"
			if hasSentenceBreak(s.Text) {
				what = "no speaker turns or timestamps"
			}
			return &RejectedError{Reason: fmt.Sprintf(
				"the transcript has %s in one stretch with %s (segment %d of %d); the longest stretch that can be read is %s: send it with speaker turns or timestamps",
				size(len(s.Text)), what, i+1, len(segs), size(cfg.MaxSegmentChars))}
		}
	}
	if n := EstimateTokens(segs); n > cfg.MaxTotalTokens {
		return &RejectedError{Reason: fmt.Sprintf("the transcript is too long: about %d tokens; at most %d can be processed",
			n, cfg.MaxTotalTokens)}
	}
	for _, s := range segs {
		if hasWord(s.Text) {
			return nil
		}
	}
	total := 0
	for _, s := range segs {
		total += len(strings.TrimSpace(s.Text))
	}
	if total == 0 {
		return &RejectedError{Reason: fmt.Sprintf("no speech found: the transcript's %d segments are empty", len(segs))}
	}
	return &RejectedError{Reason: fmt.Sprintf("no speech found: the transcript's %d segments (%s) hold no words", len(segs), size(total))}
}

// hasWord reports whether text holds a word: a run of at most maxWordRunes
// non-space characters with a letter in it.
func hasWord(text string) bool {
	for f := range strings.FieldsSeq(text) {
		if utf8.RuneCountInString(f) <= maxWordRunes && strings.IndexFunc(f, unicode.IsLetter) >= 0 {
			return true
		}
	}
	return false
}

// hasSentenceBreak reports whether text has a sentence end followed by a
// space somewhere.
func hasSentenceBreak(text string) bool {
	for _, p := range []string{". ", "? ", "! ", ".\n"} {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

// size writes a byte count the way people read it: 812 bytes, 24 KB, 1.5 MB.
func size(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1_000_000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// FollowUpError is what NotesWithStats returns when the notes were written
// but the follow-up draft failed: the notes come back complete (FollowUp
// nil) next to it, so a caller can keep them. Err is the draft's failure.
type FollowUpError struct {
	Err error
}

// Error says the follow-up draft failed and why.
func (e *FollowUpError) Error() string { return "summarize: followup: " + e.Err.Error() }

// Unwrap returns the draft's failure.
func (e *FollowUpError) Unwrap() error { return e.Err }
