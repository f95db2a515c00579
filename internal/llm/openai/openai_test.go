package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
	"logbook/prompts"
)

// testKey is the API key every test provider sends. No error may contain it.
const testKey = "sk-llmtest-SECRET-0123456789abcdef"

const followUpJSON = `{"subject":"Next steps: pilot planning","body":"Hi Tom, thanks for the meeting."}`

type testBundle struct {
	server *llmtest.Server
}

// setup starts a fake server and a Provider pointed at it; mutate adjusts
// the Config (and the server's expectations) before New.
func setup(t *testing.T, mutate ...func(*Config, *llmtest.Server)) (*Provider, *testBundle) {
	t.Helper()
	server := llmtest.NewServer(t)
	server.APIKey = testKey
	cfg := Config{
		APIKey:     testKey,
		BaseURL:    server.URL(),
		ChatModel:  llmtest.DefaultChatModel,
		EmbedDim:   llmtest.DefaultEmbedDim,
		EmbedModel: llmtest.DefaultEmbedModel,
		Timeout:    10 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg, server)
	}
	p, err := New(cfg)
	require.NoError(t, err)
	return p, &testBundle{server: server}
}

// requireRetryable checks that err is a retryable, key-free error.
func requireRetryable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotErrorIs(t, err, llm.ErrPermanent, "want a retryable error, got %v", err)
	require.NotContains(t, err.Error(), testKey)
}

// requirePermanent checks that err wraps llm.ErrPermanent and has no key.
func requirePermanent(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, llm.ErrPermanent)
	require.NotContains(t, err.Error(), testKey)
}

func schemaRequest() llm.CompletionRequest {
	return llm.CompletionRequest{
		Purpose:   prompts.PurposeFollowUp,
		System:    "You draft follow-up emails. Answer in JSON.",
		Messages:  []llm.Message{{Role: "user", Content: "Notes: pilot in March."}},
		JSON:      true,
		Schema:    &llm.Schema{Name: "follow_up", JSON: json.RawMessage(llmtest.FollowUpSchema)},
		MaxTokens: 700,
	}
}

