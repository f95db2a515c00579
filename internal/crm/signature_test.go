package crm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignature(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_790_000_000, 0)
	body := []byte(`{"event":"meeting.processed"}`)
	h := Sign("s3cret", now, body)
	require.Regexp(t, `^t=1790000000,v1=[0-9a-f]{64}$`, h)
	require.NoError(t, VerifySignature(h, "s3cret", body, now.Add(time.Minute)))
	for name, err := range map[string]error{
		"WrongSecret": VerifySignature(h, "other", body, now),
		"ChangedBody": VerifySignature(h, "s3cret", []byte(`{}`), now),
		"Stale":       VerifySignature(h, "s3cret", body, now.Add(6*time.Minute)),
		"Future":      VerifySignature(h, "s3cret", body, now.Add(-6*time.Minute)),
		"Missing":     VerifySignature("", "s3cret", body, now),
		"Garbage":     VerifySignature("t=abc,v1=zz", "s3cret", body, now),
	} {
		require.True(t, errors.Is(err, ErrBadSignature), name)
	}
	// A second v1 (secret rotation) may match.
	require.NoError(t, VerifySignature(h+",v1=00", "s3cret", body, now))
}

// TestSignatureBeforeBody checks what the signed hook relies on to refuse a
// request before reading its body: the header alone (format, timestamp
// window) is checked by ParseSignature, and the body is checked as a stream
// written to a Verifier, in any pieces, with the same verdict as
// VerifySignature.
func TestSignatureBeforeBody(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_790_000_000, 0)
	body := []byte(`{"source":"zoom","content":"WEBVTT"}`)
	h := Sign("s3cret", now, body)

	for name, header := range map[string]string{
		"Missing":     "",
		"NoV1":        "t=1790000000",
		"NoTimestamp": "v1=" + strings.Repeat("ab", 32),
		"NotANumber":  "t=soon,v1=" + strings.Repeat("ab", 32),
		"Stale":       Sign("s3cret", now.Add(-SignatureTolerance-time.Second), body),
		"Future":      Sign("s3cret", now.Add(SignatureTolerance+time.Second), body),
	} {
		_, err := ParseSignature(header, now)
		require.ErrorIs(t, err, ErrBadSignature, name)
	}

	s, err := ParseSignature(h, now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, now, s.Timestamp)
	require.Equal(t, now.Add(SignatureTolerance), s.Expires())
	v := s.Verifier("s3cret")
	for _, piece := range bytes.SplitAfter(body, []byte(",")) {
		_, err := v.Write(piece)
		require.NoError(t, err)
	}
	mac, err := v.Verify()
	require.NoError(t, err)
	require.Equal(t, h[len("t=1790000000,v1="):], hex.EncodeToString(mac), "the matching v1 value")

	wrong := s.Verifier("other")
	wrong.Write(body)
	_, err = wrong.Verify()
	require.ErrorIs(t, err, ErrBadSignature)
	changed := s.Verifier("s3cret")
	changed.Write(body[:len(body)-1])
	_, err = changed.Verify()
	require.ErrorIs(t, err, ErrBadSignature)

	// Of several v1 values the matching one is returned; a value that is
	// not 64 hex digits never matches.
	s, err = ParseSignature(h[:len("t=1790000000")]+",v1=zz,v1="+strings.Repeat("0", 64)+","+h[len("t=1790000000,"):], now)
	require.NoError(t, err)
	v = s.Verifier("s3cret")
	v.Write(body)
	got, err := v.Verify()
	require.NoError(t, err)
	require.Equal(t, mac, got)
}
