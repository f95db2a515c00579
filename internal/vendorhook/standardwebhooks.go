package vendorhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (standardwebhooks.com, spec 1.0.0), as
// Recall.ai sends them through Svix.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SignatureTolerance is how far a signed timestamp may be from now, either way,
// for Standard Webhooks and Zoom alike: older deliveries are replays.
const SignatureTolerance = 5 * time.Minute

// Verification errors. Each is safe to show the sender: none carries a
// secret or the expected signature.
var (
	// ErrNoSignature: a signature header is absent or empty.
	ErrNoSignature = errors.New("the signature headers are missing")
	// ErrStaleSignature: the signed timestamp is unreadable or more than
	// SignatureTolerance away from now.
	ErrStaleSignature = errors.New("the signed timestamp is missing, unreadable or more than 5 minutes from now")
	// ErrSignatureMismatch: no signature given matches the body.
	ErrSignatureMismatch = errors.New("the signature does not match the body (check the webhook secret)")
	// ErrBadWebhookSecret: the stored secret is not of the scheme's form.
	ErrBadWebhookSecret = errors.New("the stored webhook secret is not of the expected form")
)

// maxWebhookID bounds the webhook-id header (Svix's are ~30 characters).
const maxWebhookID = 256

// StandardSecret decodes a Standard Webhooks secret, "whsec_" and the
// key in standard base64 (the prefix may be left out).
func StandardSecret(secret string) ([]byte, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_")
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) < 16 || len(key) > 128 {
		return nil, ErrBadWebhookSecret
	}
	return key, nil
}

// SignStandard returns the webhook-signature value ("v1," and the base64
// HMAC-SHA256 over id.timestamp.body) a sender with key would send. The
// vendor fakes of the tests sign with it.
func SignStandard(key []byte, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// StandardDelivery is a verified Standard Webhooks delivery's identity.
type StandardDelivery struct {
	// ID is the message's webhook-id: the same on every retry of one
	// message, so it names the delivery for deduplication.
	ID string
	// Timestamp is when it was signed.
	Timestamp time.Time
}

// VerifyStandard checks a Standard Webhooks delivery: the three headers
// (id, timestamp in Unix seconds, and one or more space-separated
// "v1,<base64>" signatures, other versions ignored), the timestamp within
// SignatureTolerance of now, and one signature equal, in constant time, to the
// HMAC-SHA256 under secret ("whsec_…") of id.timestamp.body.
func VerifyStandard(secret, id, timestamp, signature string, body []byte, now time.Time) (StandardDelivery, error) {
	id, timestamp, signature = strings.TrimSpace(id), strings.TrimSpace(timestamp), strings.TrimSpace(signature)
	if id == "" || timestamp == "" || signature == "" {
		return StandardDelivery{}, ErrNoSignature
	}
	if len(id) > maxWebhookID || strings.ContainsAny(id, ".\x00") {
		return StandardDelivery{}, fmt.Errorf("%w: the webhook-id header is malformed", ErrSignatureMismatch)
	}
	ts, err := signedUnix(timestamp, now)
	if err != nil {
		return StandardDelivery{}, err
	}
	key, err := StandardSecret(secret)
	if err != nil {
		return StandardDelivery{}, err
	}
	want := standardMAC(key, id, timestamp, body)
	for _, entry := range strings.Fields(signature) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return StandardDelivery{ID: id, Timestamp: ts}, nil
		}
	}
	return StandardDelivery{}, ErrSignatureMismatch
}

// parseUnix reads a timestamp in Unix seconds and checks it is within
// SignatureTolerance of now.
func signedUnix(s string, now time.Time) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, ErrStaleSignature
	}
	ts := time.Unix(n, 0)
	if d := now.Sub(ts); d > SignatureTolerance || d < -SignatureTolerance {
		return time.Time{}, ErrStaleSignature
	}
	return ts, nil
}
