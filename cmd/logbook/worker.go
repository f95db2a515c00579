package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"logbook/internal/llm"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
	"logbook/internal/queue"
	"logbook/summarize"
	"logbook/worker"
)

// provider returns the configured model: the offline local provider (the
// default, no key needed) or any OpenAI-compatible server.
func (a *app) provider() (llm.Completer, llm.Embedder, string, error) {
	if a.cfg.LLMProvider == "openai" {
		p, err := openai.New(openai.Config{
			APIKey: a.cfg.OpenAIAPIKey, BaseURL: a.cfg.OpenAIBaseURL,
			ChatModel: a.cfg.ChatModel, EmbedModel: a.cfg.EmbedModel, EmbedDim: a.cfg.EmbedDim,
		})
		if err != nil {
			return nil, nil, "", err
		}
		return p, p, a.cfg.ChatModel, nil
	}
	p := local.New(a.cfg.EmbedDim)
	return p, p, "local-extractive-v1", nil
}

// pipeline builds the enqueuer, the summarizer and the worker.
func (a *app) pipeline(q queue.Queues) (*queue.Enqueuer, *worker.Worker, error) {
	completer, _, model, err := a.provider()
	if err != nil {
		return nil, nil, err
	}
	prices := map[string]summarize.Price{}
	for m, p := range a.cfg.Prices {
		prices[m] = summarize.Price{InputPerMTok: p.Input, OutputPerMTok: p.Output}
	}
	sum := summarize.New(completer, summarize.Config{ContextTokens: a.cfg.ContextTokens, Prices: prices, Model: model})
	rs, err := a.retrievalService()
	if err != nil {
		return nil, nil, err
	}
	enq := queue.NewEnqueuer(a.rdb, q)
	w, err := worker.New(worker.Config{
		Store: storeOf(a.pool), Summarizer: sum, Retrieval: rs, Redis: a.rdb, Enqueuer: enq, Queues: q,
		LLMConcurrency: a.cfg.WorkerConcurrency, Logger: a.log,
	})
	if err != nil {
		_ = enq.Close()
		return nil, nil, err
	}
	return enq, w, nil
}

func cmdWorker(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("worker", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", redactURL(a.cfg.RedisURL), err)
	}
	enq, w, err := a.pipeline(a.queues())
	if err != nil {
		return err
	}
	defer enq.Close()
	return w.Run(ctx, a.cfg.ShutdownTimeout)
}

// cmdAll runs the API and the worker in one process: for a laptop, a small
// team or the demo.
func cmdAll(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("all", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
	}
	return a.runAll(ctx, ln, a.queues())
}

// queues are the task queues, with QUEUE_PREFIX.
func (a *app) queues() queue.Queues {
	return queue.Queues{LLM: a.cfg.QueuePrefix + queue.DefaultQueues.LLM, Default: a.cfg.QueuePrefix + queue.DefaultQueues.Default}
}

// runPrivate serves the API on a loopback port and runs the worker, in
// this process, on queues named with prefix, so a Logbook already running
// on the same Redis is not disturbed (logbook demo and logbook quality). It
// returns the API's base URL and stop, which ends both, waits for them and
// removes the queues.
func (a *app) runPrivate(ctx context.Context, prefix string) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	q := queue.Queues{LLM: prefix + "llm", Default: prefix + "default"}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.runAll(runCtx, ln, q) }()
	stop := func() error {
		cancel()
		<-done
		if err := queue.NewInspector(a.rdb).DeleteQueues(q); err != nil {
			return fmt.Errorf("removing the queues %s*: %w", prefix, err)
		}
		return nil
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// runAll serves HTTP on ln and runs the worker until ctx ends.
func (a *app) runAll(ctx context.Context, ln net.Listener, q queue.Queues) error {
	enq, w, err := a.pipeline(q)
	if err != nil {
		return err
	}
	defer enq.Close()
	h, err := a.apiHandlerWith(ctx, enq, w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = a.serveHTTP(ctx, ln, h); cancel() }()
	go func() { defer wg.Done(); errs[1] = w.Run(ctx, a.cfg.ShutdownTimeout); cancel() }()
	wg.Wait()
	return errors.Join(errs...)
}
