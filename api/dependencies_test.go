package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/retrieval"
)

// frozenProxy forwards TCP connections to PostgreSQL. Freeze stops
// forwarding in both directions without closing anything, as a server
// stopped with SIGSTOP (or a network partition) looks to its clients:
// connections open, bytes accepted, no answer. Thaw lets everything through
// again.
type frozenProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	thaw  chan struct{} // non-nil while frozen; closed by Thaw
	conns []net.Conn
	done  bool
}

func newFrozenProxy(t *testing.T, target string) *frozenProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &frozenProxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *frozenProxy) Addr() string { return p.ln.Addr().String() }

func (p *frozenProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thaw == nil {
		p.thaw = make(chan struct{})
	}
}

func (p *frozenProxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thaw != nil {
		close(p.thaw)
		p.thaw = nil
	}
}

// gate blocks while the proxy is frozen.
func (p *frozenProxy) gate() {
	p.mu.Lock()
	ch := p.thaw
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func (p *frozenProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *frozenProxy) close() {
	_ = p.ln.Close()
	p.Thaw()
	p.mu.Lock()
	p.done = true
	cs := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
}

func (p *frozenProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *frozenProxy) serve(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	// A connection opened while frozen is accepted (the kernel does that
	// for a stopped server too) and then hears nothing.
	p.gate()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(u) {
		_ = c.Close()
		_ = u.Close()
		return
	}
	go p.pipe(u, c)
	p.pipe(c, u)
}

// pipe copies src to dst, holding each chunk while frozen. A read error
// (either side closed) closes both.
func (p *frozenProxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// routeRequest is a valid request for one route of the table: a body (and
// the hook's headers) that passes validation, so the handler goes on to the
// database.
type routeRequest struct {
	method, path string
	body         any
	header       map[string]string
}

// pathParam matches a path wildcard of the route table ("{id}").
var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// validRequests returns one valid request per route of the table. Every
// path wildcard ({id}, {delivery_id}) is id. A route this table does not know yet gets an empty object body.
func validRequests(id string) []routeRequest {
	when := "2026-03-10T15:00:00Z"
	bodies := map[string]any{
		"POST /v1/api-keys":            map[string]any{"name": "k", "scopes": []string{"read"}},
		"PATCH /v1/settings":           map[string]any{"require_disposition": true},
		"POST /v1/users":               map[string]any{"email": "dana@acme.com", "name": "Dana"},
		"PATCH /v1/users/{id}":         map[string]any{"name": "Dana"},
		"POST /v1/accounts":            map[string]any{"name": "Acme"},
		"PATCH /v1/accounts/{id}":      map[string]any{"name": "Acme"},
		"POST /v1/contacts":            map[string]any{"account_id": id, "name": "Wei"},
		"PATCH /v1/contacts/{id}":      map[string]any{"name": "Wei"},
		"POST /v1/deals":               map[string]any{"account_id": id, "name": "Renewal"},
		"PATCH /v1/deals/{id}":         map[string]any{"name": "Renewal"},
		"POST /v1/deals/{id}/reassign": map[string]any{"owner_id": id},
		"POST /v1/deals/reassign":      map[string]any{"owner_id": id, "deal_ids": []string{id}},
		"POST /v1/activities":          map[string]any{"type": "note", "account_id": id, "occurred_at": when, "body": "hello"},
		"PATCH /v1/activities/{id}":    map[string]any{"subject": "hello"},
		"POST /v1/transcripts": map[string]any{"source": "zoom", "started_at": when, "account_id": id,
			"segments": []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "Hello there."}}},
		"POST /v1/hooks/transcripts": map[string]any{"source": "zoom", "started_at": when, "account_id": id,
			"segments": []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "Hello there."}}},
		"PATCH /v1/action-items/{id}":     map[string]any{"status": "done"},
		"POST /v1/accounts/{id}/ask":      map[string]any{"question": "What did we promise?"},
		"POST /v1/ask":                    map[string]any{"question": "What did we promise?"},
		"POST /v1/webhooks":               map[string]any{"url": "https://93.184.216.34/logbook", "events": []string{"activity.created"}},
		"GET /v1/accounts/{id}/search":    nil,
		"POST /v1/connectors":             map[string]any{"kind": "ics", "name": "Team calendar"},
		"PATCH /v1/connectors/{id}":       map[string]any{"name": "Team calendar"},
		"POST /v1/connectors/{id}/resync": map[string]any{"from": time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)},
	}
	queries := map[string]string{
		"GET /v1/accounts/{id}/search": "?q=renewal",
		"GET /v1/search":               "?q=renewal",
	}
	var out []routeRequest
	for _, rt := range routes() {
		key := rt.Method + " " + rt.Path
		rq := routeRequest{method: rt.Method, path: pathParam.ReplaceAllString(rt.Path, id) + queries[key]}
		if b, ok := bodies[key]; ok {
			rq.body = b
		} else if rt.Method == http.MethodPost || rt.Method == http.MethodPatch || rt.Method == http.MethodPut {
			rq.body = map[string]any{}
		}
		if rt.Path == "/v1/hooks/transcripts" {
			// A fresh, well-formed signature: the hook checks its time
			// before it asks the database for the org's secret.
			rq.header = map[string]string{"Logbook-Org": id, crm.SignatureHeader: crm.Sign("not the secret", time.Now(), nil)}
		}
		out = append(out, rq)
	}
	return out
}

