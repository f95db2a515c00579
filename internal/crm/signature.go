package crm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a webhook signature, in and out:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
const SignatureHeader = "Logbook-Signature"

// SignatureTolerance is how old a signed request may be before it is
// refused as a replay.
const SignatureTolerance = 5 * time.Minute

// ErrBadSignature means a signature is missing, malformed, wrong or stale.
var ErrBadSignature = errors.New("bad signature")

// Sign returns the SignatureHeader value for body at time t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	m := newMAC(secret, ts)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// newMAC is the HMAC of a signature with timestamp ts, before the body.
func newMAC(secret, ts string) hash.Hash {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	return m
}

// Signature is a parsed SignatureHeader value whose timestamp is within
// SignatureTolerance of now: what can be checked before the body is read.
// Whether it signs the body is Verifier's to say.
type Signature struct {
	// Timestamp is the signing time the header states.
	Timestamp time.Time
	ts        string
	macs      [][]byte
}

// ParseSignature parses a SignatureHeader value and checks its timestamp
// against now: a missing or malformed header, or a timestamp more than
// SignatureTolerance from now in either direction, is ErrBadSignature. It
// reads no body, so a request can be refused before its body is read.
// Several v1 values may be given (the sender rotating its secret); any one
// may match. A v1 value that is not 64 hex digits can never match and is
// ignored.
func ParseSignature(header string, now time.Time) (Signature, error) {
	var s Signature
	given := false
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			s.ts = v
		case "v1":
			given = true
			if mac, err := hex.DecodeString(v); err == nil && len(mac) == sha256.Size {
				s.macs = append(s.macs, mac)
			}
		}
	}
	if s.ts == "" || !given {
		return Signature{}, fmt.Errorf("%w: want %s: t=<unix>,v1=<hex>", ErrBadSignature, SignatureHeader)
	}
	sec, err := strconv.ParseInt(s.ts, 10, 64)
	if err != nil {
		return Signature{}, fmt.Errorf("%w: timestamp is not a number", ErrBadSignature)
	}
	s.Timestamp = time.Unix(sec, 0)
	age := now.Sub(s.Timestamp)
	if age > SignatureTolerance || age < -SignatureTolerance {
		return Signature{}, fmt.Errorf("%w: timestamp is more than %s from now", ErrBadSignature, SignatureTolerance)
	}
	return s, nil
}

// Expires is when the signature stops being accepted: SignatureTolerance
// after its timestamp. A record of it (to refuse a replay) is needed until
// then and no longer.
func (s Signature) Expires() time.Time { return s.Timestamp.Add(SignatureTolerance) }

// Verifier returns the HMAC of the signature under secret, to which the
// body is written as it is read (an io.Writer); Verify then says whether
// the signature signs it. The body need not be held in memory to check it.
func (s Signature) Verifier(secret string) *SignatureVerifier {
	return &SignatureVerifier{sig: s, mac: newMAC(secret, s.ts)}
}

// SignatureVerifier checks a Signature against a body written to it.
type SignatureVerifier struct {
	sig Signature
	mac hash.Hash
}

// Write adds body bytes; it never fails.
func (v *SignatureVerifier) Write(p []byte) (int, error) { return v.mac.Write(p) }

// Verify reports whether one of the signature's v1 values is the HMAC of
// what was written (compared in constant time), returning that value: the
// delivery's identity, which a replay repeats. No match is ErrBadSignature.
func (v *SignatureVerifier) Verify() ([]byte, error) {
	want := v.mac.Sum(nil)
	for _, mac := range v.sig.macs {
		if hmac.Equal(mac, want) {
			return mac, nil
		}
	}
	return nil, fmt.Errorf("%w: signature does not match", ErrBadSignature)
}

// VerifySignature checks a SignatureHeader value against body: the HMAC must
// match (compared in constant time; any of several v1 values may, to allow
// secret rotation on the sender's side) and the timestamp must be within
// SignatureTolerance of now, in either direction. It is ParseSignature and
// a Verifier in one, for a body already in memory.
func VerifySignature(header, secret string, body []byte, now time.Time) error {
	s, err := ParseSignature(header, now)
	if err != nil {
		return err
	}
	v := s.Verifier(secret)
	v.Write(body)
	_, err = v.Verify()
	return err
}

// ErrReplayedSignature means a signed request repeats a signature already
// accepted within its window: the same delivery again. The API answers 409.
var ErrReplayedSignature = errors.New("signature already used")
