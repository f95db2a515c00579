package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// countingBody is a request body of n bytes of filler that counts what the
// handler reads of it, so a test sees whether a large body was read.
type countingBody struct {
	left int64
	read atomic.Int64
}

func newCountingBody(n int64) *countingBody { return &countingBody{left: n} }

func (c *countingBody) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), c.left))
	for i := range p[:n] {
		p[i] = ' '
	}
	c.left -= int64(n)
	c.read.Add(int64(n))
	return n, nil
}

func (c *countingBody) Close() error { return nil }

// TestTranscriptBodyBounded is issue #11's finding 4: a body declared over
// the limit is refused before any of it is read, a body without a length
// is read no further than the limit, and the signed hook refuses what it
// can from the headers (no org, no or a stale signature, no secret) without
// reading the body, and a bad signature after one bounded read, before the
// body is decoded.
func TestTranscriptBodyBounded(t *testing.T) {
	t.Parallel()
	b := trSetup(t, nil)
	res := b.do("POST", "/v1/settings/ingest-secret", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	secret := res.Map(t)["secret"].(string)
	noSecretOrg, _ := b.newOrg("No secret")
	now := time.Now()
	const big = 15 << 20 // under the limit: only the headers can refuse it unread
	over := int64(maxTranscriptBody + 1<<20)

	post := func(path string, body *countingBody, length int64, headers map[string]string) response {
		t.Helper()
		req := httptest.NewRequest("POST", path, nil)
		req.Body, req.ContentLength = body, length
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		b.checkDocumented(req, res)
		return res
	}
	keyed := map[string]string{"Authorization": "Bearer " + b.key}
	hook := func(org, sig string) map[string]string {
		h := map[string]string{"Logbook-Org": org}
		if sig != "" {
			h[crm.SignatureHeader] = sig
		}
		return h
	}
	// A signature that is well formed and fresh but signs nothing sent.
	fresh := crm.Sign(secret, now, []byte("another body"))

	for _, c := range []struct {
		name    string
		path    string
		size    int64
		length  int64 // -1: no Content-Length
		headers map[string]string
		status  int
		maxRead int64
	}{
		{"KeyedDeclaredOverLimit", "/v1/transcripts", over, over, keyed, 413, 0},
		{"KeyedUndeclaredOverLimit", "/v1/transcripts", over, -1, keyed, 413, maxTranscriptBody + 64<<10},
		{"HookDeclaredOverLimit", "/v1/hooks/transcripts", over, over, hook(b.orgID, fresh), 413, 0},
		{"HookUnsigned", "/v1/hooks/transcripts", big, big, hook(b.orgID, ""), 401, 0},
		{"HookMalformedSignature", "/v1/hooks/transcripts", big, big, hook(b.orgID, "sha256=abc"), 401, 0},
		{"HookStaleSignature", "/v1/hooks/transcripts", big, big,
			hook(b.orgID, crm.Sign(secret, now.Add(-10*time.Minute), nil)), 401, 0},
		{"HookNoOrg", "/v1/hooks/transcripts", big, big, hook("", fresh), 401, 0},
		{"HookOrgWithoutSecret", "/v1/hooks/transcripts", big, big, hook(noSecretOrg, fresh), 401, 0},
		{"HookUnknownOrg", "/v1/hooks/transcripts", big, big, hook(store.NewID(), fresh), 401, 0},
		// Read once (it has to be, to check the MAC), but never decoded:
		// the filler is not JSON, and the answer is 401, not 400.
		{"HookBadSignature", "/v1/hooks/transcripts", big, big, hook(b.orgID, fresh), 401, big},
		{"HookBadSignatureUndeclared", "/v1/hooks/transcripts", big, -1, hook(b.orgID, fresh), 401, big},
	} {
		body := newCountingBody(c.size)
		res := post(c.path, body, c.length, c.headers)
		require.Equal(t, c.status, res.Status, "%s: %s", c.name, res.Body)
		require.LessOrEqual(t, body.read.Load(), c.maxRead, "%s: bytes of the body read", c.name)
	}
	require.Zero(t, b.count("transcripts", b.orgID))
}

// TestTranscriptHookReplay is issue #11's finding 5: a signed delivery
// without external_id sent again within its window is refused (409) and
// stores nothing, however often; signing the same body afresh is a new
// delivery; a delivery that failed leaves no record and can be resent.
func TestTranscriptHookReplay(t *testing.T) {
	t.Parallel()
	b := trSetup(t, nil)
	res := b.do("POST", "/v1/settings/ingest-secret", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	secret := res.Map(t)["secret"].(string)
	in := trSegmentsBody(b.account("Acme"), "unused")
	delete(in, "external_id")
	body, err := json.Marshal(in)
	require.NoError(t, err)
	headers := func(sig string) map[string]string {
		return map[string]string{"Logbook-Org": b.orgID, crm.SignatureHeader: sig}
	}
	meetings := func() int { return b.count("activities", b.orgID) }

	sig := crm.Sign(secret, time.Now(), body)
	statuses := map[int]int{}
	for range 5 {
		res := b.hook(body, headers(sig))
		statuses[res.Status]++
		if res.Status == http.StatusUnauthorized {
			require.Contains(t, res.Map(t)["detail"], "already accepted", "%s", res.Body)
		}
	}
	require.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusUnauthorized: 4}, statuses)
	require.Equal(t, 1, meetings())
	require.Len(t, b.rec.take(), 1)

	// The same MAC among other v1 values is the same delivery.
	ts, v1, _ := strings.Cut(sig, ",")
	res = b.hook(body, headers(ts+",v1="+strings.Repeat("0", 64)+","+v1))
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Contains(t, res.Map(t)["detail"], "already accepted", "%s", res.Body)

	// Signed again (another timestamp): a new delivery of a meeting without
	// external_id, so a second meeting.
	again := b.hook(body, headers(crm.Sign(secret, time.Now().Add(-time.Minute), body)))
	b.accepted(again, http.StatusAccepted)
	require.Equal(t, 2, meetings())

	// A delivery that fails stores no record of its signature: sent again
	// as it was, it fails the same way rather than as a replay.
	bad := []byte(`{"source":"zoom","started_at":"2026-03-02T15:00:00Z"}`)
	badSig := crm.Sign(secret, time.Now(), bad)
	for range 2 {
		require.Equal(t, http.StatusUnprocessableEntity, b.hook(bad, headers(badSig)).Status)
	}
	require.Equal(t, 2, meetings())
}

