package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// timelineFixture is an account with 25 activities in five minutes (five
// per minute: equal occurred_at ties), types cycling call, email, meeting,
// note, sms; every other one linked to a contact; every fifth on a deal and
// owned by a user. Globex has one activity of its own.
type timelineFixture struct {
	*actBundle
	acme, globex, contact, deal, owner string
	newestFirst                        []string // Acme's IDs by (occurred_at, id) DESC
}

var timelineBase = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func timelineSetup(t *testing.T) *timelineFixture {
	t.Helper()
	b := actSetup(t)
	f := &timelineFixture{actBundle: b, acme: b.account("Acme"), globex: b.account("Globex")}
	f.contact, f.deal, f.owner = b.contact(f.acme, "dana@acme.test"), b.deal(f.acme), b.user("rep@seller.test")
	types := []string{"call", "email", "meeting", "note", "sms"}
	var items []map[string]any
	for i := range 25 {
		at := timelineBase.Add(time.Duration(i/5) * time.Minute)
		it := map[string]any{"type": types[i%5], "account_id": f.acme, "occurred_at": at.Format(time.RFC3339),
			"subject": "Touch", "metadata": map[string]any{"n": i}}
		// A participant who is not a contact: only contact_ids link Dana.
		it["participants"] = []map[string]any{{"name": "Guest", "email": "guest@acme.test"}}
		if i%2 == 0 {
			it["contact_ids"] = []string{f.contact}
		}
		if i%5 == 0 {
			it["deal_id"], it["owner_id"] = f.deal, f.owner
		}
		items = append(items, it)
	}
	items = append(items, map[string]any{"type": "note", "account_id": f.globex, "occurred_at": timelineBase.Format(time.RFC3339)})
	res, out := b.postBatch(items)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	type key struct {
		at time.Time
		id string
	}
	var keys []key
	for i, it := range out.Items[:25] {
		keys = append(keys, key{timelineBase.Add(time.Duration(i/5) * time.Minute), it.ID})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	for _, k := range keys {
		f.newestFirst = append(f.newestFirst, k.id)
	}
	return f
}

// page GETs one timeline page of Acme with query q.
func (f *timelineFixture) page(q string) (response, crm.Page[crm.Activity]) {
	f.t.Helper()
	res := f.do("GET", "/v1/accounts/"+f.acme+"/timeline?"+q, nil)
	var p crm.Page[crm.Activity]
	if res.Status == http.StatusOK {
		res.JSON(f.t, &p)
	}
	return res, p
}

// all GETs every matching activity of Acme in one page.
func (f *timelineFixture) all(q string) []crm.Activity {
	f.t.Helper()
	res, p := f.page("limit=200&" + q)
	require.Equal(f.t, http.StatusOK, res.Status, "%s: %s", q, res.Body)
	require.Nil(f.t, p.NextCursor)
	return p.Items
}

func TestTimeline(t *testing.T) {
	t.Parallel()

	t.Run("PagesNewestFirstWithoutDuplicatesAcrossTies", func(t *testing.T) {
		t.Parallel()
		f := timelineSetup(t)
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			res, p := f.page("limit=4&cursor=" + url.QueryEscape(cursor))
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			require.LessOrEqual(t, len(p.Items), 4)
			for _, a := range p.Items {
				got = append(got, a.ID)
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		require.Equal(t, f.newestFirst, got)

		// The default page has them all, each as GET shows it.
		res, p := f.page("")
		require.Equal(t, http.StatusOK, res.Status)
		require.Len(t, p.Items, 25)
		require.Nil(t, p.NextCursor)
		m := res.Map(t)
		require.Nil(t, m["next_cursor"])
		first := m["items"].([]any)[0].(map[string]any)
		one := f.do("GET", "/v1/activities/"+first["id"].(string), nil).Map(t)
		require.Equal(t, one, first)
		require.NotNil(t, first["participants"])
		require.NotNil(t, first["metadata"])
		require.NotNil(t, first["contact_ids"])
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		f := timelineSetup(t)
		for _, a := range f.all("") {
			require.Equal(t, f.acme, a.AccountID, "Globex's activity is not on Acme's timeline")
		}

		calls := f.all("types=call,%20email")
		require.Len(t, calls, 10)
		for _, a := range calls {
			require.Contains(t, []crm.ActivityType{crm.ActivityCall, crm.ActivityEmail}, a.Type)
		}

		since, until := timelineBase.Add(time.Minute), timelineBase.Add(3*time.Minute)
		window := f.all("since=" + url.QueryEscape(since.Format(time.RFC3339)) + "&until=" + url.QueryEscape(until.Format(time.RFC3339)))
		require.Len(t, window, 10, "since inclusive, until exclusive: minutes 1 and 2")
		for _, a := range window {
			require.False(t, a.OccurredAt.Before(since))
			require.True(t, a.OccurredAt.Before(until))
		}
		// Any offset is accepted on input.
		offset := since.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)
		require.Len(t, f.all("since="+url.QueryEscape(offset)), 20)

		withContact := f.all("contact_id=" + f.contact)
		require.Len(t, withContact, 13)
		for _, a := range withContact {
			require.Equal(t, []string{f.contact}, a.ContactIDs)
		}
		onDeal := f.all("deal_id=" + f.deal)
		require.Len(t, onDeal, 5)
		for _, a := range onDeal {
			require.Equal(t, f.deal, *a.DealID)
		}
		require.Len(t, f.all("owner_id="+f.owner), 5)
		require.Len(t, f.all("owner_id="+f.owner+"&types=call"), 5)
		require.Empty(t, f.all("owner_id="+f.owner+"&types=email"))
		require.Empty(t, f.all("contact_id="+f.acme), "an unknown contact matches nothing")

		// Filters page like the full timeline.
		res, p := f.page("types=meeting&limit=2")
		require.Equal(t, http.StatusOK, res.Status)
		require.Len(t, p.Items, 2)
		res, p2 := f.page("types=meeting&limit=2&cursor=" + url.QueryEscape(*p.NextCursor))
		require.Equal(t, http.StatusOK, res.Status)
		require.Len(t, p2.Items, 2)
		last, next := p.Items[1], p2.Items[0]
		require.True(t, next.OccurredAt.Before(last.OccurredAt) || (next.OccurredAt.Equal(last.OccurredAt) && next.ID < last.ID),
			"the second page starts after the first")
	})

	t.Run("BadParametersAre422", func(t *testing.T) {
		t.Parallel()
		f := timelineSetup(t)
		cases := []struct {
			query  string
			fields []string
		}{
			{"types=call,fax", []string{"types"}},
			{"since=yesterday", []string{"since"}},
			{"until=2026-13-01T00:00:00Z", []string{"until"}},
			{"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", []string{"until"}},
			{"limit=0", []string{"limit"}},
			{"limit=201", []string{"limit"}},
			{"limit=ten", []string{"limit"}},
			{"cursor=garbage!", []string{"cursor"}},
			{"cursor=" + forgedCursor("not-a-time"), []string{"cursor"}},
			{"contact_id=dana", []string{"contact_id"}},
			{"deal_id=1", []string{"deal_id"}},
			{"owner_id=me", []string{"owner_id"}},
			{"types=x&limit=0", []string{"types", "limit"}},
		}
		for _, tc := range cases {
			res, _ := f.page(tc.query)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", tc.query, res.Body)
			require.ElementsMatch(t, tc.fields, res.Fields(t), tc.query)
		}
		require.Equal(t, http.StatusUnprocessableEntity, f.do("GET", "/v1/accounts/acme/timeline", nil).Status)
	})

	t.Run("AccountMustBeTheOrgs", func(t *testing.T) {
		t.Parallel()
		f := timelineSetup(t)
		_, otherKey := f.newOrg("Other")
		res := f.doKey(otherKey, "GET", "/v1/accounts/"+f.acme+"/timeline", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
		require.NotContains(t, string(res.Body), f.acme)
		res = f.doKey(otherKey, "GET", "/v1/accounts/"+f.acme+"/timeline?types=sms", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
		require.Equal(t, http.StatusNotFound, f.do("GET", "/v1/accounts/0190a0e0-0000-7000-8000-000000000000/timeline", nil).Status)

		empty := f.account("Empty")
		res = f.do("GET", "/v1/accounts/"+empty+"/timeline", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.JSONEq(t, `{"items":[],"next_cursor":null}`, string(res.Body))
		res, p := f.page("types=task")
		require.Equal(t, http.StatusOK, res.Status)
		require.NotNil(t, p.Items)
		require.Empty(t, p.Items)
	})

	t.Run("NeedsTheReadScope", func(t *testing.T) {
		t.Parallel()
		f := timelineSetup(t)
		path := "/v1/accounts/" + f.acme + "/timeline"
		require.Equal(t, http.StatusForbidden, f.doKey(f.keyWith(crm.ScopeIngest), "GET", path, nil).Status)
		require.Equal(t, http.StatusOK, f.doKey(f.keyWith(crm.ScopeRead), "GET", path, nil).Status)
		require.Equal(t, http.StatusUnauthorized, f.doKey("", "GET", path, nil).Status)
	})
}

// forgedCursor is a cursor in the store's format (base64url of "time|id")
// around a bad time: a forged cursor is a 422, not a 500.
func forgedCursor(t string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t + "|0190a0e0-0000-7000-8000-000000000000"))
}
