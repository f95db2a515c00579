package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
	"logbook/internal/store"
)

// Signing in (issue #13): people sign in with their email and password.
//
//   - A wrong email and a wrong password get the same message, and take the
//     same time: when no user has the email, a dummy hash is verified.
//   - An email may be a user of several orgs: every candidate's hash is
//     verified (at most store.MaxSignInCandidates) and the first org, by
//     creation, whose password matches is signed in; the header names the
//     org.
//   - Each sign-in starts a new session (a new token; the browser's old
//     session, if any, ends): a token planted before sign-in is worthless.
//   - Sign-in is rate-limited per email and per client address in Redis
//     (LoginLimiter); over the limit is a 429 page with Retry-After. A
//     Redis failure lets the sign-in through (logged): argon2id still makes
//     each guess cost, and Redis down must not lock everyone out.
//   - The forms that work without a session (sign-in, invite) carry a CSRF
//     token of their own: a random value in a cookie (preCSRFCookie) that
//     the form posts back (double submit), so another site cannot sign a
//     browser in to its own account.

// LoginLimiter takes one request from several buckets of a partition at
// once (*ratelimit.Limiter).
type LoginLimiter interface {
	Allow(ctx context.Context, partition string, buckets ...ratelimit.Bucket) (ratelimit.Decision, error)
}

// LoginLimits are the sign-in quotas: attempts per Period for one email
// and for one client address. Zero fields have the defaults.
type LoginLimits struct {
	// PerEmail is the attempts an email gets per Period (default 10).
	PerEmail int
	// PerIP is the attempts a client address gets per Period (default 50:
	// an office behind one address has several people).
	PerIP int
	// Period is the window (default 15 minutes).
	Period time.Duration
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.PerEmail <= 0 {
		l.PerEmail = 10
	}
	if l.PerIP <= 0 {
		l.PerIP = 50
	}
	if l.Period <= 0 {
		l.Period = 15 * time.Minute
	}
	return l
}

// preCSRFCookie carries the CSRF token of the forms posted without a
// session (sign-in, invite).
const preCSRFCookie = "logbook_csrf"

// wrongCredentials is the one message for a wrong email or password.
const wrongCredentials = "That email and password do not match. Check them and try again."

func (h *handler) initAuth() error {
	if h.Passwords == (PasswordParams{}) {
		h.Passwords = DefaultPasswordParams()
	}
	h.LoginLimits = h.LoginLimits.withDefaults()
	h.PublicURL = strings.TrimRight(h.PublicURL, "/")
	return nil
}

// dummy is the dummy hash (dummyHash), made once.
func (h *handler) dummy() string {
	h.dummyOnce.Do(func() {
		pw := make([]byte, 24)
		_, _ = rand.Read(pw) // crypto/rand.Read never fails (Go 1.24+)
		// hashPassword fails only when rand.Read does.
		h.dummyHash, _ = hashPassword(base64.RawURLEncoding.EncodeToString(pw), h.Passwords)
	})
	return h.dummyHash
}

// preCSRF returns the browser's pre-session CSRF token, setting the
// cookie when it has none.
func (h *handler) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/", MaxAge: 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	return tok
}

// formCSRF is the token a form of a page that may be seen without a
// session posts back: the session's, or the pre-session one.
func (h *handler) formCSRF(w http.ResponseWriter, r *http.Request, v *viewer) string {
	if v != nil {
		return v.CSRF
	}
	return h.preCSRF(w, r)
}

