package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func init() {
	// The feed's bulk bodies are strings to openapi3filter; the tests
	// parse them back themselves.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
}

// feedFixture is an org with seven activities on two accounts (calls,
// emails, a meeting), one of them deleted, and another org with one.
type feedFixture struct {
	*actBundle
	acme, globex string
	ids          []string // the org's live activities
	deleted      string
	otherKey     string
	otherID      string
}

func feedSetup(t *testing.T) *feedFixture {
	t.Helper()
	b := actSetup(t)
	f := &feedFixture{actBundle: b, acme: b.account("Acme"), globex: b.account("Globex")}
	types := []string{"call", "email", "call", "meeting", "email", "call", "call"}
	for i, ty := range types {
		acct := f.acme
		if i%2 == 1 {
			acct = f.globex
		}
		res, a := b.post(map[string]any{"type": ty, "account_id": acct, "subject": "Touch " + strconv.Itoa(i),
			"occurred_at": time.Date(2026, 3, 1, 9, i, 0, 0, time.UTC).Format(time.RFC3339),
			"metadata":    map[string]any{"list": "=SUM(A1)"}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		f.ids = append(f.ids, a.ID)
	}
	f.deleted = f.ids[2]
	f.ids = slices.Delete(f.ids, 2, 3)
	require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/activities/"+f.deleted, nil).Status)
	otherOrg, otherKey := b.newOrg("Other")
	acct := store_account(t, b, otherOrg)
	var err error
	f.otherID = store_activity(t, b, otherOrg, acct)
	require.NoError(t, err)
	f.otherKey = otherKey
	return f
}

// store_account and store_activity plant another org's rows.
func store_account(t *testing.T, b *actBundle, orgID string) string {
	t.Helper()
	a, err := b.store.AccountCreate(context.Background(), orgID, crm.AccountInput{Name: crm.Some("Elsewhere")})
	require.NoError(t, err)
	return a.ID
}

func store_activity(t *testing.T, b *actBundle, orgID, accountID string) string {
	t.Helper()
	var id string
	require.NoError(t, b.tx.QueryRow(context.Background(), `INSERT INTO activities (org_id, id, type, account_id, occurred_at, source)
		VALUES ($1, gen_random_uuid(), 'call', $2, now(), 'api') RETURNING id::text`, orgID, accountID).Scan(&id))
	return id
}

// page GETs one JSON page of the feed.
func (f *feedFixture) page(q string) (response, activityFeedPage) {
	f.t.Helper()
	res := f.do("GET", "/v1/activities"+q, nil)
	var p activityFeedPage
	if res.Status == http.StatusOK {
		res.JSON(f.t, &p)
		require.Equal(f.t, p.SyncCursor, res.Header.Get(feedSyncHeader))
		require.Equal(f.t, strconv.Itoa(len(p.Items)), res.Header.Get(feedCountHeader))
		if p.NextCursor != nil {
			require.Equal(f.t, *p.NextCursor, res.Header.Get(feedNextHeader))
		} else {
			require.Empty(f.t, res.Header.Values(feedNextHeader))
		}
	}
	return res, p
}

// all pages through the feed with q (and a cursor) and returns every item.
func (f *feedFixture) all(q url.Values) []crm.FeedItem {
	f.t.Helper()
	var out []crm.FeedItem
	for i := 0; ; i++ {
		require.Less(f.t, i, 100)
		res, p := f.page("?" + q.Encode())
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		out = append(out, p.Items...)
		if p.NextCursor == nil {
			return out
		}
		q.Set("cursor", *p.NextCursor)
	}
}

func feedIDs(items []crm.FeedItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestActivityFeed(t *testing.T) {
	t.Parallel()
	f := feedSetup(t)

	t.Run("EveryActivityAndTombstoneOnce", func(t *testing.T) {
		items := f.all(url.Values{"limit": {"2"}})
		require.Len(t, items, 7)
		var live []string
		for _, it := range items {
			require.NotEqual(t, f.otherID, it.ID)
			if it.ID == f.deleted {
				require.True(t, it.Deleted)
				require.NotNil(t, it.DeletedAt)
				require.Nil(t, it.Activity)
				require.Equal(t, crm.ActivityCall, it.Type)
				require.Equal(t, f.acme, it.AccountID)
				continue
			}
			require.False(t, it.Deleted)
			require.Nil(t, it.DeletedAt)
			require.Equal(t, it.ID, it.Activity.ID)
			require.Equal(t, it.Activity.Type, it.Type)
			live = append(live, it.ID)
		}
		require.ElementsMatch(t, f.ids, live)
		// One transaction wrote them all: change order is then id order.
		require.True(t, slices.IsSorted(feedIDs(items)))
	})

	t.Run("GetShowsTheSameActivity", func(t *testing.T) {
		items := f.all(url.Values{})
		res := f.do("GET", "/v1/activities/"+f.ids[0], nil)
		var got crm.Activity
		res.JSON(t, &got)
		for _, it := range items {
			if it.ID == f.ids[0] {
				require.Equal(t, got, *it.Activity)
			}
		}
	})

	t.Run("TypesFilterAndTheCursorCarriesIt", func(t *testing.T) {
		items := f.all(url.Values{"types": {"call"}, "limit": {"1"}})
		require.Len(t, items, 4) // three calls and the deleted call
		for _, it := range items {
			require.Equal(t, crm.ActivityCall, it.Type)
		}
		res, p := f.page("?types=call&limit=1")
		require.Equal(t, http.StatusOK, res.Status)
		cur := url.QueryEscape(*p.NextCursor)
		// The same types, or none: the cursor's apply.
		_, same := f.page("?types=call&limit=10&cursor=" + cur)
		_, none := f.page("?limit=10&cursor=" + cur)
		require.Equal(t, feedIDs(items[1:]), feedIDs(same.Items))
		require.Equal(t, feedIDs(items[1:]), feedIDs(none.Items))
		// Other types are 422 on cursor.
		res, _ = f.page("?types=email&cursor=" + cur)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"cursor"}, res.Fields(t))
		res, _ = f.page("?types=call,email&cursor=" + cur)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		// And so is another updated_since.
		res, _ = f.page("?updated_since=2026-01-01T00:00:00Z&cursor=" + cur)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"cursor"}, res.Fields(t))
	})

	t.Run("BadInputIs422", func(t *testing.T) {
		for _, q := range []string{"cursor=bm9wZQ", "cursor=%25%25", "cursor=" + url.QueryEscape(timelineCursorOf(t, f))} {
			res, _ := f.page("?" + q)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
			require.Equal(t, []string{"cursor"}, res.Fields(t), q)
		}
		for q, field := range map[string]string{"types=calls": "types", "updated_since=yesterday": "updated_since",
			"limit=201": "limit", "limit=0": "limit"} {
			res, _ := f.page("?" + q)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
			require.Equal(t, []string{field}, res.Fields(t), q)
		}
	})

	t.Run("UpdatedSince", func(t *testing.T) {
		// Backdate all but two activities and the tombstone.
		ctx := context.Background()
		_, err := f.tx.Exec(ctx, `UPDATE activities SET changed_at = '2026-01-01T00:00:00Z' WHERE org_id = $1 AND NOT id = ANY($2)`,
			f.orgID, []string{f.ids[0], f.ids[4]})
		require.NoError(t, err)
		_, err = f.tx.Exec(ctx, `UPDATE activity_tombstones SET deleted_at = '2026-01-01T00:00:00Z' WHERE org_id = $1`, f.orgID)
		require.NoError(t, err)
		items := f.all(url.Values{"updated_since": {"2026-02-01T00:00:00Z"}, "limit": {"1"}})
		require.ElementsMatch(t, []string{f.ids[0], f.ids[4]}, feedIDs(items))
		items = f.all(url.Values{"updated_since": {"2025-12-31T23:00:00+00:00"}})
		require.Len(t, items, 7)
	})

	t.Run("OtherOrgSeesOnlyItsOwn", func(t *testing.T) {
		res := f.doKey(f.otherKey, "GET", "/v1/activities", nil)
		require.Equal(t, http.StatusOK, res.Status)
		var p activityFeedPage
		res.JSON(t, &p)
		require.Equal(t, []string{f.otherID}, feedIDs(p.Items))
		// A read key is enough.
		res = f.doKey(f.keyWith(crm.ScopeRead), "GET", "/v1/activities", nil)
		require.Equal(t, http.StatusOK, res.Status)
	})

	t.Run("NDJSONAndCSVCarryTheSameItems", func(t *testing.T) {
		want := f.all(url.Values{})
		get := func(accept, q string) response {
			req := httptest.NewRequest("GET", "/v1/activities"+q, nil)
			req.Header.Set("Authorization", "Bearer "+f.key)
			req.Header.Set("Accept", accept)
			return f.serve(req)
		}
		res := get("application/x-ndjson", "?limit=4")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, "application/x-ndjson; charset=utf-8", res.Header.Get("Content-Type"))
		require.Equal(t, "4", res.Header.Get(feedCountHeader))
		next := res.Header.Get(feedNextHeader)
		require.NotEmpty(t, next)
		require.Equal(t, next, res.Header.Get(feedSyncHeader))
		var got []crm.FeedItem
		sc := bufio.NewScanner(bytes.NewReader(res.Body))
		for sc.Scan() {
			var it crm.FeedItem
			require.NoError(t, json.Unmarshal(sc.Bytes(), &it))
			got = append(got, it)
		}
		res = get("application/x-ndjson", "?cursor="+url.QueryEscape(next))
		require.Equal(t, "3", res.Header.Get(feedCountHeader))
		require.Empty(t, res.Header.Values(feedNextHeader))
		require.NotEmpty(t, res.Header.Get(feedSyncHeader))
		sc = bufio.NewScanner(bytes.NewReader(res.Body))
		for sc.Scan() {
			var it crm.FeedItem
			require.NoError(t, json.Unmarshal(sc.Bytes(), &it))
			got = append(got, it)
		}
		require.Equal(t, want, got)

		res = get("text/csv", "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, crm.FeedCSVColumns, recs[0])
		require.Len(t, recs, 1+len(want))
		col := func(rec []string, name string) string { return rec[slices.Index(crm.FeedCSVColumns, name)] }
		for i, it := range want {
			rec := recs[1+i]
			require.Equal(t, it.CSVRecord(), rec)
			require.Equal(t, it.ID, col(rec, "id"))
			require.Equal(t, strconv.FormatBool(it.Deleted), col(rec, "deleted"))
			if it.Deleted {
				require.Empty(t, col(rec, "subject"))
				require.NotEmpty(t, col(rec, "deleted_at"))
				continue
			}
			require.Equal(t, *it.Activity.Subject, col(rec, "subject"))
			require.Equal(t, it.Activity.OccurredAt.Format(time.RFC3339Nano), col(rec, "occurred_at"))
			// Data as stored: no formula escaping in a feed.
			require.JSONEq(t, `{"list":"=SUM(A1)"}`, col(rec, "metadata"))
		}
		// Bulk pages go past the JSON maximum; past theirs is 422.
		require.Equal(t, http.StatusOK, get("text/csv", "?limit=100000").Status)
		require.Equal(t, http.StatusUnprocessableEntity, get("text/csv", "?limit=100001").Status)
		require.Equal(t, http.StatusNotAcceptable, get("application/xml", "").Status)
	})
}

// timelineCursorOf is a cursor of another list (an account's timeline):
// not the feed's.
func timelineCursorOf(t *testing.T, f *feedFixture) string {
	t.Helper()
	res := f.do("GET", "/v1/accounts/"+f.acme+"/timeline?limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var p crm.Page[crm.Activity]
	res.JSON(t, &p)
	require.NotNil(t, p.NextCursor)
	return *p.NextCursor
}
