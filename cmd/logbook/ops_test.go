package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
	"logbook/prompts"
)

// freeAddr is a loopback address nobody listens on (for the moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// get GETs u with the bearer token (none when empty) and returns the status
// and body.
func get(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// scrape parses a /metrics answer (the text format), after promtool's
// lint (promlint, what `promtool check metrics` runs) found nothing.
func scrape(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	require.NoError(t, err)
	require.Empty(t, problems, "promtool check metrics would complain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return mfs
}

// sample is the value of the series of family name whose labels include
// want (a counter, gauge, or a histogram's count), and whether there is one.
func sample(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
	sum, found := 0.0, false
metrics:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue metrics
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, found
}

// TestOperatorsSeeThePipeline runs `logbook serve` and `logbook worker` (in
// this process, each with its own registry) on a private schema and queues
// with the openai provider on the fake server, posts a transcript through
// the API, and once it is done scrapes both /metrics: queue depth and
// latency, task outcomes, transcript processing time, model calls with
// tokens and cost, the database pool and the build; every line passes
// promtool's lint. /metrics wants the token on both ports (401 without or
// with a wrong one); the worker's port serves /healthz and /readyz too,
// and `logbook healthcheck` reads /readyz on either.
func TestOperatorsSeeThePipeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, url, store.PoolConfig{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := store.New(pool)
	orgID, key, err := app.CreateOrg(ctx, s, "Northwind")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.test"})})
	require.NoError(t, err)

	srv := llmtest.NewServer(t)
	srv.EmbedDim = 384
	srv.DefaultReply = func(req llmtest.ChatRequest) llmtest.Reply {
		for _, m := range req.Messages {
			if strings.Contains(m.Content, "<<<TRANSCRIPT") {
				return llmtest.Reply{Usage: llmtest.Usage{Prompt: 1200, Completion: 300},
					Content: `{"summary":[{"text":"Pilot agreed.","segments":[1],"quote":"start the pilot on March 15"}],"key_points":[],"decisions":[],"risks":[],` +
						`"action_items":[{"text":"Send the Okta setup guide","owner":"Maya Patel","due":"by Friday","segments":[0],"quote":"send the Okta setup guide by Friday","tentative":false}]}`}
			}
		}
		return llmtest.Reply{Usage: llmtest.Usage{Prompt: 400, Completion: 100}, Content: `{"subject":"Follow-up","body":"Hi Dana, thanks."}`}
	}
	const token = "metrics-token-0123456789"
	prefix := testredis.Name(t) + "-"
	apiAddr, workerAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": url, "REDIS_URL": testredis.URL(), "QUEUE_PREFIX": prefix, "LOG_LEVEL": "error",
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": srv.URL(), "OPENAI_API_KEY": "test-key",
		"CHAT_MODEL": llmtest.DefaultChatModel, "EMBED_MODEL": llmtest.DefaultEmbedModel, "SHUTDOWN_TIMEOUT": "5s",
		"LLM_PRICES":       fmt.Sprintf(`{%q:{"input":2,"output":10}}`, llmtest.DefaultChatModel),
		"HTTP_ADDR":        apiAddr,
		"WORKER_HTTP_ADDR": workerAddr,
		"METRICS_TOKEN":    token,
	}
	rdb := testredis.Client(t)
	t.Cleanup(func() {
		require.NoError(t, queue.NewInspector(rdb).DeleteQueues(queue.Prefixed(prefix)))
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	var logs bytes.Buffer
	logw := &syncWriter{w: &logs}
	for _, cmd := range []string{"serve", "worker"} {
		go func() { done <- run(runCtx, []string{cmd}, io.Discard, logw, envOf(env)) }()
	}
	t.Cleanup(func() {
		stop()
		defer func() {
			if t.Failed() {
				logw.mu.Lock()
				t.Logf("logs of serve and worker:\n%s", logs.String())
				logw.mu.Unlock()
			}
		}()
		for range 2 {
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Error("serve or worker did not stop")
			}
		}
	})
	api, workerPort := "http://"+apiAddr, "http://"+workerAddr
	for _, base := range []string{api, workerPort} {
		require.Eventually(t, func() bool {
			res, err := http.Get(base + "/healthz")
			if err != nil {
				return false
			}
			_ = res.Body.Close()
			return res.StatusCode == http.StatusOK
		}, 20*time.Second, 20*time.Millisecond, "%s never answered", base)
	}

	// The worker's port: health, readiness, metrics behind the token.
	code, body := get(t, workerPort+"/readyz", "")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"status":"ok","checks":{"postgres":"ok","redis":"ok"},
		"details":{"connectors":{"ok":0,"failing":0,"unhealthy":0,"pending":0,"disabled":0}}}`, body)
	for _, base := range []string{api, workerPort} {
		code, body = get(t, base+"/metrics", "")
		require.Equal(t, http.StatusUnauthorized, code, "%s/metrics without the token: %s", base, body)
		require.NotContains(t, body, "logbook_")
		code, _ = get(t, base+"/metrics", token+"x")
		require.Equal(t, http.StatusUnauthorized, code, "%s/metrics with a wrong token", base)
	}
	var hc bytes.Buffer
	require.NoError(t, run(ctx, []string{"healthcheck", "-worker"}, &hc, &hc, envOf(env)))
	require.NoError(t, run(ctx, []string{"healthcheck"}, &hc, &hc, envOf(env)))
	require.Error(t, run(ctx, []string{"healthcheck", "-addr", freeAddr(t), "-timeout", "2s"}, &hc, &hc, envOf(env)))
	// A worker container: nothing on HTTP_ADDR, so the worker's port.
	workerOnly := maps.Clone(env)
	workerOnly["HTTP_ADDR"] = freeAddr(t)
	require.NoError(t, run(ctx, []string{"healthcheck"}, &hc, &hc, envOf(workerOnly)))
	workerOnly["WORKER_HTTP_ADDR"] = freeAddr(t)
	require.Error(t, run(ctx, []string{"healthcheck"}, &hc, &hc, envOf(workerOnly)))

	// A transcript through the whole pipeline.
	vtt := "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v Maya Patel>I'll send the Okta setup guide by Friday.\n\n" +
		"00:00:05.000 --> 00:00:09.000\n<v Dana Lee>Thanks. We agreed to start the pilot on March 15.\n"
	reqBody, err := json.Marshal(map[string]any{"source": "zoom", "external_id": "ops-1", "title": "Acme sync",
		"started_at": "2026-03-04T15:00:00Z", "account_id": acct.ID, "format": "vtt", "content": vtt,
		"participants": []map[string]string{{"name": "Dana Lee", "email": "dana@acme.test"}}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, api+"/v1/transcripts", bytes.NewReader(reqBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var accepted struct{ ID string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&accepted))
	_ = res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	require.Eventually(t, func() bool {
		tr, err := s.TranscriptGet(ctx, orgID, accepted.ID, false)
		return err == nil && tr.Status == crm.TranscriptDone
	}, 30*time.Second, 50*time.Millisecond, "the transcript was not processed")

	// The worker's /metrics: the task middleware counts after the handler
	// returns, so wait for it.
	var w map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		code, body := get(t, workerPort+"/metrics", token)
		require.Equal(t, http.StatusOK, code)
		w = scrape(t, body)
		n, _ := sample(w, "logbook_tasks_total", map[string]string{"type": "transcript:process", "outcome": "success"})
		return n == 1
	}, 10*time.Second, 50*time.Millisecond, "logbook_tasks_total{type=transcript:process,outcome=success} never reached 1")
	must := func(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
		t.Helper()
		v, ok := sample(mfs, name, labels)
		require.True(t, ok, "no series %s%v", name, labels)
		return v
	}
	llmQ := prefix + "llm"
	require.Equal(t, 1.0, must(w, "logbook_transcript_processing_seconds", map[string]string{"outcome": "success"}))
	require.Equal(t, 0.0, must(w, "logbook_tasks_total", map[string]string{"type": "transcript:process", "outcome": "retry"}))
	require.Equal(t, 0.0, must(w, "asynq_queue_size", map[string]string{"queue": llmQ}), "the queue is drained")
	require.Equal(t, 0.0, must(w, "asynq_queue_tasks", map[string]string{"queue": llmQ, "state": "pending"}))
	require.Equal(t, 0.0, must(w, "asynq_queue_latency_seconds", map[string]string{"queue": llmQ}))
	require.GreaterOrEqual(t, must(w, "asynq_tasks_processed_total", map[string]string{"queue": llmQ}), 1.0)
	for _, name := range queue.Prefixed(prefix).Names() {
		must(w, "asynq_queue_size", map[string]string{"queue": name})
	}
	require.Equal(t, 1.0, must(w, "asynq_queue_stats_up", nil))
	notes := map[string]string{"model": llmtest.DefaultChatModel, "purpose": prompts.PurposeNotes}
	require.Equal(t, 1.0, must(w, "logbook_llm_requests_total", map[string]string{"model": llmtest.DefaultChatModel, "purpose": prompts.PurposeNotes, "result": "ok"}))
	require.Equal(t, 1.0, must(w, "logbook_llm_requests_total", map[string]string{"purpose": prompts.PurposeFollowUp, "result": "ok"}))
	require.Equal(t, 1200.0, must(w, "logbook_llm_tokens_total", map[string]string{"model": llmtest.DefaultChatModel, "purpose": prompts.PurposeNotes, "direction": "input"}))
	require.Equal(t, 300.0, must(w, "logbook_llm_tokens_total", map[string]string{"model": llmtest.DefaultChatModel, "purpose": prompts.PurposeNotes, "direction": "output"}))
	// (1200 × $2 + 300 × $10) / 1M for the notes.
	require.InDelta(t, 0.0054, must(w, "logbook_llm_cost_usd_total", notes), 1e-12)
	require.Equal(t, 1.0, must(w, "logbook_llm_request_duration_seconds", notes))
	require.GreaterOrEqual(t, must(w, "logbook_llm_requests_total", map[string]string{"purpose": "embed", "result": "ok"}), 1.0)
	require.GreaterOrEqual(t, must(w, "logbook_llm_embedded_texts_total", nil), 1.0)
	require.Greater(t, must(w, "logbook_db_pool_acquires_total", nil), 0.0)
	require.Greater(t, must(w, "logbook_db_pool_max_conns", nil), 0.0)
	for _, name := range []string{"logbook_db_pool_acquired_conns", "logbook_db_pool_idle_conns", "logbook_db_pool_total_conns",
		"logbook_db_pool_acquire_seconds_total", "logbook_db_pool_empty_acquires_total", "logbook_db_pool_empty_acquire_wait_seconds_total",
		"logbook_db_pool_canceled_acquires_total", "go_goroutines", "process_resident_memory_bytes", "go_build_info"} {
		must(w, name, nil)
	}
	require.Equal(t, 1.0, must(w, "logbook_build_info", map[string]string{"version": buildVersion(), "go_version": runtime.Version()}))
	_, hasHTTP := w["logbook_http_requests_total"]
	require.False(t, hasHTTP, "the worker serves no API")

	// The API's /metrics: its requests, the pool, the build, and the
	// transcript it accepted.
	code, body = get(t, api+"/metrics", token)
	require.Equal(t, http.StatusOK, code)
	a := scrape(t, body)
	require.Equal(t, 1.0, must(a, "logbook_http_requests_total", map[string]string{"route": "/v1/transcripts", "method": "POST", "status": "202"}))
	require.GreaterOrEqual(t, must(a, "logbook_http_requests_total", map[string]string{"route": "/metrics", "method": "GET", "status": "401"}), 2.0)
	require.Greater(t, must(a, "logbook_db_pool_acquires_total", nil), 0.0)
	require.Equal(t, 1.0, must(a, "logbook_build_info", map[string]string{"version": buildVersion()}))
	require.Equal(t, 0.0, must(a, "logbook_tasks_total", map[string]string{"type": "transcript:process", "outcome": "success"}),
		"serve runs no worker: its task counters stay 0")
}

// syncWriter serialises writes from the two commands' loggers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestVersionIsStamped builds logbook with -ldflags as scripts/build.sh
// does and runs `logbook version`: it prints the stamped version, revision
// and date; a build nobody stamped says so.
func TestVersionIsStamped(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "logbook")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=v9.8.7-3-gabc1234-dirty -X main.revision=abc1234def -X main.buildDate=2026-12-03T07:00:00Z", ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Equal(t, "logbook v9.8.7-3-gabc1234-dirty", lines[0])
	require.Contains(t, lines, "revision: abc1234def")
	require.Contains(t, lines, "built: 2026-12-03T07:00:00Z")
	require.Regexp(t, regexp.MustCompile(`^go: go1\.\d+`), lines[len(lines)-1])

	// This test binary is not stamped.
	var b bytes.Buffer
	printVersion(&b)
	require.Contains(t, b.String(), "not stamped")
}

// TestAllServesWorkerMetrics: `logbook all` has one registry, so the API's
// /metrics carries the worker's queue and task metrics beside the HTTP
// ones, and opens no worker port.
func TestAllServesWorkerMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := testredis.Name(t) + "-"
	apiAddr, workerAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{"DATABASE_URL": testdb.SchemaURL(t, true), "REDIS_URL": testredis.URL(), "QUEUE_PREFIX": prefix,
		"LOG_LEVEL": "error", "HTTP_ADDR": apiAddr, "WORKER_HTTP_ADDR": workerAddr, "SHUTDOWN_TIMEOUT": "5s"}
	rdb := testredis.Client(t)
	t.Cleanup(func() {
		require.NoError(t, queue.NewInspector(rdb).DeleteQueues(queue.Prefixed(prefix)))
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, []string{"all"}, io.Discard, io.Discard, envOf(env)) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("all did not stop")
		}
	})
	var mfs map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + apiAddr + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, "no METRICS_TOKEN: open")
		mfs = scrape(t, string(b))
		// The API counts a request after answering it: the second scrape
		// sees the first.
		_, ok := sample(mfs, "logbook_http_requests_total", map[string]string{"route": "/metrics"})
		return ok
	}, 20*time.Second, 20*time.Millisecond)
	for _, name := range []string{"asynq_queue_size", "logbook_tasks_total", "logbook_db_pool_acquires_total", "logbook_build_info"} {
		_, ok := sample(mfs, name, nil)
		require.True(t, ok, name)
	}
	_, ok := sample(mfs, "asynq_queue_size", map[string]string{"queue": prefix + "llm"})
	require.True(t, ok, "the worker's queues are watched")
	_, err := net.DialTimeout("tcp", workerAddr, time.Second)
	require.Error(t, err, "all opens no worker port")
}
