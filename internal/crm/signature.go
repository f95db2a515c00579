package crm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a SignatureHeader value against body: the HMAC must
// match (compared in constant time; any of several v1 values may, to allow
// secret rotation on the sender's side) and the timestamp must be within
// SignatureTolerance of now, in either direction.
func VerifySignature(header, secret string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: want %s: t=<unix>,v1=<hex>", ErrBadSignature, SignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp is not a number", ErrBadSignature)
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > SignatureTolerance || age < -SignatureTolerance {
		return fmt.Errorf("%w: timestamp is more than %s from now", ErrBadSignature, SignatureTolerance)
	}
	want := signature(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%w: signature does not match", ErrBadSignature)
}
