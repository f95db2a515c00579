package capture_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

type fakeState struct {
	Next int `json:"next"`
}

// queues are the test binary's own task queues.
var queues = queue.Prefixed(fmt.Sprintf("capture-test-%d:", time.Now().UnixNano()))

func newService(t *testing.T, sync func(ctx context.Context, run *capture.Run) error) (*capture.Service, *store.Store, string) {
	t.Helper()
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	org, err := st.OrgCreate(ctx, "capture "+t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = st.OrgDelete(context.WithoutCancel(ctx), org.ID) })
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	enq := queue.NewEnqueuer(testredis.Client(t), queues)
	svc := capture.New(capture.Config{Store: st, Box: box, Enqueuer: enq})
	svc.Register(crm.ConnectorICS, capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			var c struct {
				URL string `json:"url"`
			}
			if cfg == nil {
				cfg = old
			}
			if err := json.Unmarshal(cfg, &c); err != nil || !strings.HasPrefix(c.URL, "https://") {
				return nil, nil, crm.Invalid("config.url", "must be an https URL")
			}
			var sec map[string]string
			if secrets != nil {
				if err := json.Unmarshal(secrets, &sec); err != nil {
					return nil, nil, crm.Invalid("secrets", "must be an object of strings")
				}
			}
			return cfg, sec, nil
		},
		Sync: sync,
	})
	return svc, st, org.ID
}

func create(t *testing.T, svc *capture.Service, orgID string) crm.Connector {
	t.Helper()
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(`{"kind":"ics","name":"team calendar","config":{"url":"https://cal.example/feed.ics"},"secrets":{"token":"s3cret"}}`), &in))
	c, err := svc.Create(context.Background(), orgID, in)
	require.NoError(t, err)
	return c
}

