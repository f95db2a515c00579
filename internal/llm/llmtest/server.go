package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Default model names a Server expects unless told otherwise.
const (
	DefaultChatModel  = "test-chat"
	DefaultEmbedModel = "test-embed"
	// DefaultEmbedDim is the dimension of the vectors a Server returns when
	// an embeddings request does not ask for one ("dimensions").
	DefaultEmbedDim = 64
)

// created is the fixed "created" timestamp of every answer, so recorded
// answers are reproducible.
const created = 1_700_000_000

// Server is a fake OpenAI-compatible server on loopback. Set its exported
// fields right after NewServer, before the first request; they are read
// while requests are served.
type Server struct {
	// APIKey, when set, is the bearer token every request must carry; by
	// default any non-empty token is accepted.
	APIKey string
	// ChatModel is the model every chat request must name; default
	// DefaultChatModel.
	ChatModel string
	// Default answers a chat request when no reply is queued: its result is
	// the assistant message content. When it and DefaultReply are nil, such
	// a request is answered with a 500 saying that nothing was scripted.
	Default func(req ChatRequest) string
	// DefaultReply, when set, answers a chat request when no reply is
	// queued instead of Default, with a whole Reply built from the request
	// (a streamed answer with faults, say).
	DefaultReply func(req ChatRequest) Reply
	// EmbedDim is the dimension of default vectors when a request has no
	// "dimensions"; default DefaultEmbedDim.
	EmbedDim int
	// EmbedModel is the model every embeddings request must name; default
	// DefaultEmbedModel.
	EmbedModel string

	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	chatQueue  []Reply
	embedQueue []Reply
	requests   []Request
}

// NewServer starts a Server on 127.0.0.1 and closes it when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		ChatModel:  DefaultChatModel,
		EmbedDim:   DefaultEmbedDim,
		EmbedModel: DefaultEmbedModel,
		t:          t,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST /v1/embeddings", s.handleEmbeddings)
	mux.HandleFunc("/", s.handleOther)
	s.srv = httptest.NewServer(mux) // httptest listens on 127.0.0.1 only
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL to configure a client with (OPENAI_BASE_URL),
// including /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Reply queues r as the answer to a later chat completion request; queued
// replies are used in order, one per request.
func (s *Server) Reply(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatQueue = append(s.chatQueue, r)
}

