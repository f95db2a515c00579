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
	"logbook/internal/store"
)

// briefBundle is setup(t) with a clock the test moves.
type briefBundle struct {
	*testBundle
	now time.Time
}

func briefSetup(t *testing.T) *briefBundle {
	t.Helper()
	b := &briefBundle{testBundle: setup(t), now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	h, err := NewHandler(Deps{Store: b.store, Now: func() time.Time { return b.now }})
	require.NoError(t, err)
	b.handler = h
	return b
}

// briefFixture is an account with an owner, two contacts, two deals (one
// with activity), an email, a call and a processed meeting with risks and
// action items of both sides.
type briefFixture struct {
	*briefBundle
	account, olive, dana, sam string
	renewal, expansion        string
	email, call, meeting      string
	items                     map[string]string // action item text → id
}

func briefFixtureSetup(t *testing.T) *briefFixture {
	t.Helper()
	ctx := context.Background()
	f := &briefFixture{briefBundle: briefSetup(t), items: map[string]string{}}
	f.olive = f.create("/v1/users", map[string]any{"email": "olive@seller.test", "name": "Olive Owner", "role": "rep"})
	f.account = f.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"acme.test"},
		"segment": "enterprise", "owner_id": f.olive})
	f.dana = f.create("/v1/contacts", map[string]any{"account_id": f.account, "name": "Dana Lee", "email": "dana@acme.test", "title": "CFO"})
	f.sam = f.create("/v1/contacts", map[string]any{"account_id": f.account, "name": "Sam Ray", "email": "sam@acme.test"})
	f.renewal = f.create("/v1/deals", map[string]any{"account_id": f.account, "name": "Acme renewal", "stage": "Negotiation",
		"amount": 120000, "currency": "USD", "close_date": "2026-04-30", "owner_id": f.olive})
	f.expansion = f.create("/v1/deals", map[string]any{"account_id": f.account, "name": "Acme expansion"})
	f.email = f.create("/v1/activities", map[string]any{"type": "email", "direction": "inbound", "account_id": f.account,
		"deal_id": f.renewal, "occurred_at": "2026-03-03T09:00:00Z", "subject": "Re: pricing",
		"participants": []map[string]any{{"name": "Sam Ray", "email": "sam@acme.test"}}})

	tr := f.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "qbr", "title": "Acme QBR",
		"started_at": "2026-03-08T15:00:00Z", "account_id": f.account,
		"participants": []map[string]any{{"name": "Dana Lee", "email": "dana@acme.test"}, {"name": "Olive Owner", "email": "olive@seller.test"}},
		"segments":     []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 4000, "text": "We need the pricing sheet."}}})
	require.Equal(t, http.StatusAccepted, tr.Status, "%s", tr.Body)
	var accepted struct {
		ID         string `json:"id"`
		ActivityID string `json:"activity_id"`
	}
	tr.JSON(t, &accepted)
	f.meeting = accepted.ActivityID
	ev := []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "We need the pricing sheet."}}
	owner := func(s string) *string { return &s }
	due := func(s string) *crm.Date {
		d, err := crm.ParseDate(s)
		require.NoError(t, err)
		return &d
	}
	_, err := f.store.NotesSave(ctx, f.orgID, accepted.ID, 1, crm.Notes{
		Summary: "Quarterly review: pricing is the open question; legal wants the DPA first.",
		Risks: []crm.Point{{Text: "Legal review may delay signature past quarter end.", Evidence: ev},
			{Text: "Budget owner changes in April.", Evidence: ev}},
		ActionItems: []crm.ActionItem{
			{Text: "Send the pricing sheet", Owner: owner("Olive Owner"), DueDate: due("2026-03-06"), Evidence: ev},
			{Text: "Share the security questionnaire", Owner: owner("Dana Lee"), Evidence: ev},
			{Text: "Draft the SOW", Evidence: ev, Tentative: true},
		},
		Coverage: 1, Model: "test", PromptVersion: "test"}, nil)
	require.NoError(t, err)
	list := f.do("GET", "/v1/action-items?account_id="+f.account, nil)
	require.Equal(t, http.StatusOK, list.Status)
	var items crm.Page[crm.ActionItem]
	list.JSON(t, &items)
	for _, it := range items.Items {
		f.items[it.Text] = it.ID
	}
	require.Len(t, f.items, 3)

	f.call = f.create("/v1/activities", map[string]any{"type": "call", "direction": "outbound", "disposition": "connected",
		"account_id": f.account, "contact_ids": []string{f.dana}, "occurred_at": "2026-03-09T10:00:00Z"})
	return f
}

