package llmtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that collects Errorf calls instead of failing,
// so the server's request checks can themselves be tested.
type recorder struct {
	testing.TB

	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

type testBundle struct {
	rec    *recorder
	server *Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	rec := &recorder{TB: t}
	return &testBundle{rec: rec, server: NewServer(rec)}
}

// post sends body to path with a bearer token and returns status and body.
func post(t *testing.T, s *Server, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

const (
	validChat = `{"model":"test-chat","messages":[{"role":"system","content":"Answer in JSON."},` +
		`{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":` +
		`{"name":"follow_up","strict":true,"schema":` + FollowUpSchema + `}}}`
	validEmbed = `{"model":"test-embed","input":["alpha","beta"]}`
)

func TestServer(t *testing.T) {
	t.Parallel()

	t.Run("ChecksRequests", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name, path, body, want string
			header                 map[string]string
		}{
			{"EmbedEmptyString", "/embeddings", `{"model":"test-embed","input":["a",""]}`, "empty string", nil},
			{"EmbedWrongModel", "/embeddings", `{"model":"other","input":["a"]}`, `model is "other"`, nil},
			{"JSONObjectWithoutTheWordJSON", "/chat/completions",
				`{"model":"test-chat","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}`,
				"must contain the word 'json'", nil},
			{"MessagesEmpty", "/chat/completions", `{"model":"test-chat","messages":[]}`, "messages is empty", nil},
			{"NoBearerToken", "/chat/completions", validChat, "no bearer token", map[string]string{"Authorization": ""}},
			{"NotJSON", "/chat/completions", `{"model":`, "not a valid request", nil},
			{"RoleUnknown", "/chat/completions", `{"model":"test-chat","messages":[{"role":"tool","content":"x"}]}`, `role "tool"`, nil},
			{"SchemaNotStrict", "/chat/completions", strings.Replace(validChat, `"strict":true`, `"strict":false`, 1), "strict is false", nil},
			{"SchemaNotStrictModeCompliant", "/chat/completions",
				strings.Replace(validChat, `"additionalProperties":false`, `"additionalProperties":true`, 1),
				"additionalProperties must be false", nil},
			{"SchemaPropertyNotRequired", "/chat/completions",
				strings.Replace(validChat, `"required":["subject","body"]`, `"required":["subject"]`, 1),
				`property "body" must be listed in required`, nil},
			{"SchemaUnnamed", "/chat/completions", strings.Replace(validChat, `"follow_up"`, `"follow.up"`, 1), "json_schema name", nil},
			{"SystemNotFirst", "/chat/completions",
				`{"model":"test-chat","messages":[{"role":"user","content":"hi"},{"role":"system","content":"s"}]}`,
				"system message must come first", nil},
			{"WrongModel", "/chat/completions", strings.Replace(validChat, "test-chat", "gpt-x", 1), `model is "gpt-x"`, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				bundle.server.Default = func(ChatRequest) string { return "{}" }

				status, _ := post(t, bundle.server, tc.path, tc.body, tc.header)
				require.GreaterOrEqual(t, status, 400)
				errs := bundle.rec.errors()
				require.NotEmpty(t, errs)
				require.Contains(t, strings.Join(errs, "\n"), tc.want)
			})
		}
	})

	t.Run("DefaultChatWithoutDefaultIs500", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		status, body := post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Equal(t, http.StatusInternalServerError, status)
		require.Contains(t, body, "no reply queued")
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("DefaultReplyWinsOverDefaultAndQueuedRepliesWinOverBoth", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Default = func(ChatRequest) string { return "from Default" }
		bundle.server.DefaultReply = func(req ChatRequest) Reply {
			return Reply{Content: "from DefaultReply to " + req.Model, Usage: Usage{Prompt: 1, Completion: 2}}
		}
		bundle.server.Reply(ReplyContent("queued"))

		_, body := post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Contains(t, body, `"content":"queued"`)
		_, body = post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Contains(t, body, `"content":"from DefaultReply to test-chat"`)
		require.Contains(t, body, `"completion_tokens":2`)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("DefaultEmbeddingsAreDeterministicUnitVectors", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		decode := func(body string) [][]float32 {
			var resp struct {
				Data []struct {
					Embedding []float32 `json:"embedding"`
					Index     int       `json:"index"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &resp))
			out := make([][]float32, len(resp.Data))
			for i, d := range resp.Data {
				require.Equal(t, i, d.Index)
				out[i] = d.Embedding
			}
			return out
		}
		_, body := post(t, bundle.server, "/embeddings", validEmbed, nil)
		first := decode(body)
		_, body = post(t, bundle.server, "/embeddings", validEmbed, nil)
		require.Equal(t, first, decode(body))
		require.Len(t, first, 2)
		require.NotEqual(t, first[0], first[1])
		for _, v := range first {
			require.Len(t, v, DefaultEmbedDim)
			var sum float64
			for _, x := range v {
				sum += float64(x) * float64(x)
			}
			require.InDelta(t, 1, math.Sqrt(sum), 1e-6)
		}
		require.Equal(t, Vector("alpha", DefaultEmbedDim), first[0])

		_, body = post(t, bundle.server, "/embeddings", `{"model":"test-embed","input":"alpha","dimensions":8}`, nil)
		require.Len(t, decode(body)[0], 8)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("RecordsRequests", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(ReplyContent(`{"subject":"s","body":"b"}`))

		post(t, bundle.server, "/chat/completions", validChat, nil)
		post(t, bundle.server, "/embeddings", validEmbed, nil)
		status, _ := post(t, bundle.server, "/models", `{}`, nil)
		require.Equal(t, http.StatusNotFound, status)

		reqs := bundle.server.Requests()
		require.Len(t, reqs, 3)
		require.Equal(t, "/v1/chat/completions", reqs[0].Path)
		require.Equal(t, "follow_up", reqs[0].Chat.ResponseFormat.JSONSchema.Name)
		require.Equal(t, []string{"alpha", "beta"}, reqs[1].Embed.Input)
		require.Equal(t, "/v1/models", reqs[2].Path)
		require.Len(t, bundle.server.ChatRequests(), 1)
		require.Len(t, bundle.server.EmbedRequests(), 1)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("ScriptedRepliesComeInOrder", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply429(1500 * time.Millisecond))
		bundle.server.Reply(Reply{RejectSchema: true})
		bundle.server.Reply(Reply{Content: `{"subject":"s","body":"b"}`, Usage: Usage{Prompt: 7, Completion: 3}, FinishReason: "length"})
		bundle.server.Reply(Reply500())

		status, body := post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Contains(t, body, "rate_limit_error")

		status, body = post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Equal(t, http.StatusBadRequest, status)
		require.JSONEq(t, `{"object":"error","message":"response_format json_schema is not supported",`+
			`"type":"BadRequestError","param":"response_format","code":400}`, body)

		status, body = post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Equal(t, http.StatusOK, status)
		var resp struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
				Message      struct {
					Content string `json:"content"`
					Role    string `json:"role"`
				} `json:"message"`
			} `json:"choices"`
			Model string `json:"model"`
			Usage struct {
				CompletionTokens int `json:"completion_tokens"`
				PromptTokens     int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &resp))
		require.Equal(t, "test-chat", resp.Model)
		require.Equal(t, `{"subject":"s","body":"b"}`, resp.Choices[0].Message.Content)
		require.Equal(t, "assistant", resp.Choices[0].Message.Role)
		require.Equal(t, "length", resp.Choices[0].FinishReason)
		require.Equal(t, 7, resp.Usage.PromptTokens)
		require.Equal(t, 3, resp.Usage.CompletionTokens)

		status, _ = post(t, bundle.server, "/chat/completions", validChat, nil)
		require.Equal(t, http.StatusInternalServerError, status)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("Reply429SetsRetryAfter", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, map[string]string{"Retry-After": "2"}, Reply429(2*time.Second).Header)
		require.Equal(t, map[string]string{"Retry-After": "2", "Retry-After-Ms": "1500"}, Reply429(1500*time.Millisecond).Header)
		require.Nil(t, Reply429(0).Header)
	})

	t.Run("TruncateCutsTheBody", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply{Content: `{"subject":"s","body":"b"}`, Truncate: true})

		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
			bundle.server.URL()+"/chat/completions", strings.NewReader(validChat))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
}

// streamChat is validChat asking for a stream with usage.
var streamChat = strings.Replace(validChat, `{"model":"test-chat",`,
	`{"model":"test-chat","stream":true,"stream_options":{"include_usage":true},`, 1)

// chunk is the part of a chat.completion.chunk the tests read.
type chunk struct {
	Choices []struct {
		Delta struct {
			Content *string `json:"content"`
			Role    string  `json:"role"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
		Index        int     `json:"index"`
	} `json:"choices"`
	Model  string `json:"model"`
	Object string `json:"object"`
	Usage  *struct {
		CompletionTokens int `json:"completion_tokens"`
		PromptTokens     int `json:"prompt_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// openStream posts body and returns the response, whose body the test
// reads (and the cleanup closes).
func openStream(t *testing.T, s *Server, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// events reads server-sent events from r and sends each one's data on the
// returned channel, closed at the end of the body; the read error, if any,
// is sent on errc.
func events(r io.Reader) (<-chan string, <-chan error) {
	out, errc := make(chan string, 100), make(chan error, 1)
	go func() {
		defer close(out)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if data, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "data: "); ok && err == nil {
				out <- data
			}
			if err != nil {
				if err != io.EOF {
					errc <- err
				}
				return
			}
		}
	}()
	return out, errc
}

// readStream reads the events of body to its end, which must be clean.
func readStream(t *testing.T, body io.Reader) []string {
	t.Helper()
	data, errc := events(body)
	return readAll(t, data, errc)
}

// readAll collects the data of every event to the end of the body, which
// must end cleanly.
func readAll(t *testing.T, ch <-chan string, errc <-chan error) []string {
	t.Helper()
	var out []string
	for d := range ch {
		out = append(out, d)
	}
	select {
	case err := <-errc:
		require.NoError(t, err)
	default:
	}
	return out
}

func TestServerStream(t *testing.T) {
	t.Parallel()

	const content = `{"subject":"Café","body":"b\"q"}`

	t.Run("BadChunkIsNotJSON", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply{Content: content, BadChunk: true})

		data := readStream(t, openStream(t, bundle.server, streamChat).Body)
		var bad int
		for _, d := range data {
			if d != "[DONE]" && !json.Valid([]byte(d)) {
				bad++
			}
		}
		require.Equal(t, 1, bad, "one malformed chunk in %q", data)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("ChecksStreamedRequests", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ name, body, want string }{
			{"StreamOptionsWithoutStream", strings.Replace(validChat, `{"model":"test-chat",`,
				`{"model":"test-chat","stream_options":{"include_usage":true},`, 1), "stream_options is only allowed when stream is true"},
			{"WrongModel", strings.Replace(streamChat, `"model":"test-chat"`, `"model":"gpt-x"`, 1), `model is "gpt-x"`},
			{"SchemaNotStrict", strings.Replace(streamChat, `"strict":true`, `"strict":false`, 1), "strict is false"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				bundle.server.Default = func(ChatRequest) string { return content }

				status, _ := post(t, bundle.server, "/chat/completions", tc.body, nil)
				require.Equal(t, http.StatusBadRequest, status)
				require.Contains(t, strings.Join(bundle.rec.errors(), "\n"), tc.want)
			})
		}
	})

	t.Run("ChunkDelaySpacesTheChunks", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply{Deltas: []string{"a", "b", "c"}, ChunkDelay: 50 * time.Millisecond})

		start := time.Now()
		data := readStream(t, openStream(t, bundle.server, streamChat).Body)
		// Role chunk, then 3 deltas, finish and usage each after a pause.
		require.GreaterOrEqual(t, time.Since(start), 5*50*time.Millisecond)
		require.Equal(t, "[DONE]", data[len(data)-1])
	})

	t.Run("ErrorStatusComesBeforeTheStream", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply429(2 * time.Second))
		bundle.server.Reply(Reply{RejectSchema: true})

		resp := openStream(t, bundle.server, streamChat)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, "2", resp.Header.Get("Retry-After"))
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(b), "rate_limit_error")

		status, body := post(t, bundle.server, "/chat/completions", streamChat, nil)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "json_schema is not supported")
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("HoldKeepsTheLastDeltaBack", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		hold := make(chan struct{})
		bundle.server.Reply(Reply{Deltas: []string{"one ", "two ", "three"}, Hold: hold})

		data, errc := events(openStream(t, bundle.server, streamChat).Body)
		var got []string
		for len(got) < 3 { // the role chunk and two deltas
			got = append(got, <-data)
		}
		select {
		case d := <-data:
			t.Fatalf("the last delta came before Hold was closed: %s", d)
		case <-time.After(100 * time.Millisecond):
		}
		close(hold)
		rest := readAll(t, data, errc)
		require.Contains(t, rest[0], `"three"`)
		require.Equal(t, "[DONE]", rest[len(rest)-1])
	})

	t.Run("SendsDeltasFinishUsageAndDone", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply{Content: content, FinishReason: "length", Usage: Usage{Prompt: 11, Completion: 5}})

		resp := openStream(t, bundle.server, streamChat)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		data := readStream(t, resp.Body)
		require.Equal(t, "[DONE]", data[len(data)-1])

		var chunks []chunk
		for _, d := range data[:len(data)-1] {
			var c chunk
			require.NoError(t, json.Unmarshal([]byte(d), &c), d)
			require.Equal(t, "chat.completion.chunk", c.Object)
			require.Equal(t, "test-chat", c.Model)
			chunks = append(chunks, c)
		}
		require.Equal(t, "assistant", chunks[0].Choices[0].Delta.Role)

		var text strings.Builder
		deltas := chunks[1 : len(chunks)-2]
		require.Greater(t, len(deltas), 5, "the content comes in small pieces")
		for _, c := range deltas {
			require.Len(t, c.Choices, 1)
			require.Nil(t, c.Choices[0].FinishReason)
			piece := *c.Choices[0].Delta.Content
			require.LessOrEqual(t, len([]rune(piece)), 4)
			text.WriteString(piece)
		}
		require.Equal(t, content, text.String())

		finish := chunks[len(chunks)-2]
		require.Equal(t, "length", *finish.Choices[0].FinishReason)
		usage := chunks[len(chunks)-1]
		require.Empty(t, usage.Choices)
		require.Equal(t, 11, usage.Usage.PromptTokens)
		require.Equal(t, 5, usage.Usage.CompletionTokens)
		require.Equal(t, 16, usage.Usage.TotalTokens)

		reqs := bundle.server.ChatRequests()
		require.True(t, reqs[0].Stream)
		require.True(t, reqs[0].StreamOptions.IncludeUsage)
		require.Empty(t, bundle.rec.errors())
	})

	t.Run("TruncateCutsTheStreamWithoutDone", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Reply(Reply{Content: content, Truncate: true})

		data, errc := events(openStream(t, bundle.server, streamChat).Body)
		var got []string
		for d := range data {
			got = append(got, d)
		}
		require.ErrorIs(t, <-errc, io.ErrUnexpectedEOF)
		require.NotEmpty(t, got)
		require.NotContains(t, got, "[DONE]")
		for _, d := range got {
			require.NotContains(t, d, "finish_reason\":\"")
		}
	})

	t.Run("UsageOnlyWhenAsked", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.server.Default = func(ChatRequest) string { return content }

		body := strings.Replace(streamChat, `"stream_options":{"include_usage":true},`, "", 1)
		data := readStream(t, openStream(t, bundle.server, body).Body)
		for _, d := range data {
			require.NotContains(t, d, "usage")
		}
		require.Equal(t, "[DONE]", data[len(data)-1])
		require.Empty(t, bundle.rec.errors())
	})
}
