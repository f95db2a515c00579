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
	"net/netip"
	"net/url"
	"runtime"
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
	// RateLimitKeyPerMin, RateLimitOrgPerMin, RateLimitAskPerMin and
	// RateLimitOrgAskPerMin are the API's quotas in requests per minute:
	// per API key (RATE_LIMIT_KEY_PER_MIN, default 600), per org
	// (RATE_LIMIT_ORG_PER_MIN, 3000), and for the ask routes, which start
	// model calls, per key (RATE_LIMIT_ASK_PER_MIN, 20) and per org
	// (RATE_LIMIT_ORG_ASK_PER_MIN, 100). Kept in Redis, so they hold across
	// servers; 0 disables one.
	RateLimitKeyPerMin    int
	RateLimitOrgPerMin    int
	RateLimitAskPerMin    int
	RateLimitOrgAskPerMin int

	// WebhookAllowPrivate lists the private networks and host names that
	// webhooks may reach although they are not public
	// (WEBHOOK_ALLOW_PRIVATE: comma-separated CIDR prefixes, IP addresses
	// and host names, *.suffix for every name under suffix, such as
	// "10.0.0.0/8,hooks.internal"). Empty: only public addresses.
	WebhookAllowPrivate string
	// ConnectorAllowPrivate is WebhookAllowPrivate for the connectors'
	// own connections (IMAP and CalDAV servers, ICS feeds, note-taker
	// APIs): a mail server on the office network, or the local test
	// servers (CONNECTOR_ALLOW_PRIVATE, same syntax). Empty: only public
	// addresses.
	ConnectorAllowPrivate string
	// SecretKey seals connector secrets and the Twilio auth token at rest
	// (LOGBOOK_SECRET_KEY: 32 bytes as 64 hex digits or base64; `logbook
	// secret-key` prints a new one). Empty: no connector with a secret can
	// be created. SecretKeysOld still open values sealed before a
	// rotation (LOGBOOK_SECRET_KEY_OLD, comma-separated).
	SecretKey     string
	SecretKeysOld []string
	// WebhooksPerOrg is how many webhooks one org may have
	// (WEBHOOKS_PER_ORG, default 25).
	WebhooksPerOrg int
	// WebhookConcurrency is how many deliveries a worker sends at once
	// (WEBHOOK_CONCURRENCY, default 10).
	WebhookConcurrency int
	// IndexConcurrency is how many activities a worker indexes at once
	// (INDEX_CONCURRENCY; 0, the default, is one per CPU).
	IndexConcurrency int
	// WebhookTimeout bounds one delivery attempt (WEBHOOK_TIMEOUT, default
	// 10s).
	WebhookTimeout time.Duration
	// WebhookProxy is an HTTP proxy for deliveries (WEBHOOK_PROXY, an
	// http(s) URL); empty sends directly. The proxy of the environment
	// (HTTP_PROXY) is never used for them.
	WebhookProxy string

	// DBMaxConns caps the PostgreSQL pool (DB_MAX_CONNS, default
	// max(8, 4×GOMAXPROCS)); DBMinConns is how many it keeps open while
	// idle (DB_MIN_CONNS, default 0).
	DBMaxConns int
	DBMinConns int
	// DBConnectTimeout bounds opening one connection (DB_CONNECT_TIMEOUT,
	// default 5s); DBStatementTimeout is PostgreSQL's statement_timeout on
	// the serving roles' connections (DB_STATEMENT_TIMEOUT, default 10s;
	// 0 turns it off).
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration
	// RequestTimeout is the deadline of one API request (REQUEST_TIMEOUT,
	// default 15s); LongRequestTimeout that of ask, follow-up and posted
	// transcripts (LONG_REQUEST_TIMEOUT, default 2m).
	RequestTimeout     time.Duration
	LongRequestTimeout time.Duration
	// The HTTP server's limits: HTTP_READ_HEADER_TIMEOUT (10s),
	// HTTP_READ_TIMEOUT (2m, a whole transcript upload), HTTP_WRITE_TIMEOUT
	// (default REQUEST_TIMEOUT + 15s; the long routes extend their own),
	// HTTP_IDLE_TIMEOUT (2m), HTTP_MAX_HEADER_BYTES (64 KiB).
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	HTTPMaxHeaderBytes    int
	// Redis client timeouts: REDIS_DIAL_TIMEOUT (5s), REDIS_READ_TIMEOUT
	// (3s) and REDIS_WRITE_TIMEOUT (3s).
	RedisDialTimeout  time.Duration
	RedisReadTimeout  time.Duration
	RedisWriteTimeout time.Duration
	// TranscriptParses is how many maximum-size posted transcripts a
	// server reads, parses and stores at once; smaller ones share by size
	// (TRANSCRIPT_PARSE_CONCURRENCY, 1–64; 0 keeps the API's default, 1).
	TranscriptParses int
	// TranscriptWait is how long a posted transcript waits for its turn
	// before a 503 with Retry-After (TRANSCRIPT_PARSE_WAIT; 0 keeps the
	// API's default, 30s).
	TranscriptWait time.Duration
	// WorkerHTTPAddr is where `logbook worker` serves /healthz, /readyz
	// and /metrics (WORKER_HTTP_ADDR, default 127.0.0.1:9091; "off"
	// serves nothing). `logbook all` serves them on HTTPAddr instead.
	WorkerHTTPAddr string
	// MetricsToken, when set, is the bearer token /metrics requires on
	// every port (METRICS_TOKEN, at least 16 characters).
	MetricsToken string
	// PublicURL is the web UI's address as people reach it (PUBLIC_URL,
	// such as https://logbook.example.com), the base of the invite links
	// Logbook prints; empty derives it from each request's Host (and
	// `logbook users invite` from HTTP_ADDR). No trailing slash.
	PublicURL string
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
	// DefaultWorkerHTTPAddr is where the worker serves its health and
	// metrics endpoints.
	DefaultWorkerHTTPAddr = "127.0.0.1:9091"
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

		RateLimitKeyPerMin:    600,
		RateLimitOrgPerMin:    3000,
		RateLimitAskPerMin:    20,
		RateLimitOrgAskPerMin: 100,
	}
	c.WorkerHTTPAddr = or(getenv("WORKER_HTTP_ADDR"), DefaultWorkerHTTPAddr)
	if strings.EqualFold(c.WorkerHTTPAddr, "off") {
		c.WorkerHTTPAddr = ""
	}
	c.MetricsToken = getenv("METRICS_TOKEN")
	c.PublicURL = strings.TrimRight(getenv("PUBLIC_URL"), "/")
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	c.WebhooksPerOrg, c.WebhookConcurrency, c.WebhookTimeout = 25, 10, 10*time.Second
	c.WebhookAllowPrivate, c.WebhookProxy = getenv("WEBHOOK_ALLOW_PRIVATE"), getenv("WEBHOOK_PROXY")
	c.ConnectorAllowPrivate = getenv("CONNECTOR_ALLOW_PRIVATE")
	for _, v := range []struct{ name, list string }{{"WEBHOOK_ALLOW_PRIVATE", c.WebhookAllowPrivate}, {"CONNECTOR_ALLOW_PRIVATE", c.ConnectorAllowPrivate}} {
		for e := range strings.SplitSeq(v.list, ",") {
			if e = strings.TrimSpace(e); e != "" && !allowEntry(e) {
				bad(v.name, "%q is not a CIDR prefix, an IP address or a host name", e)
			}
		}
	}
	c.SecretKey = strings.TrimSpace(getenv("LOGBOOK_SECRET_KEY"))
	for k := range strings.SplitSeq(getenv("LOGBOOK_SECRET_KEY_OLD"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.SecretKeysOld = append(c.SecretKeysOld, k)
		}
	}

	if c.WebhookProxy != "" {
		if u, err := url.Parse(c.WebhookProxy); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("WEBHOOK_PROXY", "must be an http(s) URL")
		}
	}
	if s := getenv("WEBHOOK_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 5*time.Minute {
			bad("WEBHOOK_TIMEOUT", "must be a positive duration of at most 5m, such as 10s")
		} else {
			c.WebhookTimeout = d
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad("PUBLIC_URL", "must be an http(s) URL such as https://logbook.example.com, without a query")
		}
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
	intVar("RATE_LIMIT_KEY_PER_MIN", &c.RateLimitKeyPerMin, 0, 1_000_000)
	intVar("RATE_LIMIT_ORG_PER_MIN", &c.RateLimitOrgPerMin, 0, 1_000_000)
	intVar("RATE_LIMIT_ASK_PER_MIN", &c.RateLimitAskPerMin, 0, 1_000_000)
	intVar("RATE_LIMIT_ORG_ASK_PER_MIN", &c.RateLimitOrgAskPerMin, 0, 1_000_000)
	intVar("WEBHOOKS_PER_ORG", &c.WebhooksPerOrg, 1, 10000)
	intVar("WEBHOOK_CONCURRENCY", &c.WebhookConcurrency, 1, 1000)
	intVar("INDEX_CONCURRENCY", &c.IndexConcurrency, 1, 1000)
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
	c.DBMaxConns = max(8, 4*runtime.GOMAXPROCS(0))
	intVar("DB_MAX_CONNS", &c.DBMaxConns, 1, 10_000)
	intVar("DB_MIN_CONNS", &c.DBMinConns, 0, 10_000)
	if c.DBMinConns > c.DBMaxConns {
		bad("DB_MIN_CONNS", "must not exceed DB_MAX_CONNS (%d)", c.DBMaxConns)
	}
	c.HTTPMaxHeaderBytes = 64 << 10
	intVar("HTTP_MAX_HEADER_BYTES", &c.HTTPMaxHeaderBytes, 4<<10, 16<<20)
	durVar := func(name string, dst *time.Duration, def time.Duration, zeroOK bool) {
		*dst = def
		s := getenv(name)
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || (d == 0 && !zeroOK) || d > 24*time.Hour {
			if zeroOK {
				bad(name, "must be a duration such as 10s (0 turns it off), at most 24h")
			} else {
				bad(name, "must be a positive duration such as 10s, at most 24h")
			}
			return
		}
		*dst = d
	}
	durVar("DB_CONNECT_TIMEOUT", &c.DBConnectTimeout, 5*time.Second, false)
	durVar("DB_STATEMENT_TIMEOUT", &c.DBStatementTimeout, 10*time.Second, true)
	durVar("REQUEST_TIMEOUT", &c.RequestTimeout, 15*time.Second, false)
	durVar("LONG_REQUEST_TIMEOUT", &c.LongRequestTimeout, 2*time.Minute, false)
	durVar("HTTP_READ_HEADER_TIMEOUT", &c.HTTPReadHeaderTimeout, 10*time.Second, false)
	durVar("HTTP_READ_TIMEOUT", &c.HTTPReadTimeout, 2*time.Minute, false)
	durVar("HTTP_WRITE_TIMEOUT", &c.HTTPWriteTimeout, c.RequestTimeout+15*time.Second, false)
	durVar("HTTP_IDLE_TIMEOUT", &c.HTTPIdleTimeout, 2*time.Minute, false)
	durVar("REDIS_DIAL_TIMEOUT", &c.RedisDialTimeout, 5*time.Second, false)
	durVar("REDIS_READ_TIMEOUT", &c.RedisReadTimeout, 3*time.Second, false)
	durVar("REDIS_WRITE_TIMEOUT", &c.RedisWriteTimeout, 3*time.Second, false)
	if c.HTTPWriteTimeout > 0 && c.HTTPWriteTimeout < c.RequestTimeout {
		bad("HTTP_WRITE_TIMEOUT", "must not be shorter than REQUEST_TIMEOUT (%s)", c.RequestTimeout)
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		bad("METRICS_TOKEN", "must be at least 16 characters without spaces")
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

// allowEntry reports whether e reads as an entry of WEBHOOK_ALLOW_PRIVATE:
// a CIDR prefix, an IP address, or a host name (optionally *.name). The
// wiring parses the list for real (netguard.ParseAllowList); this names the
// variable at load time.
func allowEntry(e string) bool {
	if _, err := netip.ParsePrefix(e); err == nil {
		return true
	}
	if _, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
		return true
	}
	name := strings.TrimSuffix(strings.TrimPrefix(e, "*."), ".")
	if name == "" || len(name) > 253 || strings.Contains(e, "/") {
		return false
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 || strings.Trim(strings.ToLower(l), "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}
