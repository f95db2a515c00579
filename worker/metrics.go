package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"logbook/internal/crm"
	"logbook/internal/queue"
)

// Task outcomes as logbook_tasks_total counts them.
const (
	// OutcomeSuccess: the handler returned nil.
	OutcomeSuccess = "success"
	// OutcomeRetry: the handler failed and asynq will run the task again.
	OutcomeRetry = "retry"
	// OutcomeFailed: the handler failed on its last allowed attempt (or
	// panicked on it); asynq archives the task.
	OutcomeFailed = "failed"
	// OutcomeSkipRetry: the handler failed with asynq.SkipRetry (a
	// permanent failure); asynq archives the task at once.
	OutcomeSkipRetry = "skip_retry"
)

// Metrics are the worker's Prometheus metrics: task outcomes and durations
// by type (an asynq middleware), transcript processing time and webhook
// delivery results. One Metrics is registered once per process (NewMetrics)
// and shared by every Worker built in it; a nil *Metrics records nothing.
type Metrics struct {
	tasks      *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	transcript *prometheus.HistogramVec
	webhooks   *prometheus.CounterVec
}

// NewMetrics creates the worker's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_tasks_total",
			Help: "Task runs by task type and outcome (success, retry: asynq runs it again, failed: last attempt failed, skip_retry: failed permanently at once).",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "logbook_task_duration_seconds",
			Help:    "Time one run of a task handler took, by task type and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 16), // 5 ms … ~2.7 min
		}, []string{"type", "outcome"}),
		transcript: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "logbook_transcript_processing_seconds",
			Help:    "Time one attempt at processing a transcript (notes, follow-up, indexing, the write) took, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50 ms … ~7 min
		}, []string{"outcome"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result (delivered; pending: tried again later; failed: given up) and answer (2xx, 3xx, 4xx, 5xx, or none when no answer came).",
		}, []string{"result", "answer"}),
	}
	for _, c := range []prometheus.Collector{m.tasks, m.duration, m.transcript, m.webhooks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("worker: register metrics: %w", err)
		}
	}
	// Every outcome of the task types is 0 from the start, so a rate()
	// over a fresh process is defined and a dashboard shows every series.
	for _, typ := range []string{queue.TypeTranscriptProcess, queue.TypeWebhookDeliver, queue.TypeActivityIndex} {
		for _, o := range []string{OutcomeSuccess, OutcomeRetry, OutcomeFailed, OutcomeSkipRetry} {
			m.tasks.WithLabelValues(typ, o)
		}
	}
	for _, r := range []crm.WebhookDeliveryStatus{crm.DeliveryDelivered, crm.DeliveryPending, crm.DeliveryFailed} {
		for _, a := range []string{"2xx", "3xx", "4xx", "5xx", "none"} {
			m.webhooks.WithLabelValues(string(r), a)
		}
	}
	return m, nil
}

// Middleware records each task run's outcome and duration. It sits
// outermost on the mux (mux.Use), so it sees what asynq sees: the handler's
// error or its panic, which it records and passes on unchanged.
func (m *Metrics) Middleware(next asynq.Handler) asynq.Handler {
	if m == nil {
		return next
	}
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				m.observe(ctx, t.Type(), fmt.Errorf("panic: %v", r), time.Since(start))
				panic(r)
			}
		}()
		err = next.ProcessTask(ctx, t)
		m.observe(ctx, t.Type(), err, time.Since(start))
		return err
	})
}

// observe records one run of a task of type typ that ended with err.
func (m *Metrics) observe(ctx context.Context, typ string, err error, took time.Duration) {
	o := taskOutcome(ctx, err)
	m.tasks.WithLabelValues(typ, o).Inc()
	m.duration.WithLabelValues(typ, o).Observe(took.Seconds())
	switch typ {
	case queue.TypeTranscriptProcess:
		m.transcript.WithLabelValues(o).Observe(took.Seconds())
	}
}

// taskOutcome classifies a handler's result the way asynq will treat it:
// nil is success, SkipRetry archives at once, and any other error is
// retried unless the run was the last one allowed (asynq.GetRetryCount
// counts the retries before this run, asynq.GetMaxRetry the allowance).
func taskOutcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return OutcomeSuccess
	case errors.Is(err, asynq.SkipRetry):
		return OutcomeSkipRetry
	}
	n, okN := asynq.GetRetryCount(ctx)
	maxN, okM := asynq.GetMaxRetry(ctx)
	if okN && okM && n >= maxN {
		return OutcomeFailed
	}
	return OutcomeRetry
}

// WebhookAttempt counts one attempt to send a webhook delivery, as the
// delivery log records it: the delivery's new status and the class of the
// endpoint's answer (code nil: none came). A nil *Metrics counts nothing.
func (m *Metrics) WebhookAttempt(status crm.WebhookDeliveryStatus, code *int) {
	if m == nil {
		return
	}
	answer := "none"
	if code != nil {
		answer = strconv.Itoa(*code/100) + "xx"
	}
	m.webhooks.WithLabelValues(string(status), answer).Inc()
}

