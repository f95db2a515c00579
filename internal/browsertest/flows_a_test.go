package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/retrieval"
)

// The flows a person walks through on an account: sign in, open the
// account, filter its timeline and load more, follow a meeting's citation
// to its transcript line, search its history; and another org's account
// stays a 404 page.

// Fixture sizes: more calls than a timeline page (25), so "Load more" has
// a next page; a transcript long enough that the cited line starts below
// the fold.
const (
	flowCalls    = 30
	flowEmails   = 2
	flowSegments = 60
	citedSeg     = 40 // the line the risk cites
	pilotSeg     = 45 // the line that holds the searched words
)

// flowAccount is the seeded account of the flows.
type flowAccount struct {
	ID, Name  string
	MeetingID string
}

// seedAccount makes an account of orgID owned by owner: a
// contact, a deal, flowCalls calls (some on the deal), flowEmails emails,
// and, newest, a processed meeting whose notes cite its transcript lines,
// indexed for search as the worker would (the offline local provider at
// the configured dimension, as the site runs on).
func seedAccount(s *site, orgID string, owner crm.User) flowAccount {
	s.t.Helper()
	ctx := context.Background()
	t := s.t
	in := crm.AccountInput{Name: crm.Some("Northwind Traders"), Domains: crm.Some([]string{"northwind.test"}),
		OwnerID: crm.Some(owner.ID), Segment: crm.Some("mid-market")}
	require.NoError(t, in.Validate(true))
	acc, err := s.Store.AccountCreate(ctx, orgID, in)
	require.NoError(t, err)
	ci := crm.ContactInput{AccountID: crm.Some(acc.ID), Name: crm.Some("Maya Patel"), Email: crm.Some("maya@northwind.test")}
	require.NoError(t, ci.Validate(true))
	contact, err := s.Store.ContactCreate(ctx, orgID, ci)
	require.NoError(t, err)
	di := crm.DealInput{AccountID: crm.Some(acc.ID), Name: crm.Some("Warehouse rollout"), Stage: crm.Some("proposal"),
		Amount: crm.Some(json.Number("48000")), Currency: crm.Some("USD"), OwnerID: crm.Some(owner.ID)}
	require.NoError(t, di.Validate(true))
	deal, err := s.Store.DealCreate(ctx, orgID, di)
	require.NoError(t, err)

	acts := activity.New(s.Store)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	log := func(in crm.ActivityInput) {
		_, _, _, err := acts.Upsert(ctx, orgID, in)
		require.NoError(t, err)
	}
	for i := range flowCalls {
		in := crm.ActivityInput{Type: crm.Some(crm.ActivityCall), AccountID: crm.Some(acc.ID),
			ContactIDs: crm.Some([]string{contact.ID}), Direction: crm.Some(crm.DirectionOutbound),
			OccurredAt: crm.Some(t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)),
			Subject:    crm.Some(fmt.Sprintf("Check-in call %d", i+1)), Source: crm.Some(crm.SourceAPI)}
		if i%3 == 0 {
			in.DealID = crm.Some(deal.ID)
		}
		log(in)
	}
	for i := range flowEmails {
		log(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), AccountID: crm.Some(acc.ID),
			Direction:  crm.Some(crm.DirectionOutbound),
			OccurredAt: crm.Some(t0.Add(time.Duration(48+i) * time.Hour).Format(time.RFC3339)),
			Subject:    crm.Some(fmt.Sprintf("Pricing follow-up %d", i+1)), Body: crm.Some("Hi Maya, the quote is attached."),
			Source: crm.Some(crm.SourceAPI)})
	}

	// The meeting, newest of all.
	segs := make([]activity.SegmentInput, flowSegments)
	for i := range segs {
		speaker, text := "Dana Lee", fmt.Sprintf("Point %d of the agenda is covered.", i)
		if i%2 == 1 {
			speaker = "Maya Patel"
		}
		switch i {
		case citedSeg:
			text = "The budget may slip to the next quarter."
		case pilotSeg:
			text = "We agreed that the warehouse pilot starts on the first of June."
		}
		segs[i] = activity.SegmentInput{Speaker: speaker, StartMS: int64(i) * 30000, EndMS: int64(i)*30000 + 29000, Text: text}
	}
	accID, ext := acc.ID, "flows-1"
	ing, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "zoom", ExternalID: &ext, Title: "Rollout review",
		StartedAt: t0.Add(96 * time.Hour).Format(time.RFC3339), AccountID: &accID, Segments: segs})
	require.NoError(t, err)
	got, err := acts.IngestTranscript(ctx, orgID, ing)
	require.NoError(t, err)
	tr, err := s.Store.TranscriptGet(ctx, orgID, got.Transcript.ID, true)
	require.NoError(t, err)
	ev := func(i int) []crm.Evidence {
		return []crm.Evidence{{Segment: i, StartMS: int64(i) * 30000, Speaker: segs[i].Speaker, Quote: segs[i].Text}}
	}
	owner2 := "Dana Lee"
	notes := crm.Notes{
		Summary:          "The rollout is on track; the pilot starts in June.",
		SummarySentences: []crm.Point{{Text: "The rollout is on track; the pilot starts in June.", Evidence: ev(pilotSeg)}},
		KeyPoints:        []crm.Point{{Text: "The agenda was covered.", Evidence: ev(2)}},
		Decisions:        []crm.Point{{Text: "The warehouse pilot starts on June 1.", Evidence: ev(pilotSeg)}},
		Risks:            []crm.Point{{Text: "The budget may slip.", Evidence: ev(citedSeg)}},
		ActionItems:      []crm.ActionItem{{Text: "Send the pilot plan", Owner: &owner2, Evidence: ev(pilotSeg)}},
		FollowUp:         &crm.FollowUp{Subject: "Next steps", Body: "Hi Maya,\nthe pilot plan follows."},
		Coverage:         1, Model: "t", PromptVersion: "t",
	}
	p := local.New(384)
	svc, err := retrieval.New(retrieval.Config{Store: s.Store, Embedder: p, Completer: p, EmbedModel: p.Model()})
	require.NoError(t, err)
	chunks, err := svc.MeetingChunks(ctx, orgID, got.Transcript.ActivityID, tr.Segments, notes)
	require.NoError(t, err)
	_, err = s.Store.NotesSave(ctx, orgID, tr.ID, 1, notes, chunks)
	require.NoError(t, err)
	return flowAccount{ID: acc.ID, Name: acc.Name, MeetingID: got.Transcript.ActivityID}
}

