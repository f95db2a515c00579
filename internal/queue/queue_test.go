package queue

import (
	"context"
	"testing"
	"time"

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

	// Each kind of work has its own queue, so a down webhook endpoint or
	// an indexing backlog holds back neither transcripts nor each other.
	t.Run("WebhooksAndIndexingHaveTheirOwnQueues", func(t *testing.T) {
		t.Parallel()
		rdb := testredis.Client(t)
		q := Queues{LLM: testredis.Name(t), Default: testredis.Name(t), Webhooks: testredis.Name(t), Index: testredis.Name(t)}
		e := NewEnqueuer(rdb, q)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		t.Cleanup(func() {
			require.NoError(t, NewInspector(rdb).DeleteQueues(q))
			_ = e.Close()
		})
		org, delivery, activity, tr := store.NewID(), store.NewID(), store.NewID(), store.NewID()
		require.NoError(t, e.EnqueueWebhook(ctx, org, delivery))
		require.NoError(t, e.EnqueueActivityIndex(ctx, org, activity))
		require.NoError(t, e.EnqueueTranscript(ctx, org, tr))
		for queue, want := range map[string][]string{q.Webhooks: {delivery}, q.Index: {"index:" + activity}, q.LLM: {tr}, q.Default: nil} {
			tasks, err := insp.ListPendingTasks(queue)
			if len(want) == 0 {
				require.ErrorIs(t, err, asynq.ErrQueueNotFound, "nothing goes to the default queue")
				continue
			}
			require.NoError(t, err)
			var ids []string
			for _, task := range tasks {
				ids = append(ids, task.ID)
			}
			require.Equal(t, want, ids, queue)
		}
		info, err := insp.GetTaskInfo(q.Webhooks, delivery)
		require.NoError(t, err)
		require.Equal(t, WebhookMaxRetry, info.MaxRetry)
	})

	t.Run("QueueNames", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, Queues{LLM: "llm", Default: "default", Webhooks: "webhooks", Index: "index"}, DefaultQueues)
		require.Equal(t, Queues{LLM: "eu-llm", Default: "eu-default", Webhooks: "eu-webhooks", Index: "eu-index"}, Prefixed("eu-"))
		require.Equal(t, DefaultQueues, Prefixed(""))
		old := Queues{LLM: "t-llm", Default: "t-def"}
		require.Equal(t, Queues{LLM: "t-llm", Default: "t-def", Webhooks: "t-def", Index: "t-def"}, old.Filled())
		require.Equal(t, []string{"t-llm", "t-def"}, old.Names())
		require.Equal(t, []string{"llm", "default", "webhooks", "index"}, DefaultQueues.Names())
	})

	t.Run("WebhookRetriesSpanADay", func(t *testing.T) {
		t.Parallel()
		var total time.Duration
		for n := range WebhookMaxRetry {
			d := WebhookRetryDelay(n)
			require.Positive(t, d)
			if n > 0 {
				require.GreaterOrEqual(t, d, WebhookRetryDelay(n-1), "never shorter than the wait before")
			}
			total += d
		}
		require.GreaterOrEqual(t, total, 24*time.Hour)
		require.Equal(t, WebhookRetryDelay(WebhookMaxRetry-1), WebhookRetryDelay(WebhookMaxRetry+5))
		require.Equal(t, 30*time.Second, WebhookRetryDelay(-1))
	})

	t.Run("RedeliverRunsAWaitingTaskNow", func(t *testing.T) {
		t.Parallel()
		rdb := testredis.Client(t)
		q := Queues{LLM: testredis.Name(t), Default: testredis.Name(t), Webhooks: testredis.Name(t)}
		e := NewEnqueuer(rdb, q)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		t.Cleanup(func() {
			require.NoError(t, NewInspector(rdb).DeleteQueues(q))
			_ = e.Close()
		})
		org, id := store.NewID(), store.NewID()
		task, err := NewWebhookDeliverTask(WebhookPayload{OrgID: org, DeliveryID: id})
		require.NoError(t, err)
		client := asynq.NewClientFromRedisClient(rdb)
		_, err = client.EnqueueContext(ctx, task, asynq.Queue(q.Webhooks), asynq.TaskID(id), asynq.ProcessIn(6*time.Hour))
		require.NoError(t, err)

		require.NoError(t, e.EnqueueWebhook(ctx, org, id))
		info, err := insp.GetTaskInfo(q.Webhooks, id)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStateScheduled, info.State, "the reconciler's enqueue keeps the backoff")

		require.NoError(t, e.RedeliverWebhook(ctx, org, id))
		info, err = insp.GetTaskInfo(q.Webhooks, id)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, info.State, "redeliver runs it now")

		require.NoError(t, insp.ArchiveTask(q.Webhooks, id))
		require.NoError(t, e.RedeliverWebhook(ctx, org, id))
		info, err = insp.GetTaskInfo(q.Webhooks, id)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, info.State, "a failed delivery's archived task is replaced")
	})

	t.Run("BadPayloadsAreRejected", func(t *testing.T) {
		t.Parallel()
		for _, b := range []string{``, `{}`, `{"org_id":"x","transcript_id":"y"}`, `{"org_id":"01a21402-12ed-7382-9aa5-7388b24b1b05","transcript_id":"01a21402-12ed-7382-9aa5-7388b24b1b05","extra":1}`} {
			_, err := ParseTranscriptPayload([]byte(b))
			require.Error(t, err, b)
		}
	})
}
