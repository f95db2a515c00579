package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The names the stalled and digest tests give their account and deal.
const (
	evilAccount = `<script>alert("acct")</script>`
	evilDeal    = `"><svg onload=alert(1)>`
)

// recordingEnqueuer records what the web UI enqueues.
type recordingEnqueuer struct {
	mu       sync.Mutex
	webhooks []string
}

func (e *recordingEnqueuer) EnqueueTranscript(context.Context, string, string) error { return nil }

func (e *recordingEnqueuer) EnqueueWebhook(_ context.Context, _, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.webhooks = append(e.webhooks, id)
	return nil
}

// stalledFixture: Ann owns evilDeal (5000 USD) on evilAccount, whose last
// activity is a call 40 days ago with an open next step; a fresh deal on
// another account had a call 2 days ago. Bob is another user.
type stalledFixture struct {
	ann, bob  crm.User
	acc       crm.Account
	deal      crm.Deal
	call      crm.Activity
	freshDeal crm.Deal
	freshCall crm.Activity
}

func (b *testBundle) stalledFixture() stalledFixture {
	b.t.Helper()
	var f stalledFixture
	f.ann = b.opsUser("ann@seller.test", "Ann Avery")
	f.bob = b.opsUser("bob@seller.test", "Bob Baker")
	f.acc = b.opsAccount(evilAccount, "Enterprise")
	f.deal = b.opsDeal(f.acc.ID, evilDeal, "5000", f.ann.ID)
	due := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	f.call = b.opsActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(f.acc.ID), OwnerID: crm.Some(f.ann.ID), Disposition: crm.Some("connected"),
		Subject:    crm.Some("Pricing call"),
		OccurredAt: crm.Some(time.Now().UTC().Add(-40*24*time.Hour - time.Hour).Format(time.RFC3339)),
		NextStep:   crm.Some(crm.NextStepInput{Text: "Send the contract", DueDate: &due})})
	fresh := b.opsAccount("Fresh", "")
	f.freshDeal = b.opsDeal(fresh.ID, "Fresh deal", "100", f.ann.ID)
	f.freshCall = b.opsActivity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(fresh.ID), OccurredAt: crm.Some(time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339))})
	return f
}

// opsDeal creates an open deal.
func (b *testBundle) opsDeal(accountID, name, amount, ownerID string) crm.Deal {
	b.t.Helper()
	in := crm.DealInput{AccountID: crm.Some(accountID), Name: crm.Some(name), Amount: crm.Some(json.Number(amount)),
		Currency: crm.Some("USD"), OwnerID: crm.Some(ownerID)}
	require.NoError(b.t, in.Validate(true))
	d, err := b.store.DealCreate(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return d
}

// TestStalledPage: the stalled deals with amount, owner, account and last
// activity links, days inactive and a reassign form offering the org's
// other users; the days input; names escaped.
func TestStalledPage(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	f := b.stalledFixture()

	res := b.get("/deals/stalled")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	body := res.Body
	require.Contains(t, body, `value="14"`, "the org's stalled_after_days")
	require.Contains(t, body, `id="deal-`+f.deal.ID+`"`)
	require.NotContains(t, body, f.freshDeal.ID, "a deal touched 2 days ago is not stalled")
	require.Contains(t, body, "5000 USD")
	require.Contains(t, body, "<td>Ann Avery</td>")
	require.Contains(t, body, `<a href="/accounts/`+f.acc.ID+`">&lt;script&gt;alert(&#34;acct&#34;)&lt;/script&gt;</a>`)
	require.Contains(t, body, `<a href="/activities/`+f.call.ID+`">call: Pricing call</a>`)
	require.Contains(t, body, `<td class="num">40</td>`)
	require.Contains(t, body, `<form class="reassign" method="post" action="/deals/`+f.deal.ID+`/reassign">`)
	require.Contains(t, body, `<select id="owner-`+f.deal.ID+`" name="owner_id" required>`)
	require.Contains(t, body, `<label for="owner-`+f.deal.ID+`">`)
	require.Contains(t, body, `<option value="`+f.bob.ID+`">Bob Baker</option>`)
	require.NotContains(t, body, `<option value="`+f.ann.ID+`"`, "the current owner is not offered")
	require.Contains(t, body, `name="csrf" value="`+b.csrf+`"`)
	require.NotContains(t, body, evilAccount)
	require.NotContains(t, body, evilDeal)
	require.Contains(t, body, "&#34;&gt;&lt;svg onload=alert(1)&gt;")

	res = b.get("/deals/stalled?days=60")
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "No open deal has gone 60 days without activity.")
	require.NotContains(t, res.Body, "<table")

	for _, d := range []string{"abc", "0", "99999"} {
		res = b.get("/deals/stalled?days=" + d)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, d)
		require.Contains(t, res.Body, "Days must be a whole number from 1 to 3650.")
	}
}