// TestTranscriptHookReplayConcurrent sends one signed delivery five times
// at once, on a server with real connections (a private schema): exactly
// one stores its meeting, the others are 409.
func TestTranscriptHookReplayConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Schema(t)
	s := store.New(pool)
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Replays")
	require.NoError(t, err)
	secret, err := s.IngestSecretRotate(ctx, org.ID)
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	in := trSegmentsBody(acct.ID, "unused")
	delete(in, "external_id")
	body, err := json.Marshal(in)
	require.NoError(t, err)
	sig := crm.Sign(secret, time.Now(), body)

	statuses := make([]int, 5)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/v1/hooks/transcripts", bytes.NewReader(body))
			req.Header.Set("Logbook-Org", org.ID)
			req.Header.Set(crm.SignatureHeader, sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			statuses[i] = rec.Code
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusUnauthorized: 4}, counts)
	var meetings int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM activities WHERE org_id = $1`, org.ID).Scan(&meetings))
	require.Equal(t, 1, meetings)
}

// blockingBody is a body whose reads wait for the test: the handler holds
// the transcript budget while it reads.
type blockingBody struct {
	started chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingBody) Read([]byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return 0, errors.New("the client gave up")
}

func (b *blockingBody) Close() error { return nil }

// TestTranscriptBudget: while a maximum-size transcript is being read, the
// budget of one (TranscriptLimits) makes the next post wait, and one that
// waits longer than Wait is 503 with Retry-After; once the first is done
// the next goes through; a waiting client that goes away stops waiting.
func TestTranscriptBudget(t *testing.T) {
	t.Parallel()
	b := trSetup(t, func(d *Deps) { d.Transcripts = TranscriptLimits{Parses: 1, Wait: 50 * time.Millisecond} })
	acct := b.account("Acme")

	slow := &blockingBody{started: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest("POST", "/v1/transcripts", nil)
	req.Body, req.ContentLength = slow, maxTranscriptBody
	req.Header.Set("Authorization", "Bearer "+b.key)
	first := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { defer close(done); b.handler.ServeHTTP(first, req) }()
	<-slow.started // it holds the whole budget

	res := b.do("POST", "/v1/transcripts", trSegmentsBody(acct, "waits"))
	require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After: %q", res.Header.Get("Retry-After"))
	require.Positive(t, retry)

	// A client that goes away while waiting is let go at once, whatever
	// the wait left (the gate itself: authentication would notice first).
	gate := b.handler.(*server).h.transcripts
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := httptest.NewRequest("POST", "/v1/transcripts", strings.NewReader("{}")).WithContext(ctx)
	_, err = gate.enter(httptest.NewRecorder(), gone)
	require.ErrorIs(t, err, context.Canceled)

	close(slow.release)
	<-done
	require.Equal(t, http.StatusBadRequest, first.Code, "%s", first.Body)
	b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(acct, "after")), http.StatusAccepted)
}
