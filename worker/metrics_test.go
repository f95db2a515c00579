package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"logbook/internal/queue"
	"logbook/internal/testredis"
)

// TestTaskMetrics runs a real asynq server with the metrics middleware on a
// private queue: a task that succeeds, one that fails with SkipRetry, one
// that fails twice with one retry allowed (a retry, then failed) and one
// that panics on its only attempt, each counted under its outcome; the
// queue collector sees the tasks still scheduled.
func TestTaskMetrics(t *testing.T) {
	t.Parallel()
	rdb := testredis.Client(t)
	q := testredis.Name(t)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() { _ = insp.DeleteQueue(q, true) })
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	qc := NewQueueCollector(rdb, nil)
	qc.Watch(q, q+"-never-used")
	require.NoError(t, reg.Register(qc))

	var runs atomic.Int64
	mux := asynq.NewServeMux()
	mux.Use(m.Middleware)
	mux.HandleFunc(queue.TypeTranscriptProcess, func(ctx context.Context, t *asynq.Task) error {
		defer runs.Add(1)
		switch string(t.Payload()) {
		case "ok":
			time.Sleep(60 * time.Millisecond)
			return nil
		case "bad":
			return fmt.Errorf("bad payload: %w", asynq.SkipRetry)
		case "panic":
			panic("boom")
		}
		return errors.New("the model is down")
	})
	mux.HandleFunc(queue.TypeWebhookDeliver, func(ctx context.Context, t *asynq.Task) error {
		defer runs.Add(1)
		return nil
	})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 2, Queues: map[string]int{q: 1}, LogLevel: asynq.FatalLevel,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		DelayedTaskCheckInterval: 50 * time.Millisecond,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	client := asynq.NewClientFromRedisClient(rdb)
	t.Cleanup(func() { _ = client.Close() })
	enqueue := func(typ, payload string, opts ...asynq.Option) {
		_, err := client.Enqueue(asynq.NewTask(typ, []byte(payload)), append(opts, asynq.Queue(q))...)
		require.NoError(t, err)
	}
	enqueue(queue.TypeTranscriptProcess, "ok")
	enqueue(queue.TypeTranscriptProcess, "bad", asynq.MaxRetry(5))
	enqueue(queue.TypeTranscriptProcess, "down", asynq.MaxRetry(1))
	enqueue(queue.TypeTranscriptProcess, "panic", asynq.MaxRetry(0))
	enqueue(queue.TypeWebhookDeliver, "")
	// Two tasks that wait an hour: the queue's depth while the test looks.
	enqueue(queue.TypeTranscriptProcess, "later", asynq.ProcessIn(time.Hour))
	enqueue(queue.TypeTranscriptProcess, "later", asynq.ProcessIn(time.Hour))
	require.Eventually(t, func() bool { return runs.Load() == 6 }, 15*time.Second, 10*time.Millisecond)

	tasks := func(typ, outcome string) float64 {
		return testutil.ToFloat64(m.tasks.WithLabelValues(typ, outcome))
	}
	require.Equal(t, 1.0, tasks(queue.TypeTranscriptProcess, OutcomeSuccess))
	require.Equal(t, 1.0, tasks(queue.TypeTranscriptProcess, OutcomeSkipRetry))
	require.Equal(t, 1.0, tasks(queue.TypeTranscriptProcess, OutcomeRetry), "the first of two attempts")
	require.Equal(t, 2.0, tasks(queue.TypeTranscriptProcess, OutcomeFailed), "the last attempt, and the panic")
	require.Equal(t, 1.0, tasks(queue.TypeWebhookDeliver, OutcomeSuccess))
	require.Equal(t, 0.0, tasks(queue.TypeActivityIndex, OutcomeSuccess), "present at 0 from the start")

	// asynq moves a task and counts it in Redis just after its handler
	// returns.
	want := fmt.Sprintf(`
# HELP asynq_queue_tasks Tasks in a queue by state (pending, active, scheduled, retry, archived, completed, aggregating).
# TYPE asynq_queue_tasks gauge
asynq_queue_tasks{queue="%[1]s",state="active"} 0
asynq_queue_tasks{queue="%[1]s",state="aggregating"} 0
asynq_queue_tasks{queue="%[1]s",state="archived"} 3
asynq_queue_tasks{queue="%[1]s",state="completed"} 0
asynq_queue_tasks{queue="%[1]s",state="pending"} 0
asynq_queue_tasks{queue="%[1]s",state="retry"} 0
asynq_queue_tasks{queue="%[1]s",state="scheduled"} 2
asynq_queue_tasks{queue="%[1]s-never-used",state="active"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="aggregating"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="archived"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="completed"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="pending"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="retry"} 0
asynq_queue_tasks{queue="%[1]s-never-used",state="scheduled"} 0
# HELP asynq_queue_size Tasks in a queue, in every state.
# TYPE asynq_queue_size gauge
asynq_queue_size{queue="%[1]s"} 5
asynq_queue_size{queue="%[1]s-never-used"} 0
# HELP asynq_tasks_processed_total Tasks a queue has processed, succeeded or failed (asynq's cumulative count in Redis).
# TYPE asynq_tasks_processed_total counter
asynq_tasks_processed_total{queue="%[1]s"} 6
asynq_tasks_processed_total{queue="%[1]s-never-used"} 0
# HELP asynq_tasks_failed_total Task runs of a queue that failed (asynq's cumulative count in Redis).
# TYPE asynq_tasks_failed_total counter
asynq_tasks_failed_total{queue="%[1]s"} 4
asynq_tasks_failed_total{queue="%[1]s-never-used"} 0
# HELP asynq_queue_stats_up 1 when the last scrape read the queues' statistics from Redis, 0 when it failed.
# TYPE asynq_queue_stats_up gauge
asynq_queue_stats_up 1
`, q)
	names := []string{"asynq_queue_tasks", "asynq_queue_size", "asynq_tasks_processed_total", "asynq_tasks_failed_total", "asynq_queue_stats_up"}
	require.Eventually(t, func() bool {
		return testutil.GatherAndCompare(reg, strings.NewReader(want), names...) == nil
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), names...))

	n, err := testutil.GatherAndCount(reg, "logbook_transcript_processing_seconds")
	require.NoError(t, err)
	require.Equal(t, 4, n, "one series per outcome seen: success, skip_retry, retry, failed")
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}
