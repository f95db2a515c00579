package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// Idempotency-Key, with Stripe's semantics, on every POST route that
// takes an API key (the signed transcript hook has its own replay guard):
//
//   - The header is 1 to 255 printable ASCII characters (400 otherwise),
//     scoped to the API key that sends it. Other methods ignore it: GET,
//     PATCH and DELETE are idempotent already.
//   - The first request with a key claims it (in progress), runs, and its
//     response (status, Content-Type, Location, body) is kept for 24 hours
//     before it is sent. The same key with the same request (method, path
//     with query, and body, by SHA-256) answers that response again, with
//     Idempotent-Replayed: true; with another request, 422. A request while
//     the first is still running is 409 with Retry-After.
//   - 4xx answers are kept, like 2xx: the same request would fail the same
//     way. 5xx answers, and requests the client abandoned, are not: the key
//     is released so a retry runs. A request whose process died leaves its
//     key in progress; after idemStale it may be claimed again.
//   - A response that carries a secret (Cache-Control: no-store: a new API
//     key, webhook secret or ingest secret) is not kept, only its status
//     and the new object's id; a replay is 409 saying the request already
//     ran, so the secret is neither shown twice nor stored in the clear.
//   - Streamed answers (POST …/ask with Accept: text/event-stream) refuse
//     the header with 400: a stream is not a response that can be sent
//     again. Ask for JSON to use a key.
//   - Keys expire 24 hours after they were claimed: an expired key is
//     claimed anew, and each handler deletes expired keys lazily, at most
//     idemPurgeBatch per idemPurgeEvery, in the request that finds the
//     purge due (no worker is needed, and the delete is one index range).
//
// The body is hashed as the handler reads it, never buffered twice, so the
// header costs no memory beyond the handler's own limits.
const (
	idempotencyHeader = "Idempotency-Key"
	replayedHeader    = "Idempotent-Replayed"
	idemMaxKey        = 255
	idemTTL           = 24 * time.Hour
	// idemStale is how long a key may stay in progress before another
	// request may take it over: longer than any request runs (the server's
	// read timeout is 2 minutes, a model call is bounded by its client).
	idemStale = 10 * time.Minute
	// idemMaxBody is the most body a kept request may have: the largest
	// any POST route accepts (a batch of activities, a transcript).
	idemMaxBody    = max(maxBatchBody, maxTranscriptBody)
	idemPurgeEvery = time.Minute
	idemPurgeBatch = 1000
)

// idemKeptHeaders are the response headers a replay sends again.
var idemKeptHeaders = []string{"Content-Type", "Location"}

// idempotency is the handler's Idempotency-Key state.
type idempotency struct {
	// lastPurge is when (UnixNano) this handler last purged expired keys.
	lastPurge atomic.Int64
	// outcomes counts requests with a key by what became of them.
	outcomes *prometheus.CounterVec
}

func newIdempotency(reg prometheus.Registerer) (*idempotency, error) {
	i := &idempotency{outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "logbook_idempotent_requests_total",
		Help: "POST requests with an Idempotency-Key by outcome: executed (ran and kept), released (ran, not kept: 5xx or abandoned), replayed, mismatch (422), in_progress (409), invalid (400).",
	}, []string{"outcome"})}
	if err := reg.Register(i.outcomes); err != nil {
		return nil, fmt.Errorf("api: register idempotency metrics: %w", err)
	}
	return i, nil
}

// serve runs rt for an authenticated request: straight through when the
// request carries no Idempotency-Key (or the route ignores it), and under
// the key's rules otherwise.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, rt route, p crm.Principal) {
	values, has := r.Header[idempotencyHeader]
	if !has || rt.Method != http.MethodPost || rt.Scope == "" || h.idem == nil {
		h.run(w, r, rt, p)
		return
	}
	key, err := idempotencyKey(values)
	if err == nil && acceptsEventStream(r) {
		err = errStatus(http.StatusBadRequest,
			"%s cannot be used with a streamed answer (Accept: text/event-stream); ask for application/json to use one", idempotencyHeader)
	}
	if err != nil {
		h.idem.outcomes.WithLabelValues("invalid").Inc()
		h.writeError(w, r, err)
		return
	}
	h.purgeIdempotencyKeys(r.Context())
	k := store.IdempotencyKey{OrgID: p.OrgID, APIKeyID: p.KeyID, Key: key, Path: r.URL.Path}
	lockID := store.NewID()
	claimed, rec, err := h.store.IdempotencyClaim(r.Context(), k, lockID, idemTTL, idemStale)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if !claimed {
		h.replay(w, r, rec)
		return
	}
	h.runAndKeep(w, r, rt, p, k, lockID)
}

// run calls the route's handler and answers its error.
func (h *handler) run(w http.ResponseWriter, r *http.Request, rt route, p crm.Principal) {
	if err := rt.Handle(h, w, r, p); err != nil {
		h.writeError(w, r, err)
	}
}

