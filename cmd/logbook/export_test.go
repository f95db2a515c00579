package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// waitFeed waits until every transaction begun before the call has ended
// on the server (other packages' tests hold some open): then the feed
// serves everything committed before it.
func waitFeed(t *testing.T, pool *pgxpool.Pool) {
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

func readNDJSON(t *testing.T, b []byte) []crm.FeedItem {
	t.Helper()
	var out []crm.FeedItem
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var it crm.FeedItem
		require.NoError(t, json.Unmarshal(sc.Bytes(), &it))
		out = append(out, it)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestExport runs logbook export twice with a state file: the first run
// writes the org's whole feed, the second only what changed in between
// (an update, a deletion, a new activity), a third nothing; CSV to stdout;
// and the failures say what went wrong.
func TestExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, url, store.PoolConfig{})
	require.NoError(t, err)
	defer pool.Close()
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "Export")
	require.NoError(t, err)
	other, err := st.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	post := func(orgID, accountID string, i int) string {
		in := crm.ActivityInput{Type: crm.Some(crm.ActivityCall), AccountID: crm.Some(accountID),
			OccurredAt: crm.Some(time.Date(2026, 3, 1, 9, i, 0, 0, time.UTC).Format(time.RFC3339)), Subject: crm.Some("Call")}
		require.NoError(t, in.Validate(true))
		a, _, _, err := activity.New(st).Upsert(ctx, orgID, in)
		require.NoError(t, err)
		return a.ID
	}
	acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	otherAcct, err := st.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Elsewhere")})
	require.NoError(t, err)
	var ids []string
	for i := range 5 {
		ids = append(ids, post(org.ID, acct.ID, i))
	}
	post(other.ID, otherAcct.ID, 0)
	waitFeed(t, pool)

	dir := t.TempDir()
	state, outFile := filepath.Join(dir, "state"), filepath.Join(dir, "out.ndjson")
	env := envOf(map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "error"})
	export := func(args ...string) (string, string, error) {
		var out, errb strings.Builder
		err := run(ctx, append([]string{"export", "-org", org.ID}, args...), &out, &errb, env)
		return out.String(), errb.String(), err
	}
	_, progress, err := export("-state", state, "-o", outFile, "-page", "2")
	require.NoError(t, err, progress)
	require.Contains(t, progress, "export: done: 5 rows (0 deletions)")
	b, err := os.ReadFile(outFile)
	require.NoError(t, err)
	first := readNDJSON(t, b)
	var got []string
	for _, it := range first {
		got = append(got, it.ID)
	}
	require.ElementsMatch(t, ids, got)
	cursor, err := os.ReadFile(state)
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(string(cursor)))

	// Changes: an update, a deletion, a new activity.
	_, err = pool.Exec(ctx, `UPDATE activities SET subject = 'Call back' WHERE org_id = $1 AND id = $2`, org.ID, ids[1])
	require.NoError(t, err)
	require.NoError(t, st.ActivityDelete(ctx, org.ID, ids[3]))
	added := post(org.ID, acct.ID, 9)
	waitFeed(t, pool)
	_, progress, err = export("-state", state, "-o", outFile)
	require.NoError(t, err, progress)
	b, err = os.ReadFile(outFile)
	require.NoError(t, err)
	second := readNDJSON(t, b)
	require.Len(t, second, 3, "%s", b)
	byID := map[string]crm.FeedItem{}
	for _, it := range second {
		byID[it.ID] = it
	}
	require.Equal(t, "Call back", *byID[ids[1]].Activity.Subject)
	require.True(t, byID[ids[3]].Deleted)
	require.False(t, byID[added].Deleted)
	require.Contains(t, progress, "export: done: 3 rows (1 deletions)")

	// Nothing changed: nothing to write.
	out, progress, err := export("-state", state)
	require.NoError(t, err, progress)
	require.Empty(t, out)
	require.Contains(t, progress, "export: done: 0 rows")

	// CSV to stdout, without state: the whole feed.
	out, _, err = export("-format", "csv", "-types", "call")
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, crm.FeedCSVColumns, recs[0])
	require.Len(t, recs, 1+6) // five, one added, one of them a tombstone

	// Failures.
	_, _, err = export("-state", state, "-types", "email")
	require.ErrorContains(t, err, "the cursor in "+state)
	require.ErrorContains(t, err, "cursor")
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("not a cursor\n"), 0o600))
	_, _, err = export("-state", bad)
	require.ErrorContains(t, err, "is not a cursor")
	var errb strings.Builder
	err = run(ctx, []string{"export", "-org", store.NewID()}, &strings.Builder{}, &errb, env)
	require.ErrorContains(t, err, "no org")
	var ue usageError
	require.ErrorAs(t, run(ctx, []string{"export"}, &strings.Builder{}, &errb, env), &ue)
	require.ErrorAs(t, run(ctx, []string{"export", "-org", org.ID, "-format", "xml"}, &strings.Builder{}, &errb, env), &ue)
	db, _ := trap(t)
	down := envOf(map[string]string{"DATABASE_URL": "postgres://postgres@" + db + "/x?sslmode=disable&connect_timeout=2", "LOG_LEVEL": "error"})
	err = run(ctx, []string{"export", "-org", org.ID, "-o", filepath.Join(dir, "never")}, &strings.Builder{}, &errb, down)
	require.Error(t, err)
	_, statErr := os.Stat(filepath.Join(dir, "never"))
	require.True(t, os.IsNotExist(statErr), "a failed export leaves no output file")
}
