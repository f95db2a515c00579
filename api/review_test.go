package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// TestNotesConfirm: flagged notes items are shown with their reason, held
// out of the meeting.processed payload, and released (payload sent again)
// once a person confirms them.
func TestNotesConfirm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := trSetup(t, nil)
	webhookID := store.NewID()
	_, err := b.tx.Exec(ctx, `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, 's')`,
		b.orgID, webhookID, "https://hooks.example.com/in", []string{store.EventMeetingProcessed})
	require.NoError(t, err)
	tr := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(b.account("Acme", "acme.test"), "review")), http.StatusAccepted)

	reason := "payment_instructions: mentions a bank account number"
	ev := []crm.Evidence{{Segment: 1, StartMS: 4200, Speaker: "Dana Lee", Quote: "I will send the user list"}}
	notes := crm.Notes{
		Summary:          "A sync.",
		SummarySentences: []crm.Point{{Text: "A sync.", Evidence: ev}, {Text: "Pay to account 9911-2233.", Evidence: ev, NeedsReview: true, ReviewReason: &reason}},
		Decisions:        []crm.Point{{Text: "Invoices now go to account 9911-2233.", Evidence: ev, NeedsReview: true, ReviewReason: &reason}},
		KeyPoints:        []crm.Point{{Text: "The rollout went well.", Evidence: ev}},
		ActionItems: []crm.ActionItem{
			{Text: "Send the user list", Evidence: ev},
			{Text: "Wire the deposit to account 9911-2233", Evidence: ev, NeedsReview: true, ReviewReason: &reason},
		},
		Coverage: 1, Model: "test", PromptVersion: "test",
	}
	deliveries, err := b.store.NotesSave(ctx, b.orgID, tr.ID, 1, notes, nil)
	require.NoError(t, err)
	require.Len(t, deliveries, 1)
	payload := func(id string) string {
		var p string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT payload::text FROM webhook_deliveries WHERE org_id = $1 AND id = $2`,
			b.orgID, id).Scan(&p))
		return p
	}
	first := payload(deliveries[0])
	require.NotContains(t, first, "9911", "a held item reached the webhook payload")
	require.Contains(t, first, "Send the user list")
	require.Contains(t, first, `"held_for_review": 3`)

	// The notes people read carry the flagged items, marked.
	res := b.do("GET", "/v1/activities/"+tr.ActivityID, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var act struct {
		Notes crm.Notes `json:"notes"`
	}
	res.JSON(t, &act)
	require.Len(t, act.Notes.Decisions, 1)
	require.True(t, act.Notes.Decisions[0].NeedsReview)
	require.Equal(t, reason, *act.Notes.Decisions[0].ReviewReason)
	require.Nil(t, act.Notes.Decisions[0].ConfirmedAt)
	require.True(t, act.Notes.ActionItems[1].NeedsReview)
	require.Len(t, act.Notes.SummarySentences, 2)
	require.Equal(t, "A sync.", act.Notes.Summary)

	path := "/v1/activities/" + tr.ActivityID + "/notes/confirm"
	t.Run("BadRefsChangeNothing", func(t *testing.T) {
		res := b.do("POST", path, map[string]any{"items": []map[string]any{
			{"kind": "decisions", "index": 0},
			{"kind": "key_points", "index": 0},
			{"kind": "risks", "index": 3},
			{"kind": "minutes", "index": 0},
			{"kind": "action_items", "index": 1, "text": "Wire the deposit elsewhere"},
		}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.ElementsMatch(t, []string{"items[1]", "items[2].index", "items[3].kind", "items[4].text"}, res.Fields(t))
		res = b.do("POST", path, map[string]any{"items": []any{}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		_, n, err := b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
		require.NoError(t, err)
		require.Equal(t, 3, n.Held())
	})

	// A read key may not confirm.
	res = b.doKey(b.keyWith(crm.ScopeRead), "POST", path, map[string]any{"items": []map[string]any{{"kind": "decisions", "index": 0}}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	writeKey, err := b.store.APIKeyCreate(ctx, b.orgID, "reviewer", []crm.Scope{crm.ScopeWrite})
	require.NoError(t, err)
	res = b.doKey(writeKey.Key, "POST", path, map[string]any{"items": []map[string]any{
		{"kind": "decisions", "index": 0, "text": "Invoices now go to account 9911-2233."},
		{"kind": "action_items", "id": act.Notes.ActionItems[1].ID},
		{"kind": "summary_sentences", "index": 1},
	}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var n crm.Notes
	res.JSON(t, &n)
	require.Zero(t, n.Held())
	require.NotNil(t, n.Decisions[0].ConfirmedAt)
	require.Equal(t, writeKey.ID, *n.Decisions[0].ConfirmedBy)
	require.True(t, n.Decisions[0].NeedsReview, "a confirmed item stays marked as reviewed")
	require.Equal(t, writeKey.ID, *n.ActionItems[1].ConfirmedBy)
	require.Equal(t, "A sync. Pay to account 9911-2233.", n.Summary)

	// The event is sent again, now with the confirmed items.
	b.rec.mu.Lock()
	sent := append([]string(nil), b.rec.deliveries...)
	b.rec.mu.Unlock()
	require.Len(t, sent, 1)
	var again struct {
		Data struct {
			Notes crm.Notes `json:"notes"`
			Held  int       `json:"held_for_review"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(payload(sent[0])), &again))
	require.Zero(t, again.Data.Held)
	require.Len(t, again.Data.Notes.Decisions, 1)
	require.Len(t, again.Data.Notes.ActionItems, 2)

	// Confirming again keeps the first confirmation and sends nothing.
	res = b.do("POST", path, map[string]any{"items": []map[string]any{{"kind": "decisions", "index": 0}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var n2 crm.Notes
	res.JSON(t, &n2)
	require.Equal(t, writeKey.ID, *n2.Decisions[0].ConfirmedBy)
	b.rec.mu.Lock()
	require.Len(t, b.rec.deliveries, 1)
	b.rec.mu.Unlock()

	// A meeting without notes: 409.
	other := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(b.account("Beta"), "no-notes")), http.StatusAccepted)
	res = b.do("POST", "/v1/activities/"+other.ActivityID+"/notes/confirm", map[string]any{"items": []map[string]any{{"kind": "decisions", "index": 0}}})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
}
