package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestUserInvite: an admin key gets a one-time link (PUBLIC_URL or the
// request's host; never cached), whose token the web UI finds; a newer
// link retires the older; the body's expires_in_days is checked; other
// scopes are refused and another org's user is a 404.
func TestUserInvite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.store.UserCreate(ctx, b.orgID, crm.UserInput{Email: crm.Some("wei@acme.com"), Name: crm.Some("Wei Chen")})
	require.NoError(t, err)
	now := time.Now().UTC()

	res := b.do("POST", "/v1/users/"+u.ID+"/invite", `{}`)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	m := res.Map(t)
	link := m["url"].(string)
	require.True(t, strings.HasPrefix(link, "http://example.com/invite/"), link)
	exp, err := time.Parse(time.RFC3339, m["expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, now.Add(7*24*time.Hour), exp, time.Minute)
	token := strings.TrimPrefix(link, "http://example.com/invite/")
	inv, err := b.store.InviteLookup(ctx, token)
	require.NoError(t, err)
	require.Equal(t, u.ID, inv.UserID)
	require.True(t, inv.Usable())

	res = b.do("POST", "/v1/users/"+u.ID+"/invite", map[string]any{"expires_in_days": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	exp, err = time.Parse(time.RFC3339, res.Map(t)["expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, now.Add(24*time.Hour), exp, time.Minute)
	_, err = b.store.InviteLookup(ctx, token)
	require.ErrorIs(t, err, crm.ErrNotFound, "the newer link retires the older")

	for body, field := range map[string]string{`{"expires_in_days":0}`: "expires_in_days", `{"expires_in_days":31}`: "expires_in_days",
		`{"expires_in_days":"7"}`: "expires_in_days", `{"url":"https://evil.example"}`: "url"} {
		res := b.do("POST", "/v1/users/"+u.ID+"/invite", body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, body)
		require.Equal(t, []string{field}, res.Fields(t), body)
	}
	require.Equal(t, http.StatusBadRequest, b.do("POST", "/v1/users/"+u.ID+"/invite", ``).Status)
	require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead, crm.ScopeWrite), "POST", "/v1/users/"+u.ID+"/invite", `{}`).Status,
		"only an admin key invites")
	_, otherKey := b.newOrg("Other")
	require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "POST", "/v1/users/"+u.ID+"/invite", `{}`).Status)

	// Behind TLS the link is https; PUBLIC_URL wins over the Host.
	req := httptest.NewRequest("POST", "/v1/users/"+u.ID+"/invite", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Proto", "https")
	res = b.serve(req)
	require.True(t, strings.HasPrefix(res.Map(t)["url"].(string), "https://example.com/invite/"))
	h, err := NewHandler(Deps{Store: b.store, PublicURL: "https://logbook.example.org/"})
	require.NoError(t, err)
	b.handler = h
	res = b.do("POST", "/v1/users/"+u.ID+"/invite", `{}`)
	require.True(t, strings.HasPrefix(res.Map(t)["url"].(string), "https://logbook.example.org/invite/"), string(res.Body))
}
