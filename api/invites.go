package api

import (
	"net/http"
	"time"

	"logbook/internal/crm"
)

// inviteInput is the optional body of POST /v1/users/{id}/invite.
type inviteInput struct {
	// ExpiresInDays is how long the link works, 1 to 30 days (default 7).
	ExpiresInDays *int `json:"expires_in_days"`
}

// inviteLink is the answer: the one-time link and when it stops working.
type inviteLink struct {
	URL       string    `json:"url" openapi:"format=uri"`
	ExpiresAt time.Time `json:"expires_at"`
}

// maxInviteDays bounds an invite's life.
const maxInviteDays = 30

// userInvite makes a one-time link that sets the user's password in the web
// UI and signs them in (web/auth.go). Older unused links of the user stop
// working. The link is shown only in this answer (no-store).
func (h *handler) userInvite(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in inviteInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	ttl := 7 * 24 * time.Hour
	if in.ExpiresInDays != nil {
		if d := *in.ExpiresInDays; d < 1 || d > maxInviteDays {
			return crm.Invalid("expires_in_days", "must be between 1 and 30")
		}
		ttl = time.Duration(*in.ExpiresInDays) * 24 * time.Hour
	}
	inv, token, err := h.store.InviteCreate(r.Context(), p.OrgID, id, ttl)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the link is shown once: neither caches nor Idempotency-Key keep it
	writeJSON(w, http.StatusCreated, inviteLink{URL: h.baseURL(r) + "/invite/" + token, ExpiresAt: inv.ExpiresAt})
	return nil
}

// baseURL is where the web UI's links point: PUBLIC_URL, or the scheme and
// Host the request came with (https when it came over TLS or through a
// proxy that says so).
func (h *handler) baseURL(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
