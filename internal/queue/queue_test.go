package queue

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testredis"
)

func TestEnqueuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	setup := func(t *testing.T) (*Enqueuer, *asynq.Inspector, Queues) {
		rdb := testredis.Client(t)
		q := Queues{LLM: testredis.Name(t), Default: testredis.Name(t)}
		e := NewEnqueuer(rdb, q)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		t.Cleanup(func() {
			_ = insp.DeleteQueue(q.LLM, true)
			_ = insp.DeleteQueue(q.Default, true)
			_ = e.Close()
		})
		return e, insp, q
	}

	t.Run("SameTranscriptTwiceIsOneTask", func(t *testing.T) {
		t.Parallel()
		e, insp, q := setup(t)
		org, id := store.NewID(), store.NewID()
		require.NoError(t, e.EnqueueTranscript(ctx, org, id))
		require.NoError(t, e.EnqueueTranscript(ctx, org, id))
		tasks, err := insp.ListPendingTasks(q.LLM)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		require.Equal(t, id, tasks[0].ID)
		p, err := ParseTranscriptPayload(tasks[0].Payload)
		require.NoError(t, err)
		require.Equal(t, TranscriptPayload{OrgID: org, TranscriptID: id}, p)
	})

	t.Run("ArchivedTaskIsReplaced", func(t *testing.T) {
		t.Parallel()
		e, insp, q := setup(t)
		org, id := store.NewID(), store.NewID()
		require.NoError(t, e.EnqueueTranscript(ctx, org, id))
		require.NoError(t, insp.ArchiveTask(q.LLM, id))
		require.NoError(t, e.EnqueueTranscript(ctx, org, id))
		info, err := insp.GetTaskInfo(q.LLM, id)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, info.State)
	})

	t.Run("WebhooksGoToTheDefaultQueue", func(t *testing.T) {
		t.Parallel()
		e, insp, q := setup(t)
		id := store.NewID()
		require.NoError(t, e.EnqueueWebhook(ctx, store.NewID(), id))
		info, err := insp.GetTaskInfo(q.Default, id)
		require.NoError(t, err)
		require.Equal(t, TypeWebhookDeliver, info.Type)
	})

	t.Run("BadPayloadsAreRejected", func(t *testing.T) {
		t.Parallel()
		for _, b := range []string{``, `{}`, `{"org_id":"x","transcript_id":"y"}`, `{"org_id":"01a21402-12ed-7382-9aa5-7388b24b1b05","transcript_id":"01a21402-12ed-7382-9aa5-7388b24b1b05","extra":1}`} {
			_, err := ParseTranscriptPayload([]byte(b))
			require.Error(t, err, b)
		}
	})
}
