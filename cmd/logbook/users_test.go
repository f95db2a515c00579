package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/api"
	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/web"
)

// browser is a tiny cookie-keeping client of a handler.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

func (b *browser) do(method, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return rec.Code, rec.Header(), rec.Body.String()
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// acceptInvite opens an invite link in a fresh browser, sets a password
// and returns the browser, signed in.
func acceptInvite(t *testing.T, h http.Handler, link, password string) *browser {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	b := &browser{t: t, h: h, cookies: map[string]string{}}
	code, _, page := b.do("GET", u.Path, nil)
	require.Equal(t, http.StatusOK, code, page)
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, page)
	code, hd, page := b.do("POST", u.Path, url.Values{"csrf": {m[1]}, "password": {password}, "password_again": {password}})
	require.Equal(t, http.StatusSeeOther, code, page)
	require.Equal(t, "/", hd.Get("Location"))
	require.NotEmpty(t, b.cookies[web.SessionCookie])
	code, _, page = b.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, code, page)
	return b
}

// TestUsersInvite: `logbook users invite` creates the user when missing
// and prints a link that sets the password and signs in through the web
// UI; run again it makes a new link for the same user (the old one stops
// working); the API's invite route does the same; and the password then
// signs in on /login.
func TestUsersInvite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, dbURL, store.PoolConfig{})
	require.NoError(t, err)
	defer pool.Close()
	st := store.New(pool)
	orgID, key, err := app.CreateOrg(ctx, st, "Invite Co")
	require.NoError(t, err)
	webH, err := web.NewHandler(web.Deps{Store: st, Passwords: web.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	require.NoError(t, err)

	env := envOf(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "0.0.0.0:8099"})
	var out, errb bytes.Buffer
	err = run(ctx, []string{"users", "invite", "-org", orgID, "-email", "Maya@Northwind.test"}, &out, &errb, env)
	var ue usageError
	require.ErrorAs(t, err, &ue, "a new user needs a name")
	require.Contains(t, err.Error(), "-name")

	require.NoError(t, run(ctx, []string{"users", "invite", "-org", orgID, "-email", "Maya@Northwind.test", "-name", "Maya Patel", "-role", "admin"},
		&out, &errb, env), errb.String())
	first := strings.TrimSpace(out.String())
	require.Regexp(t, `^http://localhost:8099/invite/[A-Za-z0-9_-]{43}$`, first)
	require.Contains(t, errb.String(), "created user maya@northwind.test")
	u, err := st.UserGetByEmail(ctx, orgID, "maya@northwind.test")
	require.NoError(t, err)
	require.Equal(t, crm.RoleAdmin, u.Role)

	out.Reset()
	errb.Reset()
	require.NoError(t, run(ctx, []string{"users", "invite", "-org", orgID, "-email", "maya@northwind.test", "-url", "https://logbook.example.com/"},
		&out, &errb, env), errb.String())
	second := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(second, "https://logbook.example.com/invite/"), second)
	require.Contains(t, errb.String(), "already a user")
	fu, _ := url.Parse(first)
	b := &browser{t: t, h: webH, cookies: map[string]string{}}
	code, _, _ := b.do("GET", fu.Path, nil)
	require.Equal(t, http.StatusNotFound, code, "the newer link retired the first")

	acceptInvite(t, webH, second, "maya's own password")

	// The API's route, for a user made through the API.
	apiH, err := api.NewHandler(api.Deps{Store: st})
	require.NoError(t, err)
	call := func(method, path, body string) map[string]any {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		apiH.ServeHTTP(rec, req)
		require.Less(t, rec.Code, 300, rec.Body.String())
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		return m
	}
	sam := call("POST", "/v1/users", `{"email":"sam@northwind.test","name":"Sam Roe","role":"rep"}`)
	link := call("POST", "/v1/users/"+sam["id"].(string)+"/invite", `{}`)["url"].(string)
	acceptInvite(t, webH, link, "sam's password here")

	// The password signs in.
	lb := &browser{t: t, h: webH, cookies: map[string]string{}}
	_, _, page := lb.do("GET", "/login", nil)
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m)
	code, hd, page := lb.do("POST", "/login", url.Values{"csrf": {m[1]}, "email": {"sam@northwind.test"}, "password": {"sam's password here"}})
	require.Equal(t, http.StatusSeeOther, code, page)
	require.Equal(t, "/", hd.Get("Location"))
	_, _, page = lb.do("GET", "/", nil)
	require.Contains(t, page, "Sam Roe")
}

// TestUsersInviteUsage: -h prints the flags and runs nothing; wrong flags
// are usage errors before anything is opened.
func TestUsersInviteUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errb strings.Builder
	require.NoError(t, run(ctx, []string{"users", "invite", "-h"}, &out, &errb, envOf(nil)))
	require.Contains(t, errb.String(), "Usage: logbook users invite")
	require.Contains(t, errb.String(), "-email")
	require.NoError(t, run(ctx, []string{"users", "-h"}, &out, &errb, envOf(nil)))
	for _, args := range [][]string{{"users"}, {"users", "frob"}, {"users", "invite"}, {"users", "invite", "-org", "nope", "-email", "a@b.test"},
		{"users", "invite", "-org", "0190a0e0-0000-7000-8000-000000000000", "-email", "not an email"},
		{"users", "invite", "-org", "0190a0e0-0000-7000-8000-000000000000", "-email", "a@b.test", "-role", "king"},
		{"users", "invite", "-org", "0190a0e0-0000-7000-8000-000000000000", "-email", "a@b.test", "-url", "ftp://x"}} {
		var ue usageError
		require.ErrorAs(t, run(ctx, args, &out, &errb, envOf(nil)), &ue, "%v", args)
	}
	require.Empty(t, out.String())
}
