// Package capture runs Logbook's connectors: the sources that log
// activities without anyone typing them. It owns what every kind shares:
// the registry of kinds (each checks its own configuration and syncs in
// its own package: capture/mail, capture/calendar, capture/notetaker),
// connector create and change with secrets sealed by internal/secretbox,
// the scheduler that enqueues due syncs, the connector:sync task (a lease
// so one run at a time, checkpoints so a killed run loses nothing, health
// recorded after every run) and the health summary /readyz and the
// metrics read.
package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
)

// Kind is one kind of connector.
type Kind struct {
	// Check validates a create's or an update's config and secrets and
	// returns the config to store (normalised, defaults filled) and the
	// secrets to seal. On update, old is the stored config and secrets is
	// nil when the request changed none (return nil to keep the stored
	// ones); cfg is nil when the request left the config alone. Problems
	// are a *crm.ValidationError with fields under "config." or "secrets.".
	Check func(cfg, old json.RawMessage, secrets json.RawMessage) (json.RawMessage, map[string]string, error)
	// Sync pulls what is new since run.State (or the backfill run.Range)
	// and writes it; nil for kinds that only their vendor's ping drives.
	// Its error is what the connector's health shows: make it readable
	// ("login refused for rep@example.com: authentication failed").
	Sync func(ctx context.Context, run *Run) error
}

// Config is what a Service needs. Store is required; Box may have no key
// (then connectors with secrets cannot be created).
type Config struct {
	Store    *store.Store
	Box      *secretbox.Box
	Enqueuer *queue.Enqueuer
	Logger   *slog.Logger
	// ScheduleEvery is how often the scheduler looks for due syncs
	// (default 10s).
	ScheduleEvery time.Duration
	// Lease is how long a run may go without a checkpoint before another
	// may take over (default queue.ConnectorSyncTimeout).
	Lease time.Duration
}

// Service runs connectors.
type Service struct {
	cfg   Config
	log   *slog.Logger
	kinds map[crm.ConnectorKind]Kind
}

// New returns a Service with no kinds registered.
func New(cfg Config) *Service {
	if cfg.ScheduleEvery <= 0 {
		cfg.ScheduleEvery = 10 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = queue.ConnectorSyncTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log, kinds: map[crm.ConnectorKind]Kind{}}
}

// Register adds a kind. Registering a kind twice panics (a wiring bug).
func (s *Service) Register(k crm.ConnectorKind, kind Kind) {
	if _, dup := s.kinds[k]; dup {
		panic(fmt.Sprintf("capture: kind %q registered twice", k))
	}
	if kind.Check == nil {
		panic(fmt.Sprintf("capture: kind %q has no Check", k))
	}
	s.kinds[k] = kind
}

