package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// accountActivities are the account's activities of type typ, newest
// first, as the store has them.
func (f *toolsFixture) accountActivities(typ crm.ActivityType) []crm.Activity {
	f.t.Helper()
	page, err := f.store.ActivityListByAccount(context.Background(), f.orgID, f.account,
		store.ActivityFilter{Types: []crm.ActivityType{typ}})
	require.NoError(f.t, err)
	return page.Items
}

// TestLogCall: a call logged from the page is written by the API's rules
// with its contact, deal, disposition, duration and next step, owned by
// the signed-in user, and the browser goes back to the timeline.
func TestLogCall(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	path := "/accounts/" + f.account + "/log"

	res := f.get(path)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	for _, id := range []string{`<form id="log-call"`, `<form id="log-note"`, `<form id="log-email"`, `<section id="log"`} {
		require.Contains(t, res.Body, id)
	}
	require.Contains(t, res.Body, `<option value="`+f.contact+`">Wei Zhang (wei@acme.test)</option>`)
	require.Contains(t, res.Body, `<option value="`+f.deal+`">Warehouse rollout (proposal)</option>`)
	require.Contains(t, res.Body, `<option value="no_answer">No answer</option>`)
	requireLabelled(t, res.Body)

	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"outbound"}, "contact_id": {f.contact}, "deal_id": {f.deal},
		"disposition": {"meeting_booked"}, "duration_minutes": {"12"}, "subject": {"Pilot scoping"},
		"body": {"Walked through the pilot plan."}, "next_step": {"Send the pilot plan"}, "next_step_due": {"2026-03-20"}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "/accounts/"+f.account+"#timeline", res.Header.Get("Location"))

	calls := f.accountActivities(crm.ActivityCall)
	require.Len(t, calls, 1)
	c := calls[0]
	require.Equal(t, crm.DirectionOutbound, *c.Direction)
	require.Equal(t, []string{f.contact}, c.ContactIDs)
	require.Equal(t, f.deal, *c.DealID)
	require.Equal(t, "meeting_booked", *c.Disposition)
	require.Equal(t, 12*60, *c.DurationSeconds)
	require.Equal(t, "Pilot scoping", *c.Subject)
	require.Equal(t, "Walked through the pilot plan.", *c.Body)
	require.Equal(t, "Send the pilot plan", c.NextStep.Text)
	require.Equal(t, "2026-03-20", c.NextStep.DueDate.String())
	require.Equal(t, f.user.ID, *c.OwnerID)
	require.Equal(t, crm.SourceManual, c.Source)

	// A note and an email.
	res = f.post(path, url.Values{"kind": {"note"}, "subject": {"Champion"}, "body": {"Wei owns the budget."}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	notes := f.accountActivities(crm.ActivityNote)
	require.Len(t, notes, 1)
	require.Equal(t, "Wei owns the budget.", *notes[0].Body)
	require.Nil(t, notes[0].Direction)
	res = f.post(path, url.Values{"kind": {"email"}, "direction": {"inbound"}, "contact_id": {f.contact}, "subject": {"Re: pilot"},
		"body": {"Looks good."}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	emails := f.accountActivities(crm.ActivityEmail)
	require.Len(t, emails, 2, "the fixture's and this one")
	require.Equal(t, crm.DirectionInbound, *emails[0].Direction)
	require.Equal(t, []string{f.contact}, emails[0].ContactIDs)

	// CSRF and tenancy: nothing written.
	res = f.post(path, url.Values{"csrf": {"forged"}, "kind": {"note"}, "body": {"forged"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Equal(t, http.StatusNotFound, f.get("/accounts/"+f.other+"/log").Status)
	res = f.post("/accounts/"+f.other+"/log", url.Values{"kind": {"note"}, "body": {"into another org"}})
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Len(t, f.accountActivities(crm.ActivityNote), 1)
}

// TestLogRefused: a refused form comes back (422) with each field's
// problem and what was typed, and writes nothing.
func TestLogRefused(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	ctx := context.Background()
	path := "/accounts/" + f.account + "/log"
	_, err := f.store.SettingsUpdate(ctx, f.orgID, crm.SettingsInput{RequireDisposition: crm.Some(true)})
	require.NoError(t, err)

	res := f.get(path)
	require.Contains(t, res.Body, "Required on outbound calls.")

	// The org requires a disposition on outbound calls.
	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"outbound"}, "subject": {"Left it there"}, "duration_minutes": {"3"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, `<p class="field-error" id="call-disposition-error">Disposition is required on outbound calls (org setting require_disposition).</p>`)
	require.Contains(t, res.Body, `aria-describedby="call-disposition-hint call-disposition-error" aria-invalid="true"`)
	require.Contains(t, res.Body, `value="Left it there"`, "the values stay")
	require.Contains(t, res.Body, `value="3"`)
	require.Contains(t, res.Body, "The call was not logged")
	require.Empty(t, f.accountActivities(crm.ActivityCall))
	// An inbound call needs none.
	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"inbound"}, "subject": {"They called"}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Len(t, f.accountActivities(crm.ActivityCall), 1)

	// Fields the form checks itself.
	for _, tc := range []struct {
		form url.Values
		id   string
		msg  string
	}{
		{url.Values{"kind": {"call"}, "direction": {"inbound"}, "duration_minutes": {"ten"}}, "call-duration-error", "Enter whole minutes"},
		{url.Values{"kind": {"call"}, "direction": {"sideways"}}, "call-direction-error", "Choose inbound or outbound."},
		{url.Values{"kind": {"call"}, "direction": {"inbound"}, "contact_id": {f.foreignContactID}}, "call-contact-error",
			"Choose one of this account&#39;s contacts."},
		{url.Values{"kind": {"call"}, "direction": {"inbound"}, "next_step_due": {"2026-03-20"}}, "call-next-step-error",
			"Say what the next step is"},
		{url.Values{"kind": {"call"}, "direction": {"inbound"}, "next_step": {"Call back"}, "next_step_due": {"2026-02-30"}},
			"call-next-step-due-error", "Due date "},
		{url.Values{"kind": {"note"}, "subject": {"  "}}, "note-body-error", "Write a subject or a body."},
		{url.Values{"kind": {"email"}, "direction": {"outbound"}, "subject": {strings.Repeat("s", crm.MaxSubject+1)}},
			"email-subject-error", "Subject "},
	} {
		res := f.post(path, tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", tc.form, res.Body)
		require.Contains(t, res.Body, `id="`+tc.id+`">`+tc.msg, "%v", tc.form)
	}
	res = f.post(path, url.Values{"kind": {"fax"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Len(t, f.accountActivities(crm.ActivityCall), 1, "nothing more written")
	require.Empty(t, f.accountActivities(crm.ActivityNote))

	// Injection in what is typed comes back as text.
	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"outbound"},
		"subject": {`"><script>alert(1)</script>`}, "body": {`</textarea><img src=x onerror=alert(2)>`}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.NotContains(t, res.Body, "<script>alert")
	require.NotContains(t, res.Body, "<img src=x")
	require.Contains(t, res.Body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.Contains(t, res.Body, `&lt;/textarea&gt;&lt;img src=x onerror=alert(2)&gt;</textarea>`)
}

// TestLogRetiredDisposition: a retired code is not offered, and posting it
// anyway is refused by the org's rules.
func TestLogRetiredDisposition(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	ctx := context.Background()
	path := "/accounts/" + f.account + "/log"
	_, err := f.store.SettingsUpdate(ctx, f.orgID, crm.SettingsInput{DispositionCodes: crm.Some([]crm.DispositionCodeInput{
		{Code: "connected"}, {Code: "left_message", Label: crm.Some("Left a message")},
	})})
	require.NoError(t, err)

	res := f.get(path)
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `<option value="connected">Connected</option><option value="left_message">Left a message</option>`)
	require.NotContains(t, res.Body, `value="no_answer"`, "retired")

	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"outbound"}, "disposition": {"no_answer"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, `id="call-disposition-error">Disposition &#34;no_answer&#34; is retired`)
	res = f.post(path, url.Values{"kind": {"call"}, "direction": {"outbound"}, "disposition": {"left_message"}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "left_message", *f.accountActivities(crm.ActivityCall)[0].Disposition)
}

// TestToolsLabelled: every field of the three sections has a label.
func TestToolsLabelled(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	for _, p := range []string{"/search?q=pilot", "/ask", "/log"} {
		res := f.get("/accounts/" + f.account + p)
		require.Equal(t, http.StatusOK, res.Status)
		requireLabelled(t, res.Body)
		require.Equal(t, 1, strings.Count(res.Body, "<h1"), p)
	}
}

// requireLabelled checks that every visible input, select and textarea
// has an id that a <label for> names.
func requireLabelled(t *testing.T, body string) {
	t.Helper()
	for _, tag := range []string{"<input ", "<select ", "<textarea "} {
		rest := body
		for {
			i := strings.Index(rest, tag)
			if i < 0 {
				break
			}
			end := strings.IndexByte(rest[i:], '>')
			el := rest[i : i+end]
			rest = rest[i+end:]
			if strings.Contains(el, `type="hidden"`) {
				continue
			}
			_, after, ok := strings.Cut(el, ` id="`)
			require.True(t, ok, "%s has an id", el)
			id, _, _ := strings.Cut(after, `"`)
			require.Contains(t, body, `<label for="`+id+`">`, "%s is labelled", el)
		}
	}
}
