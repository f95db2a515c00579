// Package config reads Logbook's configuration from the environment into one
// Config, with defaults that point at local services and validation that
// names the bad variable. Only the commands (cmd/...) and internal/app, the
// wiring they share, import it; every other package takes its own small
// config struct or constructor arguments.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything the logbook command reads from the environment.
type Config struct {
	// DatabaseURL is the PostgreSQL URL (DATABASE_URL).
	DatabaseURL string
	// RedisURL is the Redis URL (REDIS_URL).
	RedisURL string
	// HTTPAddr is where serve listens (HTTP_ADDR, default 127.0.0.1:8080).
	HTTPAddr string
	// LLMProvider is "local" (offline, the default) or "openai" (LLM_PROVIDER).
	LLMProvider string
	// OpenAIAPIKey, OpenAIBaseURL, ChatModel and EmbedModel configure the
	// openai provider; any OpenAI-compatible server works.
	OpenAIAPIKey  string
	OpenAIBaseURL string
	ChatModel     string
	EmbedModel    string
	// EmbedDim is the embedding dimension (EMBED_DIM, default 384).
	EmbedDim int
	// WorkerConcurrency is the number of tasks a worker runs at once
	// (WORKER_CONCURRENCY, default 8).
	WorkerConcurrency int
	// RunMigrations lets serve and worker migrate at start (RUN_MIGRATIONS=1);
	// otherwise they refuse to start on a schema with pending migrations.
	RunMigrations bool
	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel slog.Level
	// ShutdownTimeout bounds graceful shutdown (SHUTDOWN_TIMEOUT, default 20s).
	ShutdownTimeout time.Duration
	// QueuePrefix prefixes the task queue names (QUEUE_PREFIX), so several
	// Logbook deployments can share one Redis without taking each other's
	// tasks.
	QueuePrefix string
	// ContextTokens is the transcript budget of one model call
	// (LLM_CONTEXT_TOKENS, default 12000): longer meetings are summarised
	// map-reduce over windows of this size, never truncated.
	ContextTokens int
	// Prices is the price table for cost estimates: model → USD per million
	// input and output tokens (LLM_PRICES, JSON such as
	// {"gpt-4o-mini":{"input":0.15,"output":0.6}}), over DefaultPrices.
	Prices map[string]Price
	// MinSimilarity is the least cosine similarity at which a record found
	// by meaning alone is relevant enough to answer a question from
	// (ANSWER_MIN_SIMILARITY, 0–1; 0 keeps retrieval's default, which suits
	// the local embedder).
	MinSimilarity float64
	// EfSearch is hnsw.ef_search for org-wide questions (HNSW_EF_SEARCH,
	// 10–1000; 0 keeps retrieval's default).
	EfSearch int
	// VectorWeight is the vector list's weight against BM25's 1 in hybrid
	// search (SEARCH_VECTOR_WEIGHT, 0.01–10; 0 keeps retrieval's default,
	// which suits the local embedder; a dense model deserves about 1).
	VectorWeight float64
	// TranscriptParses is how many maximum-size posted transcripts a
	// server reads, parses and stores at once; smaller ones share by size
	// (TRANSCRIPT_PARSE_CONCURRENCY, 1–64; 0 keeps the API's default, 2).
	TranscriptParses int
	// TranscriptWait is how long a posted transcript waits for its turn
	// before a 503 with Retry-After (TRANSCRIPT_PARSE_WAIT; 0 keeps the
	// API's default, 20s).
	TranscriptWait time.Duration
}

// Price is what a model costs per million tokens, in USD.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// DefaultPrices are list prices of common OpenAI models (USD per million
// tokens) when this was written; LLM_PRICES overrides or extends them.
func DefaultPrices() map[string]Price {
	return map[string]Price{
		"gpt-4o-mini":  {Input: 0.15, Output: 0.60},
		"gpt-4o":       {Input: 2.50, Output: 10.00},
		"gpt-4.1-mini": {Input: 0.40, Output: 1.60},
		"gpt-4.1":      {Input: 2.00, Output: 8.00},
	}
}