// count is how many elements sel finds.
func count(tb *tab, sel string) int {
	tb.t.Helper()
	return eval[int](tb, `document.querySelectorAll(`+strconv.Quote(sel)+`).length`)
}

// location is the page's URL.
func location(tb *tab) string {
	tb.t.Helper()
	return eval[string](tb, `location.href`)
}

// TestSignInFlow: a person invited by an admin sets a password through the
// invite link; then, in another browser, the sign-in form with a wrong
// password says so (401) and with the right one leads to the start page.
// The sign-in page passes axe-core at both widths.
func TestSignInFlow(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	const password = "correct horse staple"
	u, _ := s.user(s.OrgID, "maya@seller.test", "Maya Patel", crm.RoleRep)
	_, token, err := s.Store.InviteCreate(context.Background(), s.OrgID, u.ID, 0)
	require.NoError(t, err)

	inv := s.tab("", desktop)
	inv.visit("/invite/"+token, 200)
	inv.run("set the password",
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.SendKeys(chromedp.CSS("#password_again"), password))
	inv.follow(`#invite-form button[type="submit"]`, 200)
	require.Equal(t, "Hello, Maya Patel", inv.text("h1"))

	tb := s.tab("", phone)
	res := tb.signInThroughForm("maya@seller.test", "not the password", http.StatusUnauthorized)
	require.Equal(t, s.URL+"/login", res.URL)
	require.Equal(t, "That email and password do not match. Check them and try again.", tb.text(`[role="alert"]`))
	require.Equal(t, "maya@seller.test", eval[string](tb, `document.querySelector("#email").value`), "the email stays filled in")
	tb.check("sign-in")

	res = tb.signInThroughForm("maya@seller.test", password, http.StatusOK)
	require.Equal(t, s.URL+"/", res.URL)
	require.Equal(t, "Hello, Maya Patel", tb.text("h1"))
	require.True(t, strings.HasPrefix(tb.text("header .who"), "Maya Patel"), tb.text("header .who"))

	// The page names its icon, served by Logbook as SVG.
	icon := eval[string](tb, `(async () => {
  const r = await fetch(document.querySelector('link[rel="icon"]').href);
  return r.status + " " + r.headers.get("Content-Type");
})()`)
	require.Equal(t, "200 image/svg+xml", icon)
}

