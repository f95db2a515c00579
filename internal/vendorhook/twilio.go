package vendorhook

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's documented scheme is HMAC-SHA1; it is a MAC, not a collision-resistant hash use
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TwilioSignatureHeader carries Twilio's signature of a webhook request.
const TwilioSignatureHeader = "X-Twilio-Signature"

// ErrCallEvent is wrapped by every error the dialers' parsers return for a
// payload that is not a call event they can read.
var ErrCallEvent = errors.New("vendorhook: not a readable call event")

func callEventErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCallEvent, fmt.Sprintf(format, args...))
}

// SignTwilio computes Twilio's signature of a request (its "webhooks
// security" documentation): the full URL Twilio requested (scheme, host,
// path and query string exactly as sent), then each POST parameter's name
// and value appended with no separator, in the sorted order of the names
// (a name sent more than once contributes each of its values, sorted), the
// whole HMAC-SHA1'd with the account's auth token and base64-encoded.
func SignTwilio(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[name])
		slices.Sort(vs)
		for _, v := range vs {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyTwilio reports whether signature is Twilio's signature of a request
// to fullURL with params, compared in constant time. As Twilio's own
// helper libraries do, the URL is tried as given and with its default port
// toggled (https://host/x and https://host:443/x), since proxies differ in
// whether they keep it. An empty signature or token never verifies.
func VerifyTwilio(authToken, signature, fullURL string, params url.Values) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	for _, u := range twilioURLVariants(fullURL) {
		want := SignTwilio(authToken, u, params)
		// Both sides are base64 of a 20-byte MAC when well formed; a
		// signature of another length simply fails, in constant time for
		// its length.
		if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1 {
			ok = true
		}
	}
	return ok
}

// twilioURLVariants is fullURL and the same URL with its scheme's default
// port added or removed.
func twilioURLVariants(fullURL string) []string {
	out := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	if def == "" {
		return out
	}
	host, port := u.Hostname(), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	switch port {
	case "":
		u.Host = host + ":" + def
	case def:
		u.Host = host
	default:
		return out
	}
	return append(out, u.String())
}

// TwilioCall is a Twilio voice status callback (the StatusCallback of a
// call, form-encoded), read into plain values. Only CallSid is required;
// every other field is empty or zero when Twilio did not send it (a
// recording's callback carries no CallStatus).
type TwilioCall struct {
	CallSid       string
	ParentCallSid string
	AccountSid    string
	From          string
	To            string
	// Direction is Twilio's: inbound, outbound-api or outbound-dial.
	Direction string
	// CallStatus is queued, initiated, ringing, in-progress, completed,
	// busy, failed, no-answer or canceled ("" on a recording's callback).
	CallStatus string
	// CallDuration is the call's length in seconds; Twilio sends it with
	// the final status only (HasDuration).
	CallDuration int
	HasDuration  bool
	// AnsweredBy is answering machine detection's verdict: human,
	// machine_start, machine_end_beep, machine_end_silence,
	// machine_end_other, fax or unknown ("" without detection).
	AnsweredBy   string
	RecordingURL string
	RecordingSid string
	// Timestamp is when Twilio fired the event (its RFC 2822 Timestamp),
	// zero when absent or unreadable.
	Timestamp time.Time
	// SequenceNumber orders one call's callbacks (-1 when absent).
	SequenceNumber int
}

// TwilioFinal reports whether status is one a call ends in.
func TwilioFinal(status string) bool {
	switch status {
	case "completed", "busy", "failed", "no-answer", "canceled":
		return true
	}
	return false
}

// twilioStatuses are the CallStatus values Twilio documents.
var twilioStatuses = []string{"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}

// maxTwilioField bounds every field a callback is read into.
const maxTwilioField = 2048

// ParseTwilioCall reads a status callback's POST parameters. CallSid is
// required (at most 64 characters of letters and digits); an unknown
// CallStatus or Direction, a negative or unreadable CallDuration and
// oversized fields are errors wrapping ErrCallEvent. Unknown parameters are
// ignored (Twilio adds some over time).
func ParseTwilioCall(form url.Values) (TwilioCall, error) {
	get := func(name string) (string, error) {
		v := strings.TrimSpace(form.Get(name))
		if len(v) > maxTwilioField {
			return "", callEventErr("%s is over %d bytes", name, maxTwilioField)
		}
		return v, nil
	}
	var c TwilioCall
	var err error
	fields := []struct {
		name string
		dst  *string
	}{
		{"CallSid", &c.CallSid}, {"ParentCallSid", &c.ParentCallSid}, {"AccountSid", &c.AccountSid},
		{"From", &c.From}, {"To", &c.To}, {"Direction", &c.Direction}, {"CallStatus", &c.CallStatus},
		{"AnsweredBy", &c.AnsweredBy}, {"RecordingUrl", &c.RecordingURL}, {"RecordingSid", &c.RecordingSid},
	}
	for _, f := range fields {
		if *f.dst, err = get(f.name); err != nil {
			return TwilioCall{}, err
		}
	}
	if !twilioSid(c.CallSid) {
		return TwilioCall{}, callEventErr("CallSid must be Twilio's call ID (letters and digits, at most 64)")
	}
	if c.ParentCallSid != "" && !twilioSid(c.ParentCallSid) {
		return TwilioCall{}, callEventErr("ParentCallSid must be a call ID")
	}
	if c.CallStatus != "" && !slices.Contains(twilioStatuses, c.CallStatus) {
		return TwilioCall{}, callEventErr("CallStatus %q is not one of %s", short(c.CallStatus), strings.Join(twilioStatuses, ", "))
	}
	switch {
	case c.Direction == "", c.Direction == "inbound", strings.HasPrefix(c.Direction, "outbound"):
	default:
		return TwilioCall{}, callEventErr("Direction %q is neither inbound nor outbound-*", short(c.Direction))
	}
	if d := strings.TrimSpace(form.Get("CallDuration")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 7*24*3600 {
			return TwilioCall{}, callEventErr("CallDuration must be a number of seconds")
		}
		c.CallDuration, c.HasDuration = n, true
	}
	c.SequenceNumber = -1
	if s := strings.TrimSpace(form.Get("SequenceNumber")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			c.SequenceNumber = n
		}
	}
	if ts := strings.TrimSpace(form.Get("Timestamp")); ts != "" {
		for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339Nano} {
			if t, err := time.Parse(layout, ts); err == nil && t.Year() >= 1970 && t.Year() < 10000 {
				c.Timestamp = t.UTC()
				break
			}
		}
	}
	return c, nil
}

// twilioSid reports whether s looks like a Twilio SID: letters and digits.
func twilioSid(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// short cuts a value quoted in an error to 40 bytes.
func short(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}
