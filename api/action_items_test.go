package api

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestActionItemsOwed checks GET /v1/action-items as who owes whom through
// the API; store/action_items_test.go has the order and groups in depth.
func TestActionItemsOwed(t *testing.T) {
	t.Parallel()
	b := trSetup(t, nil)
	b.store.SetClock(func() time.Time { return time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC) })
	acme := b.account("Acme")
	tr := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(acme, "owed")), http.StatusAccepted)
	// Due 2026-03-10, 2026-03-11 and 2026-03-12: only the first is overdue
	// on 2026-03-11. Maya Patel is a participant on no known domain
	// (seller.test is no user's here): unknown; Dana Lee's email is on no
	// account domain: unknown too.
	items := trSaveNotes(t, b, tr.ID, "Dana Lee", "Maya Patel", "dana lee")

	type page struct {
		Items []struct {
			ID      string `json:"id"`
			Side    string `json:"side"`
			Overdue bool   `json:"overdue"`
			Meeting struct {
				ID         string `json:"id"`
				OccurredAt string `json:"occurred_at"`
				Subject    string `json:"subject"`
			} `json:"meeting"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
		Groups     []struct {
			Owner                *string `json:"owner"`
			Side                 string  `json:"side"`
			Total, Open, Overdue int
		} `json:"groups"`
	}
	get := func(q string) page {
		t.Helper()
		res := b.do("GET", "/v1/action-items"+q, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", q, res.Body)
		var p page
		res.JSON(t, &p)
		return p
	}
	p := get("")
	require.Len(t, p.Items, 3)
	require.Equal(t, []string{items[0].ID, items[2].ID, items[1].ID}, []string{p.Items[0].ID, p.Items[1].ID, p.Items[2].ID})
	require.Equal(t, []bool{true, false, false}, []bool{p.Items[0].Overdue, p.Items[1].Overdue, p.Items[2].Overdue})
	for _, it := range p.Items {
		require.Equal(t, "unknown", it.Side)
		require.Equal(t, tr.ActivityID, it.Meeting.ID)
		require.Equal(t, "2026-03-02T15:00:00Z", it.Meeting.OccurredAt)
		require.Equal(t, "Acme QBR", it.Meeting.Subject)
	}
	require.Len(t, p.Groups, 2)
	require.Equal(t, "Dana Lee", *p.Groups[0].Owner)
	require.Equal(t, [3]int{2, 2, 1}, [3]int{p.Groups[0].Total, p.Groups[0].Open, p.Groups[0].Overdue})
	require.Equal(t, "Maya Patel", *p.Groups[1].Owner)

	require.Len(t, get("?due_before=2026-03-11").Items, 1)
	require.Len(t, get("?side=unknown&limit=1").Groups, 2, "groups cover the whole filtered set, not the page")
	require.Empty(t, get("?side=ours").Items)
	second := get("?limit=2&cursor=" + url.QueryEscape(*get("?limit=2").NextCursor))
	require.Equal(t, items[1].ID, second.Items[0].ID)

	for q, field := range map[string]string{"?side=mine": "side", "?due_before=2026-3-1": "due_before",
		"?due_before=tomorrow": "due_before"} {
		res := b.do("GET", "/v1/action-items"+q, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
		require.Equal(t, []string{field}, res.Fields(t), q)
	}

	_, otherKey := b.newOrg("Other")
	res := b.doKey(otherKey, "GET", "/v1/action-items", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"items":[],"next_cursor":null,"groups":[]}`, string(res.Body))
}
