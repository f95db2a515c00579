package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"logbook/api"
	"logbook/internal/llm/llmmetrics"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/worker"
)

// Metrics are the process's Prometheus metrics: one registry holding the
// Go runtime and process collectors, go_build_info and
// logbook_build_info, the PostgreSQL pool's statistics, the connectors by
// health (logbook_connectors, capture_metrics.go), the model calls
// (llmmetrics), the worker's task outcomes and the watched queues' depth
// and latency. The API adds its HTTP metrics to the same registry, so
// `logbook all` serves everything on one /metrics.
type Metrics struct {
	// Registry is what /metrics serves.
	Registry *prometheus.Registry
	// LLM wraps every provider the App builds.
	LLM *llmmetrics.Metrics
	// Worker records the worker's task outcomes.
	Worker *worker.Metrics
	// Queues reports the depth and latency of the queues the process's
	// worker serves.
	Queues *worker.QueueCollector
}

// Metrics returns the App's metrics, creating and registering them on the
// first call.
func (a *App) Metrics() (*Metrics, error) {
	a.metricsMu.Lock()
	defer a.metricsMu.Unlock()
	if a.metrics != nil {
		return a.metrics, nil
	}
	reg := prometheus.NewRegistry()
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		buildInfo(a.version(), BuildRevision(a.Revision)),
	}
	if a.Pool != nil {
		cs = append(cs, newPoolCollector(a.Pool))
		// logbook_connectors{kind,status}: every org's connectors by health.
		cs = append(cs, newConnectorCollector(store.New(a.Pool), connectorScrapeTimeout, a.Log))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	prices := map[string]llmmetrics.Price{}
	for m, p := range a.Cfg.Prices {
		prices[m] = llmmetrics.Price{Input: p.Input, Output: p.Output}
	}
	lm, err := llmmetrics.New(reg, prices)
	if err != nil {
		return nil, err
	}
	wm, err := worker.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	m := &Metrics{Registry: reg, LLM: lm, Worker: wm}
	if a.Redis != nil {
		m.Queues = worker.NewQueueCollector(a.Redis, a.Log)
		if err := reg.Register(m.Queues); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	a.metrics = m
	return m, nil
}

// WatchQueues adds the queues q to those the queue metrics report: the
// queues this process's worker serves.
func (a *App) WatchQueues(q queue.Queues) error {
	m, err := a.Metrics()
	if err != nil {
		return err
	}
	if m.Queues != nil {
		m.Queues.Watch(q.Names()...)
	}
	return nil
}

// OpsHandler serves /healthz, /readyz (PostgreSQL and Redis) and /metrics
// (behind METRICS_TOKEN when set): the worker's port.
func (a *App) OpsHandler() (http.Handler, error) {
	m, err := a.Metrics()
	if err != nil {
		return nil, err
	}
	return api.NewOpsHandler(api.OpsDeps{Ready: a.readyChecks(), Registry: m.Registry, MetricsToken: a.Cfg.MetricsToken, Logger: a.Log,
		// /readyz's details count the connectors by health.
		Store: store.New(a.Pool)}), nil
}

// ServeOps serves OpsHandler on ln until ctx is done (see Serve).
func (a *App) ServeOps(ctx context.Context, ln net.Listener) error {
	h, err := a.OpsHandler()
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln, h)
}

// readyChecks are what /readyz checks: PostgreSQL and Redis answer.
func (a *App) readyChecks() []api.ReadyCheck {
	return []api.ReadyCheck{
		{Name: "postgres", Check: func(ctx context.Context) error { return a.Pool.Ping(ctx) }},
		{Name: "redis", Check: func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }},
	}
}

// buildInfo is logbook_build_info{version,revision,go_version} 1.
func buildInfo(version, revision string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "logbook_build_info",
		Help:        "Always 1; its labels say which build of Logbook runs: version, VCS revision and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "go_version": runtime.Version()},
	})
	g.Set(1)
	return g
}

