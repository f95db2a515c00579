package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// feedClient is a warehouse syncing one org's feed: it replays every item
// (upsert by id, delete on a tombstone) and remembers what it was last
// served of each activity, to catch an unchanged row served twice.
type feedClient struct {
	t      *testing.T
	st     *store.Store
	orgID  string
	limit  int
	cursor string
	state  map[string]crm.Activity
	last   map[string]string // id → JSON of the item last served
	served int
}

func newFeedClient(t *testing.T, st *store.Store, orgID string, limit int) *feedClient {
	return &feedClient{t: t, st: st, orgID: orgID, limit: limit, state: map[string]crm.Activity{}, last: map[string]string{}}
}

// page reads one page from the client's cursor and replays it; it returns
// the page.
func (c *feedClient) page() store.FeedPage {
	c.t.Helper()
	var pg store.FeedPage
	err := c.st.ActivityFeed(context.Background(), c.orgID, store.FeedFilter{Cursor: c.cursor, Limit: c.limit},
		func(p store.FeedPage) error { pg = p; return nil },
		func(it crm.FeedItem) error {
			b, err := json.Marshal(it)
			require.NoError(c.t, err)
			require.NotEqual(c.t, c.last[it.ID], string(b), "item served twice unchanged: %s", b)
			c.last[it.ID] = string(b)
			c.served++
			if it.Deleted {
				require.Nil(c.t, it.Activity)
				require.NotNil(c.t, it.DeletedAt)
				delete(c.state, it.ID)
			} else {
				require.Equal(c.t, it.ID, it.Activity.ID)
				c.state[it.ID] = *it.Activity
			}
			return nil
		})
	require.NoError(c.t, err)
	require.NotEmpty(c.t, pg.SyncCursor)
	if pg.NextCursor != nil {
		c.cursor = *pg.NextCursor
		require.Equal(c.t, *pg.NextCursor, pg.SyncCursor, "a page that is not the last resumes after itself")
	} else {
		c.cursor = pg.SyncCursor
	}
	return pg
}

// catchUp reads pages until caught up.
func (c *feedClient) catchUp() {
	c.t.Helper()
	for i := 0; ; i++ {
		require.Less(c.t, i, 1000)
		if c.page().NextCursor == nil {
			return
		}
	}
}

// dbState is every activity of the org as GET /v1/activities/{id} shows it.
func dbState(t *testing.T, pool *pgxpool.Pool, st *store.Store, orgID string) map[string]crm.Activity {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT id::text FROM activities WHERE org_id = $1`, orgID)
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	out := map[string]crm.Activity{}
	for _, id := range ids {
		a, err := st.ActivityGet(ctx, orgID, id)
		require.NoError(t, err)
		out[id] = a
	}
	return out
}

// waitWatermark waits until every transaction that had begun when it was
// called has ended, on the whole server (other packages' tests hold
// transactions open too): then the feed serves everything committed
// before the call.
func waitWatermark(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	var xid string
	require.NoError(t, pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var past bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8`, xid).Scan(&past))
		if past {
			return
		}
		require.True(t, time.Now().Before(deadline), "a transaction older than xid %s is still open", xid)
		time.Sleep(20 * time.Millisecond)
	}
}

func requireSameState(t *testing.T, want, got map[string]crm.Activity) {
	t.Helper()
	var missing, extra []string
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	require.Empty(t, missing, "activities missing from the replay")
	require.Empty(t, extra, "activities in the replay that are gone")
	for id, w := range want {
		g, ok := got[id]
		require.True(t, ok, "activity %s missing from the replay", id)
		wb, err := json.Marshal(w)
		require.NoError(t, err)
		gb, err := json.Marshal(g)
		require.NoError(t, err)
		require.JSONEq(t, string(wb), string(gb), "activity %s", id)
	}
}

