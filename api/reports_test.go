package api

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/store"
)

// formatsAre reports whether s is anyOf strings of exactly these formats,
// in order: a report's since and until take a date-time or a date
// (checkFieldFormat lets them).
func formatsAre(s map[string]any, formats ...string) bool {
	alts, ok := s["anyOf"].([]any)
	if !ok || len(alts) != len(formats) {
		return false
	}
	for i, a := range alts {
		am, _ := a.(map[string]any)
		if am["type"] != "string" || am["format"] != formats[i] {
			return false
		}
	}
	return true
}

// reportRow is a row of either report as a test reads it: nil pointers
// for null.
type reportRow struct {
	Key           *string  `json:"key"`
	Label         string   `json:"label"`
	Dials         int64    `json:"dials"`
	Connected     int64    `json:"connected"`
	ConnectRate   *float64 `json:"connect_rate"`
	NoDisposition int64    `json:"no_disposition"`
	Activities    int64    `json:"activities"`
}

type reportBody struct {
	GroupBy string      `json:"group_by"`
	Since   string      `json:"since"`
	Until   string      `json:"until"`
	TZ      string      `json:"tz"`
	Rows    []reportRow `json:"rows"`
	Total   reportRow   `json:"total"`
}

// report GETs a report and requires 200.
func (b *testBundle) report(path string) reportBody {
	b.t.Helper()
	res := b.do("GET", path, nil)
	require.Equal(b.t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
	var out reportBody
	res.JSON(b.t, &out)
	require.NotNil(b.t, out.Rows, "rows is [] when empty, never null")
	return out
}

func rptKey(s string) *string { return &s }

func rptRate(f float64) *float64 { return &f }

// cr is an expected connect-rate row.
func rptDials(key *string, label string, dials, connected int64, rate *float64, noDisp int64) reportRow {
	return reportRow{Key: key, Label: label, Dials: dials, Connected: connected, ConnectRate: rate, NoDisposition: noDisp}
}

// vr is an expected volume row.
func rptCount(key *string, label string, n int64) reportRow {
	return reportRow{Key: key, Label: label, Activities: n}
}

// reportFixture is the hand-counted fixture of the report tests: two
// users, three accounts (one without a segment), and activities around the
// range [2026-03-01, 2026-03-08) UTC, with another org's dial in it.
type reportFixture struct {
	ann, bob string
}

func (b *testBundle) reportFixture() reportFixture {
	b.t.Helper()
	ann := b.create("/v1/users", map[string]any{"email": "ann@seller.test", "name": "Ann Avery", "role": "rep"})
	bob := b.create("/v1/users", map[string]any{"email": "bob@seller.test", "name": "Bob Baker", "role": "rep"})
	acme := b.create("/v1/accounts", map[string]any{"name": "Acme", "segment": "Enterprise"})
	beta := b.create("/v1/accounts", map[string]any{"name": "Beta", "segment": "SMB"})
	gamma := b.create("/v1/accounts", map[string]any{"name": "Gamma"})
	act := func(typ, dir, account, owner, disposition, list, at string) {
		b.t.Helper()
		in := map[string]any{"type": typ, "account_id": account, "occurred_at": at}
		if dir != "" {
			in["direction"] = dir
		}
		if owner != "" {
			in["owner_id"] = owner
		}
		if disposition != "" {
			in["disposition"] = disposition
		}
		if list != "" {
			in["metadata"] = map[string]any{"list": list, "campaign": "spring"}
		}
		b.create("/v1/activities", in)
	}
	// The dials of the range, numbered as the expectations count them.
	act("call", "outbound", acme, ann, "connected", "Q1 West", "2026-03-01T00:00:00Z")      // 1: at since (inclusive)
	act("call", "outbound", acme, ann, "no_answer", " Q1 West ", "2026-03-02T10:00:00Z")    // 2: list trimmed
	act("voicemail", "outbound", beta, bob, "voicemail", "Q1 East", "2026-03-03T10:00:00Z") // 3: a voicemail is a dial
	act("call", "outbound", beta, bob, "", "", "2026-03-04T10:00:00Z")                      // 4: no disposition, no list
	act("call", "outbound", gamma, "", "meeting_booked", "Q1 East", "2026-03-05T10:00:00Z") // 5: no owner, no segment
	act("call", "outbound", gamma, ann, "gatekeeper", "   ", "2026-03-06T10:00:00Z")        // 6: retired below; blank list
	act("call", "outbound", acme, bob, "busy", "", "2026-03-07T23:59:59.999999Z")           // 7: busy, flagged a connect below
	// Not dials of the range.
	act("call", "outbound", acme, ann, "connected", "Q1 West", "2026-03-08T00:00:00Z") // at until (exclusive)
	act("call", "outbound", acme, ann, "connected", "Q1 West", "2026-02-28T23:59:59Z") // before since
	act("call", "inbound", acme, ann, "connected", "Q1 West", "2026-03-02T11:00:00Z")  // inbound: counted by volume
	act("email", "outbound", acme, ann, "", "Q1 West", "2026-03-02T12:00:00Z")         // not a call: counted by volume
	act("meeting", "", beta, bob, "", "", "2026-03-03T12:00:00Z")                      // counted by volume
	// Another org's dial in the range.
	_, otherKey := b.newOrg("Other Org")
	res := b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Other", "segment": "Enterprise"})
	require.Equal(b.t, http.StatusCreated, res.Status)
	other := res.Map(b.t)["id"].(string)
	res = b.doKey(otherKey, "POST", "/v1/activities", map[string]any{"type": "call", "direction": "outbound",
		"account_id": other, "occurred_at": "2026-03-03T10:00:00Z", "disposition": "connected",
		"metadata": map[string]any{"list": "Q1 West"}})
	require.Equal(b.t, http.StatusCreated, res.Status, "%s", res.Body)
	return reportFixture{ann: ann, bob: bob}
}

const reportRange = "since=2026-03-01T00:00:00Z&until=2026-03-08T00:00:00Z"

func TestReportConnectRates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fx := b.reportFixture()
	get := func(groupBy string, extra ...string) reportBody {
		return b.report("/v1/reports/connect-rates?group_by=" + groupBy + "&" + reportRange + strings.Join(extra, ""))
	}

	t.Run("FollowsTheConnectFlag", func(t *testing.T) {
		// Before: busy is not a connect (the default); 2 of 7 connect.
		r := get("segment")
		require.Equal(t, rptDials(nil, "", 7, 2, rptRate(0.2857), 1), r.Total)
		require.Equal(t, "2026-03-01T00:00:00Z", r.Since)
		require.Equal(t, "2026-03-08T00:00:00Z", r.Until)
		require.Equal(t, "UTC", r.TZ)
		require.Equal(t, "segment", r.GroupBy)
	})

	// busy becomes a connect, gatekeeper is retired (left out).
	codes := []map[string]any{}
	for _, c := range []string{"connected", "meeting_booked", "not_interested", "voicemail", "no_answer", "busy", "wrong_number"} {
		e := map[string]any{"code": c}
		if c == "busy" {
			e["connect"] = true
		}
		codes = append(codes, e)
	}
	res := b.do("PATCH", "/v1/settings", map[string]any{"disposition_codes": codes})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	t.Run("BySegment", func(t *testing.T) {
		r := get("segment")
		require.Equal(t, []reportRow{
			rptDials(rptKey("Enterprise"), "Enterprise", 3, 2, rptRate(0.6667), 0), // 1, 2, 7
			rptDials(rptKey("SMB"), "SMB", 2, 0, rptRate(0), 1),                    // 3, 4
			rptDials(nil, "(no segment)", 2, 1, rptRate(0.5), 0),                   // 5, 6
		}, r.Rows)
		require.Equal(t, rptDials(nil, "", 7, 3, rptRate(0.4286), 1), r.Total)
	})
	t.Run("ByOwner", func(t *testing.T) {
		r := get("owner")
		require.Equal(t, []reportRow{
			rptDials(&fx.ann, "Ann Avery", 3, 1, rptRate(0.3333), 0), // 1, 2, 6
			rptDials(&fx.bob, "Bob Baker", 3, 1, rptRate(0.3333), 1), // 3, 4, 7
			rptDials(nil, "(no owner)", 1, 1, rptRate(1), 0),         // 5
		}, r.Rows)
	})
	t.Run("ByList", func(t *testing.T) {
		r := get("list")
		require.Equal(t, []reportRow{
			rptDials(nil, "(no list)", 3, 1, rptRate(0.3333), 1),          // 4, 6 (blank), 7
			rptDials(rptKey("Q1 East"), "Q1 East", 2, 1, rptRate(0.5), 0), // 3, 5
			rptDials(rptKey("Q1 West"), "Q1 West", 2, 1, rptRate(0.5), 0), // 1, 2 (trimmed)
		}, r.Rows)
	})
	t.Run("ByDisposition", func(t *testing.T) {
		r := get("disposition")
		require.Equal(t, []reportRow{
			rptDials(rptKey("busy"), "Busy", 1, 1, rptRate(1), 0),
			rptDials(rptKey("connected"), "Connected", 1, 1, rptRate(1), 0),
			rptDials(rptKey("gatekeeper"), "Gatekeeper", 1, 0, rptRate(0), 0), // retired: still labelled and counted
			rptDials(rptKey("meeting_booked"), "Meeting booked", 1, 1, rptRate(1), 0),
			rptDials(rptKey("no_answer"), "No answer", 1, 0, rptRate(0), 0),
			rptDials(rptKey("voicemail"), "Voicemail", 1, 0, rptRate(0), 0),
			rptDials(nil, "(no disposition)", 1, 0, rptRate(0), 1),
		}, r.Rows)
		require.Equal(t, rptDials(nil, "", 7, 3, rptRate(0.4286), 1), r.Total)
	})
	t.Run("ByOwnerID", func(t *testing.T) {
		r := get("segment", "&owner_id="+strings.ToUpper(fx.bob))
		require.Equal(t, []reportRow{
			rptDials(rptKey("SMB"), "SMB", 2, 0, rptRate(0), 1),
			rptDials(rptKey("Enterprise"), "Enterprise", 1, 1, rptRate(1), 0),
		}, r.Rows)
	})
	t.Run("DatesAreMidnightInTZ", func(t *testing.T) {
		// [2026-03-01 00:00, 2026-03-08 00:00) in Paris (UTC+1) is
		// [02-28 23:00Z, 03-07 23:00Z): dial 7 falls out, the one at
		// 02-28 23:59:59Z comes in.
		r := b.report("/v1/reports/connect-rates?group_by=owner&since=2026-03-01&until=2026-03-08&tz=Europe/Paris")
		require.Equal(t, "2026-02-28T23:00:00Z", r.Since)
		require.Equal(t, "2026-03-07T23:00:00Z", r.Until)
		require.Equal(t, "Europe/Paris", r.TZ)
		require.Equal(t, []reportRow{
			rptDials(&fx.ann, "Ann Avery", 4, 2, rptRate(0.5), 0),
			rptDials(&fx.bob, "Bob Baker", 2, 0, rptRate(0), 1),
			rptDials(nil, "(no owner)", 1, 1, rptRate(1), 0),
		}, r.Rows)
	})
	t.Run("CSV", func(t *testing.T) {
		req := httptest.NewRequest("GET", "/v1/reports/connect-rates?group_by=segment&"+reportRange, nil)
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Accept", "text/csv")
		res := b.serve(req)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		require.Equal(t, "key,label,dials,connected,connect_rate,no_disposition\r\n"+
			"Enterprise,Enterprise,3,2,0.6667,0\r\n"+
			"SMB,SMB,2,0,0,1\r\n"+
			",(no segment),2,1,0.5,0\r\n", string(res.Body))
	})
}

