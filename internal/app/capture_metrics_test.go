package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// TestConnectorHealthOperated: a connector failing for over an hour shows
// on the worker port's /readyz details (which stays 200) and as
// logbook_connectors{kind,status} on /metrics, beside the others' counts.
func TestConnectorHealthOperated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Schema(t)
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	a := &App{Cfg: cfg, Pool: pool, Redis: testredis.Client(t)}
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	mk := func(kind crm.ConnectorKind, enabled bool) string {
		name := string(kind)
		r, err := st.ConnectorCreate(ctx, org.ID, store.ConnectorWrite{Kind: kind, Name: &name, Enabled: &enabled})
		require.NoError(t, err)
		return r.ID
	}
	broken := mk(crm.ConnectorIMAP, true)
	mk(crm.ConnectorIMAP, true)
	mk(crm.ConnectorICS, false)
	mk(crm.ConnectorZoom, true)
	// The IMAP connector's syncs have failed since two hours ago.
	since := time.Now().Add(-2 * time.Hour)
	st.SetClock(func() time.Time { return since })
	_, token, err := st.ConnectorClaim(ctx, org.ID, broken, time.Minute)
	require.NoError(t, err)
	require.NoError(t, st.ConnectorFinish(ctx, org.ID, broken, token, store.ConnectorProgress{},
		errors.New("login refused: authentication failed"), since.Add(time.Minute)))
	st.SetClock(time.Now)

	h, err := a.OpsHandler()
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}

	code, body := get("/readyz")
	require.Equal(t, http.StatusOK, code, "a broken mailbox keeps the worker ready: %s", body)
	var ready struct {
		Status  string
		Details struct{ Connectors map[string]int }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ready))
	require.Equal(t, map[string]int{"ok": 0, "failing": 0, "unhealthy": 1, "pending": 2, "disabled": 1}, ready.Details.Connectors)

	m, err := a.Metrics()
	require.NoError(t, err)
	want := `
# HELP logbook_connectors_stats_up 1 when the last scrape counted the connectors, 0 when PostgreSQL did not answer in time.
# TYPE logbook_connectors_stats_up gauge
logbook_connectors_stats_up 1
`
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "logbook_connectors_stats_up"))
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "logbook_connectors" {
			continue
		}
		for _, s := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[l["kind"]+"/"+l["status"]] = s.GetGauge().GetValue()
		}
	}
	require.Len(t, got, len(crm.ConnectorKinds)*len(connectorStatuses), "every kind and status, zeros included")
	require.Equal(t, 1.0, got["imap/unhealthy"])
	require.Equal(t, 1.0, got["imap/pending"])
	require.Equal(t, 1.0, got["ics/disabled"])
	require.Equal(t, 1.0, got["zoom/pending"])
	require.Equal(t, 0.0, got["imap/ok"])
	code, body = get("/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `logbook_connectors{kind="imap",status="unhealthy"} 1`)

	// A database that does not answer: the scrape says so, and /metrics
	// still answers.
	pool.Close()
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(strings.Replace(want, "\nlogbook_connectors_stats_up 1", "\nlogbook_connectors_stats_up 0", 1)),
		"logbook_connectors_stats_up"))
}
