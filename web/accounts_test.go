package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// setupTx is setup(t, "") that also hands back the transaction, for the
// few changes no store method makes (a purge at a chosen time).
func setupTx(t *testing.T) (*testBundle, pgx.Tx) {
	t.Helper()
	tx := testdb.Tx(t)
	s := store.New(tx)
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(context.Background(), "Org "+t.Name())
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID}
	b.user, b.token, b.csrf = b.signIn(org.ID, "dana@seller.test", "Dana Lee", crm.RoleRep)
	return b, tx
}

// The injection corpus: each must come back as text, never as markup.
var injections = []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`}

// acctFixture is an account with a contact, a deal and some activities.
type acctFixture struct {
	account crm.Account
	contact crm.Contact
	deal    crm.Deal
}

func (b *testBundle) account(name string, domains ...string) crm.Account {
	b.t.Helper()
	in := crm.AccountInput{Name: crm.Some(name), Domains: crm.Some(domains), OwnerID: crm.Some(b.user.ID),
		Segment: crm.Some("mid-market")}
	require.NoError(b.t, in.Validate(true))
	a, err := b.store.AccountCreate(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return a
}

func (b *testBundle) fixture(name string) acctFixture {
	b.t.Helper()
	ctx := context.Background()
	f := acctFixture{account: b.account(name, strings.ToLower(strings.Fields(name)[0])+".test")}
	ci := crm.ContactInput{AccountID: crm.Some(f.account.ID), Name: crm.Some("Maya Patel"), Email: crm.Some("maya@" + f.account.Domains[0])}
	require.NoError(b.t, ci.Validate(true))
	var err error
	f.contact, err = b.store.ContactCreate(ctx, b.orgID, ci)
	require.NoError(b.t, err)
	di := crm.DealInput{AccountID: crm.Some(f.account.ID), Name: crm.Some("Expansion"), Stage: crm.Some("proposal"),
		Amount: crm.Some(json.Number("12000")), Currency: crm.Some("USD"), OwnerID: crm.Some(b.user.ID)}
	require.NoError(b.t, di.Validate(true))
	f.deal, err = b.store.DealCreate(ctx, b.orgID, di)
	require.NoError(b.t, err)
	return f
}

// activity logs one activity on the account.
func (b *testBundle) activity(in crm.ActivityInput) crm.Activity {
	b.t.Helper()
	a, _, _, err := activity.New(b.store).Upsert(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return a
}

func call(accountID string, at time.Time, subject string) crm.ActivityInput {
	return crm.ActivityInput{Type: crm.Some(crm.ActivityCall), AccountID: crm.Some(accountID),
		OccurredAt: crm.Some(at.UTC().Format(time.RFC3339)), Subject: crm.Some(subject), Source: crm.Some(crm.SourceAPI)}
}

// meeting ingests a meeting with segments and stores notes for it.
func (b *testBundle) meeting(accountID string, at time.Time, subject string, segs []crm.Segment, notes *crm.Notes) crm.Activity {
	b.t.Helper()
	ctx := context.Background()
	ext := store.NewID()
	got, err := activity.New(b.store).IngestTranscript(ctx, b.orgID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: subject, StartedAt: at, Format: "segments", Segments: segs,
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID), Subject: crm.Some(subject),
			OccurredAt: crm.Some(at.UTC().Format(time.RFC3339)), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext)},
	})
	require.NoError(b.t, err)
	if notes != nil {
		_, err = b.store.NotesSave(ctx, b.orgID, got.Transcript.ID, 1, *notes, nil)
		require.NoError(b.t, err)
	}
	return crm.Activity{ID: got.Transcript.ActivityID}
}

var (
	hrefRE  = regexp.MustCompile(`href="([^"]*)"`)
	actIDRE = regexp.MustCompile(`<li class="tl-item[^"]*" id="act-([0-9a-f-]+)"`)
)

// timelineIDs are the activity IDs of a page's timeline, in order.
func timelineIDs(body string) []string {
	var ids []string
	for _, m := range actIDRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// section is the HTML of the page's <section id="id">.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `<section id="`+id+`"`)
	require.GreaterOrEqual(t, i, 0, "section %s", id)
	j := strings.Index(body[i:], "</section>")
	require.Greater(t, j, 0)
	return body[i : i+j]
}