// TestAccountFlows: from the accounts list to the account page (which
// passes axe-core and fits a phone); the timeline filtered by type, and
// "Load more" appending the next page in place; a meeting's citation
// leading to its transcript line, highlighted and in view; a search of the
// account's history leading to the line that holds the words. Another
// org's account is the 404 page while this org's answers.
func TestAccountFlows(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	// An org of its own, named as a team would name it (the README's
	// screenshot shows it in the header).
	org, err := s.Store.OrgCreate(context.Background(), "Seller Co")
	require.NoError(t, err)
	u, token := s.user(org.ID, "dana@seller.test", "Dana Lee", crm.RoleRep)
	tb := s.tab(token, desktop)
	acc := seedAccount(s, org.ID, u)
	page := "/accounts/" + acc.ID
	// step runs a step as a subtest, with the tab and the site failing the
	// step (the helpers call FailNow on their t: it must be the
	// subtest's). Steps run in order, on the same tab.
	parent := t
	step := func(name string, step func(t *testing.T)) {
		parent.Run(name, func(t *testing.T) {
			tb.t, s.t = t, t
			defer func() { tb.t, s.t = parent, parent }()
			step(t)
		})
	}

	step("open the account", func(t *testing.T) {
		tb.visit("/accounts", 200)
		require.Contains(t, tb.text("main table"), "Northwind Traders")
		tb.follow(`main table a[href="`+page+`"]`, 200)
		require.Equal(t, s.URL+page, location(tb))
		require.Equal(t, acc.Name, tb.text("h1"))
		for _, id := range []string{"brief", "timeline", "owes", "deals", "search", "ask", "log"} {
			require.Equal(t, 1, count(tb, "section#"+id), id)
		}
		require.Contains(t, tb.text("#deals"), "Warehouse rollout")
		require.Contains(t, tb.text("#owes"), "Send the pilot plan")
		require.Equal(t, 25, count(tb, "#timeline-items > li"), "one page of the timeline")
		tb.check("account-page")
		tb.readmeShot("account-page.png")
	})

	step("filter the timeline", func(t *testing.T) {
		tb.visit(page, 200)
		tb.run("choose emails", chromedp.SetValue(chromedp.CSS("#f-type"), "email"))
		tb.follow(`#timeline-filters button[type="submit"]`, 200)
		require.Contains(t, location(tb), "type=email")
		require.Equal(t, flowEmails, count(tb, "#timeline-items > li"))
		require.Equal(t, flowEmails, count(tb, "#timeline-items > li.tl-email"), "only emails")
		require.Equal(t, "email", eval[string](tb, `document.querySelector("#f-type").value`), "the filter stays chosen")
		require.Zero(t, count(tb, "#load-more"), "two emails are one page")
		require.Contains(t, tb.text("#timeline-more"), "That is the whole timeline for these filters.")

		// Load more, with the script: the next page is appended, the
		// page itself stays.
		tb.visit(page, 200)
		require.Equal(t, 25, count(tb, "#timeline-items > li"))
		first := eval[string](tb, `document.querySelector("#timeline-items > li").id`)
		tb.run("click Load more", chromedp.Click(chromedp.CSS("#load-more")))
		all := flowCalls + flowEmails + 1
		require.Eventually(t, func() bool { return count(tb, "#timeline-items > li") == all },
			queryTimeout, 50*time.Millisecond, "the next page appended")
		require.Equal(t, s.URL+page, location(tb), "no page load")
		require.Equal(t, first, eval[string](tb, `document.querySelector("#timeline-items > li").id`))
		require.Equal(t, all, eval[int](tb, `new Set(Array.from(document.querySelectorAll("#timeline-items > li")).map(e => e.id)).size`),
			"no activity twice")
		require.Zero(t, count(tb, "#load-more"), "the last page has no Load more")
		require.Equal(t, strconv.Itoa(all-25)+" more activities loaded.", eval[string](tb, `document.querySelector("#timeline-status").textContent`))
		require.Equal(t, eval[string](tb, `document.querySelectorAll("#timeline-items > li")[25].id`),
			eval[string](tb, `document.activeElement.id`), "the focus moves to the first new item")
		tb.assertClean("load more")
	})

	step("follow a citation", func(t *testing.T) {
		tb.visit(page, 200)
		tb.follow(`#act-`+acc.MeetingID+` .tl-subject a`, 200)
		require.Equal(t, s.URL+"/activities/"+acc.MeetingID, location(tb))
		cite := fmt.Sprintf(`a.cite[href$="#seg-%d"]`, citedSeg)
		require.Equal(t, 1, count(tb, cite), "the risk cites line %d", citedSeg)
		tb.check("meeting")
		tb.follow(cite, 200)
		want := fmt.Sprintf("seg-%d", citedSeg)
		require.True(t, strings.HasSuffix(location(tb), "#"+want), location(tb))
		type target struct {
			ID      string  `json:"id"`
			Class   string  `json:"class"`
			Current string  `json:"current"`
			Top     float64 `json:"top"`
			Bottom  float64 `json:"bottom"`
			Height  float64 `json:"height"`
		}
		where := func() target {
			return eval[target](tb, `(() => {
  const e = document.querySelector(":target"); if (!e) return {};
  const r = e.getBoundingClientRect();
  return {id: e.id, class: e.className, current: e.getAttribute("aria-current") || "", top: r.top, bottom: r.bottom, height: innerHeight};
})()`)
		}
		got := where()
		require.Equal(t, want, got.ID, "the URL's fragment is the cited row")
		require.Contains(t, strings.Fields(got.Class), "hl")
		require.Equal(t, "true", got.Current)
		require.GreaterOrEqual(t, got.Top, 0.0, "the cited row is in view: %+v", got)
		require.LessOrEqual(t, got.Bottom, got.Height, "the cited row is in view: %+v", got)
		require.Equal(t, 1, count(tb, "li.seg.hl"), "only the cited line is highlighted")
		require.Contains(t, tb.text("#"+want), "The budget may slip")
		tb.check("transcript")

		// On a phone too.
		tb.resize(phone)
		tb.visit("/activities/"+acc.MeetingID, 200)
		tb.follow(cite, 200)
		got = where()
		require.Equal(t, want, got.ID)
		require.True(t, got.Top >= 0 && got.Bottom <= got.Height, "the cited row is in view on a phone: %+v", got)
		tb.resize(desktop)
	})

	step("search", func(t *testing.T) {
		tb.visit(page, 200)
		tb.run("type the words", chromedp.SendKeys(chromedp.CSS("#search-q"), "warehouse pilot"))
		tb.follow(`#search button[type="submit"]`, 200)
		require.Contains(t, location(tb), "/accounts/"+acc.ID+"/search?q=warehouse+pilot")
		require.Positive(t, count(tb, "#search .passage mark"))
		for _, m := range eval[[]string](tb, `Array.from(document.querySelectorAll("#search .passage mark")).map(m => m.textContent.toLowerCase())`) {
			require.Contains(t, []string{"warehouse", "pilot"}, m, "only the words searched are marked")
		}
		tb.check("search")
		link := fmt.Sprintf(`#search .passage a[href="/activities/%s/transcript#seg-%d"]`, acc.MeetingID, pilotSeg)
		require.Positive(t, count(tb, link), "a result links to the line that holds the words")
		tb.follow(link, 200)
		require.Equal(t, fmt.Sprintf("seg-%d", pilotSeg), eval[string](tb, `(document.querySelector(":target") || {}).id || ""`))
		require.Contains(t, tb.text(fmt.Sprintf("#seg-%d", pilotSeg)), "warehouse pilot")
	})

	step("another org's account", func(t *testing.T) {
		_, hidden := s.otherOrg()
		tb.visit("/accounts/"+hidden.ID, 404)
		require.Equal(t, "Not found", tb.text("h1"))
		require.NotContains(t, tb.text("main"), hidden.Name)
		tb.visit(page, 200)
		require.Equal(t, acc.Name, tb.text("h1"))
	})
}