func TestComplete(t *testing.T) {
	t.Parallel()

	t.Run("ClientErrorsArePermanent", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{400, 401, 403, 404, 413, 422} {
			t.Run(fmt.Sprint(status), func(t *testing.T) {
				t.Parallel()
				p, bundle := setup(t)
				bundle.server.Reply(llmtest.Reply{Status: status, Error: "refused for a reason"})

				_, err := p.Complete(context.Background(), schemaRequest())
				requirePermanent(t, err)
				require.Contains(t, err.Error(), fmt.Sprintf("status %d", status))
				require.Contains(t, err.Error(), "refused for a reason")
				var ra *llm.RetryAfterError
				require.NotErrorAs(t, err, &ra)
			})
		}
	})

	t.Run("ConnectionRefusedIsRetryable", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())

		p, err := New(Config{APIKey: testKey, BaseURL: "http://" + addr + "/v1", ChatModel: "m", EmbedModel: "e", EmbedDim: 8})
		require.NoError(t, err)
		_, err = p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		_, err = p.Embed(context.Background(), []string{"a"})
		requireRetryable(t, err)
	})

	t.Run("CutBodyIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, Truncate: true})

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
	})

	t.Run("EmptyChoicesIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyNoChoices())

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "no choices")
	})

	t.Run("EmptyContentIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyContent(""))

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "empty")
	})

	t.Run("FinishReasonLengthIsTruncated", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: `{"subject":"Next st`, FinishReason: "length"})

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		require.ErrorIs(t, err, ErrTruncated)
	})

	t.Run("FinishReasonLengthWithoutJSONReturnsText", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: "A long answer that was cu", FinishReason: "length"})

		got, err := p.Complete(context.Background(), llm.CompletionRequest{
			Purpose:  prompts.PurposeAnswer,
			Messages: []llm.Message{{Role: "user", Content: "Say something long."}},
		})
		require.NoError(t, err)
		require.Equal(t, "A long answer that was cu", got.Text)
		require.Nil(t, bundle.server.ChatRequests()[0].ResponseFormat, "a plain request sends no response_format")
	})

	t.Run("JSONModeSendsJSONObject", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyContent(`{"answer":"yes","citations":[]}`))
		bundle.server.Reply(llmtest.ReplyContent(`{"answer":"no","citations":[]}`))

		got, err := p.Complete(context.Background(), llm.CompletionRequest{
			Purpose:  prompts.PurposeAnswer,
			System:   "Answer from the sources. Reply in JSON.",
			Messages: []llm.Message{{Role: "user", Content: "Did they agree?"}},
			JSON:     true,
		})
		require.NoError(t, err)
		require.JSONEq(t, `{"answer":"yes","citations":[]}`, got.Text)

		// No message says "JSON": OpenAI would refuse JSON mode, so the
		// provider says it in the system prompt.
		_, err = p.Complete(context.Background(), llm.CompletionRequest{
			Purpose:  prompts.PurposeAnswer,
			Messages: []llm.Message{{Role: "user", Content: "Did they agree?"}},
			JSON:     true,
		})
		require.NoError(t, err)

		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 2)
		for _, r := range reqs {
			require.NotNil(t, r.ResponseFormat)
			require.Equal(t, "json_object", r.ResponseFormat.Type)
			require.Nil(t, r.ResponseFormat.JSONSchema)
		}
		require.Equal(t, "Answer from the sources. Reply in JSON.", reqs[0].Messages[0].Content, "a prompt that says JSON is sent as is")
		require.Equal(t, "system", reqs[1].Messages[0].Role)
		require.Contains(t, reqs[1].Messages[0].Content, "JSON")
	})

	t.Run("MalformedContentIsReturnedForTheCallerToValidate", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyMalformed())

		got, err := p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		require.False(t, json.Valid([]byte(got.Text)))
	})

	t.Run("ParentCancelReturnsContextError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyTimeout(10 * time.Second))

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := p.Complete(ctx, schemaRequest())
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, llm.ErrPermanent)
		require.Less(t, time.Since(start), time.Second)
	})

	t.Run("ParentDeadlineReturnsContextError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyTimeout(10 * time.Second))

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := p.Complete(ctx, schemaRequest())
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("RateLimitWithoutRetryAfterIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply429(0))

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		var ra *llm.RetryAfterError
		require.NotErrorAs(t, err, &ra)
		require.Contains(t, err.Error(), "status 429")
	})

	t.Run("RateLimitWithRetryAfterReturnsRetryAfterError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply429(2 * time.Second))
		bundle.server.Reply(llmtest.Reply429(1500 * time.Millisecond))

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		var ra *llm.RetryAfterError
		require.ErrorAs(t, err, &ra)
		require.Equal(t, 2*time.Second, ra.After)
		require.Contains(t, err.Error(), "status 429")

		_, err = p.Complete(context.Background(), schemaRequest())
		require.ErrorAs(t, err, &ra)
		require.Equal(t, 1500*time.Millisecond, ra.After, "Retry-After-Ms wins over Retry-After")
	})

	t.Run("ReasoningModelGetsMaxCompletionTokens", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, s *llmtest.Server) { c.ChatModel, s.ChatModel = "gpt-5-mini", "gpt-5-mini" })
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		_, err := p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		req := bundle.server.ChatRequests()[0]
		require.Zero(t, req.MaxTokens)
		require.Equal(t, 700, req.MaxCompletionTokens)
	})

	t.Run("SchemaNameComesFromPurposeWhenUnset", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		req := schemaRequest()
		req.Schema = &llm.Schema{JSON: json.RawMessage(llmtest.FollowUpSchema)}
		_, err := p.Complete(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, "followup_v1", bundle.server.ChatRequests()[0].ResponseFormat.JSONSchema.Name)
	})

	t.Run("SchemaNotJSONIsPermanentAndNotSent", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)

		req := schemaRequest()
		req.Schema = &llm.Schema{Name: "broken", JSON: json.RawMessage(`{"type":`)}
		_, err := p.Complete(context.Background(), req)
		requirePermanent(t, err)
		require.Empty(t, bundle.server.Requests())
	})

	t.Run("SchemaRejectedFallsBackToJSONObjectAndRemembers", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{RejectSchema: true})
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))
		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		got, err := p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		require.JSONEq(t, followUpJSON, got.Text)
		_, err = p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)

		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 3, "one rejected call, one fallback, then JSON mode directly")
		require.Equal(t, "json_schema", reqs[0].ResponseFormat.Type)
		require.Equal(t, "json_object", reqs[1].ResponseFormat.Type)
		require.Equal(t, "json_object", reqs[2].ResponseFormat.Type)
		// In JSON mode the model sees the schema only in the prompt.
		require.Contains(t, reqs[1].Messages[0].Content, llmtest.FollowUpSchema)

		// The memory is per Provider: a fresh one tries json_schema again.
		other, otherBundle := setup(t)
		otherBundle.server.Reply(llmtest.ReplyContent(followUpJSON))
		_, err = other.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		require.Equal(t, "json_schema", otherBundle.server.ChatRequests()[0].ResponseFormat.Type)
	})

	t.Run("SchemaRejectedTwiceReturnsThePermanentError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{RejectSchema: true})
		bundle.server.Reply(llmtest.Reply{Status: http.StatusBadRequest, Error: "response_format is not supported"})

		bundle.server.Reply(llmtest.ReplyContent(followUpJSON))

		_, err := p.Complete(context.Background(), schemaRequest())
		requirePermanent(t, err)
		require.Len(t, bundle.server.Requests(), 2, "the fallback is tried once, not retried")

		// JSON mode was refused too, so the 400 was not about json_schema:
		// the next call still sends it.
		_, err = p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		reqs := bundle.server.ChatRequests()
		require.Len(t, reqs, 3)
		require.Equal(t, "json_schema", reqs[2].ResponseFormat.Type)
	})

	t.Run("SchemaSucceedsWithStrictJSONSchema", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Content: followUpJSON, Usage: llmtest.Usage{Prompt: 123, Completion: 45}})

		got, err := p.Complete(context.Background(), schemaRequest())
		require.NoError(t, err)
		require.Equal(t, llm.Completion{Text: followUpJSON, Model: "test-chat", InputTokens: 123, OutputTokens: 45}, got)

		reqs := bundle.server.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
		req := reqs[0].Chat
		require.Equal(t, "test-chat", req.Model)
		require.Equal(t, 700, req.MaxTokens)
		require.Equal(t, []llmtest.ChatMessage{
			{Role: "system", Content: "You draft follow-up emails. Answer in JSON."},
			{Role: "user", Content: "Notes: pilot in March."},
		}, req.Messages)
		require.Equal(t, "json_schema", req.ResponseFormat.Type)
		require.Equal(t, "follow_up", req.ResponseFormat.JSONSchema.Name)
		require.True(t, req.ResponseFormat.JSONSchema.Strict)
		require.JSONEq(t, llmtest.FollowUpSchema, string(req.ResponseFormat.JSONSchema.Schema))
	})

	t.Run("ServerErrorsAreRetryable", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{408, 409, 500, 502, 503} {
			t.Run(fmt.Sprint(status), func(t *testing.T) {
				t.Parallel()
				p, bundle := setup(t)
				bundle.server.Reply(llmtest.Reply{Status: status})

				_, err := p.Complete(context.Background(), schemaRequest())
				requireRetryable(t, err)
				require.Contains(t, err.Error(), fmt.Sprintf("status %d", status))
			})
		}
	})

	t.Run("ServerErrorWithHTMLBodyIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.Reply(llmtest.Reply{Status: http.StatusBadGateway, Body: "<html><body>502 Bad Gateway</body></html>"})

		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "502 Bad Gateway")
	})

	t.Run("TimeoutIsRetryableAndFast", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, _ *llmtest.Server) { c.Timeout = 200 * time.Millisecond })
		bundle.server.Reply(llmtest.ReplyTimeout(10 * time.Second))

		start := time.Now()
		_, err := p.Complete(context.Background(), schemaRequest())
		requireRetryable(t, err)
		require.Less(t, time.Since(start), 2*time.Second)
		require.Contains(t, err.Error(), "200ms")
		require.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's own context did not end")
	})

	t.Run("UnauthorizedNeverShowsTheKey", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		// Some servers echo the key they refused.
		bundle.server.Reply(llmtest.Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided: " + testKey})
		bundle.server.Reply(llmtest.Reply{Status: http.StatusBadRequest, Body: "bad key " + testKey})

		_, err := p.Complete(context.Background(), schemaRequest())
		requirePermanent(t, err)
		require.Contains(t, err.Error(), "Incorrect API key provided: [redacted]")

		_, err = p.Complete(context.Background(), schemaRequest())
		requirePermanent(t, err)
		require.Contains(t, err.Error(), "bad key [redacted]")
	})
}

