package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// connectorStatuses are crm.ConnectorHealth's statuses, each exported for
// every kind (a zero included, so an alert on unhealthy resolves).
var connectorStatuses = []string{"ok", "failing", "unhealthy", "pending", "disabled"}

// connectorScrapeTimeout bounds the count a scrape makes.
const connectorScrapeTimeout = 2 * time.Second

var (
	connectorsDesc = prometheus.NewDesc("logbook_connectors",
		"Connectors of every org by kind and health status: ok (the last sync succeeded), failing (for less than an hour), "+
			"unhealthy (failing for over an hour), pending (never synced) and disabled.", []string{"kind", "status"}, nil)
	connectorsUpDesc = prometheus.NewDesc("logbook_connectors_stats_up",
		"1 when the last scrape counted the connectors, 0 when PostgreSQL did not answer in time.", nil, nil)
)

// connectorCollector exports logbook_connectors{kind,status}, counted by
// store.ConnectorsHealth at each scrape within timeout.
type connectorCollector struct {
	store   *store.Store
	timeout time.Duration
	log     *slog.Logger
}

func newConnectorCollector(s *store.Store, timeout time.Duration, log *slog.Logger) *connectorCollector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &connectorCollector{store: s, timeout: timeout, log: log}
}

// Describe sends the collector's descriptors.
func (c *connectorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectorsDesc
	ch <- connectorsUpDesc
}

// Collect counts the connectors. A failed count sends only
// logbook_connectors_stats_up 0 (a gauge that vanished reads as no data,
// not as zero connectors).
func (c *connectorCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.store.ConnectorsHealth(ctx)
	if err != nil {
		c.log.Warn("counting connectors for metrics", slog.Any("error", err))
		ch <- prometheus.MustNewConstMetric(connectorsUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(connectorsUpDesc, prometheus.GaugeValue, 1)
	counts := map[[2]string]int{}
	for _, r := range rows {
		counts[[2]string{string(r.Kind), r.Status}] += r.Count
	}
	for _, k := range crm.ConnectorKinds {
		for _, s := range connectorStatuses {
			ch <- prometheus.MustNewConstMetric(connectorsDesc, prometheus.GaugeValue, float64(counts[[2]string{string(k), s}]), string(k), s)
		}
	}
}
