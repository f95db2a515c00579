package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestFrame: every page carries the security headers; no session sends a
// page to sign-in and a form to a 401; an unknown path is the designed 404
// page; a form without the session's CSRF token is refused.
func TestFrame(t *testing.T) {
	t.Parallel()
	b := setup(t, "")

	res := b.get("/")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "Dana Lee")
	require.Equal(t, csp, res.Header.Get("Content-Security-Policy"))
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Contains(t, res.Body, `<main id="main"`)
	require.Contains(t, res.Body, `href="#main"`, "a skip link")

	res = b.getAs("", "/?q=a")
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/login?next="+url.QueryEscape("/?q=a"), res.Header.Get("Location"))
	res = b.getAs("not-a-session", "/")
	require.Equal(t, http.StatusSeeOther, res.Status, "an unknown session is no session")

	res = b.get("/no/such/page")
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Contains(t, res.Body, "Not found")

	res = b.post("/", url.Values{"csrf": {"wrong"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Contains(t, res.Body, "expired")

	res = b.get("/static/app.css")
	require.Equal(t, http.StatusOK, res.Status)
	require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/css"))
}

// TestSessions: a session ends on sign-out, with its user, when it expires,
// and everywhere at once; a changed role applies at once.
func TestSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	_, second, _ := b.signIn(b.orgID, "sam@seller.test", "Sam Roe", crm.RoleManager)

	ws, err := b.store.SessionLookup(ctx, b.token)
	require.NoError(t, err)
	require.Equal(t, b.user.ID, ws.UserID)
	require.Equal(t, crm.RoleRep, ws.Role)

	_, err = b.store.UserUpdate(ctx, b.orgID, b.user.ID, crm.UserInput{Role: crm.Some(crm.RoleAdmin)})
	require.NoError(t, err)
	ws, err = b.store.SessionLookup(ctx, b.token)
	require.NoError(t, err)
	require.Equal(t, crm.RoleAdmin, ws.Role, "the user's role as it is now")

	// Another session of the same user, then sign out everywhere.
	_, other, err := b.store.SessionCreate(ctx, b.orgID, b.user.ID, SessionTTL)
	require.NoError(t, err)
	n, err := b.store.SessionEndAll(ctx, b.orgID, b.user.ID)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	for _, tok := range []string{b.token, other} {
		_, err = b.store.SessionLookup(ctx, tok)
		require.ErrorIs(t, err, crm.ErrNotFound)
	}
	_, err = b.store.SessionLookup(ctx, second)
	require.NoError(t, err, "another user's session stays")

	// Expiry.
	b.store.SetClock(func() time.Time { return time.Now().Add(SessionTTL + time.Minute) })
	_, err = b.store.SessionLookup(ctx, second)
	require.ErrorIs(t, err, crm.ErrNotFound)
	b.store.SetClock(time.Now)

	// A user of another org cannot be given a session here.
	other2, err := b.store.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	_, _, err = b.store.SessionCreate(ctx, other2.ID, b.user.ID, SessionTTL)
	require.ErrorIs(t, err, crm.ErrNotFound)
}
