package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
	"logbook/internal/store"
	"logbook/internal/testredis"
)

// cheap are argon2id costs that keep tests fast; production uses
// DefaultPasswordParams.
var cheap = PasswordParams{Memory: 64, Time: 1, Threads: 1}

// authBundle is setup's bundle with a handler that rate-limits sign-in on
// the real Redis (with a private key prefix) and hashes cheaply.
func authSetup(t *testing.T, role crm.Role, limits LoginLimits) *testBundle {
	t.Helper()
	b := setup(t, role)
	lim := ratelimit.New(testredis.Client(t), ratelimit.Config{Prefix: testredis.Name(t) + ":"})
	h, err := NewHandler(Deps{Store: b.store, Passwords: cheap, LoginLimiter: lim, LoginLimits: limits})
	require.NoError(t, err)
	b.handler = h
	return b
}

// setPassword gives a user of the org a password.
func (b *testBundle) setPassword(orgID, userID, pw string) {
	b.t.Helper()
	phc, err := hashPassword(pw, cheap)
	require.NoError(b.t, err)
	require.NoError(b.t, b.store.UserPasswordSet(context.Background(), orgID, userID, phc))
}

// anonCSRF is the pre-session token the anonymous requests below carry in
// their cookie and their forms.
const anonCSRF = "0123456789abcdef0123456789abcdef-anon"

// postAnon posts a form without a session (token "") or with the given
// session cookie, carrying the pre-session CSRF cookie and field; headers
// are set on the request.
func (b *testBundle) postAnon(token, path string, form url.Values, headers ...string) answer {
	b.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", anonCSRF)
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: anonCSRF})
	if token != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.serve(req)
}

func (b *testBundle) login(email, pw string, headers ...string) answer {
	return b.postAnon("", "/login", url.Values{"email": {email}, "password": {pw}}, headers...)
}

// sessionCookie is the session cookie an answer sets, or nil.
func sessionCookie(a answer) *http.Cookie {
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

const pw = "correct horse battery"

// TestSignIn: the right password signs in (a new session, the cookie's
// attributes), a wrong password and an unknown email get the same answer,
// a password too long is refused, and the sign-in page carries its own
// CSRF token.
func TestSignIn(t *testing.T) {
	t.Parallel()
	b := authSetup(t, "", LoginLimits{})
	b.setPassword(b.orgID, b.user.ID, pw)

	page := b.getAs("", "/login?next=/accounts")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `name="email"`)
	require.Contains(t, page.Body, `name="password"`)
	require.Contains(t, page.Body, ">Sign in</button>")
	require.Contains(t, page.Body, `name="next" value="/accounts"`)
	c := (&http.Response{Header: page.Header}).Cookies()
	require.Len(t, c, 1)
	require.Equal(t, preCSRFCookie, c[0].Name)
	require.Contains(t, page.Body, `name="csrf" value="`+c[0].Value+`"`)

	res := b.login("Dana@Seller.test", pw)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "/", res.Header.Get("Location"))
	sc := sessionCookie(res)
	require.NotNil(t, sc)
	require.True(t, sc.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, sc.SameSite)
	require.False(t, sc.Secure, "plain HTTP: a Secure cookie would never come back")
	require.Equal(t, "/", sc.Path)
	require.NotEqual(t, b.token, sc.Value)
	home := b.getAs(sc.Value, "/")
	require.Equal(t, http.StatusOK, home.Status)
	require.Contains(t, home.Body, "Dana Lee")
	require.Contains(t, home.Body, "Org TestSignIn", "the header names the org")

	res = b.login("dana@seller.test", pw, "X-Forwarded-Proto", "https")
	require.True(t, sessionCookie(res).Secure, "behind TLS the cookie is Secure")

	wrong := b.login("dana@seller.test", "not the password")
	unknown := b.login("nobody@seller.test", pw)
	for _, a := range []answer{wrong, unknown} {
		require.Equal(t, http.StatusUnauthorized, a.Status)
		require.Contains(t, a.Body, wrongCredentials)
		require.Nil(t, sessionCookie(a))
	}
	require.Equal(t, strings.Replace(wrong.Body, "dana@seller.test", "X", 1), strings.Replace(unknown.Body, "nobody@seller.test", "X", 1),
		"a wrong password and an unknown email are the same page")

	long := b.login("dana@seller.test", strings.Repeat("a", MaxPasswordBytes+1))
	require.Equal(t, http.StatusUnauthorized, long.Status)

	// A user without a password cannot sign in (not even with an empty one).
	_, _, _ = b.signIn(b.orgID, "new@seller.test", "New Person", crm.RoleRep)
	require.Equal(t, http.StatusUnauthorized, b.login("new@seller.test", "").Status)

	// Without the pre-session token the form is refused.
	res = b.postAnon("", "/login", url.Values{"email": {"dana@seller.test"}, "password": {pw}, "csrf": {"other"}})
	require.Equal(t, http.StatusForbidden, res.Status)
}

