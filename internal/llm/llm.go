package llm

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"logbook/internal/crm"
)

// ErrPermanent marks a failure that retrying cannot fix: the request was
// refused (400, 401, 403, 404) or the provider's answer can never be used.
// Providers wrap it (fmt.Errorf("...: %w", llm.ErrPermanent)); any other
// error is treated as retryable (429, 5xx, timeouts, a dropped connection).
var ErrPermanent = errors.New("llm: permanent failure")

// Purposes name what a completion is for, as "name.version". The local
// provider switches on them; the openai provider sends the prompt as is.
const (
	PurposeNotes    = "notes.v2"
	PurposeReduce   = "notes-reduce.v2"
	PurposeFollowUp = "followup.v1"
	PurposeAnswer   = "answer.v4"
)

// Message is one chat message.
type Message struct {
	// Role is "user" or "assistant" (the system prompt is separate).
	Role    string
	Content string
}

// Schema is a JSON Schema the answer must match, sent as strict structured
// output to servers that support it.
type Schema struct {
	Name string
	JSON json.RawMessage
}

// CompletionRequest asks for one completion.
type CompletionRequest struct {
	// Purpose is the prompt's name and version (PurposeNotes…).
	Purpose string
	// System is the system prompt.
	System string
	// Messages follow the system prompt.
	Messages []Message
	// JSON asks for a single JSON object as the answer.
	JSON bool
	// Schema, when set, is the JSON Schema of the answer (implies JSON).
	Schema *Schema
	// MaxTokens caps the answer; zero leaves it to the provider.
	MaxTokens int
	// Data is the structured input the prompt was rendered from (a
	// *NotesInput, *FollowUpInput or *AnswerInput). The local provider works
	// from it instead of re-reading the prompt; remote providers ignore it.
	Data any
}

// Completion is a provider's answer.
type Completion struct {
	Text         string
	Model        string
	InputTokens  int
	OutputTokens int
}

// Completer turns a request into a completion.
type Completer interface {
	Complete(ctx context.Context, req CompletionRequest) (Completion, error)
}

// Embedder turns texts into vectors of a fixed dimension, one per text, in
// order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// NotesInput is what a notes prompt is rendered from: the meeting and the
// segments to read (all of them, or one window in map-reduce).
type NotesInput struct {
	Title        string
	MeetingDate  time.Time
	Participants []crm.Participant
	Segments     []crm.Segment
	// Window and Windows say which part of a long meeting this is (1 of 1
	// when the whole transcript fits).
	Window, Windows int
}

// Claim is one cited statement in a model's notes: the text, the segment
// indexes it rests on, and a short verbatim quote from them.
type Claim struct {
	Text     string `json:"text"`
	Segments []int  `json:"segments"`
	Quote    string `json:"quote"`
}

// ActionClaim is a commitment as a model reports it. Owner is a name as
// said in the meeting (or ""), Due the date phrase as said ("by Friday",
// or ""), never a date the model worked out.
type ActionClaim struct {
	Text      string `json:"text"`
	Owner     string `json:"owner"`
	Due       string `json:"due"`
	Segments  []int  `json:"segments"`
	Quote     string `json:"quote"`
	Tentative bool   `json:"tentative"`
}

// NotesOutput is the JSON a notes (or notes-reduce) completion returns.
type NotesOutput struct {
	Summary     []Claim       `json:"summary"`
	KeyPoints   []Claim       `json:"key_points"`
	Decisions   []Claim       `json:"decisions"`
	Risks       []Claim       `json:"risks"`
	ActionItems []ActionClaim `json:"action_items"`
}

// FollowUpInput is what a follow-up prompt is rendered from: validated
// notes only, so the draft cannot promise what nobody said.
type FollowUpInput struct {
	Title       string
	MeetingDate time.Time
	From        string
	To          []crm.Participant
	Summary     string
	Decisions   []crm.Point
	ActionItems []crm.ActionItem
}

// FollowUpOutput is the JSON a follow-up completion returns.
type FollowUpOutput struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Source is one numbered source given to an answer prompt.
type Source struct {
	N          int
	Text       string
	Speaker    string
	OccurredAt time.Time
	Type       string
}

// AnswerInput is what an answer prompt is rendered from.
type AnswerInput struct {
	Question string
	Sources  []Source
}

// AnswerOutput is the JSON an answer completion returns: the answer and
// the sources it cites, each with a verbatim quote.
type AnswerOutput struct {
	Answer    string           `json:"answer"`
	Citations []AnswerCitation `json:"citations"`
}

// AnswerCitation cites a numbered source.
type AnswerCitation struct {
	Source int    `json:"source"`
	Quote  string `json:"quote"`
}
