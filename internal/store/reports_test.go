package store_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// reportUser plants a user named name.
func (b *activityBundle) reportUser(name string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(b.ctx, `INSERT INTO users (org_id, id, email, name, role) VALUES ($1, $2, $3, $4, 'rep')`,
		b.orgID, id, strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@seller.test", name)
	require.NoError(b.t, err)
	return id
}

// reportAccount plants an account with this segment (nil: none).
func (b *activityBundle) reportAccount(segment *string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(b.ctx, `INSERT INTO accounts (org_id, id, name, segment) VALUES ($1, $2, 'Account', $3)`,
		b.orgID, id, segment)
	require.NoError(b.t, err)
	return id
}

// reportActivity plants an activity with SQL, so it may carry what the
// write rules refuse (a code the org has no entry for). Empty strings are
// null; metadata is JSON.
func (b *activityBundle) reportActivity(typ, dir, account, owner, disposition, metadata string, at time.Time) string {
	b.t.Helper()
	id := store.NewID()
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	if metadata == "" {
		metadata = "{}"
	}
	_, err := b.tx.Exec(b.ctx, `INSERT INTO activities (org_id, id, type, direction, account_id, owner_id, occurred_at,
			disposition, source, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'api', $9)`,
		b.orgID, id, typ, null(dir), account, null(owner), at, null(disposition), metadata)
	require.NoError(b.t, err)
	return id
}

func strp(s string) *string { return &s }

func TestReportListColumn(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	acct := b.reportAccount(nil)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("é", 150) + strings.Repeat("😀", 150) // 300 characters, 900 bytes
	for _, c := range []struct {
		metadata string
		want     *string
	}{
		{`{"list": "  Q1 West  "}`, strp("Q1 West")},
		{`{"list": ""}`, nil},
		{`{"list": " \t "}`, strp("\t")}, // btrim trims spaces only
		{`{"list": null}`, nil},
		{`{"list": 7}`, strp("7")},
		{`{"campaign": "x"}`, nil},
		{`{"list": "` + long + `"}`, strp(strings.Repeat("é", 150) + strings.Repeat("😀", 50))},
	} {
		id := b.reportActivity("call", "outbound", acct, "", "", c.metadata, at)
		var got *string
		require.NoError(t, b.tx.QueryRow(b.ctx, `SELECT list FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, id).Scan(&got))
		require.Equal(t, c.want, got, c.metadata)
	}
	// The column follows the metadata.
	id := b.reportActivity("call", "outbound", acct, "", "", `{"list": "A"}`, at)
	_, err := b.tx.Exec(b.ctx, `UPDATE activities SET metadata = '{"list": "B"}' WHERE org_id = $1 AND id = $2`, b.orgID, id)
	require.NoError(t, err)
	var got string
	require.NoError(t, b.tx.QueryRow(b.ctx, `SELECT list FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, id).Scan(&got))
	require.Equal(t, "B", got)
}

func TestReportConnectRatesStore(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	zoe, yan := b.reportUser("Zoe Zhu"), b.reportUser("Yan Yu")
	ent, empty, none := b.reportAccount(strp("Enterprise")), b.reportAccount(strp("")), b.reportAccount(nil)
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	b.reportActivity("call", "outbound", ent, zoe, "connected", `{"list":"L1"}`, day(1, 0))
	b.reportActivity("call", "outbound", ent, zoe, "legacy_code", `{"list":"L1"}`, day(2, 9)) // a code the org has no entry for
	b.reportActivity("voicemail", "outbound", empty, yan, "voicemail", `{"list":"L2"}`, day(3, 9))
	b.reportActivity("call", "outbound", none, yan, "", "", day(4, 9))
	b.reportActivity("call", "outbound", none, "", "not_interested", `{"list":"L2"}`, day(5, 9))
	b.reportActivity("call", "inbound", ent, zoe, "connected", "", day(5, 9))   // not a dial
	b.reportActivity("call", "", ent, zoe, "connected", "", day(5, 9))          // no direction: not a dial
	b.reportActivity("note", "outbound", ent, zoe, "", "", day(5, 9))           // not a dial
	b.reportActivity("call", "outbound", ent, zoe, "connected", "", day(8, 0))  // at until
	b.reportActivity("call", "outbound", ent, zoe, "connected", "", day(0, 23)) // before since (02-28 23:00)
	f := store.ReportFilter{Since: day(1, 0), Until: day(8, 0)}

	get := func(g string, f store.ReportFilter) []store.ConnectRateRow {
		t.Helper()
		rows, err := b.store.ReportConnectRates(b.ctx, b.orgID, g, f)
		require.NoError(t, err)
		return rows
	}
	row := func(key *string, label string, dials, connected, noDisp int64) store.ConnectRateRow {
		return store.ConnectRateRow{Key: key, Label: label, Dials: dials, Connected: connected, NoDisposition: noDisp}
	}
	require.Equal(t, []store.ConnectRateRow{
		row(nil, "(no segment)", 3, 1, 1), // empty and null segments alike
		row(strp("Enterprise"), "Enterprise", 2, 1, 1),
	}, get(store.GroupSegment, f))
	require.Equal(t, []store.ConnectRateRow{
		row(strp(yan), "Yan Yu", 2, 0, 1),
		row(strp(zoe), "Zoe Zhu", 2, 1, 1),
		row(nil, "(no owner)", 1, 1, 0),
	}, get(store.GroupOwner, f))
	require.Equal(t, []store.ConnectRateRow{
		row(strp("L1"), "L1", 2, 1, 1),
		row(strp("L2"), "L2", 2, 1, 0),
		row(nil, "(no list)", 1, 0, 1),
	}, get(store.GroupList, f))
	require.Equal(t, []store.ConnectRateRow{
		row(nil, "(no disposition)", 2, 0, 2), // none, and the unknown code
		row(strp("connected"), "Connected", 1, 1, 0),
		row(strp("not_interested"), "Not interested", 1, 1, 0),
		row(strp("voicemail"), "Voicemail", 1, 0, 0),
	}, get(store.GroupDisposition, f))

	// The report reads the flag as it is now, and a relabelled code's new label.
	_, err := b.tx.Exec(b.ctx, `UPDATE dispositions SET connect = NOT connect, label = 'VM left'
		WHERE org_id = $1 AND code IN ('voicemail', 'not_interested')`, b.orgID)
	require.NoError(t, err)
	require.Equal(t, []store.ConnectRateRow{
		row(nil, "(no disposition)", 2, 0, 2),
		row(strp("connected"), "Connected", 1, 1, 0),
		row(strp("not_interested"), "VM left", 1, 0, 0),
		row(strp("voicemail"), "VM left", 1, 1, 0),
	}, get(store.GroupDisposition, f))

	// owner_id narrows; an empty range has no rows; another org sees none.
	require.Equal(t, []store.ConnectRateRow{row(strp("Enterprise"), "Enterprise", 2, 1, 1)},
		get(store.GroupSegment, store.ReportFilter{Since: f.Since, Until: f.Until, OwnerID: zoe}))
	require.Empty(t, get(store.GroupOwner, store.ReportFilter{Since: day(10, 0), Until: day(11, 0)}))
	other, err := b.store.OrgCreate(b.ctx, "Other")
	require.NoError(t, err)
	rows, err := b.store.ReportConnectRates(b.ctx, other.ID, store.GroupSegment, f)
	require.NoError(t, err)
	require.Empty(t, rows)

	_, err = b.store.ReportConnectRates(b.ctx, b.orgID, "week", f)
	require.Error(t, err)
}

func TestReportActivityVolumeStore(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	acct := b.reportAccount(nil)
	zoe := b.reportUser("Zoe Zhu")
	// Tokyo has no daylight saving time: weeks there start on Sunday 15:00 UTC.
	b.reportActivity("note", "", acct, zoe, "", "", time.Date(2026, 3, 1, 14, 59, 0, 0, time.UTC))        // Sun 23:59 JST: week of 02-23
	b.reportActivity("email", "outbound", acct, "", "", "", time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)) // Mon 00:00 JST: week of 03-02
	b.reportActivity("call", "outbound", acct, zoe, "", "", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
	f := store.ReportFilter{Since: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), TZ: "Asia/Tokyo"}
	rows, err := b.store.ReportActivityVolume(b.ctx, b.orgID, store.GroupWeek, f)
	require.NoError(t, err)
	require.Equal(t, []store.VolumeRow{
		{Key: strp("2026-02-16"), Label: "2026-W08", Activities: 0},
		{Key: strp("2026-02-23"), Label: "2026-W09", Activities: 1},
		{Key: strp("2026-03-02"), Label: "2026-W10", Activities: 2},
		{Key: strp("2026-03-09"), Label: "2026-W11", Activities: 0},
		{Key: strp("2026-03-16"), Label: "2026-W12", Activities: 0},
	}, rows)

	f.Types = []crm.ActivityType{crm.ActivityNote, crm.ActivityCall}
	rows, err = b.store.ReportActivityVolume(b.ctx, b.orgID, store.GroupOwner, f)
	require.NoError(t, err)
	require.Equal(t, []store.VolumeRow{{Key: strp(zoe), Label: "Zoe Zhu", Activities: 2}}, rows)

	// A zone the database does not know is the client's tz, not a 500.
	f.TZ = "Mars/Olympus"
	_, err = b.store.ReportActivityVolume(b.ctx, b.orgID, store.GroupWeek, f)
	require.Equal(t, []string{"tz"}, problemFields(t, err))
}

// TestReportPlans pins the reports to index-only range scans of the
// indexes migration 00019 made for them: the partial dials index for
// connect rates (its predicate implied by the query, every column the
// report reads included) and the volume index for activity volume. Scans
// of the heap are disabled so that the planner shows what it can do with
// this little data; a query the index could not serve would fall back to
// a plain index scan, or to another index.
func TestReportPlans(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	_, err := b.tx.Exec(b.ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`)
	require.NoError(t, err)
	f := store.ReportFilter{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		OwnerID: store.NewID(), Types: []crm.ActivityType{crm.ActivityCall}, TZ: "Europe/Paris"}
	scans := func(q string, args []any) []map[string]any {
		t.Helper()
		var plan []map[string]any
		require.NoError(t, b.tx.QueryRow(b.ctx, `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan))
		var out []map[string]any
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			if n["Relation Name"] == "activities" {
				out = append(out, n)
			}
			for _, c := range asSlice(n["Plans"]) {
				walk(c.(map[string]any))
			}
		}
		walk(plan[0]["Plan"].(map[string]any))
		return out
	}
	for _, g := range store.ConnectRateGroups {
		for _, owner := range []string{"", f.OwnerID} {
			ff := f
			ff.OwnerID = owner
			q, args, err := store.ReportConnectRatesSQL(b.orgID, g, ff)
			require.NoError(t, err)
			s := scans(q, args)
			require.Len(t, s, 1, g)
			if owner != "" && s[0]["Index Name"] == "activities_owner_idx" {
				// One owner's range of the owner index is as good a
				// range scan; which one the planner takes depends on
				// the statistics the package's other tests leave.
				require.Equal(t, "Index Scan", s[0]["Node Type"], "%s: %v", g, s[0])
				continue
			}
			require.Equal(t, "Index Only Scan", s[0]["Node Type"], "%s: %v", g, s[0])
			require.Equal(t, "activities_dials_idx", s[0]["Index Name"], g)
		}
	}
	// (With owner_id, activities_owner_idx serves the volume report: the
	// owner's range of it.)
	f.OwnerID = ""
	for _, g := range store.VolumeGroups {
		q, args, err := store.ReportActivityVolumeSQL(b.orgID, g, f)
		require.NoError(t, err)
		s := scans(q, args)
		require.Len(t, s, 1, g)
		require.Equal(t, "Index Only Scan", s[0]["Node Type"], "%s: %v", g, s[0])
		require.Equal(t, "activities_volume_idx", s[0]["Index Name"], g)
	}
}

