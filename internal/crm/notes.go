package crm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Segment is one speaker turn of a transcript, the unit every citation
// points at. Index is the segment's position (0-based) in the transcript.
type Segment struct {
	Index   int    `json:"index"`
	Speaker string `json:"speaker"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
}

// TranscriptStatus is where a transcript is in the pipeline.
type TranscriptStatus string

// Transcript statuses: queued → processing → done, or failed (permanent,
// with the reason in Error). A transcript whose meeting lacks recording
// consent is held (the reason in HeldReason), unprocessed, until the
// consents allow it or an admin releases (→ queued) or discards it (→
// failed, its content deleted).
const (
	TranscriptQueued     TranscriptStatus = "queued"
	TranscriptProcessing TranscriptStatus = "processing"
	TranscriptDone       TranscriptStatus = "done"
	TranscriptFailed     TranscriptStatus = "failed"
	TranscriptHeld       TranscriptStatus = "held"
)

// TranscriptStatuses lists every valid status.
var TranscriptStatuses = []TranscriptStatus{TranscriptQueued, TranscriptProcessing, TranscriptDone, TranscriptFailed, TranscriptHeld}

// Valid reports whether s is a known status.
func (s TranscriptStatus) Valid() bool { return slices.Contains(TranscriptStatuses, s) }

// Transcript is a meeting transcript as stored: the raw content, its parsed
// segments and where processing stands.
type Transcript struct {
	ID         string           `json:"id"`
	OrgID      string           `json:"-"`
	ActivityID string           `json:"activity_id"`
	AccountID  string           `json:"-"`
	Status     TranscriptStatus `json:"status"`
	Attempts   int              `json:"attempts"`
	// Error says why a failed transcript failed (or why the last attempt
	// of one still processing did), in words a user understands.
	Error *string `json:"error"`
	// FollowUpError says why the follow-up draft of a done transcript
	// failed (its notes were kept); POST /v1/activities/{id}/follow-up
	// drafts it again and clears it.
	FollowUpError *string    `json:"follow_up_error"`
	ReceivedAt    time.Time  `json:"received_at"`
	ProcessedAt   *time.Time `json:"processed_at"`
	// PurgedAt is when the org's retention setting removed the raw
	// content and segments (the notes may remain); nil while they are kept.
	PurgedAt     *time.Time    `json:"purged_at"`
	Segments     []Segment     `json:"segments,omitempty"`
	Source       string        `json:"-"`
	ExternalID   *string       `json:"-"`
	Title        string        `json:"-"`
	StartedAt    time.Time     `json:"-"`
	Participants []Participant `json:"-"`
	Revision     int           `json:"-"`

	// HeldReason says why a held transcript waits ("Dana Lee declined
	// recording"); nil unless it is held.
	HeldReason *string `json:"held_reason"`
	// ConsentDecision is an admin's release or discard of the transcript
	// held for consent; nil when none was taken on its current content.
	ConsentDecision *ConsentDecision `json:"consent_decision"`
	// Consents are the meeting participants' recorded consents (GET
	// /v1/transcripts/{id} fills them; elsewhere they are left out).
	Consents []MeetingConsent `json:"consents,omitzero"`
}

// Evidence points a claim at the transcript: the segment, when and by whom
// it was said, and the exact words.
type Evidence struct {
	Segment int    `json:"segment"`
	StartMS int64  `json:"start_ms"`
	Speaker string `json:"speaker"`
	Quote   string `json:"quote"`
}

// Point is a summary sentence, key point, decision or risk with the lines
// it came from. NeedsReview marks one that carries payment instructions,
// credentials or an outside link (ReviewReason says which, as
// "code: reason; …"); such a point stays in the notes people read but is
// held out of follow-up drafts and webhook payloads until a person
// confirms it (ConfirmedBy, ConfirmedAt).
type Point struct {
	Text     string     `json:"text"`
	Evidence []Evidence `json:"evidence"`
	// NeedsReview is set when the point was flagged; it stays set after a
	// confirmation (ConfirmedAt tells that it was confirmed).
	NeedsReview bool `json:"needs_review"`
	// ReviewReason is "code: reason" for each finding, joined by "; "; the
	// codes are payment_instructions, credentials and external_link.
	ReviewReason *string `json:"review_reason"`
	// ConfirmedBy is the ID of the API key that confirmed the point.
	ConfirmedBy *string    `json:"confirmed_by"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

// Held reports whether the point is flagged and not confirmed yet: it may
// not leave for a customer or a webhook.
func (p Point) Held() bool { return p.NeedsReview && p.ConfirmedAt == nil }

// ActionItemStatus is open or done.
type ActionItemStatus string

// Action item statuses.
const (
	ActionOpen ActionItemStatus = "open"
	ActionDone ActionItemStatus = "done"
)

// Valid reports whether s is a known status.
func (s ActionItemStatus) Valid() bool { return s == ActionOpen || s == ActionDone }

// ActionItem is a commitment made in a meeting. Owner and DueDate are set
// only when the transcript says them; Tentative marks hedged commitments
// ("I might be able to…").
type ActionItem struct {
	ID         string           `json:"id"`
	OrgID      string           `json:"-"`
	ActivityID string           `json:"activity_id"`
	AccountID  string           `json:"account_id"`
	Text       string           `json:"text"`
	Owner      *string          `json:"owner"`
	DueDate    *Date            `json:"due_date"`
	Status     ActionItemStatus `json:"status"`
	Tentative  bool             `json:"tentative"`
	Evidence   []Evidence       `json:"evidence"`
	// NeedsReview, ReviewReason, ConfirmedBy and ConfirmedAt are Point's.
	NeedsReview  bool       `json:"needs_review"`
	ReviewReason *string    `json:"review_reason"`
	ConfirmedBy  *string    `json:"confirmed_by"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Held reports whether the action item is flagged and not confirmed yet.
func (a ActionItem) Held() bool { return a.NeedsReview && a.ConfirmedAt == nil }

// FollowUp is the drafted follow-up email of a meeting.
type FollowUp struct {
	Subject     string        `json:"subject"`
	Body        string        `json:"body"`
	To          []Participant `json:"to"`
	GeneratedAt time.Time     `json:"generated_at"`
}

// Tokens counts what a generation cost in model tokens.
type Tokens struct {
	Input  int `json:"input"`
	Output int `json:"output"`
}

// Notes are the processed meeting notes attached to a meeting activity.
// Every claim carries evidence; Coverage is the share of the transcript's
// segments that were read (1.0 unless a limit cut a very long meeting).
// Summary is the summary sentences that are not held for review, joined;
// SummarySentences lists them all, held ones included (notes written
// before review flags existed have none).
type Notes struct {
	Summary          string       `json:"summary"`
	SummaryEvidence  []Evidence   `json:"summary_evidence"`
	SummarySentences []Point      `json:"summary_sentences"`
	KeyPoints        []Point      `json:"key_points"`
	Decisions        []Point      `json:"decisions"`
	Risks            []Point      `json:"risks"`
	ActionItems      []ActionItem `json:"action_items"`
	FollowUp         *FollowUp    `json:"follow_up"`
	// FollowUpError says why the follow-up draft failed when FollowUp is
	// nil for that reason; the notes themselves are complete.
	FollowUpError *string   `json:"follow_up_error"`
	Coverage      float64   `json:"coverage"`
	Model         string    `json:"model"`
	PromptVersion string    `json:"prompt_version"`
	Tokens        Tokens    `json:"tokens"`
	CostUSD       float64   `json:"cost_usd"`
	GeneratedAt   time.Time `json:"generated_at"`
}

// SummaryText joins the summary sentences that are not held into one
// paragraph, each ending with a full stop.
func SummaryText(sentences []Point) string {
	var b strings.Builder
	for _, p := range sentences {
		t := strings.TrimSpace(p.Text)
		if t == "" || p.Held() {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		if !strings.ContainsAny(t[len(t)-1:], ".!?") {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// Held counts the items of n held for review.
func (n Notes) Held() int {
	c := 0
	for _, l := range [][]Point{n.SummarySentences, n.KeyPoints, n.Decisions, n.Risks} {
		for _, p := range l {
			if p.Held() {
				c++
			}
		}
	}
	for _, a := range n.ActionItems {
		if a.Held() {
			c++
		}
	}
	return c
}

// Releasable returns a copy of n without the items held for review: what
// may go into a follow-up draft or a webhook payload. Summary is already
// without held sentences; SummaryEvidence keeps only the released
// sentences' evidence when sentences are known.
func (n Notes) Releasable() Notes {
	keep := func(ps []Point) []Point {
		out := []Point{}
		for _, p := range ps {
			if !p.Held() {
				out = append(out, p)
			}
		}
		return out
	}
	r := n
	if n.SummarySentences != nil {
		r.SummarySentences = keep(n.SummarySentences)
		if len(n.SummarySentences) != len(r.SummarySentences) {
			r.SummaryEvidence = []Evidence{}
			for _, p := range r.SummarySentences {
				r.SummaryEvidence = append(r.SummaryEvidence, p.Evidence...)
			}
		}
	}
	r.KeyPoints, r.Decisions, r.Risks = keep(n.KeyPoints), keep(n.Decisions), keep(n.Risks)
	r.ActionItems = []ActionItem{}
	for _, a := range n.ActionItems {
		if !a.Held() {
			r.ActionItems = append(r.ActionItems, a)
		}
	}
	return r
}

// NoteRef names one item of a meeting's notes: the list (Kind, as the
// notes' JSON names it) and the item's position in it, or for an action
// item its ID instead.
type NoteRef struct {
	// Kind is summary_sentences, key_points, decisions, risks or
	// action_items.
	Kind string `json:"kind"`
	// Index is the item's 0-based position in its list (ignored when ID is
	// given).
	Index int `json:"index"`
	// ID names an action item by its ID instead of its position.
	ID string `json:"id,omitempty"`
	// Text, when given, must be the item's text: it guards against
	// confirming another item after the notes were written again (a new
	// transcript revision) between reading and confirming.
	Text string `json:"text,omitempty"`
}

// NoteKinds are the lists a NoteRef may name.
var NoteKinds = []string{"summary_sentences", "key_points", "decisions", "risks", "action_items"}

// NotesConfirmInput is the body of a confirmation: the flagged items a
// person has checked and lets go to drafts and webhooks.
type NotesConfirmInput struct {
	Items []NoteRef `json:"items"`
}

// MaxConfirmItems bounds one confirmation.
const MaxConfirmItems = 200

// Confirm marks the items refs names as confirmed by `by` at `at` and
// rebuilds Summary from the sentences no longer held. Every ref must name
// an existing item that needs review (a *ValidationError otherwise, and
// nothing changes); an item confirmed before keeps its first confirmation.
func (n *Notes) Confirm(refs []NoteRef, by string, at time.Time) error {
	var pr Problems
	if len(refs) == 0 {
		pr.Add("items", "must name at least one item")
	}
	if len(refs) > MaxConfirmItems {
		pr.Add("items", "must name at most %d items", MaxConfirmItems)
	}
	if err := pr.Err(); err != nil {
		return err
	}
	type target struct {
		p *Point
		a *ActionItem
	}
	targets := make([]target, 0, len(refs))
	for i, ref := range refs {
		field := fmt.Sprintf("items[%d]", i)
		var list []Point
		switch ref.Kind {
		case "summary_sentences":
			list = n.SummarySentences
		case "key_points":
			list = n.KeyPoints
		case "decisions":
			list = n.Decisions
		case "risks":
			list = n.Risks
		case "action_items":
			k := ref.Index
			if ref.ID != "" {
				k = slices.IndexFunc(n.ActionItems, func(a ActionItem) bool { return a.ID == ref.ID })
				if k < 0 {
					pr.Add(field+".id", "is not an action item of this meeting")
					continue
				}
			}
			if k < 0 || k >= len(n.ActionItems) {
				pr.Add(field+".index", "is out of range (the meeting has %d action items)", len(n.ActionItems))
				continue
			}
			if !n.ActionItems[k].NeedsReview {
				pr.Add(field, "does not need review")
				continue
			}
			if ref.Text != "" && ref.Text != n.ActionItems[k].Text {
				pr.Add(field+".text", "is not the item's text: the notes have changed, read them again")
				continue
			}
			targets = append(targets, target{a: &n.ActionItems[k]})
			continue
		default:
			pr.Add(field+".kind", "must be one of %s", strings.Join(NoteKinds, ", "))
			continue
		}
		if ref.ID != "" {
			pr.Add(field+".id", "is only for action_items")
			continue
		}
		if ref.Index < 0 || ref.Index >= len(list) {
			pr.Add(field+".index", "is out of range (%s has %d items)", ref.Kind, len(list))
			continue
		}
		if !list[ref.Index].NeedsReview {
			pr.Add(field, "does not need review")
			continue
		}
		if ref.Text != "" && ref.Text != list[ref.Index].Text {
			pr.Add(field+".text", "is not the item's text: the notes have changed, read them again")
			continue
		}
		targets = append(targets, target{p: &list[ref.Index]})
	}
	if err := pr.Err(); err != nil {
		return err
	}
	at = at.UTC()
	for _, t := range targets {
		if t.p != nil && t.p.ConfirmedAt == nil {
			t.p.ConfirmedBy, t.p.ConfirmedAt = &by, &at
		}
		if t.a != nil && t.a.ConfirmedAt == nil {
			t.a.ConfirmedBy, t.a.ConfirmedAt = &by, &at
		}
	}
	if len(n.SummarySentences) > 0 {
		n.Summary = SummaryText(n.SummarySentences)
		n.SummaryEvidence = []Evidence{}
		for _, p := range n.SummarySentences {
			if !p.Held() {
				n.SummaryEvidence = append(n.SummaryEvidence, p.Evidence...)
			}
		}
	}
	return nil
}