// timedResponse is one answer over HTTP and how long it took.
type timedResponse struct {
	req     routeRequest
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
	err     error
}

// sendAll sends every request at once to srv with key and waits for all.
func sendAll(t *testing.T, srv *httptest.Server, key string, reqs []routeRequest, clientTimeout time.Duration) []timedResponse {
	t.Helper()
	client := &http.Client{Timeout: clientTimeout}
	out := make([]timedResponse, len(reqs))
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd io.Reader
			if rq.body != nil {
				b, err := json.Marshal(rq.body)
				if err != nil {
					out[i] = timedResponse{req: rq, err: err}
					return
				}
				rd = bytes.NewReader(b)
			}
			req, err := http.NewRequest(rq.method, srv.URL+rq.path, rd)
			if err != nil {
				out[i] = timedResponse{req: rq, err: err}
				return
			}
			req.Header.Set("Authorization", "Bearer "+key)
			for k, v := range rq.header {
				req.Header.Set(k, v)
			}
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				out[i] = timedResponse{req: rq, err: err, elapsed: time.Since(start)}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			out[i] = timedResponse{req: rq, status: res.StatusCode, header: res.Header, body: b, elapsed: time.Since(start), err: err}
		}()
	}
	wg.Wait()
	return out
}

// requireUnavailable checks one answer of a route that needs the database:
// 503, Retry-After, problem+json, never 401 or 500.
func requireUnavailable(t *testing.T, r timedResponse) {
	t.Helper()
	what := r.req.method + " " + r.req.path
	require.NoError(t, r.err, "%s: no answer", what)
	require.Equal(t, http.StatusServiceUnavailable, r.status, "%s answered %d: %s", what, r.status, r.body)
	require.NotEmpty(t, r.header.Get("Retry-After"), "%s: 503 without Retry-After", what)
	require.Empty(t, r.header.Get("WWW-Authenticate"), "%s: a database failure must not ask for another key", what)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "%s", what)
	var p Problem
	require.NoError(t, json.Unmarshal(r.body, &p), "%s: %s", what, r.body)
	require.Equal(t, http.StatusServiceUnavailable, p.Status, "%s", what)
}

// checkPublic checks the answers of the routes that need no database.
func checkPublic(t *testing.T, r timedResponse) bool {
	t.Helper()
	what := r.req.method + " " + r.req.path
	switch r.req.path {
	case "/healthz", "/metrics", "/openapi.json":
		require.NoError(t, r.err, "%s", what)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", what, r.body)
		return true
	case "/readyz":
		require.NoError(t, r.err, "%s", what)
		require.Equal(t, http.StatusServiceUnavailable, r.status, "%s: %s", what, r.body)
		return true
	}
	return false
}

// principalAuth is an Auth that accepts every key as one principal.
type principalAuth crm.Principal

func (p principalAuth) Authenticate(context.Context, string) (crm.Principal, error) {
	return crm.Principal(p), nil
}

