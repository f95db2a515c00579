package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
)

// TestConsentHold covers the pipeline's side of consent as data: a held
// transcript is never processed, whether its task was queued before the
// hold, the reconciler passes over it or a worker was already processing
// it; an admin's release processes it, a discard leaves nothing to process.
func TestConsentHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// ingestWith posts the meeting with Dana Lee's consent.
	ingestWith := func(t *testing.T, b *testBundle, ext string, dana crm.Consent) store.Ingested {
		t.Helper()
		got, err := activity.New(b.store).IngestTranscript(ctx, b.orgID, store.TranscriptIngest{
			Source: "zoom", ExternalID: &ext, Title: "Acme renewal", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
			Format: "segments", Segments: meetingSegments(),
			Participants: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Maya Patel", Email: "maya@northwind.test"}},
			Consents:     []crm.ConsentInput{{Name: "Dana Lee", Email: "dana@acme.test", Consent: dana}},
			Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(b.account),
				Participants: crm.Some([]crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Maya Patel", Email: "maya@northwind.test"}}),
				OccurredAt:   crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext)},
		})
		require.NoError(t, err)
		return got
	}
	status := func(t *testing.T, b *testBundle, id string) crm.Transcript {
		t.Helper()
		tr, err := b.store.TranscriptGet(ctx, b.orgID, id, true)
		require.NoError(t, err)
		return tr
	}
	reconcileSkips := func(t *testing.T, b *testBundle, id string) {
		t.Helper()
		time.Sleep(5 * time.Millisecond) // past ReconcileGrace
		n, err := b.w.Reconcile(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the reconciler enqueued a held transcript")
		_, err = b.insp.GetTaskInfo(b.queues.LLM, id)
		require.True(t, errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound), "%v", err)
	}

	t.Run("DeclinedIsNeverProcessed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, local.New(256))
		got := ingestWith(t, b, "m1", crm.ConsentDeclined)
		require.Equal(t, store.IngestHeld, got.Result)
		tr := got.Transcript
		require.Equal(t, crm.TranscriptHeld, tr.Status)
		reconcileSkips(t, b, tr.ID)
		// A task delivered anyway (a stale one) claims nothing.
		require.NoError(t, b.process(t, tr))
		after := status(t, b, tr.ID)
		require.Equal(t, crm.TranscriptHeld, after.Status)
		require.Equal(t, 0, after.Attempts)
		require.Equal(t, 0, b.count(t, "meeting_notes", tr.ActivityID))

		// The admin releases it: processed.
		_, err := b.store.TranscriptRelease(ctx, b.orgID, tr.ID, "admin-key")
		require.NoError(t, err)
		require.NoError(t, b.process(t, tr))
		after = status(t, b, tr.ID)
		require.Equal(t, crm.TranscriptDone, after.Status)
		require.Equal(t, 1, b.count(t, "meeting_notes", tr.ActivityID))
		require.Equal(t, crm.ConsentReleased, after.ConsentDecision.Decision)
	})

	t.Run("TaskQueuedBeforeTheHoldDoesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, local.New(256))
		got := ingestWith(t, b, "m1", crm.ConsentUnknown)
		require.Equal(t, store.IngestQueued, got.Result, "unknown consent without require_consent goes on")
		tr := got.Transcript
		require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))
		// Dana declines before a worker picks the task up.
		res, err := activity.New(b.store).ConsentsSet(ctx, b.orgID, tr.ActivityID, "api", crm.ConsentsInput{
			Consents: []crm.ConsentInput{{Email: "dana@acme.test", Consent: crm.ConsentDeclined}}})
		require.NoError(t, err)
		require.False(t, res.Released)
		require.Equal(t, crm.TranscriptHeld, res.Transcript.Status)
		require.Equal(t, "Dana Lee declined recording", *res.Transcript.HeldReason)
		info, err := b.insp.GetTaskInfo(b.queues.LLM, tr.ID)
		require.NoError(t, err, "the stale task is still waiting")
		require.NoError(t, b.process(t, crm.Transcript{ID: info.ID}))
		require.Equal(t, crm.TranscriptHeld, status(t, b, tr.ID).Status)
		require.Equal(t, 0, b.count(t, "meeting_notes", tr.ActivityID))

		// Consent given after all: released by the consents, processed.
		res, err = activity.New(b.store).ConsentsSet(ctx, b.orgID, tr.ActivityID, "api", crm.ConsentsInput{
			Consents: []crm.ConsentInput{{Email: "dana@acme.test", Consent: crm.ConsentGiven}}})
		require.NoError(t, err)
		require.True(t, res.Released)
		require.Equal(t, crm.TranscriptQueued, res.Transcript.Status)
		require.NoError(t, b.process(t, tr))
		require.Equal(t, crm.TranscriptDone, status(t, b, tr.ID).Status)
	})

	t.Run("HoldWhileProcessingDiscardsTheRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t, local.New(256))
		tr := ingestWith(t, b, "m1", crm.ConsentGiven).Transcript
		claimed, ok, err := b.store.TranscriptClaim(ctx, b.orgID, tr.ID)
		require.NoError(t, err)
		require.True(t, ok)
		_, err = activity.New(b.store).ConsentsSet(ctx, b.orgID, tr.ActivityID, "api", crm.ConsentsInput{
			Consents: []crm.ConsentInput{{Email: "maya@northwind.test", Consent: crm.ConsentDeclined}}})
		require.NoError(t, err)
		_, err = b.store.NotesSave(ctx, b.orgID, tr.ID, claimed.Revision, crm.Notes{Summary: "x", Model: "m", PromptVersion: "v"}, nil)
		require.True(t, errors.Is(err, store.ErrStaleRevision), "the run's notes are not saved: %v", err)
		after := status(t, b, tr.ID)
		require.Equal(t, crm.TranscriptHeld, after.Status)
		require.Equal(t, "Maya Patel declined recording", *after.HeldReason)
		require.Equal(t, 0, b.count(t, "meeting_notes", tr.ActivityID))
	})

	t.Run("DiscardLeavesNothingToProcess", func(t *testing.T) {
		t.Parallel()
		b := setup(t, local.New(256))
		tr := ingestWith(t, b, "m1", crm.ConsentDeclined).Transcript
		require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID)) // a stray task
		_, err := b.store.TranscriptDiscard(ctx, b.orgID, tr.ID, "admin-key")
		require.NoError(t, err)
		require.NoError(t, b.process(t, tr))
		after := status(t, b, tr.ID)
		require.Equal(t, crm.TranscriptFailed, after.Status)
		require.Equal(t, store.DiscardedError, *after.Error)
		require.Empty(t, after.Segments)
		require.Equal(t, 0, after.Attempts)
		require.Equal(t, 0, b.count(t, "meeting_notes", tr.ActivityID))
		_, err = b.store.ActivityGet(ctx, b.orgID, tr.ActivityID)
		require.NoError(t, err, "the meeting stays")
		time.Sleep(5 * time.Millisecond)
		n, err := b.w.Reconcile(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a discarded transcript is never enqueued again")
	})

	t.Run("RetentionFailsAHeldTranscript", func(t *testing.T) {
		t.Parallel()
		b := setup(t, local.New(256))
		tr := ingestWith(t, b, "m1", crm.ConsentDeclined).Transcript
		days := 1
		_, err := b.store.SettingsUpdate(ctx, b.orgID, crm.SettingsInput{TranscriptRetentionDays: crm.Some(days)})
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, `UPDATE transcripts SET received_at = now() - interval '3 days' WHERE id = $1`, tr.ID)
		require.NoError(t, err)
		_, err = b.w.PurgeRetention(ctx)
		require.NoError(t, err)
		after := status(t, b, tr.ID)
		require.Equal(t, crm.TranscriptFailed, after.Status, "a purged recording can no longer be released")
		require.Nil(t, after.HeldReason)
	})
}
