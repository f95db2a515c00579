package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// The flows of the ask, log, reassign, report and digest pages: a person
// types, chooses and submits in the browser, and the page shows what the
// store now holds.

// fbAccount creates an account of the site's org (segment "" for none).
func (s *site) fbAccount(name, segment string) crm.Account {
	s.t.Helper()
	in := crm.AccountInput{Name: crm.Some(name)}
	if segment != "" {
		in.Segment = crm.Some(segment)
	}
	require.NoError(s.t, in.Validate(true))
	a, err := s.Store.AccountCreate(context.Background(), s.OrgID, in)
	require.NoError(s.t, err)
	return a
}

// fbActivity writes an activity of the site's org through the write rules
// (the API's), without indexing it.
func (s *site) fbActivity(in crm.ActivityInput) crm.Activity {
	s.t.Helper()
	a, _, _, err := activity.New(s.Store).Upsert(context.Background(), s.OrgID, in)
	require.NoError(s.t, err)
	return a
}

// fbDeal creates an open deal with an amount in USD owned by ownerID.
func (s *site) fbDeal(accountID, name, amount, ownerID string) crm.Deal {
	s.t.Helper()
	in := crm.DealInput{AccountID: crm.Some(accountID), Name: crm.Some(name), Amount: crm.Some(json.Number(amount)),
		Currency: crm.Some("USD"), OwnerID: crm.Some(ownerID)}
	require.NoError(s.t, in.Validate(true))
	d, err := s.Store.DealCreate(context.Background(), s.OrgID, in)
	require.NoError(s.t, err)
	return d
}

// fbRetrieval is retrieval over the provider the site runs on (the
// offline local one of the default configuration), for indexing fixtures
// as the worker would.
func (s *site) fbRetrieval() *retrieval.Service {
	s.t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(s.t, err)
	p := local.New(cfg.EmbedDim)
	svc, err := retrieval.New(retrieval.Config{Store: s.Store, Embedder: p, Completer: p, EmbedModel: p.Model()})
	require.NoError(s.t, err)
	return svc
}

// askFixture is an account with an indexed email and a meeting whose notes
// and transcript lines are indexed (as the worker leaves them): segment 1
// says when the pilot starts.
type askFixture struct {
	account        crm.Account
	email, meeting string // activity IDs
}

func (s *site) fbAskFixture() askFixture {
	s.t.Helper()
	ctx := context.Background()
	svc := s.fbRetrieval()
	f := askFixture{account: s.fbAccount("Northwind Freight", "")}
	email := s.fbActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(f.account.ID), OccurredAt: crm.Some("2026-03-10T15:00:00Z"), Subject: crm.Some("Renewal quote"),
		Body: crm.Some("Hi Wei, the renewal uplift is capped at 7 percent for a two-year term, as promised on the call.")})
	f.email = email.ID
	_, err := svc.IndexActivity(ctx, s.OrgID, f.email)
	require.NoError(s.t, err)

	acct, ext := f.account.ID, "fb-1"
	ing, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "zoom", ExternalID: &ext, Title: "Pilot sync",
		StartedAt: "2026-03-05T15:00:00Z", AccountID: &acct, Segments: []activity.SegmentInput{
			{Speaker: "Dana Lee", StartMS: 1000, EndMS: 4000, Text: "Okay."},
			{Speaker: "Wei Zhang", StartMS: 4000, EndMS: 12500, Text: "We agreed that the warehouse pilot starts on the first of June."},
			{Speaker: "Dana Lee", StartMS: 12500, EndMS: 13000, Text: "Mm."},
		}})
	require.NoError(s.t, err)
	got, err := activity.New(s.Store).IngestTranscript(ctx, s.OrgID, ing)
	require.NoError(s.t, err)
	f.meeting = got.Transcript.ActivityID
	tr, err := s.Store.TranscriptGet(ctx, s.OrgID, got.Transcript.ID, true)
	require.NoError(s.t, err)
	notes := crm.Notes{Summary: "A pilot sync.", Coverage: 1, Model: "m", PromptVersion: "v"}
	chunks, err := svc.MeetingChunks(ctx, s.OrgID, f.meeting, tr.Segments, notes)
	require.NoError(s.t, err)
	_, err = s.Store.NotesSave(ctx, s.OrgID, tr.ID, 1, notes, chunks)
	require.NoError(s.t, err)
	return f
}