// QueueCollector exports the depth and latency of the queues it watches,
// read from asynq's Inspector at each scrape: the collector of asynq's
// x/metrics module (github.com/hibiken/asynq/x), rewritten here because
// the module proxy serves only a 2021 pseudo-version of it (built against
// asynq v0.19 and go-redis v8, and two of its gauges carry a counter's
// _total suffix, which promtool's lint rejects). It keeps asynq's metric
// names where they lint clean, so asynq's dashboards work:
// asynq_queue_size, asynq_queue_latency_seconds,
// asynq_queue_memory_usage_approx_bytes, asynq_tasks_processed_total and
// asynq_tasks_failed_total; tasks by state are asynq_queue_tasks{state}
// (asynq's asynq_tasks_enqueued_total) and a paused queue
// asynq_queue_paused (asynq_queue_paused_total). asynq_queue_stats_up is 0
// when Redis did not answer. Only the watched queues are reported, so
// deployments sharing one Redis under QUEUE_PREFIX each see their own.
type QueueCollector struct {
	insp *asynq.Inspector
	log  *slog.Logger

	mu     sync.Mutex
	queues []string
}

var (
	queueTasksDesc = prometheus.NewDesc("asynq_queue_tasks",
		"Tasks in a queue by state (pending, active, scheduled, retry, archived, completed, aggregating).", []string{"queue", "state"}, nil)
	queueSizeDesc = prometheus.NewDesc("asynq_queue_size",
		"Tasks in a queue, in every state.", []string{"queue"}, nil)
	queueLatencyDesc = prometheus.NewDesc("asynq_queue_latency_seconds",
		"How long the oldest pending task of a queue has been waiting.", []string{"queue"}, nil)
	queueMemoryDesc = prometheus.NewDesc("asynq_queue_memory_usage_approx_bytes",
		"Redis memory a queue and its tasks use (asynq samples it).", []string{"queue"}, nil)
	queueProcessedDesc = prometheus.NewDesc("asynq_tasks_processed_total",
		"Tasks a queue has processed, succeeded or failed (asynq's cumulative count in Redis).", []string{"queue"}, nil)
	queueFailedDesc = prometheus.NewDesc("asynq_tasks_failed_total",
		"Task runs of a queue that failed (asynq's cumulative count in Redis).", []string{"queue"}, nil)
	queuePausedDesc = prometheus.NewDesc("asynq_queue_paused",
		"1 when the queue is paused.", []string{"queue"}, nil)
	queueUpDesc = prometheus.NewDesc("asynq_queue_stats_up",
		"1 when the last scrape read the queues' statistics from Redis, 0 when it failed.", nil, nil)
)

// NewQueueCollector returns a collector over rdb watching no queue yet
// (Watch adds them). log receives the errors of a failed scrape; nil
// discards them.
func NewQueueCollector(rdb redis.UniversalClient, log *slog.Logger) *QueueCollector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &QueueCollector{insp: asynq.NewInspectorFromRedisClient(rdb), log: log}
}

// Watch adds queues to those the collector reports (once each).
func (c *QueueCollector) Watch(queues ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range queues {
		if q != "" && !slices.Contains(c.queues, q) {
			c.queues = append(c.queues, q)
		}
	}
	slices.Sort(c.queues)
}

// Describe sends the collector's descriptors.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueTasksDesc, queueSizeDesc, queueLatencyDesc, queueMemoryDesc,
		queueProcessedDesc, queueFailedDesc, queuePausedDesc, queueUpDesc} {
		ch <- d
	}
}

// Collect reads each watched queue's statistics. A queue asynq has never
// seen (no task ever enqueued) is reported empty.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	watched := slices.Clone(c.queues)
	c.mu.Unlock()
	infos, err := c.queueInfos(watched)
	if err != nil {
		c.log.Warn("reading queue statistics for metrics", slog.Any("error", err))
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	for _, info := range infos {
		q := info.Queue
		for _, s := range []struct {
			state string
			n     int
		}{{"pending", info.Pending}, {"active", info.Active}, {"scheduled", info.Scheduled}, {"retry", info.Retry},
			{"archived", info.Archived}, {"completed", info.Completed}, {"aggregating", info.Aggregating}} {
			ch <- prometheus.MustNewConstMetric(queueTasksDesc, prometheus.GaugeValue, float64(s.n), q, s.state)
		}
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(queueSizeDesc, prometheus.GaugeValue, float64(info.Size), q)
		ch <- prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, info.Latency.Seconds(), q)
		ch <- prometheus.MustNewConstMetric(queueMemoryDesc, prometheus.GaugeValue, float64(info.MemoryUsage), q)
		ch <- prometheus.MustNewConstMetric(queueProcessedDesc, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(queueFailedDesc, prometheus.CounterValue, float64(info.FailedTotal), q)
		ch <- prometheus.MustNewConstMetric(queuePausedDesc, prometheus.GaugeValue, paused, q)
	}
}

// queueInfos reads the statistics of the watched queues.
func (c *QueueCollector) queueInfos(watched []string) ([]*asynq.QueueInfo, error) {
	known, err := c.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	infos := make([]*asynq.QueueInfo, 0, len(watched))
	for _, q := range watched {
		if !slices.Contains(known, q) {
			infos = append(infos, &asynq.QueueInfo{Queue: q})
			continue
		}
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", q, err)
		}
		infos = append(infos, info)
	}
	return infos, nil
}