// preCSRFOK checks a form posted without a session: its csrf field must
// equal the pre-session cookie. (With a session, wrap has checked the
// session's token already.)
func preCSRFOK(r *http.Request, v *viewer) bool {
	if v != nil {
		return true
	}
	c, err := r.Cookie(preCSRFCookie)
	got := r.PostFormValue("csrf")
	return err == nil && c.Value != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

func errFormExpired() error {
	return errStatus(http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
}

// safeNext is where to go after sign-in: next when it is a path of this
// site ("/accounts?q=a"), "/" otherwise. "//evil.example", "/\evil",
// "https://…" and anything with a scheme or host are refused: an open
// redirect would lend Logbook's name to a phishing page.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// loginView is the sign-in page's data.
type loginView struct {
	CSRF  string
	Email string
	Next  string
	Error string
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	next := safeNext(r.URL.Query().Get("next"))
	if v != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return h.render(w, r, v, http.StatusOK, "login.html", "", loginView{CSRF: h.preCSRF(w, r), Next: next})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request, v *viewer) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	if !preCSRFOK(r, v) {
		return errFormExpired()
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	view := loginView{CSRF: h.formCSRF(w, r, v), Email: email, Next: safeNext(r.PostFormValue("next"))}
	if ok, retry := h.loginAllowed(r, email); !ok {
		w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
		view.Error = "Too many sign-in attempts. Wait " + strconv.FormatInt(retry, 10) + " seconds and try again."
		return h.render(w, r, v, http.StatusTooManyRequests, "login.html", "", view)
	}
	cand, err := h.checkCredentials(r.Context(), email, password)
	if err != nil {
		return err
	}
	if cand == nil {
		view.Error = wrongCredentials
		return h.render(w, r, v, http.StatusUnauthorized, "login.html", "", view)
	}
	if err := h.startSession(w, r, v, cand.OrgID, cand.UserID); err != nil {
		return err
	}
	http.Redirect(w, r, view.Next, http.StatusSeeOther)
	return nil
}

// checkCredentials returns the user an email and password sign in, or nil.
// It verifies every candidate's hash (or the dummy hash, for a user with
// no password or no user at all), so its time does not tell which.
func (h *handler) checkCredentials(ctx context.Context, email, password string) (*store.SignInCandidate, error) {
	if len(password) > MaxPasswordBytes {
		// Refused before any hashing; the message is the same.
		return nil, nil
	}
	var cands []store.SignInCandidate
	if e := crm.NormalizeEmail(email); e != "" && len(e) <= 320 {
		var err error
		if cands, err = h.Store.SignInCandidates(ctx, e); err != nil {
			return nil, err
		}
	}
	verify := h.verify
	if verify == nil {
		verify = verifyPassword
	}
	if len(cands) == 0 {
		_, _ = verify(password, h.dummy())
		return nil, nil
	}
	var match *store.SignInCandidate
	for i := range cands {
		c := &cands[i]
		phc := c.PasswordHash
		if phc == "" {
			phc = h.dummy()
		}
		ok, err := verify(password, phc)
		if err != nil {
			h.log.ErrorContext(ctx, "a stored password hash does not parse", "org_id", c.OrgID, "user_id", c.UserID, "error", err)
			_, _ = verify(password, h.dummy())
			continue
		}
		if ok && c.PasswordHash != "" && match == nil {
			match = c
		}
	}
	return match, nil
}

// startSession signs a user in: the browser's current session, if any,
// ends, and a new one (a new token) is set in the cookie.
func (h *handler) startSession(w http.ResponseWriter, r *http.Request, v *viewer, orgID, userID string) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := h.Store.SessionEnd(r.Context(), c.Value); err != nil {
			return err
		}
	}
	ws, token, err := h.Store.SessionCreate(r.Context(), orgID, userID, SessionTTL)
	if err != nil {
		return err
	}
	h.setSessionCookie(w, r, token, ws.ExpiresAt)
	return nil
}

