package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testredis"
)

// The connectors' routes run on a capture.Service with stand-ins of two
// kinds, written to the config contracts: ics (pulled on a schedule:
// config {since, horizon_days}, secrets {url}) and recall (driven by its
// vendor's webhook: config {base_url}, secrets {api_key, webhook_secret}).
// The real kinds live in packages of their own; what the API does with
// any kind is the same.

// lockedBuffer is a log sink tests read while handlers write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testCapture is a capture.Service on s, sealing with a fresh key (none
// when key is "-"), enqueuing on a queue of the test's own (removed after
// it), with the stand-in kinds registered. It returns the service and the
// queues.
func testCapture(t *testing.T, s *store.Store, key string, log *slog.Logger) (*capture.Service, queue.Queues) {
	t.Helper()
	if key == "" {
		key = secretbox.NewKey()
	}
	if key == "-" {
		key = ""
	}
	box, err := secretbox.New(key)
	require.NoError(t, err)
	rdb := testredis.Client(t)
	q := queue.Prefixed(testredis.Name(t) + ":")
	t.Cleanup(func() { _ = queue.NewInspector(rdb).DeleteQueues(q) })
	svc := capture.New(capture.Config{Store: s, Box: box, Enqueuer: queue.NewEnqueuer(rdb, q), Logger: log})
	svc.Register(crm.ConnectorICS, capture.Kind{Check: checkTestICS,
		Sync: func(context.Context, *capture.Run) error { return nil }})
	svc.Register(crm.ConnectorRecall, capture.Kind{Check: checkTestRecall})
	return svc, q
}

// strictObject decodes raw into v, refusing unknown fields.
func strictObject(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func checkTestICS(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
	var p crm.Problems
	if cfg == nil {
		cfg = old
	}
	var c struct {
		Since       string `json:"since,omitempty"`
		HorizonDays int    `json:"horizon_days"`
	}
	if err := strictObject(cfg, &c); err != nil {
		p.Add("config", "must be an object of since and horizon_days")
	}
	if c.Since != "" {
		crm.CheckDate(&p, "config.since", c.Since)
	}
	switch {
	case c.HorizonDays == 0:
		c.HorizonDays = 90
	case c.HorizonDays < 1 || c.HorizonDays > 730:
		p.Add("config.horizon_days", "must be between 1 and 730")
	}
	var sec map[string]string
	if secrets != nil {
		var s struct {
			URL string `json:"url"`
		}
		if err := strictObject(secrets, &s); err != nil {
			p.Add("secrets", "must be an object with url")
		} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.Add("secrets.url", "must be the feed's http(s) URL")
		}
		sec = map[string]string{"url": s.URL}
	} else if old == nil {
		p.Add("secrets.url", "is required: the feed's URL")
	}
	out, _ := json.Marshal(c)
	return out, sec, p.Err()
}

func checkTestRecall(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
	var p crm.Problems
	if cfg == nil {
		cfg = old
	}
	var c struct {
		BaseURL string `json:"base_url"`
	}
	if err := strictObject(cfg, &c); err != nil || !strings.HasPrefix(c.BaseURL, "https://") {
		p.Add("config.base_url", "must be an https URL")
	}
	var sec map[string]string
	if secrets != nil {
		if err := strictObject(secrets, &sec); err != nil || sec["api_key"] == "" || !strings.HasPrefix(sec["webhook_secret"], "whsec_") {
			p.Add("secrets", "must hold api_key and webhook_secret (whsec_…)")
		}
	} else if old == nil {
		p.Add("secrets", "are required: api_key and webhook_secret")
	}
	out, _ := json.Marshal(c)
	return out, sec, p.Err()
}

// connectorBundle is setup with connectors: the handler has the test
// capture service and logs into log.
type connectorBundle struct {
	*testBundle
	capture *capture.Service
	queues  queue.Queues
	log     *lockedBuffer
}

