package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
)

// deltas records what CompleteStream hands to onDelta.
type deltas struct {
	mu  sync.Mutex
	got []string
}

func (d *deltas) on(s string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, s)
	return nil
}

func (d *deltas) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

func TestCompleteStream(t *testing.T) {
	t.Parallel()

	t.Run("ClientErrorIsPermanentAndKeyFree", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided: " + testKey})

		var d deltas
		_, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		requirePermanent(t, err)
		require.Contains(t, err.Error(), "status 401")
		require.Contains(t, err.Error(), "[redacted]")
		require.Empty(t, d.list())
	})

	t.Run("CutStreamIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, Truncate: true})

		var d deltas
		_, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		requireRetryable(t, err)
		require.NotErrorIs(t, err, ErrTruncated)
		require.Contains(t, err.Error(), "the stream was cut")
		require.NotEmpty(t, d.list(), "the first half streamed before the cut")
	})

	t.Run("DeltasArriveInOrderAndMakeTheCompletion", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, Usage: llmtest.Usage{Prompt: 123, Completion: 45}})

		var d deltas
		got, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		require.NoError(t, err)
		require.Equal(t, llm.Completion{Text: followUpJSON, Model: "test-chat", InputTokens: 123, OutputTokens: 45}, got)
		require.Greater(t, len(d.list()), 5, "the answer came in pieces")
		require.Equal(t, followUpJSON, strings.Join(d.list(), ""))

		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 1)
		require.True(t, reqs[0].Stream)
		require.NotNil(t, reqs[0].StreamOptions)
		require.True(t, reqs[0].StreamOptions.IncludeUsage)
		require.Equal(t, "json_schema", reqs[0].ResponseFormat.Type)
		require.True(t, reqs[0].ResponseFormat.JSONSchema.Strict)
		require.Equal(t, 700, reqs[0].MaxTokens)
	})

	t.Run("EmptyAnswerIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyContent(""))

		_, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "empty")
	})

	t.Run("EndWithoutFinishReasonIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		// A clean end of the body, but no finish_reason and no [DONE].
		bundle.server.Reply(llmtest.Reply{Body: `data: {"id":"c","object":"chat.completion.chunk","model":"test-chat",` +
			`"choices":[{"index":0,"delta":{"content":"{\"subject\":"},"finish_reason":null}]}` + "\n\n"})

		var d deltas
		_, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "without a finish_reason")
		require.Equal(t, []string{`{"subject":`}, d.list())
	})

	t.Run("ErrorEventMidStreamIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Body: `data: {"id":"c","object":"chat.completion.chunk","model":"test-chat",` +
			`"choices":[{"index":0,"delta":{"content":"{"},"finish_reason":null}]}` + "\n\n" +
			`data: {"error":{"message":"the model is overloaded","type":"server_error"}}` + "\n\n"})

		_, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "overloaded")
	})

	t.Run("FinishReasonLengthIsTruncated", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: `{"subject":"Next st`, FinishReason: "length"})

		_, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		requireRetryable(t, err)
		require.ErrorIs(t, err, ErrTruncated)
	})

	t.Run("FirstDeltaArrivesBeforeTheStreamEnds", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		hold := make(chan struct{})
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, Hold: hold})

		// The server keeps the last delta back until the first one is
		// here: a provider that read the whole stream before handing
		// anything on would wait for the deadline and fail.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var once sync.Once
		got, err := p.CompleteStream(ctx, schemaRequest(), func(string) error {
			once.Do(func() { close(hold) })
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, followUpJSON, got.Text)
	})

	t.Run("MalformedChunkIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, BadChunk: true})

		_, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "not valid JSON")
	})

	t.Run("OnDeltaErrorStopsTheStream", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Deltas: strings.Split(strings.Repeat("x", 40), ""), ChunkDelay: 50 * time.Millisecond})

		errGone := errors.New("the client went away")
		var calls int
		start := time.Now()
		_, err := p.CompleteStream(context.Background(), schemaRequest(), func(string) error {
			calls++
			if calls == 2 {
				return errGone
			}
			return nil
		})
		require.ErrorIs(t, err, errGone)
		require.Equal(t, 2, calls, "no delta after onDelta failed")
		require.Less(t, time.Since(start), time.Second, "the stream was not read to its end (40 chunks 50ms apart)")
	})

	t.Run("ParentCancelReturnsContextError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, ChunkDelay: 10 * time.Second})

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := p.CompleteStream(ctx, schemaRequest(), (&deltas{}).on)
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, llm.ErrPermanent)
		require.Less(t, time.Since(start), time.Second)

		_, err = p.CompleteStream(ctx, schemaRequest(), (&deltas{}).on)
		require.ErrorIs(t, err, context.Canceled, "a cancelled context sends nothing")
		require.Len(t, bundle.server.Requests(), 1)
	})

	t.Run("RateLimitWithRetryAfterReturnsRetryAfterError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply429(1500 * time.Millisecond))

		var d deltas
		_, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		requireRetryable(t, err)
		var ra *llm.RetryAfterError
		require.ErrorAs(t, err, &ra)
		require.Equal(t, 1500*time.Millisecond, ra.After)
		require.Contains(t, err.Error(), "status 429")
		require.Empty(t, d.list())
	})

	t.Run("SchemaRejectedFallsBackToJSONObjectAndRemembers", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{RejectSchema: true})
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		var d deltas
		got, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		require.NoError(t, err)
		require.JSONEq(t, followUpJSON, got.Text)
		require.Equal(t, followUpJSON, strings.Join(d.list(), ""), "only the fallback's answer streamed")
		_, err = p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		require.NoError(t, err)

		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 3, "one rejected call, one fallback, then JSON mode directly")
		require.Equal(t, "json_schema", reqs[0].ResponseFormat.Type)
		require.Equal(t, "json_object", reqs[1].ResponseFormat.Type)
		require.Equal(t, "json_object", reqs[2].ResponseFormat.Type)
		require.Contains(t, reqs[1].Messages[0].Content, llmtest.FollowUpSchema)
		for _, r := range reqs {
			require.True(t, r.Stream)
		}
	})

	t.Run("ServerErrorsAreRetryable", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{500, 503} {
			t.Run(fmt.Sprint(status), func(t *testing.T) {
				t.Parallel()
				p, bundle := setup(t)
				bundle.server.Reply(llmtest.Reply{Status: status})

				_, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
				requireRetryable(t, err)
				require.Contains(t, err.Error(), fmt.Sprintf("status %d", status))
			})
		}
	})

	t.Run("StreamOptionsRejectedIsDroppedAndRemembered", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Status: http.StatusBadRequest, Error: "Unrecognized request argument supplied: stream_options"})
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		got, err := p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		require.NoError(t, err)
		require.Equal(t, followUpJSON, got.Text)
		require.Zero(t, got.InputTokens, "usage was not asked for")
		_, err = p.CompleteStream(context.Background(), schemaRequest(), (&deltas{}).on)
		require.NoError(t, err)

		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 3)
		require.NotNil(t, reqs[0].StreamOptions)
		require.Nil(t, reqs[1].StreamOptions)
		require.Nil(t, reqs[2].StreamOptions, "remembered")
		require.Equal(t, "json_schema", reqs[1].ResponseFormat.Type, "the refusal was about stream_options, not json_schema")
	})

	t.Run("TimeoutBoundsTheWholeStream", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, _ *llmtest.Server) { c.Timeout = 500 * time.Millisecond })
		// Each pause is well within the timeout; the whole stream (2s) is
		// not.
		bundle.server.Reply(llmtest.Reply{Deltas: strings.Split(strings.Repeat("x", 40), ""), ChunkDelay: 50 * time.Millisecond})

		start := time.Now()
		var d deltas
		_, err := p.CompleteStream(context.Background(), schemaRequest(), d.on)
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "did not finish within 500ms")
		require.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's own context did not end")
		require.Less(t, time.Since(start), 2*time.Second)
		require.NotEmpty(t, d.list())
	})
}