// fbType types text into the field sel finds.
func (tb *tab) fbType(sel, text string) {
	tb.t.Helper()
	ctx, cancel := tb.query()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		tb.t.Fatalf("browsertest: type into %s: %v", sel, err)
	}
}

// fbChoose selects the option of value in the select sel finds, as a
// person choosing it does (the change event fires).
func (tb *tab) fbChoose(sel, value string) {
	tb.t.Helper()
	ctx, cancel := tb.query()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		tb.t.Fatalf("browsertest: choose %q in %s: %v", value, sel, err)
	}
	require.Equal(tb.t, value, eval[string](tb, fmt.Sprintf(`document.querySelector(%q).value`, sel)),
		"%s offers %q", sel, value)
}

// fbClick clicks what sel finds, on a page that stays (a script answers).
func (tb *tab) fbClick(sel string) {
	tb.t.Helper()
	ctx, cancel := tb.query()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel))); err != nil {
		tb.t.Fatalf("browsertest: click %s: %v", sel, err)
	}
}

// fbWaitFor waits (queryTimeout) until the JavaScript condition holds.
func (tb *tab) fbWaitFor(what, cond string) {
	tb.t.Helper()
	ok, err := tabRun(tb, actionTimeout, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(queryTimeout)))
	if err != nil || !ok {
		tb.t.Fatalf("browsertest: waiting for %s: %v", what, err)
	}
}

