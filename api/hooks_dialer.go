package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/vendorhook"
)

// The dialer hooks (issue #14): POST /v1/hooks/twilio/{org_id} takes
// Twilio's voice status callbacks (form-encoded, X-Twilio-Signature) and
// POST /v1/hooks/aircall/{org_id} Aircall's webhook events (JSON carrying
// the webhook's token). They are public routes authenticated by the
// vendor's scheme with the secret the org stored in its settings
// (twilio_auth_token, aircall_token; sealed with internal/secretbox). An
// org ID that is not one, an unknown org, an org without the secret and a
// bad signature or token all answer the same 401: the answer never says
// which. Each callback becomes, or moves forward, one call or voicemail
// activity (dialer_calls.go).

// dialerHookResult answers a dialer hook: what the callback did.
type dialerHookResult struct {
	// Result is created, updated, unchanged (a retried or older callback:
	// nothing written), deferred (a call still ringing in an org that
	// requires a disposition: written when it ends), unresolved (no account
	// could be found for the call: nothing written, see the README) or
	// ignored (an event that is not about a call, or about a call Logbook
	// has not seen).
	Result string `json:"result"`
	// ActivityID is the call's activity, null when nothing was written.
	ActivityID *string `json:"activity_id"`
	// Detail says why, for the results that wrote nothing.
	Detail string `json:"detail,omitempty"`
}

// The results of dialerHookResult.
const (
	dialerCreated    = "created"
	dialerUpdated    = "updated"
	dialerUnchanged  = "unchanged"
	dialerDeferred   = "deferred"
	dialerUnresolved = "unresolved"
	dialerIgnored    = "ignored"
)

// newDialerMetrics registers the dialer hooks' counter.
func newDialerMetrics(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "logbook_dialer_callbacks_total",
		Help: "Dialer webhook callbacks accepted (signature or token verified), by vendor and result: created, updated, unchanged, deferred, unresolved (no account found: nothing recorded) or ignored.",
	}, []string{"vendor", "result"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("api: register dialer metrics: %w", err)
	}
	return c, nil
}

// errDialerAuth is every refusal of a dialer hook's credentials, whatever
// the reason; field names the credential.
func errDialerAuth(field string) error {
	return &httpError{status: http.StatusUnauthorized,
		detail: "the request is not signed with this org's dialer secret (or the org has none set)",
		fields: []crm.FieldError{{Field: field, Message: "does not verify"}}}
}

// errDialerBody is a callback the hook cannot read.
func errDialerBody(field string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, vendorhook.ErrCallEvent.Error()+": ")
	return &httpError{status: http.StatusBadRequest, detail: "the callback cannot be read: " + msg,
		fields: []crm.FieldError{{Field: field, Message: msg}}}
}

// dialerSecret returns the org's secret name, opened, or errDialerAuth
// (the org is unknown, has no such secret, or it does not open: logged,
// since the server's key changed). A database failure is returned as is.
func (h *handler) dialerSecret(r *http.Request, orgID string, name store.DialerSecret, field string) (string, error) {
	sealed, err := h.store.DialerSecretGet(r.Context(), orgID, name)
	if errors.Is(err, crm.ErrNotFound) {
		return "", errDialerAuth(field)
	}
	if err != nil {
		return "", err
	}
	plain, err := h.secretBox.Open(sealed, store.DialerSecretAAD(orgID, name))
	if err != nil {
		h.log.WarnContext(r.Context(), "dialer hook: the org's stored secret does not open (is LOGBOOK_SECRET_KEY the one it was set with?)",
			slog.String("org_id", orgID), slog.String("setting", string(name)), slog.Any("error", err))
		return "", errDialerAuth(field)
	}
	return string(plain), nil
}

// twilioURL is the URL Twilio signed: PUBLIC_URL + the request's path and
// query as received when PublicURL is set (the server behind a proxy
// that rewrites the host or the scheme); otherwise the scheme
// (X-Forwarded-Proto, else TLS or not) and host (X-Forwarded-Host, else
// Host) this request arrived with. Forwarded headers only choose which URL
// is checked: without the auth token nobody can sign any of them.
func (h *handler) twilioURL(r *http.Request) string {
	uri := r.RequestURI
	if !strings.HasPrefix(uri, "/") {
		uri = r.URL.RequestURI()
	}
	if h.publicURL != "" {
		return h.publicURL + uri
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); strings.TrimSpace(p) != "" {
		scheme = strings.ToLower(strings.TrimSpace(p))
	}
	host := r.Host
	if fh, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(fh) != "" {
		host = strings.TrimSpace(fh)
	}
	return scheme + "://" + host + uri
}

// twilioHook serves POST /v1/hooks/twilio/{org_id}.
func (h *handler) twilioHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	const sigField = vendorhook.TwilioSignatureHeader
	orgID := strings.ToLower(r.PathValue("org_id"))
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return err
	}
	token, err := h.dialerSecret(r, orgID, store.DialerTwilioAuthToken, sigField)
	if err != nil {
		// The same work as a known org's: no time difference says which.
		_ = vendorhook.VerifyTwilio("no org", r.Header.Get(sigField), h.twilioURL(r), url.Values{})
		return err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return errDialerBody("body", fmt.Errorf("it must be application/x-www-form-urlencoded"))
	}
	if !vendorhook.VerifyTwilio(token, r.Header.Get(sigField), h.twilioURL(r), form) {
		return errDialerAuth(sigField)
	}
	c, err := vendorhook.ParseTwilioCall(form)
	if err != nil {
		field, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), vendorhook.ErrCallEvent.Error()+": "), " ")
		return errDialerBody(field, err)
	}
	return h.dialerApply(w, r, orgID, twilioCall(c))
}

// aircallHook serves POST /v1/hooks/aircall/{org_id}.
func (h *handler) aircallHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	orgID := strings.ToLower(r.PathValue("org_id"))
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return err
	}
	want, err := h.dialerSecret(r, orgID, store.DialerAircallToken, "token")
	if err != nil {
		_ = vendorhook.VerifyAircallToken("no org", "")
		return err
	}
	ev, err := vendorhook.ParseAircallEvent(body)
	if err != nil {
		var probe struct {
			Token string `json:"token"`
		}
		if jsonToken(body, &probe) && !vendorhook.VerifyAircallToken(want, probe.Token) {
			return errDialerAuth("token") // an unsigned body learns nothing of its shape
		}
		return errDialerBody("body", err)
	}
	if !vendorhook.VerifyAircallToken(want, ev.Token) {
		return errDialerAuth("token")
	}
	if ev.Resource != "call" {
		h.dialerCalls.WithLabelValues("aircall", dialerIgnored).Inc()
		writeJSON(w, http.StatusOK, dialerHookResult{Result: dialerIgnored, Detail: "not a call event: " + short(ev.Event)})
		return nil
	}
	return h.dialerApply(w, r, orgID, aircallCall(ev))
}

// short cuts text quoted in an answer to 60 bytes.
func short(s string) string {
	if len(s) > 60 {
		return strings.ToValidUTF8(s[:60], "") + "…"
	}
	return s
}
