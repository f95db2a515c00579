package llm_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/llm"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	inner := errors.New("status 429: slow down")
	ra := &llm.RetryAfterError{After: 3 * time.Second, Err: inner}
	require.Equal(t, "status 429: slow down (retry after 3s)", ra.Error())
	require.ErrorIs(t, ra, inner)
	require.NotErrorIs(t, ra, llm.ErrPermanent)

	after, ok := llm.RetryAfter(fmt.Errorf("summarize: notes: %w", ra))
	require.True(t, ok, "found through wrapping")
	require.Equal(t, 3*time.Second, after)

	_, ok = llm.RetryAfter(&llm.RetryAfterError{Err: inner})
	require.False(t, ok, "a zero wait is no wait")
	_, ok = llm.RetryAfter(inner)
	require.False(t, ok)
	_, ok = llm.RetryAfter(nil)
	require.False(t, ok)
}