// TestSignInWorkDoesNotTell: whatever the email (a user with a
// password, a user without one, no user at all, a hash that does not
// parse), a sign-in with a wrong password verifies the same number of
// hashes with the same argon2id costs, so its time does not tell which
// emails have accounts. Counted, not timed: a timing ratio flakes on a
// loaded machine.
func TestSignInWorkDoesNotTell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "")
	phc, err := hashPassword(pw, DefaultPasswordParams())
	require.NoError(t, err)
	require.NoError(t, b.store.UserPasswordSet(ctx, b.orgID, b.user.ID, phc))
	nopw, _, _ := b.signIn(b.orgID, "wei@seller.test", "Wei Chen", crm.RoleRep)
	broken, _, _ := b.signIn(b.orgID, "kim@seller.test", "Kim Ode", crm.RoleRep)
	require.NoError(t, b.store.UserPasswordSet(ctx, b.orgID, broken.ID, "$argon2id$v=19$not-a-hash"))
	_ = nopw

	var seen []PasswordParams
	h := &handler{Deps: Deps{Store: b.store, Passwords: DefaultPasswordParams()}, log: slog.New(slog.DiscardHandler)}
	h.verify = func(pw, phc string) (bool, error) {
		p, _, _, err := parseHash(phc)
		if err == nil {
			seen = append(seen, p)
		}
		return verifyPassword(pw, phc)
	}
	for _, email := range []string{"dana@seller.test", "wei@seller.test", "kim@seller.test", "nobody@seller.test", "not an email"} {
		seen = nil
		u, err := h.checkCredentials(ctx, email, "wrong password!")
		require.NoError(t, err)
		require.Nil(t, u, email)
		require.Equal(t, []PasswordParams{DefaultPasswordParams()}, seen, "%s: one argon2id verification at the default costs", email)
	}
	// The right password signs in, with the same work.
	seen = nil
	u, err := h.checkCredentials(ctx, "dana@seller.test", pw)
	require.NoError(t, err)
	require.NotNil(t, u)
	require.Equal(t, []PasswordParams{DefaultPasswordParams()}, seen)
}