// loadMore is the href of the page's load-more link, HTML-unescaped ("" if
// none).
func loadMore(body string) (full, fragment string) {
	m := regexp.MustCompile(`<a id="load-more"[^>]*href="([^"]*)" data-fragment="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	// A browser sends no fragment; httptest would read it as query.
	un := func(s string) string { s, _, _ = strings.Cut(strings.ReplaceAll(s, "&amp;", "&"), "#"); return s }
	return un(m[1]), un(m[2])
}

// TestAccountsList: the list shows each account's columns (hand-counted
// aggregates), q searches names and domains, the empty states say so, and
// pages continue by keyset without gaps or repeats.
func TestAccountsList(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	res := b.get("/accounts")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "No accounts yet")

	f := b.fixture("Acme Corp")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	b.activity(call(f.account.ID, t0, "Intro"))
	b.activity(call(f.account.ID, t0.Add(48*time.Hour), "Second"))
	ev := []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "I will send it"}}
	b.meeting(f.account.ID, t0.Add(24*time.Hour), "Sync", []crm.Segment{{Index: 0, Speaker: "Dana Lee", Text: "I will send it"}},
		&crm.Notes{Summary: "A sync.", ActionItems: []crm.ActionItem{{Text: "Send it", Evidence: ev}, {Text: "Sign it", Evidence: ev}},
			Coverage: 1, Model: "t", PromptVersion: "t"})
	_ = b.account("Globex", "globex.example")
	// A won deal and a done action item are not open.
	di := crm.DealInput{AccountID: crm.Some(f.account.ID), Name: crm.Some("Pilot"), Status: crm.Some(crm.DealWon)}
	require.NoError(t, di.Validate(true))
	_, err := b.store.DealCreate(context.Background(), b.orgID, di)
	require.NoError(t, err)
	third := b.meeting(f.account.ID, t0.Add(-time.Hour), "Earlier", []crm.Segment{{Index: 0, Speaker: "Dana Lee", Text: "I will send it"}},
		&crm.Notes{Summary: "Earlier.", ActionItems: []crm.ActionItem{{Text: "Done already", Evidence: ev}}, Coverage: 1, Model: "t", PromptVersion: "t"})
	_, n, err := b.store.MeetingNotes(context.Background(), b.orgID, third.ID)
	require.NoError(t, err)
	_, err = b.store.ActionItemSetStatus(context.Background(), b.orgID, n.ActionItems[0].ID, crm.ActionDone)
	require.NoError(t, err)

	res = b.get("/accounts")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	row := res.Body[strings.Index(res.Body, "Acme Corp"):]
	row = row[:strings.Index(row, "</tr>")]
	require.Contains(t, row, "acme.test")
	require.Contains(t, row, "Dana Lee", "owner's name")
	require.Contains(t, row, "mid-market")
	require.Contains(t, row, "2026-03-04", "last activity: the second call")
	require.Regexp(t, `<td class="num">1</td>\s*<td class="num">2</td>`, row, "1 open deal, 2 open commitments")
	require.Less(t, strings.Index(res.Body, "Acme Corp"), strings.Index(res.Body, "Globex"), "by name")
	require.Contains(t, res.Body, `href="/accounts/`+f.account.ID+`"`)

	res = b.get("/accounts?q=GLOBEX.EX")
	require.Contains(t, res.Body, "Globex")
	require.NotContains(t, res.Body, "Acme Corp", "q searches domains")
	res = b.get("/accounts?q=acme")
	require.Contains(t, res.Body, "Acme Corp")
	require.NotContains(t, res.Body, ">Globex<")
	res = b.get("/accounts?q=" + url.QueryEscape("<b>zzz"))
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "No account matches “&lt;b&gt;zzz”")

	// Keyset pages of 50: 120 accounts (2 above), each once, though names
	// repeat (three of each, in mixed case: ties broken by id).
	for i := range 118 {
		name := fmt.Sprintf("Bulk %03d", i%40)
		if i%2 == 0 {
			name = strings.ToUpper(name)
		}
		b.account(name)
	}
	seen := map[string]bool{}
	next, pages := "/accounts", 0
	for next != "" {
		res = b.get(next)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		for _, m := range regexp.MustCompile(`<th scope="row"><a href="/accounts/([0-9a-f-]+)"`).FindAllStringSubmatch(res.Body, -1) {
			require.False(t, seen[m[1]], "account listed twice")
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]*)" rel="next">`).FindStringSubmatch(res.Body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		pages++
	}
	require.Len(t, seen, 120)
	require.Equal(t, 3, pages)

	res = b.get("/accounts?cursor=nonsense")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
}

