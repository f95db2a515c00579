package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"logbook/internal/llm"
)

// CompleteStream is Complete with the answer streamed: it sends req as one
// chat completion with "stream": true and calls onDelta with each piece of
// the answer's text, in order, as the server sends it. The returned
// Completion is the whole answer, checked as Complete checks it. It asks
// for the token usage (stream_options.include_usage); a server that refuses
// that parameter is asked again without it, and the Provider stops sending
// it. The json_schema → JSON mode fallback is Complete's. Both fallbacks
// happen only when the server refused the request before streaming
// anything, so onDelta never sees two answers.
//
// Config.Timeout bounds the whole stream, from the request to the last
// chunk, as it bounds a whole Complete call: a streamed answer never takes
// longer than the same answer unstreamed could, and a server that stalls
// mid-answer is cut off at that deadline with a retryable error. (An idle
// timeout between chunks would let a server that trickles tokens hold the
// caller indefinitely.)
//
// Errors are Complete's, plus: a stream that ends, or is cut, before the
// server sent a finish_reason is a retryable error, never a partial answer;
// a chunk that is not valid JSON is a retryable error; and an error
// returned by onDelta stops the stream at once and is returned wrapped
// (errors.Is finds it). When CompleteStream fails, the deltas already
// delivered are not an answer.
func (p *Provider) CompleteStream(ctx context.Context, req llm.CompletionRequest, onDelta func(string) error) (llm.Completion, error) {
	if err := checkRequest(ctx, "complete stream", req); err != nil {
		return llm.Completion{}, err
	}
	if onDelta == nil {
		onDelta = func(string) error { return nil }
	}

	f := p.format(req)
	usage := !p.noStreamUsage.Load()
	c, delivered, err := p.stream(ctx, req, f, usage, onDelta)
	if err != nil && !delivered && usage && streamOptionsRejected(err) {
		// An older self-hosted server that does not know stream_options:
		// the usage is only bookkeeping, so ask without it, now and from
		// now on.
		p.noStreamUsage.Store(true)
		usage = false
		c, delivered, err = p.stream(ctx, req, f, usage, onDelta)
	}
	if err != nil && !delivered && f == formatJSONSchema && schemaRejected(err) {
		// As in Complete: a change of request, not a retry.
		c, _, err = p.stream(ctx, req, formatJSONObject, usage, onDelta)
		if !refused(err) {
			p.noSchema.Store(true)
		}
	}
	return c, err
}

// stream sends one streamed chat completion request under the per-request
// timeout and reads it to the end. delivered reports whether onDelta was
// called.
func (p *Provider) stream(ctx context.Context, req llm.CompletionRequest, f format, usage bool, onDelta func(string) error) (c llm.Completion, delivered bool, err error) {
	const op = "complete stream"
	creq := p.chatRequest(req, f)
	if usage {
		creq.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	}
	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var header http.Header
	st, err := p.client.CreateChatCompletionStream(withHeaderSink(reqCtx, &header), creq)
	if err != nil {
		return llm.Completion{}, false, p.classify(ctx, reqCtx, op, err, header)
	}
	defer st.Close()

	var (
		text, refusal strings.Builder
		finish        goopenai.FinishReason
		model         string
		used          goopenai.Usage
	)
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return llm.Completion{}, delivered, p.streamErr(ctx, reqCtx, op, err, header)
		}
		if model == "" {
			model = chunk.Model
		}
		if chunk.Usage != nil {
			used = *chunk.Usage
		}
		for _, choice := range chunk.Choices {
			if choice.Index != 0 {
				continue // one answer was asked for
			}
			refusal.WriteString(choice.Delta.Refusal)
			if d := choice.Delta.Content; d != "" {
				text.WriteString(d)
				delivered = true
				if err := onDelta(d); err != nil {
					return llm.Completion{}, delivered, fmt.Errorf("openai: %s: %w", op, err)
				}
			}
			if choice.FinishReason != "" {
				finish = choice.FinishReason
			}
		}
	}
	if finish == "" {
		// go-openai reports a clean end of the body as io.EOF whether or
		// not [DONE] came, so a finish_reason is the proof that the answer
		// is whole.
		return llm.Completion{}, delivered, fmt.Errorf("openai: %s: the stream ended after %d bytes of answer without a finish_reason", op, text.Len())
	}
	c, err = p.completion(req, goopenai.ChatCompletionResponse{
		Model: model,
		Choices: []goopenai.ChatCompletionChoice{{
			FinishReason: finish,
			Message:      goopenai.ChatCompletionMessage{Content: text.String(), Refusal: refusal.String()},
		}},
		Usage: used,
	})
	return c, delivered, err
}

// streamErr classifies an error met while reading a stream, all of them
// retryable unless ctx ended: the per-request deadline, a cut connection
// and a chunk that is not JSON get their own words, the rest classify's.
func (p *Provider) streamErr(ctx, reqCtx context.Context, op string, err error, header http.Header) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case ctx.Err() != nil:
		return p.classify(ctx, reqCtx, op, err, header)
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("openai: %s: the answer did not finish within %s (per-request timeout)", op, p.timeout)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("openai: %s: the stream was cut before the answer finished: %s", op, p.redact(err.Error()))
	case errors.As(err, &syntaxErr) || errors.As(err, &typeErr):
		return fmt.Errorf("openai: %s: a chunk of the stream is not valid JSON: %s", op, p.redact(err.Error()))
	default:
		return p.classify(ctx, reqCtx, op, err, header)
	}
}

// format is how req's answer is constrained: strict structured output for a
// Schema (JSON mode once the server has refused json_schema), JSON mode for
// JSON alone, else plain text.
func (p *Provider) format(req llm.CompletionRequest) format {
	switch {
	case req.Schema != nil && !p.noSchema.Load():
		return formatJSONSchema
	case req.Schema != nil || req.JSON:
		return formatJSONObject
	default:
		return formatText
	}
}

// streamOptionsRejected reports whether err is a server's refusal of the
// stream_options parameter.
func streamOptionsRejected(err error) bool {
	var se *statusError
	return refused(err) && errors.As(err, &se) && strings.Contains(strings.ToLower(se.msg), "stream_options")
}

// headerSinkKey is the context key under which headerDoer finds where to
// put a response's headers.
type headerSinkKey struct{}

// withHeaderSink returns ctx carrying dst: a request sent with it through
// headerDoer has its response headers stored in *dst. go-openai keeps the
// headers of a refused stream request to itself, and a 429's Retry-After
// is in them.
func withHeaderSink(ctx context.Context, dst *http.Header) context.Context {
	return context.WithValue(ctx, headerSinkKey{}, dst)
}

// headerDoer is the go-openai HTTP client: it sends with the configured
// http.Client and stores the response headers where the request's context
// asks (withHeaderSink). It changes nothing else.
type headerDoer struct {
	client *http.Client
}

// Do sends r.
func (d headerDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(r)
	if resp != nil {
		if dst, ok := r.Context().Value(headerSinkKey{}).(*http.Header); ok {
			*dst = resp.Header
		}
	}
	return resp, err
}
