package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// The injection strings the ops tests put in names: each must render as
// text, in HTML and in SVG.
const (
	evilSegment = `<script>alert("seg")</script>`
	evilOwner   = `<img src=x onerror=alert('owner')>`
	evilList    = `=HYPERLINK("http://x.test")`
)

// opsUser creates a user of the bundle's org.
func (b *testBundle) opsUser(email, name string) crm.User {
	b.t.Helper()
	in := crm.UserInput{Email: crm.Some(email), Name: crm.Some(name), Role: crm.Some(crm.RoleRep)}
	require.NoError(b.t, in.Validate(true))
	u, err := b.store.UserCreate(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return u
}

// opsAccount creates an account (segment "" for none).
func (b *testBundle) opsAccount(name, segment string) crm.Account {
	b.t.Helper()
	in := crm.AccountInput{Name: crm.Some(name)}
	if segment != "" {
		in.Segment = crm.Some(segment)
	}
	require.NoError(b.t, in.Validate(true))
	a, err := b.store.AccountCreate(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return a
}

// opsDial logs an outbound call (or voicemail) through the write rules; owner,
// disposition and list "" for none.
func (b *testBundle) opsDial(typ crm.ActivityType, account, owner, disposition, list, at string) crm.Activity {
	b.t.Helper()
	in := crm.ActivityInput{Type: crm.Some(typ), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(account), OccurredAt: crm.Some(at)}
	if owner != "" {
		in.OwnerID = crm.Some(owner)
	}
	if disposition != "" {
		in.Disposition = crm.Some(disposition)
	}
	if list != "" {
		m, err := json.Marshal(map[string]string{"list": list})
		require.NoError(b.t, err)
		in.Metadata = crm.Some(json.RawMessage(m))
	}
	return b.opsActivity(in)
}

// opsActivity writes an activity through the write rules.
func (b *testBundle) opsActivity(in crm.ActivityInput) crm.Activity {
	b.t.Helper()
	a, _, _, err := activity.New(b.store).Upsert(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return a
}

// opsReportFixture is the hand-counted fixture of the report tests, in the
// range 2026-03-01 to 2026-03-07 (UTC, both days included):
//
//	1 Acme (Enterprise), Ann, connected,   list Q1 West, 03-01 00:00Z (the first instant)
//	2 Acme (Enterprise), Ann, no_answer,   list Q1 West, 03-02
//	3 Beta (evilSegment), evilOwner, voicemail (a voicemail), evilList, 03-03
//	4 Gamma (no segment), no owner, meeting_booked, no list, 03-04
//	and, not dials: an inbound call and an email on Acme, 03-05; and a dial
//	on 03-08 00:00Z (after the range), another org's dial in it.
//
// Connect rates by segment: Enterprise 1 of 2, evilSegment 0 of 1,
// (no segment) 1 of 1. Volume by ISO week: W09 (Monday 02-23) 1, W10
// (Monday 03-02) 5.
func (b *testBundle) opsReportFixture() (ann, evil crm.User) {
	b.t.Helper()
	ann = b.opsUser("ann@seller.test", "Ann Avery")
	evil = b.opsUser("eve@seller.test", evilOwner)
	acme := b.opsAccount("Acme", "Enterprise")
	beta := b.opsAccount("Beta", evilSegment)
	gamma := b.opsAccount("Gamma", "")
	b.opsDial(crm.ActivityCall, acme.ID, ann.ID, "connected", "Q1 West", "2026-03-01T00:00:00Z")
	b.opsDial(crm.ActivityCall, acme.ID, ann.ID, "no_answer", "Q1 West", "2026-03-02T10:00:00Z")
	b.opsDial(crm.ActivityVoicemail, beta.ID, evil.ID, "voicemail", evilList, "2026-03-03T10:00:00Z")
	b.opsDial(crm.ActivityCall, gamma.ID, "", "meeting_booked", "", "2026-03-04T10:00:00Z")
	b.opsActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionInbound),
		AccountID: crm.Some(acme.ID), OccurredAt: crm.Some("2026-03-05T10:00:00Z")})
	b.opsActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(acme.ID), OccurredAt: crm.Some("2026-03-05T11:00:00Z"), Subject: crm.Some("Pricing")})
	b.opsDial(crm.ActivityCall, acme.ID, ann.ID, "connected", "", "2026-03-08T00:00:00Z")
	// Another org's dial in the range.
	other, err := b.store.OrgCreate(context.Background(), "Other "+b.t.Name())
	require.NoError(b.t, err)
	oacc, err := b.store.AccountCreate(context.Background(), other.ID, crm.AccountInput{Name: crm.Some("Theirs")})
	require.NoError(b.t, err)
	_, _, _, err = activity.New(b.store).Upsert(context.Background(), other.ID, crm.ActivityInput{Type: crm.Some(crm.ActivityCall),
		Direction: crm.Some(crm.DirectionOutbound), AccountID: crm.Some(oacc.ID), OccurredAt: crm.Some("2026-03-03T00:00:00Z"),
		Disposition: crm.Some("connected")})
	require.NoError(b.t, err)
	return ann, evil
}