// TestActivityFeedIncrementalSync pages through an org's feed with a small
// page while, between pages, served rows are updated, new rows inserted,
// rows deleted (one by one, by deleting their account, and a contact's
// link dropped), bookkeeping columns touched, and a transaction opened
// before a page is read commits after it with an earlier timestamp. The
// replay of everything served equals the database, nothing unchanged is
// served twice, and the other org's rows never appear.
func TestActivityFeedIncrementalSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seed := uint64(20261203)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 12))
	pool := testdb.Schema(t)
	st := store.New(pool)
	svc := activity.New(st)
	org, err := st.OrgCreate(ctx, "Feed")
	require.NoError(t, err)
	other, err := st.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	acct := func(orgID, name string) string {
		a, err := st.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some(name)})
		require.NoError(t, err)
		return a.ID
	}
	acme, globex, gone := acct(org.ID, "Acme"), acct(org.ID, "Globex"), acct(org.ID, "Initech")
	foreign := acct(other.ID, "Elsewhere")
	// A contact without an email: deleting it only drops links.
	dana, err := st.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(acme), Name: crm.Some("Dana")})
	require.NoError(t, err)
	lee, err := st.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(acme), Name: crm.Some("Lee")})
	require.NoError(t, err)
	types := []crm.ActivityType{crm.ActivityCall, crm.ActivityEmail, crm.ActivityNote, crm.ActivityMeeting}
	n := 0
	post := func(orgID, accountID string, contacts ...string) string {
		n++
		in := crm.ActivityInput{Type: crm.Some(types[rng.IntN(len(types))]), AccountID: crm.Some(accountID),
			OccurredAt: crm.Some(time.Date(2026, 3, 1, 9, n, 0, 0, time.UTC).Format(time.RFC3339)),
			Subject:    crm.Some(fmt.Sprintf("Touch %d", n))}
		if n%2 == 0 {
			// A call list: the generated list column (00019) must not
			// move a row on a bookkeeping update.
			in.Metadata = crm.Some(json.RawMessage(`{"list": "Renewals"}`))
		}
		if len(contacts) > 0 {
			in.ContactIDs = crm.Some(contacts)
		}
		require.NoError(t, in.Validate(true))
		a, _, _, err := svc.Upsert(ctx, orgID, in)
		require.NoError(t, err)
		return a.ID
	}
	var ids []string
	for i := range 20 {
		acc := []string{acme, globex, gone}[i%3]
		if acc == acme && i%2 == 0 {
			ids = append(ids, post(org.ID, acc, dana.ID, lee.ID))
		} else {
			ids = append(ids, post(org.ID, acc))
		}
	}
	for range 5 {
		post(other.ID, foreign)
	}
	update := func(id, subject string) {
		tag, err := pool.Exec(ctx, `UPDATE activities SET subject = $3, updated_at = now() WHERE org_id = $1 AND id = $2`, org.ID, id, subject)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
	}
	waitWatermark(t, pool)

	c := newFeedClient(t, st, org.ID, 3)
	// servedIDs are the live activities the client was served, but not.
	servedIDs := func(not ...string) []string {
		live := dbState(t, pool, st, org.ID)
		var out []string
		for id := range c.last {
			if _, ok := live[id]; ok && !slices.Contains(not, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		require.NotEmpty(t, out)
		return out
	}
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	var slowRow string
	// Part of the backlog, then served rows change and new rows arrive.
	for range 3 {
		require.NotNil(t, c.page().NextCursor)
	}
	update(pick(servedIDs()), "changed once")
	ids = append(ids, post(org.ID, globex))
	c.page()
	c.catchUp()

	// Caught up, a transaction begins, writes (its timestamps are its start
	// time) and stays open while others commit later changes and the client
	// reads on past them; then it commits. A keyset on time would have the
	// client past its rows for good.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	slowRow = pick(servedIDs())
	_, err = tx.Exec(ctx, `UPDATE activities SET body = 'written by a slow transaction', updated_at = now()
		WHERE org_id = $1 AND id = $2`, org.ID, slowRow)
	require.NoError(t, err)
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(globex),
		OccurredAt: crm.Some("2026-02-01T09:00:00Z"), Subject: crm.Some("slow")}
	require.NoError(t, in.Validate(true))
	_, _, _, err = activity.New(store.New(tx)).Upsert(ctx, org.ID, in)
	require.NoError(t, err)
	update(pick(servedIDs(slowRow)), "changed while the slow one runs")
	ids = append(ids, post(org.ID, acme))
	c.catchUp()
	require.NoError(t, tx.Commit(ctx))

	// Deletions: one activity; a contact shared with another leaves its
	// activities' links; an account goes with its activities (a cascade).
	require.NoError(t, st.ActivityDelete(ctx, org.ID, pick(servedIDs())))
	c.page()
	require.NoError(t, st.ContactDelete(ctx, org.ID, dana.ID))
	c.page()
	// Bookkeeping (the indexer) moves nothing.
	_, err = pool.Exec(ctx, `UPDATE activities SET indexed_at = updated_at, content_hash = '\x00' WHERE org_id = $1`, org.ID)
	require.NoError(t, err)
	c.page()
	require.NoError(t, st.AccountDelete(ctx, org.ID, gone))
	update(pick(servedIDs()), "changed twice")
	c.page()
	waitWatermark(t, pool)
	c.catchUp()
	requireSameState(t, dbState(t, pool, st, org.ID), c.state)

	// A fresh client sees the same, each row once.
	fresh := newFeedClient(t, st, org.ID, 7)
	fresh.catchUp()
	requireSameState(t, dbState(t, pool, st, org.ID), fresh.state)

	// Caught up, the sync cursor gives nothing until something changes,
	// then only that.
	before := c.served
	c.catchUp()
	require.Equal(t, before, c.served)
	update(ids[len(ids)-1], "the last change")
	waitWatermark(t, pool)
	c.catchUp()
	require.Equal(t, before+1, c.served)
	requireSameState(t, dbState(t, pool, st, org.ID), c.state)
}

