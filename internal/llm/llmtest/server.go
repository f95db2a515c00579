package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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