// ReplyEmbed queues r as the answer to a later embeddings request; queued
// replies are used in order, one per request.
func (s *Server) ReplyEmbed(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embedQueue = append(s.embedQueue, r)
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ChatRequests returns the chat completion requests received so far that
// decoded, in arrival order.
func (s *Server) ChatRequests() []ChatRequest {
	var out []ChatRequest
	for _, r := range s.Requests() {
		if r.Chat != nil {
			out = append(out, *r.Chat)
		}
	}
	return out
}

// EmbedRequests returns the embeddings requests received so far that
// decoded, in arrival order.
func (s *Server) EmbedRequests() []EmbedRequest {
	var out []EmbedRequest
	for _, r := range s.Requests() {
		if r.Embed != nil {
			out = append(out, *r.Embed)
		}
	}
	return out
}

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

// Reply scripts the answer to one request. The zero Reply answers 200 with
// an empty assistant message (chat) or default vectors (embeddings).
//
// A chat request with "stream": true gets the same reply as server-sent
// events when its status is 2xx: a first chunk with the assistant role, the
// content in small deltas, a chunk with the finish_reason, a usage chunk
// when the request asked for one (stream_options.include_usage), then
// "data: [DONE]". A non-2xx status (and RejectSchema) is answered before
// any stream, as a JSON error body, the way OpenAI does. The fields marked
// "for a stream" script the faults a streaming client must handle.
type Reply struct {
	// BadChunk, for a stream, sends a chunk whose JSON is cut off halfway
	// through the content deltas, as a broken proxy might, then carries on.
	BadChunk bool
	// Body, when set, is sent as the raw response body instead of one
	// built from the other fields (for a 2xx stream: the raw event stream,
	// with Content-Type text/event-stream).
	Body string
	// ChunkDelay, for a stream, is the pause before each chunk after the
	// first (each content delta, the finish chunk and the usage chunk); it
	// ends early, answering nothing more, when the client gives up.
	ChunkDelay time.Duration
	// Content is the assistant message content of a chat answer. A stream
	// sends it in deltas of at most four characters unless Deltas is set.
	Content string
	// Delay holds the answer back; it ends early, answering nothing, when
	// the client gives up.
	Delay time.Duration
	// Deltas, for a stream, are the content deltas to send, in order,
	// instead of Content cut into pieces.
	Deltas []string
	// Dim, for an embeddings answer, makes the default vectors this long
	// instead of the requested dimension.
	Dim int
	// Embeddings, for an embeddings answer, are the vectors to return.
	Embeddings [][]float32
	// Error is the message of the OpenAI-style error body sent with a
	// non-2xx Status.
	Error string
	// FinishReason is the chat answer's finish_reason; default "stop".
	FinishReason string
	// Header holds extra response headers (Retry-After…).
	Header map[string]string
	// Hold, for a stream, holds back the last content delta and all that
	// follows until it is closed, so a test can see what a client does
	// with the deltas before the answer is over. The stream ends early,
	// answering nothing more, when the client gives up.
	Hold <-chan struct{}
	// RejectSchema answers 400 "response_format json_schema is not
	// supported", in vLLM's error format, as servers without structured
	// output do.
	RejectSchema bool
	// Status is the HTTP status; zero means 200.
	Status int
	// Truncate sends only the first half of the body, then cuts the
	// connection. For a stream it sends the first half of the content
	// deltas, then cuts the connection with neither a finish_reason nor
	// [DONE].
	Truncate bool
	// Usage is the chat answer's token usage; when zero, rough counts
	// (four bytes a token) are reported. A stream reports it only when the
	// request asked (stream_options.include_usage).
	Usage Usage
}

// Reply429 returns a 429 rate-limit answer with a Retry-After header (none
// when retryAfter is zero).
func Reply429(retryAfter time.Duration) Reply {
	r := Reply{
		Status: http.StatusTooManyRequests,
		Error:  "Rate limit reached for requests. Please try again later.",
	}
	if retryAfter > 0 {
		r.Header = map[string]string{
			"Retry-After": strconv.FormatInt(int64(math.Ceil(retryAfter.Seconds())), 10),
		}
		if retryAfter%time.Second != 0 {
			r.Header["Retry-After-Ms"] = strconv.FormatInt(retryAfter.Milliseconds(), 10)
		}
	}
	return r
}

// Reply500 returns a 500 server-error answer.
func Reply500() Reply {
	return Reply{
		Status: http.StatusInternalServerError,
		Error:  "The server had an error while processing your request.",
	}
}

// ReplyContent returns a successful chat answer with content as the
// assistant message.
func ReplyContent(content string) Reply { return Reply{Content: content} }

// ReplyMalformed returns a successful chat answer whose content is not
// JSON, as a model that ignored the response format would send.
func ReplyMalformed() Reply {
	return Reply{Content: `Sure! Here are the notes you asked for: {"summary": [`}
}

// ReplyNoChoices returns a successful chat answer with an empty choices
// list.
func ReplyNoChoices() Reply {
	return Reply{Body: `{"id":"chatcmpl-llmtest","object":"chat.completion","created":1700000000,` +
		`"model":"test-chat","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`}
}

// ReplyTimeout returns a chat answer ("{}") held back for d, to outlast a
// client's timeout.
func ReplyTimeout(d time.Duration) Reply { return Reply{Delay: d, Content: "{}"} }

// Vector returns the default embedding of text at dimension dim: a
// deterministic pseudo-random vector seeded by the text, L2-normalised.
func Vector(text string, dim int) []float32 {
	h1, h2 := fnv.New64a(), fnv.New64()
	_, _ = io.WriteString(h1, text)
	_, _ = io.WriteString(h2, text)
	rng := rand.New(rand.NewPCG(h1.Sum64(), h2.Sum64())) //nolint:gosec // deterministic test vectors, not security
	v := make([]float64, dim)
	var sum float64
	for i := range v {
		v[i] = rng.NormFloat64()
		sum += v[i] * v[i]
	}
	norm := math.Sqrt(sum)
	out := make([]float32, dim)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// record stores a request and returns its index.
func (s *Server) record(r *http.Request, body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Body:   body,
		Header: r.Header.Clone(),
		Method: r.Method,
		Path:   r.URL.Path,
	})
	return len(s.requests) - 1
}

