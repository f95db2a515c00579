package crm

import (
	"slices"
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
// with the reason in Error).
const (
	TranscriptQueued     TranscriptStatus = "queued"
	TranscriptProcessing TranscriptStatus = "processing"
	TranscriptDone       TranscriptStatus = "done"
	TranscriptFailed     TranscriptStatus = "failed"
)

// TranscriptStatuses lists every valid status.
var TranscriptStatuses = []TranscriptStatus{TranscriptQueued, TranscriptProcessing, TranscriptDone, TranscriptFailed}

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
}

// Evidence points a claim at the transcript: the segment, when and by whom
// it was said, and the exact words.
type Evidence struct {
	Segment int    `json:"segment"`
	StartMS int64  `json:"start_ms"`
	Speaker string `json:"speaker"`
	Quote   string `json:"quote"`
}

// Point is a key point, decision or risk with the lines it came from.
type Point struct {
	Text     string     `json:"text"`
	Evidence []Evidence `json:"evidence"`
}

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
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

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
type Notes struct {
	Summary         string       `json:"summary"`
	SummaryEvidence []Evidence   `json:"summary_evidence"`
	KeyPoints       []Point      `json:"key_points"`
	Decisions       []Point      `json:"decisions"`
	Risks           []Point      `json:"risks"`
	ActionItems     []ActionItem `json:"action_items"`
	FollowUp        *FollowUp    `json:"follow_up"`
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
