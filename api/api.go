package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"logbook/activity"
	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/store"
)

// ReadyCheck is one dependency /readyz checks, such as PostgreSQL or Redis.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Deps is what the API needs. Store is required; the rest have defaults.
type Deps struct {
	// Store runs every query. Tests pass store.New(testdb.Tx(t)).
	Store *store.Store
	// Logger gets errors; nil discards.
	Logger *slog.Logger
	// Ready lists what /readyz checks.
	Ready []ReadyCheck
	// Registry receives the HTTP metrics and is served at /metrics; nil
	// makes a private one with the Go and process collectors.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires
	// (METRICS_TOKEN); without it /metrics is a 401.
	MetricsToken string
	// Version is reported in the OpenAPI document.
	Version string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Enqueuer puts work on the task queue after the API has stored it. A
	// failure to enqueue never fails a request: the row is durable and the
	// worker's reconciler enqueues it later. nil enqueues nothing (the
	// reconciler still will).
	Enqueuer Enqueuer
	// FollowUps regenerates a meeting's follow-up draft; nil answers 503.
	FollowUps FollowUpGenerator
	// Asker answers questions about history (retrieval.Service); nil
	// answers 503.
	Asker Asker
	// Searcher finds passages for the search routes (retrieval.Service);
	// nil answers 503.
	Searcher Searcher
	// Auth checks every request's API key; nil queries the store each time
	// (Store.APIKeyAuthenticate). Production passes a *store.KeyCache. An
	// unknown or revoked key must be an error wrapping crm.ErrNotFound (a
	// 401); any other error is also a 401, logged as a failure to check the
	// key.
	Auth interface {
		Authenticate(ctx context.Context, secret string) (crm.Principal, error)
	}
	// RateLimiter counts requests against RateLimits in Redis (a
	// *ratelimit.Limiter); nil limits nothing. See ratelimit.go.
	RateLimiter RateLimiter
	// RateLimits are the quotas RateLimiter enforces; a zero quota
	// disables its bucket.
	RateLimits RateLimits
	// WebhookGuard checks a webhook's URL at creation: http or https, no
	// user info, and a host that is public (or that the guard's allow-list
	// trusts), with its name resolved and every address checked. nil is a
	// guard with no allow-list that checks the URL and any IP address in
	// it but looks no name up (tests); production passes one that resolves
	// (internal/app). The worker checks again at every dial.
	WebhookGuard *netguard.Guard
	// MaxWebhooksPerOrg is how many webhooks an org may have (default 25).
	MaxWebhooksPerOrg int
	// RequestTimeout is the deadline of one request, authentication and
	// every statement included (zero: DefaultRequestTimeout). A request
	// that runs out of it while waiting on the database answers 503.
	RequestTimeout time.Duration
	// LongRequestTimeout is the deadline of the routes that call a model
	// or take a whole transcript (ask, follow-up, posted transcripts; zero:
	// DefaultLongRequestTimeout). Their write deadline is extended to match,
	// past the server's WriteTimeout.
	LongRequestTimeout time.Duration
	// Transcripts bounds the memory posted transcripts take; the zero
	// value has the defaults (transcript_gate.go).
	Transcripts TranscriptLimits
	// PublicURL is the base of the web UI's links (PUBLIC_URL), such as
	// https://logbook.example.com; empty derives it from the request's
	// Host (invites.go).
	PublicURL string
	// Capture runs the connectors (their secrets, kinds and syncs); nil
	// answers the connector routes and the note-takers' hooks 503.
	Capture *capture.Service
}

// DefaultMaxWebhooksPerOrg is Deps.MaxWebhooksPerOrg's default.
const DefaultMaxWebhooksPerOrg = 25

// Request deadlines when Deps leaves them zero.
const (
	DefaultRequestTimeout     = 15 * time.Second
	DefaultLongRequestTimeout = 2 * time.Minute
)

// Enqueuer is the task queue as the API sees it.
type Enqueuer interface {
	EnqueueTranscript(ctx context.Context, orgID, transcriptID string) error
	EnqueueWebhook(ctx context.Context, orgID, deliveryID string) error
}

// FollowUpGenerator drafts a meeting's follow-up email again from its
// stored notes (the worker package implements it; the API never imports it).
type FollowUpGenerator interface {
	RegenerateFollowUp(ctx context.Context, orgID, activityID string) (crm.FollowUp, error)
}

