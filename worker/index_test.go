package worker

import (
	"context"
	"logbook/activity"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/queue"
)

func TestIndexing(t *testing.T) {
	b := setup(t, local.New(384))
	ctx := context.Background()

	// A processed meeting's chunks are written with its notes.
	tr := b.ingest(t, "idx1", meetingSegments())
	require.NoError(t, b.process(t, tr))
	require.Positive(t, b.count(t, "chunks", tr.ActivityID))
	var kinds []string
	rows, err := b.pool.Query(ctx, `SELECT DISTINCT kind FROM chunks WHERE org_id = $1 AND activity_id = $2 ORDER BY kind`, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		kinds = append(kinds, k)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"notes", "transcript"}, kinds)
	// Processing again replaces them: no duplicates.
	n := b.count(t, "chunks", tr.ActivityID)
	_, err = b.pool.Exec(ctx, `UPDATE transcripts SET status = 'queued' WHERE org_id = $1 AND id = $2`, b.orgID, tr.ID)
	require.NoError(t, err)
	require.NoError(t, b.process(t, tr))
	require.Equal(t, n, b.count(t, "chunks", tr.ActivityID))

	// An email is found by the sweep, queued as activity:index, and indexed.
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), AccountID: crm.Some(b.account),
		OccurredAt: crm.Some("2026-03-05T10:00:00Z"), Subject: crm.Some("SSO timeline"),
		Body: crm.Some("As promised, Okta SSO ships on June 15.")}
	require.NoError(t, in.Validate(true))
	email, _, _, err := activity.New(b.store).Upsert(ctx, b.orgID, in)
	require.NoError(t, err)
	_, err = b.w.IndexSweep(ctx)
	require.NoError(t, err)
	info, err := b.insp.GetTaskInfo(b.queues.Default, "index:"+email.ID)
	require.NoError(t, err, "the sweep queued the email")
	require.Equal(t, queue.TypeActivityIndex, info.Type)
	require.NoError(t, b.w.HandleActivityIndex(ctx, asynq.NewTask(info.Type, info.Payload)))
	require.Equal(t, 1, b.count(t, "chunks", email.ID))
	left, err := b.store.ActivitiesUnindexed(ctx, 1000)
	require.NoError(t, err)
	for _, a := range left {
		require.NotEqual(t, email.ID, a.ID, "an indexed activity leaves the sweep")
	}
	// A bad payload is not retried.
	require.Error(t, b.w.HandleActivityIndex(ctx, asynq.NewTask(queue.TypeActivityIndex, []byte(`{"org_id":"x"}`))))
}
