package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"logbook/internal/llm"
)

// format is how a completion's answer is constrained.
type format int

const (
	formatText       format = iota // no response_format
	formatJSONObject               // response_format json_object
	formatJSONSchema               // response_format json_schema, strict
)

// Complete sends req as one chat completion: the system prompt, then the
// messages. A Schema goes out as strict structured output and JSON alone as
// JSON mode; if the server refuses json_schema, the call is repeated once in
// JSON mode and the Provider keeps using JSON mode (see the package doc).
//
// Errors: llm.ErrPermanent for refused requests (4xx other than 408, 409,
// 429); an *llm.RetryAfterError for a 429 that says when to come back; ErrTruncated
// (retryable) when the answer hit the token limit although JSON was asked
// for; plain retryable errors for 5xx, timeouts, cut bodies and answers
// without content; ctx.Err(), wrapped, when ctx ends.
func (p *Provider) Complete(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
	if err := checkRequest(ctx, "complete", req); err != nil {
		return llm.Completion{}, err
	}
	f := p.format(req)
	resp, err := p.chat(ctx, req, f)
	if err != nil && f == formatJSONSchema && schemaRejected(err) {
		// Not a retry of the same request: the server cannot do strict
		// structured output, so ask in JSON mode, now and from now on —
		// unless JSON mode is refused too, which means the 400 was about
		// something else and json_schema is still worth sending.
		resp, err = p.chat(ctx, req, formatJSONObject)
		if !refused(err) {
			p.noSchema.Store(true)
		}
	}
	if err != nil {
		return llm.Completion{}, err
	}
	return p.completion(req, resp)
}

// checkRequest refuses, before anything is sent, a call whose ctx has
// ended or whose Schema is not valid JSON (llm.ErrPermanent).
func checkRequest(ctx context.Context, op string, req llm.CompletionRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("openai: %s: %w", op, err)
	}
	if req.Schema != nil && !json.Valid(req.Schema.JSON) {
		return fmt.Errorf("openai: %s: schema %q of %s is not valid JSON: %w", op, req.Schema.Name, req.Purpose, llm.ErrPermanent)
	}
	return nil
}

// chat sends one chat completion request under the per-request timeout.
func (p *Provider) chat(ctx context.Context, req llm.CompletionRequest, f format) (goopenai.ChatCompletionResponse, error) {
	creq := p.chatRequest(req, f)
	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.client.CreateChatCompletion(reqCtx, creq)
	if err != nil {
		return resp, p.classify(ctx, reqCtx, "complete", err, resp.Header())
	}
	return resp, nil
}

// chatRequest builds the go-openai request for req in format f.
func (p *Provider) chatRequest(req llm.CompletionRequest, f format) goopenai.ChatCompletionRequest {
	system := req.System
	if f == formatJSONObject {
		system = jsonModeSystem(req, system)
	}

	msgs := make([]goopenai.ChatCompletionMessage, 0, len(req.Messages)+1)
	if system != "" {
		msgs = append(msgs, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: system})
	}
	for _, m := range req.Messages {
		msgs = append(msgs, goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}

	creq := goopenai.ChatCompletionRequest{
		Model:     p.chatModel,
		Messages:  msgs,
		MaxTokens: req.MaxTokens,
	}
	// Reasoning models (o1, o3, gpt-5…) take max_completion_tokens and
	// refuse max_tokens; go-openai knows which ones they are.
	if req.MaxTokens > 0 && errors.Is(goopenai.NewReasoningValidator().Validate(creq), goopenai.ErrReasoningModelMaxTokensDeprecated) {
		creq.MaxTokens, creq.MaxCompletionTokens = 0, req.MaxTokens
	}

	switch f {
	case formatJSONSchema:
		creq.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
				Name:   schemaName(req),
				Schema: req.Schema.JSON,
				Strict: true,
			},
		}
	case formatJSONObject:
		creq.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONObject,
		}
	case formatText:
	}
	return creq
}

// jsonModeSystem returns the system prompt for a JSON-mode request. Without
// a strict schema the model sees the shape only in the prompt, so a schema
// is written into it; and OpenAI refuses JSON mode unless some message says
// "JSON", so one sentence that does is added when none does.
func jsonModeSystem(req llm.CompletionRequest, system string) string {
	var extra string
	switch {
	case req.Schema != nil:
		extra = "Answer with a single JSON object that matches this JSON Schema:\n" + string(req.Schema.JSON)
	case !mentionsJSON(req):
		extra = "Answer with a single JSON object."
	default:
		return system
	}
	if system == "" {
		return extra
	}
	return system + "\n\n" + extra
}

func mentionsJSON(req llm.CompletionRequest) bool {
	if strings.Contains(strings.ToLower(req.System), "json") {
		return true
	}
	for _, m := range req.Messages {
		if strings.Contains(strings.ToLower(m.Content), "json") {
			return true
		}
	}
	return false
}

// schemaName returns a json_schema name the API accepts (^[a-zA-Z0-9_-]{1,64}$):
// the schema's own name, else the purpose ("notes.v2" → "notes_v2"), with
// other characters replaced by "_".
func schemaName(req llm.CompletionRequest) string {
	name := req.Schema.Name
	if name == "" {
		name = req.Purpose
	}
	if name == "" {
		name = "answer"
	}
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// completion checks the server's answer and turns it into an llm.Completion.
func (p *Provider) completion(req llm.CompletionRequest, resp goopenai.ChatCompletionResponse) (llm.Completion, error) {
	if len(resp.Choices) == 0 {
		return llm.Completion{}, errors.New("openai: complete: the answer has no choices")
	}
	choice := resp.Choices[0]
	wantJSON := req.JSON || req.Schema != nil
	if choice.FinishReason == goopenai.FinishReasonLength && wantJSON {
		return llm.Completion{}, fmt.Errorf("openai: complete: %s stopped after %d output tokens (max_tokens %d): %w",
			req.Purpose, resp.Usage.CompletionTokens, req.MaxTokens, ErrTruncated)
	}
	text := choice.Message.Content
	if strings.TrimSpace(text) == "" {
		if choice.Message.Refusal != "" {
			return llm.Completion{}, fmt.Errorf("openai: complete: the model refused: %s", p.redact(clip(choice.Message.Refusal)))
		}
		return llm.Completion{}, fmt.Errorf("openai: complete: the answer is empty (finish_reason %q)", string(choice.FinishReason))
	}
	model := resp.Model
	if model == "" {
		model = p.chatModel
	}
	return llm.Completion{
		Text:         text,
		Model:        model,
		InputTokens:  resp.Usage.PromptTokens,
		OutputTokens: resp.Usage.CompletionTokens,
	}, nil
}