// idempotencyKey checks the header's value: one, 1 to 255 printable ASCII
// characters.
func idempotencyKey(values []string) (string, error) {
	bad := func(msg string) error {
		return &httpError{status: http.StatusBadRequest, detail: idempotencyHeader + " " + msg,
			fields: []crm.FieldError{{Field: idempotencyHeader, Message: msg}}}
	}
	if len(values) != 1 {
		return "", bad("must be sent once")
	}
	v := values[0]
	if v == "" || len(v) > idemMaxKey {
		return "", bad(fmt.Sprintf("must be 1 to %d characters", idemMaxKey))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "", bad("must be printable ASCII")
		}
	}
	return v, nil
}

// replay answers a request whose key another request claimed: 409 while
// that one runs, 422 for another request, and the kept response for the
// same one.
func (h *handler) replay(w http.ResponseWriter, r *http.Request, rec store.IdempotencyRecord) {
	if rec.InProgress() {
		h.idem.outcomes.WithLabelValues("in_progress").Inc()
		w.Header().Set("Retry-After", "1")
		writeProblem(w, Problem{Status: http.StatusConflict,
			Detail: "a request with this " + idempotencyHeader + " is still in progress; retry when it has finished"})
		return
	}
	body := newHashingBody(r)
	complete, err := body.drain()
	if err != nil {
		h.writeError(w, r, errStatus(http.StatusBadRequest, "cannot read request body: %v", err))
		return
	}
	if !complete || !bytes.Equal(body.sum(), rec.RequestHash) {
		h.idem.outcomes.WithLabelValues("mismatch").Inc()
		writeProblem(w, Problem{Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused",
			Detail: "this " + idempotencyHeader + " was used for another request (method, path or body) in the last 24 hours; use a new key for a new request",
			Errors: []crm.FieldError{{Field: idempotencyHeader, Message: "was used for another request"}}})
		return
	}
	h.idem.outcomes.WithLabelValues("replayed").Inc()
	w.Header().Set(replayedHeader, "true")
	if rec.NoStore {
		detail := fmt.Sprintf("the request with this %s already ran (status %d), and its response held a secret that is shown only once and was not kept", idempotencyHeader, rec.Status)
		if id := secretlessID(rec.Body); id != "" {
			detail += "; it made " + id
		}
		writeProblem(w, Problem{Status: http.StatusConflict, Detail: detail})
		return
	}
	for name, v := range rec.Header {
		w.Header().Set(name, v)
	}
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// runAndKeep runs the handler of a request that claimed its key, keeps its
// response (or releases the key), then sends the response. Keeping comes
// first, so a client that retries the moment it has the answer is replayed,
// not told the request is still in progress.
func (h *handler) runAndKeep(w http.ResponseWriter, r *http.Request, rt route, p crm.Principal, k store.IdempotencyKey, lockID string) {
	body := newHashingBody(r)
	r.Body = body
	cw := &captureWriter{under: w, header: http.Header{}}
	// Keeping or releasing must happen even when the client has gone: a
	// key left in progress would refuse the client's retry until idemStale.
	bg := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	}
	panicked := true
	defer func() {
		if panicked {
			ctx, cancel := bg()
			defer cancel()
			if err := h.store.IdempotencyRelease(ctx, k, lockID); err != nil {
				h.log.ErrorContext(ctx, "release idempotency key after a panic", slog.Any("error", err))
			}
		}
	}()
	h.run(cw, r, rt, p)
	panicked = false
	if cw.status == 0 {
		cw.status = http.StatusOK
	}

	ctx, cancel := bg()
	defer cancel()
	complete, derr := body.drain()
	keep := cw.status < 500 && cw.status != 499 && r.Context().Err() == nil && complete && derr == nil
	if keep {
		rec := store.IdempotencyRecord{RequestHash: body.sum(), Status: cw.status, Header: map[string]string{}, Body: cw.body.Bytes()}
		for _, name := range idemKeptHeaders {
			if v := cw.header.Get(name); v != "" {
				rec.Header[name] = v
			}
		}
		if noStore(cw.header) {
			rec.NoStore, rec.Body = true, secretlessBody(cw.body.Bytes())
		}
		err := h.store.IdempotencyComplete(ctx, k, lockID, rec)
		if err != nil {
			// The response stands; the key stays in progress (or was taken
			// over) and a retry runs again once it is stale.
			h.log.ErrorContext(ctx, "keep idempotent response", slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		h.idem.outcomes.WithLabelValues("executed").Inc()
	} else {
		if err := h.store.IdempotencyRelease(ctx, k, lockID); err != nil {
			h.log.ErrorContext(ctx, "release idempotency key", slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		h.idem.outcomes.WithLabelValues("released").Inc()
	}
	for name, vs := range cw.header {
		w.Header()[name] = vs
	}
	w.WriteHeader(cw.status)
	_, _ = w.Write(cw.body.Bytes())
}

// purgeIdempotencyKeys deletes a batch of expired keys when this handler
// has not done so for idemPurgeEvery. A failure is logged: expired keys
// are ignored anyway, and the next purge takes them.
func (h *handler) purgeIdempotencyKeys(ctx context.Context) {
	last := h.idem.lastPurge.Load()
	now := time.Now().UnixNano()
	if now-last < int64(idemPurgeEvery) || !h.idem.lastPurge.CompareAndSwap(last, now) {
		return
	}
	if _, err := h.store.IdempotencyPurge(ctx, idemPurgeBatch); err != nil && ctx.Err() == nil {
		h.log.ErrorContext(ctx, "purge expired idempotency keys", slog.Any("error", err))
	}
}

// noStore reports whether a response's Cache-Control forbids keeping it.
func noStore(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-store") {
				return true
			}
		}
	}
	return false
}

// secretlessBody keeps only the id of a response that carries a secret.
func secretlessBody(b []byte) []byte {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &v) != nil || !crm.ValidID(v.ID) {
		return nil
	}
	out, _ := json.Marshal(v)
	return out
}

