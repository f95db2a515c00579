package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// heldMeeting ingests a meeting whose participant Wei Chen declined
// recording: its transcript is held.
func (b *testBundle) heldMeeting(accountID, domain string) crm.Transcript {
	b.t.Helper()
	ext := store.NewID()
	parts := []crm.Participant{{Name: "Wei Chen", Email: "wei@" + domain}, {Name: "Maya Patel", Email: "maya@" + domain}}
	got, err := activity.New(b.store).IngestTranscript(context.Background(), b.orgID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: "Pricing call", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		Format: "segments", Segments: fourSegments(), Participants: parts,
		Consents: []crm.ConsentInput{{Name: "Wei Chen", Email: "wei@" + domain, Consent: crm.ConsentDeclined},
			{Name: "Maya Patel", Email: "maya@" + domain, Consent: crm.ConsentGiven}},
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID), Subject: crm.Some("Pricing call"),
			Participants: crm.Some(parts), OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker),
			ExternalID: crm.Some("zoom:" + ext)},
	})
	require.NoError(b.t, err)
	require.Equal(b.t, store.IngestHeld, got.Result)
	return got.Transcript
}

// asAdmin signs an admin of the bundle's org in and makes them the user
// get and post act as.
func (b *testBundle) asAdmin() {
	b.t.Helper()
	b.user, b.token, b.csrf = b.signIn(b.orgID, "ada@seller.test", "Ada Admin", crm.RoleAdmin)
}

// transcriptEnqueuer records the transcripts the web UI enqueues.
type transcriptEnqueuer struct{ transcripts []string }

func (e *transcriptEnqueuer) EnqueueTranscript(_ context.Context, _, id string) error {
	e.transcripts = append(e.transcripts, id)
	return nil
}
func (e *transcriptEnqueuer) EnqueueWebhook(context.Context, string, string) error { return nil }