// brief GETs the account's brief and requires a 200.
func (b *briefBundle) brief(accountID string) (accountBrief, response) {
	b.t.Helper()
	res := b.do("GET", "/v1/accounts/"+accountID+"/brief", nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	var ab accountBrief
	res.JSON(b.t, &ab)
	return ab, res
}

func TestAccountBrief(t *testing.T) {
	t.Parallel()

	t.Run("EveryStatementCitesTheAccountsActivity", func(t *testing.T) {
		t.Parallel()
		f := briefFixtureSetup(t)
		ab, _ := f.brief(f.account)

		require.Equal(t, "Acme: 2 open deals; 3 open commitments (1 overdue); 2 risks in 90 days; "+
			"last touch 2026-03-09 (outbound call).", ab.Brief.Headline)
		var titles []string
		for _, s := range ab.Brief.Sections {
			titles = append(titles, s.Title)
			require.Zero(t, s.More, "nothing is capped in %s", s.Title)
		}
		require.Equal(t, []string{"The account", "Deals", "Open commitments", "Risks raised", "Last touch per contact",
			"Recent meetings"}, titles)

		// Each citation is an activity of this account, fetched as such.
		checked := map[string]bool{}
		for _, s := range ab.Brief.Sections {
			for _, st := range s.Statements {
				if strings.Contains(st.Text, "no activity logged on it") {
					require.Empty(t, st.ActivityIDs, st.Text)
					continue
				}
				require.NotEmpty(t, st.ActivityIDs, "%s: %q cites nothing", s.Title, st.Text)
				for _, id := range st.ActivityIDs {
					if checked[id] {
						continue
					}
					res := f.do("GET", "/v1/activities/"+id, nil)
					require.Equal(t, http.StatusOK, res.Status)
					require.Equal(t, f.account, res.Map(t)["account_id"])
					checked[id] = true
				}
			}
		}
		texts := func(title string) []briefStatement {
			for _, s := range ab.Brief.Sections {
				if s.Title == title {
					return s.Statements
				}
			}
			return nil
		}
		require.Equal(t, []briefStatement{{
			Text: "Acme (enterprise; acme.test), owned by Olive Owner: 3 activities since 2026-03-03; latest: " +
				"outbound call on 2026-03-09.", ActivityIDs: []string{f.call, f.email}}}, texts("The account"))
		require.Equal(t, []briefStatement{
			{Text: "Acme renewal: open, stage Negotiation, USD 120,000, closing 2026-04-30, owner Olive Owner; last activity: " +
				"inbound email on 2026-03-03.", ActivityIDs: []string{f.email}},
			{Text: "Acme expansion: open; no activity logged on it.", ActivityIDs: []string{}},
		}, texts("Deals"))
		require.Equal(t, []briefStatement{
			{Text: "Ours — Olive Owner: Send the pricing sheet; due 2026-03-06, overdue.", ActivityIDs: []string{f.meeting}},
			{Text: "Theirs — Dana Lee: Share the security questionnaire; no due date.", ActivityIDs: []string{f.meeting}},
			{Text: "No owner named: Draft the SOW (tentative); no due date.", ActivityIDs: []string{f.meeting}},
		}, texts("Open commitments"))
		require.Equal(t, []briefStatement{
			{Text: "Legal review may delay signature past quarter end — meeting on 2026-03-08.", ActivityIDs: []string{f.meeting}},
			{Text: "Budget owner changes in April — meeting on 2026-03-08.", ActivityIDs: []string{f.meeting}},
		}, texts("Risks raised"))
		require.Equal(t, []briefStatement{
			{Text: "Dana Lee (CFO): outbound call on 2026-03-09.", ActivityIDs: []string{f.call}},
			{Text: "Sam Ray: inbound email on 2026-03-03.", ActivityIDs: []string{f.email}},
		}, texts("Last touch per contact"))
		require.Equal(t, []briefStatement{
			{Text: "2026-03-08 “Acme QBR”: Quarterly review: pricing is the open question; legal wants the DPA first.",
				ActivityIDs: []string{f.meeting}},
		}, texts("Recent meetings"))

		// The structured facts.
		require.Equal(t, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), *ab.LastActivityAt)
		require.Equal(t, f.now, ab.GeneratedAt)
		require.Len(t, ab.Deals, 2)
		require.Equal(t, f.renewal, ab.Deals[0].ID)
		require.Equal(t, crm.Decimal("120000"), *ab.Deals[0].Amount)
		require.Equal(t, "Olive Owner", *ab.Deals[0].OwnerName)
		require.Equal(t, f.email, *ab.Deals[0].LastActivityID)
		require.Equal(t, f.expansion, ab.Deals[1].ID)
		require.Nil(t, ab.Deals[1].LastActivityID)
		sides := map[string]store.BriefSide{}
		for _, it := range ab.OpenActionItems {
			sides[it.Text] = it.Side
			require.Equal(t, f.meeting, it.ActivityID)
			require.Equal(t, "Acme QBR", *it.MeetingSubject)
			require.NotEmpty(t, it.Evidence)
			require.Equal(t, it.Text == "Send the pricing sheet", it.Overdue)
		}
		require.Equal(t, map[string]store.BriefSide{"Send the pricing sheet": store.BriefOurs,
			"Share the security questionnaire": store.BriefTheirs, "Draft the SOW": store.BriefUnknown}, sides)
	})

	t.Run("CachedUntilActivityArrives", func(t *testing.T) {
		t.Parallel()
		f := briefFixtureSetup(t)
		built := f.now
		first, res := f.brief(f.account)
		require.Equal(t, built, first.GeneratedAt)

		// Nothing changed: the kept brief, byte for byte.
		f.now = f.now.Add(time.Hour)
		again, res2 := f.brief(f.account)
		require.Equal(t, built, again.GeneratedAt)
		require.JSONEq(t, string(res.Body), string(res2.Body))

		// A new activity refreshes it.
		f.now = f.now.Add(time.Hour)
		note := f.create("/v1/activities", map[string]any{"type": "note", "account_id": f.account,
			"occurred_at": "2026-03-10T08:00:00Z", "body": "Dana asked for a call."})
		fresh, _ := f.brief(f.account)
		require.Equal(t, f.now, fresh.GeneratedAt)
		require.Equal(t, time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC), *fresh.LastActivityAt)
		require.Contains(t, fresh.Brief.Headline, "last touch 2026-03-10 (note)")
		require.Equal(t, []string{note, f.email}, fresh.Brief.Sections[0].Statements[0].ActivityIDs)

		// So does an action item's status change.
		f.now = f.now.Add(time.Hour)
		res = f.do("PATCH", "/v1/action-items/"+f.items["Send the pricing sheet"], map[string]any{"status": "done"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		done, _ := f.brief(f.account)
		require.Equal(t, f.now, done.GeneratedAt)
		require.Len(t, done.OpenActionItems, 2)
		require.Contains(t, done.Brief.Headline, "2 open commitments;")
		for _, it := range done.OpenActionItems {
			require.NotEqual(t, "Send the pricing sheet", it.Text)
		}

		// And a deal's stage.
		f.now = f.now.Add(time.Hour)
		res = f.do("PATCH", "/v1/deals/"+f.renewal, map[string]any{"stage": "Contracting"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		staged, _ := f.brief(f.account)
		require.Equal(t, f.now, staged.GeneratedAt)
		require.Equal(t, "Contracting", *staged.Deals[0].Stage)

		// Unchanged again: kept.
		kept := staged.GeneratedAt
		f.now = f.now.Add(time.Hour)
		same, _ := f.brief(f.account)
		require.Equal(t, kept, same.GeneratedAt)

		// A new day rebuilds it (what is overdue moves with the date).
		f.now = f.now.Add(24 * time.Hour)
		nextDay, _ := f.brief(f.account)
		require.Equal(t, f.now, nextDay.GeneratedAt)
	})

	t.Run("EmptyAccount", func(t *testing.T) {
		t.Parallel()
		b := briefSetup(t)
		acct := b.create("/v1/accounts", map[string]any{"name": "Globex"})
		ab, res := b.brief(acct)
		require.Equal(t, "Globex: no activity logged yet.", ab.Brief.Headline)
		require.Equal(t, []briefSection{{Title: "The account", Statements: []briefStatement{
			{Text: "Globex, no owner: no activity logged yet.", ActivityIDs: []string{}}}}}, ab.Brief.Sections)
		require.Empty(t, ab.Deals)
		require.Empty(t, ab.OpenActionItems)
		m := res.Map(t)
		require.Nil(t, m["last_activity_at"])
		require.Equal(t, []any{}, m["deals"], "an empty list, not null")
		require.Equal(t, []any{}, m["open_action_items"])
	})

	t.Run("NotFoundInvalidAndScopes", func(t *testing.T) {
		t.Parallel()
		b := briefSetup(t)
		acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "GET", "/v1/accounts/"+acct+"/brief", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
		require.NotContains(t, string(res.Body), acct)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/accounts/"+store.NewID()+"/brief", nil).Status)
		res = b.do("GET", "/v1/accounts/not-an-id/brief", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"id"}, res.Fields(t))
		require.Equal(t, http.StatusOK, b.doKey(b.keyWith(crm.ScopeRead), "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeIngest), "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		// Another org's read kept nothing that org A's read could be served.
		ab, _ := b.brief(acct)
		require.Equal(t, "Acme: no activity logged yet.", ab.Brief.Headline)
	})

	t.Run("DocumentedInOpenAPI", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		op := b.spec["paths"].(map[string]any)["/v1/accounts/{id}/brief"].(map[string]any)["get"].(map[string]any)
		require.Contains(t, op["summary"], "Sides of a commitment")
		schemas := b.spec["components"].(map[string]any)["schemas"].(map[string]any)
		props := schemas["AccountBrief"].(map[string]any)["properties"].(map[string]any)
		for _, k := range []string{"brief", "open_action_items", "deals", "last_activity_at", "generated_at"} {
			require.Contains(t, props, k)
		}
		side := schemas["BriefActionItem"].(map[string]any)["properties"].(map[string]any)["side"].(map[string]any)
		require.ElementsMatch(t, []any{"ours", "theirs", "unknown"}, side["enum"])
	})
}

// TestComposeAccountBrief checks the caps, the "…and N more" statements
// and the length of the longest brief, on facts made up in memory.
func TestComposeAccountBrief(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("very ", 40) + "long text."
	ref := func(i int, typ crm.ActivityType) store.BriefRef {
		subject := "Subject " + long
		return store.BriefRef{ID: fmt.Sprintf("act-%d", i), Type: typ, OccurredAt: now.Add(-time.Duration(i) * time.Hour), Subject: &subject}
	}
	str := func(s string) *string { return &s }
	amount := crm.Decimal("1234567.25")
	f := store.BriefFacts{
		Account:   crm.Account{Name: "Acme " + long, Domains: []string{"a.test", "b.test", "c.test", "d.test", "e.test"}, Segment: str("enterprise")},
		OwnerName: str("Olive Owner"), Activities: 500, Contacts: 40,
	}
	firstRef, lastRef := ref(400, crm.ActivityNote), ref(0, crm.ActivityCall)
	f.First, f.Last = &firstRef, &lastRef
	for i := range 10 {
		d := store.BriefDeal{Deal: crm.Deal{Name: fmt.Sprintf("Deal %d %s", i, long), Stage: str("Negotiation"),
			Amount: &amount, Currency: str("EUR"), Status: crm.DealOpen, CloseDate: &crm.Date{Time: now}}, OwnerName: str("Olive Owner")}
		if i%2 == 0 {
			r := ref(100+i, crm.ActivityEmail)
			d.Last = &r
		}
		f.Deals = append(f.Deals, d)
	}
	f.DealsTotal, f.DealsOpen = 12, 11
	sides := []store.BriefSide{store.BriefOurs, store.BriefTheirs, store.BriefUnknown}
	for i := range 30 {
		due := crm.Date{Time: now.AddDate(0, 0, i-5)}
		f.OpenActionItems = append(f.OpenActionItems, store.BriefActionItem{
			Item: crm.ActionItem{ID: fmt.Sprint(i), Text: long, Owner: str("Someone With A Long Name"), DueDate: &due, Tentative: true},
			Side: sides[i%3], Meeting: ref(200+i, crm.ActivityMeeting)})
	}
	f.OpenTotal, f.OpenOverdue = 30, 5
	for i := range 5 {
		m := store.BriefMeeting{Meeting: ref(300+i, crm.ActivityMeeting), Summary: long}
		for j := range 3 {
			m.Risks = append(m.Risks, crm.Point{Text: fmt.Sprintf("Risk %d.%d %s", i, j, long)})
		}
		f.Meetings = append(f.Meetings, m)
	}
	for i := range 20 {
		f.Touches = append(f.Touches, store.BriefTouch{ContactID: fmt.Sprint(i), Name: "Contact With A Long Name",
			Title: str("Vice President of Procurement"), Last: ref(i+1, crm.ActivityEmail)})
	}
	f.TouchedTotal = 25

	ab := composeAccountBrief(f, now)
	bySection := map[string]briefSection{}
	words := len(strings.Fields(ab.Brief.Headline))
	for _, s := range ab.Brief.Sections {
		bySection[s.Title] = s
		for _, st := range s.Statements {
			words += len(strings.Fields(st.Text))
			require.NotNil(t, st.ActivityIDs)
		}
	}
	// About 250 words a minute: the longest brief reads in under a minute.
	require.LessOrEqual(t, words, 250, "the longest brief has %d words", words)

	last := func(s briefSection) briefStatement { return s.Statements[len(s.Statements)-1] }
	deals := bySection["Deals"]
	require.Len(t, deals.Statements, briefMaxDeals+1)
	require.Equal(t, 9, deals.More)
	require.Equal(t, "…and 9 more (8 open).", last(deals).Text)
	require.Equal(t, []string{"act-104", "act-106", "act-108"}, last(deals).ActivityIDs, "the omitted deals' activities")

	open := bySection["Open commitments"]
	require.Len(t, open.Statements, briefMaxCommitments+1)
	require.Equal(t, 26, open.More)
	require.Equal(t, "…and 26 more (8 ours, 9 theirs, 9 unclear).", last(open).Text)
	require.Len(t, last(open).ActivityIDs, 26)

	risks := bySection["Risks raised"]
	require.Len(t, risks.Statements, briefMaxRisks+1)
	require.Equal(t, 13, risks.More)

	touches := bySection["Last touch per contact"]
	require.Len(t, touches.Statements, briefMaxTouches+1)
	require.Equal(t, 22, touches.More)
	require.Equal(t, "…and 22 more contacts.", last(touches).Text)
	require.Len(t, last(touches).ActivityIDs, 17, "the loaded ones it leaves out")

	require.Len(t, bySection["Recent meetings"].Statements, briefMaxMeetings)
	require.Contains(t, ab.Brief.Sections[0].Statements[0].Text, "a.test, b.test, 3 more")

	// Meetings in the window without risks say so, citing them.
	quiet := f
	quiet.Meetings = []store.BriefMeeting{{Meeting: ref(1, crm.ActivityMeeting)}, {Meeting: ref(30, crm.ActivityMeeting)}}
	found := false
	for _, s := range composeAccountBrief(quiet, now).Brief.Sections {
		if s.Title == "Risks raised" {
			found = true
			require.Equal(t, []briefStatement{{Text: "No risks raised in the 2 meetings since 2026-03-09.",
				ActivityIDs: []string{"act-1", "act-30"}}}, s.Statements)
		}
	}
	require.True(t, found)

	// Meetings older than the window raise no risks.
	for i := range f.Meetings {
		f.Meetings[i].Meeting.OccurredAt = now.Add(-briefRiskWindow - time.Hour)
	}
	ab = composeAccountBrief(f, now)
	for _, s := range ab.Brief.Sections {
		require.NotEqual(t, "Risks raised", s.Title)
	}
	require.NotContains(t, ab.Brief.Headline, "risk")
}

func TestBriefHelpers(t *testing.T) {
	t.Parallel()
	usd := "USD"
	require.Equal(t, "USD 1,234,567.25", briefAmount("1234567.25", &usd))
	require.Equal(t, "-999", briefAmount("-999", nil))
	require.Equal(t, "1,000", briefAmount("1000", nil))
	require.Equal(t, "one two…", briefClip("one two, three", 2))
	require.Equal(t, "one two three", briefClip(" one  two\nthree ", 3))
	require.Equal(t, []string{"a", "b"}, briefIDs("a", "", "b", "a"))
	require.Equal(t, []string{}, briefIDs())
}
