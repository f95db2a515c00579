package api

import (
	"errors"
	"strings"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/secretbox"
	"logbook/internal/store"
)

// settingsInput is PATCH /v1/settings' body: crm.SettingsInput and the
// dialer hooks' write-only secrets. It keeps the schema's name
// (SettingsInput) in /openapi.json.
type settingsInput struct {
	crm.SettingsInput
	// TwilioAuthToken is the Twilio account's auth token, which signs the
	// status callbacks POST /v1/hooks/twilio/{org_id} takes; null removes
	// it. Write-only: GET /v1/settings says twilio_auth_token_set.
	TwilioAuthToken crm.Opt[string] `json:"twilio_auth_token"`
	// AircallToken is the token of the org's Aircall webhook, which every
	// event POST /v1/hooks/aircall/{org_id} takes carries; null removes it.
	// Write-only: GET /v1/settings says aircall_token_set.
	AircallToken crm.Opt[string] `json:"aircall_token"`
}

// maxDialerSecret is the longest dialer secret accepted, in bytes.
const maxDialerSecret = 512

// sealedSecret is one dialer secret to store (sealed nil: remove it).
type sealedSecret struct {
	name   store.DialerSecret
	sealed []byte
}

// sealDialerSecrets checks and seals the dialer secrets in in, adding a
// problem for each that cannot be stored: a value that is not a plausible
// token, or any value when the server has no LOGBOOK_SECRET_KEY (removing
// one needs no key). Neither the value nor any part of it is ever echoed.
func (h *handler) sealDialerSecrets(p *crm.Problems, orgID string, in *settingsInput) []sealedSecret {
	var out []sealedSecret
	for _, f := range []struct {
		name  store.DialerSecret
		value crm.Opt[string]
	}{{store.DialerTwilioAuthToken, in.TwilioAuthToken}, {store.DialerAircallToken, in.AircallToken}} {
		field := string(f.name)
		switch {
		case !f.value.Set:
			continue
		case f.value.Null:
			out = append(out, sealedSecret{name: f.name})
			continue
		}
		v := strings.TrimSpace(f.value.V)
		if v == "" || len(v) > maxDialerSecret || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			p.Add(field, "must be the token as the vendor shows it: 1 to %d characters without spaces (null removes it)", maxDialerSecret)
			continue
		}
		sealed, err := h.secretBox.Seal([]byte(v), store.DialerSecretAAD(orgID, f.name))
		if errors.Is(err, secretbox.ErrNoKey) || (err == nil && sealed == nil) {
			p.Add(field, "cannot be stored: the server has no LOGBOOK_SECRET_KEY to encrypt it with (the operator sets one; see the README)")
			continue
		}
		if err != nil {
			p.Add(field, "cannot be stored: %s", err.Error())
			continue
		}
		out = append(out, sealedSecret{name: f.name, sealed: sealed})
	}
	return out
}
