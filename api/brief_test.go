package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// briefBundle is setup(t) with a clock the test moves.
type briefBundle struct {
	*testBundle
	now time.Time
}

func briefSetup(t *testing.T) *briefBundle {
	t.Helper()
	b := &briefBundle{testBundle: setup(t), now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	h, err := NewHandler(Deps{Store: b.store, Now: func() time.Time { return b.now }})
	require.NoError(t, err)
	b.handler = h
	return b
}

// brief GETs the account's brief and requires a 200.
func (b *briefBundle) brief(accountID string) (brief.AccountBrief, response) {
	b.t.Helper()
	res := b.do("GET", "/v1/accounts/"+accountID+"/brief", nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	var ab brief.AccountBrief
	res.JSON(b.t, &ab)
	return ab, res
}

func TestAccountBrief(t *testing.T) {
	t.Parallel()

	t.Run("EmptyAccount", func(t *testing.T) {
		t.Parallel()
		b := briefSetup(t)
		acct := b.create("/v1/accounts", map[string]any{"name": "Globex"})
		ab, res := b.brief(acct)
		require.Equal(t, "Globex: no activity logged yet.", ab.Brief.Headline)
		require.Equal(t, []brief.BriefSection{{Title: "The account", Statements: []brief.BriefStatement{
			{Text: "Globex, no owner: no activity logged yet.", ActivityIDs: []string{}}}}}, ab.Brief.Sections)
		require.Empty(t, ab.Deals)
		require.Empty(t, ab.OpenActionItems)
		m := res.Map(t)
		require.Nil(t, m["last_activity_at"])
		require.Equal(t, []any{}, m["deals"], "an empty list, not null")
		require.Equal(t, []any{}, m["open_action_items"])
	})

	t.Run("NotFoundInvalidAndScopes", func(t *testing.T) {
		t.Parallel()
		b := briefSetup(t)
		acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "GET", "/v1/accounts/"+acct+"/brief", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
		require.NotContains(t, string(res.Body), acct)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/accounts/"+store.NewID()+"/brief", nil).Status)
		res = b.do("GET", "/v1/accounts/not-an-id/brief", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"id"}, res.Fields(t))
		require.Equal(t, http.StatusOK, b.doKey(b.keyWith(crm.ScopeRead), "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeIngest), "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "GET", "/v1/accounts/"+acct+"/brief", nil).Status)
		// Another org's read kept nothing that org A's read could be served.
		ab, _ := b.brief(acct)
		require.Equal(t, "Acme: no activity logged yet.", ab.Brief.Headline)
	})

	t.Run("DocumentedInOpenAPI", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		op := b.spec["paths"].(map[string]any)["/v1/accounts/{id}/brief"].(map[string]any)["get"].(map[string]any)
		require.Contains(t, op["summary"], "Sides of a commitment")
		schemas := b.spec["components"].(map[string]any)["schemas"].(map[string]any)
		props := schemas["AccountBrief"].(map[string]any)["properties"].(map[string]any)
		for _, k := range []string{"brief", "open_action_items", "deals", "last_activity_at", "generated_at"} {
			require.Contains(t, props, k)
		}
		side := schemas["BriefActionItem"].(map[string]any)["properties"].(map[string]any)["side"].(map[string]any)
		require.ElementsMatch(t, []any{"ours", "theirs", "unknown"}, side["enum"])
	})
}
