package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"logbook/internal/ratelimit"
	"logbook/internal/testredis"
)

// clock is a test clock several Limiters can share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testBundle is one test's Redis prefix, clock and limiter.
type testBundle struct {
	rdb    *redis.Client
	prefix string
	clock  *clock
	lim    *ratelimit.Limiter
}

// newLimiter is another server's limiter on the same Redis, prefix and
// clock.
func (b *testBundle) newLimiter() *ratelimit.Limiter {
	return ratelimit.New(b.rdb, ratelimit.Config{Prefix: b.prefix, Now: b.clock.now})
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{rdb: testredis.Client(t), prefix: testredis.Name(t) + ":", clock: &clock{t: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}}
		b.lim = b.newLimiter()
		t.Cleanup(func() {
			keys, err := b.rdb.Keys(context.WithoutCancel(ctx), b.prefix+"*").Result()
			if err == nil && len(keys) > 0 {
				_ = b.rdb.Del(context.WithoutCancel(ctx), keys...).Err()
			}
		})
		return b
	}
	perMin := func(name string, n int) ratelimit.Bucket {
		return ratelimit.Bucket{Name: name, Limit: n, Period: time.Minute}
	}

	t.Run("AdmitsTheLimitAtOnceThenRefusesUntilItRefills", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 5 {
			d, err := b.lim.Allow(ctx, "org1", perMin("key:a", 5))
			require.NoError(t, err)
			require.True(t, d.Allowed, "request %d", i+1)
			require.Equal(t, 5, d.Limit)
			require.Equal(t, 4-i, d.Remaining)
			require.Equal(t, time.Duration(i+1)*12*time.Second, d.Reset)
		}
		d, err := b.lim.Allow(ctx, "org1", perMin("key:a", 5))
		require.NoError(t, err)
		require.False(t, d.Allowed, "the 6th request")
		require.Equal(t, 0, d.Remaining)
		require.Equal(t, 12*time.Second, d.RetryAfter, "one request every 60s/5")
		require.EqualValues(t, 12, ratelimit.Seconds(d.RetryAfter))

		b.clock.add(12*time.Second - time.Microsecond)
		d, err = b.lim.Allow(ctx, "org1", perMin("key:a", 5))
		require.NoError(t, err)
		require.False(t, d.Allowed, "a microsecond early")
		b.clock.add(time.Microsecond)
		d, err = b.lim.Allow(ctx, "org1", perMin("key:a", 5))
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 0, d.Remaining)
	})

	t.Run("RefusalTakesNothingFromTheOtherBuckets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 2 {
			d, err := b.lim.Allow(ctx, "org1", perMin("key:a", 10), perMin("org", 2))
			require.NoError(t, err)
			require.True(t, d.Allowed)
			require.Equal(t, 1, d.Bucket, "the org bucket is closest to empty")
		}
		d, err := b.lim.Allow(ctx, "org1", perMin("key:a", 10), perMin("org", 2))
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 1, d.Bucket, "the org refused")
		d, err = b.lim.Allow(ctx, "org1", perMin("key:a", 10))
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 7, d.Remaining, "2 admitted and this one; the refused request took nothing")
	})

	t.Run("LimitersOnOneRedisShareTheBuckets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.newLimiter() // another server
		admitted := 0
		for i := range 10 {
			l := b.lim
			if i%2 == 1 {
				l = other
			}
			d, err := l.Allow(ctx, "org1", perMin("ask", 4))
			require.NoError(t, err)
			if d.Allowed {
				admitted++
			}
		}
		require.Equal(t, 4, admitted)
	})

	t.Run("PartitionsAreIndependent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 3 {
			_, err := b.lim.Allow(ctx, "org1", perMin("org", 2))
			require.NoError(t, err)
		}
		d, err := b.lim.Allow(ctx, "org2", perMin("org", 2))
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 1, d.Remaining)
		require.Equal(t, b.prefix+"ratelimit:{org2}:org", b.lim.Key("org2", "org"), "one hash slot per org")
	})

	t.Run("ConcurrentCallsAdmitExactlyTheLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var mu sync.Mutex
		admitted := 0
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				d, err := b.lim.Allow(ctx, "org1", perMin("key:a", 7))
				require.NoError(t, err)
				if d.Allowed {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Equal(t, 7, admitted)
	})

	t.Run("RedisTimeWhenNoClock", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		l := ratelimit.New(b.rdb, ratelimit.Config{Prefix: b.prefix})
		d, err := l.Allow(ctx, "org1", perMin("key:a", 3))
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 2, d.Remaining)
		require.Equal(t, 20*time.Second, d.Reset)
		ttl, err := b.rdb.PTTL(ctx, l.Key("org1", "key:a")).Result()
		require.NoError(t, err)
		require.Positive(t, ttl, "the bucket expires once it is full again")
		require.LessOrEqual(t, ttl, 20*time.Second)
	})

	t.Run("RedisDownIsAnErrorThenACooldown", func(t *testing.T) {
		t.Parallel()
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { _ = down.Close() })
		l := ratelimit.New(down, ratelimit.Config{Cooldown: time.Hour})
		_, err := l.Allow(ctx, "org1", perMin("key:a", 3))
		require.ErrorIs(t, err, ratelimit.ErrUnavailable)
		_, err = l.Allow(ctx, "org1", perMin("key:a", 3))
		require.ErrorIs(t, err, ratelimit.ErrUnavailable)
		require.ErrorContains(t, err, "failed less than", "Redis is not asked again during the cooldown")
	})

	t.Run("ABucketWithoutALimitIsAnError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.lim.Allow(ctx, "org1", ratelimit.Bucket{Name: "x"})
		require.ErrorContains(t, err, "must be positive")
	})
}

// BenchmarkAllow measures one check of the four buckets an ask takes
// against a Redis PING, the round trip it cannot beat, in the same run.
func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	rdb := testredis.Client(b)
	prefix := testredis.Name(b) + ":"
	b.Cleanup(func() {
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			_ = rdb.Del(ctx, keys...).Err()
		}
	})
	lim := ratelimit.New(rdb, ratelimit.Config{Prefix: prefix})
	buckets := []ratelimit.Bucket{{Name: "key:a", Limit: 1 << 30}, {Name: "org", Limit: 1 << 30},
		{Name: "ask:key:a", Limit: 1 << 30}, {Name: "ask:org", Limit: 1 << 30}}
	b.Run("Ping", func(b *testing.B) {
		for b.Loop() {
			if err := rdb.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Allow4Buckets", func(b *testing.B) {
		for b.Loop() {
			if _, err := lim.Allow(ctx, "org1", buckets...); err != nil {
				b.Fatal(err)
			}
		}
	})
}
