package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/summarize"
)

// HandleTranscriptProcess turns a stored transcript into meeting notes:
// claim it (processing, one more attempt), summarize, then write notes,
// action items, the follow-up draft and the meeting's retrieval chunks
// (transcript and notes, embedded) in one transaction that replaces any
// earlier attempt's, mark it done and enqueue the meeting.processed webhooks.
//
// Every error goes through classify. One that fails the same way on every
// attempt (a transcript summarize refuses as too large or without speech,
// a request the model refused, an answer still unusable after the repair
// call, a bad payload, a panic) marks the transcript failed with a reason a
// user can read and returns asynq.SkipRetry: it is attempted once. A
// transient one (a timeout, a 429 or 5xx, the database unavailable)
// records the reason and lets asynq retry with backoff, marking it failed
// on the last attempt. When the notes succeed and only the follow-up draft
// fails, the notes are kept: the transcript is done with follow_up_error
// (POST /v1/activities/{id}/follow-up drafts it again). New content
// arriving mid-run discards this run's result and runs again on the new
// content.
func (w *Worker) HandleTranscriptProcess(ctx context.Context, task *asynq.Task) (err error) {
	p, err := queue.ParseTranscriptPayload(task.Payload())
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log := w.log.With(slog.String("org_id", p.OrgID), slog.String("transcript_id", p.TranscriptID))
	t, claimed, err := w.cfg.Store.TranscriptClaim(ctx, p.OrgID, p.TranscriptID)
	if errors.Is(err, crm.ErrNotFound) {
		log.InfoContext(ctx, "transcript is gone; nothing to do")
		return nil
	}
	if err != nil {
		return err
	}
	if !claimed {
		return nil // already done: a duplicate delivery of the task
	}
	// A panic is a bug that retrying cannot fix: fail the transcript with
	// the reason, visibly, instead of leaving it processing while asynq
	// retries it.
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "panic while processing transcript", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = w.transcriptFailed(ctx, log, t, fmt.Errorf("%w: %v", errPanic, r))
		}
	}()
	m, err := w.meeting(ctx, t)
	if err != nil {
		return w.transcriptFailed(ctx, log, t, err)
	}
	notes, _, err := w.cfg.Summarizer.NotesWithStats(ctx, m)
	var fuErr *summarize.FollowUpError
	switch {
	case errors.As(err, &fuErr):
		// The notes are good; only the draft failed. Keep them.
		reason := classify(fuErr.Err).reason
		log.WarnContext(ctx, "follow-up draft failed; keeping the notes", slog.Any("error", err))
		notes.FollowUpError = &reason
	case err != nil:
		return w.transcriptFailed(ctx, log, t, err)
	}
	var chunks []crm.Chunk
	if w.cfg.Retrieval != nil {
		if chunks, err = w.cfg.Retrieval.MeetingChunks(ctx, p.OrgID, t.ActivityID, t.Segments, notes); err != nil {
			return w.transcriptFailed(ctx, log, t, err)
		}
	}
	deliveries, err := w.cfg.Store.NotesSave(ctx, p.OrgID, p.TranscriptID, t.Revision, notes, chunks)
	if errors.Is(err, store.ErrStaleRevision) {
		log.InfoContext(ctx, "transcript changed while processing; running again on the new content")
		return err
	}
	if err != nil {
		return w.transcriptFailed(ctx, log, t, err)
	}
	log.InfoContext(ctx, "transcript processed", slog.Int("segments", len(t.Segments)),
		slog.Int("action_items", len(notes.ActionItems)), slog.Float64("coverage", notes.Coverage), slog.Int("chunks", len(chunks)),
		slog.Int("input_tokens", notes.Tokens.Input), slog.Int("output_tokens", notes.Tokens.Output),
		slog.Bool("follow_up", notes.FollowUp != nil))
	w.enqueueDeliveries(ctx, p.OrgID, deliveries)
	return nil
}

