package llmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
)

// FollowUpSchema is the strict JSON Schema of llm.FollowUpOutput that
// Conformance sends with its follow-up request.
const FollowUpSchema = `{"type":"object","properties":{` +
	`"subject":{"type":"string"},"body":{"type":"string"}},` +
	`"required":["subject","body"],"additionalProperties":false}`

// Conformance is the test every provider passes (STYLE.md §6, after River's
// riverdrivertest): c and e are the provider under test, dim the embedding
// dimension it was configured with. A provider backed by a Server must be
// able to answer the follow-up request, for example with a Server.Default
// that returns {"subject": …, "body": …}.
//
// It checks that Embed returns one vector of length dim per text, each of
// unit L2 norm (±1e-3), the same vectors for the same texts, and an empty
// result without error for no texts; that both methods give up within a
// second on a cancelled context with an error matching context.Canceled;
// and that a follow-up completion decodes into llm.FollowUpOutput with a
// subject.
func Conformance(t *testing.T, c llm.Completer, e llm.Embedder, dim int) {
	t.Helper()
	require.NotNil(t, c, "llmtest.Conformance: nil Completer")
	require.NotNil(t, e, "llmtest.Conformance: nil Embedder")
	require.Positive(t, dim, "llmtest.Conformance: dim must be > 0")

	texts := []string{
		"Maria: I'll send the revised proposal by Friday.",
		"Tom: Can you loop in legal before we sign?",
		"We agreed to start the pilot with two teams in March.",
		"pricing",
		"Maria: I'll send the revised proposal by Friday.", // a repeat: same vector
	}

	t.Run("CancelledContextIsHonoured", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		start := time.Now()
		_, err := e.Embed(ctx, texts)
		require.ErrorIs(t, err, context.Canceled, "Embed with a cancelled context")
		require.Less(t, time.Since(start), time.Second, "Embed took too long to give up")

		start = time.Now()
		_, err = c.Complete(ctx, followUpRequest())
		require.ErrorIs(t, err, context.Canceled, "Complete with a cancelled context")
		require.Less(t, time.Since(start), time.Second, "Complete took too long to give up")
	})

	t.Run("CompleteFollowUpReturnsFollowUpJSON", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		got, err := c.Complete(ctx, followUpRequest())
		require.NoError(t, err)
		require.NotEmpty(t, got.Model, "Completion.Model must name the model that answered")

		var out llm.FollowUpOutput
		dec := json.NewDecoder(strings.NewReader(got.Text))
		require.NoError(t, dec.Decode(&out), "the follow-up answer is not JSON: %q", got.Text)
		require.False(t, dec.More(), "the follow-up answer has text after the JSON object: %q", got.Text)
		require.NotEmpty(t, strings.TrimSpace(out.Subject), "the follow-up has no subject: %q", got.Text)
	})

	t.Run("EmbedIsDeterministic", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()

		first, err := e.Embed(ctx, texts)
		require.NoError(t, err)
		second, err := e.Embed(ctx, texts)
		require.NoError(t, err)
		require.Equal(t, first, second, "the same texts must embed to the same vectors")
		require.Equal(t, first[0], first[4], "the same text must embed to the same vector wherever it is in a batch")

		alone, err := e.Embed(ctx, texts[1:2])
		require.NoError(t, err)
		require.Equal(t, first[1], alone[0], "a text must embed the same alone as in a batch")
		require.NotEqual(t, first[0], first[1], "different texts must not embed to the same vector")
	})

	t.Run("EmbedNothingReturnsNothing", func(t *testing.T) {
		t.Parallel()
		got, err := e.Embed(context.Background(), nil)
		require.NoError(t, err)
		require.Empty(t, got)

		got, err = e.Embed(context.Background(), []string{})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("EmbedReturnsUnitVectorsOfDim", func(t *testing.T) {
		t.Parallel()
		got, err := e.Embed(context.Background(), texts)
		require.NoError(t, err)
		require.Len(t, got, len(texts), "one vector per text")
		for i, v := range got {
			require.Len(t, v, dim, "vector %d", i)
			var sum float64
			for _, x := range v {
				require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0), "vector %d has NaN or Inf", i)
				sum += float64(x) * float64(x)
			}
			require.InDelta(t, 1, math.Sqrt(sum), 1e-3, "vector %d must have unit L2 norm", i)
		}
	})
}

// followUpRequest is the follow-up completion Conformance sends: a prompt a
// remote model can answer and the Data the local provider works from.
func followUpRequest() llm.CompletionRequest {
	owner := "Maria"
	due := crm.Date{Time: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)}
	in := &prompts.FollowUpInput{
		Title:       "Pilot planning with Acme",
		MeetingDate: time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC),
		From:        "Maria Lopez",
		To: []crm.Participant{
			{Name: "Tom Baker", Email: "tom@acme.example"},
			{Name: "Maria Lopez", Email: "maria@vendor.example"},
		},
		Summary: "Acme agreed to a two-team pilot starting in March; legal reviews the contract first.",
		Decisions: []crm.Point{
			{Text: "Start the pilot with two teams in March.", Evidence: []crm.Evidence{{Segment: 2, Speaker: "Tom", Quote: "start the pilot with two teams in March"}}},
		},
		ActionItems: []crm.ActionItem{
			{Text: "Send the revised proposal", Owner: &owner, DueDate: &due, Status: crm.ActionOpen,
				Evidence: []crm.Evidence{{Segment: 0, Speaker: "Maria", Quote: "I'll send the revised proposal by Friday"}}},
		},
	}
	data, _ := json.MarshalIndent(in, "", "  ") //nolint:errchkjson // plain data, cannot fail
	return llm.CompletionRequest{
		Purpose: prompts.PurposeFollowUp,
		System: "You draft the follow-up email a sales rep sends after a meeting. Use only the notes given. " +
			`Answer with a JSON object {"subject": string, "body": string}.`,
		Messages: []llm.Message{{Role: "user", Content: "Meeting notes:\n" + string(bytes.TrimSpace(data))}},
		JSON:     true,
		Schema:   &llm.Schema{Name: "follow_up", JSON: json.RawMessage(FollowUpSchema)},
		// Generous: a follow-up email is short, and a reasoning model
		// spends tokens before it answers.
		MaxTokens: 2000,
		Data:      in,
	}
}