// TestActivityFeedFollowsNotes: a meeting's processed notes, its action
// items' status and its follow-up draft are part of its feed item, so
// writing them moves the meeting in the feed; the transcript's own
// bookkeeping (status, attempts) does not.
func TestActivityFeedFollowsNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Schema(t)
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "Notes feed")
	require.NoError(t, err)
	acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	ext := "m1"
	res, err := activity.New(st).IngestTranscript(ctx, org.ID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: "Kickoff", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), Format: "segments",
		Segments: []crm.Segment{{Index: 0, Speaker: "Maya", Text: "I'll send the setup guide by Friday."}},
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID),
			OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:m1")},
	})
	require.NoError(t, err)
	meeting := res.Transcript.ActivityID
	waitWatermark(t, pool)
	c := newFeedClient(t, st, org.ID, 10)
	c.catchUp()
	require.Equal(t, 1, c.served)
	require.Nil(t, c.state[meeting].Notes)

	sync := func() {
		t.Helper()
		waitWatermark(t, pool)
		c.catchUp()
		requireSameState(t, dbState(t, pool, st, org.ID), c.state)
	}
	_, err = st.NotesSave(ctx, org.ID, res.Transcript.ID, res.Transcript.Revision, crm.Notes{
		Summary: "Setup guide promised.", Model: "m", PromptVersion: "v1",
		ActionItems: []crm.ActionItem{{Text: "Send the setup guide", Owner: ptrTo("Maya")}},
	}, nil)
	require.NoError(t, err)
	sync()
	require.Equal(t, 2, c.served, "the notes moved the meeting")
	var notes crm.Notes
	require.NoError(t, json.Unmarshal(c.state[meeting].Notes, &notes))
	require.Len(t, notes.ActionItems, 1)
	require.Equal(t, crm.ActionOpen, notes.ActionItems[0].Status)

	_, err = st.ActionItemSetStatus(ctx, org.ID, notes.ActionItems[0].ID, crm.ActionDone)
	require.NoError(t, err)
	sync()
	require.Equal(t, 3, c.served, "an action item's status moved the meeting")

	require.NoError(t, st.FollowUpSave(ctx, org.ID, meeting, crm.FollowUp{Subject: "Next steps", Body: "Hi"}, "m", "v1"))
	sync()
	require.Equal(t, 4, c.served, "the follow-up draft moved the meeting")

	_, err = pool.Exec(ctx, `UPDATE transcripts SET attempts = attempts + 1, updated_at = now() WHERE org_id = $1`, org.ID)
	require.NoError(t, err)
	sync()
	require.Equal(t, 4, c.served, "the transcript's bookkeeping moved nothing")
}

func ptrTo[T any](v T) *T { return &v }