// Defaults.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/logbook?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultHTTPAddr    = "127.0.0.1:8080"
	DefaultEmbedDim    = 384
)

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and returns every problem found at once.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:       or(getenv("DATABASE_URL"), DefaultDatabaseURL),
		RedisURL:          or(getenv("REDIS_URL"), DefaultRedisURL),
		HTTPAddr:          or(getenv("HTTP_ADDR"), DefaultHTTPAddr),
		LLMProvider:       strings.ToLower(or(getenv("LLM_PROVIDER"), "local")),
		OpenAIAPIKey:      getenv("OPENAI_API_KEY"),
		OpenAIBaseURL:     getenv("OPENAI_BASE_URL"),
		ChatModel:         or(getenv("CHAT_MODEL"), "gpt-4o-mini"),
		EmbedModel:        or(getenv("EMBED_MODEL"), "text-embedding-3-small"),
		QueuePrefix:       getenv("QUEUE_PREFIX"),
		EmbedDim:          DefaultEmbedDim,
		WorkerConcurrency: 8,
		ShutdownTimeout:   20 * time.Second,
		ContextTokens:     12000,
		Prices:            DefaultPrices(),
	}
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("DATABASE_URL", "must be a postgres:// URL")
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		bad("REDIS_URL", "must be a redis:// URL")
	}
	switch c.LLMProvider {
	case "local":
	case "openai":
		if c.OpenAIAPIKey == "" && c.OpenAIBaseURL == "" {
			bad("OPENAI_API_KEY", "is required when LLM_PROVIDER=openai (or set OPENAI_BASE_URL for a local server)")
		}
	default:
		bad("LLM_PROVIDER", "must be local or openai, not %q", c.LLMProvider)
	}
	if c.OpenAIBaseURL != "" {
		if u, err := url.Parse(c.OpenAIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("OPENAI_BASE_URL", "must be an http(s) URL")
		}
	}
	intVar := func(name string, dst *int, min, max int) {
		s := getenv(name)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min || n > max {
			bad(name, "must be an integer from %d to %d", min, max)
			return
		}
		*dst = n
	}
	intVar("EMBED_DIM", &c.EmbedDim, 16, 4096)
	intVar("WORKER_CONCURRENCY", &c.WorkerConcurrency, 1, 1000)
	intVar("LLM_CONTEXT_TOKENS", &c.ContextTokens, 1000, 2_000_000)
	intVar("HNSW_EF_SEARCH", &c.EfSearch, 10, 1000)
	intVar("TRANSCRIPT_PARSE_CONCURRENCY", &c.TranscriptParses, 1, 64)
	if s := getenv("TRANSCRIPT_PARSE_WAIT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad("TRANSCRIPT_PARSE_WAIT", "must be a positive duration such as 20s")
		} else {
			c.TranscriptWait = d
		}
	}
	if s := getenv("ANSWER_MIN_SIMILARITY"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1 {
			bad("ANSWER_MIN_SIMILARITY", "must be a number from 0 to 1")
		} else {
			c.MinSimilarity = f
		}
	}
	if s := getenv("SEARCH_VECTOR_WEIGHT"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0.01 || f > 10 {
			bad("SEARCH_VECTOR_WEIGHT", "must be a number from 0.01 to 10")
		} else {
			c.VectorWeight = f
		}
	}
	if s := getenv("LLM_PRICES"); s != "" {
		var extra map[string]Price
		if err := json.Unmarshal([]byte(s), &extra); err != nil {
			bad("LLM_PRICES", "must be JSON such as {\"model\":{\"input\":0.15,\"output\":0.6}}")
		}
		for m, p := range extra {
			if p.Input < 0 || p.Output < 0 {
				bad("LLM_PRICES", "prices must not be negative (%s)", m)
			}
			c.Prices[m] = p
		}
	}
	switch s := getenv("RUN_MIGRATIONS"); strings.ToLower(s) {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		c.RunMigrations = true
	default:
		bad("RUN_MIGRATIONS", "must be 1 or 0")
	}
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			bad("LOG_LEVEL", "must be debug, info, warn or error")
		}
	}
	if s := getenv("SHUTDOWN_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad("SHUTDOWN_TIMEOUT", "must be a positive duration such as 20s")
		} else {
			c.ShutdownTimeout = d
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
