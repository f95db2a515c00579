package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"logbook/activity"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// webhook creates a webhook of the bundle's org subscribed to events.
func (b *activityBundle) webhook(events ...string) crm.Webhook {
	b.t.Helper()
	w, err := b.store.WebhookCreate(b.ctx, b.orgID, crm.WebhookInput{URL: "https://hooks.example.test/" + store.NewID(), Events: events})
	require.NoError(b.t, err)
	return w
}

// deliveries lists the IDs of the org's webhook deliveries, oldest first.
func (b *activityBundle) deliveries() []string {
	b.t.Helper()
	rows, err := b.tx.Query(b.ctx, `SELECT id::text FROM webhook_deliveries WHERE org_id = $1 ORDER BY id`, b.orgID)
	require.NoError(b.t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(b.t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(b.t, rows.Err())
	return ids
}

// deliveryPayload is the body a delivery will be sent with.
type deliveryPayload struct {
	Event     string          `json:"event"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// payload loads a delivery as the worker would, and decodes its body.
func (b *activityBundle) payload(id string) (store.WebhookSend, deliveryPayload) {
	b.t.Helper()
	d, err := b.store.WebhookDeliveryForSend(b.ctx, b.orgID, id)
	require.NoError(b.t, err)
	var p deliveryPayload
	require.NoError(b.t, json.Unmarshal(d.Payload, &p))
	return d, p
}

func TestWebhookCreate(t *testing.T) {
	t.Parallel()

	// Validation is the API's (api/webhooks.go): the store keeps what it
	// is given.
	t.Run("StoresWhatItIsGiven", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w, err := b.store.WebhookCreate(b.ctx, b.orgID, crm.WebhookInput{URL: "HTTPS://Hooks.Example.Test/x?y=1",
			Events: []string{store.EventActivityCreated}})
		require.NoError(t, err)
		got, err := b.store.WebhookGet(b.ctx, b.orgID, w.ID)
		require.NoError(t, err)
		require.Equal(t, "HTTPS://Hooks.Example.Test/x?y=1", got.URL)
	})

	t.Run("LimitPerOrg", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		in := crm.WebhookInput{URL: "https://hooks.example.test/", Events: []string{store.EventActivityCreated}}
		for range 3 {
			_, err := b.store.WebhookCreateLimited(b.ctx, b.orgID, in, 3)
			require.NoError(t, err)
		}
		_, err := b.store.WebhookCreateLimited(b.ctx, b.orgID, in, 3)
		var ce *crm.ConflictError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, crm.ErrConflict)
		require.Contains(t, ce.Detail, "already has 3 webhooks")
		list, err := b.store.WebhookList(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Len(t, list, 3, "the refused one was not stored")

		other := activitySetupOrg(t, b)
		_, err = b.store.WebhookCreateLimited(b.ctx, other.orgID, in, 3)
		require.NoError(t, err, "the limit is per org")
		require.NoError(t, b.store.WebhookDelete(b.ctx, b.orgID, list[0].ID))
		_, err = b.store.WebhookCreateLimited(b.ctx, b.orgID, in, 3)
		require.NoError(t, err, "a deleted webhook frees its place")
	})

	// Concurrent creates take the last place one at a time.
	t.Run("LimitHoldsUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := store.New(testdb.Schema(t))
		org, err := s.OrgCreate(ctx, "Concurrent")
		require.NoError(t, err)
		in := crm.WebhookInput{URL: "https://hooks.example.test/", Events: []string{store.EventActivityCreated}}
		const limit, tries = 4, 12
		errs := make(chan error, tries)
		for range tries {
			go func() {
				_, err := s.WebhookCreateLimited(ctx, org.ID, in, limit)
				errs <- err
			}()
		}
		ok := 0
		for range tries {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			require.ErrorIs(t, err, crm.ErrConflict)
		}
		require.Equal(t, limit, ok)
		list, err := s.WebhookList(ctx, org.ID)
		require.NoError(t, err)
		require.Len(t, list, limit)
	})

	t.Run("ChosenSecretIsStoredButNeverReturned", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		secret := "a-secret-of-24-characters"
		w, err := b.store.WebhookCreate(b.ctx, b.orgID, crm.WebhookInput{URL: "https://hooks.example.test/in",
			Events: []string{store.EventActivityCreated, store.EventMeetingProcessed}, Secret: &secret})
		require.NoError(t, err)
		require.Empty(t, w.Secret)
		require.Equal(t, "https://hooks.example.test/in", w.URL)
		require.Equal(t, []string{store.EventActivityCreated, store.EventMeetingProcessed}, w.Events)
		require.True(t, crm.ValidID(w.ID))
		require.WithinDuration(t, time.Now(), w.CreatedAt, time.Minute)

		var stored string
		require.NoError(t, b.tx.QueryRow(b.ctx, `SELECT secret FROM webhooks WHERE org_id = $1 AND id = $2`, b.orgID, w.ID).Scan(&stored))
		require.Equal(t, secret, stored)

		got, err := b.store.WebhookGet(b.ctx, b.orgID, w.ID)
		require.NoError(t, err)
		require.Empty(t, got.Secret)
		w.OrgID = got.OrgID
		require.Equal(t, w, got)
	})

	t.Run("MissingSecretIsGeneratedAndShownOnce", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w1 := b.webhook(store.EventMeetingProcessed)
		w2 := b.webhook(store.EventMeetingProcessed)
		require.Len(t, w1.Secret, 43, "32 bytes, base64url without padding")
		require.NotEqual(t, w1.Secret, w2.Secret)
		var stored string
		require.NoError(t, b.tx.QueryRow(b.ctx, `SELECT secret FROM webhooks WHERE org_id = $1 AND id = $2`, b.orgID, w1.ID).Scan(&stored))
		require.Equal(t, w1.Secret, stored)

		list, err := b.store.WebhookList(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, w2.ID, list[0].ID, "newest first")
		for _, w := range list {
			require.Empty(t, w.Secret)
		}
	})
}

func TestWebhookGetDelete(t *testing.T) {
	t.Parallel()

	t.Run("AnotherOrgsWebhookIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		other, err := b.store.OrgCreate(b.ctx, "Other")
		require.NoError(t, err)
		_, err = b.store.WebhookGet(b.ctx, other.ID, w.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.ErrorIs(t, b.store.WebhookDelete(b.ctx, other.ID, w.ID), crm.ErrNotFound)
		_, err = b.store.WebhookDeliveryList(b.ctx, other.ID, w.ID, store.WebhookDeliveryFilter{})
		require.ErrorIs(t, err, crm.ErrNotFound)
		list, err := b.store.WebhookList(b.ctx, other.ID)
		require.NoError(t, err)
		require.Empty(t, list)
		_, err = b.store.WebhookGet(b.ctx, b.orgID, w.ID)
		require.NoError(t, err, "still there for its own org")
	})

	t.Run("DeleteCascadesToDeliveries", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		keep := b.webhook(store.EventActivityCreated)
		b.upsert(map[string]any{"type": "note", "account_id": b.account("Acme"), "occurred_at": "2026-03-02T15:00:00Z"})
		require.Len(t, b.deliveries(), 2)
		require.NoError(t, b.store.WebhookDelete(b.ctx, b.orgID, w.ID))
		require.Len(t, b.deliveries(), 1)
		_, err := b.store.WebhookGet(b.ctx, b.orgID, w.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.ErrorIs(t, b.store.WebhookDelete(b.ctx, b.orgID, w.ID), crm.ErrNotFound)
		page, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, keep.ID, store.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	})
}

func TestWebhookDeliveryList(t *testing.T) {
	t.Parallel()

	t.Run("BadStatusOrCursorIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		_, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{Status: "lost"})
		require.Equal(t, []string{"status"}, problemFields(t, err))
		_, err = b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{Cursor: "nope"})
		require.Equal(t, []string{"cursor"}, problemFields(t, err))
		_, err = b.store.WebhookDeliveryList(b.ctx, b.orgID, store.NewID(), store.WebhookDeliveryFilter{})
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("NewestFirstByKeysetWithStatusFilter", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		acme := b.account("Acme")

		empty, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Equal(t, []crm.WebhookDelivery{}, empty.Items)
		require.Nil(t, empty.NextCursor)

		var made []string
		for i := range 5 {
			_, _, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
				"account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "subject": fmt.Sprint(i)}))
			require.NoError(t, err)
			require.Len(t, ds, 1)
			made = append(made, ds[0])
			time.Sleep(2 * time.Millisecond) // distinct milliseconds, so UUIDv7 order is creation order
		}
		code := 200
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, made[1], store.WebhookAttempt{Code: &code, Status: crm.DeliveryDelivered}))
		code = 500
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, made[3], store.WebhookAttempt{Code: &code, Error: "endpoint answered 500", Status: crm.DeliveryPending}))

		var got []string
		f := store.WebhookDeliveryFilter{Limit: 2}
		for range 10 {
			page, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Items), 2)
			for _, d := range page.Items {
				got = append(got, d.ID)
			}
			if page.NextCursor == nil {
				break
			}
			f.Cursor = *page.NextCursor
		}
		want := slices.Clone(made)
		slices.Reverse(want)
		require.Equal(t, want, got, "newest first, every delivery once")

		delivered, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{Status: crm.DeliveryDelivered})
		require.NoError(t, err)
		require.Len(t, delivered.Items, 1)
		d := delivered.Items[0]
		require.Equal(t, made[1], d.ID)
		require.Equal(t, store.EventActivityCreated, d.Event)
		require.Equal(t, crm.DeliveryDelivered, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, 200, *d.LastStatusCode)
		require.Nil(t, d.LastError)
		require.NotNil(t, d.DeliveredAt)
		require.Equal(t, time.UTC, d.CreatedAt.Location())

		pending, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{Status: crm.DeliveryPending})
		require.NoError(t, err)
		require.Len(t, pending.Items, 4)
		retried := pending.Items[slices.IndexFunc(pending.Items, func(d crm.WebhookDelivery) bool { return d.ID == made[3] })]
		require.Equal(t, 500, *retried.LastStatusCode)
		require.Equal(t, "endpoint answered 500", *retried.LastError)
		require.Nil(t, retried.DeliveredAt)
		fresh := pending.Items[0]
		require.Equal(t, 0, fresh.Attempts)
		require.Nil(t, fresh.LastStatusCode)

		failed, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, w.ID, store.WebhookDeliveryFilter{Status: crm.DeliveryFailed})
		require.NoError(t, err)
		require.Empty(t, failed.Items)
	})
}

// TestActivityCreatedOutbox checks that a created activity and its
// activity.created deliveries are written together, and nothing else writes
// them.
func TestActivityCreatedOutbox(t *testing.T) {
	t.Parallel()

	t.Run("BatchRefusedWritesNone", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		b.webhook(store.EventActivityCreated)
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, []crm.ActivityInput{
			activityIn(t, map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}),
			activityIn(t, map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
				"deal_id": store.NewID()}),
		})
		require.ErrorIs(t, err, crm.ErrInvalid)
		require.Empty(t, b.deliveries())
		require.Zero(t, b.rows())
	})

	t.Run("BatchWritesOnePerCreatedItemAndWebhook", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		w1 := b.webhook(store.EventActivityCreated)
		w2 := b.webhook(store.EventMeetingProcessed, store.EventActivityCreated)
		b.webhook(store.EventMeetingProcessed)

		const n = 7
		var ins []crm.ActivityInput
		for i := range n {
			m := map[string]any{"type": "email", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "subject": fmt.Sprint(i)}
			if i%2 == 0 { // both statements: keyed rows upsert, the others insert
				m["source"], m["external_id"] = "email_sync", fmt.Sprintf("msg-%d", i)
			}
			ins = append(ins, activityIn(t, m))
		}
		out, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, ins)
		require.NoError(t, err)
		var all []string
		for _, o := range out {
			require.Equal(t, store.UpsertCreated, o.Result)
			require.Len(t, o.DeliveryIDs, 2)
			for _, id := range o.DeliveryIDs {
				d, p := b.payload(id)
				require.Contains(t, []string{w1.ID, w2.ID}, d.WebhookID)
				var data struct {
					ActivityID string `json:"activity_id"`
				}
				require.NoError(t, json.Unmarshal(p.Data, &data))
				require.Equal(t, o.ID, data.ActivityID, "the delivery is the item's")
			}
			all = append(all, o.DeliveryIDs...)
		}
		slices.Sort(all)
		require.Equal(t, all, b.deliveries())
		require.Len(t, all, n*2)

		// The same batch again: unchanged keyed rows write nothing, the
		// unkeyed ones are new activities.
		again, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, ins)
		require.NoError(t, err)
		for i, o := range again {
			if i%2 == 0 {
				require.Equal(t, store.UpsertUnchanged, o.Result)
				require.Empty(t, o.DeliveryIDs)
			} else {
				require.Len(t, o.DeliveryIDs, 2)
			}
		}
		require.Len(t, b.deliveries(), n*2+(n/2)*2)

		// Changed content updates: no deliveries.
		ins[0] = activityIn(t, map[string]any{"type": "email", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"subject": "changed", "source": "email_sync", "external_id": "msg-0"})
		changed, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, ins[:1])
		require.NoError(t, err)
		require.Equal(t, store.UpsertUpdated, changed[0].Result)
		require.Empty(t, changed[0].DeliveryIDs)
		require.Len(t, b.deliveries(), n*2+(n/2)*2)
	})

	t.Run("DealReassignRecordsTheHandoff", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		acme := b.account("Acme")
		deal := b.deal(acme)
		lee := b.user("lee@seller.test")
		_, act, ds, err := b.store.DealReassign(b.ctx, b.orgID, deal, crm.ReassignInput{OwnerID: lee}, nil)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.Equal(t, ds, b.deliveries())
		d, p := b.payload(ds[0])
		require.Equal(t, w.ID, d.WebhookID)
		require.Equal(t, store.EventActivityCreated, p.Event)
		require.JSONEq(t, fmt.Sprintf(`{"activity_id":%q,"account_id":%q,"type":"handoff","occurred_at":%q,
			"source":"api","external_id":null}`, act.ID, acme, act.OccurredAt.Format(time.RFC3339Nano)), string(p.Data))

		// A refused reassignment writes nothing.
		_, _, _, err = b.store.DealReassign(b.ctx, b.orgID, deal, crm.ReassignInput{OwnerID: lee}, nil)
		require.ErrorIs(t, err, crm.ErrInvalid)
		require.Len(t, b.deliveries(), 1)
	})

	t.Run("NoSubscribedWebhookWritesNone", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		b.webhook(store.EventMeetingProcessed)
		_, res, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
			"account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}))
		require.NoError(t, err)
		require.Equal(t, store.UpsertCreated, res)
		require.Empty(t, ds)
		require.Empty(t, b.deliveries())

		// Another org's webhook is not this org's subscriber.
		other := activitySetupOrg(t, b)
		other.webhook(store.EventActivityCreated)
		_, _, ds, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
			"account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}))
		require.NoError(t, err)
		require.Empty(t, ds)
		require.Empty(t, other.deliveries())
	})

	t.Run("OnAPoolTheStatementAloneIsTheOutbox", func(t *testing.T) {
		t.Parallel()
		// On a pool the single-row path runs without a transaction of its
		// own: the statement alone must be the outbox.
		ctx := context.Background()
		s := store.New(testdb.Schema(t))
		org, err := s.OrgCreate(ctx, "Pool")
		require.NoError(t, err)
		acc, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
		require.NoError(t, err)
		_, err = s.WebhookCreate(ctx, org.ID, crm.WebhookInput{URL: "https://hooks.example.test/", Events: []string{store.EventActivityCreated}})
		require.NoError(t, err)
		fields := map[string]any{"type": "call", "direction": "outbound", "disposition": "connected", "account_id": acc.ID,
			"occurred_at": "2026-03-02T15:00:00Z", "source": "dialer", "external_id": "call-1"}
		_, res, ds, err := activity.New(s).Upsert(ctx, org.ID, activityIn(t, fields))
		require.NoError(t, err)
		require.Equal(t, store.UpsertCreated, res)
		require.Len(t, ds, 1)
		_, err = s.WebhookDeliveryForSend(ctx, org.ID, ds[0])
		require.NoError(t, err, "committed with the activity")
		_, res, ds, err = activity.New(s).Upsert(ctx, org.ID, activityIn(t, fields))
		require.NoError(t, err)
		require.Equal(t, store.UpsertUnchanged, res)
		require.Empty(t, ds)
		_, _, ds, err = activity.New(s).Upsert(ctx, org.ID, activityIn(t, map[string]any{"type": "note", "account_id": acc.ID,
			"occurred_at": "2026-03-02T15:00:00Z"}))
		require.NoError(t, err)
		require.Len(t, ds, 1)
	})

	t.Run("RolledBackOrRefusedCreateWritesNone", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		b.webhook(store.EventActivityCreated)

		// The activity is written, then its transaction rolls back: its
		// deliveries go with it.
		boom := errors.New("boom")
		err := b.store.WithTx(b.ctx, func(tx *store.Store) error {
			_, _, ds, err := activity.New(tx).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
				"account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}))
			require.NoError(t, err)
			require.Len(t, ds, 1)
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Empty(t, b.deliveries())
		require.Zero(t, b.rows())

		// A foreign key refuses the row.
		_, _, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
			"account_id": acme, "deal_id": store.NewID(), "occurred_at": "2026-03-02T15:00:00Z"}))
		require.ErrorIs(t, err, crm.ErrInvalid)
		require.Empty(t, ds)

		// The org's settings refuse the disposition inside the guarded
		// statement.
		_, err = b.store.SettingsUpdate(b.ctx, b.orgID, crm.SettingsInput{RequireDisposition: crm.Some(true)})
		require.NoError(t, err)
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "call",
			"direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}))
		require.ErrorIs(t, err, crm.ErrInvalid)
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "call",
			"direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "disposition": "made_up"}))
		require.ErrorIs(t, err, crm.ErrInvalid)
		require.Empty(t, b.deliveries())
		require.Zero(t, b.rows())
	})

	t.Run("SingleCreateWritesOnePerSubscribedWebhook", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			fields map[string]any
		}{
			{"GuardedDisposition", map[string]any{"type": "call", "direction": "outbound", "disposition": "connected"}},
			{"PlainInsert", map[string]any{"type": "note"}},
			{"ResolvedByParticipants", map[string]any{"type": "meeting", "participants": []map[string]any{{"email": "dana@acme.test"}}}},
			{"UpsertWithExternalID", map[string]any{"type": "email", "source": "email_sync", "external_id": "msg-1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				b := activitySetup(t)
				acme := b.account("Acme", "acme.test")
				w1 := b.webhook(store.EventActivityCreated)
				w2 := b.webhook(store.EventActivityCreated, store.EventMeetingProcessed)
				b.webhook(store.EventMeetingProcessed)
				fields := map[string]any{"occurred_at": "2026-03-02T17:00:00.25+02:00"}
				if tc.fields["participants"] == nil {
					fields["account_id"] = acme
				}
				for k, v := range tc.fields {
					fields[k] = v
				}
				a, res, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, fields))
				require.NoError(t, err)
				require.Equal(t, store.UpsertCreated, res)
				require.Len(t, ds, 2)
				sorted := slices.Sorted(slices.Values(ds))
				require.Equal(t, sorted, b.deliveries())

				var hooks []string
				for _, id := range ds {
					d, p := b.payload(id)
					hooks = append(hooks, d.WebhookID)
					require.Equal(t, store.EventActivityCreated, d.Event)
					require.Equal(t, "pending", d.Status)
					require.Zero(t, d.Attempts)
					require.Equal(t, store.EventActivityCreated, p.Event)
					require.Equal(t, a.CreatedAt.Format(time.RFC3339Nano), p.CreatedAt, "Go's encoding of the time, in UTC")
					require.JSONEq(t, fmt.Sprintf(`{"activity_id":%q,"account_id":%q,"type":%q,"occurred_at":"2026-03-02T15:00:00.25Z",
						"source":%q,"external_id":%s}`, a.ID, acme, a.Type, a.Source, jsonOf(t, a.ExternalID)), string(p.Data))
				}
				require.ElementsMatch(t, []string{w1.ID, w2.ID}, hooks)

				// The same post again is unchanged (keyed) or another
				// activity (not keyed).
				_, res, ds, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, fields))
				require.NoError(t, err)
				if a.ExternalID != nil {
					require.Equal(t, store.UpsertUnchanged, res)
					require.Empty(t, ds)
					require.Len(t, b.deliveries(), 2)

					// New content updates the activity: still no delivery.
					fields["subject"] = "changed"
					_, res, ds, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, fields))
					require.NoError(t, err)
					require.Equal(t, store.UpsertUpdated, res)
					require.Empty(t, ds)
					require.Len(t, b.deliveries(), 2)
				} else {
					require.Equal(t, store.UpsertCreated, res)
					require.Len(t, ds, 2)
				}

				// PATCH is an update too.
				_, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"subject": "patched"}))
				require.NoError(t, err)
				if a.ExternalID != nil {
					require.Len(t, b.deliveries(), 2)
				} else {
					require.Len(t, b.deliveries(), 4)
				}
			})
		}
	})
}

// activitySetupOrg is a second org in b's transaction.
func activitySetupOrg(t *testing.T, b *activityBundle) *activityBundle {
	t.Helper()
	org, err := b.store.OrgCreate(b.ctx, "Other "+t.Name())
	require.NoError(t, err)
	return &activityBundle{t: t, ctx: b.ctx, tx: b.tx, store: b.store, orgID: org.ID}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestIngestSecret(t *testing.T) {
	t.Parallel()

	t.Run("RotateGetDelete", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		_, err := b.store.IngestSecretGet(b.ctx, b.orgID)
		require.ErrorIs(t, err, crm.ErrNotFound, "none until one is made")

		s1, err := b.store.IngestSecretRotate(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Len(t, s1, 43)
		got, err := b.store.IngestSecretGet(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Equal(t, s1, got)

		s2, err := b.store.IngestSecretRotate(b.ctx, b.orgID)
		require.NoError(t, err)
		require.NotEqual(t, s1, s2)
		got, err = b.store.IngestSecretGet(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Equal(t, s2, got, "the old secret stops working at once")

		// The settings are untouched and never show it.
		st, err := b.store.SettingsGet(b.ctx, b.orgID)
		require.NoError(t, err)
		require.Equal(t, crm.DefaultSettings().Dispositions, st.Dispositions)
		raw, err := json.Marshal(st)
		require.NoError(t, err)
		require.NotContains(t, string(raw), s2)

		// Other orgs, real or not, have none.
		other := activitySetupOrg(t, b)
		_, err = b.store.IngestSecretGet(b.ctx, other.orgID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.IngestSecretGet(b.ctx, store.NewID())
		require.ErrorIs(t, err, crm.ErrNotFound)

		require.NoError(t, b.store.IngestSecretDelete(b.ctx, b.orgID))
		_, err = b.store.IngestSecretGet(b.ctx, b.orgID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.NoError(t, b.store.IngestSecretDelete(b.ctx, b.orgID), "deleting none is fine")
	})

	t.Run("SignsAndVerifies", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		secret, err := b.store.IngestSecretRotate(b.ctx, b.orgID)
		require.NoError(t, err)
		body := []byte(`{"source":"zoom"}`)
		now := time.Now()
		got, err := b.store.IngestSecretGet(b.ctx, b.orgID)
		require.NoError(t, err)
		require.NoError(t, crm.VerifySignature(crm.Sign(secret, now, body), got, body, now))
	})
}

func TestWebhookDeliveryAttempts(t *testing.T) {
	t.Parallel()

	// A failed attempt records when its retry is due; the reconciler's
	// list holds only deliveries overdue by more than its grace, so those
	// waiting out a long backoff stay out of it.
	t.Run("DueListSkipsDeliveriesWaitingForTheirRetry", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		b.webhook(store.EventActivityCreated)
		acme := b.account("Acme")
		for i := range 3 {
			b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "subject": fmt.Sprint(i)})
		}
		made := b.deliveries()
		require.Len(t, made, 3)
		// Everything was written in this transaction, at its now(); no
		// delivery is overdue by a grace of a minute, all are by -1 s.
		due, err := b.store.WebhookDeliveriesDue(b.ctx, time.Minute, 100)
		require.NoError(t, err)
		require.Empty(t, due)
		due, err = b.store.WebhookDeliveriesDue(b.ctx, -time.Second, 100)
		require.NoError(t, err)
		require.Len(t, due, 3)

		code := 503
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, made[0], store.WebhookAttempt{
			Code: &code, Error: "delivery failed: HTTP 503", Status: crm.DeliveryPending, NextAttemptAt: time.Now().Add(6 * time.Hour)}))
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, made[1], store.WebhookAttempt{
			Code: &code, Error: "delivery failed: HTTP 503", Status: crm.DeliveryFailed}))
		due, err = b.store.WebhookDeliveriesDue(b.ctx, -time.Second, 100)
		require.NoError(t, err)
		require.Equal(t, []store.DeliveryRef{{OrgID: b.orgID, ID: made[2]}}, due, "waiting and failed deliveries are not due")

		page, err := b.store.WebhookDeliveryList(b.ctx, b.orgID, b.webhookOf(made[0]), store.WebhookDeliveryFilter{Status: crm.DeliveryPending})
		require.NoError(t, err)
		waiting := page.Items[slices.IndexFunc(page.Items, func(d crm.WebhookDelivery) bool { return d.ID == made[0] })]
		require.Equal(t, 1, waiting.Attempts)
		require.Equal(t, "delivery failed: HTTP 503", *waiting.LastError)
		require.Equal(t, 503, *waiting.LastStatusCode)

		require.ErrorIs(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, store.NewID(), store.WebhookAttempt{Status: crm.DeliveryFailed}),
			crm.ErrNotFound)
	})

	t.Run("RedeliverMakesItPendingAndDueNow", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		w := b.webhook(store.EventActivityCreated)
		b.upsert(map[string]any{"type": "note", "account_id": b.account("Acme"), "occurred_at": "2026-03-02T15:00:00Z"})
		id := b.deliveries()[0]
		before, _ := b.payload(id)
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(b.ctx, b.orgID, id, store.WebhookAttempt{
			Error: "delivery failed: could not connect", Status: crm.DeliveryFailed}))

		d, err := b.store.WebhookDeliveryRedeliver(b.ctx, b.orgID, w.ID, id)
		require.NoError(t, err)
		require.Equal(t, id, d.ID, "the same delivery, so the receiver can dedupe")
		require.Equal(t, crm.DeliveryPending, d.Status)
		require.Equal(t, 1, d.Attempts, "past attempts are kept")
		after, _ := b.payload(id)
		require.Equal(t, before.Payload, after.Payload)
		due, err := b.store.WebhookDeliveriesDue(b.ctx, -time.Second, 100)
		require.NoError(t, err)
		require.Equal(t, []store.DeliveryRef{{OrgID: b.orgID, ID: id}}, due)

		other := activitySetupOrg(t, b)
		_, err = b.store.WebhookDeliveryRedeliver(b.ctx, other.orgID, w.ID, id)
		require.ErrorIs(t, err, crm.ErrNotFound, "another org's delivery")
		w2 := b.webhook(store.EventActivityCreated)
		_, err = b.store.WebhookDeliveryRedeliver(b.ctx, b.orgID, w2.ID, id)
		require.ErrorIs(t, err, crm.ErrNotFound, "another webhook's delivery")
		_, err = b.store.WebhookDeliveryRedeliver(b.ctx, b.orgID, w.ID, store.NewID())
		require.ErrorIs(t, err, crm.ErrNotFound)
	})
}

// webhookOf returns the webhook a delivery belongs to.
func (b *activityBundle) webhookOf(deliveryID string) string {
	b.t.Helper()
	d, err := b.store.WebhookDeliveryForSend(b.ctx, b.orgID, deliveryID)
	require.NoError(b.t, err)
	return d.WebhookID
}