// next pops the next scripted reply from q, if any.
func (s *Server) next(q *[]Reply) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(*q) == 0 {
		return Reply{}, false
	}
	r := (*q)[0]
	*q = (*q)[1:]
	return r, true
}

// readRequest reads and records a request and checks what every endpoint
// needs: the bearer token and a JSON content type.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request) ([]byte, int, bool) {
	body, err := io.ReadAll(r.Body)
	idx := s.record(r, body)
	if err != nil {
		s.t.Errorf("llmtest: %s %s: reading the body: %v", r.Method, r.URL.Path, err)
		writeError(w, http.StatusBadRequest, "could not read the body", "invalid_request_error")
		return nil, idx, false
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	switch {
	case !ok || strings.TrimSpace(token) == "":
		s.t.Errorf("llmtest: %s %s: no bearer token in Authorization (got %q)", r.Method, r.URL.Path, auth)
		writeError(w, http.StatusUnauthorized, "You didn't provide an API key.", "invalid_request_error")
		return nil, idx, false
	case s.APIKey != "" && token != s.APIKey:
		s.t.Errorf("llmtest: %s %s: wrong bearer token", r.Method, r.URL.Path)
		writeError(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_request_error")
		return nil, idx, false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.t.Errorf("llmtest: %s %s: Content-Type is %q, want application/json", r.Method, r.URL.Path, ct)
	}
	return body, idx, true
}

func (s *Server) handleOther(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.record(r, nil)
	writeError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error")
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	body, idx, ok := s.readRequest(w, r)
	if !ok {
		return
	}
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.t.Errorf("llmtest: chat completion: the body is not a valid request: %v\n%s", err, body)
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error")
		return
	}
	s.mu.Lock()
	s.requests[idx].Chat = &req
	s.mu.Unlock()

	if problems := s.checkChat(req); len(problems) > 0 {
		for _, p := range problems {
			s.t.Errorf("llmtest: chat completion: %s", p)
		}
		writeError(w, http.StatusBadRequest, strings.Join(problems, "; "), "invalid_request_error")
		return
	}

	reply, scripted := s.next(&s.chatQueue)
	if !scripted {
		s.mu.Lock()
		def, defReply := s.Default, s.DefaultReply
		s.mu.Unlock()
		switch {
		case defReply != nil:
			reply = defReply(req)
		case def != nil:
			reply = Reply{Content: def(req)}
		default:
			writeError(w, http.StatusInternalServerError,
				"llmtest: no reply queued (Server.Reply), and Server.Default and Server.DefaultReply are nil", "server_error")
			return
		}
	}
	if !wait(r, reply.Delay) {
		return
	}
	if reply.RejectSchema {
		// vLLM's error format: the fields at the top level, not under "error".
		reply.Status = http.StatusBadRequest
		reply.Body = `{"object":"error","message":"response_format json_schema is not supported",` +
			`"type":"BadRequestError","param":"response_format","code":400}`
	}
	if req.Stream && ok2xx(reply.Status) {
		writeStream(w, r, req, reply)
		return
	}
	if reply.Body == "" && ok2xx(reply.Status) {
		reply.Body = chatBody(req, reply)
	}
	s.write(w, reply)
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	body, idx, ok := s.readRequest(w, r)
	if !ok {
		return
	}
	req, err := decodeEmbed(body)
	if err != nil {
		s.t.Errorf("llmtest: embeddings: the body is not a valid request: %v\n%s", err, body)
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error")
		return
	}
	s.mu.Lock()
	s.requests[idx].Embed = &req
	s.mu.Unlock()

	if problems := s.checkEmbed(req); len(problems) > 0 {
		for _, p := range problems {
			s.t.Errorf("llmtest: embeddings: %s", p)
		}
		writeError(w, http.StatusBadRequest, strings.Join(problems, "; "), "invalid_request_error")
		return
	}

	reply, _ := s.next(&s.embedQueue)
	if !wait(r, reply.Delay) {
		return
	}
	if reply.Body == "" && ok2xx(reply.Status) {
		reply.Body = s.embedBody(req, reply)
	}
	s.write(w, reply)
}

