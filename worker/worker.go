package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"logbook/internal/llm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/retrieval"
	"logbook/summarize"
)

// Config is what a Worker needs. Store, Summarizer, Redis and Enqueuer are
// required.
type Config struct {
	Store      *store.Store
	Summarizer *summarize.Summarizer
	Redis      redis.UniversalClient
	Enqueuer   *queue.Enqueuer
	// Retrieval indexes meetings and activities for questions. nil
	// processes transcripts without indexing them and runs no indexing
	// (tests of other parts only; production always sets it).
	Retrieval *retrieval.Service
	// IndexEvery is how often the sweep looks for activities whose text is
	// not indexed yet (default 2s).
	IndexEvery time.Duration
	// Queues names the queues to serve; zero is queue.DefaultQueues.
	Queues queue.Queues
	// LLMConcurrency is how many transcripts are processed at once (default 8).
	LLMConcurrency int
	// DefaultConcurrency is how many other tasks run at once (default 2×CPUs).
	DefaultConcurrency int
	// WebhookConcurrency is how many webhook deliveries are sent at once
	// (default 10), when Queues.Webhooks is a queue of its own.
	WebhookConcurrency int
	// IndexConcurrency is how many activities are indexed at once (default
	// CPUs), when Queues.Index is a queue of its own.
	IndexConcurrency int
	// ReconcileEvery is the reconciler's period (default 30s); ReconcileGrace
	// is how long work may sit unfinished before it is enqueued again
	// (default 1m).
	ReconcileEvery, ReconcileGrace time.Duration
	// HTTPClient sends webhooks. nil builds one that dials through Guard,
	// takes no proxy from the environment (WebhookProxy only), follows no
	// redirect and gives up after WebhookTimeout. Tests that pass their own
	// client bypass Guard.
	HTTPClient *http.Client
	// Guard decides which addresses a delivery may connect to, checked
	// against the address a name resolves to at each dial; nil refuses
	// every non-public address and resolves with the system's resolver.
	Guard *netguard.Guard
	// WebhookTimeout bounds one delivery attempt, connect to last byte
	// (default 10s).
	WebhookTimeout time.Duration
	// WebhookProxy, when set, is the HTTP proxy deliveries go through; the
	// guard then checks the proxy's address, and the proxy must enforce
	// its own egress rules.
	WebhookProxy *url.URL
	// Logger gets the workers' logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Metrics records task outcomes and durations (NewMetrics); nil
	// records nothing.
	Metrics *Metrics
	// Handlers serve more task types on the Default queue (the
	// connectors' syncs, which live in packages beside this one); the app
	// wires them in.
	Handlers map[string]asynq.Handler
	// Loops run beside the reconciler until the worker stops (the
	// connectors' scheduler).
	Loops []func(context.Context)
}

// Worker runs the task handlers and the reconciler.
type Worker struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	http *http.Client
}

// New checks cfg, fills defaults and returns a Worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil || cfg.Summarizer == nil || cfg.Redis == nil || cfg.Enqueuer == nil {
		return nil, errors.New("worker: Store, Summarizer, Redis and Enqueuer are required")
	}
	if cfg.Queues == (queue.Queues{}) {
		cfg.Queues = queue.DefaultQueues
	}
	cfg.Queues = cfg.Queues.Filled()
	if cfg.WebhookConcurrency <= 0 {
		cfg.WebhookConcurrency = 10
	}
	if cfg.IndexConcurrency <= 0 {
		cfg.IndexConcurrency = runtime.NumCPU()
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 10 * time.Second
	}
	if cfg.Guard == nil {
		cfg.Guard = netguard.New(netguard.Options{})
	}
	if cfg.LLMConcurrency <= 0 {
		cfg.LLMConcurrency = 8
	}
	if cfg.DefaultConcurrency <= 0 {
		cfg.DefaultConcurrency = 2 * runtime.NumCPU()
	}
	if cfg.ReconcileEvery <= 0 {
		cfg.ReconcileEvery = 30 * time.Second
	}
	if cfg.IndexEvery <= 0 {
		cfg.IndexEvery = 2 * time.Second
	}
	if cfg.ReconcileGrace <= 0 {
		cfg.ReconcileGrace = time.Minute
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, now: cfg.Now, http: cfg.HTTPClient}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.http == nil {
		w.http = webhookClient(cfg.Guard, cfg.WebhookTimeout, cfg.WebhookProxy)
	}
	return w, nil
}

// Mux routes every task type to its handler.
func (w *Worker) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(w.cfg.Metrics.Middleware)
	mux.HandleFunc(queue.TypeTranscriptProcess, w.HandleTranscriptProcess)
	mux.HandleFunc(queue.TypeWebhookDeliver, w.HandleWebhookDeliver)
	mux.HandleFunc(queue.TypeActivityIndex, w.HandleActivityIndex)
	for typ, h := range w.cfg.Handlers {
		mux.Handle(typ, h)
	}
	return mux
}