// loginAllowed takes one attempt from the email's and the client
// address's buckets; when refused it says how many seconds to wait.
func (h *handler) loginAllowed(r *http.Request, email string) (bool, int64) {
	if h.LoginLimiter == nil {
		return true, 0
	}
	l := h.LoginLimits
	sum := sha256.Sum256([]byte(crm.NormalizeEmail(email)))
	buckets := []ratelimit.Bucket{
		{Name: "login:email:" + hex.EncodeToString(sum[:12]), Limit: l.PerEmail, Period: l.Period},
		{Name: "login:ip:" + clientIP(r), Limit: l.PerIP, Period: l.Period},
	}
	d, err := h.LoginLimiter.Allow(r.Context(), "web-login", buckets...)
	if err != nil {
		if r.Context().Err() == nil {
			h.log.ErrorContext(r.Context(), "sign-in rate limit check failed; allowing the attempt", slog.Any("error", err))
		}
		return true, 0
	}
	if d.Allowed {
		return true, 0
	}
	return false, max(ratelimit.Seconds(d.RetryAfter), 1)
}

// clientIP is the address the request came from: the connection's peer.
// X-Forwarded-For is not read: anyone can send it, and a limit keyed on
// it would be no limit. Behind a proxy every client shares the proxy's
// address, which the per-email bucket and the generous per-address one
// allow for.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := h.Store.SessionEnd(r.Context(), v.Token); err != nil {
		return err
	}
	h.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (h *handler) logoutEverywhere(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if _, err := h.Store.SessionEndAll(r.Context(), v.OrgID, v.UserID); err != nil {
		return err
	}
	h.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// inviteView is the invite page's data.
type inviteView struct {
	CSRF   string
	Token  string
	Invite store.Invite
	Error  string
}

// usableInvite finds the invite of the path's token: unknown is 404, used
// or expired 410, each with a page that says what to do.
func (h *handler) usableInvite(r *http.Request) (store.Invite, error) {
	token := r.PathValue("token")
	inv, err := h.Store.InviteLookup(r.Context(), token)
	if errors.Is(err, crm.ErrNotFound) || (err == nil && len(token) > 100) {
		return inv, errStatus(http.StatusNotFound, "This invite link is not valid. Check that you copied all of it, or ask an admin for a new one.")
	}
	if err != nil {
		return inv, err
	}
	if inv.UsedAt != nil {
		return inv, errStatus(http.StatusGone, "This invite link has been used already. Sign in with your password, or ask an admin for a new link.")
	}
	if !inv.Usable() {
		return inv, errStatus(http.StatusGone, "This invite link has expired. Ask an admin for a new one.")
	}
	return inv, nil
}

func (h *handler) invitePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	inv, err := h.usableInvite(r)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "invite.html", "",
		inviteView{CSRF: h.formCSRF(w, r, v), Token: r.PathValue("token"), Invite: inv})
}

func (h *handler) inviteAccept(w http.ResponseWriter, r *http.Request, v *viewer) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	if !preCSRFOK(r, v) {
		return errFormExpired()
	}
	inv, err := h.usableInvite(r)
	if err != nil {
		return err
	}
	pw, again := r.PostFormValue("password"), r.PostFormValue("password_again")
	view := inviteView{CSRF: h.formCSRF(w, r, v), Token: r.PathValue("token"), Invite: inv}
	if msg := checkPassword(pw); msg != "" {
		view.Error = msg
	} else if pw != again {
		view.Error = "The two passwords differ. Type the same password twice."
	}
	if view.Error != "" {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "invite.html", "", view)
	}
	phc, err := hashPassword(pw, h.Passwords)
	if err != nil {
		return err
	}
	inv, err = h.Store.InviteAccept(r.Context(), view.Token, phc)
	if errors.Is(err, crm.ErrNotFound) {
		return errStatus(http.StatusGone, "This invite link has just been used. Sign in with your password, or ask an admin for a new link.")
	}
	if err != nil {
		return err
	}
	if err := h.startSession(w, r, v, inv.OrgID, inv.UserID); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// baseURL is where links Logbook hands out point: PublicURL, or the
// scheme and Host the request came with.
func (h *handler) baseURL(r *http.Request) string {
	if h.PublicURL != "" {
		return h.PublicURL
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
