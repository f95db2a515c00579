package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// consentMeeting ingests a meeting on account where Wei Chen declined
// recording (Maya Patel gave consent): its transcript is held.
func (s *site) consentMeeting(accountID, ext, title string) crm.Transcript {
	s.t.Helper()
	parts := []crm.Participant{{Name: "Wei Chen", Email: "wei@acme.test"}, {Name: "Maya Patel", Email: "maya@acme.test"}}
	segs := []crm.Segment{
		{Index: 0, Speaker: "Maya Patel", StartMS: 0, EndMS: 6000, Text: "Thanks for joining. Let's go through the rollout plan."},
		{Index: 1, Speaker: "Wei Chen", StartMS: 6000, EndMS: 12000, Text: "We agreed to start the pilot on March 15 with 50 seats."},
		{Index: 2, Speaker: "Maya Patel", StartMS: 12000, EndMS: 18000, Text: "I'll send the Okta setup guide by Friday."},
	}
	got, err := activity.New(s.Store).IngestTranscript(context.Background(), s.OrgID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: title, StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		Format: "segments", Segments: segs, Participants: parts,
		Consents: []crm.ConsentInput{{Name: "Wei Chen", Email: "wei@acme.test", Consent: crm.ConsentDeclined},
			{Name: "Maya Patel", Email: "maya@acme.test", Consent: crm.ConsentGiven}},
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID), Subject: crm.Some(title),
			Participants: crm.Some(parts), OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker),
			ExternalID: crm.Some("zoom:" + ext)},
	})
	require.NoError(s.t, err)
	require.Equal(s.t, store.IngestHeld, got.Result)
	return got.Transcript
}

// TestConsentHeldMeeting: a meeting whose transcript is held for consent
// shows the banner with the reason and each participant's consent; the
// admin finds it in the held list, releases it (the worker then writes
// its notes), and sees the discard confirmation for another. Every page
// passes axe-core at both widths.
func TestConsentHeldMeeting(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	in := crm.AccountInput{Name: crm.Some("Acme Corp"), Domains: crm.Some([]string{"acme.test"})}
	require.NoError(t, in.Validate(true))
	acct, err := s.Store.AccountCreate(ctx, s.OrgID, in)
	require.NoError(t, err)
	held := s.consentMeeting(acct.ID, "m-1", "Rollout review")
	other := s.consentMeeting(acct.ID, "m-2", "Pricing call")
	tb, _ := s.signedIn(crm.RoleAdmin)

	tb.visit("/admin/users", 200)
	tb.follow(".admin-tabs a[href='/admin/held']", 200)
	require.Equal(t, 2, tb.fbCount("tbody tr"))
	require.Contains(t, tb.text("#held-"+held.ID), "Wei Chen declined recording")
	require.Contains(t, tb.text("#held-"+held.ID), "Acme Corp")
	tb.check("held-list")

	tb.follow("#held-"+held.ID+" a[href^='/activities/']", 200)
	require.Contains(t, tb.text(".consent-banner"), "Held for consent")
	require.Contains(t, tb.text(".consent-banner"), "Wei Chen declined recording")
	require.Contains(t, tb.text("#consent .consents"), "Maya Patel")
	require.Contains(t, tb.text(".consent-declined"), "declined recording")
	tb.check("meeting-held")

	tb.follow("#consent form[action$='/consent/release'] button[type=submit]", 200)
	require.Contains(t, tb.text("#consent"), "Released: the transcript is being processed.")
	require.Equal(t, 0, tb.fbCount(".consent-banner"))
	tb.check("meeting-released")

	// The worker processes the released transcript.
	deadline := time.Now().Add(60 * time.Second)
	for {
		tr, err := s.Store.TranscriptGet(ctx, s.OrgID, held.ID, false)
		require.NoError(t, err)
		if tr.Status == crm.TranscriptDone {
			break
		}
		require.NotEqual(t, crm.TranscriptFailed, tr.Status, "%v", tr.Error)
		require.True(t, time.Now().Before(deadline), "the released transcript was not processed (status %s)", tr.Status)
		time.Sleep(100 * time.Millisecond)
	}
	tb.visit("/activities/"+held.ActivityID, 200)
	require.Contains(t, tb.text("#notes"), "Action items")

	// The other held meeting: Discard asks first.
	tb.visit("/activities/"+other.ActivityID, 200)
	tb.follow("#consent a[href$='/consent/discard']", 200)
	require.Contains(t, tb.text("main"), "This cannot be undone")
	tb.check("consent-discard")
	tb.follow("main form button.danger", 200)
	require.Contains(t, tb.text("#consent"), "Discarded")
	tr, err := s.Store.TranscriptGet(ctx, s.OrgID, other.ID, true)
	require.NoError(t, err)
	require.Empty(t, tr.Segments)
}
