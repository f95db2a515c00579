package retrieval

import (
	"context"
	"logbook/activity"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// history plants two accounts that talk about the same things, so a
// search that leaks across accounts shows.
func history(f *fixture) (acme, globex string, ids map[string]string) {
	acme, globex = f.account("Acme"), f.account("Globex")
	ids = map[string]string{}
	ids["acme-jan"] = f.meeting(acme, day("2026-01-14"), crm.Notes{},
		"Dana Lee", "Our security team will not sign off without single sign-on through Okta.",
		"Maya Patel", "Understood. SSO is on our roadmap; I will check the timing with product.",
		"Dana Lee", "Also the dispatch team loves the new route planner.")
	ids["acme-mar"] = f.meeting(acme, day("2026-03-02"), crm.Notes{},
		"Maya Patel", "Good news on SSO: we promised Okta SAML support by the end of April and it is on track.",
		"Dana Lee", "Great, that unblocks the renewal on our side.",
		"Wei Zhang", "Pricing is my worry. A 12 percent uplift will be hard to justify to finance.")
	ids["acme-email"] = f.activity(acme, crm.ActivityEmail, day("2026-03-10"), "Renewal quote",
		"Hi Wei, attached is the renewal quote with the uplift capped at 7 percent for a two-year term.")
	ids["globex-feb"] = f.meeting(globex, day("2026-02-10"), crm.Notes{},
		"Ana Ruiz", "We need SSO with Azure AD before we roll out to the warehouse staff.",
		"Jon Okafor", "Azure AD single sign-on ships in May; we promised Globex a beta in April.")
	return acme, globex, ids
}

func citedActivities(a Answer) []string {
	var out []string
	for _, c := range a.Citations {
		out = append(out, c.ActivityID)
	}
	return out
}

func TestAskAccountCitesItsOwnRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme, _, ids := history(f)

	a, err := f.svc.Ask(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "What did we promise Acme about SSO?"}, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded, "%+v", a)
	require.Contains(t, citedActivities(a), ids["acme-mar"])
	require.NotContains(t, citedActivities(a), ids["globex-feb"])
	for _, c := range a.Citations {
		require.Empty(t, c.AccountID, "an account question's citations need no account")
		require.NotEmpty(t, c.ChunkID)
		require.Equal(t, "meeting", c.Type)
		if c.ActivityID == ids["acme-mar"] {
			require.Contains(t, c.Quote, "Okta SAML support by the end of April")
			require.Equal(t, "Maya Patel", *c.Speaker)
			require.Equal(t, 0, *c.StartMS)
			require.Equal(t, day("2026-03-02"), c.OccurredAt.UTC())
		}
	}
	require.Contains(t, a.Answer, "Okta SAML")

	// An email is found and cited, with no speaker or moment.
	a, err = f.svc.Ask(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "What cap did we put on the renewal uplift?"}, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded)
	require.Contains(t, citedActivities(a), ids["acme-email"])
	for _, c := range a.Citations {
		if c.ActivityID == ids["acme-email"] {
			require.Equal(t, "email", c.Type)
			require.Nil(t, c.StartMS)
			require.Contains(t, c.Quote, "7 percent")
		}
	}
}

func TestAskNothingOnRecordDoesNotAskTheModel(t *testing.T) {
	f := newFixture(t)
	acme, _, _ := history(f)
	before := f.llm.calls.Load()
	a, err := f.svc.Ask(context.Background(), Question{OrgID: f.orgID, AccountID: acme,
		Text: "How is the Kubernetes migration of their data lake going?"}, nil)
	require.NoError(t, err)
	require.False(t, a.Grounded)
	require.Equal(t, NothingOnRecord, a.Answer)
	require.Empty(t, a.Citations)
	require.Equal(t, before, f.llm.calls.Load(), "no relevant source: the model is not asked")

	// An account with no records at all.
	empty := f.account("Initech")
	a, err = f.svc.Ask(context.Background(), Question{OrgID: f.orgID, AccountID: empty, Text: "What did we promise about SSO?"}, nil)
	require.NoError(t, err)
	require.False(t, a.Grounded)
	require.Equal(t, before, f.llm.calls.Load())
}