type handler struct {
	store *store.Store
	// activities writes activities and transcripts by their rules.
	activities *activity.Service
	log        *slog.Logger
	ready      []ReadyCheck
	now        func() time.Time
	openapi    []byte
	metrics    http.Handler
	enqueue    Enqueuer
	followUp   FollowUpGenerator
	asker      Asker
	searcher   Searcher
	auth       interface { // Deps.Auth; nil is h.store
		Authenticate(ctx context.Context, secret string) (crm.Principal, error)
	}
	// timeout and longTimeout are Deps.RequestTimeout and
	// Deps.LongRequestTimeout with their defaults.
	timeout, longTimeout time.Duration
	requests             *prometheus.CounterVec
	duration             *prometheus.HistogramVec
	// limits enforces the rate limits (nil: none); idem keeps the answers
	// of requests with an Idempotency-Key.
	limits *rateLimits
	idem   *idempotency
	// webhookGuard checks webhook URLs; resolveWebhooks says whether it
	// also looks their names up (Deps.WebhookGuard was set).
	webhookGuard    *netguard.Guard
	resolveWebhooks bool
	maxWebhooks     int
	// observers caches the requests counter and duration observer of each
	// route, method and status seen (a metricKey → *routeMetrics), so a
	// request does not hash its labels into both vectors again.
	observers sync.Map

	// transcripts is the budget posted transcripts are read, parsed and
	// stored within (Deps.Transcripts).
	transcripts *transcriptGate

	// metricsToken is Deps.MetricsToken.
	metricsToken string
	// publicURL is Deps.PublicURL without a trailing slash.
	publicURL string

	// capture is Deps.Capture (the note-takers' hooks open connector
	// secrets through it).
	capture *capture.Service
}

// handlerFunc is a route's handler: it gets the authenticated principal (the
// zero Principal on public routes) and returns an error that writeError maps
// to a problem response.
type handlerFunc func(h *handler, w http.ResponseWriter, r *http.Request, p crm.Principal) error

// NewHandler returns the whole HTTP API.
func NewHandler(d Deps) (http.Handler, error) {
	if d.Store == nil {
		return nil, fmt.Errorf("api: Deps.Store is required")
	}
	h := &handler{store: d.Store, activities: activity.New(d.Store), log: d.Logger, ready: d.Ready, now: d.Now, enqueue: d.Enqueuer, followUp: d.FollowUps, asker: d.Asker,
		searcher: d.Searcher}
	h.metricsToken = d.MetricsToken
	h.publicURL = strings.TrimRight(d.PublicURL, "/")
	h.capture = d.Capture
	h.auth = d.Auth
	h.webhookGuard, h.resolveWebhooks, h.maxWebhooks = d.WebhookGuard, d.WebhookGuard != nil, d.MaxWebhooksPerOrg
	if h.webhookGuard == nil {
		h.webhookGuard = netguard.New(netguard.Options{})
	}
	if h.maxWebhooks <= 0 {
		h.maxWebhooks = DefaultMaxWebhooksPerOrg
	}
	h.transcripts = newTranscriptGate(d.Transcripts, maxTranscriptBody)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.timeout, h.longTimeout = cmp.Or(d.RequestTimeout, DefaultRequestTimeout), cmp.Or(d.LongRequestTimeout, DefaultLongRequestTimeout)
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "logbook_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "status"})
	h.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "logbook_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern, method and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route", "method", "status"})
	if err := reg.Register(h.requests); err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	if err := reg.Register(h.duration); err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}

	var err error
	if h.idem, err = newIdempotency(reg); err != nil {
		return nil, err
	}
	if d.RateLimiter != nil {
		if h.limits, err = newRateLimits(d.RateLimiter, d.RateLimits, reg); err != nil {
			return nil, fmt.Errorf("api: register rate limit metrics: %w", err)
		}
	}
	h.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	rs := routes()
	spec, err := buildOpenAPI(rs, withPolicyDocs(rs, docs()), d.Version)
	if err != nil {
		return nil, err
	}
	h.openapi = spec

	mux := http.NewServeMux()
	for _, rt := range rs {
		mux.Handle(rt.Method+" "+rt.Path, h.wrap(rt))
	}
	return &server{Handler: h.middleware(mux), h: h}, nil
}

// server is the http.Handler NewHandler returns.
type server struct {
	http.Handler
	h *handler
}

// spec returns the OpenAPI document (tests read it without a request).
func (s *server) spec() []byte { return s.h.openapi }