// transcriptFailed records a failed attempt with the reason classify gives
// (the Go error is logged, never stored) and tells asynq what to do: stop
// at once for a permanent failure (SkipRetry), retry a transient one,
// marking the transcript failed on the last attempt.
func (w *Worker) transcriptFailed(ctx context.Context, log *slog.Logger, t crm.Transcript, err error) error {
	f := classify(err)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && retried >= maxRetry
	if ctx.Err() != nil {
		// Shutting down or timed out: asynq retries it; record nothing final.
		return err
	}
	if ferr := w.cfg.Store.TranscriptFail(context.WithoutCancel(ctx), t.OrgID, t.ID, t.Revision, f.reason, f.permanent || last); ferr != nil {
		log.ErrorContext(ctx, "record transcript failure", slog.Any("error", ferr))
	}
	if f.permanent {
		log.WarnContext(ctx, "transcript failed permanently", slog.String("reason", f.reason), slog.Any("error", err))
		if errors.Is(err, asynq.SkipRetry) {
			return err
		}
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log.WarnContext(ctx, "transcript attempt failed; will retry", slog.Int("retried", retried), slog.Bool("last", last),
		slog.String("reason", f.reason), slog.Any("error", err))
	return err
}

// meeting builds the summarizer's input: the segments and participants,
// the external recipients of the follow-up (participants on the account's
// domains, or else not on the org's users' domains) and the rep's name.
func (w *Worker) meeting(ctx context.Context, t crm.Transcript) (summarize.Meeting, error) {
	m := summarize.Meeting{
		Title: t.Title, Date: t.StartedAt, Participants: t.Participants, Segments: t.Segments,
	}
	acct, err := w.cfg.Store.AccountGet(ctx, t.OrgID, t.AccountID)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		return m, err
	}
	external := map[string]bool{}
	for _, d := range acct.Domains {
		external[d] = true
	}
	for _, p := range t.Participants {
		if p.Email != "" && external[crm.EmailDomain(p.Email)] {
			m.External = append(m.External, p)
		}
	}
	if m.From, err = w.cfg.Store.ActivityOwnerName(ctx, t.OrgID, t.ActivityID); err != nil {
		return m, err
	}
	if m.From == "" && len(m.External) < len(t.Participants) {
		// The first participant not on the customer's side speaks for us.
		for _, p := range t.Participants {
			if p.Email == "" || !external[crm.EmailDomain(p.Email)] {
				m.From = strings.TrimSpace(p.Name)
				break
			}
		}
	}
	return m, nil
}

// RegenerateFollowUp drafts a processed meeting's follow-up email again
// from its stored notes and saves it. It implements api.FollowUpGenerator.
func (w *Worker) RegenerateFollowUp(ctx context.Context, orgID, activityID string) (crm.FollowUp, error) {
	t, notes, err := w.cfg.Store.MeetingNotes(ctx, orgID, activityID)
	if err != nil {
		return crm.FollowUp{}, err
	}
	m, err := w.meeting(ctx, t)
	if err != nil {
		return crm.FollowUp{}, err
	}
	f, err := w.cfg.Summarizer.FollowUp(ctx, m, notes)
	if err != nil {
		return crm.FollowUp{}, fmt.Errorf("worker: regenerate follow-up: %w", err)
	}
	if err := w.cfg.Store.FollowUpSave(ctx, orgID, activityID, f, notes.Model, notes.PromptVersion); err != nil {
		return crm.FollowUp{}, err
	}
	return f, nil
}

func (w *Worker) enqueueDeliveries(ctx context.Context, orgID string, ids []string) {
	for _, id := range ids {
		if err := w.cfg.Enqueuer.EnqueueWebhook(ctx, orgID, id); err != nil {
			w.log.WarnContext(ctx, "enqueue webhook delivery; the reconciler will retry", slog.String("delivery_id", id), slog.Any("error", err))
			return
		}
	}
}
