package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"logbook/internal/crm"
)

// Task types.
const (
	// TypeTranscriptProcess turns a stored transcript into meeting notes.
	TypeTranscriptProcess = "transcript:process"
	// TypeWebhookDeliver posts one webhook delivery to its endpoint.
	TypeWebhookDeliver = "webhook:deliver"
	// TypeActivityIndex (re)indexes an activity's own text for retrieval.
	TypeActivityIndex = "activity:index"
)

// Queues names the queues tasks go to. Tests use unique names so they
// never see each other's tasks.
type Queues struct {
	// LLM takes tasks that wait on a language model.
	LLM string
	// Default takes everything else.
	Default string
	// Webhooks takes webhook deliveries, so an endpoint that is slow or
	// down holds back nothing but other deliveries; empty is Default.
	Webhooks string
	// Index takes activity indexing; empty is Default.
	Index string
}

// DefaultQueues are the production queue names.
var DefaultQueues = Queues{LLM: "llm", Default: "default", Webhooks: "webhooks", Index: "index"}

// Prefixed returns DefaultQueues with every name prefixed (QUEUE_PREFIX,
// or a private prefix of the demo's).
func Prefixed(prefix string) Queues {
	d := DefaultQueues
	return Queues{LLM: prefix + d.LLM, Default: prefix + d.Default, Webhooks: prefix + d.Webhooks, Index: prefix + d.Index}
}

// Filled returns q with an empty Webhooks or Index set to Default, the
// queue those tasks shared before they had their own (a Queues written
// with LLM and Default only keeps all its tasks on those two).
func (q Queues) Filled() Queues {
	if q.Webhooks == "" {
		q.Webhooks = q.Default
	}
	if q.Index == "" {
		q.Index = q.Default
	}
	return q
}

