package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

func TestDealHandoff(t *testing.T) {
	t.Parallel()

	// world is an account with two users, three deals owned by dana and
	// two activities: a call 2 hours before the pinned now (in the last
	// week) and a note 8 days before it (not in it, but its next step is).
	type world struct {
		account, dana, lee, d1, d2, d3, call, old string
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	newWorld := func(b *testBundle) world {
		b.t.Helper()
		b.store.SetClock(func() time.Time { return now })
		w := world{
			account: b.create("/v1/accounts", map[string]any{"name": "Acme"}),
			dana:    b.create("/v1/users", map[string]any{"email": "dana@seller.test", "name": "Dana Lee"}),
			lee:     b.create("/v1/users", map[string]any{"email": "lee@seller.test", "name": "Lee Park"}),
		}
		deal := func(name string) string {
			return b.create("/v1/deals", map[string]any{"account_id": w.account, "name": name, "owner_id": w.dana})
		}
		w.d1, w.d2, w.d3 = deal("Renewal"), deal("Expansion"), deal("Pilot")
		w.call = b.create("/v1/activities", map[string]any{"type": "call", "direction": "outbound", "account_id": w.account,
			"owner_id": w.dana, "occurred_at": "2026-03-10T10:00:00Z", "subject": "Pricing"})
		w.old = b.create("/v1/activities", map[string]any{"type": "note", "account_id": w.account,
			"occurred_at": "2026-03-02T12:00:00Z", "body": "Kickoff.", "next_step": map[string]any{"text": "Send the deck"}})
		return w
	}
	owners := func(b *testBundle, ids ...string) []string {
		b.t.Helper()
		var out []string
		for _, id := range ids {
			o, _ := b.do("GET", "/v1/deals/"+id, nil).Map(b.t)["owner_id"].(string)
			out = append(out, o)
		}
		return out
	}
	handoffs := func(b *testBundle, ids ...string) int {
		b.t.Helper()
		total := 0
		for _, id := range ids {
			n, err := b.store.DealHandoffCount(context.Background(), b.orgID, id)
			require.NoError(b.t, err)
			total += n
		}
		return total
	}
	type reassigned struct {
		Deal        crm.Deal       `json:"deal"`
		Activity    dealHandoff    `json:"activity"`
		HandoffNote brief.BriefDoc `json:"handoff_note"`
	}
	// wantNote is the note of any of the world's deals going from Dana to
	// Lee: nothing open, the call in the week, the old note's next step.
	wantNote := func(w world, deal string) brief.BriefDoc {
		return brief.BriefDoc{
			Headline: deal + " (Acme) handed from Dana Lee to Lee Park: no open commitments; 1 activity in the last week; " +
				"1 next step; no risks raised.",
			Sections: []brief.BriefSection{
				{Title: "Open commitments", Statements: []brief.BriefStatement{}},
				{Title: "Last week", Statements: []brief.BriefStatement{
					{Text: "2026-03-10 outbound call “Pricing”, by Dana Lee.", ActivityIDs: []string{w.call}}}},
				{Title: "Next steps", Statements: []brief.BriefStatement{
					{Text: "Send the deck; no due date; from note on 2026-03-02.", ActivityIDs: []string{w.old}}}},
				{Title: "Risks", Statements: []brief.BriefStatement{}},
			},
		}
	}

	t.Run("SingleAnswersTheNote", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := newWorld(b)
		res := b.do("POST", "/v1/deals/"+w.d1+"/reassign", map[string]any{"owner_id": w.lee, "note": "Over to you."})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out reassigned
		res.JSON(t, &out)
		require.Equal(t, wantNote(w, "Renewal"), out.HandoffNote)
		require.Equal(t, "Over to you.\n\n"+out.HandoffNote.Headline+"\n\nOpen commitments: none.\n\n"+
			"Last week:\n- 2026-03-10 outbound call “Pricing”, by Dana Lee. [activity "+w.call+"]\n\n"+
			"Next steps:\n- Send the deck; no due date; from note on 2026-03-02. [activity "+w.old+"]\n\nRisks: none.", *out.Activity.Body)

		// The activity as GET shows it: the same body, metadata.handoff is
		// the note.
		act := b.do("GET", "/v1/activities/"+out.Activity.ID, nil).Map(t)
		require.Equal(t, *out.Activity.Body, act["body"])
		meta := act["metadata"].(map[string]any)
		require.Equal(t, w.dana, meta["from_owner_id"])
		require.Equal(t, w.lee, meta["to_owner_id"])
		handoff := meta["handoff"].(map[string]any)
		require.Equal(t, out.HandoffNote.Headline, handoff["headline"])
		require.Len(t, handoff["sections"], 4)
	})

	t.Run("BatchInInputOrder", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		w := newWorld(b)
		hook := b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		rec.take()
		res := b.doKey(b.keyWith(crm.ScopeWrite), "POST", "/v1/deals/reassign",
			map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d3, strings.ToUpper(w.d1)}, "note": "Dana is out sick."})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out struct {
			Items []reassigned `json:"items"`
		}
		res.JSON(t, &out)
		require.Len(t, out.Items, 2)
		for i, want := range []struct{ id, name string }{{w.d3, "Pilot"}, {w.d1, "Renewal"}} {
			it := out.Items[i]
			require.Equal(t, want.id, it.Deal.ID)
			require.Equal(t, w.lee, *it.Deal.OwnerID)
			require.Equal(t, want.id, it.Activity.DealID)
			require.Equal(t, "Deal "+want.name+" reassigned from Dana Lee to Lee Park", it.Activity.Subject)
			// Composed before any deal changed: the batch's other handoff
			// is not in the note's week.
			require.Equal(t, wantNote(w, want.name), it.HandoffNote)
			require.True(t, strings.HasPrefix(*it.Activity.Body, "Dana is out sick.\n\n"+want.name+" (Acme) handed"))
		}
		require.Equal(t, []string{w.lee, w.dana, w.lee}, owners(b, w.d1, w.d2, w.d3))
		require.Equal(t, 2, handoffs(b, w.d1, w.d2, w.d3))

		// One activity.created delivery per handoff, enqueued after commit.
		got := rec.take()
		require.Len(t, got, 2)
		require.ElementsMatch(t, b.deliveryIDs(hook, ""), got)
	})

	t.Run("BatchIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		w := newWorld(b)
		b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		rec.take()
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Globex"})
		require.Equal(t, http.StatusCreated, res.Status)
		res = b.doKey(otherKey, "POST", "/v1/deals", map[string]any{"account_id": res.Map(t)["id"], "name": "Theirs"})
		require.Equal(t, http.StatusCreated, res.Status)
		otherDeal := res.Map(t)["id"].(string)
		ids := func(n int) []string {
			var out []string
			for range n {
				out = append(out, store.NewID())
			}
			return out
		}

		for _, tc := range []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"UnknownDeal", map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1, store.NewID(), w.d2}}, 422, []string{"deal_ids[1]"}},
			{"AnotherOrgsDeal", map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1, w.d2, otherDeal}}, 422, []string{"deal_ids[2]"}},
			{"AlreadyOwned", map[string]any{"owner_id": w.dana, "deal_ids": []string{w.d1}}, 422, []string{"deal_ids[0]"}},
			{"Repeated", map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1, w.d2, strings.ToUpper(w.d1)}}, 422, []string{"deal_ids[2]"}},
			{"NotAnID", map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1, "renewal"}}, 422, []string{"deal_ids[1]"}},
			{"Empty", map[string]any{"owner_id": w.lee, "deal_ids": []string{}}, 422, []string{"deal_ids"}},
			{"Missing", map[string]any{"owner_id": w.lee}, 422, []string{"deal_ids"}},
			{"TooMany", map[string]any{"owner_id": w.lee, "deal_ids": ids(101)}, 422, []string{"deal_ids"}},
			{"UnknownOwner", map[string]any{"owner_id": store.NewID(), "deal_ids": []string{w.d1}}, 422, []string{"owner_id"}},
			{"MissingOwner", map[string]any{"deal_ids": []string{w.d1}}, 422, []string{"owner_id"}},
			{"UnknownField", map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1}, "why": "x"}, 422, []string{"why"}},
			{"Malformed", `{"owner_id":`, 400, nil},
		} {
			res := b.do("POST", "/v1/deals/reassign", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		// 100 is the most: all unknown here, each named.
		res = b.do("POST", "/v1/deals/reassign", map[string]any{"owner_id": w.lee, "deal_ids": ids(100)})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Len(t, res.Fields(t), 100)
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead), "POST", "/v1/deals/reassign",
			map[string]any{"owner_id": w.lee, "deal_ids": []string{w.d1}}).Status)

		require.Equal(t, []string{w.dana, w.dana, w.dana}, owners(b, w.d1, w.d2, w.d3))
		require.Zero(t, handoffs(b, w.d1, w.d2, w.d3))
		require.Empty(t, rec.take(), "nothing to deliver")
	})

	t.Run("RouteShapes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := newWorld(b)
		// POST /v1/deals/reassign sits beside the {id} routes on the mux
		// (different methods or segment counts): a deal's own paths still
		// answer.
		require.Equal(t, http.StatusOK, b.do("GET", "/v1/deals/"+w.d1, nil).Status)
		res := b.do("POST", "/v1/deals/"+w.d2+"/reassign", map[string]any{"owner_id": w.lee})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, fmt.Sprint([]string{w.dana, w.lee}), fmt.Sprint(owners(b, w.d1, w.d2)))
	})
}