// TestAccountPage: the brief's statements link their activities, the
// timeline filters (type checked by hand), "Load more" walks the keyset
// without gaps or repeats (full pages and fragments alike), who owes whom
// groups by person, and the deals show stage, owner, amount and status.
func TestAccountPage(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	f := b.fixture("Acme Corp")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var calls []crm.Activity
	for i := range 30 {
		in := call(f.account.ID, t0.Add(time.Duration(i)*time.Hour), fmt.Sprintf("Call %02d", i))
		if i%3 == 0 {
			in.ContactIDs = crm.Some([]string{f.contact.ID})
		}
		if i%5 == 0 {
			in.DealID = crm.Some(f.deal.ID)
		}
		calls = append(calls, b.activity(in))
	}
	note := b.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account.ID),
		OccurredAt: crm.Some(t0.Add(-24 * time.Hour).Format(time.RFC3339)), Subject: crm.Some("A note"), Source: crm.Some(crm.SourceAPI)})
	ev := []crm.Evidence{{Segment: 1, Speaker: "Maya Patel", Quote: "We will sign"}}
	due := crm.Date{Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	owner1, owner2 := "Maya Patel", "Dana Lee"
	mt := b.meeting(f.account.ID, t0.Add(-48*time.Hour), "Kickoff",
		[]crm.Segment{{Index: 0, Speaker: "Dana Lee", Text: "Hello"}, {Index: 1, Speaker: "Maya Patel", Text: "We will sign"}},
		&crm.Notes{Summary: "They plan to sign.", SummaryEvidence: ev,
			ActionItems: []crm.ActionItem{
				{Text: "Sign the order", Owner: &owner1, DueDate: &due, Evidence: ev},
				{Text: "Send the contract", Owner: &owner2, Evidence: ev},
				{Text: "Share the plan", Owner: &owner1, Evidence: ev},
			},
			Coverage: 1, Model: "t", PromptVersion: "t"})

	res := b.get("/accounts/" + f.account.ID)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	for _, id := range []string{"brief", "timeline", "owes", "deals", "search", "ask", "log"} {
		require.Contains(t, res.Body, `<section id="`+id+`"`)
	}
	require.Equal(t, 1, strings.Count(res.Body, "<h1"), "one h1")

	// The brief: statements with links to their activities.
	br := section(t, res.Body, "brief")
	require.Contains(t, br, "<li>", "statements")
	links := regexp.MustCompile(`class="src" href="/activities/([0-9a-f-]+)"`).FindAllStringSubmatch(br, -1)
	require.NotEmpty(t, links)
	known := map[string]bool{mt.ID: true, note.ID: true}
	for _, c := range calls {
		known[c.ID] = true
	}
	for _, l := range links {
		require.True(t, known[l[1]], "a brief link names an activity of the account")
	}

	// The timeline: 32 activities, pages of 25, newest first.
	tl := section(t, res.Body, "timeline")
	require.Contains(t, tl, `<form id="timeline-filters"`)
	for _, n := range []string{`name="type"`, `name="contact_id"`, `name="deal_id"`, `name="since"`, `name="until"`} {
		require.Contains(t, tl, n)
	}
	ids := timelineIDs(res.Body)
	require.Len(t, ids, timelinePageSize)
	require.Equal(t, calls[29].ID, ids[0])
	full, frag := loadMore(res.Body)
	require.NotEmpty(t, full)
	require.True(t, strings.HasPrefix(full, "/accounts/"+f.account.ID+"?cursor="), full)

	// Page two as a full page and as the fragment: the same 7, none seen.
	res2 := b.get(full)
	require.Equal(t, http.StatusOK, res2.Status, res2.Body)
	ids2 := timelineIDs(res2.Body)
	fr := b.get(frag)
	require.Equal(t, http.StatusOK, fr.Status, fr.Body)
	require.NotContains(t, fr.Body, "<html")
	require.Equal(t, ids2, timelineIDs(fr.Body))
	require.Len(t, ids2, 7)
	require.Contains(t, res2.Body, "Kickoff")
	require.Contains(t, res2.Body, "They plan to sign.", "a meeting shows its summary")
	all := map[string]bool{}
	for _, id := range append(ids, ids2...) {
		require.False(t, all[id], "no activity twice")
		all[id] = true
	}
	require.Len(t, all, 32, "no gaps")
	require.True(t, all[mt.ID] && all[note.ID])
	f2, _ := loadMore(res2.Body)
	require.Empty(t, f2, "the last page has no Load more")
	require.Contains(t, res2.Body, "That is the whole timeline")

	// Filters: type note is the one note; the meeting type the one meeting.
	res = b.get("/accounts/" + f.account.ID + "?type=note")
	require.Equal(t, []string{note.ID}, timelineIDs(res.Body))
	require.Contains(t, res.Body, `<option value="note" selected>`)
	res = b.get("/accounts/" + f.account.ID + "?type=meeting")
	require.Equal(t, []string{mt.ID}, timelineIDs(res.Body))
	require.Contains(t, res.Body, "Open the meeting notes")
	// Load more keeps the filters: 30 calls are 25 then 5.
	res = b.get("/accounts/" + f.account.ID + "?type=call")
	callIDs := timelineIDs(res.Body)
	require.Len(t, callIDs, 25)
	full, frag = loadMore(res.Body)
	require.Contains(t, full, "type=call")
	require.Contains(t, frag, "type=call")
	more := timelineIDs(b.get(frag).Body)
	require.Len(t, more, 5)
	require.Equal(t, calls[0].ID, more[4], "the oldest call last")
	require.NotContains(t, more, note.ID)
	// Contact: calls 0,3,…,27 (10); deal: calls 0,5,…,25 (6).
	res = b.get("/accounts/" + f.account.ID + "?contact_id=" + f.contact.ID)
	require.Len(t, timelineIDs(res.Body), 10)
	require.Contains(t, res.Body, "Maya Patel")
	res = b.get("/accounts/" + f.account.ID + "?deal_id=" + f.deal.ID + "&type=call")
	require.Len(t, timelineIDs(res.Body), 6)
	// Dates: since 2026-03-02 until 2026-03-02 is the day of the calls
	// (call i at 10:00+i h: i ≤ 13 on March 2).
	res = b.get("/accounts/" + f.account.ID + "?since=2026-03-02&until=2026-03-02")
	require.Len(t, timelineIDs(res.Body), 14)
	res = b.get("/accounts/" + f.account.ID + "?type=sms")
	require.Empty(t, timelineIDs(res.Body))
	require.Contains(t, res.Body, "No activity matches these filters")
	res = b.get("/accounts/" + f.account.ID + "?type=bogus")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	res = b.get("/accounts/" + f.account.ID + "?since=yesterday")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)

	// Who owes whom: Dana Lee (ours: a user) 1 item; Maya Patel (theirs: a
	// contact) 2 items, 1 overdue.
	ow := section(t, b.get("/accounts/"+f.account.ID).Body, "owes")
	require.Less(t, strings.Index(ow, "Dana Lee"), strings.Index(ow, "Maya Patel"))
	require.Regexp(t, `Dana Lee <span class="side side-ours">our side</span></h3>`, ow)
	require.Regexp(t, `Maya Patel <span class="side side-theirs">their side</span> <span class="flag">1 overdue</span>`, ow)
	maya := ow[strings.Index(ow, "Maya Patel"):]
	require.Contains(t, maya, "Sign the order")
	require.Contains(t, maya, "Share the plan")
	require.NotContains(t, maya, "Send the contract")

	dl := section(t, b.get("/accounts/"+f.account.ID).Body, "deals")
	require.Contains(t, dl, "Expansion")
	require.Contains(t, dl, "proposal")
	require.Contains(t, dl, "Dana Lee")
	require.Contains(t, dl, "12000 USD")
	require.Contains(t, dl, "open")

	// An empty account says so.
	empty := b.account("Empty Co")
	res = b.get("/accounts/" + empty.ID)
	require.Contains(t, res.Body, "Nothing has been logged on this account yet")
	require.Contains(t, res.Body, "No open commitments")
	require.Contains(t, res.Body, "No deals on this account")
}