// secretlessID is the id secretlessBody kept, or "".
func secretlessID(b []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if len(b) == 0 || json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.ID
}

// hashingBody hashes a request (method, path and query, then the body) as
// the body is read.
type hashingBody struct {
	rc  io.ReadCloser
	h   hash.Hash
	n   int64
	eof bool
}

func newHashingBody(r *http.Request) *hashingBody {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.RequestURI())
	rc := r.Body
	if rc == nil {
		rc = http.NoBody
	}
	return &hashingBody{rc: rc, h: h}
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.rc.Close() }

// drain reads what the handler left of the body, up to idemMaxBody in all,
// and reports whether the whole body was read (and so hashed).
func (b *hashingBody) drain() (bool, error) {
	if !b.eof && b.n <= idemMaxBody {
		// Read reaches the body's EOF (and notes it) unless the body is
		// longer than idemMaxBody, where the LimitReader stops it.
		if _, err := io.Copy(io.Discard, io.LimitReader(b, idemMaxBody+1-b.n)); err != nil {
			return false, err
		}
	}
	return b.eof && b.n <= idemMaxBody, nil
}

func (b *hashingBody) sum() []byte { return b.h.Sum(nil) }

// captureWriter holds a handler's response until it has been kept.
type captureWriter struct {
	under  http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// Flush does nothing: the response is sent whole once it has been kept.
func (c *captureWriter) Flush() {}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.under }

// withPolicyDocs adds to docs the answers the rate limits and
// Idempotency-Key give on every route they apply to: 429 (with Retry-After)
// on every authenticated route, and the RateLimit headers its answers may
// carry (not when the limiter is off or cannot be reached: it fails open);
// on every authenticated POST, the Idempotency-Key header, 400, 409 and 422,
// and Idempotent-Replayed on a replayed answer.
func withPolicyDocs(rs []route, docs map[string]opDoc) map[string]opDoc {
	limits := []param{
		{Name: "RateLimit-Limit", Type: "integer", Description: "requests per minute of the quota closest to empty"},
		{Name: "RateLimit-Remaining", Type: "integer", Description: "requests left in that quota"},
		{Name: "RateLimit-Reset", Type: "integer", Description: "seconds until that quota is full again"},
	}
	replayed := param{Name: replayedHeader, Type: "string", Enum: []string{"true"},
		Description: "set when this is the kept answer to an earlier request with the same " + idempotencyHeader}
	for _, rt := range rs {
		if rt.Scope == "" {
			continue
		}
		key := rt.Method + " " + rt.Path
		d, ok := docs[key]
		if !ok || d.Resp == nil {
			continue // buildOpenAPI reports the missing entry
		}
		post := rt.Method == http.MethodPost
		for code, body := range d.Resp {
			if code < 200 || code > 299 {
				continue
			}
			hs := limits
			if post {
				hs = append(append([]param(nil), limits...), replayed)
			}
			if wh, ok := body.(withHeaders); ok {
				wh.Headers = append(append([]param(nil), wh.Headers...), hs...)
				d.Resp[code] = wh
			} else {
				d.Resp[code] = withHeaders{Body: body, Headers: hs}
			}
		}
		if _, ok := d.Resp[http.StatusTooManyRequests]; !ok {
			tooMany := []param{{Name: "Retry-After", Type: "integer", Required: true, Description: "seconds to wait before trying again"}}
			for _, l := range limits {
				l.Required = true
				tooMany = append(tooMany, l)
			}
			d.Resp[http.StatusTooManyRequests] = withHeaders{Body: Problem{}, Headers: tooMany}
		}
		if post {
			for _, c := range []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity} {
				if _, ok := d.Resp[c]; !ok {
					d.Resp[c] = Problem{}
				}
			}
			d.Headers = append(append([]param(nil), d.Headers...), param{Name: idempotencyHeader, Type: "string",
				Description: "1 to 255 printable ASCII characters; the same key with the same request answers the first response again (kept 24 hours)"})
		}
		docs[key] = d
	}
	return docs
}