// Run serves every queue and runs the reconciler until ctx ends, then
// shuts down: running tasks get up to shutdownTimeout to finish, and any
// that do not are left for asynq to hand to another worker.
func (w *Worker) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	if shutdownTimeout <= 0 {
		shutdownTimeout = 20 * time.Second
	}
	base := asynq.Config{
		RetryDelayFunc:  retryDelay,
		IsFailure:       isFailure,
		Logger:          asynqLogger{w.log},
		ShutdownTimeout: shutdownTimeout,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			w.log.WarnContext(ctx, "task failed", slog.String("type", t.Type()), slog.Any("error", err))
		}),
	}
	// One server per queue, each with its own concurrency; a queue that
	// shares Default's name (a Queues without Webhooks or Index) is served
	// by Default's.
	var servers []*asynq.Server
	var started []string
	for _, qc := range []struct {
		name        string
		concurrency int
	}{
		{w.cfg.Queues.LLM, w.cfg.LLMConcurrency},
		{w.cfg.Queues.Default, w.cfg.DefaultConcurrency},
		{w.cfg.Queues.Webhooks, w.cfg.WebhookConcurrency},
		{w.cfg.Queues.Index, w.cfg.IndexConcurrency},
	} {
		if slices.Contains(started, qc.name) {
			continue
		}
		started = append(started, qc.name)
		c := base
		c.Concurrency = qc.concurrency
		c.Queues = map[string]int{qc.name: 1}
		servers = append(servers, asynq.NewServerFromRedisClient(w.cfg.Redis, c))
	}
	mux := w.Mux()
	for i, s := range servers {
		if err := s.Start(mux); err != nil {
			for _, started := range servers[:i] {
				started.Shutdown()
			}
			return fmt.Errorf("worker: start: %w", err)
		}
	}
	w.log.Info("worker started", slog.String("llm_queue", w.cfg.Queues.LLM), slog.Int("llm_concurrency", w.cfg.LLMConcurrency),
		slog.String("default_queue", w.cfg.Queues.Default), slog.Int("default_concurrency", w.cfg.DefaultConcurrency),
		slog.String("webhooks_queue", w.cfg.Queues.Webhooks), slog.Int("webhook_concurrency", w.cfg.WebhookConcurrency),
		slog.String("index_queue", w.cfg.Queues.Index), slog.Int("index_concurrency", w.cfg.IndexConcurrency))
	var wg sync.WaitGroup
	for _, loop := range w.cfg.Loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		w.reconcileLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		w.indexLoop(ctx)
	}()
	<-ctx.Done()
	w.log.Info("worker stopping")
	var sw sync.WaitGroup
	for _, s := range servers {
		sw.Add(1)
		go func() { defer sw.Done(); s.Shutdown() }()
	}
	sw.Wait()
	wg.Wait()
	w.log.Info("worker stopped")
	return nil
}

// retryDelay is exponential backoff with jitter (1 s, 2 s, 4 s … capped at
// 10 min), honouring a provider's Retry-After, and quick for work that only
// needs running again (new content arrived, a lease expired). A webhook
// delivery follows queue.WebhookRetrySchedule instead (over a day in all).
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if t != nil && t.Type() == queue.TypeWebhookDeliver {
		return webhookRetryDelay(n)
	}
	if after, ok := llm.RetryAfter(err); ok {
		return min(after, 10*time.Minute)
	}
	if errors.Is(err, store.ErrStaleRevision) || errors.Is(err, retrieval.ErrChanged) || errors.Is(err, asynq.ErrLeaseExpired) {
		return time.Second
	}
	d := time.Second << min(n, 10)
	d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	return min(d, 10*time.Minute)
}

// isFailure keeps a stale revision from counting as a failed attempt.
func isFailure(err error) bool {
	return !errors.Is(err, store.ErrStaleRevision) && !errors.Is(err, retrieval.ErrChanged)
}

// asynqLogger adapts slog to asynq's Logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) {
	a.l.Debug(fmt.Sprint(args...), slog.String("component", "asynq"))
}
func (a asynqLogger) Info(args ...any) {
	a.l.Info(fmt.Sprint(args...), slog.String("component", "asynq"))
}
func (a asynqLogger) Warn(args ...any) {
	a.l.Warn(fmt.Sprint(args...), slog.String("component", "asynq"))
}
func (a asynqLogger) Error(args ...any) {
	a.l.Error(fmt.Sprint(args...), slog.String("component", "asynq"))
}
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), slog.String("component", "asynq"))
}