// wrap adds the route's deadline, authentication and the scope check to a
// route's handler. The deadline bounds everything the request waits on
// (acquiring a connection, every statement), so a frozen database answers
// 503 in time instead of hanging; the long routes (a model call, a whole
// transcript) get LongRequestTimeout and a write deadline to match.
func (h *handler) wrap(rt route) http.Handler {
	timeout := h.timeout
	if longRoute(rt) {
		timeout = h.longTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		if longRoute(rt) {
			// Past the server's WriteTimeout, which suits the short routes.
			err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + 5*time.Second))
			if err != nil && !errors.Is(err, http.ErrNotSupported) {
				h.log.WarnContext(ctx, "set write deadline", slog.Any("error", err))
			}
		}
		var p crm.Principal
		if rt.Scope != "" {
			var err error
			p, err = h.authenticate(r)
			var he *httpError
			if errors.As(err, &he) && he.status == http.StatusServiceUnavailable {
				writeUnavailable(w, he.detail)
				return
			}
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="logbook"`)
				writeProblem(w, Problem{Status: http.StatusUnauthorized, Detail: err.Error()})
				return
			}
			if !crm.HasScope(p.Scopes, rt.Scope) {
				writeProblem(w, Problem{Status: http.StatusForbidden,
					Detail: fmt.Sprintf("this API key lacks the %q scope", rt.Scope)})
				return
			}
		}
		// auth → rate limit (ratelimit.go) → Idempotency-Key (idempotency.go) → handler
		if h.allow(w, r, rt, p) {
			h.serve(w, r, rt, p)
		}
	})
}

// longRoute reports whether rt calls a model or takes a whole transcript,
// or streams a bulk page of the activity feed, and so gets
// LongRequestTimeout.
func longRoute(rt route) bool {
	if rt.Method == http.MethodGet && rt.Path == "/v1/activities" {
		return true
	}
	return rt.Method == http.MethodPost && (strings.HasSuffix(rt.Path, "/ask") || strings.HasSuffix(rt.Path, "/follow-up") ||
		strings.HasSuffix(rt.Path, "/transcripts"))
}

// authenticate checks the request's bearer key. Only a key the store does
// not know (crm.ErrNotFound) is a 401; any other failure of the lookup (the
// database down, frozen or out of time) is an *httpError 503: the key may
// be perfectly good.
func (h *handler) authenticate(r *http.Request) (crm.Principal, error) {
	auth := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(auth, " ")
	if auth == "" {
		return crm.Principal{}, fmt.Errorf("missing Authorization: Bearer <api key>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return crm.Principal{}, fmt.Errorf("the Authorization header must be Bearer <api key>")
	}
	var p crm.Principal
	var err error
	if h.auth != nil {
		p, err = h.auth.Authenticate(r.Context(), strings.TrimSpace(key))
	} else {
		p, err = h.store.APIKeyAuthenticate(r.Context(), strings.TrimSpace(key))
	}
	switch {
	case err == nil:
		return p, nil
	case isNotFound(err):
		return crm.Principal{}, fmt.Errorf("invalid or revoked API key")
	}
	h.log.WarnContext(r.Context(), "authenticate: cannot check the API key", slog.Any("error", err))
	return crm.Principal{}, &httpError{status: http.StatusServiceUnavailable, detail: "cannot check the API key right now; retry later"}
}

// metricKey identifies one series of the HTTP metrics.
type metricKey struct {
	route, method string
	status        int
}

// routeMetrics are the two series of one metricKey.
type routeMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts a request and records its latency, looking up the series
// of its labels once per process rather than once per request.
func (h *handler) observe(route, method string, status int, d time.Duration) {
	k := metricKey{route: route, method: method, status: status}
	v, ok := h.observers.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		v, _ = h.observers.LoadOrStore(k, &routeMetrics{
			requests: h.requests.WithLabelValues(route, method, code),
			duration: h.duration.WithLabelValues(route, method, code),
		})
	}
	m := v.(*routeMetrics)
	m.requests.Inc()
	m.duration.Observe(d.Seconds())
}

// statusRecorder remembers the status a handler wrote. Whether a route
// matched is read from the request's Pattern, which the mux sets before it
// calls any handler, at the first write (so the request is routed once).
type statusRecorder struct {
	http.ResponseWriter
	r       *http.Request
	status  int
	decided bool
	capture bool // swallow the mux's own plain-text 404/405 body
	// err is what writeJSON could not encode; the middleware logs it.
	err error
}

// decide sets capture once, at the first write: no route matched.
func (s *statusRecorder) decide() {
	if !s.decided {
		s.decided = true
		s.capture = s.r.Pattern == ""
	}
}

func (s *statusRecorder) WriteHeader(code int) {
	s.decide()
	s.status = code
	if s.capture {
		return
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.decide()
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.capture {
		return len(b), nil
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets server-sent events through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// middleware records metrics, turns panics into a logged 500, and answers
// unknown routes (404) and wrong methods (405) with problem+json instead of
// the mux's plain text.
func (h *handler) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, r: r}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("path", r.URL.Path))
				if rec.status == 0 {
					writeProblem(rec, Problem{Status: http.StatusInternalServerError, Detail: "internal error; it has been logged"})
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			} else if _, p, ok := strings.Cut(route, " "); ok {
				route = p
			}
			h.observe(route, r.Method, rec.status, time.Since(start))
		}()
		mux.ServeHTTP(rec, r)
		if rec.err != nil {
			h.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("error", rec.err))
		}
		rec.decide()
		if rec.capture {
			rec.capture = false
			status := rec.status
			if status == 0 || status == http.StatusOK {
				status = http.StatusNotFound
			}
			detail := "no route matches " + r.URL.Path
			if status == http.StatusMethodNotAllowed {
				detail = fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, w.Header().Get("Allow"))
			}
			writeProblem(rec, Problem{Status: status, Detail: detail})
		}
	})
}