func setupConnectors(t *testing.T, key string) *connectorBundle {
	t.Helper()
	b := setup(t)
	lb := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, q := testCapture(t, b.store, key, log)
	h, err := NewHandler(Deps{Store: b.store, Capture: svc, Logger: log})
	require.NoError(t, err)
	b.handler = h
	return &connectorBundle{testBundle: b, capture: svc, queues: q, log: lb}
}

const (
	feedSecret   = "https://calendar.example/private/feed-token-7f3a9c.ics"
	recallAPIKey = "rk_live_canary_5b1e"
	recallHook   = "whsec_canary_c0ffee"
)

func TestConnectorsCRUD(t *testing.T) {
	t.Parallel()
	b := setupConnectors(t, "")
	var bodies []string
	keep := func(res response) response { bodies = append(bodies, string(res.Body)); return res }
	owner := b.create("/v1/users", map[string]any{"email": "rep@seller.test", "name": "Rita Rep"})

	res := keep(b.do("POST", "/v1/connectors", map[string]any{"kind": "ics", "name": "Rita's calendar", "user_id": owner,
		"config": map[string]any{"since": "2026-01-01"}, "secrets": map[string]any{"url": feedSecret}}))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var c crm.Connector
	res.JSON(t, &c)
	require.Equal(t, "/v1/connectors/"+c.ID, res.Header.Get("Location"))
	require.Equal(t, crm.ConnectorICS, c.Kind)
	require.Equal(t, owner, *c.UserID)
	require.JSONEq(t, `{"since":"2026-01-01","horizon_days":90}`, string(c.Config), "the kind's defaults are filled")
	require.Equal(t, []string{"url"}, c.SecretsSet)
	require.True(t, c.Enabled)
	require.Equal(t, crm.DefaultConnectorInterval, c.IntervalSeconds)
	require.Equal(t, "pending", c.Health.Status)
	require.NotNil(t, c.Health.NextRunAt)

	// A first sync was queued at once.
	info, err := asynq.NewInspectorFromRedisClient(testredis.Client(t)).GetTaskInfo(b.queues.Default, "sync:"+c.ID)
	require.NoError(t, err)
	require.Equal(t, queue.TypeConnectorSync, info.Type)

	recall := keep(b.do("POST", "/v1/connectors", map[string]any{"kind": "recall", "name": "Recall.ai",
		"config":  map[string]any{"base_url": "https://us-east-1.recall.ai"},
		"secrets": map[string]any{"api_key": recallAPIKey, "webhook_secret": recallHook}}))
	require.Equal(t, http.StatusCreated, recall.Status, "%s", recall.Body)
	var rc crm.Connector
	recall.JSON(t, &rc)
	require.Equal(t, []string{"api_key", "webhook_secret"}, rc.SecretsSet)
	require.Nil(t, rc.Health.NextRunAt, "a pushed connector has no schedule")

	got := keep(b.do("GET", "/v1/connectors/"+c.ID, nil))
	require.Equal(t, http.StatusOK, got.Status)
	list := keep(b.do("GET", "/v1/connectors", nil))
	require.Equal(t, http.StatusOK, list.Status)
	var l itemsOf[crm.Connector]
	list.JSON(t, &l)
	require.Len(t, l.Items, 2)
	require.Equal(t, c.ID, l.Items[0].ID, "oldest first")

	// PATCH: name, interval, enabled; secrets replaced, config checked again.
	upd := keep(b.do("PATCH", "/v1/connectors/"+c.ID, map[string]any{"name": "Team calendar", "interval_seconds": 600,
		"enabled": false, "user_id": nil}))
	require.Equal(t, http.StatusOK, upd.Status, "%s", upd.Body)
	upd.JSON(t, &c)
	require.Equal(t, "Team calendar", c.Name)
	require.Equal(t, 600, c.IntervalSeconds)
	require.False(t, c.Enabled)
	require.Nil(t, c.UserID)
	require.Equal(t, "disabled", c.Health.Status)
	upd = keep(b.do("PATCH", "/v1/connectors/"+c.ID, map[string]any{"config": map[string]any{"horizon_days": 30},
		"secrets": map[string]any{"url": feedSecret + "?rotated=1"}, "enabled": true}))
	require.Equal(t, http.StatusOK, upd.Status, "%s", upd.Body)
	upd.JSON(t, &c)
	require.JSONEq(t, `{"horizon_days":30}`, string(c.Config))
	rec, err := b.store.ConnectorGet(context.Background(), b.orgID, c.ID)
	require.NoError(t, err)
	secrets, err := b.capture.Open(rec)
	require.NoError(t, err)
	require.Equal(t, feedSecret+"?rotated=1", secrets["url"], "sealed, and opens to the new secret")
	require.NotContains(t, string(rec.Secret), "feed-token", "sealed at rest")

	// Resync a week: 202 with the connector, the backfill queued.
	from := time.Now().UTC().AddDate(0, 0, -7).Truncate(24 * time.Hour)
	rs := keep(b.do("POST", "/v1/connectors/"+c.ID+"/resync", map[string]any{"from": from.Format(time.DateOnly)}))
	require.Equal(t, http.StatusAccepted, rs.Status, "%s", rs.Body)
	tasks, err := asynq.NewInspectorFromRedisClient(testredis.Client(t)).ListPendingTasks(b.queues.Default, asynq.PageSize(100))
	require.NoError(t, err)
	var backfill *queue.ConnectorSyncPayload
	for _, task := range tasks {
		if strings.HasPrefix(task.ID, "resync:"+c.ID) {
			p, err := queue.ParseConnectorSyncPayload(task.Payload)
			require.NoError(t, err)
			backfill = &p
		}
	}
	require.NotNil(t, backfill, "the backfill is queued")
	require.True(t, backfill.From.Equal(from), "from %s", backfill.From)
	require.Nil(t, backfill.To, "to defaults to now")

	require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/connectors/"+rc.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/connectors/"+rc.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/connectors/"+rc.ID, nil).Status)

	// No answer and no log line carries a secret.
	for _, s := range []string{feedSecret, "feed-token-7f3a9c", recallAPIKey, recallHook} {
		for _, body := range bodies {
			require.NotContains(t, body, s)
		}
		require.NotContains(t, b.log.String(), s)
	}
}

