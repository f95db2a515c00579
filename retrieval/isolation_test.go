package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestIsolationCanaries plants a unique canary word in every record of many
// accounts of two orgs, around shared topics so every search has plenty of
// near matches elsewhere, then asks hundreds of random questions — by
// topic, by canary (its own and other accounts'), with and without filters,
// per account and org-wide. No hit, answer or citation may carry a canary
// of another account (for account questions) or of another org.
func TestIsolationCanaries(t *testing.T) {
	f := newFixture(t)
	g := f.withOrg("second org")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	topics := []string{"single sign-on with Okta", "the renewal price uplift", "API rate limits", "the onboarding plan",
		"the security questionnaire", "the warehouse rollout", "the invoice dispute", "the data export"}
	type planted struct {
		org, account string
		canaries     []string
	}
	var all []planted
	owner := map[string]planted{} // canary → where it lives
	canary := func() string { return fmt.Sprintf("zq%08x", rng.Uint32()) }
	for oi, fx := range []*fixture{f, g} {
		for ai := range 6 {
			p := planted{org: fx.orgID, account: fx.account(fmt.Sprintf("Org%d Account %d", oi, ai))}
			for mi := range 3 {
				topic := topics[rng.IntN(len(topics))]
				c1, c2 := canary(), canary()
				fx.meeting(p.account, day(fmt.Sprintf("2026-0%d-1%d", 1+mi, ai)), crm.Notes{Summary: "We discussed " + topic + " " + c2 + "."},
					"Dana Lee", "Let us go over "+topic+" today, code "+c1+".",
					"Maya Patel", "On "+topic+", we promised a plan by Friday, reference "+c1+".",
					"Wei Zhang", "Pricing and "+topics[rng.IntN(len(topics))]+" still worry finance.")
				p.canaries = append(p.canaries, c1, c2)
			}
			c3 := canary()
			fx.activity(p.account, crm.ActivityEmail, day("2026-04-02"), "About "+topics[rng.IntN(len(topics))],
				"Following up on "+topics[rng.IntN(len(topics))]+", ticket "+c3+", as promised.")
			p.canaries = append(p.canaries, c3)
			for _, c := range p.canaries {
				owner[c] = p
			}
			all = append(all, p)
		}
	}
	var allCanaries []string
	for c := range owner {
		allCanaries = append(allCanaries, c)
	}
	check := func(q Question, texts ...string) {
		t.Helper()
		for _, text := range texts {
			for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r < '0' || r > 'z' || (r > '9' && r < 'a') }) {
				p, ok := owner[w]
				if !ok {
					continue
				}
				require.Equal(t, q.OrgID, p.org, "canary %s of another org in %q (question %q)", w, text, q.Text)
				if q.AccountID != "" {
					require.Equal(t, q.AccountID, p.account, "canary %s of another account in %q (question %q)", w, text, q.Text)
				}
			}
		}
	}
	asked, grounded := 0, 0
	for i := range 300 {
		asker := all[rng.IntN(len(all))]
		fx := f
		if asker.org == g.orgID {
			fx = g
		}
		var text string
		switch i % 3 {
		case 0:
			text = "What did we promise about " + topics[rng.IntN(len(topics))] + "?"
		case 1:
			text = "What was said with code " + allCanaries[rng.IntN(len(allCanaries))] + "?" // often another account's
		default:
			text = "Anything on " + asker.canaries[rng.IntN(len(asker.canaries))] + " and " + topics[rng.IntN(len(topics))] + "?"
		}
		q := Question{OrgID: asker.org, AccountID: asker.account, Text: text}
		if i%4 == 0 {
			q.AccountID = "" // org-wide
		}
		if i%5 == 0 {
			q.Types = []string{"email"}
		}
		for _, mode := range []Mode{Hybrid, VectorOnly, TextOnly} {
			hits, err := fx.svc.Search(ctx, q, mode, 10)
			require.NoError(t, err)
			for _, h := range hits {
				require.Equal(t, q.OrgID, h.OrgID)
				if q.AccountID != "" {
					require.Equal(t, q.AccountID, h.AccountID)
				}
				check(q, h.Text)
			}
		}
		a, err := fx.svc.Ask(ctx, q, nil)
		require.NoError(t, err)
		asked++
		if a.Grounded {
			grounded++
		}
		texts := []string{a.Answer}
		for _, c := range a.Citations {
			texts = append(texts, c.Quote)
			if q.AccountID == "" {
				p := false
				for _, pl := range all {
					if pl.account == c.AccountID && pl.org == q.OrgID {
						p = true
					}
				}
				require.True(t, p, "an org-wide citation names an account of the asking org")
			}
		}
		check(q, texts...)
	}
	require.Equal(t, 300, asked)
	require.Greater(t, grounded, 100, "the questions find records (else the test proves nothing)")
}