// TestStalledReassign: reassigning from the page goes through the API's
// path: the deal changes hands, the handoff activity is written with its
// note, its webhook deliveries are enqueued after commit, and the page
// shows the note with its citations as links. The same owner, an unknown
// user or none is the form again with a message (422); another org's deal
// is a 404; a post without the session's CSRF token changes nothing.
func TestStalledReassign(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	rec := &recordingEnqueuer{}
	h, err := NewHandler(Deps{Store: b.store, Enqueuer: rec})
	require.NoError(t, err)
	b.handler = h
	ctx := context.Background()
	f := b.stalledFixture()
	_, err = b.store.WebhookCreate(ctx, b.orgID, crm.WebhookInput{URL: "https://hooks.example.test/in",
		Events: []string{store.EventActivityCreated}})
	require.NoError(t, err)
	path := "/deals/" + f.deal.ID + "/reassign"

	// CSRF.
	res := b.post(path, url.Values{"owner_id": {f.bob.ID}, "csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	n, err := b.store.DealHandoffCount(ctx, b.orgID, f.deal.ID)
	require.NoError(t, err)
	require.Zero(t, n)

	// Refusals: the form again with the message.
	for owner, msg := range map[string]string{
		f.ann.ID:                               "this person already owns the deal",
		"0b7e6a1c-1d2e-4f3a-9b8c-7d6e5f4a3b2c": "this person is not a user of your organisation",
		"":                                     "choose who takes the deal over",
	} {
		res = b.post(path, url.Values{"owner_id": {owner}, "note": {"keep <this>"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, owner)
		require.Contains(t, res.Body, msg, owner)
		require.Contains(t, res.Body, `id="reassign-errors"`)
		require.Contains(t, res.Body, `<form class="reassign"`)
		require.Contains(t, res.Body, ">keep &lt;this&gt;</textarea>", "the note is kept")
	}
	n, err = b.store.DealHandoffCount(ctx, b.orgID, f.deal.ID)
	require.NoError(t, err)
	require.Zero(t, n)

	// Another org's deal.
	other, err := b.store.OrgCreate(ctx, "Other "+t.Name())
	require.NoError(t, err)
	oacc, err := b.store.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Theirs")})
	require.NoError(t, err)
	odIn := crm.DealInput{AccountID: crm.Some(oacc.ID), Name: crm.Some("Their deal")}
	require.NoError(t, odIn.Validate(true))
	od, err := b.store.DealCreate(ctx, other.ID, odIn)
	require.NoError(t, err)
	for _, owner := range []string{f.bob.ID, ""} {
		res = b.post("/deals/"+od.ID+"/reassign", url.Values{"owner_id": {owner}})
		require.Equal(t, http.StatusNotFound, res.Status)
		require.NotContains(t, res.Body, "Their deal")
	}
	res = b.post("/deals/not-an-id/reassign", url.Values{"owner_id": {f.bob.ID}})
	require.Equal(t, http.StatusNotFound, res.Status)

	// The reassignment.
	res = b.post(path, url.Values{"owner_id": {f.bob.ID}, "note": {"Call them Monday"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	body := res.Body
	d, err := b.store.DealGet(ctx, b.orgID, f.deal.ID)
	require.NoError(t, err)
	require.Equal(t, f.bob.ID, *d.OwnerID)
	n, err = b.store.DealHandoffCount(ctx, b.orgID, f.deal.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	rec.mu.Lock()
	require.Len(t, rec.webhooks, 1, "the handoff's activity.created delivery, enqueued after commit")
	rec.mu.Unlock()

	require.Contains(t, body, `<section id="handoff-note"`)
	note := body[strings.Index(body, `id="handoff-note"`):]
	note = note[:strings.Index(note, "</section>\n<p>")]
	require.Contains(t, note, "handed from Ann Avery to Bob Baker")
	require.Contains(t, note, "&#34;&gt;&lt;svg onload=alert(1)&gt;", "the deal's name in the headline, escaped")
	for _, title := range []string{"Open commitments", "Last week", "Next steps", "Risks"} {
		require.Contains(t, note, ">"+title+"</h3>")
	}
	require.Contains(t, note, "Send the contract")
	require.Contains(t, note, `<a href="/activities/`+f.call.ID+`">[1]<span class="visually-hidden"> source activity</span></a>`,
		"the next step cites its call")
	require.Contains(t, note, `<p class="empty">None.</p>`, "an empty section says so")
	require.NotContains(t, body, evilDeal)
	require.NotContains(t, body, evilAccount)

	// The handoff activity is linked, with the note in its body.
	acts, err := b.store.ActivityListByAccount(ctx, b.orgID, f.acc.ID, store.ActivityFilter{Types: []crm.ActivityType{crm.ActivityHandoff}})
	require.NoError(t, err)
	require.Len(t, acts.Items, 1)
	require.Contains(t, body, `<a href="/activities/`+acts.Items[0].ID+`" id="handoff-activity">`)
	require.True(t, strings.HasPrefix(*acts.Items[0].Body, "Call them Monday"))

	// Bob owns it now: reassigning to him again is refused.
	res = b.post(path, url.Values{"owner_id": {f.bob.ID}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "already owns")
}
