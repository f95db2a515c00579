package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/api"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// The page-speed benchmark of issue #13: "server time under 200 ms for any
// page of an account with 10,000 activities". BenchmarkAccountPage builds
// such an account (with contacts, deals, meetings with notes and action
// items, and other accounts around it) and times each page through the web
// handler's ServeHTTP, beside the JSON API's timeline for the same page in
// the same run (the baseline), and the API's brief and open action items
// (with the timeline, the three reads the account page makes):
//
//	go test ./web -run '^$' -bench BenchmarkAccountPage -benchtime 200x
//
// TestBenchFixture runs the same fixture at a small size in CI.

// benchFixture is the loaded data the pages are timed on.
type benchFixture struct {
	b         *testBundle
	tx        pgx.Tx
	api       http.Handler
	apiKey    string
	accountID string
	meetingID string
	// deepCursor is the timeline's cursor after deep activities.
	deepCursor string
}

// loadBenchFixture loads an account of n activities (calls, emails, notes
// by SQL; every 200th a meeting with notes, ingested as the API does),
// others accounts with a few activities each, and a meeting of segs
// segments; the deep cursor sits after deep activities.
func loadBenchFixture(tb testing.TB, n, others, segs, deep int) *benchFixture {
	tb.Helper()
	ctx := context.Background()
	tx := testdb.Tx(tb)
	s := store.New(tx)
	h, err := NewHandler(Deps{Store: s})
	require.NoError(tb, err)
	org, err := s.OrgCreate(ctx, "Bench org")
	require.NoError(tb, err)
	// b.t stays nil: the fixture reports to tb.
	b := &testBundle{store: s, handler: h, orgID: org.ID}
	u, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("dana@seller.test"), Name: crm.Some("Dana Lee"), Role: crm.Some(crm.RoleRep)})
	require.NoError(tb, err)
	b.user = u
	_, b.token, err = s.SessionCreate(ctx, org.ID, u.ID, SessionTTL)
	require.NoError(tb, err)
	apiH, err := api.NewHandler(api.Deps{Store: s})
	require.NoError(tb, err)
	key, err := s.APIKeyCreate(ctx, org.ID, "bench", []crm.Scope{crm.ScopeRead})
	require.NoError(tb, err)
	fx := &benchFixture{b: b, tx: tx, api: apiH, apiKey: key.Key}

	acc, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme Corp"), Domains: crm.Some([]string{"acme.test"}),
		OwnerID: crm.Some(u.ID), Segment: crm.Some("enterprise")})
	require.NoError(tb, err)
	fx.accountID = acc.ID
	// 20 contacts, 5 deals.
	_, err = tx.Exec(ctx, `INSERT INTO contacts (org_id, id, account_id, name, email)
		SELECT $1, gen_random_uuid(), $2, 'Contact ' || g, 'c' || g || '@acme.test' FROM generate_series(1, 20) g`, org.ID, acc.ID)
	require.NoError(tb, err)
	_, err = tx.Exec(ctx, `INSERT INTO deals (org_id, id, account_id, name, stage, amount, currency, owner_id, status)
		SELECT $1, gen_random_uuid(), $2, 'Deal ' || g, 'proposal', g * 1000, 'USD', $3, CASE WHEN g < 4 THEN 'open' ELSE 'won' END
		FROM generate_series(1, 5) g`, org.ID, acc.ID, u.ID)
	require.NoError(tb, err)
	// The activities, one a minute back from now, with contacts on a third
	// and deals on a fifth; meetings (every 200th) are ingested below.
	base := time.Now().UTC().Truncate(time.Minute)
	_, err = tx.Exec(ctx, `
		WITH c AS (SELECT array_agg(id ORDER BY name) AS ids FROM contacts WHERE org_id = $1 AND account_id = $2),
		     d AS (SELECT array_agg(id ORDER BY name) AS ids FROM deals WHERE org_id = $1 AND account_id = $2)
		INSERT INTO activities (org_id, id, type, direction, account_id, deal_id, owner_id, occurred_at, subject, body,
			disposition, next_step_text, source)
		SELECT $1, gen_random_uuid(), (ARRAY['call','email','note'])[g % 3 + 1],
			CASE WHEN g % 3 = 2 THEN NULL ELSE 'outbound' END, $2,
			CASE WHEN g % 5 = 0 THEN d.ids[g % 5 + 1] END, $3, $4::timestamptz - make_interval(mins => g),
			'Touch ' || g, 'We talked about the rollout, the budget and the next review. ' || g,
			CASE WHEN g % 3 = 0 THEN 'connected' END, CASE WHEN g % 7 = 0 THEN 'Send the proposal' END, 'api'
		FROM generate_series(1, $5::int) g, c, d WHERE g % 200 <> 0`, org.ID, acc.ID, u.ID, base, n)
	require.NoError(tb, err)
	_, err = tx.Exec(ctx, `
		WITH c AS (SELECT array_agg(id ORDER BY name) AS ids FROM contacts WHERE org_id = $1 AND account_id = $2)
		INSERT INTO activity_contacts (org_id, activity_id, contact_id)
		SELECT $1, a.id, c.ids[(extract(epoch FROM a.occurred_at)::bigint / 60) % 20 + 1]
		FROM activities a, c WHERE a.org_id = $1 AND a.account_id = $2 AND (extract(epoch FROM a.occurred_at)::bigint / 60) % 3 = 0`,
		org.ID, acc.ID)
	require.NoError(tb, err)
	// Meetings with notes and action items, every 200th minute.
	for g := 200; g <= n; g += 200 {
		at := base.Add(-time.Duration(g) * time.Minute)
		nseg := 20
		if g == 200 {
			nseg = segs
		}
		var sg []crm.Segment
		for i := range nseg {
			sg = append(sg, crm.Segment{Index: i, Speaker: []string{"Dana Lee", "Contact 1"}[i%2], StartMS: int64(i) * 15000,
				EndMS: int64(i)*15000 + 14000, Text: fmt.Sprintf("Line %d: we will review the rollout plan and the budget.", i)})
		}
		ev := func(i int) []crm.Evidence {
			return []crm.Evidence{{Segment: i % nseg, StartMS: int64(i%nseg) * 15000, Speaker: "Dana Lee", Quote: "we will review"}}
		}
		owner := "Contact 1"
		notes := crm.Notes{Summary: fmt.Sprintf("Meeting %d reviewed the rollout.", g),
			SummarySentences: []crm.Point{{Text: fmt.Sprintf("Meeting %d reviewed the rollout.", g), Evidence: ev(0)}},
			KeyPoints:        []crm.Point{{Text: "The budget holds.", Evidence: ev(3)}, {Text: "Two teams are live.", Evidence: ev(5)}},
			Decisions:        []crm.Point{{Text: "Go ahead with phase two.", Evidence: ev(7)}},
			Risks:            []crm.Point{{Text: "Security review may slip.", Evidence: ev(9)}},
			ActionItems: []crm.ActionItem{{Text: "Send the plan", Owner: &u.Name, Evidence: ev(11)},
				{Text: "Book the review", Owner: &owner, Evidence: ev(13)}},
			FollowUp: &crm.FollowUp{Subject: "Next steps", Body: "Thanks for the time today."},
			Coverage: 1, Model: "bench", PromptVersion: "bench"}
		mt := b.meetingTB(tb, acc.ID, at, fmt.Sprintf("Review %d", g), sg, &notes)
		if g == 200 {
			fx.meetingID = mt
		}
	}
	// Other accounts, a few activities each.
	_, err = tx.Exec(ctx, `INSERT INTO accounts (org_id, id, name, segment, owner_id)
		SELECT $1, gen_random_uuid(), 'Account ' || lpad(g::text, 5, '0'), 'smb', $2 FROM generate_series(1, $3::int) g`,
		org.ID, u.ID, others)
	require.NoError(tb, err)
	_, err = tx.Exec(ctx, `INSERT INTO activities (org_id, id, type, account_id, occurred_at, subject, source)
		SELECT $1, gen_random_uuid(), 'call', a.id, $2::timestamptz - make_interval(hours => g), 'Call', 'api'
		FROM accounts a, generate_series(1, 5) g WHERE a.org_id = $1 AND a.id <> $3`, org.ID, base, acc.ID)
	require.NoError(tb, err)
	_, err = tx.Exec(ctx, `ANALYZE accounts, activities, activity_contacts, contacts, deals, action_items, meeting_notes, transcripts`)
	require.NoError(tb, err)

	// The deep cursor: walk the timeline in pages of 200.
	var cursor string
	for walked := 0; walked < deep; {
		lim := min(store.MaxLimit, deep-walked)
		p, err := s.ActivityListByAccount(ctx, org.ID, acc.ID, store.ActivityFilter{Limit: lim, Cursor: cursor})
		require.NoError(tb, err)
		require.NotNil(tb, p.NextCursor)
		cursor = *p.NextCursor
		walked += len(p.Items)
	}
	fx.deepCursor = cursor
	return fx
}

