package browsertest

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
	"logbook/web"
)

// site is a Logbook of the test's own, as `logbook all` and the demo run
// it (internal/app's RunPrivate: the API, the web UI and the worker on a
// loopback port and private queues), over a private schema, with one org.
type site struct {
	t *testing.T
	// URL is the server's origin (http://127.0.0.1:PORT).
	URL string
	// Store reads and writes the site's schema, for fixtures and checks.
	Store *store.Store
	// OrgID is the org, and APIKey an admin API key of it (fixtures can go
	// through the API as a client's would).
	OrgID, APIKey string
}

// newSite starts a Logbook for the test; it stops when the test ends.
// Each option changes the App before it starts (a test's stand-in
// connector kind, say).
func newSite(t *testing.T, opts ...func(*app.App)) *site {
	t.Helper()
	browser(t) // fail (or skip) before building a server for nothing
	ctx := context.Background()
	pool := testdb.Schema(t)
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	a := &app.App{Cfg: cfg, Pool: pool, Redis: testredis.Client(t),
		// Errors of the server (a page that failed to render) show in the
		// test's output.
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	for _, o := range opts {
		o(a)
	}
	base, stop, err := a.RunPrivate(ctx, testredis.Name(t)+"-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})
	s := &site{t: t, URL: base, Store: store.New(pool)}
	s.OrgID, s.APIKey, err = app.CreateOrg(ctx, s.Store, "Org "+t.Name())
	require.NoError(t, err)
	return s
}

// user makes a user of orgID with role and signs them in as the sign-in
// page would: it returns the user and their session's token (the cookie's
// value).
func (s *site) user(orgID, email, name string, role crm.Role) (crm.User, string) {
	s.t.Helper()
	ctx := context.Background()
	in := crm.UserInput{Email: crm.Some(email), Name: crm.Some(name), Role: crm.Some(role)}
	require.NoError(s.t, in.Validate(true))
	u, err := s.Store.UserCreate(ctx, orgID, in)
	require.NoError(s.t, err)
	_, token, err := s.Store.SessionCreate(ctx, orgID, u.ID, web.SessionTTL)
	require.NoError(s.t, err)
	return u, token
}

// tab opens a tab at vp signed in with the session token ("" for no one).
func (s *site) tab(token string, vp viewport) *tab {
	s.t.Helper()
	tb := newTab(s.t, s.URL, vp)
	if token != "" {
		tb.setCookie(web.SessionCookie, token)
	}
	return tb
}

// signedIn makes a user of the site's org with role (Dana Lee,
// dana@seller.test) and opens a desktop tab signed in as them.
func (s *site) signedIn(role crm.Role) (*tab, crm.User) {
	s.t.Helper()
	u, token := s.user(s.OrgID, "dana@seller.test", "Dana Lee", role)
	return s.tab(token, desktop), u
}

// otherOrg makes a second org with an account, for the tenancy checks:
// its account's id must be a 404 page to the site's users.
func (s *site) otherOrg() (orgID string, account crm.Account) {
	s.t.Helper()
	ctx := context.Background()
	org, err := s.Store.OrgCreate(ctx, "Other "+s.t.Name())
	require.NoError(s.t, err)
	in := crm.AccountInput{Name: crm.Some("Hidden Co"), Domains: crm.Some([]string{"hidden.test"})}
	require.NoError(s.t, in.Validate(true))
	account, err = s.Store.AccountCreate(ctx, org.ID, in)
	require.NoError(s.t, err)
	return org.ID, account
}