// meetingNotes are notes with a flagged decision and a flagged action item,
// each claim citing segments of a four-segment transcript.
func meetingNotes() *crm.Notes {
	reason := "payment_instructions: mentions a bank account"
	e := func(segs ...int) []crm.Evidence {
		var out []crm.Evidence
		for _, s := range segs {
			out = append(out, crm.Evidence{Segment: s, StartMS: int64(s) * 61000, Speaker: "Maya Patel", Quote: "x"})
		}
		return out
	}
	owner := "Dana Lee"
	due := crm.Date{Time: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	return &crm.Notes{
		Summary:          "The rollout is on track.",
		SummarySentences: []crm.Point{{Text: "The rollout is on track.", Evidence: e(0)}},
		KeyPoints:        []crm.Point{{Text: "Two teams are live.", Evidence: e(1, 3)}},
		Decisions:        []crm.Point{{Text: "Pay to account 1234.", Evidence: e(2), NeedsReview: true, ReviewReason: &reason}},
		Risks:            []crm.Point{{Text: "Budget may slip.", Evidence: e(3)}},
		ActionItems: []crm.ActionItem{
			{Text: "Send the plan", Owner: &owner, DueDate: &due, Evidence: e(1), Tentative: true},
			{Text: "Wire the deposit", Evidence: e(2), NeedsReview: true, ReviewReason: &reason},
		},
		FollowUp: &crm.FollowUp{Subject: "Next steps", Body: "Hi Maya,\nthe plan follows."},
		Coverage: 1, Model: "t", PromptVersion: "t",
	}
}

func fourSegments() []crm.Segment {
	return []crm.Segment{
		{Index: 0, Speaker: "Dana Lee", StartMS: 0, EndMS: 60000, Text: "Welcome."},
		{Index: 1, Speaker: "Maya Patel", StartMS: 61000, EndMS: 120000, Text: "Two teams are live."},
		{Index: 2, Speaker: "Maya Patel", StartMS: 122000, EndMS: 180000, Text: "Pay to account 1234."},
		{Index: 3, Speaker: "Dana Lee", StartMS: 3723000, EndMS: 3724000, Text: "Budget may slip."},
	}
}

// TestMeetingPage: every claim's evidence links to its transcript line;
// the transcript highlights exactly the cited rows; flagged items are
// marked and the confirm button releases them; the follow-up draft is
// editable with copy buttons.
func TestMeetingPage(t *testing.T) {
	t.Parallel()
	b, tx := setupTx(t)
	f := b.fixture("Acme Corp")
	mt := b.meeting(f.account.ID, time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), "Rollout review", fourSegments(), meetingNotes())

	res := b.get("/activities/" + mt.ID)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	notes := section(t, res.Body, "notes")
	cites := regexp.MustCompile(`<a class="cite" href="([^"]*)"`).FindAllStringSubmatch(notes, -1)
	// summary 1, key point 2, decision 1, risk 1, action items 1+1.
	require.Len(t, cites, 7)
	tr := "/activities/" + mt.ID + "/transcript?cite="
	require.Contains(t, notes, `href="`+tr+`0#seg-0"`)
	require.Contains(t, notes, `href="`+tr+`1,3#seg-1"`, "a claim citing two lines links both, anchored at each")
	require.Contains(t, notes, `href="`+tr+`1,3#seg-3"`)
	require.Contains(t, notes, `href="`+tr+`2#seg-2"`)
	require.Contains(t, notes, "Maya Patel, 3:03", "the evidence's own time")
	require.Contains(t, notes, "tentative")
	require.Contains(t, notes, "2026-04-01")

	// Flagged: the decision and an action item.
	require.Equal(t, 2, strings.Count(notes, `class="flag needs-review"`))
	require.Contains(t, notes, "payment_instructions: mentions a bank account")
	require.Equal(t, 2, strings.Count(notes, `action="/activities/`+mt.ID+`/confirm"`))

	// The follow-up draft.
	require.Contains(t, notes, `<textarea id="follow-up-body"`)
	require.Contains(t, notes, "Hi Maya,\nthe plan follows.</textarea>")
	require.Contains(t, notes, `id="follow-up-subject" type="text" value="Next steps"`)
	require.Contains(t, notes, `data-copy="follow-up-body"`)

	// The transcript view: exactly the cited rows highlighted, the first
	// current.
	res = b.get("/activities/" + mt.ID + "/transcript?cite=1,3")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	hl := regexp.MustCompile(`<li id="seg-(\d+)" class="seg hl"`).FindAllStringSubmatch(res.Body, -1)
	require.Len(t, hl, 2)
	require.Equal(t, "1", hl[0][1])
	require.Equal(t, "3", hl[1][1])
	require.Equal(t, 4, strings.Count(res.Body, `<li id="seg-`))
	require.Equal(t, 1, strings.Count(res.Body, `aria-current="true"`))
	require.Contains(t, res.Body, `<li id="seg-1" class="seg hl" aria-current="true">`)
	require.Contains(t, res.Body, `<li id="seg-0" class="seg">`)
	require.Contains(t, res.Body, `<span class="clock">1:02:03</span>`, "segment 3's clock")
	res = b.get("/activities/" + mt.ID + "/transcript")
	require.Zero(t, strings.Count(res.Body, " hl\""))
	require.Zero(t, strings.Count(res.Body, `aria-current="true"`))

	// Confirm the flagged decision: marked confirmed, one form left.
	res = b.post("/activities/"+mt.ID+"/confirm", url.Values{"kind": {"decisions"}, "index": {"0"}, "text": {"Pay to account 1234."}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "/activities/"+mt.ID+"?confirmed=1#notes", res.Header.Get("Location"))
	res = b.get("/activities/" + mt.ID + "?confirmed=1")
	notes = section(t, res.Body, "notes")
	require.Equal(t, 1, strings.Count(notes, `class="flag needs-review"`))
	require.Contains(t, notes, "Reviewed and confirmed")
	require.Contains(t, res.Body, "Confirmed.")
	_, n, err := b.store.MeetingNotes(context.Background(), b.orgID, mt.ID)
	require.NoError(t, err)
	require.NotNil(t, n.Decisions[0].ConfirmedAt)
	require.Equal(t, b.user.ID, *n.Decisions[0].ConfirmedBy)
	require.True(t, n.ActionItems[1].Held())

	// The action item by its ID; a stale text is refused; no CSRF, refused.
	res = b.post("/activities/"+mt.ID+"/confirm", url.Values{"kind": {"action_items"}, "id": {n.ActionItems[1].ID}, "text": {"changed"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	res = b.post("/activities/"+mt.ID+"/confirm", url.Values{"kind": {"action_items"}, "id": {n.ActionItems[1].ID}, "csrf": {"x"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	res = b.post("/activities/"+mt.ID+"/confirm", url.Values{"kind": {"action_items"}, "id": {n.ActionItems[1].ID}, "text": {"Wire the deposit"}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	res = b.get("/activities/" + mt.ID)
	require.Zero(t, strings.Count(res.Body, `class="flag needs-review"`))

	// A purged transcript says so.
	_, err = b.store.WebTranscriptByActivity(context.Background(), b.orgID, mt.ID)
	require.NoError(t, err)
	_, err = tx.Exec(context.Background(), `UPDATE transcripts SET segments = '[]', content = '', purged_at = now() WHERE org_id = $1 AND activity_id = $2`, b.orgID, mt.ID)
	require.NoError(t, err)
	res = b.get("/activities/" + mt.ID + "/transcript?cite=1")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "This transcript was removed")
	require.NotContains(t, res.Body, `id="seg-`)

	// A call: its page shows what it is, no notes section.
	c := b.activity(call(f.account.ID, time.Now(), "Quick call"))
	res = b.get("/activities/" + c.ID)
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "Quick call")
	require.NotContains(t, res.Body, `<section id="notes"`)
	require.Equal(t, http.StatusNotFound, b.get("/activities/"+c.ID+"/transcript").Status)
}

// TestAccountPagesEscape: the injection corpus as an account name,
// subject, body, speaker, summary and follow-up comes back escaped on every
// page; no raw tag or attribute is made of it.
func TestAccountPagesEscape(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	for i, bad := range injections {
		f := b.fixture(fmt.Sprintf("X%d %s", i, bad))
		in := call(f.account.ID, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), bad)
		in.Body = crm.Some(bad)
		in.Disposition = crm.Some("connected")
		in.NextStep = crm.Some(crm.NextStepInput{Text: bad})
		in.ContactIDs = crm.Some([]string{f.contact.ID})
		c := b.activity(in)
		ev := []crm.Evidence{{Segment: 0, Speaker: bad, Quote: bad}}
		reason := bad
		owner := bad
		mt := b.meeting(f.account.ID, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), bad,
			[]crm.Segment{{Index: 0, Speaker: bad, Text: bad}},
			&crm.Notes{Summary: bad, SummarySentences: []crm.Point{{Text: bad, Evidence: ev, NeedsReview: true, ReviewReason: &reason}},
				ActionItems: []crm.ActionItem{{Text: bad, Owner: &owner, Evidence: ev}},
				FollowUp:    &crm.FollowUp{Subject: bad, Body: bad}, Coverage: 1, Model: "t", PromptVersion: "t"})
		for _, path := range []string{"/accounts", "/accounts?q=" + url.QueryEscape(bad), "/accounts/" + f.account.ID,
			"/accounts/" + f.account.ID + "/timeline", "/activities/" + c.ID, "/activities/" + mt.ID,
			"/activities/" + mt.ID + "/transcript?cite=0"} {
			res := b.get(path)
			require.Equal(t, http.StatusOK, res.Status, path+": "+res.Body)
			require.NotContains(t, res.Body, "<script>alert", path)
			require.NotContains(t, res.Body, "<img src=x", path)
			require.NotContains(t, res.Body, `href="javascript:`, path)
			require.NotContains(t, res.Body, `"><img`, path)
			for _, m := range hrefRE.FindAllStringSubmatch(res.Body, -1) {
				require.False(t, strings.HasPrefix(strings.ToLower(m[1]), "javascript"), path)
			}
		}
		res := b.get("/activities/" + mt.ID)
		switch i {
		case 0:
			require.Contains(t, res.Body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		case 1:
			require.Contains(t, res.Body, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
		case 2:
			require.Contains(t, res.Body, "javascript:alert(1)")
		}
	}
}

// TestAccountPagesTenancy: another org's account, activity and transcript
// are the 404 page, as are malformed IDs; the confirm form cannot reach
// another org's meeting.
func TestAccountPagesTenancy(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	other, err := b.store.OrgCreate(ctx, "Other org")
	require.NoError(t, err)
	in := crm.AccountInput{Name: crm.Some("Theirs"), Domains: crm.Some([]string{"theirs.test"})}
	require.NoError(t, in.Validate(true))
	acc, err := b.store.AccountCreate(ctx, other.ID, in)
	require.NoError(t, err)
	otherB := &testBundle{t: t, store: b.store, handler: b.handler, orgID: other.ID}
	mt := otherB.meeting(acc.ID, time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), "Their meeting", fourSegments(), meetingNotes())

	for _, p := range []string{"/accounts/" + acc.ID, "/accounts/" + acc.ID + "/timeline", "/activities/" + mt.ID,
		"/activities/" + mt.ID + "/transcript", "/accounts/not-an-id", "/activities/123"} {
		res := b.get(p)
		require.Equal(t, http.StatusNotFound, res.Status, p)
		require.Contains(t, res.Body, "Not found", p)
		require.NotContains(t, res.Body, "Their meeting")
	}
	res := b.post("/activities/"+mt.ID+"/confirm", url.Values{"kind": {"decisions"}, "index": {"0"}})
	require.Equal(t, http.StatusNotFound, res.Status)
	res = b.get("/accounts?q=theirs")
	require.Contains(t, res.Body, "No account matches")
}
