package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"logbook/api"
	"logbook/internal/config"
	"logbook/internal/llm"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/retrieval"
	"logbook/summarize"
	"logbook/web"
	"logbook/worker"
)

// Provider returns the configured model: the offline local provider (the
// default, no key needed) or any OpenAI-compatible server, with the name of
// the chat model.
func (a *App) Provider() (llm.Completer, llm.Embedder, string, error) {
	m, err := a.Metrics()
	if err != nil {
		return nil, nil, "", err
	}
	c, e, model, err := a.provider()
	if err != nil {
		return nil, nil, "", err
	}
	return m.LLM.Completer(c, model), m.LLM.Embedder(e, EmbedModelName(a.Cfg)), model, nil
}

// provider is Provider without the metrics.
func (a *App) provider() (llm.Completer, llm.Embedder, string, error) {
	if a.Cfg.LLMProvider == "openai" {
		p, err := openai.New(openai.Config{
			APIKey: a.Cfg.OpenAIAPIKey, BaseURL: a.Cfg.OpenAIBaseURL,
			ChatModel: a.Cfg.ChatModel, EmbedModel: a.Cfg.EmbedModel, EmbedDim: a.Cfg.EmbedDim,
		})
		if err != nil {
			return nil, nil, "", err
		}
		return p, p, a.Cfg.ChatModel, nil
	}
	p := local.New(a.Cfg.EmbedDim)
	return p, p, "local-extractive-v1", nil
}

// EmbedModelName is the name chunks record for the configured embedder:
// the model and the dimension, since a text-embedding-3 model shortened to
// 384 dimensions gives other vectors than at 1536.
func EmbedModelName(cfg config.Config) string {
	if cfg.LLMProvider == "openai" {
		return fmt.Sprintf("%s/%d", cfg.EmbedModel, cfg.EmbedDim)
	}
	return local.New(cfg.EmbedDim).Model()
}

// RetrievalService builds retrieval on the configured provider.
func (a *App) RetrievalService() (*retrieval.Service, error) {
	completer, embedder, _, err := a.Provider()
	if err != nil {
		return nil, err
	}
	return retrieval.New(retrieval.Config{
		Store: store.New(a.Pool), Embedder: embedder, Completer: completer, EmbedModel: EmbedModelName(a.Cfg),
		MinSimilarity: a.Cfg.MinSimilarity, EfSearch: a.Cfg.EfSearch, VectorWeight: a.Cfg.VectorWeight,
	})
}

// CheckEmbedDim refuses to run on a chunks table whose vectors have another
// dimension than EMBED_DIM: nothing could be stored or compared.
func (a *App) CheckEmbedDim(ctx context.Context) error {
	dim, err := store.New(a.Pool).EmbeddingDim(ctx)
	if err != nil {
		return err
	}
	if dim != a.Cfg.EmbedDim {
		return fmt.Errorf("the database stores %d-dimensional embeddings but EMBED_DIM is %d: "+
			"run `logbook reindex` to change the database to %d and embed everything again, or set EMBED_DIM=%d",
			dim, a.Cfg.EmbedDim, a.Cfg.EmbedDim, dim)
	}
	return nil
}

// Pipeline builds the enqueuer, the summarizer and the worker on the
// queues q.
func (a *App) Pipeline(q queue.Queues) (*queue.Enqueuer, *worker.Worker, error) {
	completer, _, model, err := a.Provider()
	if err != nil {
		return nil, nil, err
	}
	prices := map[string]summarize.Price{}
	for m, p := range a.Cfg.Prices {
		prices[m] = summarize.Price{InputPerMTok: p.Input, OutputPerMTok: p.Output}
	}
	sum := summarize.New(completer, summarize.Config{ContextTokens: a.Cfg.ContextTokens, Prices: prices, Model: model})
	rs, err := a.RetrievalService()
	if err != nil {
		return nil, nil, err
	}
	guard, proxy, err := a.WebhookGuard()
	if err != nil {
		return nil, nil, err
	}
	m, err := a.Metrics()
	if err != nil {
		return nil, nil, err
	}
	enq := queue.NewEnqueuer(a.Redis, q)
	cap, err := a.Capture(enq)
	if err != nil {
		_ = enq.Close()
		return nil, nil, err
	}
	fetch, err := a.notetakerFetch(cap, enq)
	if err != nil {
		_ = enq.Close()
		return nil, nil, err
	}
	w, err := worker.New(worker.Config{
		Store: store.New(a.Pool), Summarizer: sum, Retrieval: rs, Redis: a.Redis, Enqueuer: enq, Queues: q,
		LLMConcurrency: a.Cfg.WorkerConcurrency, Logger: a.Log,
		Guard: guard, WebhookProxy: proxy, WebhookTimeout: a.Cfg.WebhookTimeout,
		WebhookConcurrency: a.Cfg.WebhookConcurrency, IndexConcurrency: a.Cfg.IndexConcurrency,
		Metrics: m.Worker,
		// The connectors' syncs and their scheduler.
		Handlers: map[string]asynq.Handler{
			queue.TypeConnectorSync:  asynq.HandlerFunc(cap.HandleSync),
			queue.TypeNotetakerFetch: fetch, // the note-takers' pulls (capture/notetaker)
		},
		Loops: []func(context.Context){cap.Schedule},
	})
	if err != nil {
		_ = enq.Close()
		return nil, nil, err
	}
	return enq, w, nil
}

