package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
)

// Rate limits, per API key and per org, in Redis (internal/ratelimit), so
// every server of a deployment counts against the same quotas:
//
//   - Every authenticated request takes one request from its key's bucket
//     (RateLimits.KeyPerMinute) and its org's (OrgPerMinute); the ask routes,
//     which start model calls, also from a stricter per-key bucket
//     (AskPerMinute) and a per-org one (OrgAskPerMinute). All of a
//     request's buckets are checked and counted at once, all or nothing.
//     A bucket admits its whole quota at once, then refills continuously
//     (GCRA). A zero quota disables that bucket. Public routes (/healthz,
//     /readyz, /metrics, /openapi.json, the signed hook) are not limited.
//   - Responses carry the IETF draft's RateLimit-Limit, RateLimit-Remaining
//     and RateLimit-Reset (seconds until the bucket is full again) of the
//     bucket closest to empty: draft-ietf-httpapi-ratelimit-headers-06's
//     three fields, which clients and proxies read today, rather than the
//     later drafts' combined RateLimit/RateLimit-Policy, whose syntax is
//     still moving. A refused request is 429 problem+json with Retry-After
//     (seconds) and the refusing bucket's fields.
//   - When Redis cannot be asked, requests are served (fail open), the
//     failure is logged (at most once a minute) and counted in
//     logbook_ratelimit_failures_total: a Redis outage must not take the
//     API down, and the queue's reconciler already tolerates one. The
//     limiter stops asking Redis for a second after a failure, so a hung
//     Redis costs one request a short timeout, not every request.

// RateLimits are the quotas, in requests per minute; 0 disables one.
type RateLimits struct {
	// KeyPerMinute bounds one API key (RATE_LIMIT_KEY_PER_MIN).
	KeyPerMinute int
	// OrgPerMinute bounds all keys of an org (RATE_LIMIT_ORG_PER_MIN).
	OrgPerMinute int
	// AskPerMinute bounds one key's questions (RATE_LIMIT_ASK_PER_MIN).
	AskPerMinute int
	// OrgAskPerMinute bounds an org's questions (RATE_LIMIT_ORG_ASK_PER_MIN).
	OrgAskPerMinute int
}

// RateLimiter takes one request from several buckets of a partition (the
// org) at once (*ratelimit.Limiter).
type RateLimiter interface {
	Allow(ctx context.Context, partition string, buckets ...ratelimit.Bucket) (ratelimit.Decision, error)
}

// rateLimits is the handler's rate limiting state.
type rateLimits struct {
	limiter RateLimiter
	quotas  RateLimits
	// limited counts 429s by the refusing bucket; failures counts
	// requests served without a check because Redis failed.
	limited  *prometheus.CounterVec
	failures prometheus.Counter
	// lastLog is when (UnixNano) a failure was last logged.
	lastLog atomic.Int64
}

func newRateLimits(l RateLimiter, q RateLimits, reg prometheus.Registerer) (*rateLimits, error) {
	rl := &rateLimits{limiter: l, quotas: q,
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logbook_ratelimit_limited_total",
			Help: "Requests refused with 429 by the bucket that refused them (key, org, ask_key, ask_org).",
		}, []string{"bucket"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "logbook_ratelimit_failures_total",
			Help: "Requests served without a rate limit check because Redis could not be asked (fail open).",
		}),
	}
	for _, c := range []prometheus.Collector{rl.limited, rl.failures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return rl, nil
}

// isAsk reports whether rt starts model calls: the stricter buckets apply.
func isAsk(rt route) bool {
	return rt.Method == http.MethodPost && (rt.Path == "/v1/ask" || rt.Path == "/v1/accounts/{id}/ask")
}

// bucketNames name the buckets in metrics, parallel to buckets' order.
func (rl *rateLimits) buckets(rt route, p crm.Principal) ([]ratelimit.Bucket, []string) {
	var bs []ratelimit.Bucket
	var names []string
	add := func(name, key string, perMin int) {
		if perMin > 0 {
			bs = append(bs, ratelimit.Bucket{Name: key, Limit: perMin, Period: time.Minute})
			names = append(names, name)
		}
	}
	add("key", "key:"+p.KeyID, rl.quotas.KeyPerMinute)
	add("org", "org", rl.quotas.OrgPerMinute)
	if isAsk(rt) {
		add("ask_key", "ask:key:"+p.KeyID, rl.quotas.AskPerMinute)
		add("ask_org", "ask:org", rl.quotas.OrgAskPerMinute)
	}
	return bs, names
}

// allow checks an authenticated request against its buckets and sets the
// RateLimit headers. It answers 429 itself and returns false when the
// request may not run.
func (h *handler) allow(w http.ResponseWriter, r *http.Request, rt route, p crm.Principal) bool {
	rl := h.limits
	if rl == nil || rt.Scope == "" || p.OrgID == "" {
		return true
	}
	bs, names := rl.buckets(rt, p)
	if len(bs) == 0 {
		return true
	}
	d, err := rl.limiter.Allow(r.Context(), p.OrgID, bs...)
	if err != nil {
		if r.Context().Err() != nil {
			return true // the client left; the handler will notice
		}
		rl.failures.Inc()
		now := time.Now().UnixNano()
		if last := rl.lastLog.Load(); now-last >= int64(time.Minute) && rl.lastLog.CompareAndSwap(last, now) {
			h.log.ErrorContext(r.Context(), "rate limit check failed; serving without limits (logged once a minute)", slog.Any("error", err))
		}
		return true
	}
	hd := w.Header()
	hd.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	hd.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	hd.Set("RateLimit-Reset", strconv.FormatInt(ratelimit.Seconds(d.Reset), 10))
	if d.Allowed {
		return true
	}
	name := names[d.Bucket]
	rl.limited.WithLabelValues(name).Inc()
	retry := max(ratelimit.Seconds(d.RetryAfter), 1)
	hd.Set("Retry-After", strconv.FormatInt(retry, 10))
	writeProblem(w, Problem{Status: http.StatusTooManyRequests, Title: "Too Many Requests",
		Detail: "rate limit of " + strconv.Itoa(d.Limit) + " requests per minute " + bucketScope[name] +
			" reached; retry in " + strconv.FormatInt(retry, 10) + " s"})
	return false
}

// bucketScope says whose quota a bucket is, for the 429's detail.
var bucketScope = map[string]string{
	"key":     "for this API key",
	"org":     "for this org",
	"ask_key": "for questions with this API key",
	"ask_org": "for questions in this org",
}