// Kinds lists the registered kinds, sorted.
func (s *Service) Kinds() []crm.ConnectorKind {
	out := make([]crm.ConnectorKind, 0, len(s.kinds))
	for k := range s.kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Store returns the service's store.
func (s *Service) Store() *store.Store { return s.cfg.Store }

// aad binds a connector's sealed secret to its row.
func aad(orgID, id string) string { return "connector:" + orgID + ":" + id }

// Create validates in (generic fields, then the kind's config and
// secrets), seals the secrets and stores the connector. A pulled
// connector is due at once.
func (s *Service) Create(ctx context.Context, orgID string, in crm.ConnectorInput) (crm.Connector, error) {
	if err := in.Validate(true); err != nil {
		return crm.Connector{}, err
	}
	kind, ok := s.kinds[in.Kind.V]
	if !ok {
		return crm.Connector{}, crm.Invalid("kind", "%q is not available on this server", in.Kind.V)
	}
	cfg := in.Config.V
	if !in.Config.Set {
		cfg = json.RawMessage(`{}`)
	}
	var secrets json.RawMessage
	if in.Secrets.Set && !in.Secrets.Null {
		secrets = in.Secrets.V
	}
	stored, sec, err := kind.Check(cfg, nil, secrets)
	if err != nil {
		return crm.Connector{}, err
	}
	// The ID is needed to seal (the secret is bound to its row), so
	// create the row first and seal in the same transaction.
	var out crm.Connector
	err = s.cfg.Store.WithTx(ctx, func(tx *store.Store) error {
		w := store.ConnectorWrite{Kind: in.Kind.V, Name: in.Name.Ptr(), UserID: in.UserID.Ptr(), Config: stored,
			Enabled: in.Enabled.Ptr(), IntervalSeconds: in.IntervalSeconds.Ptr()}
		r, err := tx.ConnectorCreate(ctx, orgID, w)
		if err != nil {
			return err
		}
		out = r.Connector
		if len(sec) == 0 {
			return nil
		}
		sealed, names, err := s.seal(orgID, r.ID, sec)
		if err != nil {
			return err
		}
		r, err = tx.ConnectorUpdate(ctx, orgID, r.ID, store.ConnectorWrite{Secret: sealed, SecretNames: names})
		out = r.Connector
		return err
	})
	if err != nil {
		return crm.Connector{}, err
	}
	s.kick(ctx, orgID, out)
	return out, nil
}

// ErrNoSecretKey is returned when a connector needs secrets and the server
// has no LOGBOOK_SECRET_KEY: the API answers it as a clear 422 on secrets.
var ErrNoSecretKey = errors.New("this server has no LOGBOOK_SECRET_KEY, so it cannot store connector secrets")

func (s *Service) seal(orgID, id string, sec map[string]string) ([]byte, []string, error) {
	if !s.cfg.Box.Configured() {
		return nil, nil, crm.Invalid("secrets", "%s", ErrNoSecretKey.Error())
	}
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, nil, fmt.Errorf("capture: seal: %w", err)
	}
	sealed, err := s.cfg.Box.Seal(b, aad(orgID, id))
	if err != nil {
		return nil, nil, fmt.Errorf("capture: seal: %w", err)
	}
	names := make([]string, 0, len(sec))
	for k := range sec {
		names = append(names, k)
	}
	sort.Strings(names)
	return sealed, names, nil
}

// Open returns a connector's secrets (an empty map when it has none).
func (s *Service) Open(r store.ConnectorRecord) (map[string]string, error) {
	out := map[string]string{}
	if len(r.Secret) == 0 {
		return out, nil
	}
	b, err := s.cfg.Box.Open(r.Secret, aad(r.OrgID, r.ID))
	if err != nil {
		if errors.Is(err, secretbox.ErrNoKey) {
			return nil, ErrNoSecretKey
		}
		return nil, errors.New("the stored secrets do not open with this server's LOGBOOK_SECRET_KEY: set the key they were stored with (or enter the secrets again)")
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("capture: stored secrets: %w", err)
	}
	return out, nil
}

// Update changes a connector. A changed config starts its sync over from
// nothing (items already captured are not captured twice).
func (s *Service) Update(ctx context.Context, orgID, id string, in crm.ConnectorInput) (crm.Connector, error) {
	if err := in.Validate(false); err != nil {
		return crm.Connector{}, err
	}
	var out crm.Connector
	err := s.cfg.Store.WithTx(ctx, func(tx *store.Store) error {
		cur, err := tx.ConnectorGet(ctx, orgID, id)
		if err != nil {
			return err
		}
		kind, ok := s.kinds[cur.Kind]
		if !ok {
			return crm.Invalid("kind", "%q is not available on this server", cur.Kind)
		}
		w := store.ConnectorWrite{Name: in.Name.Ptr(), Enabled: in.Enabled.Ptr(), IntervalSeconds: in.IntervalSeconds.Ptr()}
		if in.UserID.Set {
			w.UserID, w.ClearUser = in.UserID.Ptr(), in.UserID.Null
		}
		var cfg, secrets json.RawMessage
		if in.Config.Set {
			cfg = in.Config.V
		}
		if in.Secrets.Set && !in.Secrets.Null {
			secrets = in.Secrets.V
		}
		if cfg != nil || secrets != nil {
			stored, sec, err := kind.Check(cfg, cur.Config, secrets)
			if err != nil {
				return err
			}
			if cfg != nil && !sameJSON(stored, cur.Config) {
				w.Config, w.ResetState = stored, true
			}
			if sec != nil {
				w.Secret, w.SecretNames, err = s.seal(orgID, id, sec)
				if err != nil {
					return err
				}
			}
		}
		r, err := tx.ConnectorUpdate(ctx, orgID, id, w)
		out = r.Connector
		return err
	})
	if err != nil {
		return crm.Connector{}, err
	}
	s.kick(ctx, orgID, out)
	return out, nil
}