// BuildRevision is the stamped revision when set (-ldflags "-X
// main.revision=…"), else the VCS revision the Go toolchain recorded (with
// "-dirty" when the tree had changes), else "unknown".
func BuildRevision(stamped string) string {
	if stamped != "" {
		return stamped
	}
	if rev, ok := vcsInfo(); ok {
		return rev
	}
	return "unknown"
}

// vcsInfo is the VCS revision in the build info, "-dirty" appended when
// the tree was modified.
func vcsInfo() (string, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "", false
	}
	if dirty {
		rev += "-dirty"
	}
	return rev, true
}

// poolCollector exports pgxpool.Stat() at each scrape.
type poolCollector struct {
	pool *pgxpool.Pool
}

func newPoolCollector(p *pgxpool.Pool) *poolCollector { return &poolCollector{pool: p} }

var (
	poolAcquiredDesc = prometheus.NewDesc("logbook_db_pool_acquired_conns",
		"PostgreSQL connections currently checked out of the pool.", nil, nil)
	poolIdleDesc = prometheus.NewDesc("logbook_db_pool_idle_conns",
		"Idle PostgreSQL connections in the pool.", nil, nil)
	poolConstructingDesc = prometheus.NewDesc("logbook_db_pool_constructing_conns",
		"PostgreSQL connections being opened.", nil, nil)
	poolTotalDesc = prometheus.NewDesc("logbook_db_pool_total_conns",
		"PostgreSQL connections in the pool: acquired, idle and being opened.", nil, nil)
	poolMaxDesc = prometheus.NewDesc("logbook_db_pool_max_conns",
		"The pool's size limit.", nil, nil)
	poolAcquiresDesc = prometheus.NewDesc("logbook_db_pool_acquires_total",
		"Connections acquired from the pool.", nil, nil)
	poolAcquireSecondsDesc = prometheus.NewDesc("logbook_db_pool_acquire_seconds_total",
		"Time spent acquiring connections, summed over every acquire.", nil, nil)
	poolEmptyAcquiresDesc = prometheus.NewDesc("logbook_db_pool_empty_acquires_total",
		"Acquires that had to wait because the pool had no idle connection.", nil, nil)
	poolEmptyWaitDesc = prometheus.NewDesc("logbook_db_pool_empty_acquire_wait_seconds_total",
		"Time acquires spent waiting for a connection while the pool had none idle.", nil, nil)
	poolCanceledDesc = prometheus.NewDesc("logbook_db_pool_canceled_acquires_total",
		"Acquires abandoned because the caller's context ended.", nil, nil)
	poolNewConnsDesc = prometheus.NewDesc("logbook_db_pool_new_conns_total",
		"Connections the pool opened.", nil, nil)
	poolLifetimeDesc = prometheus.NewDesc("logbook_db_pool_max_lifetime_destroys_total",
		"Connections closed for reaching their maximum lifetime.", nil, nil)
	poolIdleDestroyDesc = prometheus.NewDesc("logbook_db_pool_max_idle_destroys_total",
		"Connections closed for staying idle too long.", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(c, ch)
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquiredDesc, float64(s.AcquiredConns()))
	gauge(poolIdleDesc, float64(s.IdleConns()))
	gauge(poolConstructingDesc, float64(s.ConstructingConns()))
	gauge(poolTotalDesc, float64(s.TotalConns()))
	gauge(poolMaxDesc, float64(s.MaxConns()))
	counter(poolAcquiresDesc, float64(s.AcquireCount()))
	counter(poolAcquireSecondsDesc, s.AcquireDuration().Seconds())
	counter(poolEmptyAcquiresDesc, float64(s.EmptyAcquireCount()))
	counter(poolEmptyWaitDesc, s.EmptyAcquireWaitTime().Seconds())
	counter(poolCanceledDesc, float64(s.CanceledAcquireCount()))
	counter(poolNewConnsDesc, float64(s.NewConnsCount()))
	counter(poolLifetimeDesc, float64(s.MaxLifetimeDestroyCount()))
	counter(poolIdleDestroyDesc, float64(s.MaxIdleDestroyCount()))
}
