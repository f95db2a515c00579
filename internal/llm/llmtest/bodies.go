package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// chatBody builds a chat.completion answer for reply.
func chatBody(req ChatRequest, reply Reply) string {
	finish := finishReason(reply)
	usage := chatUsage(req, reply)
	type message struct {
		Content string `json:"content"`
		Role    string `json:"role"`
	}
	type choice struct {
		FinishReason string  `json:"finish_reason"`
		Index        int     `json:"index"`
		Message      message `json:"message"`
	}
	return mustJSON(map[string]any{
		"id":      "chatcmpl-llmtest",
		"object":  "chat.completion",
		"created": created,
		"model":   req.Model,
		"choices": []choice{{FinishReason: finish, Message: message{Content: reply.Content, Role: "assistant"}}},
		"usage": map[string]int{
			"prompt_tokens":     usage.Prompt,
			"completion_tokens": usage.Completion,
			"total_tokens":      usage.Prompt + usage.Completion,
		},
	})
}

// finishReason is reply's finish_reason, "stop" by default.
func finishReason(reply Reply) string {
	if reply.FinishReason == "" {
		return "stop"
	}
	return reply.FinishReason
}

// chatUsage is reply's usage, or rough counts (four bytes a token) when
// none was scripted.
func chatUsage(req ChatRequest, reply Reply) Usage {
	if reply.Usage != (Usage{}) {
		return reply.Usage
	}
	var n int
	for _, m := range req.Messages {
		n += len(m.Content)
	}
	return Usage{Prompt: n/4 + 1, Completion: len(reply.Content)/4 + 1}
}

// writeStream answers a streamed chat request with reply as server-sent
// events (see Reply), flushing every event so the client reads each chunk
// as it is sent.
func writeStream(w http.ResponseWriter, r *http.Request, req ChatRequest, reply Reply) {
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if reply.Body != "" {
		_, _ = io.WriteString(w, reply.Body)
		flush()
		return
	}

	type delta struct {
		Content *string `json:"content,omitempty"`
		Role    string  `json:"role,omitempty"`
	}
	type choice struct {
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
		Index        int     `json:"index"`
	}
	sent := false
	// send writes one chunk, after ChunkDelay unless it is the first; false
	// means the client went away.
	send := func(choices []choice, usage map[string]int) bool {
		if sent && !wait(r, reply.ChunkDelay) {
			return false
		}
		sent = true
		chunk := map[string]any{
			"id":      "chatcmpl-llmtest",
			"object":  "chat.completion.chunk",
			"created": created,
			"model":   req.Model,
			"choices": choices,
		}
		if usage != nil {
			chunk["usage"] = usage
		}
		_, _ = io.WriteString(w, "data: "+mustJSON(chunk)+"\n\n")
		flush()
		return true
	}

	empty := ""
	if !send([]choice{{Delta: delta{Role: "assistant", Content: &empty}}}, nil) {
		return
	}
	deltas := reply.Deltas
	if deltas == nil {
		deltas = pieces(reply.Content, 4)
	}
	half := len(deltas) / 2
	for i := 0; i <= len(deltas); i++ {
		if i == half {
			if reply.Truncate {
				// Abort the connection: the client sees the chunked body
				// end without its terminating chunk. net/http does not log
				// this sentinel.
				panic(http.ErrAbortHandler)
			}
			if reply.BadChunk {
				_, _ = io.WriteString(w, `data: {"id":"chatcmpl-llmtest","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"`+"\n\n")
				flush()
			}
		}
		if i == len(deltas) {
			break
		}
		if i == len(deltas)-1 && reply.Hold != nil {
			select {
			case <-reply.Hold:
			case <-r.Context().Done():
				return
			}
		}
		if !send([]choice{{Delta: delta{Content: &deltas[i]}}}, nil) {
			return
		}
	}
	finish := finishReason(reply)
	if !send([]choice{{FinishReason: &finish}}, nil) {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		u := chatUsage(req, reply)
		if !send([]choice{}, map[string]int{
			"prompt_tokens":     u.Prompt,
			"completion_tokens": u.Completion,
			"total_tokens":      u.Prompt + u.Completion,
		}) {
			return
		}
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	flush()
}

// pieces cuts s into pieces of at most n runes, as a model's tokens cut
// its text: escapes and words are split wherever the cut falls.
func pieces(s string, n int) []string {
	var out []string
	for s != "" {
		i, count := 0, 0
		for i < len(s) && count < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			count++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// embedBody builds an embeddings answer: reply's vectors, or default ones.
func (s *Server) embedBody(req EmbedRequest, reply Reply) string {
	dim := req.Dimensions
	if dim == 0 {
		dim = s.EmbedDim
	}
	if reply.Dim > 0 {
		dim = reply.Dim
	}
	type item struct {
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
		Object    string    `json:"object"`
	}
	data := make([]item, 0, len(req.Input))
	var tokens int
	for i, in := range req.Input {
		vec := Vector(in, dim)
		if reply.Embeddings != nil {
			vec = nil
			if i < len(reply.Embeddings) {
				vec = reply.Embeddings[i]
			}
		}
		data = append(data, item{Embedding: vec, Index: i, Object: "embedding"})
		tokens += len(in)/4 + 1
	}
	if reply.Embeddings != nil && len(reply.Embeddings) < len(data) {
		data = data[:len(reply.Embeddings)]
	}
	return mustJSON(map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

func ok2xx(status int) bool { return status == 0 || (status >= 200 && status < 300) }

// errorType is the OpenAI error "type" for a status.
func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// errorBody is an OpenAI error body.
func errorBody(msg, typ string) string {
	return mustJSON(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func writeError(w http.ResponseWriter, status int, msg, typ string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, errorBody(msg, typ))
}

func mustJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("llmtest: encoding an answer: %v", err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