// TestReportPropertyStore plants random activities, unknown codes and
// empty segments included, and checks for every grouping that the rows
// add up to the count made here from what was planted.
func TestReportPropertyStore(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	const seed = 1203
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 15))
	users := []string{b.reportUser("A"), b.reportUser("B"), ""}
	var accounts []string
	for _, s := range []*string{strp("X"), strp("Y"), strp(""), nil} {
		accounts = append(accounts, b.reportAccount(s))
	}
	types := []string{"call", "voicemail", "email", "note"}
	dirs := []string{"outbound", "inbound", ""}
	codes := []string{"connected", "busy", "not_in_table", ""}
	connect := map[string]bool{"connected": true}
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := since.Add(10 * 24 * time.Hour)
	var dials, connected, noDisp, all int64
	for range 200 {
		typ, dir, code := types[rng.IntN(len(types))], dirs[rng.IntN(len(dirs))], codes[rng.IntN(len(codes))]
		at := since.Add(time.Duration(rng.Int64N(int64(12*24*time.Hour))) - 24*time.Hour)
		md := ""
		if l := rng.IntN(3); l < 2 {
			md = fmt.Sprintf(`{"list":"L%d"}`, l)
		}
		b.reportActivity(typ, dir, accounts[rng.IntN(len(accounts))], users[rng.IntN(len(users))], code, md, at)
		if at.Before(since) || !at.Before(until) {
			continue
		}
		all++
		if dir == "outbound" && (typ == "call" || typ == "voicemail") {
			dials++
			if connect[code] {
				connected++
			}
			if code == "" || code == "not_in_table" {
				noDisp++
			}
		}
	}
	f := store.ReportFilter{Since: since, Until: until}
	for _, g := range store.ConnectRateGroups {
		rows, err := b.store.ReportConnectRates(b.ctx, b.orgID, g, f)
		require.NoError(t, err)
		var d, c, n int64
		for _, r := range rows {
			d, c, n = d+r.Dials, c+r.Connected, n+r.NoDisposition
		}
		require.Equal(t, []int64{dials, connected, noDisp}, []int64{d, c, n}, g)
	}
	for _, g := range store.VolumeGroups {
		rows, err := b.store.ReportActivityVolume(b.ctx, b.orgID, g, f)
		require.NoError(t, err)
		var n int64
		for _, r := range rows {
			n += r.Activities
		}
		require.Equal(t, all, n, g)
	}
}