// sameJSON reports whether a and b are the same JSON value (the stored
// config comes back from jsonb with its keys reordered and spaced).
func sameJSON(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// kick enqueues a first sync of a pulled connector at once; if Redis is
// down the scheduler does it later.
func (s *Service) kick(ctx context.Context, orgID string, c crm.Connector) {
	if !c.Kind.Pulled() || !c.Enabled || s.cfg.Enqueuer == nil {
		return
	}
	if err := s.cfg.Enqueuer.EnqueueConnectorSync(ctx, queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: c.ID}); err != nil {
		s.log.WarnContext(ctx, "enqueue connector sync", slog.String("connector_id", c.ID), slog.Any("error", err))
	}
}

// Resync backfills a pulled connector's items between from and to (to
// zero: now). Items already captured are not captured again.
func (s *Service) Resync(ctx context.Context, orgID, id string, from, to time.Time) (crm.Connector, error) {
	r, err := s.cfg.Store.ConnectorGet(ctx, orgID, id)
	if err != nil {
		return crm.Connector{}, err
	}
	if !r.Kind.Pulled() {
		return crm.Connector{}, crm.Invalid("kind", "a %s connector is driven by its vendor's webhooks and has nothing to resync", r.Kind)
	}
	if !r.Enabled {
		return crm.Connector{}, &crm.ConflictError{Field: "enabled", Detail: "the connector is disabled; enable it first"}
	}
	if s.cfg.Enqueuer == nil {
		return crm.Connector{}, errors.New("capture: resync needs an Enqueuer")
	}
	p := queue.ConnectorSyncPayload{OrgID: orgID, ConnectorID: id, From: &from}
	if !to.IsZero() {
		p.To = &to
	}
	if err := s.cfg.Enqueuer.EnqueueConnectorSync(ctx, p); err != nil {
		return crm.Connector{}, err
	}
	return r.Connector, nil
}

// Range is a backfill's range of item times: From inclusive, To exclusive
// (zero To: now).
type Range struct {
	From, To time.Time
}

// Run is one sync of one connector, as a kind's Sync sees it.
type Run struct {
	// Connector is the connector as stored (its config in Config).
	Connector store.ConnectorRecord
	// Secrets are the opened secrets.
	Secrets map[string]string
	// State is the watermark the last run left (or {}).
	State json.RawMessage
	// Range is set for a backfill: fetch items in it again, whatever the
	// watermark; nil is an incremental sync.
	Range *Range
	Log   *slog.Logger

	svc        *Service
	token      string
	progress   store.ConnectorProgress
	deliveries []string
}

// Deliver hands the run the webhook deliveries its writes stored (the
// activity.created outbox rows activity.Service.Upsert returns): they are
// enqueued when the run ends, so subscribers hear of captured activities
// at once rather than at the reconciler's next pass.
func (r *Run) Deliver(ids []string) { r.deliveries = append(r.deliveries, ids...) }

// Captured counts n newly captured items, the newest of them at at (zero:
// unknown). Items that were already on record do not count.
func (r *Run) Captured(n int, at time.Time) {
	r.progress.Items += n
	if !at.IsZero() && (r.progress.NewestItemAt == nil || at.After(*r.progress.NewestItemAt)) {
		t := at
		r.progress.NewestItemAt = &t
	}
}

// Checkpoint saves the new watermark (state, marshalled to JSON; nil keeps
// the stored one) with the counts so far, and extends the lease. Call it
// after the items it covers are written: a run killed after a checkpoint
// goes on from it, and one killed before it fetches those items again,
// which writes nothing twice (activities are idempotent). An error means
// the run must stop.
func (r *Run) Checkpoint(ctx context.Context, state any) error {
	if state != nil {
		b, err := json.Marshal(state)
		if err != nil {
			return fmt.Errorf("capture: checkpoint: %w", err)
		}
		r.progress.State = b
		r.State = b
	}
	err := r.svc.cfg.Store.ConnectorCheckpoint(ctx, r.Connector.OrgID, r.Connector.ID, r.token, r.progress, r.svc.cfg.Lease)
	if err != nil {
		return err
	}
	r.progress = store.ConnectorProgress{}
	return nil
}

