package openai

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"logbook/internal/llm"
)

// DefaultTimeout is the per-request timeout used when Config.Timeout is
// zero: long enough for a long structured answer from a slow self-hosted
// model, short enough that a hung connection does not hold a worker for
// the whole task deadline.
const DefaultTimeout = 120 * time.Second

// Config configures a Provider. Zero values mean the documented default;
// retries are not configured here because they belong to the worker.
type Config struct {
	// APIKey is sent as "Authorization: Bearer <key>". It may be empty for a
	// self-hosted server that needs none, but not for api.openai.com (an
	// empty BaseURL). It never appears in errors or logs.
	APIKey string
	// BaseURL is the server's OpenAI-compatible API root, including /v1
	// (http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:11434/v1 for
	// Ollama). Empty means https://api.openai.com/v1.
	BaseURL string
	// ChatModel is the model Complete asks for. Required.
	ChatModel string
	// EmbedDim is the dimension every embedding must have (EMBED_DIM, the
	// size of the vector column). Required, > 0. It is sent as
	// "dimensions" to text-embedding-3* models, which can shorten their
	// vectors; other models must produce it natively.
	EmbedDim int
	// EmbedModel is the model Embed asks for. Required.
	EmbedModel string
	// HTTPClient sends the requests. Nil means a new http.Client with
	// http.DefaultTransport and no overall timeout (Timeout applies).
	HTTPClient *http.Client
	// Timeout bounds each HTTP request (one chat completion, one batch of
	// embeddings; for CompleteStream, the whole stream from the request to
	// its last chunk). Zero means DefaultTimeout. A request that runs out
	// of time fails with a retryable error.
	Timeout time.Duration
}

// String describes c with the API key masked, so that printing a Config
// cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("openai.Config{APIKey:%s BaseURL:%q ChatModel:%q EmbedDim:%d EmbedModel:%q Timeout:%s}",
		maskKey(c.APIKey), c.BaseURL, c.ChatModel, c.EmbedDim, c.EmbedModel, c.Timeout)
}

// GoString is String, so that %#v cannot leak the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue logs c with the API key masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("api_key", maskKey(c.APIKey)),
		slog.String("base_url", c.BaseURL),
		slog.String("chat_model", c.ChatModel),
		slog.Int("embed_dim", c.EmbedDim),
		slog.String("embed_model", c.EmbedModel),
		slog.Duration("timeout", c.Timeout),
	)
}

func maskKey(key string) string {
	if key == "" {
		return "(none)"
	}
	return "(set)"
}

// Provider is an llm.Completer and llm.Embedder backed by an
// OpenAI-compatible server, which can also stream a completion
// (CompleteStream). It is safe for concurrent use.
type Provider struct {
	chatModel  string
	client     *goopenai.Client
	embedDim   int
	embedModel string
	// noSchema is set once the server has refused a json_schema response
	// format; from then on schema requests go out in JSON mode.
	noSchema atomic.Bool
	// noStreamUsage is set once the server has refused stream_options;
	// from then on streamed requests do not ask for usage.
	noStreamUsage atomic.Bool
	// scrub removes the API key from a message. The key lives only in this
	// closure (and in go-openai's client), never in a field, so printing a
	// Provider with %v or %#v cannot show it.
	scrub   func(string) string
	timeout time.Duration
}

var (
	_ llm.Completer = (*Provider)(nil)
	_ llm.Embedder  = (*Provider)(nil)
)

// New validates cfg and returns a Provider. It sends nothing: a wrong key or
// an unreachable server shows up on the first call, as llm.ErrPermanent or
// a retryable error.
func New(cfg Config) (*Provider, error) {
	var problems []error
	if strings.TrimSpace(cfg.ChatModel) == "" {
		problems = append(problems, errors.New("ChatModel (CHAT_MODEL) is required"))
	}
	if strings.TrimSpace(cfg.EmbedModel) == "" {
		problems = append(problems, errors.New("EmbedModel (EMBED_MODEL) is required"))
	}
	if cfg.EmbedDim <= 0 {
		problems = append(problems, fmt.Errorf("EmbedDim (EMBED_DIM) must be > 0, got %d", cfg.EmbedDim))
	}
	if cfg.Timeout < 0 {
		problems = append(problems, fmt.Errorf("Timeout must not be negative, got %s", cfg.Timeout))
	}
	clientCfg := goopenai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL == "" {
		if cfg.APIKey == "" {
			problems = append(problems, errors.New("APIKey (OPENAI_API_KEY) is required for api.openai.com; "+
				"set BaseURL (OPENAI_BASE_URL) for a server that needs no key"))
		}
	} else {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Errorf("BaseURL (OPENAI_BASE_URL) must be an http(s) URL such as "+
				"http://127.0.0.1:8000/v1, got %q", redactURL(cfg.BaseURL)))
		}
		clientCfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("openai: invalid config: %w", errors.Join(problems...))
	}

	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	clientCfg.HTTPClient = headerDoer{client: httpClient}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	key := cfg.APIKey
	return &Provider{
		chatModel:  cfg.ChatModel,
		client:     goopenai.NewClientWithConfig(clientCfg),
		embedDim:   cfg.EmbedDim,
		embedModel: cfg.EmbedModel,
		scrub: func(s string) string {
			if key == "" {
				return s
			}
			return strings.ReplaceAll(s, key, "[redacted]")
		},
		timeout: timeout,
	}, nil
}

// redactURL hides a password in a URL before it goes into an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