func TestReportActivityVolume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fx := b.reportFixture()
	get := func(q string) reportBody { return b.report("/v1/reports/activity-volume?" + reportRange + "&" + q) }

	r := get("group_by=type")
	require.Equal(t, []reportRow{
		rptCount(rptKey("call"), "call", 7), // dials 1, 2, 4, 5, 6, 7 and the inbound call
		rptCount(rptKey("email"), "email", 1),
		rptCount(rptKey("meeting"), "meeting", 1),
		rptCount(rptKey("voicemail"), "voicemail", 1),
	}, r.Rows)
	require.Equal(t, int64(10), r.Total.Activities)

	r = get("group_by=owner")
	require.Equal(t, []reportRow{
		rptCount(&fx.ann, "Ann Avery", 5), // 1, 2, 6, the inbound call, the email
		rptCount(&fx.bob, "Bob Baker", 4), // 3, 4, 7, the meeting
		rptCount(nil, "(no owner)", 1),    // 5
	}, r.Rows)
	require.Equal(t, int64(10), r.Total.Activities)

	r = get("group_by=owner&types=call,email")
	require.Equal(t, []reportRow{rptCount(&fx.ann, "Ann Avery", 5), rptCount(&fx.bob, "Bob Baker", 2), rptCount(nil, "(no owner)", 1)}, r.Rows)

	r = get("group_by=type&owner_id=" + fx.bob)
	require.Equal(t, []reportRow{rptCount(rptKey("call"), "call", 2), rptCount(rptKey("meeting"), "meeting", 1), rptCount(rptKey("voicemail"), "voicemail", 1)}, r.Rows)

	// Weeks in UTC: 2026-03-01 is a Sunday, so the range overlaps the weeks
	// of Monday 02-23 (one day of it) and Monday 03-02.
	r = get("group_by=week")
	require.Equal(t, []reportRow{rptCount(rptKey("2026-02-23"), "2026-W09", 1), rptCount(rptKey("2026-03-02"), "2026-W10", 9)}, r.Rows)

	// CSV of a week report: the zeros are rows too.
	req := httptest.NewRequest("GET", "/v1/reports/activity-volume?group_by=week&since=2026-03-09&until=2026-03-17", nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Accept", "text/csv;q=0.9, application/json;q=0.5")
	res := b.serve(req)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, "key,label,activities\r\n2026-03-09,2026-W11,0\r\n2026-03-16,2026-W12,0\r\n", string(res.Body))
}

