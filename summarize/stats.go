package summarize

// DropReason says why a claim of the model was dropped.
type DropReason string

// The reasons a claim is dropped.
const (
	// DropNoSegments: the claim cites no segment.
	DropNoSegments DropReason = "no segments cited"
	// DropUnknownSegment: a cited segment index is not among the segments
	// the model was given.
	DropUnknownSegment DropReason = "cited segment does not exist"
	// DropQuoteNotFound: the quote is empty or does not occur in the cited
	// segments' text.
	DropQuoteNotFound DropReason = "quote not in the cited segments"
	// DropEmptyText: the claim has no text.
	DropEmptyText DropReason = "empty text"
)

// ClaimKind is which list of the notes a claim belongs to.
type ClaimKind string

// The kinds of claims.
const (
	KindSummary    ClaimKind = "summary"
	KindKeyPoint   ClaimKind = "key_point"
	KindDecision   ClaimKind = "decision"
	KindRisk       ClaimKind = "risk"
	KindActionItem ClaimKind = "action_item"
)

// Drop is one claim validation threw away.
type Drop struct {
	// Window is the 1-based window the claim came from, 0 for the reduce
	// step.
	Window   int
	Kind     ClaimKind
	Reason   DropReason
	Text     string
	Segments []int
	Quote    string
}

// Cleared is an action item field validation emptied: an owner who is not
// a speaker or participant, or a due phrase that was not said in the cited
// segments or does not resolve to a date.
type Cleared struct {
	// Window is the 1-based window the action item came from.
	Window int
	// Text is the action item's text.
	Text string
	// Value is the owner or due phrase the model gave.
	Value string
}

// Stats tells what a Notes run did: calls, windows, and what validation
// kept, dropped and cleared. Nothing is logged; this is the record.
type Stats struct {
	// Calls counts completions asked for, retries included; Retries counts
	// the immediate second tries after malformed answers.
	Calls, Retries int
	// Windows is how many windows the transcript was split into (1 when it
	// fit); WindowsRead how many of them were read (MaxWindows caps it).
	Windows, WindowsRead int
	// SegmentsRead and SegmentsTotal give Coverage.
	SegmentsRead, SegmentsTotal int
	// Reduced is set when a notes-reduce call was made; ReduceFallback when
	// its answer was unusable and the window summaries were concatenated.
	Reduced, ReduceFallback bool
	// Kept counts claims that passed validation (before merging).
	Kept int
	// Dropped lists the claims validation threw away.
	Dropped []Drop
	// OwnersCleared and DuesCleared list the action item owners and due
	// phrases validation emptied.
	OwnersCleared, DuesCleared []Cleared
	// MarkedTentative counts action items made tentative by a hedge word in
	// their quote although the model had not flagged them.
	MarkedTentative int
	// Merged counts items folded into an earlier near-identical one.
	Merged int
	// Flagged counts the items marked as needing review (payment
	// instructions, credentials, outside links).
	Flagged int
}

// DroppedFor counts the dropped claims with reason r.
func (s Stats) DroppedFor(r DropReason) int {
	n := 0
	for _, d := range s.Dropped {
		if d.Reason == r {
			n++
		}
	}
	return n
}

func (s *Stats) add(o Stats) {
	s.Kept += o.Kept
	s.Dropped = append(s.Dropped, o.Dropped...)
	s.OwnersCleared = append(s.OwnersCleared, o.OwnersCleared...)
	s.DuesCleared = append(s.DuesCleared, o.DuesCleared...)
	s.MarkedTentative += o.MarkedTentative
}