func TestSyncRecordsProgressAndHealth(t *testing.T) {
	ctx := context.Background()
	var seen []string
	svc, st, orgID := newService(t, func(ctx context.Context, run *capture.Run) error {
		var s fakeState
		require.NoError(t, json.Unmarshal(run.State, &s))
		seen = append(seen, run.Secrets["token"])
		if s.Next >= 2 {
			return errors.New("feed answered 401 Unauthorized")
		}
		run.Captured(3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		return run.Checkpoint(ctx, fakeState{Next: s.Next + 1})
	})
	c := create(t, svc, orgID)
	require.Equal(t, []string{"token"}, c.SecretsSet)
	require.Equal(t, "pending", c.Health.Status)

	// The secret is sealed in the row, not stored in clear.
	rec, err := st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.NotContains(t, string(rec.Secret), "s3cret")
	require.NotContains(t, string(rec.Config), "s3cret")

	p := queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}
	require.NoError(t, svc.SyncNow(ctx, p))
	require.NoError(t, svc.SyncNow(ctx, p))
	rec, err = st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"next":2}`, string(rec.State))
	require.Nil(t, rec.Health.LastError, "%v", derefS(rec.Health.LastError))
	require.EqualValues(t, 6, rec.Health.ItemsCaptured)
	require.Equal(t, "ok", rec.Health.Status)
	require.NotNil(t, rec.Health.LagSeconds)

	// A failing run shows its error and keeps the watermark.
	require.NoError(t, svc.SyncNow(ctx, p))
	rec, err = st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.Equal(t, "failing", rec.Health.Status)
	require.Equal(t, "feed answered 401 Unauthorized", *rec.Health.LastError)
	require.JSONEq(t, `{"next":2}`, string(rec.State))
	require.Equal(t, []string{"s3cret", "s3cret", "s3cret"}, seen)

	// Over an hour of failing is unhealthy, and counted so.
	st.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	defer st.SetClock(time.Now)
	rec, err = st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.Equal(t, "unhealthy", rec.Health.Status)
	require.False(t, rec.Health.Healthy)
	counts, err := st.ConnectorsHealth(ctx)
	require.NoError(t, err)
	require.Contains(t, counts, store.ConnectorStatusCount{Kind: crm.ConnectorICS, Status: "unhealthy", Count: 1})
}

func TestOneRunAtATime(t *testing.T) {
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	runs := 0
	svc, st, orgID := newService(t, func(ctx context.Context, run *capture.Run) error {
		runs++
		close(entered)
		<-release
		return nil
	})
	c := create(t, svc, orgID)
	p := queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}
	done := make(chan error)
	go func() { done <- svc.SyncNow(ctx, p) }()
	<-entered
	// A second incremental sync while the first holds the lease does nothing.
	require.NoError(t, svc.SyncNow(ctx, p))
	// A backfill waits (an error, so the queue retries it).
	from := time.Now().Add(-time.Hour)
	require.ErrorIs(t, svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID, From: &from}), store.ErrLeaseHeld)
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, 1, runs)
	rec, err := st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.Equal(t, "ok", rec.Health.Status)
}

func TestSecretsNeedTheKey(t *testing.T) {
	ctx := context.Background()
	svc, st, orgID := newService(t, func(ctx context.Context, run *capture.Run) error { return nil })
	c := create(t, svc, orgID)

	// Another server with a different key cannot open them, and says so on
	// the connector's health.
	other, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	svc2 := capture.New(capture.Config{Store: st, Box: other})
	svc2.Register(crm.ConnectorICS, capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			return cfg, nil, nil
		},
		Sync: func(ctx context.Context, run *capture.Run) error { return nil },
	})
	require.NoError(t, svc2.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}))
	rec, err := st.ConnectorGet(ctx, orgID, c.ID)
	require.NoError(t, err)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "LOGBOOK_SECRET_KEY")

	// A server without a key refuses a connector with secrets, clearly.
	nokey := capture.New(capture.Config{Store: st, Box: &secretbox.Box{}})
	nokey.Register(crm.ConnectorICS, capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			return cfg, map[string]string{"token": "x"}, nil
		},
	})
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(`{"kind":"ics","name":"x","config":{}}`), &in))
	_, err = nokey.Create(ctx, orgID, in)
	var ve *crm.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "secrets", ve.Fields[0].Field)
}

func TestUpdateResetsWatermarkOnNewConfig(t *testing.T) {
	ctx := context.Background()
	svc, st, orgID := newService(t, func(ctx context.Context, run *capture.Run) error {
		return run.Checkpoint(ctx, fakeState{Next: 7})
	})
	c := create(t, svc, orgID)
	require.NoError(t, svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}))
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(`{"name":"renamed"}`), &in))
	_, err := svc.Update(ctx, orgID, c.ID, in)
	require.NoError(t, err)
	rec, _ := st.ConnectorGet(ctx, orgID, c.ID)
	require.JSONEq(t, `{"next":7}`, string(rec.State), "a rename keeps the watermark")

	// The same config sent again (spelt otherwise) keeps it too.
	in = crm.ConnectorInput{}
	require.NoError(t, json.Unmarshal([]byte(`{"config":{ "url" : "https://cal.example/feed.ics" }}`), &in))
	_, err = svc.Update(ctx, orgID, c.ID, in)
	require.NoError(t, err)
	rec, _ = st.ConnectorGet(ctx, orgID, c.ID)
	require.JSONEq(t, `{"next":7}`, string(rec.State), "an unchanged config keeps the watermark")

	in = crm.ConnectorInput{}
	require.NoError(t, json.Unmarshal([]byte(`{"config":{"url":"https://cal.example/other.ics"}}`), &in))
	_, err = svc.Update(ctx, orgID, c.ID, in)
	require.NoError(t, err)
	rec, _ = st.ConnectorGet(ctx, orgID, c.ID)
	require.JSONEq(t, `{}`, string(rec.State), "a new URL starts over")
	require.Equal(t, []string{"token"}, rec.SecretsSet, "secrets kept when not sent")

	in = crm.ConnectorInput{}
	require.NoError(t, json.Unmarshal([]byte(`{"config":{"url":"ftp://x"}}`), &in))
	_, err = svc.Update(ctx, orgID, c.ID, in)
	require.ErrorIs(t, err, crm.ErrInvalid)
}

func derefS(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestSchedulerEnqueuesDueConnectors(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Schema(t)) // its own schema: ConnectorsDue reads every org
	org, err := st.OrgCreate(ctx, "scheduler")
	require.NoError(t, err)
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	rdb := testredis.Client(t)
	enq := queue.NewEnqueuer(rdb, queue.Prefixed(testredis.Name(t)+":"))
	svc := capture.New(capture.Config{Store: st, Box: box, Enqueuer: enq})
	svc.Register(crm.ConnectorICS, capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			return cfg, nil, nil
		},
		Sync: func(ctx context.Context, run *capture.Run) error { return nil },
	})
	insp := asynq.NewInspectorFromRedisClient(rdb)
	pending := func() []string {
		tasks, err := insp.ListPendingTasks(enq.Queues().Default)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil
		}
		require.NoError(t, err)
		var ids []string
		for _, tk := range tasks {
			ids = append(ids, tk.ID)
		}
		return ids
	}
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(`{"kind":"ics","name":"feed","config":{},"interval_seconds":600}`), &in))
	c, err := svc.Create(ctx, org.ID, in)
	require.NoError(t, err)
	// Created: its first sync is queued at once, and asking again while it
	// waits queues nothing more.
	require.Equal(t, []string{"sync:" + c.ID}, pending())
	require.NoError(t, svc.EnqueueDue(ctx))
	require.Equal(t, []string{"sync:" + c.ID}, pending())

	// The sync runs; the next one is due after the interval, not before.
	_, err = insp.DeleteAllPendingTasks(enq.Queues().Default)
	require.NoError(t, err)
	require.NoError(t, svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: org.ID, ConnectorID: c.ID}))
	require.NoError(t, svc.EnqueueDue(ctx))
	require.Empty(t, pending())
	st.SetClock(func() time.Time { return time.Now().Add(11 * time.Minute) })
	defer st.SetClock(time.Now)
	require.NoError(t, svc.EnqueueDue(ctx))
	require.Equal(t, []string{"sync:" + c.ID}, pending())

	// A disabled connector is never due.
	_, err = insp.DeleteAllPendingTasks(enq.Queues().Default)
	require.NoError(t, err)
	in = crm.ConnectorInput{}
	require.NoError(t, json.Unmarshal([]byte(`{"enabled":false}`), &in))
	_, err = svc.Update(ctx, org.ID, c.ID, in)
	require.NoError(t, err)
	require.NoError(t, svc.EnqueueDue(ctx))
	require.Empty(t, pending())
}

func TestRunDeliversWebhooksAtTheEnd(t *testing.T) {
	ctx := context.Background()
	delivery := store.NewID()
	svc, _, orgID := newService(t, func(ctx context.Context, run *capture.Run) error {
		run.Deliver([]string{delivery})
		return nil
	})
	c := create(t, svc, orgID)
	require.NoError(t, svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}))
	rdb := testredis.Client(t)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	q := queues.Filled().Webhooks
	info, err := insp.GetTaskInfo(q, delivery)
	require.NoError(t, err, "the delivery's task is queued when the run ends")
	require.Equal(t, queue.TypeWebhookDeliver, info.Type)
}
