package crm

import (
	"errors"
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
