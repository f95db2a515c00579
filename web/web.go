package web

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"logbook/activity"
	"logbook/brief"
	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// SessionCookie is the name of the cookie that carries a browser's session
// token.
const SessionCookie = "logbook_session"

// SessionTTL is how long a session lasts after sign-in.
const SessionTTL = 14 * 24 * time.Hour

// Deps is what the web UI reads and writes through.
type Deps struct {
	// Store runs every query.
	Store *store.Store
	// Activities writes activities by the same rules as the API.
	Activities *activity.Service
	// Briefs builds account briefs.
	Briefs *brief.Service
	// Asker answers questions about an account ("Ask about this
	// account"; retrieval.Service); nil shows that questions are not
	// available on this server.
	Asker Asker
	// Searcher finds an account's passages ("Search this account";
	// retrieval.Service); nil shows that search is not available.
	Searcher Searcher
	// Logger gets errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// LoginLimiter rate-limits sign-in per email and per client address (a
	// *ratelimit.Limiter on Redis); nil limits nothing. See auth.go.
	LoginLimiter LoginLimiter
	// LoginLimits are its quotas; zero fields have defaults.
	LoginLimits LoginLimits
	// AskLimits are the quotas on questions (askAllowed), taken from the
	// same limiter; zero fields have defaults.
	AskLimits AskLimits
	// Passwords are argon2id's costs for new hashes; the zero value is
	// DefaultPasswordParams (tests pass cheaper ones).
	Passwords PasswordParams
	// PublicURL is the base of the links Logbook prints (invites), such as
	// https://logbook.example.com (PUBLIC_URL); empty derives it from the
	// request's Host.
	PublicURL string
	// Enqueuer puts the webhook deliveries a write stored on the task
	// queue after commit; nil enqueues nothing (the worker's reconciler
	// picks pending deliveries up).
	Enqueuer Enqueuer
	// Capture creates, changes and resyncs connectors on the admin pages
	// (/admin/connectors), offering the kinds it has registered; nil
	// shows that connectors are not available on this server.
	Capture *capture.Service
}

// handler serves the pages; one per NewHandler.
type handler struct {
	Deps
	log   *slog.Logger
	pages *pages
	// dummyHash is a password hash no one has, verified when a sign-in
	// names no user, so that answer takes as long as a wrong password;
	// made on the first sign-in (dummyOnce).
	dummyHash string
	dummyOnce sync.Once
	// verify checks a password against a hash; nil is verifyPassword
	// (tests record what sign-in verifies).
	verify func(pw, phc string) (bool, error)
}

// access is what a route needs of the person asking.
type access int

const (
	// public: anyone, signed in or not (sign-in, assets).
	public access = iota
	// member: any signed-in user of the org.
	member
	// adminOnly: a signed-in admin.
	adminOnly
)

// handlerFunc serves one route for a viewer (nil on public routes when no
// one is signed in). A returned error becomes an error page (errorPage).
type handlerFunc func(h *handler, w http.ResponseWriter, r *http.Request, v *viewer) error

// route is one entry of the route table.
type route struct {
	Method string
	Path   string
	Access access
	Handle handlerFunc
}

// viewer is the signed-in person a request is served for.
type viewer struct {
	store.WebSession
	// Token is the session cookie's token (for sign-out).
	Token string
}

// Principal is the viewer as the API's rules see them: their org and the
// scopes their role grants (admin: everything; everyone else: read, write
// and ingest, which logging a call needs).
func (v *viewer) Principal() crm.Principal {
	if v.Role == crm.RoleAdmin {
		return crm.Principal{OrgID: v.OrgID, Scopes: []crm.Scope{crm.ScopeAdmin}}
	}
	return crm.Principal{OrgID: v.OrgID, Scopes: []crm.Scope{crm.ScopeRead, crm.ScopeWrite, crm.ScopeIngest}}
}

// NewHandler builds the web UI.
func NewHandler(d Deps) (http.Handler, error) {
	if d.Store == nil {
		return nil, errors.New("web: Deps.Store is required")
	}
	h := &handler{Deps: d, log: d.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Activities == nil {
		h.Activities = activity.New(d.Store)
	}
	if h.Briefs == nil {
		h.Briefs = brief.New(d.Store, h.log)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	h.pages = p
	if err := h.initAuth(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	for _, rt := range routes() {
		mux.Handle(rt.Method+" "+rt.Path, h.wrap(rt))
	}
	// Anything else is the designed 404 page, not the mux's text.
	mux.Handle("/", h.wrap(route{Path: "/", Access: public, Handle: func(*handler, http.ResponseWriter, *http.Request, *viewer) error {
		return crm.ErrNotFound
	}}))
	return securityHeaders(mux), nil
}

// csp allows this origin only: no script, style, image, font or connection
// to any other host, no inline script, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// wrap applies the route's access rule, the CSRF check and error pages.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h.viewer(r)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			h.errorPage(w, r, nil, err)
			return
		}
		if rt.Access != public && v == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, nil, errStatus(http.StatusUnauthorized, "Your session has ended. Sign in again."))
			return
		}
		if rt.Access == adminOnly && v.Role != crm.RoleAdmin {
			h.errorPage(w, r, v, errStatus(http.StatusForbidden, "Only an admin can do this."))
			return
		}
		if v != nil && !safeMethod(r.Method) && !h.csrfOK(r, v) {
			h.errorPage(w, r, v, errStatus(http.StatusForbidden, "This form has expired. Go back, reload the page and try again."))
			return
		}
		if err := rt.Handle(h, w, r, v); err != nil {
			h.errorPage(w, r, v, err)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// viewer is the request's signed-in person from its session cookie, or
// crm.ErrNotFound when there is none (no cookie, or an unknown or expired
// session).
func (h *handler) viewer(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, crm.ErrNotFound
	}
	ws, err := h.Store.SessionLookup(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &viewer{WebSession: ws, Token: c.Value}, nil
}

// csrfOK reports whether a state-changing request carries the session's
// CSRF token, in the form field "csrf" or the X-CSRF-Token header (fetch).
func (h *handler) csrfOK(r *http.Request, v *viewer) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(v.CSRF)) == 1
}

// secure reports whether the browser reached Logbook over TLS: directly, or
// through a proxy that ended TLS and says so (X-Forwarded-Proto). A forged
// header can only make the cookie stricter.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// setSessionCookie gives the browser its session token: HttpOnly,
// SameSite=Lax, Secure when the request came over TLS.
func (h *handler) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
}

// clearSessionCookie removes it.
func (h *handler) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
}

// now is the handler's clock.
func (h *handler) now() time.Time { return h.Now() }