// svgByID cuts the <svg> element with the id out of a page.
func svgByID(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `<svg class="chart" id="`+id+`"`)
	require.GreaterOrEqual(t, i, 0, "chart %s on the page", id)
	j := strings.Index(body[i:], "</svg>")
	require.GreaterOrEqual(t, j, 0)
	return body[i : i+j+len("</svg>")]
}

// TestReportsPage: the charts show the hand-counted figures (the store's
// numbers) for the range, in the zone asked for; every chart is an image
// with a summary, a title and its table; names that are markup stay text.
func TestReportsPage(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	_, evil := b.opsReportFixture()

	res := b.get("/reports?since=2026-03-01&until=2026-03-07&tz=UTC")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	body := res.Body
	require.Equal(t, 1, strings.Count(body, "<h1"), "one h1")
	require.Contains(t, body, `href="/static/ops.css"`)
	require.Contains(t, body, "2026-03-01 to 2026-03-07 (UTC)")
	require.Contains(t, body, "In all: 50% (2 of 4).")

	seg := parseSVG(t, svgByID(t, body, "chart-segment"))
	require.Equal(t, "img", attr(seg.Elements[0], "role"))
	require.Equal(t, []string{"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"}, seg.ByClass["chart-value"])
	require.Equal(t, []string{"Enterprise", clipLabel(evilSegment, chartLabelRunes), "(no segment)"}, seg.ByClass["chart-label"])
	require.Contains(t, seg.Texts, evilSegment+": 0% (0 of 1)", "the whole segment in its bar's title, as text")
	require.Equal(t, "Connect rate by segment, 3 groups: Enterprise 50% (1 of 2); "+evilSegment+" 0% (0 of 1); (no segment) 100% (1 of 1).",
		attr(seg.Elements[0], "aria-label"))
	require.Equal(t, "Connect rate by segment", seg.Texts[0])

	owner := parseSVG(t, svgByID(t, body, "chart-owner"))
	require.Equal(t, []string{"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"}, owner.ByClass["chart-value"])
	require.Equal(t, []string{"Ann Avery", clipLabel(evilOwner, chartLabelRunes), "(no owner)"}, owner.ByClass["chart-label"])

	list := parseSVG(t, svgByID(t, body, "chart-list"))
	require.Equal(t, []string{"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"}, list.ByClass["chart-value"])
	require.Equal(t, []string{"Q1 West", clipLabel(evilList, chartLabelRunes), "(no list)"}, list.ByClass["chart-label"])

	vol := parseSVG(t, svgByID(t, body, "chart-volume"))
	require.Equal(t, []string{"1", "5"}, vol.ByClass["chart-value"])
	require.Equal(t, []string{"W09", "W10"}, vol.ByClass["chart-label"])

	// The numbers equal the store's.
	f := store.ReportFilter{Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), TZ: "UTC"}
	for _, by := range []string{store.GroupSegment, store.GroupOwner, store.GroupList} {
		rows, err := b.store.ReportConnectRates(context.Background(), b.orgID, by, f)
		require.NoError(t, err)
		var want []string
		for _, r := range rows {
			want = append(want, rateRow{Connected: r.Connected, Dials: r.Dials}.Value())
		}
		require.Equal(t, want, parseSVG(t, svgByID(t, body, "chart-"+by)).ByClass["chart-value"], by)
	}

	// The tables: the same numbers, every name escaped.
	require.Contains(t, body, `<th scope="col">Connect rate</th>`)
	require.Contains(t, body, `<th scope="row">Enterprise</th><td>50%</td><td>1</td><td>2</td>`)
	require.Contains(t, body, `<th scope="row">2026-W10</th><td>2026-03-02</td><td>5</td>`)
	require.Contains(t, body, `<th scope="row" class="muted">(no segment)</th>`)
	for _, s := range []string{evilSegment, evilOwner, "<script>alert", "<img src"} {
		require.NotContains(t, body, s, "markup from a name is escaped")
	}
	require.Contains(t, body, "&lt;script&gt;alert(&#34;seg&#34;)&lt;/script&gt;")
	require.Contains(t, body, "&lt;img src=x onerror=alert(&#39;owner&#39;)&gt;")
	require.NotContains(t, body, `style="`, "no inline style (CSP)")
	_ = evil

	// The CSV links carry the range.
	require.Contains(t, body, `href="/reports/connect-rates.csv?group_by=segment&amp;since=2026-03-01&amp;tz=UTC&amp;until=2026-03-07"`)

	// In New York the range starts at 05:00Z: the first dial (00:00Z, a
	// Saturday evening there) is out, the 03-08 00:00Z one (03-07 19:00
	// there, in W10) is in.
	res = b.get("/reports?since=2026-03-01&until=2026-03-07&tz=America%2FNew_York")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	vol = parseSVG(t, svgByID(t, res.Body, "chart-volume"))
	require.Equal(t, []string{"0", "6"}, vol.ByClass["chart-value"])
	require.Contains(t, res.Body, "2026-03-01 to 2026-03-07 (America/New_York)")
	require.Contains(t, res.Body, `<option value="America/New_York" selected>`)
}

