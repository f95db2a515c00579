package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// opsNow is "now" in the sales-operations API tests: both the store's
// clock and the API's.
var opsNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// opsSetup is setup with both clocks pinned to opsNow, and the
// transaction at hand (to date deals' creation).
func opsSetup(t *testing.T) (*testBundle, pgx.Tx) {
	t.Helper()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	s.SetClock(func() time.Time { return opsNow })
	h, err := NewHandler(Deps{Store: s, Now: func() time.Time { return opsNow }})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
	return b, tx
}

func TestNextStepsAPI(t *testing.T) {
	t.Parallel()
	b, _ := opsSetup(t)
	olive := b.create("/v1/users", map[string]any{"email": "olive@seller.test", "name": "Olive Owner"})
	acme := b.create("/v1/accounts", map[string]any{"name": "Acme"})
	note := func(at, owner, text, due string) string {
		body := map[string]any{"type": "note", "account_id": acme, "occurred_at": at, "body": "noted"}
		if owner != "" {
			body["owner_id"] = owner
		}
		if text != "" {
			ns := map[string]any{"text": text}
			if due != "" {
				ns["due_date"] = due
			}
			body["next_step"] = ns
		}
		return b.create("/v1/activities", body)
	}
	overdue := note("2026-03-01T09:00:00Z", olive, "Send the quote", "2026-03-07")
	today := note("2026-03-02T09:00:00Z", "", "Book the demo", "2026-03-10")
	later := note("2026-03-03T09:00:00Z", olive, "Chase legal", "2026-03-11")
	note("2026-03-03T09:00:00Z", olive, "Someday", "")
	plain := note("2026-03-04T09:00:00Z", olive, "", "")

	type item struct {
		ActivityID  string `json:"activity_id"`
		AccountName string `json:"account_name"`
		OwnerName   string `json:"owner_name"`
		Text        string `json:"text"`
		DueDate     string `json:"due_date"`
		Overdue     bool   `json:"overdue"`
		DaysOverdue int    `json:"days_overdue"`
	}
	list := func(q string) ([]item, *string) {
		t.Helper()
		res := b.do("GET", "/v1/next-steps"+q, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p struct {
			Items      []item  `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		res.JSON(t, &p)
		return p.Items, p.NextCursor
	}
	items, next := list("")
	require.Nil(t, next)
	require.Equal(t, []item{
		{ActivityID: overdue, AccountName: "Acme", OwnerName: "Olive Owner", Text: "Send the quote", DueDate: "2026-03-07", Overdue: true, DaysOverdue: 3},
		{ActivityID: today, AccountName: "Acme", Text: "Book the demo", DueDate: "2026-03-10"},
	}, items)
	items, _ = list("?due_before=2026-03-12&owner_id=" + olive)
	require.Len(t, items, 2)
	require.Equal(t, later, items[1].ActivityID)
	items, next = list("?limit=1&due_before=2026-03-12")
	require.Len(t, items, 1)
	require.NotNil(t, next)
	items, _ = list("?limit=1&due_before=2026-03-12&cursor=" + url.QueryEscape(*next))
	require.Equal(t, today, items[0].ActivityID)

	// Done hides it; the activity says when; reopening shows it again.
	res := b.do("POST", "/v1/activities/"+overdue+"/next-step/done", "{}")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var act crm.Activity
	res.JSON(t, &act)
	require.Equal(t, opsNow, *act.NextStep.DoneAt)
	items, _ = list("")
	require.Len(t, items, 1)
	res = b.do("POST", "/v1/activities/"+overdue+"/next-step/done", map[string]any{"done_at": "2026-03-01T00:00:00Z"})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &act)
	require.Equal(t, opsNow, *act.NextStep.DoneAt, "the first mark stays")
	res = b.do("GET", "/v1/activities/"+overdue, nil)
	res.JSON(t, &act)
	require.Equal(t, opsNow, *act.NextStep.DoneAt)
	res = b.do("DELETE", "/v1/activities/"+overdue+"/next-step/done", nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &act)
	require.Nil(t, act.NextStep.DoneAt)
	res = b.do("POST", "/v1/activities/"+overdue+"/next-step/done", map[string]any{"done_at": "2026-03-09T08:00:00+01:00"})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &act)
	require.Equal(t, time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC), *act.NextStep.DoneAt)
	// A PATCH to another next step opens it again.
	res = b.do("PATCH", "/v1/activities/"+overdue, map[string]any{"next_step": map[string]any{"text": "Send the revised quote", "due_date": "2026-03-07"}})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &act)
	require.Nil(t, act.NextStep.DoneAt)
	items, _ = list("")
	require.Len(t, items, 2)

	// Refusals name the field.
	for _, c := range []struct{ method, path, body, field string }{
		{"POST", "/v1/activities/" + plain + "/next-step/done", "{}", "next_step"},
		{"DELETE", "/v1/activities/" + plain + "/next-step/done", "", "next_step"},
		{"POST", "/v1/activities/" + overdue + "/next-step/done", `{"done_at":"2026-03-11T00:00:00Z"}`, "done_at"},
		{"POST", "/v1/activities/" + overdue + "/next-step/done", `{"done_at":"yesterday"}`, "done_at"},
		{"POST", "/v1/activities/" + overdue + "/next-step/done", `{"when":"now"}`, "when"},
		{"GET", "/v1/next-steps?due_before=2026-02-30", "", "due_before"},
		{"GET", "/v1/next-steps?owner_id=nope", "", "owner_id"},
		{"GET", "/v1/next-steps?limit=0", "", "limit"},
		{"GET", "/v1/next-steps?cursor=nope", "", "cursor"},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		res := b.do(c.method, c.path, body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s %s: %s", c.method, c.path, res.Body)
		require.Equal(t, []string{c.field}, res.Fields(t), "%s %s", c.method, c.path)
	}
	require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/activities/"+store.NewID()+"/next-step/done", "{}").Status)
}

func TestStalledDealsAPI(t *testing.T) {
	t.Parallel()
	b, tx := opsSetup(t)
	ctx := context.Background()
	acme := b.create("/v1/accounts", map[string]any{"name": "Acme"})
	bolt := b.create("/v1/accounts", map[string]any{"name": "Bolt | EMEA"})
	deal := func(account, name string, amount any, created string) string {
		id := b.create("/v1/deals", map[string]any{"account_id": account, "name": name, "amount": amount, "currency": "USD"})
		_, err := tx.Exec(ctx, `UPDATE deals SET created_at = $2 WHERE id = $1`, id, created)
		require.NoError(t, err)
		return id
	}
	big := deal(acme, "Big", 90000, "2026-01-01T12:00:00Z")   // no activity: 68 days
	small := deal(bolt, "Small", 100, "2025-06-01T00:00:00Z") // last activity 2026-02-20 12:00: 18 days
	last := b.create("/v1/activities", map[string]any{"type": "email", "direction": "outbound", "account_id": bolt,
		"occurred_at": "2026-02-20T12:00:00Z", "subject": "Checking in"})

	type page struct {
		Items []struct {
			Deal struct {
				ID     string      `json:"id"`
				Amount json.Number `json:"amount"`
			} `json:"deal"`
			Account      struct{ Name string } `json:"account"`
			LastActivity *struct {
				ID      string `json:"id"`
				Type    string `json:"type"`
				Subject string `json:"subject"`
			} `json:"last_activity"`
			DaysInactive int `json:"days_inactive"`
		} `json:"items"`
		Days int `json:"days"`
	}
	get := func(q string) page {
		t.Helper()
		res := b.do("GET", "/v1/deals/stalled"+q, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p page
		res.JSON(t, &p)
		return p
	}
	p := get("")
	require.Equal(t, 14, p.Days)
	require.Len(t, p.Items, 2)
	require.Equal(t, big, p.Items[0].Deal.ID)
	require.Equal(t, json.Number("90000"), p.Items[0].Deal.Amount)
	require.Nil(t, p.Items[0].LastActivity)
	require.Equal(t, 68, p.Items[0].DaysInactive)
	require.Equal(t, small, p.Items[1].Deal.ID)
	require.Equal(t, last, p.Items[1].LastActivity.ID)
	require.Equal(t, "Checking in", p.Items[1].LastActivity.Subject)
	require.Equal(t, 18, p.Items[1].DaysInactive)

	p = get("?days=20")
	require.Len(t, p.Items, 1)
	require.Equal(t, 20, p.Days)
	res := b.do("PATCH", "/v1/settings", map[string]any{"stalled_after_days": 30})
	require.Equal(t, http.StatusOK, res.Status)
	p = get("")
	require.Equal(t, 30, p.Days)
	require.Len(t, p.Items, 1)

	for _, q := range []string{"?days=0", "?days=3651", "?days=x", "?owner_id=x", "?limit=201", "?cursor=%00"} {
		res := b.do("GET", "/v1/deals/stalled"+q, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
		require.Len(t, res.Fields(t), 1, q)
	}
	require.Equal(t, http.StatusOK, b.do("GET", "/v1/deals/stalled?days=3650", nil).Status)
}

// digestFixture is the digest's fixture (now 2026-03-10 12:00 UTC, the
// default week 2026-03-03 12:00 to now, due before 2026-03-17, stalled
// after 14 days):
//   - Acme (Olive's): a meeting with notes and an action item, two calls
//     (one connected), an email and a note in the week; a next step logged
//     before the week and overdue; Ben's open deal, fresh.
//   - Bolt (Ben's): a deal with no activity since 2026-02-01 (37 days),
//     whose last note's next step was done.
//   - Cobalt: only an activity before the week: nothing to say.
//   - Dyno (Olive's): nothing at all.
//   - Echo: one call Ben logged in the week.
type digestFixture struct {
	b                            *testBundle
	olive, ben                   string
	acme, bolt, echo             string
	meeting, connected, noAnswer string
	email, inWeek, overdueNote   string
	boltNote, echoCall           string
}

func newDigestFixture(t *testing.T) *digestFixture {
	b, tx := opsSetup(t)
	ctx := context.Background()
	f := &digestFixture{b: b}
	f.olive = b.create("/v1/users", map[string]any{"email": "olive@seller.test", "name": "Olive Owner"})
	f.ben = b.create("/v1/users", map[string]any{"email": "ben@seller.test", "name": "Ben Bell"})
	f.acme = b.create("/v1/accounts", map[string]any{"name": "Acme", "owner_id": f.olive})
	f.bolt = b.create("/v1/accounts", map[string]any{"name": "Bolt | EMEA", "owner_id": f.ben})
	cobalt := b.create("/v1/accounts", map[string]any{"name": "Cobalt"})
	b.create("/v1/accounts", map[string]any{"name": "Dyno", "owner_id": f.olive})
	f.echo = b.create("/v1/accounts", map[string]any{"name": "Echo"})
	act := func(body map[string]any) string { return b.create("/v1/activities", body) }
	deal := func(body map[string]any, created string) string {
		id := b.create("/v1/deals", body)
		_, err := tx.Exec(ctx, `UPDATE deals SET created_at = $2 WHERE id = $1`, id, created)
		require.NoError(t, err)
		return id
	}

	// Acme.
	tr := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "title": "QBR", "started_at": "2026-03-05T15:00:00Z",
		"account_id": f.acme, "segments": []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 1000,
			"text": "I'll send the security questionnaire by Thursday."}}})
	require.Equal(t, http.StatusAccepted, tr.Status, "%s", tr.Body)
	var accepted struct{ ID, ActivityID string }
	tr.JSON(t, &accepted)
	f.meeting = tr.Map(t)["activity_id"].(string)
	owner := "Dana Lee"
	due := crm.Date{Time: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)}
	_, err := b.store.NotesSave(ctx, b.orgID, accepted.ID, 1, crm.Notes{
		Summary: "Budget approved for Q3. Legal review next week.", Coverage: 1, Model: "m", PromptVersion: "v",
		ActionItems: []crm.ActionItem{{Text: "Send the security questionnaire", Owner: &owner, DueDate: &due,
			Evidence: []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "I'll send the security questionnaire"}}}}}, nil)
	require.NoError(t, err)
	f.connected = act(map[string]any{"type": "call", "direction": "outbound", "account_id": f.acme, "owner_id": f.olive,
		"occurred_at": "2026-03-06T10:00:00Z", "subject": "Pricing call", "disposition": "connected"})
	f.noAnswer = act(map[string]any{"type": "call", "direction": "outbound", "account_id": f.acme, "owner_id": f.olive,
		"occurred_at": "2026-03-07T10:00:00Z", "disposition": "no_answer"})
	f.email = act(map[string]any{"type": "email", "direction": "inbound", "account_id": f.acme,
		"occurred_at": "2026-03-04T10:00:00Z", "subject": "Re: pricing"})
	f.inWeek = act(map[string]any{"type": "note", "account_id": f.acme, "occurred_at": "2026-03-03T12:00:00Z", "body": "since is inclusive"})
	f.overdueNote = act(map[string]any{"type": "note", "account_id": f.acme, "owner_id": f.olive, "occurred_at": "2026-03-02T09:00:00Z",
		"body": "before the week", "next_step": map[string]any{"text": "Send the quote", "due_date": "2026-03-08"}})
	deal(map[string]any{"account_id": f.acme, "name": "Acme expansion", "owner_id": f.ben}, "2025-12-01T00:00:00Z")

	// Bolt.
	deal(map[string]any{"account_id": f.bolt, "name": "Bolt renewal", "amount": 50000, "currency": "USD", "owner_id": f.ben},
		"2026-01-01T00:00:00Z")
	f.boltNote = act(map[string]any{"type": "note", "account_id": f.bolt, "occurred_at": "2026-02-01T12:00:00Z", "body": "quiet",
		"next_step": map[string]any{"text": "Call back", "due_date": "2026-03-01"}})
	require.Equal(t, http.StatusOK, b.do("POST", "/v1/activities/"+f.boltNote+"/next-step/done", "{}").Status)

	// Cobalt and Echo.
	act(map[string]any{"type": "note", "account_id": cobalt, "occurred_at": "2026-02-01T12:00:00Z", "body": "old"})
	f.echoCall = act(map[string]any{"type": "call", "direction": "outbound", "account_id": f.echo, "owner_id": f.ben,
		"occurred_at": "2026-03-09T10:00:00Z"})

	// Another org with a busy week, never shown.
	_, otherKey := b.newOrg("Other")
	res := b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Zed"})
	require.Equal(t, http.StatusCreated, res.Status)
	res = b.doKey(otherKey, "POST", "/v1/activities", map[string]any{"type": "note", "account_id": res.Map(t)["id"],
		"occurred_at": "2026-03-09T10:00:00Z", "body": "theirs"})
	require.Equal(t, http.StatusCreated, res.Status)
	return f
}

func (f *digestFixture) digest(t *testing.T, q string) brief.Digest {
	t.Helper()
	res := f.b.do("GET", "/v1/digest"+q, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var d brief.Digest
	res.JSON(t, &d)
	return d
}

func digestNames(d brief.Digest) []string {
	out := []string{}
	for _, a := range d.Items {
		out = append(out, a.Account.Name)
	}
	return out
}

func TestDigestAPI(t *testing.T) {
	t.Parallel()

	t.Run("SectionsAndCitations", func(t *testing.T) {
		t.Parallel()
		f := newDigestFixture(t)
		d := f.digest(t, "")
		require.Equal(t, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), d.Since)
		require.Equal(t, opsNow, d.Until)
		require.Equal(t, "2026-03-17", d.DueBefore.String())
		require.Equal(t, 14, d.StalledDays)
		require.Equal(t, []string{"Acme", "Bolt | EMEA", "Echo"}, digestNames(d))
		st := func(text string, ids ...string) brief.BriefStatement {
			return brief.BriefStatement{Text: text, ActivityIDs: ids}
		}
		acme := d.Items[0]
		require.Equal(t, f.acme, acme.Account.ID)
		require.Equal(t, f.olive, *acme.Account.OwnerID)
		require.Equal(t, []brief.BriefStatement{
			st("5 activities: 2 calls, 1 email, 1 meeting, 1 note.", f.noAnswer, f.connected, f.meeting, f.email, f.inWeek),
			st("Meeting on 2026-03-05 “QBR”: Budget approved for Q3.", f.meeting),
			st("Connected outbound call on 2026-03-06 “Pricing call” (Connected).", f.connected),
			st("Inbound email on 2026-03-04 “Re: pricing”.", f.email),
		}, acme.Happened)
		require.Equal(t, []brief.BriefStatement{
			st("Next step (Olive Owner): Send the quote; due 2026-03-08, 2 days overdue.", f.overdueNote),
			st("Action item (Dana Lee): Send the security questionnaire; due 2026-03-12.", f.meeting),
		}, acme.Due)
		require.Empty(t, acme.Stalled)

		bolt := d.Items[1]
		require.Empty(t, bolt.Happened)
		require.Empty(t, bolt.Due, "its next step is done")
		require.Equal(t, []brief.BriefStatement{
			st("Bolt renewal (USD 50,000, owner Ben Bell): no activity for 37 days; last: note on 2026-02-01.", f.boltNote),
		}, bolt.Stalled)

		echo := d.Items[2]
		require.Equal(t, []brief.BriefStatement{st("1 activity: 1 call.", f.echoCall)}, echo.Happened)
		require.Empty(t, echo.Due)
		require.Empty(t, echo.Stalled)

		// Pages of one account.
		var names []string
		q := "?limit=1"
		for range 5 {
			p := f.digest(t, q)
			names = append(names, digestNames(p)...)
			if p.NextCursor == nil {
				break
			}
			q = "?limit=1&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		require.Equal(t, []string{"Acme", "Bolt | EMEA", "Echo"}, names)
	})

	t.Run("OwnerFilter", func(t *testing.T) {
		t.Parallel()
		f := newDigestFixture(t)
		// Olive owns Acme and Dyno (nothing to say); nothing else.
		require.Equal(t, []string{"Acme"}, digestNames(f.digest(t, "?owner_id="+f.olive)))
		// Ben owns Bolt, an open deal on Acme and an activity on Echo.
		d := f.digest(t, "?owner_id="+f.ben)
		require.Equal(t, []string{"Acme", "Bolt | EMEA", "Echo"}, digestNames(d))
		require.Len(t, d.Items[0].Happened, 4, "the whole account, not only Ben's part")
		// Ben's call on Echo is outside an earlier week: Echo drops out.
		d = f.digest(t, "?owner_id="+f.ben+"&until=2026-03-09T00:00:00Z")
		require.Equal(t, []string{"Acme", "Bolt | EMEA"}, digestNames(d))
		// A user of no account.
		nobody := f.b.create("/v1/users", map[string]any{"email": "new@seller.test", "name": "New Hire"})
		require.Empty(t, f.digest(t, "?owner_id="+nobody).Items)
	})

	t.Run("EmptyWeek", func(t *testing.T) {
		t.Parallel()
		f := newDigestFixture(t)
		// Nothing happened in January 2025; what is overdue now and what is
		// stalled still is.
		d := f.digest(t, "?since=2025-01-01T00:00:00Z&until=2025-01-08T00:00:00Z")
		require.Equal(t, "2026-03-10", d.DueBefore.String(), "today, later than until + 7 days")
		require.Equal(t, []string{"Acme", "Bolt | EMEA"}, digestNames(d))
		require.Empty(t, d.Items[0].Happened)
		require.Len(t, d.Items[0].Due, 1, "only the overdue next step; the action item is due later")
		require.Empty(t, d.Items[1].Happened)
		require.Len(t, d.Items[1].Stalled, 1)
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		b, _ := opsSetup(t)
		for q, field := range map[string]string{
			"?since=2026-03-10T12:00:00Z":                            "since",
			"?since=2026-03-11T00:00:00Z&until=2026-03-10T00:00:00Z": "since",
			"?since=2025-12-01T00:00:00Z":                            "since",
			"?since=2025-12-01T00:00:00Z&until=2026-03-05T00:00:00Z": "since",
			"?until=yesterday":                                       "until",
			"?owner_id=x":                                            "owner_id",
			"?limit=0":                                               "limit",
			"?cursor=nope":                                           "cursor",
		} {
			res := b.do("GET", "/v1/digest"+q, nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
			require.Equal(t, []string{field}, res.Fields(t), q)
		}
		// 92 days exactly is allowed; an org with nothing lists nothing.
		res := b.do("GET", "/v1/digest?since=2025-12-08T12:00:00Z", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Empty(t, res.Map(t)["items"])
	})
}
