// Package llmmetrics counts what the model costs: a decorator around
// llm.Completer and llm.Embedder that records each call's result, latency,
// tokens and estimated cost in Prometheus metrics, by model and purpose
// (the prompt's name and version, prompts.PurposeNotes…; "embed" for
// embeddings). The app wires it around whichever provider is configured,
// so the local and the openai providers are measured alike.
package llmmetrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"logbook/internal/llm"
)

// Results of a model call as logbook_llm_requests_total counts them.
const (
	// ResultOK: the provider answered.
	ResultOK = "ok"
	// ResultError: a retryable failure (5xx, timeout, dropped connection).
	ResultError = "error"
	// ResultRateLimited: the provider refused for now and said when to
	// come back (llm.RetryAfterError).
	ResultRateLimited = "rate_limited"
	// ResultPermanent: the request was refused for good (llm.ErrPermanent).
	ResultPermanent = "permanent_error"
	// ResultCanceled: the caller gave up (its context ended).
	ResultCanceled = "canceled"
)

// PurposeEmbed is the purpose label of embedding calls.
const PurposeEmbed = "embed"

// Price is what a model costs in USD per million tokens.
type Price struct {
	Input, Output float64
}

// Metrics holds the model-call metrics of one process. Register it once
// (New) and wrap every provider the process builds with it.
type Metrics struct {
	prices   map[string]Price
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	texts    *prometheus.CounterVec
}

// New creates the metrics, registers them on reg, and prices completions
// with prices (model → USD per million tokens; a model not listed costs 0).
func New(reg prometheus.Registerer, prices map[string]Price) (*Metrics, error) {
	m := &Metrics{
		prices: prices,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_llm_requests_total",
			Help: "Model calls by model, purpose (prompt name and version, or embed) and result (ok, error, rate_limited, permanent_error, canceled).",
		}, []string{"model", "purpose", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "logbook_llm_request_duration_seconds",
			Help:    "Latency of model calls by model and purpose, whatever their result.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 15), // 10 ms … ~2.7 min
		}, []string{"model", "purpose"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_llm_tokens_total",
			Help: "Tokens of answered completions as the provider counted them, by model, purpose and direction (input, output).",
		}, []string{"model", "purpose", "direction"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_llm_cost_usd_total",
			Help: "Estimated cost of answered completions in US dollars (tokens × LLM_PRICES), by model and purpose.",
		}, []string{"model", "purpose"}),
		texts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_llm_embedded_texts_total",
			Help: "Texts embedded by model (the embeddings API reports no token counts per call to the adapter).",
		}, []string{"model"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.tokens, m.cost, m.texts} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("llmmetrics: register: %w", err)
		}
	}
	return m, nil
}

// Completer returns c measured under the model name model (the configured
// chat model: a label that stays put when the server answers with a dated
// model name). When c can stream (it has retrieval's Streamer method,
// CompleteStream), so can the measured one.
func (m *Metrics) Completer(c llm.Completer, model string) llm.Completer {
	mc := &completer{next: c, m: m, model: model}
	if s, ok := c.(streamer); ok {
		return &streamingCompleter{completer: mc, stream: s}
	}
	return mc
}

// streamer is a Completer that streams (retrieval.Streamer).
type streamer interface {
	CompleteStream(ctx context.Context, req llm.CompletionRequest, onDelta func(string) error) (llm.Completion, error)
}

// streamingCompleter measures a streaming provider's both ways to complete.
type streamingCompleter struct {
	*completer
	stream streamer
}

// CompleteStream streams from the provider and records the call.
func (c *streamingCompleter) CompleteStream(ctx context.Context, req llm.CompletionRequest, onDelta func(string) error) (llm.Completion, error) {
	start := time.Now()
	out, err := c.stream.CompleteStream(ctx, req, onDelta)
	c.record(ctx, req, start, out, err)
	return out, err
}

// Embedder returns e measured under the model name model.
func (m *Metrics) Embedder(e llm.Embedder, model string) llm.Embedder {
	return &embedder{next: e, m: m, model: model}
}

type completer struct {
	next  llm.Completer
	m     *Metrics
	model string
}

// Complete calls the provider and records the call.
func (c *completer) Complete(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
	start := time.Now()
	out, err := c.next.Complete(ctx, req)
	c.record(ctx, req, start, out, err)
	return out, err
}

// record counts one completion that started at start and ended with out
// and err.
func (c *completer) record(ctx context.Context, req llm.CompletionRequest, start time.Time, out llm.Completion, err error) {
	purpose := req.Purpose
	if purpose == "" {
		purpose = "unknown"
	}
	c.m.duration.WithLabelValues(c.model, purpose).Observe(time.Since(start).Seconds())
	c.m.requests.WithLabelValues(c.model, purpose, result(ctx, err)).Inc()
	if err != nil {
		return
	}
	c.m.tokens.WithLabelValues(c.model, purpose, "input").Add(float64(max(out.InputTokens, 0)))
	c.m.tokens.WithLabelValues(c.model, purpose, "output").Add(float64(max(out.OutputTokens, 0)))
	c.m.cost.WithLabelValues(c.model, purpose).Add(c.m.costOf(c.model, out))
}

// costOf prices a completion by the configured model's price, or else by
// the model the server says answered; an unknown model costs 0.
func (m *Metrics) costOf(model string, out llm.Completion) float64 {
	p, ok := m.prices[model]
	if !ok {
		p = m.prices[out.Model]
	}
	in, o := float64(max(out.InputTokens, 0)), float64(max(out.OutputTokens, 0))
	return in*p.Input/1e6 + o*p.Output/1e6
}

type embedder struct {
	next  llm.Embedder
	m     *Metrics
	model string
}

// Embed calls the provider and records the call.
func (e *embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	start := time.Now()
	out, err := e.next.Embed(ctx, texts)
	e.m.duration.WithLabelValues(e.model, PurposeEmbed).Observe(time.Since(start).Seconds())
	e.m.requests.WithLabelValues(e.model, PurposeEmbed, result(ctx, err)).Inc()
	if err == nil {
		e.m.texts.WithLabelValues(e.model).Add(float64(len(texts)))
	}
	return out, err
}

// result classifies a call's error.
func result(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, llm.ErrPermanent):
		return ResultPermanent
	case ctx.Err() != nil:
		return ResultCanceled
	}
	if _, ok := llm.RetryAfter(err); ok {
		return ResultRateLimited
	}
	return ResultError
}