// HandleSync is the connector:sync task handler.
func (s *Service) HandleSync(ctx context.Context, t *asynq.Task) error {
	p, err := queue.ParseConnectorSyncPayload(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return s.SyncNow(ctx, p)
}

// SyncNow runs one sync of the connector p names, in this goroutine. A
// connector another run holds is left to it (nil), except a backfill,
// which is retried later. A failed sync is recorded on the connector (its
// health) and returns nil: the schedule runs it again; errors returned are
// the store's own.
func (s *Service) SyncNow(ctx context.Context, p queue.ConnectorSyncPayload) error {
	log := s.log.With(slog.String("org_id", p.OrgID), slog.String("connector_id", p.ConnectorID))
	rec, token, err := s.cfg.Store.ConnectorClaim(ctx, p.OrgID, p.ConnectorID, s.cfg.Lease)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		log.InfoContext(ctx, "connector sync skipped: connector gone or disabled")
		return nil
	case errors.Is(err, store.ErrLeaseHeld):
		if p.From != nil {
			return fmt.Errorf("capture: backfill waits for the running sync: %w", err)
		}
		return nil
	case err != nil:
		return err
	}
	run := &Run{Connector: rec, State: rec.State, Log: log, svc: s, token: token}
	if p.From != nil {
		run.Range = &Range{From: *p.From}
		if p.To != nil {
			run.Range.To = *p.To
		}
	}
	runErr := s.sync(ctx, run)
	if errors.Is(runErr, store.ErrLeaseHeld) {
		log.WarnContext(ctx, "connector sync lost its lease to another run")
		return nil
	}
	if runErr != nil {
		log.WarnContext(ctx, "connector sync failed", slog.String("kind", string(rec.Kind)), slog.Any("error", runErr))
	}
	next := time.Now().Add(time.Duration(rec.IntervalSeconds) * time.Second)
	if ctx.Err() != nil {
		// Shutting down: record nothing as a failure of the source, and
		// let the next worker pick it up at once.
		ctx = context.WithoutCancel(ctx)
		runErr, next = nil, time.Time{}
	}
	if err := s.cfg.Store.ConnectorFinish(ctx, rec.OrgID, rec.ID, token, run.progress, runErr, next); err != nil && !errors.Is(err, store.ErrLeaseHeld) {
		return err
	}
	s.deliver(ctx, log, rec.OrgID, run.deliveries)
	return nil
}

// deliver enqueues webhook deliveries; one Redis refuses is left to the
// worker's reconciler, which enqueues every pending delivery.
func (s *Service) deliver(ctx context.Context, log *slog.Logger, orgID string, ids []string) {
	if s.cfg.Enqueuer == nil {
		return
	}
	for _, id := range ids {
		if err := s.cfg.Enqueuer.EnqueueWebhook(ctx, orgID, id); err != nil {
			log.WarnContext(ctx, "enqueue webhook delivery; the reconciler will retry", slog.Any("error", err))
			return
		}
	}
}

func (s *Service) sync(ctx context.Context, run *Run) (err error) {
	kind, ok := s.kinds[run.Connector.Kind]
	if !ok || kind.Sync == nil {
		return fmt.Errorf("this server cannot sync %s connectors", run.Connector.Kind)
	}
	run.Secrets, err = s.Open(run.Connector)
	run.Connector.Secret = nil
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error while syncing (reported in the worker's log): %v", p)
			run.Log.ErrorContext(ctx, "connector sync panicked", slog.Any("panic", p))
		}
	}()
	return kind.Sync(ctx, run)
}

// Schedule enqueues a sync for every due connector, every ScheduleEvery,
// until ctx ends.
func (s *Service) Schedule(ctx context.Context) {
	t := time.NewTicker(s.cfg.ScheduleEvery)
	defer t.Stop()
	for {
		if err := s.EnqueueDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "connector scheduler", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EnqueueDue enqueues a sync for each due connector (one pass of Schedule).
func (s *Service) EnqueueDue(ctx context.Context) error {
	refs, err := s.cfg.Store.ConnectorsDue(ctx, 500)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range refs {
		if err := s.cfg.Enqueuer.EnqueueConnectorSync(ctx, queue.ConnectorSyncPayload{OrgID: r.OrgID, ConnectorID: r.ID}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