// TestReportWeeksAcrossDST counts by week in New York across the start of
// daylight saving time (2026-03-08, 02:00 EST → 03:00 EDT) and its end
// (2026-11-01, 02:00 EDT → 01:00 EST): weeks are Monday 00:00 to Monday
// 00:00 on the clock there, so their length in UTC is 167 or 169 hours.
func TestReportWeeksAcrossDST(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
	for _, at := range []string{
		"2026-02-23T04:59:00Z", // Sun 02-22 23:59 EST: before since
		"2026-03-02T04:30:00Z", // Sun 03-01 23:30 EST: week of 02-23
		"2026-03-02T05:00:00Z", // Mon 03-02 00:00 EST: week of 03-02
		"2026-03-09T03:30:00Z", // Sun 03-08 23:30 EDT: week of 03-02 (a fixed -05:00 would say 22:30, the same week)
		"2026-03-09T04:30:00Z", // Mon 03-09 00:30 EDT: week of 03-09 (a fixed -05:00 would say Sun 23:30)
		"2026-11-02T04:30:00Z", // Sun 11-01 23:30 EST: week of 10-26 (a fixed -04:00 would say Mon 00:30)
		"2026-11-02T05:00:00Z", // Mon 11-02 00:00 EST: week of 11-02
	} {
		b.create("/v1/activities", map[string]any{"type": "note", "account_id": acct, "occurred_at": at})
	}
	r := b.report("/v1/reports/activity-volume?group_by=week&tz=America/New_York&since=2026-02-23&until=2026-03-23")
	require.Equal(t, "2026-02-23T05:00:00Z", r.Since) // midnight EST
	require.Equal(t, "2026-03-23T04:00:00Z", r.Until) // midnight EDT
	require.Equal(t, []reportRow{
		rptCount(rptKey("2026-02-23"), "2026-W09", 1),
		rptCount(rptKey("2026-03-02"), "2026-W10", 2),
		rptCount(rptKey("2026-03-09"), "2026-W11", 1),
		rptCount(rptKey("2026-03-16"), "2026-W12", 0),
	}, r.Rows)
	require.Equal(t, int64(4), r.Total.Activities)

	r = b.report("/v1/reports/activity-volume?group_by=week&tz=America/New_York&since=2026-10-26&until=2026-11-09")
	require.Equal(t, []reportRow{rptCount(rptKey("2026-10-26"), "2026-W44", 1), rptCount(rptKey("2026-11-02"), "2026-W45", 1)}, r.Rows)

	// A range that starts mid-week lists that week; one ending on a
	// Monday at midnight does not list the week it opens.
	r = b.report("/v1/reports/activity-volume?group_by=week&tz=America/New_York&since=2026-03-04T12:00:00Z&until=2026-03-09T04:00:00Z")
	require.Equal(t, []reportRow{rptCount(rptKey("2026-03-02"), "2026-W10", 1)}, r.Rows)
}

func TestReportEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, g := range store.ConnectRateGroups {
		r := b.report("/v1/reports/connect-rates?group_by=" + g)
		require.Empty(t, r.Rows)
		require.Equal(t, rptDials(nil, "", 0, 0, nil, 0), r.Total, "connect_rate is null without dials")
		since, err := time.Parse(time.RFC3339Nano, r.Since)
		require.NoError(t, err)
		until, err := time.Parse(time.RFC3339Nano, r.Until)
		require.NoError(t, err)
		require.Equal(t, 30*24*time.Hour, until.Sub(since), "since defaults to 30 days before until")
		require.WithinDuration(t, time.Now(), until, time.Minute, "until defaults to now")
	}
	r := b.report("/v1/reports/activity-volume?group_by=owner")
	require.Empty(t, r.Rows)
	require.Zero(t, r.Total.Activities)

	req := httptest.NewRequest("GET", "/v1/reports/connect-rates?group_by=list", nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Accept", "text/csv")
	res := b.serve(req)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "key,label,dials,connected,connect_rate,no_disposition\r\n", string(res.Body))
}

// TestReportCSVGuardsText: a segment or list a person typed is not read as
// a formula by a spreadsheet, in the key as in the label.
func TestReportCSVGuardsText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.create("/v1/accounts", map[string]any{"name": "Acme", "segment": "=HYPERLINK(\"x\")"})
	b.create("/v1/activities", map[string]any{"type": "call", "direction": "outbound", "account_id": acct,
		"occurred_at": "2026-03-02T10:00:00Z", "disposition": "connected", "metadata": map[string]any{"list": "@list, \"A\""}})
	// encoding/csv quotes a cell that holds a quote or a comma.
	for _, c := range []struct{ groupBy, want string }{
		{"segment", `"'=HYPERLINK(""x"")","'=HYPERLINK(""x"")",1,1,1,0`},
		{"list", `"'@list, ""A""","'@list, ""A""",1,1,1,0`},
	} {
		req := httptest.NewRequest("GET", "/v1/reports/connect-rates?group_by="+c.groupBy+"&"+reportRange, nil)
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Accept", "text/csv")
		res := b.serve(req)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "key,label,dials,connected,connect_rate,no_disposition\r\n"+c.want+"\r\n", string(res.Body))
	}
	// JSON keeps the text as it is.
	r := b.report("/v1/reports/connect-rates?group_by=segment&" + reportRange)
	require.Equal(t, `=HYPERLINK("x")`, *r.Rows[0].Key)
}

func TestReportBadParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"/v1/reports/connect-rates?group_by=week", []string{"group_by"}},
		{"/v1/reports/activity-volume?group_by=segment", []string{"group_by"}},
		{"/v1/reports/connect-rates?group_by=owner&since=yesterday", []string{"since"}},
		{"/v1/reports/connect-rates?group_by=owner&until=2026-02-30", []string{"until"}},
		{"/v1/reports/connect-rates?group_by=owner&since=2026-03-01&until=2026-03-01", []string{"since"}},
		{"/v1/reports/connect-rates?group_by=owner&since=2026-03-02&until=2026-03-01", []string{"since"}},
		{"/v1/reports/connect-rates?group_by=owner&since=2024-01-01&until=2026-01-03", []string{"since"}},
		{"/v1/reports/connect-rates?group_by=owner&until=1969-12-31T00:00:00Z", []string{"until"}},
		{"/v1/reports/connect-rates?group_by=owner&tz=Mars/Olympus", []string{"tz"}},
		{"/v1/reports/connect-rates?group_by=owner&tz=Local", []string{"tz"}},
		{"/v1/reports/connect-rates?group_by=owner&tz=../../etc/passwd", []string{"tz"}},
		{"/v1/reports/connect-rates?group_by=owner&owner_id=ann", []string{"owner_id"}},
		{"/v1/reports/activity-volume?group_by=type&types=call,fax", []string{"types"}},
		{"/v1/reports/activity-volume?group_by=bogus&since=x&tz=Nowhere", []string{"group_by", "tz", "since"}},
	} {
		res := b.do("GET", c.query, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", c.query, res.Body)
		require.Equal(t, c.fields, res.Fields(t), c.query)
	}
	res := b.do("GET", "/v1/reports/connect-rates?group_by=bogus", nil)
	require.Contains(t, string(res.Body), "segment, owner, list, disposition", "the 422 lists the choices")
	res = b.do("GET", "/v1/reports/activity-volume?group_by=bogus", nil)
	require.Contains(t, string(res.Body), "week, owner, type")

	// group_by defaults to segment and week.
	require.Equal(t, "segment", b.report("/v1/reports/connect-rates").GroupBy)
	require.Equal(t, "week", b.report("/v1/reports/activity-volume").GroupBy)

	// The longest range is 732 days; a date range of that many is fine.
	b.report("/v1/reports/connect-rates?group_by=owner&since=2024-01-01&until=2026-01-02")

	req := httptest.NewRequest("GET", "/v1/reports/connect-rates?group_by=owner", nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Accept", "application/xml")
	res = b.serve(req)
	require.Equal(t, http.StatusNotAcceptable, res.Status)

	// A key without the read scope is 403.
	res = b.doKey(b.keyWith("ingest"), "GET", "/v1/reports/connect-rates?group_by=owner", nil)
	require.Equal(t, http.StatusForbidden, res.Status)
}

// TestReportPropertyRowsAddUp posts random activities and checks, for
// every grouping of both reports, that the rows add up to the total, that
// the total is the count made here from what was posted, that no key is
// listed twice, and that the rows come in the documented order.
func TestReportPropertyRowsAddUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seed := uint64(20261203)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 12))

	users := []string{b.create("/v1/users", map[string]any{"email": "u1@seller.test", "name": "Uma", "role": "rep"}),
		b.create("/v1/users", map[string]any{"email": "u2@seller.test", "name": "Uma", "role": "rep"}), // same name: keys differ
		b.create("/v1/users", map[string]any{"email": "u3@seller.test", "name": "Vic", "role": "rep"})}
	segments := []any{"Enterprise", "SMB", "", nil}
	var accounts []string
	for i := range 6 {
		in := map[string]any{"name": fmt.Sprintf("Account %d", i)}
		if s := segments[i%len(segments)]; s != nil {
			in["segment"] = s
		}
		accounts = append(accounts, b.create("/v1/accounts", in))
	}
	types := []string{"call", "call", "voicemail", "email", "meeting", "note"}
	dirs := []string{"outbound", "outbound", "inbound", ""}
	codes := []string{"connected", "meeting_booked", "not_interested", "voicemail", "gatekeeper", "no_answer", "busy", ""}
	connects := map[string]bool{"connected": true, "meeting_booked": true, "not_interested": true}
	lists := []string{"A", "B", " ", ""}
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := since.Add(21 * 24 * time.Hour)

	var batch []map[string]any
	var wantDials, wantConnected, wantNoDisp, wantActivities int64
	for range 300 {
		typ, dir := types[rng.IntN(len(types))], dirs[rng.IntN(len(dirs))]
		at := since.Add(time.Duration(rng.Int64N(int64(until.Sub(since)+48*time.Hour))) - 24*time.Hour)
		in := map[string]any{"type": typ, "account_id": accounts[rng.IntN(len(accounts))], "occurred_at": at.Format(time.RFC3339Nano)}
		if dir != "" {
			in["direction"] = dir
		}
		if o := rng.IntN(len(users) + 1); o < len(users) {
			in["owner_id"] = users[o]
		}
		code := ""
		if typ == "call" || typ == "voicemail" {
			code = codes[rng.IntN(len(codes))]
			if code != "" {
				in["disposition"] = code
			}
		}
		if l := lists[rng.IntN(len(lists))]; l != "" {
			in["metadata"] = map[string]any{"list": l}
		}
		batch = append(batch, in)
		if at.Before(since) || !at.Before(until) {
			continue
		}
		wantActivities++
		if dir == "outbound" && (typ == "call" || typ == "voicemail") {
			wantDials++
			if connects[code] {
				wantConnected++
			}
			if code == "" {
				wantNoDisp++
			}
		}
	}
	res := b.do("POST", "/v1/activities", map[string]any{"activities": batch})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	q := "&since=" + since.Format(time.RFC3339) + "&until=" + until.Format(time.RFC3339)
	ordered := func(rows []reportRow, count func(reportRow) int64) {
		t.Helper()
		seen := map[string]bool{}
		for i, r := range rows {
			k := "<nil>"
			if r.Key != nil {
				k = *r.Key
			}
			require.False(t, seen[k], "key %s listed twice", k)
			seen[k] = true
			if i == 0 {
				continue
			}
			p := rows[i-1]
			require.True(t, count(p) > count(r) || count(p) == count(r) && (r.Key == nil ||
				p.Key != nil && (p.Label < r.Label || p.Label == r.Label && *p.Key < *r.Key)), "rows %d and %d out of order: %+v", i-1, i, rows)
		}
	}
	for _, g := range store.ConnectRateGroups {
		r := b.report("/v1/reports/connect-rates?group_by=" + g + q)
		var sum reportRow
		for _, row := range r.Rows {
			require.Positive(t, row.Dials)
			sum.Dials += row.Dials
			sum.Connected += row.Connected
			sum.NoDisposition += row.NoDisposition
			require.Equal(t, connectRate(row.Connected, row.Dials), row.ConnectRate)
		}
		require.Equal(t, []int64{r.Total.Dials, r.Total.Connected, r.Total.NoDisposition},
			[]int64{sum.Dials, sum.Connected, sum.NoDisposition}, "%s: rows add up to the total", g)
		require.Equal(t, []int64{wantDials, wantConnected, wantNoDisp},
			[]int64{r.Total.Dials, r.Total.Connected, r.Total.NoDisposition}, "%s: the total is the count of what was posted", g)
		ordered(r.Rows, func(r reportRow) int64 { return r.Dials })
	}
	for _, g := range store.VolumeGroups {
		r := b.report("/v1/reports/activity-volume?group_by=" + g + q)
		var sum int64
		for _, row := range r.Rows {
			sum += row.Activities
		}
		require.Equal(t, r.Total.Activities, sum, "%s: rows add up to the total", g)
		require.Equal(t, wantActivities, r.Total.Activities, "%s: the total is the count of what was posted", g)
		if g == store.GroupWeek {
			require.Len(t, r.Rows, 4, "2026-03-01 is a Sunday: 21 days touch 4 weeks")
			keys := make([]string, len(r.Rows))
			for i, row := range r.Rows {
				keys[i] = *row.Key
			}
			require.True(t, slices.IsSorted(keys))
		} else {
			ordered(r.Rows, func(r reportRow) int64 { return r.Activities })
		}
	}
	// The JSON a client reads has exactly the documented fields.
	raw := b.do("GET", "/v1/reports/connect-rates?group_by=owner"+q, nil)
	var m map[string]json.RawMessage
	raw.JSON(t, &m)
	var names []string
	for k := range m {
		names = append(names, k)
	}
	require.ElementsMatch(t, []string{"group_by", "since", "until", "tz", "rows", "total"}, names)
}