// TestSafeNext: next= is honoured only for this site's paths.
func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/accounts?q=a": "/accounts?q=a", "/accounts/1#brief": "/accounts/1#brief", "": "/", "/": "/",
		"//evil.example": "/", "https://evil.example/": "/", "/\\evil.example": "/", "\\\\evil": "/",
		"javascript:alert(1)": "/", "evil.example": "/", "/%0d%0aSet-Cookie:x": "/%0d%0aSet-Cookie:x",
		"/\r\nLocation: x": "/", "///evil": "/", "/\tevil": "/", "http:/evil": "/",
	} {
		require.Equal(t, want, safeNext(in), "next=%q", in)
	}

	b := authSetup(t, "", LoginLimits{})
	b.setPassword(b.orgID, b.user.ID, pw)
	for next, want := range map[string]string{"/accounts?q=acme": "/accounts?q=acme", "//evil.example/x": "/", "https://evil.example": "/"} {
		res := b.postAnon("", "/login", url.Values{"email": {"dana@seller.test"}, "password": {pw}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Equal(t, want, res.Header.Get("Location"), "next=%q", next)
	}
	// The page refuses it too.
	page := b.getAs("", "/login?next="+url.QueryEscape("//evil.example"))
	require.Contains(t, page.Body, `name="next" value="/"`)
}

// TestSignInSeveralOrgs: one email, a user in two orgs: each password signs
// in to its own org; when both match, the older org, named in the header.
func TestSignInSeveralOrgs(t *testing.T) {
	t.Parallel()
	b := authSetup(t, "", LoginLimits{})
	ctx := context.Background()
	b.setPassword(b.orgID, b.user.ID, pw)
	other, err := b.store.OrgCreate(ctx, "Second Org")
	require.NoError(t, err)
	u2, _, _ := b.signIn(other.ID, "dana@seller.test", "Dana Lee", crm.RoleAdmin)
	b.setPassword(other.ID, u2.ID, "another password 2")

	orgOf := func(res answer) string {
		require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
		ws, err := b.store.SessionLookup(ctx, sessionCookie(res).Value)
		require.NoError(t, err)
		return ws.OrgID
	}
	require.Equal(t, b.orgID, orgOf(b.login("dana@seller.test", pw)))
	require.Equal(t, other.ID, orgOf(b.login("dana@seller.test", "another password 2")))

	b.setPassword(other.ID, u2.ID, pw)
	res := b.login("dana@seller.test", pw)
	require.Equal(t, b.orgID, orgOf(res), "both match: the first org by creation")
	require.Contains(t, b.getAs(sessionCookie(res).Value, "/").Body, `<span class="org">Org TestSignInSeveralOrgs</span>`)
}

// TestSessionRotation: signing in ends the browser's old session and
// starts one with a new token.
func TestSessionRotation(t *testing.T) {
	t.Parallel()
	b := authSetup(t, "", LoginLimits{})
	b.setPassword(b.orgID, b.user.ID, pw)
	res := b.postAnon(b.token, "/login", url.Values{"email": {"dana@seller.test"}, "password": {pw}, "csrf": {b.csrf}})
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	fresh := sessionCookie(res).Value
	require.NotEqual(t, b.token, fresh)
	_, err := b.store.SessionLookup(context.Background(), b.token)
	require.ErrorIs(t, err, crm.ErrNotFound, "the old token is dead")
	require.Equal(t, http.StatusOK, b.getAs(fresh, "/").Status)

	// A token planted in the browser before sign-in (session fixation) is
	// replaced too.
	planted := "planted-token-of-an-attacker"
	res = b.postAnon(planted, "/login", url.Values{"email": {"dana@seller.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.NotEqual(t, planted, sessionCookie(res).Value)
}

// TestSignInRateLimit: the email's bucket refuses the attempt after
// PerEmail (429 with Retry-After, even with the right password), another
// email from the same address goes on until PerIP, and another address is
// not limited by either.
func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	b := authSetup(t, "", LoginLimits{PerEmail: 3, PerIP: 5, Period: time.Hour})
	b.setPassword(b.orgID, b.user.ID, pw)
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, b.login("dana@seller.test", "wrong password").Status, "attempt %d", i+1)
	}
	res := b.login("dana@seller.test", pw)
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.Contains(t, res.Body, "Too many sign-in attempts")
	retry := res.Header.Get("Retry-After")
	require.Regexp(t, `^[0-9]+$`, retry)
	require.NotEqual(t, "0", retry)
	require.Nil(t, sessionCookie(res))

	// The same address, other emails: 2 more attempts, then the address's bucket.
	require.Equal(t, http.StatusUnauthorized, b.login("a@seller.test", "whatever pw").Status)
	require.Equal(t, http.StatusUnauthorized, b.login("b@seller.test", "whatever pw").Status)
	require.Equal(t, http.StatusTooManyRequests, b.login("c@seller.test", "whatever pw").Status)

	// Another address, another email: allowed.
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {"e@seller.test"}, "password": {"x"}, "csrf": {anonCSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: anonCSRF})
	req.RemoteAddr = "198.51.100.7:4000"
	require.Equal(t, http.StatusUnauthorized, b.serve(req).Status)
}