func TestAskFiltersAndOrgWide(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme, globex, ids := history(f)

	// since/until bound the records searched.
	a, err := f.svc.Ask(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "What did we say about SSO?",
		Until: day("2026-02-01")}, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded)
	require.Equal(t, []string{ids["acme-jan"]}, uniq(citedActivities(a)))
	a, err = f.svc.Ask(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "What did we say about SSO?",
		Since: day("2026-02-01")}, nil)
	require.NoError(t, err)
	require.NotContains(t, citedActivities(a), ids["acme-jan"])

	// types: only emails.
	hits, err := f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "renewal uplift", Types: []string{"email"}}, Hybrid, 10)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	for _, h := range hits {
		require.Equal(t, ids["acme-email"], h.ActivityID)
	}

	// Org-wide: both accounts, each citation naming its account.
	a, err = f.svc.Ask(ctx, Question{OrgID: f.orgID, Text: "Which customers did we promise SSO to?"}, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded)
	accts := map[string]bool{}
	for _, c := range a.Citations {
		require.Contains(t, []string{acme, globex}, c.AccountID)
		accts[c.AccountID] = true
	}
	require.NotEmpty(t, accts)

	// Another org sees none of it.
	other := f.withOrg("Other org")
	a, err = other.svc.Ask(ctx, Question{OrgID: other.orgID, Text: "Which customers did we promise SSO to?"}, nil)
	require.NoError(t, err)
	require.False(t, a.Grounded)
	hits, err = other.svc.Search(ctx, Question{OrgID: other.orgID, AccountID: acme, Text: "SSO"}, Hybrid, 10)
	require.NoError(t, err)
	require.Empty(t, hits, "another org's account ID finds nothing")
}

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestIndexActivityFollowsChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme := f.account("Acme")
	id := f.activity(acme, crm.ActivityNote, day("2026-04-01"), "Champion update", "Dana is leaving Acme at the end of May.")
	count := func() int {
		hits, err := f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "Dana leaving champion"}, TextOnly, 10)
		require.NoError(t, err)
		return len(hits)
	}
	require.Equal(t, 1, count())

	// Unchanged text: nothing is embedded again.
	n, err := f.svc.IndexActivity(ctx, f.orgID, id)
	require.NoError(t, err)
	require.Zero(t, n)

	// Changed text replaces the chunk.
	in := crm.ActivityInput{Body: crm.Some("Sam replaces Dana as our champion; Dana stays until June.")}
	require.NoError(t, in.Validate(false))
	_, err = activity.New(f.st).Update(ctx, f.orgID, id, in)
	require.NoError(t, err)
	unindexed, err := f.st.ActivitiesUnindexed(ctx, 1000)
	require.NoError(t, err)
	require.Contains(t, unindexed, activityRef(f.orgID, id), "a changed activity is found by the sweep")
	n, err = f.svc.IndexActivity(ctx, f.orgID, id)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	hits, err := f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: acme, Text: "Sam replaces Dana"}, TextOnly, 10)
	require.NoError(t, err)
	require.Len(t, hits, 1)
	require.Contains(t, hits[0].Text, "Sam replaces Dana")

	// Moving the activity to another account moves its chunks.
	globex := f.account("Globex")
	in = crm.ActivityInput{AccountID: crm.Some(globex)}
	require.NoError(t, in.Validate(false))
	_, err = activity.New(f.st).Update(ctx, f.orgID, id, in)
	require.NoError(t, err)
	require.Equal(t, 0, count())
	hits, err = f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: globex, Text: "Sam replaces Dana"}, Hybrid, 10)
	require.NoError(t, err)
	require.Len(t, hits, 1)

	// Deleting it removes its chunks; indexing a deleted activity is done.
	require.NoError(t, f.st.ActivityDelete(ctx, f.orgID, id))
	hits, err = f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: globex, Text: "Sam replaces Dana"}, Hybrid, 10)
	require.NoError(t, err)
	require.Empty(t, hits)
	_, err = f.svc.IndexActivity(ctx, f.orgID, id)
	require.NoError(t, err)
}

func TestMeetingChunksReuseEmbeddings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme := f.account("Acme")
	id := f.meeting(acme, day("2026-05-05"), crm.Notes{Summary: "A short sync."},
		"Dana Lee", "We will expand to the Memphis cross-dock in June.",
		"Maya Patel", "I will send the expansion quote by Friday.")
	segs := []crm.Segment{
		{Index: 0, Speaker: "Dana Lee", StartMS: 0, EndMS: 3500, Text: "We will expand to the Memphis cross-dock in June."},
		{Index: 1, Speaker: "Maya Patel", StartMS: 8000, EndMS: 11500, Text: "I will send the expansion quote by Friday."},
	}
	known, err := f.st.ChunkEmbeddings(ctx, f.orgID, id, testModel)
	require.NoError(t, err)
	require.Len(t, known, 2, "a transcript chunk and a notes chunk")
	emb := &countingEmbedder{Embedder: f.svc.cfg.Embedder}
	svc, err := New(Config{Store: f.st, Embedder: emb, EmbedModel: testModel})
	require.NoError(t, err)
	cs, err := svc.MeetingChunks(ctx, f.orgID, id, segs, crm.Notes{Summary: "A short sync."})
	require.NoError(t, err)
	require.Len(t, cs, 2)
	require.Zero(t, emb.texts, "unchanged text is not embedded again")
	cs, err = svc.MeetingChunks(ctx, f.orgID, id, segs, crm.Notes{Summary: "A short sync about Memphis."})
	require.NoError(t, err)
	require.Equal(t, 1, emb.texts, "only the changed notes chunk is embedded")
}