// Queues are the task queues, with QUEUE_PREFIX.
func (a *App) Queues() queue.Queues {
	return queue.Prefixed(a.Cfg.QueuePrefix)
}

// WebhookGuard is the outbound guard of webhooks: public addresses plus
// WEBHOOK_ALLOW_PRIVATE, names resolved by the system's resolver; and
// WEBHOOK_PROXY, parsed (nil when unset).
func (a *App) WebhookGuard() (*netguard.Guard, *url.URL, error) {
	allow, err := netguard.ParseAllowList(a.Cfg.WebhookAllowPrivate)
	if err != nil {
		return nil, nil, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE: %w", err)
	}
	var proxy *url.URL
	if a.Cfg.WebhookProxy != "" {
		if proxy, err = url.Parse(a.Cfg.WebhookProxy); err != nil {
			return nil, nil, fmt.Errorf("WEBHOOK_PROXY: %w", err)
		}
	}
	return netguard.New(netguard.Options{Allow: allow}), proxy, nil
}

// APIHandler builds the HTTP API. It starts the API key cache's listener,
// which runs until ctx is done: the caller's ctx must last as long as the
// handler serves.
func (a *App) APIHandler(ctx context.Context) (http.Handler, error) {
	enq, w, err := a.Pipeline(a.Queues())
	if err != nil {
		return nil, err
	}
	return a.APIHandlerWith(ctx, enq, w)
}

// Handler builds what `logbook serve` serves: the HTTP API and the web UI
// on one handler (withWeb).
func (a *App) Handler(ctx context.Context) (http.Handler, error) {
	enq, w, err := a.Pipeline(a.Queues())
	if err != nil {
		return nil, err
	}
	h, err := a.APIHandlerWith(ctx, enq, w)
	if err != nil {
		return nil, err
	}
	return a.withWeb(h, enq)
}

// withWeb serves the web UI beside the API: the API's paths (/v1/…,
// /healthz, /readyz, /metrics, /openapi.json) go to apiH, everything else
// to the web UI. enq gets the webhook deliveries the web UI's writes store
// (the API's enqueuer).
func (a *App) withWeb(apiH http.Handler, enq web.Enqueuer) (http.Handler, error) {
	// Search and questions on the account page go through retrieval,
	// as the API's do.
	rs, err := a.RetrievalService()
	if err != nil {
		return nil, err
	}
	// Connectors are created and changed on the admin pages through the
	// same service as the API's.
	webCapture, err := a.captureFor(enq)
	if err != nil {
		return nil, err
	}
	webH, err := web.NewHandler(web.Deps{Store: store.New(a.Pool), Logger: a.Log, Enqueuer: enq, Capture: webCapture,
		Asker: rs, Searcher: rs,
		LoginLimiter: a.loginLimiter(), PublicURL: a.Cfg.PublicURL,
		// Questions take the API's ask quotas, per person and per org.
		AskLimits: web.AskLimits{PerUser: quota(a.Cfg.RateLimitAskPerMin), PerOrg: quota(a.Cfg.RateLimitOrgAskPerMin)}})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			apiH.ServeHTTP(w, r)
			return
		}
		webH.ServeHTTP(w, r)
	}), nil
}

// isAPIPath reports whether p belongs to the API rather than the web UI.
func isAPIPath(p string) bool {
	switch p {
	case "/v1", "/healthz", "/readyz", "/metrics", "/openapi.json":
		return true
	}
	return strings.HasPrefix(p, "/v1/")
}

// APIHandlerWith builds the HTTP API on an enqueuer (where posted
// transcripts and webhook deliveries go) and a follow-up regenerator.
func (a *App) APIHandlerWith(ctx context.Context, enq api.Enqueuer, fu api.FollowUpGenerator) (http.Handler, error) {
	return a.apiHandler(ctx, enq, fu, true)
}