// TestSignOut: sign-out ends this session and clears the cookie; sign out
// everywhere ends all of the user's sessions and no one else's.
func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	_, second, err := b.store.SessionCreate(ctx, b.orgID, b.user.ID, SessionTTL)
	require.NoError(t, err)
	_, otherUser, _ := b.signIn(b.orgID, "sam@seller.test", "Sam Roe", crm.RoleRep)

	res := b.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "/login", res.Header.Get("Location"))
	c := sessionCookie(res)
	require.NotNil(t, c)
	require.Empty(t, c.Value)
	require.Negative(t, c.MaxAge)
	require.Equal(t, http.StatusSeeOther, b.get("/").Status, "this session ended")
	require.Equal(t, http.StatusOK, b.getAs(second, "/").Status, "the other session of the user stays")

	_, third, err := b.store.SessionCreate(ctx, b.orgID, b.user.ID, SessionTTL)
	require.NoError(t, err)
	ws, err := b.store.SessionLookup(ctx, second)
	require.NoError(t, err)
	b.token, b.csrf = second, ws.CSRF
	res = b.post("/logout/everywhere", nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Negative(t, sessionCookie(res).MaxAge)
	for _, tok := range []string{second, third} {
		require.Equal(t, http.StatusSeeOther, b.getAs(tok, "/").Status)
	}
	require.Equal(t, http.StatusOK, b.getAs(otherUser, "/").Status, "another user's session stays")
}

var inviteURL = regexp.MustCompile(`value="(https?://[^"]+/invite/([A-Za-z0-9_-]+))"`)

// TestInviteFlow: an admin invites a new person on /admin/users and sees
// the link once; the link sets a password (twice, equal, long enough),
// signs in, and works once; the password then signs in; an expired link
// and an unknown one have their own pages; a new link retires the old.
func TestInviteFlow(t *testing.T) {
	t.Parallel()
	b := authSetup(t, crm.RoleAdmin, LoginLimits{})
	ctx := context.Background()

	res := b.post("/admin/users/invite", url.Values{"email": {"Wei@Seller.test"}, "name": {"Wei Chen"}, "role": {"manager"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	m := inviteURL.FindStringSubmatch(res.Body)
	require.NotNil(t, m, res.Body)
	require.True(t, strings.HasPrefix(m[1], "http://example.com/invite/"), m[1])
	token := m[2]
	u, err := b.store.UserGetByEmail(ctx, b.orgID, "wei@seller.test")
	require.NoError(t, err)
	require.Equal(t, crm.RoleManager, u.Role)
	require.NotContains(t, b.get("/admin/users").Body, token, "the link is shown once")

	page := b.getAs("", "/invite/"+token)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, "Wei Chen")
	require.Contains(t, page.Body, `name="password_again"`)

	accept := func(p1, p2 string) answer {
		return b.postAnon("", "/invite/"+token, url.Values{"password": {p1}, "password_again": {p2}})
	}
	res = accept("short", "short")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "at least 10 characters")
	res = accept("a long password 1", "a long password 2")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "differ")
	res = accept(strings.Repeat("é", 600), strings.Repeat("é", 600))
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "over 1024 bytes")

	res = accept("a long password 1", "a long password 1")
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	sc := sessionCookie(res)
	require.NotNil(t, sc)
	home := b.getAs(sc.Value, "/")
	require.Equal(t, http.StatusOK, home.Status)
	require.Contains(t, home.Body, "Wei Chen")

	res = accept("a long password 1", "a long password 1")
	require.Equal(t, http.StatusGone, res.Status, "a link works once")
	require.Contains(t, res.Body, "used already")
	require.Equal(t, http.StatusGone, b.getAs("", "/invite/"+token).Status)

	require.Equal(t, http.StatusSeeOther, b.login("wei@seller.test", "a long password 1").Status)

	require.Equal(t, http.StatusNotFound, b.getAs("", "/invite/no-such-token").Status)

	// A reset link replaces the older one; an expired link is 410.
	_, old, err := b.store.InviteCreate(ctx, b.orgID, u.ID, 0)
	require.NoError(t, err)
	res = b.post("/admin/users/"+u.ID+"/reset", nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	fresh := inviteURL.FindStringSubmatch(res.Body)[2]
	require.Equal(t, http.StatusNotFound, b.getAs("", "/invite/"+old).Status, "a new link retires the old")
	require.Equal(t, http.StatusOK, b.getAs("", "/invite/"+fresh).Status)
	b.store.SetClock(func() time.Time { return time.Now().Add(store.InviteTTL + time.Minute) })
	res = b.getAs("", "/invite/"+fresh)
	require.Equal(t, http.StatusGone, res.Status)
	require.Contains(t, res.Body, "expired")
	b.store.SetClock(time.Now)
	// Using the reset link ends the sessions the old password opened.
	res = b.postAnon("", "/invite/"+fresh, url.Values{"password": {"a newer password"}, "password_again": {"a newer password"}})
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, http.StatusSeeOther, b.getAs(sc.Value, "/").Status, "the earlier session ended")
}