func TestConnectorsValidation(t *testing.T) {
	t.Parallel()
	b := setupConnectors(t, "")
	ics := func(extra map[string]any) map[string]any {
		m := map[string]any{"kind": "ics", "name": "Calendar", "secrets": map[string]any{"url": feedSecret}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		body   any
		fields []string
	}{
		{"UnknownKind", map[string]any{"kind": "fax", "name": "Fax"}, []string{"kind"}},
		{"KindNotOnThisServer", map[string]any{"kind": "caldav", "name": "CalDAV"}, []string{"kind"}},
		{"NoName", map[string]any{"kind": "ics", "secrets": map[string]any{"url": feedSecret}}, []string{"name"}},
		{"IntervalTooShort", ics(map[string]any{"interval_seconds": 29}), []string{"interval_seconds"}},
		{"IntervalTooLong", ics(map[string]any{"interval_seconds": 86401}), []string{"interval_seconds"}},
		{"KindConfig", ics(map[string]any{"config": map[string]any{"horizon_days": 5000}}), []string{"config.horizon_days"}},
		{"KindSecretMissing", map[string]any{"kind": "ics", "name": "Calendar"}, []string{"secrets.url"}},
		{"KindSecretBad", ics(map[string]any{"secrets": map[string]any{"url": "not a url"}}), []string{"secrets.url"}},
		{"UserOfNoOne", ics(map[string]any{"user_id": "0190a0e0-0000-7000-8000-000000000000"}), []string{"user_id"}},
	} {
		res := b.do("POST", "/v1/connectors", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", tc.name, res.Body)
		require.Equal(t, tc.fields, res.Fields(t), tc.name)
		require.NotContains(t, string(res.Body), "feed-token", tc.name)
	}
	res := b.do("POST", "/v1/connectors", `{"kind":"ics","name":"x","colour":"red"}`)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Equal(t, []string{"colour"}, res.Fields(t))
	require.Equal(t, http.StatusBadRequest, b.do("POST", "/v1/connectors", `{"kind":`).Status)

	id := b.create("/v1/connectors", ics(nil))
	res = b.do("PATCH", "/v1/connectors/"+id, map[string]any{"kind": "recall"})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Equal(t, []string{"kind"}, res.Fields(t))
	res = b.do("PATCH", "/v1/connectors/"+id, map[string]any{"interval_seconds": 10})
	require.Equal(t, []string{"interval_seconds"}, res.Fields(t))

	// A read key sees no connector: admin scope.
	require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead, crm.ScopeWrite), "GET", "/v1/connectors", nil).Status)
}

