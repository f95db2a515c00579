// Package ratelimit counts requests against quotas kept in Redis, so every
// server of a deployment draws on the same buckets.
//
// A bucket is a GCRA (generic cell rate algorithm) cell: one Redis string
// holding its theoretical arrival time, in microseconds. A bucket of Limit
// requests per Period admits Limit requests at once and then one every
// Period/Limit, which is a token bucket of capacity Limit refilled
// continuously, kept in one number and no timer. Allow takes one request
// from several buckets in one Lua script, all or nothing: a request refused
// by one bucket (the org's) takes nothing from the others (the key's), and
// no other client's script can run between the checks and the writes.
//
// Time is Redis's own (TIME), so servers whose clocks disagree still agree
// on the buckets; tests pass a clock instead.
//
// The keys of one call share a Redis Cluster hash slot: they are named
// <prefix>ratelimit:{<partition>}:<bucket>, and callers pass the org as
// the partition.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bucket is one quota a request draws on.
type Bucket struct {
	// Name identifies the bucket within its partition ("key:<id>", "org").
	Name string
	// Limit is how many requests the bucket admits per Period, and also
	// how many it admits at once when it is full. It must be positive.
	Limit int
	// Period is the window of Limit; zero is a minute.
	Period time.Duration
}

// Decision is Allow's answer, about the bucket that matters most: the one
// that refused the request or, when all admitted it, the one with the
// fewest requests left (the first of those with the smallest Limit on a
// tie).
type Decision struct {
	// Allowed is true when every bucket admitted the request (and each
	// counted it).
	Allowed bool
	// Bucket is the index in Allow's buckets of the bucket described.
	Bucket int
	// Limit is that bucket's Limit.
	Limit int
	// Remaining is how many more requests that bucket admits right now.
	Remaining int
	// Reset is how long until that bucket is full again.
	Reset time.Duration
	// RetryAfter, when the request was refused, is how long until that
	// bucket admits one request.
	RetryAfter time.Duration
}

// ErrUnavailable is returned, wrapped, when Redis cannot be asked: the
// call failed, or one failed less than Config.Cooldown ago. The caller
// decides whether to serve anyway.
var ErrUnavailable = errors.New("ratelimit: redis unavailable")

// Config tunes a Limiter. Every zero value has a default.
type Config struct {
	// Prefix starts every key (QUEUE_PREFIX in Logbook), so deployments and
	// tests sharing a Redis keep their buckets apart.
	Prefix string
	// Now, when set, is the clock (tests); nil asks Redis for its time.
	Now func() time.Time
	// Timeout bounds one call to Redis (default 250ms). The client must
	// have ContextTimeoutEnabled for the bound to reach the socket.
	Timeout time.Duration
	// Cooldown is how long after a failed call Allow answers
	// ErrUnavailable without trying Redis (default 1s), so a Redis that
	// hangs costs one request a timeout per Cooldown, not every request.
	Cooldown time.Duration
}

// Limiter takes requests from buckets in Redis. It is safe for concurrent
// use.
type Limiter struct {
	rdb redis.Scripter
	cfg Config
	// downUntil is when (UnixNano) Allow may try Redis again after a
	// failure; 0 when the last call succeeded.
	downUntil atomic.Int64
}

// New returns a Limiter on rdb.
func New(rdb redis.Scripter, cfg Config) *Limiter {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Second
	}
	return &Limiter{rdb: rdb, cfg: cfg}
}

// gcra takes one request from every bucket, or from none.
//
// KEYS: the buckets' keys.
// ARGV[1]: now in microseconds since the epoch, or 0 for Redis's TIME.
// ARGV[2i], ARGV[2i+1]: bucket i's emission interval T (Period/Limit) and
// tolerance (Period), in microseconds.
// Returns {allowed (1 or 0), then per bucket: remaining, reset (µs),
// retry after (µs; 0 when the bucket admits the request)}.
//
// A bucket's value is its theoretical arrival time (TAT): a request
// arriving at now is admitted when TAT+T-tolerance <= now, and moves TAT to
// max(TAT, now)+T. The key expires when TAT passes, which is when the
// bucket is full again and need not be remembered.
var gcra = redis.NewScript(`
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local allowed = 1
local out = {0}
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new = tat + interval
  local allow_at = new - tolerance
  if allow_at > now then
    allowed = 0
    table.insert(out, 0)
    table.insert(out, tat - now)
    table.insert(out, allow_at - now)
  else
    table.insert(out, math.floor((now - allow_at) / interval))
    table.insert(out, new - now)
    table.insert(out, 0)
  end
  tats[i] = new
end
out[1] = allowed
if allowed == 1 then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000))
  end
end
return out
`)

// Key is the Redis key of bucket name in partition.
func (l *Limiter) Key(partition, name string) string {
	return l.cfg.Prefix + "ratelimit:{" + partition + "}:" + name
}

// Allow takes one request from each of buckets, all partitioned by
// partition (the org), or from none of them when any is empty. The
// Decision describes the bucket that matters most. An error wraps
// ErrUnavailable; nothing was counted.
func (l *Limiter) Allow(ctx context.Context, partition string, buckets ...Bucket) (Decision, error) {
	if len(buckets) == 0 {
		return Decision{Allowed: true, Bucket: -1}, nil
	}
	if until := l.downUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return Decision{}, fmt.Errorf("%w: a call failed less than %s ago", ErrUnavailable, l.cfg.Cooldown)
	}
	keys := make([]string, len(buckets))
	args := make([]any, 0, 1+2*len(buckets))
	var now int64
	if l.cfg.Now != nil {
		now = l.cfg.Now().UnixMicro()
	}
	args = append(args, now)
	for i, b := range buckets {
		if b.Limit <= 0 {
			return Decision{}, fmt.Errorf("ratelimit: bucket %q has limit %d; it must be positive", b.Name, b.Limit)
		}
		period := b.Period
		if period <= 0 {
			period = time.Minute
		}
		keys[i] = l.Key(partition, b.Name)
		args = append(args, max(period.Microseconds()/int64(b.Limit), 1), period.Microseconds())
	}
	cctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	vals, err := gcra.Run(cctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		if ctx.Err() == nil {
			l.downUntil.Store(time.Now().Add(l.cfg.Cooldown).UnixNano())
		}
		return Decision{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.downUntil.Store(0)
	if len(vals) != 1+3*len(buckets) {
		return Decision{}, fmt.Errorf("%w: the script answered %d values for %d buckets", ErrUnavailable, len(vals), len(buckets))
	}
	d := Decision{Allowed: vals[0] == 1, Bucket: -1}
	for i, b := range buckets {
		remaining, reset, retry := int(vals[1+3*i]), usec(vals[2+3*i]), usec(vals[3+3*i])
		c := Decision{Allowed: d.Allowed, Bucket: i, Limit: b.Limit, Remaining: min(remaining, b.Limit), Reset: reset, RetryAfter: retry}
		switch {
		case d.Bucket < 0:
			d = c
		case !d.Allowed:
			// The refusing bucket that admits a request last.
			if c.RetryAfter > d.RetryAfter {
				d = c
			}
		case c.Remaining < d.Remaining || (c.Remaining == d.Remaining && c.Limit < d.Limit):
			d = c
		}
	}
	return d, nil
}

func usec(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// Seconds rounds d up to whole seconds, as the RateLimit-Reset and
// Retry-After headers count: a client that waits that long is not refused
// again for having come a fraction of a second early.
func Seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}
