package llmtest

import (
	"encoding/json"
	"net/http"
)

// Request is one recorded HTTP request.
type Request struct {
	// Body is the raw request body.
	Body []byte
	// Chat is the decoded body of a chat completion request, nil otherwise
	// or when it did not decode.
	Chat *ChatRequest
	// Embed is the decoded body of an embeddings request, nil otherwise or
	// when it did not decode.
	Embed *EmbedRequest
	// Header holds the request headers (including Authorization).
	Header http.Header
	// Method and Path are the request line's method and path.
	Method, Path string
}

// ChatRequest is the part of a chat completion request the fake server
// reads.
type ChatRequest struct {
	// MaxCompletionTokens is the cap reasoning models take instead of
	// MaxTokens.
	MaxCompletionTokens int `json:"max_completion_tokens"`
	// MaxTokens caps the answer; zero when not sent.
	MaxTokens int `json:"max_tokens"`
	// Messages are the chat messages, the system prompt first.
	Messages []ChatMessage `json:"messages"`
	// Model is the model asked for.
	Model string `json:"model"`
	// ResponseFormat is nil when the request sent none.
	ResponseFormat *ResponseFormat `json:"response_format"`
	// Stream asks for the answer as server-sent events of
	// chat.completion.chunk objects, ended by "data: [DONE]".
	Stream bool `json:"stream"`
	// StreamOptions is nil when the request sent none; only a streamed
	// request may send it.
	StreamOptions *StreamOptions `json:"stream_options"`
}

// StreamOptions is a streamed request's stream_options.
type StreamOptions struct {
	// IncludeUsage asks for a last chunk, before [DONE], that carries the
	// token usage and no choices.
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message of a chat completion request.
type ChatMessage struct {
	// Content is the message text.
	Content string `json:"content"`
	// Role is "system", "user" or "assistant".
	Role string `json:"role"`
}

// ResponseFormat is a request's response_format.
type ResponseFormat struct {
	// JSONSchema is set when Type is "json_schema".
	JSONSchema *JSONSchema `json:"json_schema"`
	// Type is "text", "json_object" or "json_schema".
	Type string `json:"type"`
}

// JSONSchema is the json_schema of a structured-output request.
type JSONSchema struct {
	// Name names the schema (^[a-zA-Z0-9_-]{1,64}$).
	Name string `json:"name"`
	// Schema is the JSON Schema, as sent.
	Schema json.RawMessage `json:"schema"`
	// Strict must be true.
	Strict bool `json:"strict"`
}

// EmbedRequest is the part of an embeddings request the fake server reads.
// Input is always a list (a single string input becomes a list of one).
type EmbedRequest struct {
	// Dimensions is the vector size asked for; zero when not sent.
	Dimensions int `json:"dimensions"`
	// EncodingFormat is "" or "float".
	EncodingFormat string `json:"encoding_format"`
	// Input holds the texts to embed.
	Input []string `json:"input"`
	// Model is the model asked for.
	Model string `json:"model"`
}

// Usage is the token usage a scripted chat answer reports.
type Usage struct {
	// Completion is the number of output tokens reported.
	Completion int
	// Prompt is the number of input tokens reported.
	Prompt int
}