func TestConnectorsResync(t *testing.T) {
	t.Parallel()
	b := setupConnectors(t, "")
	id := b.create("/v1/connectors", map[string]any{"kind": "ics", "name": "Calendar", "secrets": map[string]any{"url": feedSecret}})
	now := time.Now().UTC()
	day := func(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"NoFrom", map[string]any{}, "from"},
		{"BadFrom", map[string]any{"from": "last week"}, "from"},
		{"FromInTheFuture", map[string]any{"from": now.Add(time.Hour).Format(time.RFC3339)}, "from"},
		{"ToBeforeFrom", map[string]any{"from": day(-3), "to": day(-5)}, "to"},
		{"ToEqualsFrom", map[string]any{"from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Add(-time.Hour).Format(time.RFC3339)}, "to"},
		{"ToInTheFuture", map[string]any{"from": day(-3), "to": day(2)}, "to"},
		{"RangeOverAYear", map[string]any{"from": day(-400), "to": day(-10)}, "to"},
		{"RangeToNowOverAYear", map[string]any{"from": day(-367)}, "to"},
		{"BadTo", map[string]any{"from": day(-3), "to": "2026-02-30"}, "to"},
	} {
		res := b.do("POST", "/v1/connectors/"+id+"/resync", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", tc.name, res.Body)
		require.Equal(t, []string{tc.field}, res.Fields(t), tc.name)
	}
	// A date as to includes the day: today's date is allowed.
	res := b.do("POST", "/v1/connectors/"+id+"/resync", map[string]any{"from": day(-30), "to": day(0)})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)

	t.Run("PushKindIs422", func(t *testing.T) {
		rc := b.create("/v1/connectors", map[string]any{"kind": "recall", "name": "Recall.ai",
			"config":  map[string]any{"base_url": "https://us-east-1.recall.ai"},
			"secrets": map[string]any{"api_key": recallAPIKey, "webhook_secret": recallHook}})
		res := b.do("POST", "/v1/connectors/"+rc+"/resync", map[string]any{"from": day(-3)})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"kind"}, res.Fields(t))
	})
	t.Run("DisabledIs409", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/connectors/"+id, map[string]any{"enabled": false}).Status)
		res := b.do("POST", "/v1/connectors/"+id+"/resync", map[string]any{"from": day(-3)})
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		require.Equal(t, []string{"enabled"}, res.Fields(t))
	})
	t.Run("UnknownIs404", func(t *testing.T) {
		res := b.do("POST", "/v1/connectors/0190a0e0-0000-7000-8000-000000000000/resync", map[string]any{"from": day(-3)})
		require.Equal(t, http.StatusNotFound, res.Status)
	})
}

