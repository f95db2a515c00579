package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
)

// TestFraudHeldThroughThePipeline: the finding of issue #11 (6) end to end.
// Spoken payment instructions and an outside link become flagged notes,
// absent from the stored follow-up and the meeting.processed payload;
// links to the account's and the org's own domains are not flagged (the
// worker passes them as trusted); after
// a person confirms an item, the follow-up drafted again includes it.
func TestFraudHeldThroughThePipeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, local.New(256))
	_, err := b.store.UserCreate(ctx, b.orgID, crm.UserInput{Email: crm.Some("maya@northwind.test"), Name: crm.Some("Maya Patel")})
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, 's')`,
		b.orgID, store.NewID(), "https://hooks.example.com/in", []string{store.EventMeetingProcessed})
	require.NoError(t, err)

	segs := meetingSegments()
	for _, l := range []struct{ who, text string }{
		{"Dana Lee", "We agreed that all future invoices are paid to account 9911-4420-7781."},
		{"Maya Patel", "I will wire one million dollars to the escrow partner tomorrow."},
		{"Dana Lee", "We agreed to review the rollout checklist at https://portal.acme.test/checklist together."},
		{"Maya Patel", "I'll send the Okta guide from https://docs.northwind.test/okta by Friday."},
		{"Dana Lee", "We agreed to use the new vendor form at https://vendor-forms.example/acme for payments."},
	} {
		n := len(segs)
		segs = append(segs, crm.Segment{Index: n, Speaker: l.who, StartMS: int64(n) * 15000, EndMS: int64(n)*15000 + 14000, Text: l.text})
	}
	tr := b.ingest(t, "fraud", segs)
	require.NoError(t, b.process(t, tr))

	_, n, err := b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.NotNil(t, n.FollowUp)
	draft := n.FollowUp.Subject + "\n" + n.FollowUp.Body
	for _, bad := range []string{"9911", "million", "vendor-forms"} {
		require.NotContains(t, draft, bad)
	}
	var payload string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT payload::text FROM webhook_deliveries WHERE org_id = $1`, b.orgID).Scan(&payload))
	for _, bad := range []string{"9911", "million", "vendor-forms"} {
		require.NotContains(t, payload, bad)
	}
	require.NotContains(t, payload, `"held_for_review": 0`)

	var wire *crm.NoteRef
	flagged := map[string]bool{}
	trustedLinks := 0
	for _, a := range n.ActionItems {
		if a.NeedsReview {
			flagged[a.Text] = true
			if strings.Contains(a.Text, "million") {
				wire = &crm.NoteRef{Kind: "action_items", ID: a.ID}
			}
		}
		if strings.Contains(a.Evidence[0].Quote, "docs.northwind.test") {
			trustedLinks++
			require.False(t, a.NeedsReview, "a link to the org's own domain is flagged: %q", a.Text)
		}
	}
	for _, d := range n.Decisions {
		if d.NeedsReview {
			flagged[d.Text] = true
		}
		if strings.Contains(d.Evidence[0].Quote, "portal.acme.test") {
			trustedLinks++
			require.False(t, d.NeedsReview, "a link to the account's domain is flagged: %q", d.Text)
		}
		if strings.Contains(d.Text, "9911") || strings.Contains(d.Text, "vendor-forms") {
			require.True(t, d.NeedsReview, "%q is not flagged", d.Text)
		}
	}
	require.NotNil(t, wire, "the wire is no flagged action item: %v", flagged)
	require.Equal(t, 2, trustedLinks, "both trusted links are notes items, unflagged")
	require.Contains(t, draft, "Send the Okta guide from", "the item with the org's own link is in the draft")

	_, deliveries, err := b.store.NotesConfirm(ctx, b.orgID, tr.ActivityID, func(n *crm.Notes) error {
		return n.Confirm([]crm.NoteRef{*wire}, "key-1", time.Now())
	})
	require.NoError(t, err)
	require.Len(t, deliveries, 1)
	f, err := b.w.RegenerateFollowUp(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.Contains(t, f.Body, "one million dollars", "the confirmed item is in the draft again")
	require.NotContains(t, f.Body, "9911")
}
