package app

import (
	"time"

	"logbook/internal/ratelimit"
	"logbook/web"
)

// loginLimiter is the web UI's sign-in rate limiter: buckets per email and
// per client address in Redis, on the queue's client, under the same key
// prefix as the API's buckets (QUEUE_PREFIX, then "logbook:"). nil (no
// limit) when the App has no Redis client. A Redis failure lets a sign-in
// through (web/auth.go); the timeout bounds what a hung Redis costs one.
func (a *App) loginLimiter() web.LoginLimiter {
	if a.Redis == nil {
		return nil
	}
	return ratelimit.New(a.Redis, ratelimit.Config{Prefix: a.Cfg.QueuePrefix + "logbook:", Timeout: 250 * time.Millisecond})
}