// TestAdminPages: only an admin sees them (403 page otherwise); another
// org's user is a 404; roles change; an admin signs a user out
// everywhere; settings save through the API's validation with field
// errors on the form.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	rep := setup(t, crm.RoleManager)
	for _, p := range []string{"/admin/users", "/admin/settings"} {
		res := rep.get(p)
		require.Equal(t, http.StatusForbidden, res.Status, p)
		require.Contains(t, res.Body, "Only an admin")
	}
	require.Equal(t, http.StatusForbidden, rep.post("/admin/settings", url.Values{"stalled_after_days": {"3"}}).Status)
	require.Equal(t, http.StatusForbidden, rep.post("/admin/users/invite", url.Values{"email": {"x@y.test"}, "name": {"X"}}).Status)
	require.NotContains(t, rep.get("/").Body, `href="/admin/users"`)

	b := setup(t, crm.RoleAdmin)
	ctx := context.Background()
	require.Contains(t, b.get("/").Body, `href="/admin/users"`)
	sam, samTok, _ := b.signIn(b.orgID, "sam@seller.test", "Sam <b>Roe</b>", crm.RoleRep)
	res := b.get("/admin/users")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "Sam &lt;b&gt;Roe&lt;/b&gt;")
	require.Contains(t, res.Body, "(you)")

	res = b.post("/admin/users/"+sam.ID+"/role", url.Values{"role": {"csm"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	u, err := b.store.UserGet(ctx, b.orgID, sam.ID)
	require.NoError(t, err)
	require.Equal(t, crm.RoleCSM, u.Role)
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/admin/users/"+sam.ID+"/role", url.Values{"role": {"king"}}).Status)
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/admin/users/"+b.user.ID+"/role", url.Values{"role": {"rep"}}).Status)

	res = b.post("/admin/users/invite", url.Values{"email": {"not an email"}, "name": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, `id="inv-email-err"`)
	require.Contains(t, res.Body, `id="inv-name-err"`)
	require.Contains(t, res.Body, `value="not an email"`)

	require.Equal(t, http.StatusOK, b.getAs(samTok, "/").Status)
	res = b.post("/admin/users/"+sam.ID+"/logout", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "signed out of 1 session")
	require.Equal(t, http.StatusSeeOther, b.getAs(samTok, "/").Status)

	// Another org's user is not found.
	other, err := b.store.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	theirs, err := b.store.UserCreate(ctx, other.ID, crm.UserInput{Email: crm.Some("o@other.test"), Name: crm.Some("O"), Role: crm.Some(crm.RoleRep)})
	require.NoError(t, err)
	for _, p := range []string{"/role", "/reset", "/logout"} {
		res := b.post("/admin/users/"+theirs.ID+p, url.Values{"role": {"admin"}})
		require.Equal(t, http.StatusNotFound, res.Status, p)
	}
	require.Equal(t, http.StatusNotFound, b.post("/admin/users/not-an-id/reset", nil).Status)
	u, err = b.store.UserGet(ctx, other.ID, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, crm.RoleRep, u.Role)

	// Settings.
	res = b.get("/admin/settings")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	s, err := b.store.SettingsGet(ctx, b.orgID)
	require.NoError(t, err)
	form := url.Values{"stalled_after_days": {"21"}, "require_disposition": {"1"}, "rows": {"0"}}
	for i, c := range s.Dispositions {
		k := strconv.Itoa(i)
		form.Set("code_"+k, c)
		form.Set("label_"+k, "Label "+c)
		if i == 0 {
			form.Set("connect_"+k, "1")
		}
		if i == 1 {
			form.Set("retire_"+k, "1")
		}
	}
	form.Set("rows", strconv.Itoa(len(s.Dispositions)))
	form.Set("code_new", "left_message")
	form.Set("label_new", "Left a message")
	res = b.post("/admin/settings", form)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "Settings saved")
	got, err := b.store.SettingsGet(ctx, b.orgID)
	require.NoError(t, err)
	require.Equal(t, 21, got.StalledAfterDays)
	require.True(t, got.RequireDisposition)
	want := slices.Clone(s.Dispositions)
	want = append(slices.Delete(want, 1, 2), "left_message")
	require.Equal(t, want, got.Dispositions)
	require.Equal(t, "Label "+s.Dispositions[0], got.DispositionCodes[0].Label)
	require.True(t, got.DispositionCodes[0].Connect)

	bad := url.Values{"stalled_after_days": {"0"}, "rows": {"1"}, "code_0": {got.Dispositions[0]}, "label_0": {" "}, "code_new": {"Bad Code"}}
	res = b.post("/admin/settings", bad)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, "Nothing was saved")
	require.Contains(t, res.Body, "Days must be between 1 and 365")
	require.Contains(t, res.Body, "Label must be 1 to 100 characters")
	require.Contains(t, res.Body, `id="code-new-err"`)
	require.Contains(t, res.Body, `value="Bad Code"`)
	again, err := b.store.SettingsGet(ctx, b.orgID)
	require.NoError(t, err)
	require.Equal(t, 21, again.StalledAfterDays, "nothing was saved")
}

// TestEveryPostNeedsCSRF posts to every POST route of the route table
// without a CSRF token, signed in as an admin and signed out: each is
// refused with 403 and changes nothing.
func TestEveryPostNeedsCSRF(t *testing.T) {
	t.Parallel()
	b := authSetup(t, crm.RoleAdmin, LoginLimits{})
	ctx := context.Background()
	b.setPassword(b.orgID, b.user.ID, pw)
	sam, _, _ := b.signIn(b.orgID, "sam@seller.test", "Sam Roe", crm.RoleRep)
	_, token, err := b.store.InviteCreate(ctx, b.orgID, sam.ID, 0)
	require.NoError(t, err)
	fill := strings.NewReplacer("{id}", sam.ID, "{token}", token)
	n := 0
	for _, rt := range routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		n++
		path := fill.Replace(rt.Path)
		form := url.Values{"email": {"dana@seller.test"}, "password": {pw}, "password_again": {pw}, "role": {"admin"},
			"name": {"X"}, "stalled_after_days": {"9"}}
		// Signed in, no token; then a wrong one.
		for _, tok := range []string{"", "wrong"} {
			req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()+"&csrf="+tok))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: b.token})
			res := b.serve(req)
			require.Equal(t, http.StatusForbidden, res.Status, "signed in: POST %s with csrf %q", rt.Path, tok)
		}
		// Signed out, with the pre-session cookie but not its token.
		if rt.Access == public {
			req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: anonCSRF})
			res := b.serve(req)
			require.Equal(t, http.StatusForbidden, res.Status, "signed out: POST %s", rt.Path)
		}
	}
	require.GreaterOrEqual(t, n, 9)
	// Nothing changed.
	u, err := b.store.UserGet(ctx, b.orgID, sam.ID)
	require.NoError(t, err)
	require.Equal(t, crm.RoleRep, u.Role)
	inv, err := b.store.InviteLookup(ctx, token)
	require.NoError(t, err)
	require.Nil(t, inv.UsedAt)
	s, err := b.store.SettingsGet(ctx, b.orgID)
	require.NoError(t, err)
	require.NotEqual(t, 9, s.StalledAfterDays)
	require.Equal(t, http.StatusOK, b.get("/").Status, "the session is still there")
}
