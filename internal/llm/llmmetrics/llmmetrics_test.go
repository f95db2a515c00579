package llmmetrics_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"logbook/internal/llm"
	"logbook/internal/llm/llmmetrics"
	"logbook/internal/llm/llmtest"
	"logbook/internal/llm/openai"
	"logbook/prompts"
)

// TestOpenAIThroughFakeServer measures the openai provider against the
// fake server: an answered call (tokens and cost from the reported usage),
// a rate limit, a refusal, a streamed answer, and embeddings, each under
// its model, purpose and result.
func TestOpenAIThroughFakeServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := llmtest.NewServer(t)
	p, err := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL(), ChatModel: llmtest.DefaultChatModel,
		EmbedModel: llmtest.DefaultEmbedModel, EmbedDim: llmtest.DefaultEmbedDim})
	require.NoError(t, err)
	reg := prometheus.NewPedanticRegistry()
	m, err := llmmetrics.New(reg, map[string]llmmetrics.Price{llmtest.DefaultChatModel: {Input: 2, Output: 10}})
	require.NoError(t, err)
	c := m.Completer(p, llmtest.DefaultChatModel)
	e := m.Embedder(p, "emb")
	_, streams := c.(interface {
		CompleteStream(context.Context, llm.CompletionRequest, func(string) error) (llm.Completion, error)
	})
	require.True(t, streams, "the measured openai provider still streams")

	req := llm.CompletionRequest{Purpose: prompts.PurposeNotes, Messages: []llm.Message{{Role: "user", Content: "hi"}}}
	srv.Reply(llmtest.Reply{Content: `{"a":1}`, Usage: llmtest.Usage{Prompt: 1000, Completion: 200}})
	_, err = c.Complete(ctx, req)
	require.NoError(t, err)
	srv.Reply(llmtest.Reply429(3 * time.Second))
	_, err = c.Complete(ctx, req)
	require.Error(t, err)
	srv.Reply(llmtest.Reply{Status: http.StatusBadRequest, Error: "no"})
	_, err = c.Complete(ctx, req)
	require.ErrorIs(t, err, llm.ErrPermanent)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Complete(cctx, req)
	require.Error(t, err)
	vecs, err := e.Embed(ctx, []string{"one", "two", "three"})
	require.NoError(t, err)
	require.Len(t, vecs, 3)

	model, notes := llmtest.DefaultChatModel, prompts.PurposeNotes
	require.Equal(t, 1.0, value(t, reg, "logbook_llm_requests_total", model, notes, "ok"))
	require.Equal(t, 1.0, value(t, reg, "logbook_llm_requests_total", model, notes, "rate_limited"))
	require.Equal(t, 1.0, value(t, reg, "logbook_llm_requests_total", model, notes, "permanent_error"))
	require.Equal(t, 1.0, value(t, reg, "logbook_llm_requests_total", model, notes, "canceled"))
	require.Equal(t, 1.0, value(t, reg, "logbook_llm_requests_total", "emb", "embed", "ok"))
	require.Equal(t, 1000.0, value(t, reg, "logbook_llm_tokens_total", model, notes, "input"))
	require.Equal(t, 200.0, value(t, reg, "logbook_llm_tokens_total", model, notes, "output"))
	// 1000 × $2/M + 200 × $10/M = $0.004.
	require.InDelta(t, 0.004, value(t, reg, "logbook_llm_cost_usd_total", model, notes), 1e-12)
	require.Equal(t, 3.0, value(t, reg, "logbook_llm_embedded_texts_total", "emb"))

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
	n, err := testutil.GatherAndCount(reg, "logbook_llm_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 2, n, "one latency series for notes, one for embed")
}

// value is the counter of name whose label values are vals (in any
// order) among what reg gathers.
func value(t *testing.T, reg *prometheus.Registry, name string, vals ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	want := slices.Sorted(slices.Values(vals))
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetValue())
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, vals)
	return 0
}