func TestEmbed(t *testing.T) {
	t.Parallel()

	t.Run("BatchesOf512InOrder", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		texts := make([]string, 1100)
		for i := range texts {
			texts[i] = fmt.Sprintf("chunk %d of the transcript", i)
		}

		got, err := p.Embed(context.Background(), texts)
		require.NoError(t, err)
		require.Len(t, got, len(texts))
		for i, text := range texts {
			require.Equal(t, llmtest.Vector(text, llmtest.DefaultEmbedDim), got[i], "vector %d", i)
		}

		reqs := bundle.server.EmbedRequests()
		require.Len(t, reqs, 3)
		require.Len(t, reqs[0].Input, 512)
		require.Len(t, reqs[1].Input, 512)
		require.Len(t, reqs[2].Input, 76)
		require.Equal(t, texts[512], reqs[1].Input[0])
		require.Zero(t, reqs[0].Dimensions, "only text-embedding-3 models get dimensions")
	})

	t.Run("DimensionMismatchIsPermanent", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.ReplyEmbed(llmtest.Reply{Dim: 32})

		_, err := p.Embed(context.Background(), []string{"a", "b"})
		requirePermanent(t, err)
		require.Contains(t, err.Error(), "set EMBED_DIM=32")
	})

	t.Run("DimensionsSentForTextEmbedding3", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, s *llmtest.Server) {
			c.EmbedModel, s.EmbedModel = "text-embedding-3-small", "text-embedding-3-small"
			c.EmbedDim = 256
		})

		got, err := p.Embed(context.Background(), []string{"pricing"})
		require.NoError(t, err)
		require.Len(t, got[0], 256)
		require.Equal(t, 256, bundle.server.EmbedRequests()[0].Dimensions)
	})

	t.Run("EmptyTextIsSentAsASpace", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)

		got, err := p.Embed(context.Background(), []string{"a", ""})
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, []string{"a", " "}, bundle.server.EmbedRequests()[0].Input)
	})

	t.Run("ErrorsAreClassified", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.ReplyEmbed(llmtest.Reply429(3 * time.Second))
		bundle.server.ReplyEmbed(llmtest.Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided: " + testKey})
		bundle.server.ReplyEmbed(llmtest.Reply500())
		bundle.server.ReplyEmbed(llmtest.Reply{Truncate: true})

		_, err := p.Embed(context.Background(), []string{"a"})
		requireRetryable(t, err)
		var ra *llm.RetryAfterError
		require.ErrorAs(t, err, &ra)
		require.Equal(t, 3*time.Second, ra.After)

		_, err = p.Embed(context.Background(), []string{"a"})
		requirePermanent(t, err)

		_, err = p.Embed(context.Background(), []string{"a"})
		requireRetryable(t, err)

		_, err = p.Embed(context.Background(), []string{"a"})
		requireRetryable(t, err)
	})

	t.Run("ErrorInALaterBatchNamesTheBatch", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.ReplyEmbed(llmtest.Reply{})
		bundle.server.ReplyEmbed(llmtest.Reply500())

		_, err := p.Embed(context.Background(), make([]string, 600))
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "texts 512 to 599 of 600")
	})

	t.Run("IndexOrderIsHonoured", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, _ *llmtest.Server) { c.EmbedDim = 2 })
		bundle.server.ReplyEmbed(llmtest.Reply{Body: `{"object":"list","model":"test-embed","data":[` +
			`{"object":"embedding","index":1,"embedding":[0,1]},` +
			`{"object":"embedding","index":0,"embedding":[1,0]}]}`})

		got, err := p.Embed(context.Background(), []string{"first", "second"})
		require.NoError(t, err)
		require.Equal(t, [][]float32{{1, 0}, {0, 1}}, got)
	})

	t.Run("ParentCancelReturnsContextError", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t)
		bundle.server.ReplyEmbed(llmtest.Reply{Delay: 10 * time.Second})

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := p.Embed(ctx, []string{"a"})
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, time.Since(start), time.Second)
	})

	t.Run("TimeoutIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, _ *llmtest.Server) { c.Timeout = 200 * time.Millisecond })
		bundle.server.ReplyEmbed(llmtest.Reply{Delay: 10 * time.Second})

		start := time.Now()
		_, err := p.Embed(context.Background(), []string{"a"})
		requireRetryable(t, err)
		require.Less(t, time.Since(start), 2*time.Second)
	})

	t.Run("VectorCountMismatchIsRetryable", func(t *testing.T) {
		t.Parallel()
		p, bundle := setup(t, func(c *Config, _ *llmtest.Server) { c.EmbedDim = 2 })
		bundle.server.ReplyEmbed(llmtest.Reply{Embeddings: [][]float32{{1, 0}}})

		_, err := p.Embed(context.Background(), []string{"a", "b"})
		requireRetryable(t, err)
		require.Contains(t, err.Error(), "sent 2 texts, got 1 vectors")
	})
}

