package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func TestDeals(t *testing.T) {
	t.Parallel()

	// fixture is an account and two users of the bundle's org.
	type fixture struct {
		account, dana, lee string
	}
	newFixture := func(b *testBundle) fixture {
		b.t.Helper()
		return fixture{
			account: b.create("/v1/accounts", map[string]any{"name": "Acme"}),
			dana:    b.create("/v1/users", map[string]any{"email": "dana@seller.test", "name": "Dana Lee"}),
			lee:     b.create("/v1/users", map[string]any{"email": "lee@seller.test", "name": "Lee Park"}),
		}
	}
	handoffs := func(b *testBundle, dealID string) int {
		b.t.Helper()
		n, err := b.store.DealHandoffCount(context.Background(), b.orgID, dealID)
		require.NoError(b.t, err)
		return n
	}

	t.Run("AmountIsAnExactJSONNumber", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		for _, tc := range []struct{ in, want string }{
			{`1200.5`, `1200.5`},
			{`1200.5000`, `1200.5`},
			{`1200.00`, `1200`},
			{`"99.99"`, `99.99`},
			{`9999999999999999.9999`, `9999999999999999.9999`},
			{`1e3`, `1000`},
			{`0`, `0`},
		} {
			res := b.do("POST", "/v1/deals", `{"account_id":"`+f.account+`","name":"D","amount":`+tc.in+`}`)
			require.Equal(t, http.StatusCreated, res.Status, "%s: %s", tc.in, res.Body)
			require.Contains(t, string(res.Body), `"amount":`+tc.want+`,`, tc.in)
			id := res.Map(t)["id"].(string)
			require.Contains(t, string(b.do("GET", "/v1/deals/"+id, nil).Body), `"amount":`+tc.want+`,`, tc.in)
		}
		for _, bad := range []string{`-5`, `1.23456`, `12345678901234567`, `true`} {
			res := b.do("POST", "/v1/deals", `{"account_id":"`+f.account+`","name":"D","amount":`+bad+`}`)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", bad, res.Body)
			require.Equal(t, []string{"amount"}, res.Fields(t), bad)
		}
		// A string that is not a number fails inside encoding/json, which
		// does not say which field it was decoding: still a 422.
		res := b.do("POST", "/v1/deals", `{"account_id":"`+f.account+`","name":"D","amount":"ten"}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		ok := func(extra string) string { return `{"account_id":"` + f.account + `","name":"D"` + extra + `}` }
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/users", map[string]any{"email": "o@other.test", "name": "O"})
		require.Equal(t, http.StatusCreated, res.Status)
		otherUser := res.Map(t)["id"].(string)
		res = b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Globex"})
		require.Equal(t, http.StatusCreated, res.Status)
		otherAccount := res.Map(t)["id"].(string)

		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"name":`, 400, nil},
			{"Empty", ``, 400, nil},
			{"MissingEverything", `{}`, 422, []string{"account_id", "name"}},
			{"BadStatus", ok(`,"status":"pending"`), 422, []string{"status"}},
			{"NullStatus", ok(`,"status":null`), 422, []string{"status"}},
			{"BadCurrency", ok(`,"currency":"usd"`), 422, []string{"currency"}},
			{"BadCloseDate", ok(`,"close_date":"30/06/2026"`), 422, []string{"close_date"}},
			{"BadOwnerID", ok(`,"owner_id":"dana"`), 422, []string{"owner_id"}},
			{"OwnerOfAnotherOrg", ok(`,"owner_id":"` + otherUser + `"`), 422, []string{"owner_id"}},
			{"AccountOfAnotherOrg", `{"account_id":"` + otherAccount + `","name":"D"}`, 422, []string{"account_id"}},
			{"MissingAccount", `{"account_id":"0190a0e0-0000-7000-8000-000000000000","name":"D"}`, 422, []string{"account_id"}},
			{"LongStage", ok(`,"stage":"` + strings.Repeat("s", 101) + `"`), 422, []string{"stage"}},
			{"UnknownField", ok(`,"probability":0.5`), 422, []string{"probability"}},
			{"SeveralAtOnce", `{"account_id":"x","name":"","status":"maybe","currency":"$"}`, 422, []string{"account_id", "name", "currency", "status"}},
			{"TooLarge", ok(`,"stage":"` + strings.Repeat("x", 2<<20) + `"`), 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/deals", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/deals/not-a-uuid", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("POST", "/v1/deals/not-a-uuid/reassign", map[string]any{"owner_id": f.lee}).Status)
	})

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		res := b.do("POST", "/v1/deals", map[string]any{
			"account_id": f.account, "name": "Acme renewal", "stage": "proposal", "amount": 1200.5,
			"currency": "USD", "close_date": "2026-06-30", "owner_id": f.dana,
		})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		id := m["id"].(string)
		require.Equal(t, "open", m["status"], "status defaults to open")
		require.Equal(t, "2026-06-30", m["close_date"])
		require.Equal(t, 1200.5, m["amount"])
		require.Equal(t, f.dana, m["owner_id"])

		res = b.do("GET", "/v1/deals/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "Acme renewal", res.Map(t)["name"])

		res = b.do("PATCH", "/v1/deals/"+id, map[string]any{"status": "won", "stage": "closed"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Equal(t, "won", m["status"])
		require.Equal(t, "closed", m["stage"])
		require.Equal(t, 1200.5, m["amount"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("PATCH", "/v1/deals/"+id, map[string]any{"name": "Ghost"}).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.lee}).Status)
	})

	t.Run("DeletingOwnerUnassignsDeal", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "D", "owner_id": f.dana})
		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/users/"+f.dana, nil).Status)
		m := b.do("GET", "/v1/deals/"+id, nil).Map(t)
		require.Nil(t, m["owner_id"])
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		other := b.create("/v1/accounts", map[string]any{"name": "Initech"})
		open := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "A", "stage": "discovery", "owner_id": f.dana})
		won := b.create("/v1/deals", map[string]any{"account_id": other, "name": "B", "stage": "closed", "status": "won", "owner_id": f.lee})
		lost := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "C", "stage": "closed", "status": "lost"})

		ids := func(q string) []string {
			var page struct {
				Items []struct{ ID string } `json:"items"`
			}
			res := b.do("GET", "/v1/deals?"+q, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", q, res.Body)
			res.JSON(t, &page)
			out := []string{}
			for _, it := range page.Items {
				out = append(out, it.ID)
			}
			return out
		}
		require.Equal(t, []string{lost, won, open}, ids(""), "newest first")
		require.Equal(t, []string{lost, open}, ids("account_id="+f.account))
		require.Equal(t, []string{open}, ids("owner_id="+f.dana))
		require.Equal(t, []string{won}, ids("status=won"))
		require.Equal(t, []string{lost, won}, ids("stage=closed"))
		require.Equal(t, []string{lost}, ids("stage=closed&account_id="+f.account))
		require.Empty(t, ids("status=open&owner_id="+f.lee))

		for q, field := range map[string]string{
			"status=pending": "status", "owner_id=dana": "owner_id", "account_id=acme": "account_id", "limit=500": "limit",
		} {
			res := b.do("GET", "/v1/deals?"+q, nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
			require.Equal(t, []string{field}, res.Fields(t), q)
		}
	})

	t.Run("OtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "D", "owner_id": f.dana})
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/users", map[string]any{"email": "o@other.test", "name": "O"})
		require.Equal(t, http.StatusCreated, res.Status)
		otherUser := res.Map(t)["id"].(string)

		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "GET", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "PATCH", "/v1/deals/"+id, map[string]any{"name": "Eve"}).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "DELETE", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": otherUser}).Status)
		res = b.doKey(otherKey, "GET", "/v1/deals", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, string(res.Body), id)

		m := b.do("GET", "/v1/deals/"+id, nil).Map(t)
		require.Equal(t, "D", m["name"])
		require.Equal(t, f.dana, m["owner_id"])
		require.Zero(t, handoffs(b, id))
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		for i := range 5 {
			b.create("/v1/deals", map[string]any{"account_id": f.account, "name": fmt.Sprintf("D%d", i)})
		}
		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			var page struct {
				Items      []struct{ ID string } `json:"items"`
				NextCursor *string               `json:"next_cursor"`
			}
			b.do("GET", "/v1/deals?limit=2&status=open&cursor="+cursor, nil).JSON(t, &page)
			for _, it := range page.Items {
				require.False(t, seen[it.ID], "deal listed twice")
				seen[it.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 5)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/deals?cursor=garbage!", nil).Status)
	})

	t.Run("PatchNullClearsAbsentKeeps", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{
			"account_id": f.account, "name": "D", "stage": "proposal", "amount": "500", "currency": "EUR",
			"close_date": "2026-01-31", "owner_id": f.dana,
		})
		res := b.do("PATCH", "/v1/deals/"+id, `{"amount":null,"close_date":null,"owner_id":null}`)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m := res.Map(t)
		require.Nil(t, m["amount"])
		require.Nil(t, m["close_date"])
		require.Nil(t, m["owner_id"])
		require.Equal(t, "proposal", m["stage"])
		require.Equal(t, "EUR", m["currency"])
		require.Equal(t, "open", m["status"])
		require.Equal(t, f.account, m["account_id"])

		res = b.do("PATCH", "/v1/deals/"+id, `{"account_id":null,"name":null,"status":null}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"account_id", "name", "status"}, res.Fields(t))

		other := b.create("/v1/accounts", map[string]any{"name": "Initech"})
		res = b.do("PATCH", "/v1/deals/"+id, map[string]any{"account_id": other, "amount": 7.25, "close_date": "2026-12-31"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Equal(t, other, m["account_id"])
		require.Equal(t, 7.25, m["amount"])
		require.Equal(t, "2026-12-31", m["close_date"])
	})

	t.Run("ReadKeyCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "D", "owner_id": f.dana})
		read := b.keyWith(crm.ScopeRead)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/deals", map[string]any{"account_id": f.account, "name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "PATCH", "/v1/deals/"+id, map[string]any{"name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "DELETE", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.lee}).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/deals/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/deals", nil).Status)
		require.Zero(t, handoffs(b, id))
	})

	t.Run("Reassign", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "Acme renewal", "owner_id": f.dana, "amount": 1200.5})
		before := time.Now()
		res := b.do("POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.lee, "note": "Dana moves to enterprise."})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out struct {
			Deal     map[string]any `json:"deal"`
			Activity map[string]any `json:"activity"`
		}
		res.JSON(t, &out)
		require.Equal(t, id, out.Deal["id"])
		require.Equal(t, f.lee, out.Deal["owner_id"])
		require.Equal(t, 1200.5, out.Deal["amount"])

		act := out.Activity
		require.ElementsMatch(t, []string{"id", "type", "account_id", "deal_id", "owner_id", "occurred_at", "subject", "body"}, keys(act))
		require.True(t, crm.ValidID(act["id"].(string)))
		require.Equal(t, "handoff", act["type"])
		require.Equal(t, f.account, act["account_id"])
		require.Equal(t, id, act["deal_id"])
		require.Equal(t, f.lee, act["owner_id"])
		require.Equal(t, "Deal Acme renewal reassigned from Dana Lee to Lee Park", act["subject"])
		// The body is the free-text note, then the handoff note as plain
		// text (it used to be the note alone; the handoff note's contents
		// are checked in deals_handoff_test.go).
		require.Equal(t, "Dana moves to enterprise.\n\nAcme renewal (Acme) handed from Dana Lee to Lee Park: "+
			"no open commitments; no activity in the last week; no next steps; no risks raised.\n\n"+
			"Open commitments: none.\n\nLast week: none.\n\nNext steps: none.\n\nRisks: none.", act["body"])
		occurred, err := time.Parse(time.RFC3339Nano, act["occurred_at"].(string))
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(act["occurred_at"].(string), "Z"))
		require.WithinDuration(t, before, occurred, time.Minute)

		require.Equal(t, 1, handoffs(b, id), "exactly one handoff activity")
		require.Equal(t, f.lee, b.do("GET", "/v1/deals/"+id, nil).Map(t)["owner_id"])
	})

	t.Run("ReassignBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "D", "owner_id": f.dana})
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/users", map[string]any{"email": "o@other.test", "name": "O"})
		require.Equal(t, http.StatusCreated, res.Status)
		otherUser := res.Map(t)["id"].(string)

		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"owner_id":`, 400, nil},
			{"Empty", ``, 400, nil},
			{"MissingOwner", `{"note":"x"}`, 422, []string{"owner_id"}},
			{"BadOwner", `{"owner_id":"lee"}`, 422, []string{"owner_id"}},
			{"UnknownOwner", `{"owner_id":"0190a0e0-0000-7000-8000-000000000000"}`, 422, []string{"owner_id"}},
			{"OwnerOfAnotherOrg", `{"owner_id":"` + otherUser + `"}`, 422, []string{"owner_id"}},
			{"CurrentOwner", `{"owner_id":"` + f.dana + `"}`, 422, []string{"owner_id"}},
			{"CurrentOwnerUppercase", `{"owner_id":"` + strings.ToUpper(f.dana) + `"}`, 422, []string{"owner_id"}},
			{"UnknownField", `{"owner_id":"` + f.lee + `","reason":"x"}`, 422, []string{"reason"}},
			{"TooLarge", `{"owner_id":"` + f.lee + `","note":"` + strings.Repeat("x", 2<<20) + `"}`, 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/deals/"+id+"/reassign", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		var p Problem
		b.do("POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.dana}).JSON(t, &p)
		require.Contains(t, p.Errors[0].Message, "already owns this deal")

		// Nothing changed and nothing was logged.
		require.Equal(t, f.dana, b.do("GET", "/v1/deals/"+id, nil).Map(t)["owner_id"])
		require.Zero(t, handoffs(b, id))
	})

	t.Run("ReassignUnassignedDeal", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := newFixture(b)
		id := b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "Acme pilot"})
		write := b.keyWith(crm.ScopeWrite)
		res := b.doKey(write, "POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.lee})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out struct {
			Activity struct {
				Subject string  `json:"subject"`
				Body    *string `json:"body"`
			} `json:"activity"`
		}
		res.JSON(t, &out)
		require.Equal(t, "Deal Acme pilot reassigned from unassigned to Lee Park", out.Activity.Subject)
		// Without a note the body is the handoff note alone (it used to be
		// null: the handoff note is new).
		require.NotNil(t, out.Activity.Body)
		require.True(t, strings.HasPrefix(*out.Activity.Body, "Acme pilot (Acme) handed from unassigned to Lee Park: "), *out.Activity.Body)

		// Handing it back is a second handoff.
		res = b.do("POST", "/v1/deals/"+id+"/reassign", map[string]any{"owner_id": f.dana, "note": "back"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, 2, handoffs(b, id))
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
