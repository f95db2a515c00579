package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// TestActivityUpsertLeanStatement checks that the lean single-activity
// statement (no outbox CTE) never loses an activity.created delivery and
// never bypasses the disposition rules, whatever the per-process hint of
// orgs with webhooks says.
func TestActivityUpsertLeanStatement(t *testing.T) {
	t.Parallel()

	call := func(acct, disposition string) map[string]any {
		return map[string]any{"type": "call", "direction": "outbound", "account_id": acct,
			"occurred_at": "2026-03-02T15:00:00Z", "disposition": disposition}
	}

	t.Run("DispositionRulesStillApply", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, err := b.store.SettingsUpdate(b.ctx, b.orgID, crm.SettingsInput{Dispositions: crm.Some([]string{"connected"})})
		require.NoError(t, err)
		_, res := b.upsert(call(acme, "connected"))
		require.Equal(t, store.UpsertCreated, res)
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, call(acme, "voicemail_left")))
		require.Equal(t, []string{"disposition"}, problemFields(t, err))
		require.Equal(t, 1, b.rows())
	})

	t.Run("WebhookAddedAfterLeanWritesGetsDeliveries", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		for range 2 {
			_, _, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, call(acme, "connected")))
			require.NoError(t, err)
			require.Empty(t, ds)
		}
		require.Empty(t, b.deliveries())

		w := b.webhook(store.EventActivityCreated)
		for i := range 3 {
			_, res, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, call(acme, "connected")))
			require.NoError(t, err)
			require.Equal(t, store.UpsertCreated, res)
			require.Len(t, ds, 1, "write %d after the webhook was added", i)
		}
		require.Len(t, b.deliveries(), 3)

		// A webhook for another event only does not get activity.created.
		require.NoError(t, b.store.WebhookDelete(b.ctx, b.orgID, w.ID))
		b.webhook(store.EventMeetingProcessed)
		_, _, ds, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, call(acme, "connected")))
		require.NoError(t, err)
		require.Empty(t, ds)
		require.Equal(t, 6, b.rows())
	})
}