func TestConformance(t *testing.T) {
	t.Parallel()
	p, bundle := setup(t)
	bundle.server.Default = func(req llmtest.ChatRequest) string {
		if req.ResponseFormat != nil && req.ResponseFormat.JSONSchema != nil &&
			req.ResponseFormat.JSONSchema.Name == "follow_up" {
			return followUpJSON
		}
		return `{"error":"llmtest: unexpected request"}`
	}
	llmtest.Conformance(t, p, p, llmtest.DefaultEmbedDim)
}

func TestNew(t *testing.T) {
	t.Parallel()

	valid := func() Config {
		return Config{APIKey: testKey, BaseURL: "http://127.0.0.1:8000/v1", ChatModel: "c", EmbedModel: "e", EmbedDim: 8}
	}

	t.Run("DefaultsTimeout", func(t *testing.T) {
		t.Parallel()
		p, err := New(valid())
		require.NoError(t, err)
		require.Equal(t, DefaultTimeout, p.timeout)
	})

	t.Run("OpenAIWithoutKeyIsRefused", func(t *testing.T) {
		t.Parallel()
		cfg := valid()
		cfg.BaseURL, cfg.APIKey = "", ""
		_, err := New(cfg)
		require.ErrorContains(t, err, "OPENAI_API_KEY")

		cfg.APIKey = testKey
		_, err = New(cfg)
		require.NoError(t, err, "api.openai.com with a key")
	})

	t.Run("SelfHostedWithoutKeyIsAccepted", func(t *testing.T) {
		t.Parallel()
		cfg := valid()
		cfg.APIKey = ""
		_, err := New(cfg)
		require.NoError(t, err)
	})

	t.Run("StringAndLogValueMaskTheKey", func(t *testing.T) {
		t.Parallel()
		cfg := valid()
		require.NotContains(t, cfg.String(), testKey)
		require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), testKey)
		p, err := New(cfg)
		require.NoError(t, err)
		require.NotContains(t, fmt.Sprintf("%v %+v %#v", p, p, p), testKey)
		require.NotContains(t, cfg.LogValue().String(), testKey)
	})

	t.Run("ValidatesEveryField", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{APIKey: testKey, BaseURL: "localhost:8000", EmbedDim: -1, Timeout: -time.Second})
		require.Error(t, err)
		for _, want := range []string{"CHAT_MODEL", "EMBED_MODEL", "EMBED_DIM", "Timeout", "OPENAI_BASE_URL"} {
			require.ErrorContains(t, err, want)
		}
		require.NotContains(t, err.Error(), testKey)
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"Absent", http.Header{}, 0, false},
		{"Garbage", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"HTTPDate", http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second, true},
		{"HTTPDateInThePast", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0, true},
		{"Milliseconds", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, 250 * time.Millisecond, true},
		{"Seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := retryAfter(tc.header, now)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("RetryAfterErrorUnwraps", func(t *testing.T) {
		t.Parallel()
		inner := &statusError{op: "complete", status: 429, msg: "slow down"}
		var err error = &llm.RetryAfterError{After: time.Second, Err: inner}
		require.ErrorIs(t, err, inner)
		require.NotErrorIs(t, err, llm.ErrPermanent)
		require.Equal(t, "openai: complete: status 429: slow down (retry after 1s)", err.Error())
		require.True(t, errors.Is(&statusError{status: 400, permanent: true}, llm.ErrPermanent))
	})
}