// TestFrozenDatabase freezes PostgreSQL behind a proxy and checks that every
// route of the route table answers within its deadline: 503 with
// Retry-After and problem+json where the route needs the database, never
// 401 (the key was good) and never a hang; /healthz stays 200 and /readyz
// says 503. Thawed, the API serves again.
func TestFrozenDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.DatabaseURL(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	proxy := newFrozenProxy(t, u.Host)
	u.Host = proxy.Addr()

	const (
		timeout     = time.Second
		longTimeout = 2 * time.Second
		margin      = 2 * time.Second
	)
	pool, err := store.Connect(ctx, u.String(), store.PoolConfig{MaxConns: 4, ConnectTimeout: timeout, StatementTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "Frozen")
	require.NoError(t, err)
	key, err := st.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)

	lp := local.New(384)
	rs, err := retrieval.New(retrieval.Config{Store: st, Embedder: lp, Completer: lp, EmbedModel: lp.Model()})
	require.NoError(t, err)
	ready := []ReadyCheck{{Name: "postgres", Check: func(ctx context.Context) error { return pool.Ping(ctx) }}}
	newServer := func(auth interface {
		Authenticate(context.Context, string) (crm.Principal, error)
	}) *httptest.Server {
		d := Deps{Store: st, Ready: ready, RequestTimeout: timeout, LongRequestTimeout: longTimeout, Asker: rs, Searcher: rs}
		if auth != nil {
			d.Auth = auth
		}
		h, err := NewHandler(d)
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	// byStore authenticates every request against the database; cached
	// stands for a key cache that still holds the key, so the requests
	// reach their handlers and the handlers' own statements.
	byStore := newServer(nil)
	cached := newServer(principalAuth(crm.Principal{OrgID: org.ID, KeyID: key.ID, Scopes: []crm.Scope{crm.ScopeAdmin}}))

	res, err := http.Get(byStore.URL + "/readyz")
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode, "ready before the freeze")

	proxy.Freeze()
	reqs := validRequests(uuid.NewString())
	deadline := func(r routeRequest) time.Duration {
		for _, rt := range routes() {
			if rt.Method == r.method && longRoute(rt) && pathMatches(rt.Path, strings.Split(r.path, "?")[0]) {
				return longTimeout
			}
		}
		return timeout
	}
	for name, srv := range map[string]*httptest.Server{"KeyCheckedByTheStore": byStore, "KeyCached": cached} {
		t.Run(name, func(t *testing.T) {
			var slowest timedResponse
			defer func() {
				t.Logf("%d routes frozen; slowest %s %s answered %d in %s", len(reqs), slowest.req.method, slowest.req.path, slowest.status, slowest.elapsed)
			}()
			for _, r := range sendAll(t, srv, key.Key, reqs, longTimeout+2*margin) {
				what := r.req.method + " " + r.req.path
				if r.elapsed > slowest.elapsed {
					slowest = r
				}
				require.LessOrEqual(t, r.elapsed, deadline(r.req)+margin, "%s took %s", what, r.elapsed)
				if checkPublic(t, r) {
					continue
				}
				requireUnavailable(t, r)
			}
		})
	}

	proxy.Thaw()
	require.Eventually(t, func() bool {
		req, err := http.NewRequest("GET", byStore.URL+"/v1/accounts", nil)
		if err != nil {
			return false
		}
		req.Header.Set("Authorization", "Bearer "+key.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the API did not recover once PostgreSQL answered again")
	res, err = http.Get(byStore.URL + "/readyz")
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode, "ready after the thaw")
}

// TestUnreachableDatabase points the API at a closed port: the keyed
// routes answer 503 (not 401: the key may be good), the signed hook 503
// (not 500).
func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	pool, err := pgxpool.New(context.Background(), fmt.Sprintf("postgres://postgres@%s/logbook?sslmode=disable&connect_timeout=2", addr))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	h, err := NewHandler(Deps{Store: store.New(pool)})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	for _, r := range sendAll(t, srv, store.KeyPrefix+"0123456789abcdef0123456789abcdef", validRequests(uuid.NewString()), 10*time.Second) {
		if r.req.path == "/readyz" || checkPublic(t, r) {
			continue
		}
		requireUnavailable(t, r)
	}
}