// meetingTB is meeting for a testing.TB (benchmarks too).
func (b *testBundle) meetingTB(tb testing.TB, accountID string, at time.Time, subject string, segs []crm.Segment, notes *crm.Notes) string {
	ctx := context.Background()
	ext := store.NewID()
	in := store.TranscriptIngest{Source: "zoom", ExternalID: &ext, Title: subject, StartedAt: at, Format: "segments", Segments: segs,
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID), Subject: crm.Some(subject),
			OccurredAt: crm.Some(at.UTC().Format(time.RFC3339)), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext)}}
	got, err := activity.New(b.store).IngestTranscript(ctx, b.orgID, in)
	require.NoError(tb, err)
	_, err = b.store.NotesSave(ctx, b.orgID, got.Transcript.ID, 1, *notes, nil)
	require.NoError(tb, err)
	return got.Transcript.ActivityID
}

// benchPage is one page the benchmark times.
type benchPage struct {
	name string
	web  bool
	path string
}

func (fx *benchFixture) pages() []benchPage {
	deep := url.Values{"cursor": {fx.deepCursor}}.Encode()
	return []benchPage{
		{"api_timeline_first", false, "/v1/accounts/" + fx.accountID + "/timeline?limit=25"},
		{"web_account_first", true, "/accounts/" + fx.accountID},
		{"api_timeline_deep", false, "/v1/accounts/" + fx.accountID + "/timeline?limit=25&" + deep},
		{"web_account_deep", true, "/accounts/" + fx.accountID + "?" + deep},
		{"api_brief", false, "/v1/accounts/" + fx.accountID + "/brief"},
		{"api_action_items", false, "/v1/action-items?status=open&limit=200&account_id=" + fx.accountID},
		{"web_timeline_fragment_deep", true, "/accounts/" + fx.accountID + "/timeline?" + deep},
		{"web_account_filtered", true, "/accounts/" + fx.accountID + "?type=email&" + deep},
		{"web_accounts_list", true, "/accounts"},
		{"web_accounts_search", true, "/accounts?q=acme"},
		{"web_meeting", true, "/activities/" + fx.meetingID},
		{"web_transcript", true, "/activities/" + fx.meetingID + "/transcript?cite=3,5"},
	}
}

