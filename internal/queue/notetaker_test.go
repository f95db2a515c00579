package queue_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testredis"
)

func TestEnqueueNotetakerFetchOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testredis.Client(t)
	q := queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t)}
	enq := queue.NewEnqueuer(rdb, q)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() { _ = insp.DeleteQueue(q.Default, true) })

	p := queue.NotetakerFetchPayload{OrgID: store.NewID(), ConnectorID: store.NewID(), Vendor: queue.VendorRecall,
		EventID: "msg_1", TranscriptID: "tr_1"}
	fresh, err := enq.EnqueueNotetakerFetch(ctx, p)
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = enq.EnqueueNotetakerFetch(ctx, p)
	require.NoError(t, err)
	require.False(t, fresh, "the same event is the same task")

	info, err := insp.GetTaskInfo(q.Default, queue.NotetakerTaskID(p))
	require.NoError(t, err)
	require.Equal(t, queue.NotetakerFetchMaxRetry, info.MaxRetry)
	require.Equal(t, queue.NotetakerReplayWindow, info.Retention)
	got, err := queue.ParseNotetakerFetchPayload(info.Payload)
	require.NoError(t, err)
	require.Equal(t, p, got)

	// Another event of the same connector is another task.
	p.EventID = "msg_2"
	fresh, err = enq.EnqueueNotetakerFetch(ctx, p)
	require.NoError(t, err)
	require.True(t, fresh)

	for _, bad := range []string{`{}`, `{"org_id":"x"}`, `{"org_id":"` + p.OrgID + `","connector_id":"` + p.ConnectorID + `","vendor":"gong","event_id":"e"}`,
		`{"org_id":"` + p.OrgID + `","connector_id":"` + p.ConnectorID + `","vendor":"zoom","event_id":"e","meeting_uuid":"u"}`} {
		_, err := queue.ParseNotetakerFetchPayload([]byte(bad))
		require.Error(t, err, bad)
	}
}