// TestActivityFeedBulk streams a few thousand activities and tombstones,
// interleaved in change order, across many of the store's read chunks: each
// once, in order, whole pages and small pages alike.
func TestActivityFeedBulk(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	ctx := b.ctx
	acct, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	_, err = b.tx.Exec(ctx, `INSERT INTO activities (org_id, id, type, account_id, occurred_at, subject, source)
		SELECT $1, gen_random_uuid(), (ARRAY['call','email','note'])[1 + i % 3], $2, now(), 'bulk ' || i, 'api'
		FROM generate_series(1, 3000) i`, b.orgID, acct.ID)
	require.NoError(t, err)
	// Every seventh (by id) is deleted: its tombstone takes its place.
	_, err = b.tx.Exec(ctx, `DELETE FROM activities WHERE org_id = $1 AND id IN (
		SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM activities WHERE org_id = $1) x WHERE n % 7 = 0)`, b.orgID)
	require.NoError(t, err)
	var ids []string
	rows, err := b.tx.Query(ctx, `SELECT id::text FROM activities WHERE org_id = $1 UNION ALL
		SELECT id::text FROM activity_tombstones WHERE org_id = $1 ORDER BY 1`, b.orgID)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, 3000)

	read := func(limit int) []crm.FeedItem {
		var out []crm.FeedItem
		cursor := ""
		for {
			var pg store.FeedPage
			n := 0
			err := b.store.ActivityFeed(ctx, b.orgID, store.FeedFilter{Cursor: cursor, Limit: limit},
				func(p store.FeedPage) error { pg = p; return nil },
				func(it crm.FeedItem) error { out = append(out, it); n++; return nil })
			require.NoError(t, err)
			require.Equal(t, pg.Items, n, "the page holds what it said")
			if pg.NextCursor == nil {
				return out
			}
			require.Equal(t, limit, n)
			cursor = *pg.NextCursor
		}
	}
	for _, limit := range []int{store.FeedBulkMaxLimit, 1000, 333} {
		items := read(limit)
		require.Len(t, items, len(ids), "limit %d", limit)
		deleted := 0
		for i, it := range items {
			require.Equal(t, ids[i], it.ID, "limit %d, item %d", limit, i)
			if it.Deleted {
				deleted++
			}
		}
		require.Equal(t, 3000/7, deleted)
	}
}

// TestActivityFeedOrder: change order is numeric on the transaction ID
// (9 before 10 before 100), then the activity ID, tombstones interleaved.
func TestActivityFeedOrder(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	ctx := b.ctx
	acct, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	xids := []string{"1000", "9", "100", "11", "10", "99"}
	want := make([]string, len(xids)) // ids by xid
	for i, x := range xids {
		var id string
		require.NoError(t, b.tx.QueryRow(ctx, `INSERT INTO activities (org_id, id, type, account_id, occurred_at, source)
			VALUES ($1, gen_random_uuid(), 'call', $2, now(), 'api') RETURNING id::text`, b.orgID, acct.ID).Scan(&id))
		if i == 3 {
			// One of them is deleted: its tombstone takes its place.
			_, err := b.tx.Exec(ctx, `DELETE FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, id)
			require.NoError(t, err)
			_, err = b.tx.Exec(ctx, `UPDATE activity_tombstones SET change_xid = $3::xid8 WHERE org_id = $1 AND id = $2`, b.orgID, id, x)
			require.NoError(t, err)
		} else {
			// Only change_xid changes: the trigger keeps the value set.
			_, err := b.tx.Exec(ctx, `UPDATE activities SET change_xid = $3::xid8 WHERE org_id = $1 AND id = $2`, b.orgID, id, x)
			require.NoError(t, err)
		}
		n, _ := strconv.Atoi(x)
		pos := map[int]int{9: 0, 10: 1, 11: 2, 99: 3, 100: 4, 1000: 5}[n]
		want[pos] = id
	}
	for _, limit := range []int{1, 2, 4, 10} {
		var got []string
		cursor := ""
		for {
			var pg store.FeedPage
			n := 0
			require.NoError(t, b.store.ActivityFeed(ctx, b.orgID, store.FeedFilter{Cursor: cursor, Limit: limit},
				func(p store.FeedPage) error { pg = p; return nil },
				func(it crm.FeedItem) error { got = append(got, it.ID); n++; return nil }))
			require.Equal(t, pg.Items, n)
			if pg.NextCursor == nil {
				break
			}
			cursor = *pg.NextCursor
		}
		require.Equal(t, want, got, "limit %d", limit)
	}
}