// apiHandler is APIHandlerWith, with the rate limits (RATE_LIMIT_*) when
// limited; the private servers of the demo and the quality loop have none.
func (a *App) apiHandler(ctx context.Context, enq api.Enqueuer, fu api.FollowUpGenerator, limited bool) (http.Handler, error) {
	var limiter api.RateLimiter
	var quotas api.RateLimits
	if limited {
		var err error
		if limiter, quotas, err = a.rateLimiter(ctx); err != nil {
			return nil, err
		}
	}
	st := store.New(a.Pool)
	rs, err := a.RetrievalService()
	if err != nil {
		return nil, err
	}
	guard, _, err := a.WebhookGuard()
	if err != nil {
		return nil, err
	}
	m, err := a.Metrics()
	if err != nil {
		return nil, err
	}
	// The connectors' create, change and resync (capture), on the task
	// queue the API enqueues on.
	apiCapture, err := a.captureFor(enq)
	if err != nil {
		return nil, err
	}
	box, err := a.SecretBox()
	if err != nil {
		return nil, err
	}
	keys := store.NewKeyCache(a.Pool, st, store.KeyCacheOptions{Logger: a.Log})
	go func() { _ = keys.Run(ctx) }()
	return api.NewHandler(api.Deps{
		Store:     st,
		Auth:      keys,
		Enqueuer:  enq,
		FollowUps: fu,
		Asker:     rs,
		Searcher:  rs,
		Logger:    a.Log,
		Version:   a.version(),
		// Rate limits (nil limiter: none).
		RateLimiter: limiter,
		RateLimits:  quotas,

		RequestTimeout:     a.Cfg.RequestTimeout,
		LongRequestTimeout: a.Cfg.LongRequestTimeout,
		Ready: []api.ReadyCheck{
			{Name: "postgres", Check: func(ctx context.Context) error { return a.Pool.Ping(ctx) }},
			{Name: "redis", Check: func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }},
		},

		// Webhook URLs: checked and resolved at creation; at most so many.
		WebhookGuard:      guard,
		MaxWebhooksPerOrg: a.Cfg.WebhooksPerOrg,

		// Posted transcripts: how many are in memory at once.
		Transcripts: api.TranscriptLimits{Parses: a.Cfg.TranscriptParses, Wait: a.Cfg.TranscriptWait},

		// Metrics: the App's one registry, behind METRICS_TOKEN.
		Registry:     m.Registry,
		MetricsToken: a.Cfg.MetricsToken,

		// Invite links: PUBLIC_URL, or the request's host.
		PublicURL: a.Cfg.PublicURL,

		// Connectors: create, change and resync with their kinds' checks.
		Capture: apiCapture,
		// The dialer hooks' secrets, sealed under LOGBOOK_SECRET_KEY.
		SecretBox: box,
	})
}

// Serve serves h on ln until ctx is done, then shuts down gracefully: no
// new connections, in-flight requests get up to ShutdownTimeout.
func (a *App) Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(a.Cfg.HTTPReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       cmp.Or(a.Cfg.HTTPReadTimeout, 2*time.Minute),
		// The long routes (ask's SSE, transcripts) extend their own write
		// deadline through http.ResponseController.
		WriteTimeout:   cmp.Or(a.Cfg.HTTPWriteTimeout, 30*time.Second),
		IdleTimeout:    cmp.Or(a.Cfg.HTTPIdleTimeout, 2*time.Minute),
		MaxHeaderBytes: cmp.Or(a.Cfg.HTTPMaxHeaderBytes, 64<<10),
		ErrorLog:       slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("version", a.version()))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", slog.Duration("timeout", a.Cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.Log.Info("stopped")
	return nil
}

// RunPrivate serves the API on a loopback port and runs the worker, in
// this process, on queues named with prefix, so a Logbook already running
// on the same Redis is not disturbed (logbook demo and logbook-bench
// quality). It returns the API's base URL and stop, which ends both, waits
// for them and removes the queues.
func (a *App) RunPrivate(ctx context.Context, prefix string) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	q := queue.Prefixed(prefix)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.runAll(runCtx, ln, q, false) }()
	stop := func() error {
		cancel()
		<-done
		if err := queue.NewInspector(a.Redis).DeleteQueues(q); err != nil {
			return fmt.Errorf("removing the queues %s*: %w", prefix, err)
		}
		return nil
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// RunAll serves HTTP on ln and runs the worker on the queues q until ctx
// ends.
func (a *App) RunAll(ctx context.Context, ln net.Listener, q queue.Queues) error {
	return a.runAll(ctx, ln, q, true)
}

// runAll is RunAll, with the rate limits when limited (RunPrivate's
// servers have none: the tools drive them harder than any quota).
func (a *App) runAll(ctx context.Context, ln net.Listener, q queue.Queues, limited bool) error {
	enq, w, err := a.Pipeline(q)
	if err != nil {
		return err
	}
	defer enq.Close()
	if err := a.WatchQueues(q); err != nil {
		return err
	}
	apiH, err := a.apiHandler(ctx, enq, w, limited)
	if err != nil {
		return err
	}
	h, err := a.withWeb(apiH, enq)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = a.Serve(ctx, ln, h); cancel() }()
	go func() { defer wg.Done(); errs[1] = w.Run(ctx, a.Cfg.ShutdownTimeout); cancel() }()
	wg.Wait()
	return errors.Join(errs...)
}

// quota is a configured per-minute quota as web.AskLimits takes it: the
// configuration's 0 (disabled) is web's negative (no limit).
func quota(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