// TestConsentPages covers consent on the meeting page (each participant's
// consent, the held banner), the admin's release and discard (a
// confirmation first) and the held list.
func TestConsentPages(t *testing.T) {
	t.Parallel()

	t.Run("MemberSeesTheBannerWithoutActions", func(t *testing.T) {
		t.Parallel()
		b, _ := setupTx(t)
		f := b.fixture("Acme Corp")
		tr := b.heldMeeting(f.account.ID, "acme.test")
		res := b.get("/activities/" + tr.ActivityID)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		sec := section(t, res.Body, "consent")
		require.Contains(t, sec, "Held for consent")
		require.Contains(t, sec, "Wei Chen declined recording")
		require.Contains(t, sec, `<span class="consent-declined">declined recording</span>`)
		require.Contains(t, sec, `<span class="consent-given">consent given</span>`)
		require.Contains(t, sec, "An admin decides")
		require.NotContains(t, sec, "/consent/release")
		require.NotContains(t, sec, "/consent/discard")
		// Not an admin: the actions are refused.
		require.Equal(t, http.StatusForbidden, b.post("/activities/"+tr.ActivityID+"/consent/release", nil).Status)
		require.Equal(t, http.StatusForbidden, b.get("/admin/held").Status)
	})

	t.Run("AdminReleases", func(t *testing.T) {
		t.Parallel()
		b, _ := setupTx(t)
		enq := &transcriptEnqueuer{}
		h, err := NewHandler(Deps{Store: b.store, Enqueuer: enq})
		require.NoError(t, err)
		b.handler = h
		b.asAdmin()
		f := b.fixture("Acme Corp")
		tr := b.heldMeeting(f.account.ID, "acme.test")

		list := b.get("/admin/held")
		require.Equal(t, http.StatusOK, list.Status, list.Body)
		require.Contains(t, list.Body, `href="/activities/`+tr.ActivityID+`#consent"`)
		require.Contains(t, list.Body, "Wei Chen declined recording")
		require.Contains(t, list.Body, "Acme Corp")
		require.Contains(t, b.get("/admin/users").Body, `href="/admin/held"`, "linked from the admin pages")

		page := b.get("/activities/" + tr.ActivityID)
		require.Contains(t, page.Body, `action="/activities/`+tr.ActivityID+`/consent/release"`)
		// Without the CSRF token nothing happens.
		require.Equal(t, http.StatusForbidden, b.post("/activities/"+tr.ActivityID+"/consent/release", url.Values{"csrf": {"x"}}).Status)
		res := b.post("/activities/"+tr.ActivityID+"/consent/release", nil)
		require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
		require.Equal(t, "/activities/"+tr.ActivityID+"?consent=released#consent", res.Header.Get("Location"))
		require.Equal(t, []string{tr.ID}, enq.transcripts)
		got, err := b.store.TranscriptGet(context.Background(), b.orgID, tr.ID, false)
		require.NoError(t, err)
		require.Equal(t, crm.TranscriptQueued, got.Status)
		require.Equal(t, b.user.ID, got.ConsentDecision.By, "the admin who decided")

		page = b.get("/activities/" + tr.ActivityID + "?consent=released")
		sec := section(t, page.Body, "consent")
		require.Contains(t, sec, "Released: the transcript is being processed.")
		require.Contains(t, sec, "An admin released this recording")
		require.NotContains(t, sec, "Held for consent")
		// Decided already: a second decision is a 409 page.
		require.Equal(t, http.StatusConflict, b.post("/activities/"+tr.ActivityID+"/consent/release", nil).Status)
		require.Equal(t, http.StatusConflict, b.get("/activities/"+tr.ActivityID+"/consent/discard").Status)
		require.Contains(t, b.get("/admin/held").Body, "No recording is held for consent.")
	})

	t.Run("AdminDiscardsAfterConfirming", func(t *testing.T) {
		t.Parallel()
		b, _ := setupTx(t)
		b.asAdmin()
		f := b.fixture("Acme Corp")
		tr := b.heldMeeting(f.account.ID, "acme.test")

		// Posting without the confirmation goes to the confirmation page.
		res := b.post("/activities/"+tr.ActivityID+"/consent/discard", nil)
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Equal(t, "/activities/"+tr.ActivityID+"/consent/discard", res.Header.Get("Location"))
		got, err := b.store.TranscriptGet(context.Background(), b.orgID, tr.ID, false)
		require.NoError(t, err)
		require.Equal(t, crm.TranscriptHeld, got.Status, "nothing discarded without the confirmation")

		confirm := b.get("/activities/" + tr.ActivityID + "/consent/discard")
		require.Equal(t, http.StatusOK, confirm.Status, confirm.Body)
		require.Contains(t, confirm.Body, "This cannot be undone")
		require.Contains(t, confirm.Body, `name="confirm" value="discard"`)
		require.Contains(t, confirm.Body, `name="csrf" value="`+b.csrf+`"`)

		res = b.post("/activities/"+tr.ActivityID+"/consent/discard", url.Values{"confirm": {"discard"}})
		require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
		got, err = b.store.TranscriptGet(context.Background(), b.orgID, tr.ID, true)
		require.NoError(t, err)
		require.Equal(t, crm.TranscriptFailed, got.Status)
		require.Empty(t, got.Segments)
		require.Equal(t, crm.ConsentDiscarded, got.ConsentDecision.Decision)

		page := b.get("/activities/" + tr.ActivityID + "?consent=discarded")
		require.Equal(t, http.StatusOK, page.Status, "the meeting stays")
		sec := section(t, page.Body, "consent")
		require.Contains(t, sec, "Discarded: the recording")
		require.Contains(t, sec, "An admin discarded this recording for lack of consent")
		notes := section(t, page.Body, "notes")
		require.Contains(t, notes, "discarded")
		require.NotContains(t, notes, "/transcript\"", "no transcript to read")
	})

	t.Run("AdminRequiresConsentInSettings", func(t *testing.T) {
		t.Parallel()
		b, _ := setupTx(t)
		b.asAdmin()
		ctx := context.Background()
		page := b.get("/admin/settings")
		require.Equal(t, http.StatusOK, page.Status, page.Body)
		require.Contains(t, page.Body, `name="require_consent"`)
		require.NotContains(t, page.Body, `name="require_consent" type="checkbox" value="1" checked`)
		s, err := b.store.SettingsGet(ctx, b.orgID)
		require.NoError(t, err)
		form := func(require bool) url.Values {
			f := url.Values{"stalled_after_days": {"14"}, "rows": {strconv.Itoa(len(s.Dispositions))}}
			for i, c := range s.Dispositions {
				f.Set("code_"+strconv.Itoa(i), c)
				f.Set("label_"+strconv.Itoa(i), s.DispositionCodes[i].Label)
			}
			if require {
				f.Set("require_consent", "1")
			}
			return f
		}
		res := b.post("/admin/settings", form(true))
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.Contains(t, res.Body, `name="require_consent" type="checkbox" value="1" checked`)
		got, err := b.store.SettingsGet(ctx, b.orgID)
		require.NoError(t, err)
		require.True(t, got.RequireConsent)
		require.Equal(t, http.StatusOK, b.post("/admin/settings", form(false)).Status)
		got, err = b.store.SettingsGet(ctx, b.orgID)
		require.NoError(t, err)
		require.False(t, got.RequireConsent, "an unticked box turns it off")
	})

	t.Run("OtherOrgsMeetingIsNotFound", func(t *testing.T) {
		t.Parallel()
		b, _ := setupTx(t)
		f := b.fixture("Acme Corp")
		tr := b.heldMeeting(f.account.ID, "acme.test")
		other, err := b.store.OrgCreate(context.Background(), "Other")
		require.NoError(t, err)
		b.orgID = other.ID
		b.asAdmin()
		require.Equal(t, http.StatusNotFound, b.post("/activities/"+tr.ActivityID+"/consent/release", nil).Status)
		require.Equal(t, http.StatusNotFound, b.get("/activities/"+tr.ActivityID+"/consent/discard").Status)
		require.False(t, strings.Contains(b.get("/admin/held").Body, tr.ActivityID))
	})
}
