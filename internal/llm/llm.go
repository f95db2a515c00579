package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"logbook/prompts"
)

// ErrPermanent marks a failure that retrying cannot fix: the request was
// refused (400, 401, 403, 404) or the provider's answer can never be used.
// Providers wrap it (fmt.Errorf("...: %w", llm.ErrPermanent)); any other
// error is treated as retryable (429, 5xx, timeouts, a dropped connection).
var ErrPermanent = errors.New("llm: permanent failure")

// RetryAfterError is returned by a provider when the server refused a
// request for now (HTTP 429, or 503) and said how long to wait. It is
// retryable (never ErrPermanent); the worker uses After as the delay before
// its next attempt (see RetryAfter).
type RetryAfterError struct {
	// After is how long the server asked the client to wait; never negative.
	After time.Duration
	// Err is the underlying retryable error (status and server message).
	Err error
}

// Error reports the underlying error and the wait the server asked for.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter reports how long the server asked to wait before the next
// attempt, when err is or wraps a *RetryAfterError with a positive After.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return ra.After, true
	}
	return 0, false
}

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
	// Purpose is the prompt's name and version (prompts.PurposeNotes…).
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
	// *prompts.NotesInput, *prompts.FollowUpInput or *prompts.AnswerInput).
	// The local provider works from it instead of re-reading the prompt;
	// remote providers ignore it.
	Data prompts.Input
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

// FollowUpOutput is the JSON a follow-up completion returns.
type FollowUpOutput struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
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
