package worker

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/api"
	"logbook/internal/crm"
	"logbook/internal/llm/llmtest"
)

// run serves b's queues with real asynq servers until the test ends.
func (b *testBundle) run(t *testing.T) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.w.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })
}

// waitStatus waits until the transcript reaches want (or the deadline
// passes) and returns it as it is then.
func (b *testBundle) waitStatus(t *testing.T, id string, want crm.TranscriptStatus, within time.Duration) crm.Transcript {
	t.Helper()
	ctx := context.Background()
	var cur crm.Transcript
	start := time.Now()
	defer func() {
		reason := "<nil>"
		if cur.Error != nil {
			reason = *cur.Error
		}
		t.Logf("transcript %s after %s: attempts %d, error %q", cur.Status, time.Since(start).Round(10*time.Millisecond), cur.Attempts, reason)
	}()
	require.Eventually(t, func() bool {
		got, err := b.store.TranscriptGet(ctx, b.orgID, id, false)
		if err == nil {
			cur = got
		}
		return err == nil && cur.Status == want
	}, within, 50*time.Millisecond, "transcript never became %s", want)
	return cur
}

// isNotesRequest tells the notes call from the follow-up one.
func isNotesRequest(req llmtest.ChatRequest) bool {
	for _, m := range req.Messages {
		if strings.Contains(m.Content, "<<<TRANSCRIPT") {
			return true
		}
	}
	return false
}

// requireUserReason checks a stored reason reads as prose, not as a Go
// error chain with package prefixes.
func requireUserReason(t *testing.T, reason *string) {
	t.Helper()
	require.NotNil(t, reason)
	for _, internal := range []string{"summarize:", "worker:", "store:", "openai:", "llm:", "asynq", "queue:"} {
		require.NotContains(t, *reason, internal)
	}
}

// TestHopelessTranscriptIsAttemptedOnce is finding 7: work that fails the
// same way every time is failed at its first attempt, with a reason a user
// reads, instead of being retried for minutes. It runs the real queue: a
// retry would show as a second attempt (and the deadline is shorter than
// asynq's backoff over its retries).
func TestHopelessTranscriptIsAttemptedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("BlobWithoutBreaks", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.NewServer(t)
		// A model that answers the notes and never a usable draft: what
		// made the blob fail on every attempt.
		srv.DefaultReply = func(req llmtest.ChatRequest) llmtest.Reply {
			if isNotesRequest(req) {
				return llmtest.ReplyContent(notesJSON())
			}
			return llmtest.ReplyMalformed()
		}
		b := setup(t, newFakeProvider(t, srv))
		b.run(t)
		blob := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789", 400_000/45+1)[:400_000]
		tr := b.ingest(t, "blob", []crm.Segment{{Index: 0, Speaker: "Unknown", Text: blob}})
		require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))

		got := b.waitStatus(t, tr.ID, crm.TranscriptFailed, 20*time.Second)
		require.Equal(t, 1, got.Attempts)
		require.Empty(t, srv.ChatRequests(), "refused before any model call")
		requireUserReason(t, got.Error)
		require.Contains(t, *got.Error, "400 KB")
		require.Contains(t, *got.Error, "no sentence breaks")
	})

	t.Run("NoSpeech", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.NewServer(t)
		srv.Default = fakeModel
		b := setup(t, newFakeProvider(t, srv))
		b.run(t)
		// Punctuation, digits and a run too long to be a word: no speech.
		tr := b.ingest(t, "silence", []crm.Segment{{Index: 0, Speaker: "A", Text: "... --"},
			{Index: 1, Speaker: "B", Text: "12:04 ?! " + strings.Repeat("Zm9v", 20)}})
		require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))

		got := b.waitStatus(t, tr.ID, crm.TranscriptFailed, 20*time.Second)
		require.Equal(t, 1, got.Attempts)
		require.Empty(t, srv.ChatRequests())
		requireUserReason(t, got.Error)
		require.Contains(t, *got.Error, "no speech found")
	})

	t.Run("UnusableAnswers", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.NewServer(t)
		srv.DefaultReply = func(llmtest.ChatRequest) llmtest.Reply { return llmtest.ReplyMalformed() }
		b := setup(t, newFakeProvider(t, srv))
		b.run(t)
		tr := b.ingest(t, "garbled", meetingSegments())
		require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))

		got := b.waitStatus(t, tr.ID, crm.TranscriptFailed, 20*time.Second)
		require.Equal(t, 1, got.Attempts)
		require.Len(t, srv.ChatRequests(), 2, "the notes call and summarize's one repair call, no retry")
		requireUserReason(t, got.Error)
		require.Contains(t, *got.Error, "could not be used")
	})
}

