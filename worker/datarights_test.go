package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// canarySegments is meetingSegments with a word no other record has, said
// by both speakers.
func canarySegments(word string) []crm.Segment {
	segs := meetingSegments()
	segs[1].Text += " The " + word + " migration worries us."
	segs[2].Text += " I'll bring the " + word + " plan."
	return segs
}

// found reports whether an org-wide search or question finds word.
func (b *testBundle) found(t *testing.T, word string) bool {
	t.Helper()
	ctx := context.Background()
	rs := b.w.cfg.Retrieval
	hits, err := rs.Search(ctx, retrieval.Question{OrgID: b.orgID, Text: word}, retrieval.TextOnly, 10)
	require.NoError(t, err)
	for _, h := range hits {
		if strings.Contains(strings.ToLower(h.Text), word) {
			return true
		}
	}
	ans, err := rs.Ask(ctx, retrieval.Question{OrgID: b.orgID, Text: "What about the " + word + " plan?"}, nil)
	require.NoError(t, err)
	for _, c := range ans.Citations {
		if strings.Contains(strings.ToLower(c.Quote), word) {
			return true
		}
	}
	return strings.Contains(strings.ToLower(ans.Answer), word)
}

// requireStatsExact checks the org's BM25 statistics against its chunks and
// that no statistic names word any more.
func (b *testBundle) requireStatsExact(t *testing.T, word string) {
	t.Helper()
	ctx := context.Background()
	var chunks, words, statChunks, statWords int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(words), 0) FROM chunks WHERE org_id = $1`, b.orgID).Scan(&chunks, &words))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(sum(chunks), 0), coalesce(sum(words), 0) FROM chunk_stats WHERE org_id = $1`, b.orgID).
		Scan(&statChunks, &statWords))
	require.Equal(t, chunks, statChunks)
	require.Equal(t, words, statWords)
	var terms int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM chunk_terms WHERE org_id = $1 AND lexeme = $2`, b.orgID, word).Scan(&terms))
	require.Zero(t, terms, "the deleted word is still counted in the BM25 statistics")
}

// withHook subscribes a webhook to every event, so deletes have deliveries
// that carry the data to remove.
func (b *testBundle) withHook(t *testing.T) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, $5)`,
		b.orgID, store.NewID(), "https://hooks.example.com/x", []string{store.EventMeetingProcessed, store.EventActivityCreated}, "whsec-0123456789abcdef")
	require.NoError(t, err)
}

// countWhere counts rows of table in the org matching cond ($2 is arg).
func (b *testBundle) countWhere(t *testing.T, table, cond string, arg any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE org_id = $1 AND `+cond, b.orgID, arg).Scan(&n))
	return n
}

func TestAccountDeleteLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, local.New(384))
	b.withHook(t)
	tr := b.ingest(t, "gone", canarySegments("quokka"))
	require.NoError(t, b.process(t, tr))
	// Another account's meeting stays.
	other, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Globex")})
	require.NoError(t, err)
	keep := b.account
	b.account = other.ID
	tr2 := b.ingest(t, "kept", canarySegments("pangolin"))
	require.NoError(t, b.process(t, tr2))
	b.account = keep
	_, err = b.w.cfg.Retrieval.IndexActivity(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO account_briefs (org_id, account_id, brief, fingerprint, generated_at) VALUES ($1, $2, '{}', 'x', now())`,
		b.orgID, b.account)
	require.NoError(t, err)
	require.True(t, b.found(t, "quokka"))
	require.Positive(t, b.countWhere(t, "webhook_deliveries", `payload->'data'->>'account_id' = $2`, b.account))

	require.NoError(t, b.store.AccountDelete(ctx, b.orgID, b.account))
	require.ErrorIs(t, b.store.AccountDelete(ctx, b.orgID, b.account), crm.ErrNotFound)

	require.False(t, b.found(t, "quokka"), "search or ask still finds the deleted account")
	require.True(t, b.found(t, "pangolin"), "the other account is untouched")
	b.requireStatsExact(t, "quokka")
	for _, table := range []string{"transcripts", "meeting_notes", "action_items", "follow_ups", "chunks"} {
		require.Zero(t, b.countWhere(t, table, `activity_id = $2`, tr.ActivityID), table)
	}
	require.Zero(t, b.countWhere(t, "activities", `id = $2`, tr.ActivityID))
	for _, table := range []string{"transcripts", "action_items", "chunks", "account_briefs", "contacts", "deals", "activities"} {
		require.Zero(t, b.countWhere(t, table, `account_id = $2`, b.account), table)
	}
	require.Zero(t, b.countWhere(t, "webhook_deliveries", `(payload->'data'->>'account_id' = $2 OR payload::text LIKE '%quokka%')`, b.account),
		"a webhook delivery still carries the deleted account's data")
	require.Positive(t, b.countWhere(t, "webhook_deliveries", `payload->'data'->>'account_id' = $2`, other.ID))
}

func TestContactDeleteRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, local.New(384))
	b.withHook(t)
	dana, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{AccountID: crm.Some(b.account), Name: crm.Some("Dana Lee"),
		Email: crm.Some("dana@acme.test")})
	require.NoError(t, err)
	sam, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{AccountID: crm.Some(b.account), Name: crm.Some("Sam Ortiz"),
		Email: crm.Some("sam@acme.test")})
	require.NoError(t, err)
	acts := activity.New(b.store)
	// An email to Dana alone: only about her.
	mail, _, _, err := acts.Upsert(ctx, b.orgID, crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), AccountID: crm.Some(b.account),
		ContactIDs: crm.Some([]string{dana.ID}), OccurredAt: crm.Some("2026-03-05T10:00:00Z"), Subject: crm.Some("Axolotl pricing"),
		Body: crm.Some("Dana, here is the axolotl pricing we discussed.")})
	require.NoError(t, err)
	// A meeting with Dana and Sam: shared.
	ext := "shared"
	ing, err := acts.IngestTranscript(ctx, b.orgID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: "Acme renewal", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		Format: "segments", Segments: canarySegments("narwhal"),
		Participants: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Sam Ortiz", Email: "sam@acme.test"},
			{Name: "Maya Patel", Email: "maya@northwind.test"}},
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(b.account),
			OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:shared"),
			Participants: crm.Some([]crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Sam Ortiz", Email: "sam@acme.test"},
				{Name: "Maya Patel", Email: "maya@northwind.test"}})},
	})
	require.NoError(t, err)
	require.NoError(t, b.process(t, ing.Transcript))
	_, err = b.w.cfg.Retrieval.IndexActivity(ctx, b.orgID, mail.ID)
	require.NoError(t, err)
	require.Equal(t, 2, b.countWhere(t, "activity_contacts", `activity_id = $2`, ing.Transcript.ActivityID), "the meeting is linked to both")
	require.True(t, b.found(t, "axolotl"))

	require.NoError(t, b.store.ContactDelete(ctx, b.orgID, dana.ID))

	// Only about Dana: gone, with everything derived from it.
	_, err = b.store.ActivityGet(ctx, b.orgID, mail.ID)
	require.ErrorIs(t, err, crm.ErrNotFound)
	require.False(t, b.found(t, "axolotl"))
	require.Zero(t, b.countWhere(t, "chunks", `activity_id = $2`, mail.ID))
	require.Zero(t, b.countWhere(t, "webhook_deliveries", `payload->'data'->>'activity_id' = $2`, mail.ID))
	b.requireStatsExact(t, "axolotl")
	// Shared: kept, without her link or her participant entry.
	m, err := b.store.ActivityGet(ctx, b.orgID, ing.Transcript.ActivityID)
	require.NoError(t, err)
	require.True(t, b.found(t, "narwhal"))
	require.Equal(t, 1, b.countWhere(t, "activity_contacts", `activity_id = $2`, m.ID))
	require.Equal(t, 1, b.countWhere(t, "activity_contacts", `contact_id = $2`, sam.ID))
	for _, table := range []string{"activities", "transcripts"} {
		require.Zero(t, b.countWhere(t, table, `participants::text LIKE $2`, "%dana@acme.test%"), table)
		require.Positive(t, b.countWhere(t, table, `participants::text LIKE $2`, "%sam@acme.test%"), table)
	}
}

func TestRetentionPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, keepNotes := range map[string]bool{"KeepsNotes": true, "DeletesNotes": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, local.New(384))
			b.withHook(t)
			old := b.ingest(t, "old", canarySegments("wombat"))
			require.NoError(t, b.process(t, old))
			recent := b.ingest(t, "recent", canarySegments("okapi"))
			require.NoError(t, b.process(t, recent))
			_, err := b.pool.Exec(ctx, `UPDATE transcripts SET received_at = now() - interval '40 days' WHERE id = $1`, old.ID)
			require.NoError(t, err)
			_, before, err := b.store.MeetingNotes(ctx, b.orgID, old.ActivityID)
			require.NoError(t, err)

			n, err := b.w.PurgeRetention(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "no retention set: nothing is purged")
			_, err = b.store.SettingsUpdate(ctx, b.orgID, crm.SettingsInput{TranscriptRetentionDays: crm.Some(30),
				KeepNotesAfterPurge: crm.Some(keepNotes)})
			require.NoError(t, err)
			n, err = b.w.PurgeRetention(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = b.w.PurgeRetention(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "a purged transcript is not purged again")

			got, err := b.store.TranscriptGet(ctx, b.orgID, old.ID, true)
			require.NoError(t, err)
			require.NotNil(t, got.PurgedAt)
			require.Empty(t, got.Segments)
			require.Equal(t, crm.TranscriptDone, got.Status)
			require.Zero(t, b.countWhere(t, "transcripts", `id = $2 AND content <> ''`, old.ID))
			require.Zero(t, b.countWhere(t, "chunks", `activity_id = $2 AND kind = 'transcript'`, old.ActivityID))
			_, after, err := b.store.MeetingNotes(ctx, b.orgID, old.ActivityID)
			if keepNotes {
				require.NoError(t, err)
				require.Equal(t, before.Summary, after.Summary)
				require.Equal(t, before.ActionItems[0].Evidence, after.ActionItems[0].Evidence, "evidence lines are kept")
				require.Positive(t, b.countWhere(t, "chunks", `activity_id = $2 AND kind = 'notes'`, old.ActivityID))
			} else {
				require.ErrorIs(t, err, crm.ErrNotFound)
				for _, table := range []string{"meeting_notes", "action_items", "follow_ups", "chunks"} {
					require.Zero(t, b.countWhere(t, table, `activity_id = $2`, old.ActivityID), table)
				}
				require.Zero(t, b.countWhere(t, "webhook_deliveries", `event = 'meeting.processed' AND payload->'data'->>'activity_id' = $2`,
					old.ActivityID), "a delivery still carries the deleted notes")
			}
			b.requireStatsExact(t, "zzzz-none")
			// The recent one is untouched.
			kept, err := b.store.TranscriptGet(ctx, b.orgID, recent.ID, true)
			require.NoError(t, err)
			require.Nil(t, kept.PurgedAt)
			require.NotEmpty(t, kept.Segments)
			require.True(t, b.found(t, "okapi"))
		})
	}
}

// TestRetentionPurgeIsBounded: one pass empties at most limit transcripts
// of an org; the next pass continues.
func TestRetentionPurgeIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, local.New(384))
	for _, ext := range []string{"a", "b", "c"} {
		b.ingest(t, ext, meetingSegments())
	}
	_, err := b.pool.Exec(ctx, `UPDATE transcripts SET received_at = now() - interval '10 days' WHERE org_id = $1`, b.orgID)
	require.NoError(t, err)
	_, err = b.store.SettingsUpdate(ctx, b.orgID, crm.SettingsInput{TranscriptRetentionDays: crm.Some(7)})
	require.NoError(t, err)
	for _, want := range []int{2, 1, 0} {
		res, err := b.store.TranscriptsPurge(ctx, 2)
		require.NoError(t, err)
		require.Equal(t, want, res.Transcripts)
		require.Zero(t, res.NotesDeleted)
	}
	// Never processed (queued) and now purged: failed, saying why.
	require.Equal(t, 3, b.countWhere(t, "transcripts",
		`purged_at IS NOT NULL AND status = 'failed' AND error LIKE $2`, "%retention%"))
}
