package app

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"logbook/api"
	"logbook/internal/ratelimit"
)

// rateLimiter returns the API's rate limiter and quotas (RATE_LIMIT_*), or
// a nil limiter when every quota is 0. It talks to Redis on a client of its
// own, closed when ctx ends: one whose context deadlines reach the socket
// and which never retries, so a Redis that hangs delays a request by at
// most the limiter's timeout before the API serves it unchecked (fail
// open), whatever the queue's client is configured to wait. Its keys start
// with QUEUE_PREFIX, like the queues', then "logbook:".
func (a *App) rateLimiter(ctx context.Context) (api.RateLimiter, api.RateLimits, error) {
	q := api.RateLimits{
		KeyPerMinute:    a.Cfg.RateLimitKeyPerMin,
		OrgPerMinute:    a.Cfg.RateLimitOrgPerMin,
		AskPerMinute:    a.Cfg.RateLimitAskPerMin,
		OrgAskPerMinute: a.Cfg.RateLimitOrgAskPerMin,
	}
	if q == (api.RateLimits{}) {
		return nil, q, nil
	}
	opt, err := redis.ParseURL(a.Cfg.RedisURL)
	if err != nil {
		return nil, q, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	const timeout = 250 * time.Millisecond
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	go func() {
		<-ctx.Done()
		_ = rdb.Close()
	}()
	return ratelimit.New(rdb, ratelimit.Config{Prefix: a.Cfg.QueuePrefix + "logbook:", Timeout: timeout}), q, nil
}