// Names lists the distinct queue names of q (after Filled), in the order
// LLM, Default, Webhooks, Index.
func (q Queues) Names() []string {
	q = q.Filled()
	var names []string
	for _, n := range []string{q.LLM, q.Default, q.Webhooks, q.Index} {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// Retry and time limits of each task type.
const (
	TranscriptMaxRetry = 8
	TranscriptTimeout  = 15 * time.Minute
	WebhookTimeout     = 30 * time.Second
	IndexMaxRetry      = 10
	IndexTimeout       = 2 * time.Minute
)

// WebhookRetrySchedule is how long a failed webhook delivery waits before
// each retry: the n-th entry after the n-th failed attempt (the worker adds
// up to a tenth of jitter). The waits add up to 27 h 51.5 min, so an
// endpoint that is down for a day still gets every event.
var WebhookRetrySchedule = [...]time.Duration{
	30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
}

// WebhookMaxRetry is how many times a delivery is retried after its first
// attempt: one retry per entry of WebhookRetrySchedule.
const WebhookMaxRetry = len(WebhookRetrySchedule)

// WebhookRetryDelay is the wait before retry n+1 of a delivery whose
// attempts have failed n+1 times (n counts from 0, as asynq's
// RetryDelayFunc does); past the schedule's end it is the last entry.
func WebhookRetryDelay(n int) time.Duration {
	return WebhookRetrySchedule[min(max(n, 0), len(WebhookRetrySchedule)-1)]
}

// TranscriptPayload names the transcript to process.
type TranscriptPayload struct {
	OrgID        string `json:"org_id"`
	TranscriptID string `json:"transcript_id"`
}

// WebhookPayload names the delivery to send.
type WebhookPayload struct {
	OrgID      string `json:"org_id"`
	DeliveryID string `json:"delivery_id"`
}

// ActivityPayload names the activity to index.
type ActivityPayload struct {
	OrgID      string `json:"org_id"`
	ActivityID string `json:"activity_id"`
}

// ParseActivityPayload decodes and checks a payload.
func ParseActivityPayload(b []byte) (ActivityPayload, error) {
	var p ActivityPayload
	if err := strictJSON(b, &p); err != nil {
		return p, fmt.Errorf("queue: %s payload: %w", TypeActivityIndex, err)
	}
	if !crm.ValidID(p.OrgID) || !crm.ValidID(p.ActivityID) {
		return p, fmt.Errorf("queue: %s payload: org_id and activity_id must be IDs", TypeActivityIndex)
	}
	return p, nil
}

// NewTranscriptProcessTask returns the task for a transcript.
func NewTranscriptProcessTask(p TranscriptPayload) (*asynq.Task, error) {
	return newTask(TypeTranscriptProcess, p)
}

// NewWebhookDeliverTask returns the task for a delivery.
func NewWebhookDeliverTask(p WebhookPayload) (*asynq.Task, error) {
	return newTask(TypeWebhookDeliver, p)
}

func newTask(typ string, p any) (*asynq.Task, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("queue: marshal %s payload: %w", typ, err)
	}
	return asynq.NewTask(typ, b), nil
}

// ParseTranscriptPayload decodes and checks a payload. A bad payload can
// never succeed: handlers wrap this error in asynq.SkipRetry.
func ParseTranscriptPayload(b []byte) (TranscriptPayload, error) {
	var p TranscriptPayload
	if err := strictJSON(b, &p); err != nil {
		return p, fmt.Errorf("queue: %s payload: %w", TypeTranscriptProcess, err)
	}
	if !crm.ValidID(p.OrgID) || !crm.ValidID(p.TranscriptID) {
		return p, fmt.Errorf("queue: %s payload: org_id and transcript_id must be IDs", TypeTranscriptProcess)
	}
	return p, nil
}

// ParseWebhookPayload decodes and checks a payload.
func ParseWebhookPayload(b []byte) (WebhookPayload, error) {
	var p WebhookPayload
	if err := strictJSON(b, &p); err != nil {
		return p, fmt.Errorf("queue: %s payload: %w", TypeWebhookDeliver, err)
	}
	if !crm.ValidID(p.OrgID) || !crm.ValidID(p.DeliveryID) {
		return p, fmt.Errorf("queue: %s payload: org_id and delivery_id must be IDs", TypeWebhookDeliver)
	}
	return p, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Enqueuer puts tasks on Redis. Every task carries a TaskID (the
// transcript or delivery ID), so enqueueing the same work twice is a no-op.
type Enqueuer struct {
	client *asynq.Client
	insp   *asynq.Inspector
	q      Queues
}

// NewEnqueuer returns an Enqueuer on rdb. Closing it does not close rdb.
func NewEnqueuer(rdb redis.UniversalClient, q Queues) *Enqueuer {
	return &Enqueuer{client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), q: q.Filled()}
}

// Queues returns the queue names this Enqueuer uses (Filled).
func (e *Enqueuer) Queues() Queues { return e.q }

// Close releases the Enqueuer.
func (e *Enqueuer) Close() error { return e.client.Close() }

// EnqueueTranscript queues processing of a transcript. A task already
// pending, scheduled, retrying or running for it is left alone (it reads the
// transcript's latest revision when it runs); an archived or completed one is
// replaced, so a re-post after a permanent failure processes again.
func (e *Enqueuer) EnqueueTranscript(ctx context.Context, orgID, transcriptID string) error {
	t, err := NewTranscriptProcessTask(TranscriptPayload{OrgID: orgID, TranscriptID: transcriptID})
	if err != nil {
		return err
	}
	return e.enqueue(ctx, t, transcriptID, e.q.LLM,
		asynq.MaxRetry(TranscriptMaxRetry), asynq.Timeout(TranscriptTimeout))
}

// EnqueueWebhook queues a webhook delivery on the Webhooks queue. A task
// already waiting or retrying for it is left alone, so the reconciler can
// call this for every pending delivery without disturbing the backoff.
func (e *Enqueuer) EnqueueWebhook(ctx context.Context, orgID, deliveryID string) error {
	t, err := NewWebhookDeliverTask(WebhookPayload{OrgID: orgID, DeliveryID: deliveryID})
	if err != nil {
		return err
	}
	return e.enqueue(ctx, t, deliveryID, e.q.Webhooks,
		asynq.MaxRetry(WebhookMaxRetry), asynq.Timeout(WebhookTimeout))
}

// RedeliverWebhook queues a delivery to be sent now: like EnqueueWebhook,
// except that a task waiting for its next retry (or scheduled) is made to
// run at once. A task running now is left to finish.
func (e *Enqueuer) RedeliverWebhook(ctx context.Context, orgID, deliveryID string) error {
	if err := e.EnqueueWebhook(ctx, orgID, deliveryID); err != nil {
		return err
	}
	info, err := e.insp.GetTaskInfo(e.q.Webhooks, deliveryID)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return nil // already run and gone
	}
	if err != nil {
		return fmt.Errorf("queue: inspect %s %s: %w", TypeWebhookDeliver, deliveryID, err)
	}
	if info.State == asynq.TaskStateRetry || info.State == asynq.TaskStateScheduled {
		if err := e.insp.RunTask(e.q.Webhooks, deliveryID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return fmt.Errorf("queue: run %s %s now: %w", TypeWebhookDeliver, deliveryID, err)
		}
	}
	return nil
}

// EnqueueActivityIndex queues indexing of an activity's own text. A task
// already waiting for it is left alone: it reads the activity when it runs.
func (e *Enqueuer) EnqueueActivityIndex(ctx context.Context, orgID, activityID string) error {
	t, err := newTask(TypeActivityIndex, ActivityPayload{OrgID: orgID, ActivityID: activityID})
	if err != nil {
		return err
	}
	return e.enqueue(ctx, t, "index:"+activityID, e.q.Index,
		asynq.MaxRetry(IndexMaxRetry), asynq.Timeout(IndexTimeout))
}

func (e *Enqueuer) enqueue(ctx context.Context, t *asynq.Task, id, queue string, opts ...asynq.Option) error {
	opts = append(opts, asynq.TaskID(id), asynq.Queue(queue))
	for attempt := 0; ; attempt++ {
		_, err := e.client.EnqueueContext(ctx, t, opts...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("queue: enqueue %s %s: %w", t.Type(), id, err)
		}
		info, ierr := e.insp.GetTaskInfo(queue, id)
		if errors.Is(ierr, asynq.ErrTaskNotFound) && attempt < 2 {
			continue // it finished between the two calls
		}
		if ierr != nil {
			return fmt.Errorf("queue: inspect %s %s: %w", t.Type(), id, ierr)
		}
		switch info.State {
		case asynq.TaskStateArchived, asynq.TaskStateCompleted:
			if attempt >= 2 {
				return fmt.Errorf("queue: enqueue %s %s: conflict persists", t.Type(), id)
			}
			if err := e.insp.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return fmt.Errorf("queue: replace %s %s: %w", t.Type(), id, err)
			}
		default:
			return nil // already queued or running
		}
	}
}

// Inspector looks at and cleans up queues.
type Inspector struct{ insp *asynq.Inspector }

// NewInspector returns an Inspector on rdb.
func NewInspector(rdb redis.UniversalClient) *Inspector {
	return &Inspector{insp: asynq.NewInspectorFromRedisClient(rdb)}
}

// DeleteQueues removes q's queues and every task in them (the demo's
// private queues when it ends). A queue that was never used is fine.
func (i *Inspector) DeleteQueues(q Queues) error {
	var errs []error
	for _, name := range q.Names() {
		if err := i.insp.DeleteQueue(name, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
