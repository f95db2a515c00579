package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/config"
	"logbook/internal/ratelimit"
	"logbook/internal/testredis"
)

func TestRateLimiterWiring(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rdb := testredis.Client(t)
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "REDIS_URL":
			return testredis.URL()
		case "QUEUE_PREFIX":
			return testredis.Name(t) + "-"
		case "RATE_LIMIT_ASK_PER_MIN":
			return "0"
		}
		return ""
	})
	require.NoError(t, err)
	a := &App{Cfg: cfg}

	lim, q, err := a.rateLimiter(ctx)
	require.NoError(t, err)
	require.NotNil(t, lim)
	require.Equal(t, 600, q.KeyPerMinute)
	require.Equal(t, 3000, q.OrgPerMinute)
	require.Zero(t, q.AskPerMinute)
	require.Equal(t, 100, q.OrgAskPerMinute)

	d, err := lim.Allow(ctx, "org1", ratelimit.Bucket{Name: "org", Limit: 2, Period: time.Minute})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	key := cfg.QueuePrefix + "logbook:ratelimit:{org1}:org"
	n, err := rdb.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the bucket is under QUEUE_PREFIX")
	require.NoError(t, rdb.Del(ctx, key).Err())

	a.Cfg.RateLimitKeyPerMin, a.Cfg.RateLimitOrgPerMin, a.Cfg.RateLimitAskPerMin, a.Cfg.RateLimitOrgAskPerMin = 0, 0, 0, 0
	lim, _, err = a.rateLimiter(ctx)
	require.NoError(t, err)
	require.Nil(t, lim, "every quota 0: no limiter")
}
