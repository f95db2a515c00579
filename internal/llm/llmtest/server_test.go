package llmtest

import (
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
