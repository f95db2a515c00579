package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestConsents covers consent as data through the API: consents taken with
// a transcript and with PUT …/consents, the gate that holds a transcript
// (never enqueued while held), the automatic release, the admin's release
// and discard, and the held list.
func TestConsents(t *testing.T) {
	t.Parallel()

	post := func(b *trBundle, acct, ext string, parts []map[string]any) transcriptAccepted {
		b.t.Helper()
		res := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": ext, "title": "Acme QBR",
			"started_at": "2026-03-02T15:00:00Z", "account_id": acct, "participants": parts,
			"segments": []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 4000, "text": "We will send the contract."}}})
		return b.accepted(res, http.StatusAccepted)
	}
	get := func(b *trBundle, id string) crm.Transcript {
		b.t.Helper()
		res := b.do("GET", "/v1/transcripts/"+id, nil)
		require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
		var tr crm.Transcript
		res.JSON(b.t, &tr)
		return tr
	}
	dana := func(consent string) map[string]any {
		return map[string]any{"name": "Dana Lee", "email": "dana@acme.test", "consent": consent}
	}
	wei := map[string]any{"name": "Wei Chen", "email": "wei@acme.test"}

	t.Run("DeclinedIsHeldAndNotEnqueued", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		a := post(b, acct, "m-1", []map[string]any{dana("declined"), wei})
		require.Equal(t, crm.TranscriptHeld, a.Status)
		require.Empty(t, b.rec.take(), "a held transcript is not enqueued")
		tr := get(b, a.ID)
		require.Equal(t, crm.TranscriptHeld, tr.Status)
		require.NotNil(t, tr.HeldReason)
		require.Equal(t, "Dana Lee declined recording", *tr.HeldReason)
		require.Len(t, tr.Consents, 1)
		require.Equal(t, crm.ConsentDeclined, tr.Consents[0].Consent)
		require.Equal(t, "zoom", tr.Consents[0].Source)

		// The meeting shows its consents; the participants carry none.
		act := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
		require.Equal(t, http.StatusOK, act.Status)
		var got crm.Activity
		act.JSON(t, &got)
		require.Len(t, got.Consents, 1)
		require.Equal(t, "dana@acme.test", *got.Consents[0].Email)
		for _, p := range got.Participants {
			require.Empty(t, p.Consent)
		}

		// The same post again changes nothing and stays held.
		res := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "m-1", "title": "Acme QBR",
			"started_at": "2026-03-02T15:00:00Z", "account_id": acct, "participants": []map[string]any{dana("declined"), wei},
			"segments": []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 4000, "text": "We will send the contract."}}})
		require.Equal(t, crm.TranscriptHeld, b.accepted(res, http.StatusOK).Status)
		require.Empty(t, b.rec.take())

		// Listed for the admin, with title, account and reason.
		list := b.do("GET", "/v1/transcripts/held", nil)
		require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
		var page crm.Page[map[string]any]
		list.JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, a.ID, page.Items[0]["id"])
		require.Equal(t, "Acme QBR", page.Items[0]["title"])
		require.Equal(t, "Acme", page.Items[0]["account_name"])
		require.Equal(t, "Dana Lee declined recording", page.Items[0]["held_reason"])

		// A second held meeting: the list pages by limit and cursor, newest first.
		second := post(b, acct, "m-2", []map[string]any{dana("declined")})
		list = b.do("GET", "/v1/transcripts/held?limit=1", nil)
		require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
		list.JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, second.ID, page.Items[0]["id"])
		require.NotNil(t, page.NextCursor)
		list = b.do("GET", "/v1/transcripts/held?limit=1&cursor="+*page.NextCursor, nil)
		require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
		page = crm.Page[map[string]any]{}
		list.JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, a.ID, page.Items[0]["id"])
		require.Nil(t, page.NextCursor)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/transcripts/held?cursor=nope", nil).Status)

		// The note-taker posts the same recording again with Dana's consent
		// now given: the content is unchanged, the consent releases it.
		res = b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "m-1", "title": "Acme QBR",
			"started_at": "2026-03-02T15:00:00Z", "account_id": acct, "participants": []map[string]any{dana("given"), wei},
			"segments": []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 4000, "text": "We will send the contract."}}})
		require.Equal(t, crm.TranscriptQueued, b.accepted(res, http.StatusAccepted).Status)
		require.Equal(t, []string{a.ID}, b.rec.take())
	})

	t.Run("RequireConsentHoldsUnknownAndNone", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/settings", map[string]any{"require_consent": true}).Status)
		a := post(b, acct, "m-1", []map[string]any{dana("given"), wei})
		require.Equal(t, crm.TranscriptHeld, a.Status)
		require.Equal(t, "The org requires recording consent, and Wei Chen has not given it", *get(b, a.ID).HeldReason)
		c := post(b, acct, "m-2", []map[string]any{dana("unknown")})
		require.Equal(t, crm.TranscriptHeld, c.Status)
		n := post(b, acct, "m-3", nil)
		require.Equal(t, crm.TranscriptHeld, n.Status)
		require.Equal(t, "The org requires recording consent, and none is recorded for this meeting", *get(b, n.ID).HeldReason)
		require.Empty(t, b.rec.take())

		// Everyone's consent given: released automatically and enqueued.
		res := b.do("PUT", "/v1/activities/"+a.ActivityID+"/consents", map[string]any{"consents": []map[string]any{
			dana("given"), {"email": "WEI@acme.test", "consent": "given"}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var ans consentsAnswer
		res.JSON(t, &ans)
		require.Len(t, ans.Consents, 2)
		require.Equal(t, crm.TranscriptQueued, ans.Transcript.Status)
		require.Nil(t, ans.Transcript.HeldReason)
		require.Nil(t, ans.Transcript.ConsentDecision, "released by the consents, not by an admin")
		require.Equal(t, []string{a.ID}, b.rec.take())
	})

	t.Run("AllGivenIsQueued", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/settings", map[string]any{"require_consent": true}).Status)
		a := post(b, acct, "m-1", []map[string]any{dana("given"), {"name": "Wei Chen", "email": "wei@acme.test", "consent": "given"}})
		require.Equal(t, crm.TranscriptQueued, a.Status)
		require.Equal(t, []string{a.ID}, b.rec.take())
	})

	t.Run("DecliningLaterHoldsAQueuedTranscript", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		a := post(b, acct, "m-1", []map[string]any{wei})
		require.Equal(t, crm.TranscriptQueued, a.Status)
		require.Equal(t, []string{a.ID}, b.rec.take())
		res := b.do("PUT", "/v1/activities/"+a.ActivityID+"/consents", map[string]any{"consents": []map[string]any{
			{"email": "wei@acme.test", "consent": "declined"}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		tr := get(b, a.ID)
		require.Equal(t, crm.TranscriptHeld, tr.Status)
		require.Equal(t, "Wei Chen declined recording", *tr.HeldReason, "the consent's name is the participant's")
		require.Empty(t, b.rec.take())
	})

	t.Run("AdminRelease", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		a := post(b, acct, "m-1", []map[string]any{dana("declined")})
		keyID := b.keyID(b.key)
		res := b.do("POST", "/v1/transcripts/"+a.ID+"/release", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var tr crm.Transcript
		res.JSON(t, &tr)
		require.Equal(t, crm.TranscriptQueued, tr.Status)
		require.NotNil(t, tr.ConsentDecision)
		require.Equal(t, crm.ConsentReleased, tr.ConsentDecision.Decision)
		require.Equal(t, keyID, tr.ConsentDecision.By)
		require.Equal(t, []string{a.ID}, b.rec.take())

		// The admin's release stands when consents change again.
		res = b.do("PUT", "/v1/activities/"+a.ActivityID+"/consents", map[string]any{"consents": []map[string]any{dana("declined")}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, crm.TranscriptQueued, get(b, a.ID).Status)

		// Not held any more: a second decision is 409, naming the field.
		for _, action := range []string{"release", "discard"} {
			res = b.do("POST", "/v1/transcripts/"+a.ID+"/"+action, nil)
			require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
			require.Equal(t, []string{"status"}, res.Fields(t))
		}

		// Only an admin decides.
		writer := b.keyWith(crm.ScopeWrite, crm.ScopeRead)
		require.Equal(t, http.StatusForbidden, b.doKey(writer, "POST", "/v1/transcripts/"+a.ID+"/release", nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(writer, "GET", "/v1/transcripts/held", nil).Status)
	})

	t.Run("AdminDiscard", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		a := post(b, acct, "m-1", []map[string]any{dana("declined")})
		res := b.do("POST", "/v1/transcripts/"+a.ID+"/discard", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Empty(t, b.rec.take())
		res = b.do("GET", "/v1/transcripts/"+a.ID+"?include=segments", nil)
		require.Equal(t, http.StatusOK, res.Status)
		var tr crm.Transcript
		res.JSON(t, &tr)
		require.Equal(t, crm.TranscriptFailed, tr.Status)
		require.Contains(t, *tr.Error, "discarded")
		require.NotNil(t, tr.PurgedAt)
		require.Empty(t, tr.Segments)
		require.Equal(t, crm.ConsentDiscarded, tr.ConsentDecision.Decision)
		var content string
		require.NoError(t, b.tx.QueryRow(context.Background(), `SELECT content FROM transcripts WHERE id = $1`, a.ID).Scan(&content))
		require.Empty(t, content, "the raw content is gone")

		// The meeting stays, without notes.
		act := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
		require.Equal(t, http.StatusOK, act.Status)
		require.NotContains(t, act.Map(t), "notes")
		require.Equal(t, 0, b.count("meeting_notes", b.orgID))
		list := b.do("GET", "/v1/transcripts/held", nil)
		require.Equal(t, http.StatusOK, list.Status)
		require.Empty(t, list.Map(t)["items"])

		// The recording posted again is held again: its consents still say so.
		again := post(b, acct, "m-1", []map[string]any{dana("declined")})
		require.Equal(t, crm.TranscriptHeld, again.Status)
		require.Nil(t, get(b, again.ID).ConsentDecision, "the decision was about the content it discarded")
	})

	t.Run("BadConsents", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme", "acme.test")
		note := b.create("/v1/activities", map[string]any{"type": "note", "account_id": acct,
			"occurred_at": "2026-03-02T15:00:00Z", "body": "x"})
		res := b.do("PUT", "/v1/activities/"+note+"/consents", map[string]any{"consents": []map[string]any{dana("given")}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"consents"}, res.Fields(t))

		a := post(b, acct, "m-1", nil)
		for _, c := range []struct {
			body   any
			fields []string
		}{
			{map[string]any{}, []string{"consents"}},
			{map[string]any{"consents": []map[string]any{{"name": "Dana", "consent": "maybe"}}}, []string{"consents[0].consent"}},
			{map[string]any{"consents": []map[string]any{{"consent": "given"}}}, []string{"consents[0]"}},
			{map[string]any{"consents": []map[string]any{{"email": "not-an-email", "consent": "given"}}}, []string{"consents[0].email"}},
			{map[string]any{"consents": []map[string]any{{"email": "a@b.test", "consent": "given"}, {"email": "A@b.test", "consent": "declined"}}},
				[]string{"consents[1]"}},
		} {
			res := b.do("PUT", "/v1/activities/"+a.ActivityID+"/consents", c.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", c.body, res.Body)
			require.Equal(t, c.fields, res.Fields(t), "%v", c.body)
		}
		// A transcript's participant with a bad consent is 422; an
		// activity's participant carries none.
		res = b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "started_at": "2026-03-02T15:00:00Z",
			"account_id": acct, "participants": []map[string]any{dana("maybe")},
			"segments": []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1, "text": "Hi."}}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"participants[0].consent"}, res.Fields(t))
		res = b.do("POST", "/v1/activities", map[string]any{"type": "meeting", "occurred_at": "2026-03-02T15:00:00Z",
			"account_id": acct, "participants": []map[string]any{dana("given")}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"participants[0].consent"}, res.Fields(t))
		// An empty list clears the consents.
		res = b.do("PUT", "/v1/activities/"+a.ActivityID+"/consents", map[string]any{"consents": []any{}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Empty(t, res.Map(t)["consents"])
	})
}

// keyID returns the ID of the bundle org's API key whose secret is key.
func (b *trBundle) keyID(key string) string {
	b.t.Helper()
	p, err := b.store.APIKeyAuthenticate(context.Background(), key)
	require.NoError(b.t, err)
	return p.KeyID
}