// fbCount is how many elements sel finds.
func (tb *tab) fbCount(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// fbTexts are the trimmed texts of the elements sel finds, in order.
func (tb *tab) fbTexts(sel string) []string {
	tb.t.Helper()
	return eval[[]string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.textContent.trim())`, sel))
}

// fbLocation is the page's address.
func (tb *tab) fbLocation() string {
	tb.t.Helper()
	return eval[string](tb, `location.href`)
}

// TestAskStreamsCitedAnswer: a question typed on the ask page is answered
// by ask.js from the stream (the page stays, the stream was fetched), the
// answer's [n] and the sources are links, and a source opens the meeting's
// transcript at the cited line, highlighted. A question the records do not
// answer says so.
func TestAskStreamsCitedAnswer(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	f := s.fbAskFixture()
	tb, _ := s.signedIn(crm.RoleRep)
	page := "/accounts/" + f.account.ID + "/ask"

	tb.visit(page, 200)
	tb.fbType("#ask-form textarea[name=question]", "When does the warehouse pilot start?")
	tb.fbClick("#ask-form button[type=submit]")
	tb.fbWaitFor("the answer", `!document.getElementById("answer").hasAttribute("aria-busy") &&
		document.querySelectorAll("#answer-citations a").length > 0`)

	require.Equal(t, tb.url(page), tb.fbLocation(), "the script answered in place")
	require.Contains(t, tb.requested(), tb.url(page+"/stream"), "the answer came from the stream")
	require.Contains(t, tb.text("#answer"), "the first of June")
	cite := "/activities/" + f.meeting + "/transcript?cite=1#seg-1"
	require.Equal(t, []string{cite}, eval[[]string](tb, `Array.from(document.querySelectorAll("#answer a.cite"), a => a.getAttribute("href"))`),
		"the answer's [1] links to the line")
	require.Equal(t, []string{cite}, eval[[]string](tb, `Array.from(document.querySelectorAll("#answer-citations a"), a => a.getAttribute("href"))`))
	require.Contains(t, tb.text("#answer-citations li"), "warehouse pilot starts on the first of June")
	require.Equal(t, "Answered from 1 record.", tb.text("#ask-status"))
	require.False(t, eval[bool](tb, `document.getElementById("answer-none").checkVisibility()`))
	tb.check("ask-answer")

	tb.follow("#answer-citations a", 200)
	require.Equal(t, tb.url(cite), tb.fbLocation())
	require.Equal(t, []string{"seg-1"}, eval[[]string](tb, `Array.from(document.querySelectorAll("li.hl"), e => e.id)`),
		"the cited line, and only it, is highlighted")
	require.Equal(t, "true", eval[string](tb, `document.getElementById("seg-1").getAttribute("aria-current")`))
	require.Contains(t, tb.text("#seg-1"), "first of June")

	// Nothing on record.
	tb.visit(page, 200)
	tb.fbType("#ask-form textarea[name=question]", "How did the Kubernetes migration go?")
	tb.fbClick("#ask-form button[type=submit]")
	tb.fbWaitFor("nothing on record", `document.getElementById("ask-status").textContent === "Nothing on record answers this."`)
	require.True(t, eval[bool](tb, `document.getElementById("answer-none").checkVisibility()`), "the nothing-on-record message shows")
	require.Contains(t, tb.text("#answer-none"), "Nothing in this account's records answers that.")
	require.Zero(t, tb.fbCount("#answer-citations li"))
	require.True(t, eval[bool](tb, `document.getElementById("answer-citations").hidden`))
	require.Equal(t, tb.url(page), tb.fbLocation())
	tb.assertClean("nothing on record")
}

// TestLogCallFromAccountPage: a call logged from the account page's form
// (direction, disposition, subject, next step) leads back to the account,
// where the timeline shows it at once, and the store has it as typed. With
// the org requiring a disposition on outbound calls, a call without one is
// the form again (422) with the field's error beside the field.
func TestLogCallFromAccountPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	acc := s.fbAccount("Northwind Freight", "")
	tb, u := s.signedIn(crm.RoleRep)
	page := "/accounts/" + acc.ID

	tb.visit(page, 200)
	require.True(t, eval[bool](tb, `document.querySelector("#log-call").closest("details").open`), "the call form is open")
	tb.fbChoose("#log-call select[name=direction]", "outbound")
	tb.fbChoose("#log-call select[name=disposition]", "meeting_booked")
	tb.fbType("#log-call input[name=subject]", "Pricing follow-up")
	tb.fbType("#log-call input[name=next_step]", "Send the revised quote")
	tb.follow("#log-call button[type=submit]", 200)
	require.Equal(t, tb.url(page+"#timeline"), tb.fbLocation())
	require.Contains(t, tb.text("#timeline"), "Pricing follow-up", "the call is on the timeline at once")

	got, err := s.Store.ActivityListByAccount(ctx, s.OrgID, acc.ID, store.ActivityFilter{Types: []crm.ActivityType{crm.ActivityCall}})
	require.NoError(t, err)
	require.Len(t, got.Items, 1)
	c := got.Items[0]
	require.Equal(t, crm.DirectionOutbound, *c.Direction)
	require.Equal(t, "meeting_booked", *c.Disposition)
	require.Equal(t, "Pricing follow-up", *c.Subject)
	require.Equal(t, "Send the revised quote", c.NextStep.Text)
	require.Equal(t, u.ID, *c.OwnerID)

	// The org requires a disposition: none is refused, next to the field.
	_, err = s.Store.SettingsUpdate(ctx, s.OrgID, crm.SettingsInput{RequireDisposition: crm.Some(true)})
	require.NoError(t, err)
	tb.visit(page+"/log", 200)
	tb.check("log")
	require.Equal(t, "Required on outbound calls.", tb.text("#call-disposition-hint"))
	tb.fbChoose("#log-call select[name=direction]", "outbound")
	tb.fbType("#log-call input[name=subject]", "No answer again")
	tb.follow("#log-call button[type=submit]", 422)
	require.Equal(t, tb.url(page+"/log"), tb.fbLocation())
	require.NotEmpty(t, tb.text("#call-disposition-error"))
	require.Equal(t, "true", eval[string](tb, `document.getElementById("call-disposition").getAttribute("aria-invalid")`))
	require.Contains(t, eval[string](tb, `document.getElementById("call-disposition").getAttribute("aria-describedby")`),
		"call-disposition-error", "the error is tied to its field")
	require.Equal(t, "No answer again", eval[string](tb, `document.getElementById("call-subject").value`), "what was typed stays")
	tb.check("log-refused")
	got, err = s.Store.ActivityListByAccount(ctx, s.OrgID, acc.ID, store.ActivityFilter{Types: []crm.ActivityType{crm.ActivityCall}})
	require.NoError(t, err)
	require.Len(t, got.Items, 1, "nothing more was written")
}

// fbStalled: Ann owns a 5000 USD deal on Northwind, whose last
// activity is a call 40 days ago with a next step due in 3 days; Bob is
// another user; Fresh had a call 2 days ago.
type fbStalled struct {
	ann, bob        crm.User
	acc             crm.Account
	deal            crm.Deal
	call, freshCall crm.Activity
}

func (s *site) fbStalledFixture() fbStalled {
	s.t.Helper()
	var f fbStalled
	f.ann, _ = s.user(s.OrgID, "ann@seller.test", "Ann Avery", crm.RoleRep)
	f.bob, _ = s.user(s.OrgID, "bob@seller.test", "Bob Baker", crm.RoleRep)
	f.acc = s.fbAccount("Northwind Freight", "Enterprise")
	f.deal = s.fbDeal(f.acc.ID, "Northwind renewal", "5000", f.ann.ID)
	due := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	f.call = s.fbActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(f.acc.ID), OwnerID: crm.Some(f.ann.ID), Disposition: crm.Some("connected"),
		Subject:    crm.Some("Pricing call"),
		OccurredAt: crm.Some(time.Now().UTC().Add(-40*24*time.Hour - time.Hour).Format(time.RFC3339)),
		NextStep:   crm.Some(crm.NextStepInput{Text: "Send the contract", DueDate: &due})})
	fresh := s.fbAccount("Fresh Foods", "")
	s.fbDeal(fresh.ID, "Fresh deal", "100", f.ann.ID)
	f.freshCall = s.fbActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(fresh.ID), OwnerID: crm.Some(f.ann.ID), Subject: crm.Some("Intro call"),
		OccurredAt: crm.Some(time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339))})
	return f
}

// TestReassignStalledDeal: the stalled deal's row offers its reassign
// form; choosing Bob and submitting shows the handoff note with links to
// the activities it rests on, and the store has Bob as the owner.
func TestReassignStalledDeal(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	f := s.fbStalledFixture()
	tb, _ := s.signedIn(crm.RoleManager)

	tb.visit("/deals/stalled", 200)
	row := "#deal-" + f.deal.ID
	require.Equal(t, 1, tb.fbCount("tbody tr"), "only the deal 40 days without activity")
	require.Contains(t, tb.text(row), "5000 USD")
	require.Contains(t, tb.text(row), "Ann Avery")
	tb.check("stalled")

	tb.fbChoose(row+" form.reassign select[name=owner_id]", f.bob.ID)
	tb.fbType(row+" form.reassign textarea[name=note]", "Call them Monday")
	tb.follow(row+" form.reassign button[type=submit]", 200)
	require.Equal(t, "Northwind renewal reassigned to Bob Baker", tb.text("h1"))
	links := eval[[]string](tb, `Array.from(document.querySelectorAll("#handoff-note a[href^='/activities/']"), a => a.getAttribute("href"))`)
	require.Contains(t, links, "/activities/"+f.call.ID, "the note cites the last call")
	tb.check("handoff")

	d, err := s.Store.DealGet(context.Background(), s.OrgID, f.deal.ID)
	require.NoError(t, err)
	require.Equal(t, f.bob.ID, *d.OwnerID)

	tb.follow("#handoff-note a[href='/activities/"+f.call.ID+"']", 200)
	require.Contains(t, tb.text("h1"), "Pricing call")
}

// TestDigestPage: everyone's digest of the last week shows each account
// with what happened, what is due and what stalled, each line linking to
// the activity it cites.
func TestDigestPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	f := s.fbStalledFixture()
	tb, _ := s.signedIn(crm.RoleManager)

	tb.visit("/digest?owner_id=all", 200)
	require.Equal(t, 2, tb.fbCount("section.digest-account"))
	acc := fmt.Sprintf(`section[aria-labelledby="digest-%s"]`, f.acc.ID)
	require.Contains(t, tb.text(acc), "Send the contract", "what is due")
	require.Contains(t, tb.text(acc), "Northwind renewal", "what stalled")
	require.Equal(t, 2, tb.fbCount(acc+` a[href="/activities/`+f.call.ID+`"]`), "the due step and the stalled deal cite the call")
	fresh := fmt.Sprintf(`section[aria-labelledby="digest-%s"]`, f.freshCall.AccountID)
	require.Contains(t, tb.text(fresh), "1 activity: 1 call.")
	tb.check("digest")

	tb.follow(fresh+` a[href="/activities/`+f.freshCall.ID+`"]`, 200)
	require.Contains(t, tb.text("h1"), "Intro call")
}

// TestReportCharts: the connect-rate charts and the volume chart are
// images with a summary; each has one bar per group of its table, and the
// bars' figures are the table's (hand-counted on the fixture).
//
//	Acme (Enterprise), Ann, connected,      list Q1 West, 03-02
//	Acme (Enterprise), Ann, no_answer,      list Q1 West, 03-03
//	Beta (SMB), Bob, voicemail (voicemail), list Q2 East, 03-04
//	Gamma (none), no owner, meeting_booked, no list,      03-05
//	and an email on Acme, 03-05: 5 activities in W10.
func TestReportCharts(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ann, _ := s.user(s.OrgID, "ann@seller.test", "Ann Avery", crm.RoleRep)
	bob, _ := s.user(s.OrgID, "bob@seller.test", "Bob Baker", crm.RoleRep)
	acme, beta, gamma := s.fbAccount("Acme", "Enterprise"), s.fbAccount("Beta", "SMB"), s.fbAccount("Gamma", "")
	dial := func(typ crm.ActivityType, account, owner, disposition, list, at string) {
		in := crm.ActivityInput{Type: crm.Some(typ), Direction: crm.Some(crm.DirectionOutbound), AccountID: crm.Some(account),
			OccurredAt: crm.Some(at), Disposition: crm.Some(disposition)}
		if owner != "" {
			in.OwnerID = crm.Some(owner)
		}
		if list != "" {
			in.Metadata = crm.Some(json.RawMessage(`{"list":"` + list + `"}`))
		}
		s.fbActivity(in)
	}
	dial(crm.ActivityCall, acme.ID, ann.ID, "connected", "Q1 West", "2026-03-02T10:00:00Z")
	dial(crm.ActivityCall, acme.ID, ann.ID, "no_answer", "Q1 West", "2026-03-03T10:00:00Z")
	dial(crm.ActivityVoicemail, beta.ID, bob.ID, "voicemail", "Q2 East", "2026-03-04T10:00:00Z")
	dial(crm.ActivityCall, gamma.ID, "", "meeting_booked", "", "2026-03-05T10:00:00Z")
	s.fbActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(acme.ID), OccurredAt: crm.Some("2026-03-05T11:00:00Z"), Subject: crm.Some("Pricing")})
	tb, _ := s.signedIn(crm.RoleManager)

	tb.visit("/reports?since=2026-03-01&until=2026-03-07&tz=UTC", 200)
	require.Equal(t, 4, tb.fbCount(`svg.chart[role="img"]`), "segment, owner, list and volume")
	require.Zero(t, tb.fbCount(`svg.chart:not([aria-label]), svg.chart[aria-label=""]`), "every chart has a summary")

	type chart struct {
		Label  string   `json:"label"`
		Bars   int      `json:"bars"`
		Values []string `json:"values"`
		Rows   []string `json:"rows"` // the table's figures, as the bars write them
	}
	charts := eval[map[string]chart](tb, `(() => {
  const out = {};
  for (const svg of document.querySelectorAll("svg.chart")) {
    const box = svg.closest("section");
    const rows = Array.from(box.querySelectorAll("table tbody tr"), tr => {
      const td = Array.from(tr.querySelectorAll("td"), d => d.textContent.trim());
      return td.length === 3 ? td[0] + " (" + td[1] + " of " + td[2] + ")" : td[td.length - 1];
    });
    out[svg.id] = {label: svg.getAttribute("aria-label"), bars: svg.querySelectorAll("rect.chart-bar").length,
      values: Array.from(svg.querySelectorAll(".chart-value"), t => t.textContent.trim()), rows};
  }
  return out;
})()`)
	want := map[string][]string{
		"chart-segment": {"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"},
		"chart-owner":   {"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"},
		"chart-list":    {"50% (1 of 2)", "0% (0 of 1)", "100% (1 of 1)"},
		"chart-volume":  {"0", "5"},
	}
	require.Len(t, charts, len(want))
	for id, values := range want {
		c := charts[id]
		require.Equal(t, values, c.Values, id)
		require.Equal(t, len(values), c.Bars, "%s: a bar per group", id)
		require.Equal(t, c.Values, c.Rows, "%s: the table has the chart's numbers", id)
		require.NotEmpty(t, c.Label, id)
	}
	require.Equal(t, "Connect rate by segment, 3 groups: Enterprise 50% (1 of 2); SMB 0% (0 of 1); (no segment) 100% (1 of 1).",
		charts["chart-segment"].Label)
	require.Equal(t, []string{"Ann Avery", "Bob Baker", "(no owner)"}, tb.fbTexts("#chart-owner .chart-label"))
	require.Equal(t, []string{"Q1 West", "Q2 East", "(no list)"}, tb.fbTexts("#chart-list .chart-label"))
	require.True(t, strings.HasPrefix(charts["chart-volume"].Label, "Activit"), charts["chart-volume"].Label)
	tb.check("reports")
}
