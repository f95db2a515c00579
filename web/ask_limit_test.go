package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
	"logbook/internal/testredis"
	"logbook/retrieval"
)

// TestAskQuota: questions from the web UI are taken from per-person and
// per-org quotas in Redis, as the API's asks are: past the person's
// quota the page says when to ask again (429), and a colleague of the
// same org can still ask until the org's quota is spent.
func TestAskQuota(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	f := b.fixture("Acme Corp")
	_, other, otherCSRF := b.signIn(b.orgID, "sam@seller.test", "Sam Roe", crm.RoleRep)
	lim := ratelimit.New(testredis.Client(t), ratelimit.Config{Prefix: testredis.Name(t) + ":"})
	h, err := NewHandler(Deps{Store: b.store, LoginLimiter: lim, AskLimits: AskLimits{PerUser: 2, PerOrg: 3},
		Asker: failingAsker{err: retrieval.ErrUnavailable}})
	require.NoError(t, err)
	b.handler = h
	path := "/accounts/" + f.account.ID + "/ask"
	ask := func() answer { return b.post(path, url.Values{"question": {"What did we promise?"}}) }

	for range 2 {
		res := ask()
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "within the quota the question reaches the asker")
	}
	res := ask()
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.Contains(t, res.Body, "Ask again in")

	// Sam has a quota of his own, but the org has one question left.
	sam := *b
	sam.token, sam.csrf = other, otherCSRF
	require.Equal(t, http.StatusServiceUnavailable, sam.post(path, url.Values{"question": {"Q?"}}).Status)
	require.Equal(t, http.StatusTooManyRequests, sam.post(path, url.Values{"question": {"Q?"}}).Status, "the org's quota")
}