// TestReportsEmptyAndErrors: a range without calls or activity shows the
// designed empty states and no chart; a bad zone or range is a 422 with
// the form and its message.
func TestReportsEmptyAndErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.opsReportFixture()

	res := b.get("/reports?since=2025-01-01&until=2025-01-31")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, "<svg")
	require.Equal(t, 3, strings.Count(res.Body, "No calls in this range."))
	require.Contains(t, res.Body, "No activity in this range.")
	require.NotContains(t, res.Body, "<details", "no empty tables")

	// Defaults (no dates): the last 30 days and 12 weeks, which hold none
	// of the fixture's March 2026 activities only if now is far from it;
	// the page answers either way, and names both ranges.
	res = b.get("/reports")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, 2, len(regexp.MustCompile(`\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC\)`).FindAllString(res.Body, -1)))

	for q, msg := range map[string]string{
		"tz=Mars%2FBase":                    "Choose a time zone from the list.",
		"since=2026-03-08&until=2026-03-01": "From must be on or before Until.",
		"since=03%2F01%2F2026":              "From must be a date such as 2026-03-02.",
		"since=2020-01-01&until=2026-03-01": "The range must be at most 732 days.",
	} {
		res = b.get("/reports?" + q)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
		require.Contains(t, res.Body, msg, q)
		require.Contains(t, res.Body, `role="alert"`)
		require.Contains(t, res.Body, `id="report-range"`, "the form again")
	}
}

// TestReportsCSV: the downloads are the page's rows under the session,
// with the API's columns; text that would be a formula is guarded.
func TestReportsCSV(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	_, evil := b.opsReportFixture()

	res := b.get("/reports/connect-rates.csv?group_by=list&since=2026-03-01&until=2026-03-07&tz=UTC")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="connect-rates-list-2026-03-01-2026-03-07.csv"`, res.Header.Get("Content-Disposition"))
	recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"key", "label", "dials", "connected", "connect_rate", "no_disposition"},
		{"Q1 West", "Q1 West", "2", "1", "0.5", "0"},
		{"'" + evilList, "'" + evilList, "1", "0", "0", "0"},
		{"", "(no list)", "1", "1", "1", "0"},
	}, recs)

	res = b.get("/reports/connect-rates.csv?group_by=owner&since=2026-03-01&until=2026-03-07")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	recs, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.Equal(t, []string{evil.ID, evilOwner, "1", "0", "0", "0"}, recs[2])

	res = b.get("/reports/activity-volume.csv?since=2026-03-01&until=2026-03-07")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	recs, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"key", "label", "activities"}, {"2026-02-23", "2026-W09", "1"}, {"2026-03-02", "2026-W10", "5"}}, recs)

	res = b.get("/reports/connect-rates.csv?group_by=week")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "group_by must be one of segment, owner, list, disposition.")

	// Signed out: sent to sign in, no data.
	res = b.getAs("", "/reports/connect-rates.csv")
	require.Equal(t, http.StatusSeeOther, res.Status)
}
