package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/store"
	"logbook/summarize"
)

// TestClassify is the table of which errors are worth a retry.
func TestClassify(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err       error
		permanent bool
		reason    string
	}{
		"Rejected": {fmt.Errorf("summarize: %w", &summarize.RejectedError{Reason: "no speech found: x"}), true, "no speech found: x"},
		"ModelRefused": {fmt.Errorf("summarize: notes: %w", fmt.Errorf("openai: chat: status 401: Incorrect API key provided: %w", llm.ErrPermanent)),
			true, "the language model refused the request (status 401: Incorrect API key provided)"},
		"UnusableTwice":  {fmt.Errorf("summarize: notes: %w", summarize.ErrInvalidOutput), true, "could not be used"},
		"Validation":     {fmt.Errorf("store: save notes: %w", crm.Invalid("summary", "too long")), true, "cannot be processed"},
		"Invalid":        {fmt.Errorf("x: %w", crm.ErrInvalid), true, "not valid"},
		"BadPayload":     {fmt.Errorf("queue: bad payload: %w", asynq.SkipRetry), true, "cannot be processed"},
		"Panic":          {fmt.Errorf("%w: boom", errPanic), true, "panic"},
		"RateLimited":    {&llm.RetryAfterError{After: time.Second, Err: errors.New("openai: chat: status 429: slow down")}, false, "429"},
		"ServerError":    {errors.New("summarize: notes: openai: chat: status 503: overloaded"), false, "status 503: overloaded"},
		"Timeout":        {errors.New("openai: chat: no answer within 30s (per-request timeout)"), false, "timeout"},
		"Deadline":       {fmt.Errorf("x: %w", context.DeadlineExceeded), false, "timeout"},
		"Shutdown":       {fmt.Errorf("x: %w", context.Canceled), false, "interrupted"},
		"DatabaseDown":   {fmt.Errorf("store: get account: %w: %w", store.ErrUnavailable, &pgconn.ConnectError{}), false, "database"},
		"DatabaseError":  {fmt.Errorf("store: save notes: %w: %w", store.ErrUnavailable, &pgconn.PgError{Code: "57P01"}), false, "database"},
		"UnknownIsRetry": {errors.New("something odd"), false, "temporary"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := classify(tc.err)
			require.Equal(t, tc.permanent, f.permanent)
			require.Contains(t, f.reason, tc.reason)
			for _, internal := range []string{"summarize:", "store:", "openai:", "queue:", "x:"} {
				require.NotContains(t, f.reason, internal)
			}
		})
	}
}