// TestFollowUpFailureKeepsNotes: notes that succeeded are kept when only
// the follow-up draft fails; the transcript is done with follow_up_error,
// shown by the API, and regenerating the draft clears it.
func TestFollowUpFailureKeepsNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := llmtest.NewServer(t)
	srv.DefaultReply = func(req llmtest.ChatRequest) llmtest.Reply {
		if isNotesRequest(req) {
			return llmtest.ReplyContent(notesJSON())
		}
		return llmtest.Reply{Status: http.StatusBadRequest, Error: "This model's maximum context length is exceeded."}
	}
	b := setup(t, newFakeProvider(t, srv))
	b.run(t)
	tr := b.ingest(t, "fu-fails", meetingSegments())
	require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))

	got := b.waitStatus(t, tr.ID, crm.TranscriptDone, 20*time.Second)
	require.Equal(t, 1, got.Attempts)
	require.Nil(t, got.Error)
	requireUserReason(t, got.FollowUpError)
	require.Contains(t, *got.FollowUpError, "refused")
	require.Contains(t, *got.FollowUpError, "400")
	_, notes, err := b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.NotEmpty(t, notes.Summary)
	require.Len(t, notes.ActionItems, 2)
	require.Nil(t, notes.FollowUp)
	require.Equal(t, got.FollowUpError, notes.FollowUpError)
	require.Positive(t, b.count(t, "chunks", tr.ActivityID), "the meeting is indexed")
	require.Zero(t, b.count(t, "follow_ups", tr.ActivityID))

	h, err := api.NewHandler(api.Deps{Store: b.store, FollowUps: b.w})
	require.NoError(t, err)
	k, err := b.store.APIKeyCreate(ctx, b.orgID, "rep", []crm.Scope{crm.ScopeRead, crm.ScopeWrite})
	require.NoError(t, err)
	c := &apiClient{t: t, h: h, key: k.Key}
	status, res := c.do("GET", "/v1/transcripts/"+tr.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "done", res["status"])
	require.Equal(t, *got.FollowUpError, res["follow_up_error"])

	// The model drafts again; regenerating clears the error.
	srv.DefaultReply = nil
	srv.Default = fakeModel
	status, res = c.do("POST", "/v1/activities/"+tr.ActivityID+"/follow-up", nil)
	require.Equal(t, http.StatusOK, status, "%v", res)
	status, res = c.do("GET", "/v1/transcripts/"+tr.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Nil(t, res["follow_up_error"])
	_, notes, err = b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.NotNil(t, notes.FollowUp)
	require.Nil(t, notes.FollowUpError)
}

// TestTransientFailureStillRetries: a 503 is not hopeless; the next attempt
// succeeds.
func TestTransientFailureStillRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := llmtest.NewServer(t)
	srv.Reply(llmtest.Reply{Status: http.StatusServiceUnavailable, Error: "The engine is currently overloaded."})
	srv.Default = fakeModel
	b := setup(t, newFakeProvider(t, srv))
	b.run(t)
	tr := b.ingest(t, "busy", meetingSegments())
	require.NoError(t, b.enq.EnqueueTranscript(ctx, b.orgID, tr.ID))
	got := b.waitStatus(t, tr.ID, crm.TranscriptDone, 30*time.Second)
	require.Equal(t, 2, got.Attempts)
	require.Nil(t, got.Error)
	require.Nil(t, got.FollowUpError)
	_, notes, err := b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.NotNil(t, notes.FollowUp)
}
