package api

import (
	"context"

	"logbook/retrieval"
)

// Asker answers a question from an org's history. onToken, when not nil,
// receives the answer's text as it is produced (for text/event-stream).
type Asker interface {
	Ask(ctx context.Context, q retrieval.Question, onToken func(string) error) (retrieval.Answer, error)
}