// serve answers one request; the status must be 200.
func (fx *benchFixture) serve(tb testing.TB, p benchPage) string {
	req := httptest.NewRequest("GET", p.path, nil)
	h := fx.api
	if p.web {
		h = fx.b.handler
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: fx.b.token})
	} else {
		req.Header.Set("Authorization", "Bearer "+fx.apiKey)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("%s: status %d: %.500s", p.path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// BenchmarkAccountPage times each page of an account with 10,000
// activities; each sub-benchmark reports its p50 and p95 server time.
func BenchmarkAccountPage(b *testing.B) {
	fx := loadBenchFixture(b, 10000, 2000, 300, 5000)
	for _, p := range fx.pages() {
		fx.serve(b, p) // warm: the brief is composed and kept on the first read
		b.Run(p.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				fx.serve(b, p)
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// TestBenchFixture: the benchmark's fixture and pages at a small size:
// every page answers 200, the deep page is the right one, and the pages
// show what they are about.
func TestBenchFixture(t *testing.T) {
	t.Parallel()
	fx := loadBenchFixture(t, 600, 30, 40, 300)
	for _, p := range fx.pages() {
		body := fx.serve(t, p)
		switch p.name {
		case "web_account_deep":
			// Activities are one a minute back from now: after 300 come
			// minutes 301… (minute 400, a meeting, is on this page).
			require.Contains(t, body, "Touch 301<")
			require.NotContains(t, body, "Touch 300<")
			require.Contains(t, body, "Review 400")
		case "api_timeline_deep":
			require.Contains(t, body, `"Touch 301"`)
		case "web_accounts_list":
			require.Contains(t, body, "Acme Corp")
		case "web_meeting":
			require.Equal(t, 7, strings.Count(body, `class="cite"`))
		case "web_transcript":
			require.Equal(t, 40, strings.Count(body, `<li id="seg-`))
			require.Equal(t, 2, strings.Count(body, `class="seg hl"`))
		}
	}
	var n int
	require.NoError(t, fx.tx.QueryRow(context.Background(),
		`SELECT count(*) FROM activities WHERE org_id = $1 AND account_id = $2`, fx.b.orgID, fx.accountID).Scan(&n))
	require.Equal(t, 600, n)
}