// write sends reply: its status, headers and body (an OpenAI error body
// for a non-2xx status without one), cut in half when Truncate is set.
func (s *Server) write(w http.ResponseWriter, reply Reply) {
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	body := reply.Body
	if body == "" && !ok2xx(status) {
		msg := reply.Error
		if msg == "" {
			msg = fmt.Sprintf("llmtest: scripted status %d", status)
		}
		body = errorBody(msg, errorType(status))
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if !reply.Truncate {
		_, _ = io.WriteString(w, body)
		return
	}
	_, _ = io.WriteString(w, body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// Abort the connection: the client sees a body shorter than its
	// Content-Length. net/http does not log this sentinel.
	panic(http.ErrAbortHandler)
}

// wait holds the answer back for d; false means the client went away.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// schemaNameRE is what OpenAI accepts as a json_schema name.
var schemaNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`) //nolint:gochecknoglobals // compiled once, read-only

// checkChat returns what is wrong with a chat completion request, in the
// words a developer needs to fix the adapter.
func (s *Server) checkChat(req ChatRequest) []string {
	var problems []string
	if req.Model != s.ChatModel {
		problems = append(problems, fmt.Sprintf("model is %q, want %q", req.Model, s.ChatModel))
	}
	if req.StreamOptions != nil && !req.Stream {
		// OpenAI refuses this request with a 400 in exactly this case.
		problems = append(problems, "stream_options is only allowed when stream is true")
	}
	if req.MaxTokens < 0 || req.MaxCompletionTokens < 0 {
		problems = append(problems, "max_tokens must not be negative")
	}
	if len(req.Messages) == 0 {
		problems = append(problems, "messages is empty")
	}
	var mentionsJSON bool
	for i, m := range req.Messages {
		switch m.Role {
		case "system":
			if i != 0 {
				problems = append(problems, fmt.Sprintf("message %d: the system message must come first", i))
			}
		case "user", "assistant":
		default:
			problems = append(problems, fmt.Sprintf("message %d: role %q, want system, user or assistant", i, m.Role))
		}
		if strings.TrimSpace(m.Content) == "" {
			problems = append(problems, fmt.Sprintf("message %d (%s): content is empty", i, m.Role))
		}
		if strings.Contains(strings.ToLower(m.Content), "json") {
			mentionsJSON = true
		}
	}

	rf := req.ResponseFormat
	if rf == nil {
		return problems
	}
	switch rf.Type {
	case "text":
	case "json_object":
		if !mentionsJSON {
			// OpenAI refuses this request with a 400 in exactly this case.
			problems = append(problems,
				"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'")
		}
	case "json_schema":
		js := rf.JSONSchema
		if js == nil {
			problems = append(problems, "response_format json_schema without a json_schema object")
			break
		}
		if !schemaNameRE.MatchString(js.Name) {
			problems = append(problems, fmt.Sprintf("json_schema name %q must match %s", js.Name, schemaNameRE))
		}
		if !js.Strict {
			problems = append(problems, "json_schema strict is false, want true")
		}
		problems = append(problems, checkSchema(js.Schema)...)
	default:
		problems = append(problems, fmt.Sprintf("response_format type %q, want text, json_object or json_schema", rf.Type))
	}
	return problems
}

// checkSchema checks a json_schema's schema: valid JSON, an object at the
// root, and OpenAI's strict-mode rules for every object inside (all
// properties required, additionalProperties false).
func checkSchema(raw json.RawMessage) []string {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return []string{fmt.Sprintf("json_schema schema is not a JSON object: %v", err)}
	}
	if root["type"] != "object" {
		return []string{fmt.Sprintf(`json_schema schema has "type": %v, want "object"`, root["type"])}
	}
	var problems []string
	walkSchema("#", root, &problems)
	return problems
}

// walkSchema applies the strict-mode rules to the schema at path and
// everything nested in it.
func walkSchema(path string, node map[string]any, problems *[]string) {
	if props, ok := node["properties"].(map[string]any); ok {
		if node["additionalProperties"] != false {
			*problems = append(*problems, fmt.Sprintf(
				"strict json_schema: %s: additionalProperties must be false", path))
		}
		required := map[string]bool{}
		if list, ok := node["required"].([]any); ok {
			for _, r := range list {
				if name, ok := r.(string); ok {
					required[name] = true
				}
			}
		}
		for name, sub := range props {
			if !required[name] {
				*problems = append(*problems, fmt.Sprintf(
					"strict json_schema: %s: property %q must be listed in required", path, name))
			}
			if m, ok := sub.(map[string]any); ok {
				walkSchema(path+"/properties/"+name, m, problems)
			}
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		walkSchema(path+"/items", items, problems)
	}
	for _, key := range []string{"anyOf", "allOf", "oneOf"} {
		if list, ok := node[key].([]any); ok {
			for i, sub := range list {
				if m, ok := sub.(map[string]any); ok {
					walkSchema(fmt.Sprintf("%s/%s/%d", path, key, i), m, problems)
				}
			}
		}
	}
	for _, key := range []string{"$defs", "definitions"} {
		if defs, ok := node[key].(map[string]any); ok {
			for name, sub := range defs {
				if m, ok := sub.(map[string]any); ok {
					walkSchema(path+"/"+key+"/"+name, m, problems)
				}
			}
		}
	}
}

// checkEmbed returns what is wrong with an embeddings request.
func (s *Server) checkEmbed(req EmbedRequest) []string {
	var problems []string
	if req.Model != s.EmbedModel {
		problems = append(problems, fmt.Sprintf("model is %q, want %q", req.Model, s.EmbedModel))
	}
	if len(req.Input) == 0 {
		problems = append(problems, "input is empty")
	}
	if len(req.Input) > 2048 {
		problems = append(problems, fmt.Sprintf("input has %d items; OpenAI accepts at most 2048", len(req.Input)))
	}
	for i, in := range req.Input {
		if in == "" {
			problems = append(problems, fmt.Sprintf("input %d is an empty string, which OpenAI refuses", i))
		}
	}
	if req.Dimensions < 0 {
		problems = append(problems, "dimensions must not be negative")
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		problems = append(problems, fmt.Sprintf("encoding_format %q; the fake server returns floats only", req.EncodingFormat))
	}
	return problems
}

// decodeEmbed decodes an embeddings request, whose input may be one string
// or a list of strings.
func decodeEmbed(body []byte) (EmbedRequest, error) {
	var raw struct {
		Dimensions     int             `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
		Input          json.RawMessage `json:"input"`
		Model          string          `json:"model"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return EmbedRequest{}, err
	}
	req := EmbedRequest{Dimensions: raw.Dimensions, EncodingFormat: raw.EncodingFormat, Model: raw.Model}
	var one string
	if err := json.Unmarshal(raw.Input, &one); err == nil {
		req.Input = []string{one}
		return req, nil
	}
	if err := json.Unmarshal(raw.Input, &req.Input); err != nil {
		return EmbedRequest{}, fmt.Errorf("input must be a string or a list of strings: %w", err)
	}
	return req, nil
}

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
