package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
	"logbook/internal/testredis"
)

// limitBundle is a testBundle whose handlers count against rate limits in
// the test Redis, under a prefix of their own and on a clock of their own.
type limitBundle struct {
	*testBundle
	rdb    *redis.Client
	prefix string
	mu     sync.Mutex
	now    time.Time
}

func setupLimits(t *testing.T) *limitBundle {
	t.Helper()
	b := &limitBundle{testBundle: setup(t), rdb: testredis.Client(t), prefix: testredis.Name(t) + ":",
		now: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := b.rdb.Keys(ctx, b.prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			_ = b.rdb.Del(ctx, keys...).Err()
		}
	})
	return b
}

func (b *limitBundle) clock() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }

// server is one more API server on the bundle's store and Redis.
func (b *limitBundle) server(q RateLimits, reg *prometheus.Registry) http.Handler {
	b.t.Helper()
	lim := ratelimit.New(b.rdb, ratelimit.Config{Prefix: b.prefix, Now: b.clock})
	h, err := NewHandler(Deps{Store: b.store, Asker: &scriptedAsker{}, RateLimiter: lim, RateLimits: q, Registry: reg})
	require.NoError(b.t, err)
	return h
}

// TestRateLimitAsk is finding 8's "an ask with a read key can start paid
// model calls without bound": the ask quota refuses request N+1 with 429
// and Retry-After.
func TestRateLimitAsk(t *testing.T) {
	t.Parallel()
	b := setupLimits(t)
	b.handler = b.server(RateLimits{KeyPerMinute: 100, OrgPerMinute: 1000, AskPerMinute: 3, OrgAskPerMinute: 50}, nil)
	read := b.keyWith(crm.ScopeRead)
	q := map[string]any{"question": "What did we promise?"}
	for i := range 3 {
		res := b.doKey(read, "POST", "/v1/ask", q)
		require.Equal(t, http.StatusOK, res.Status, "question %d: %s", i+1, res.Body)
		require.Equal(t, "3", res.Header.Get("RateLimit-Limit"), "the ask quota is closest to empty")
		require.Equal(t, strconv.Itoa(2-i), res.Header.Get("RateLimit-Remaining"))
		require.Equal(t, strconv.Itoa(20*(i+1)), res.Header.Get("RateLimit-Reset"))
	}
	res := b.doKey(read, "POST", "/v1/ask", q)
	require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
	require.Equal(t, "20", res.Header.Get("Retry-After"), "one question every 60s/3")
	require.Equal(t, "3", res.Header.Get("RateLimit-Limit"))
	require.Equal(t, "0", res.Header.Get("RateLimit-Remaining"))
	require.Contains(t, res.Map(t)["detail"], "questions with this API key")

	res = b.doKey(read, "GET", "/v1/accounts", nil)
	require.Equal(t, http.StatusOK, res.Status, "other routes still answer")
	require.Equal(t, "100", res.Header.Get("RateLimit-Limit"))
	require.Equal(t, "96", res.Header.Get("RateLimit-Remaining"), "3 questions and this; the refused one took nothing")

	b.mu.Lock()
	b.now = b.now.Add(20 * time.Second)
	b.mu.Unlock()
	require.Equal(t, http.StatusOK, b.doKey(read, "POST", "/v1/ask", q).Status, "a question 20 s later")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()

	t.Run("TwoServersShareTheBuckets", func(t *testing.T) {
		t.Parallel()
		b := setupLimits(t)
		q := RateLimits{KeyPerMinute: 5}
		servers := []http.Handler{b.server(q, nil), b.server(q, nil)}
		statuses := map[int]int{}
		for i := range 8 {
			b.handler = servers[i%2]
			statuses[b.do("GET", "/v1/accounts", nil).Status]++
		}
		require.Equal(t, map[int]int{200: 5, 429: 3}, statuses)
	})

	t.Run("OneOrgsFloodDoesNotLimitAnother", func(t *testing.T) {
		t.Parallel()
		b := setupLimits(t)
		b.handler = b.server(RateLimits{KeyPerMinute: 100, OrgPerMinute: 4}, nil)
		other := b.keyWith(crm.ScopeRead) // a second key of the same org shares the org quota
		for range 4 {
			require.Equal(t, http.StatusOK, b.do("GET", "/v1/accounts", nil).Status)
		}
		res := b.doKey(other, "GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusTooManyRequests, res.Status)
		require.Contains(t, res.Map(t)["detail"], "for this org")
		_, otherOrg := b.newOrg("Globex")
		res = b.doKey(otherOrg, "GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusOK, res.Status, "another org has its own quota")
		require.Equal(t, "3", res.Header.Get("RateLimit-Remaining"))
	})

	t.Run("PublicRoutesAreNotLimited", func(t *testing.T) {
		t.Parallel()
		b := setupLimits(t)
		b.handler = b.server(RateLimits{KeyPerMinute: 1, OrgPerMinute: 1}, nil)
		for range 3 {
			for _, p := range []string{"/healthz", "/openapi.json"} {
				res := b.do("GET", p, nil)
				require.Equal(t, http.StatusOK, res.Status)
				require.Empty(t, res.Header.Get("RateLimit-Limit"))
			}
		}
	})

	t.Run("ZeroQuotasDisableTheirBuckets", func(t *testing.T) {
		t.Parallel()
		b := setupLimits(t)
		b.handler = b.server(RateLimits{}, nil)
		for range 3 {
			res := b.do("GET", "/v1/accounts", nil)
			require.Equal(t, http.StatusOK, res.Status)
			require.Empty(t, res.Header.Get("RateLimit-Limit"))
		}
	})

	t.Run("RedisDownServesAndCounts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { _ = down.Close() })
		reg := prometheus.NewRegistry()
		h, err := NewHandler(Deps{Store: b.store, Registry: reg, RateLimits: RateLimits{KeyPerMinute: 1, OrgPerMinute: 1},
			RateLimiter: ratelimit.New(down, ratelimit.Config{})})
		require.NoError(t, err)
		b.handler = h
		for range 3 {
			res := b.do("GET", "/v1/accounts", nil)
			require.Equal(t, http.StatusOK, res.Status, "fail open")
			require.Empty(t, res.Header.Get("RateLimit-Limit"))
		}
		require.Equal(t, http.StatusCreated, b.do("POST", "/v1/accounts", map[string]any{"name": "Acme"}).Status)
		n := counterValue(t, reg, "logbook_ratelimit_failures_total", "")
		require.EqualValues(t, 4, n)
	})

	t.Run("RefusalsAreCountedByBucket", func(t *testing.T) {
		t.Parallel()
		b := setupLimits(t)
		reg := prometheus.NewRegistry()
		b.handler = b.server(RateLimits{KeyPerMinute: 1}, reg)
		b.do("GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusTooManyRequests, b.do("GET", "/v1/accounts", nil).Status)
		require.EqualValues(t, 1, counterValue(t, reg, "logbook_ratelimit_limited_total", "key"))
	})
}

// counterValue reads a counter from reg: the series whose only label has
// the value label, or the unlabelled one when label is "".
func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{%s}", name, label)
	return 0
}