func TestConnectorsWithoutSecretKeyOrService(t *testing.T) {
	t.Parallel()
	b := setupConnectors(t, "-")
	res := b.do("POST", "/v1/connectors", map[string]any{"kind": "ics", "name": "Calendar", "secrets": map[string]any{"url": feedSecret}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	require.Equal(t, []string{"secrets"}, res.Fields(t))
	require.Contains(t, string(res.Body), "LOGBOOK_SECRET_KEY")
	require.NotContains(t, string(res.Body), "feed-token")

	// A server built without connectors answers their writes 503.
	h, err := NewHandler(Deps{Store: b.store})
	require.NoError(t, err)
	b.handler = h
	res = b.do("POST", "/v1/connectors", map[string]any{"kind": "ics", "name": "Calendar"})
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.Equal(t, http.StatusOK, b.do("GET", "/v1/connectors", nil).Status)
}

// failConnector records a failed sync of the connector that began at
// since (through the store, as a worker's run would).
func failConnector(t *testing.T, s *store.Store, orgID, id string, since time.Time) {
	t.Helper()
	ctx := context.Background()
	s.SetClock(func() time.Time { return since })
	defer s.SetClock(time.Now)
	_, token, err := s.ConnectorClaim(ctx, orgID, id, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.ConnectorFinish(ctx, orgID, id, token, store.ConnectorProgress{},
		errors.New("feed answered 401 Unauthorized"), since.Add(time.Minute)))
}

func TestConnectorsHealth(t *testing.T) {
	t.Parallel()
	b := setupConnectors(t, "")
	before, err := b.store.ConnectorsHealth(context.Background())
	require.NoError(t, err)
	mk := func(name string) string {
		return b.create("/v1/connectors", map[string]any{"kind": "ics", "name": name, "secrets": map[string]any{"url": feedSecret}})
	}
	broken, recent, fresh, off := mk("Broken"), mk("Recent"), mk("Fresh"), mk("Off")
	failConnector(t, b.store, b.orgID, broken, time.Now().Add(-2*time.Hour))
	failConnector(t, b.store, b.orgID, recent, time.Now().Add(-5*time.Minute))
	require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/connectors/"+off, map[string]any{"enabled": false}).Status)

	var l itemsOf[crm.Connector]
	b.do("GET", "/v1/connectors", nil).JSON(t, &l)
	status := map[string]crm.ConnectorHealth{}
	for _, c := range l.Items {
		status[c.ID] = c.Health
	}
	require.Equal(t, "unhealthy", status[broken].Status)
	require.False(t, status[broken].Healthy)
	require.Equal(t, "feed answered 401 Unauthorized", *status[broken].LastError)
	require.NotNil(t, status[broken].FailingSince)
	require.Equal(t, "failing", status[recent].Status)
	require.True(t, status[recent].Healthy)
	require.Equal(t, "pending", status[fresh].Status)
	require.Equal(t, "disabled", status[off].Status)

	// /readyz shows the counts and stays ready: a broken mailbox must not
	// take the API out of its load balancer.
	b.handler, err = NewHandler(Deps{Store: b.store, Capture: b.capture,
		Ready: []ReadyCheck{{Name: "postgres", Check: func(context.Context) error { return nil }}}})
	require.NoError(t, err)
	res := b.doKey("", "GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var ready health
	res.JSON(t, &ready)
	require.Equal(t, "ok", ready.Status)
	require.NotNil(t, ready.Details)
	// What other tests of the package committed counts too: compare with
	// the counts before this test's connectors.
	was := (&handler{connectorHealth: func(context.Context) ([]store.ConnectorStatusCount, error) { return before, nil }}).
		connectorDetails(context.Background()).Connectors
	got := *ready.Details.Connectors
	require.Equal(t, connectorCounts{Unhealthy: 1, Failing: 1, Pending: 1, Disabled: 1},
		connectorCounts{OK: got.OK - was.OK, Failing: got.Failing - was.Failing, Unhealthy: got.Unhealthy - was.Unhealthy,
			Pending: got.Pending - was.Pending, Disabled: got.Disabled - was.Disabled})
	require.NotContains(t, string(res.Body), broken, "counts only: /readyz is public")
	require.NotContains(t, string(res.Body), "Broken")
}
