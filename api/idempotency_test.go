package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/retrieval"
)

// doIdem sends a request with the bundle's admin key and Idempotency-Key
// key, and checks it against /openapi.json as doKey does.
func (b *testBundle) doIdem(key, method, path, body string, header ...string) response {
	b.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(idempotencyHeader, key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return b.serve(req)
}

// accountCount counts the org's accounts.
func (b *testBundle) accountCount() int {
	b.t.Helper()
	res := b.do("GET", "/v1/accounts?limit=200", nil)
	require.Equal(b.t, http.StatusOK, res.Status)
	return len(res.Map(b.t)["items"].([]any))
}

// scriptedAsker answers with the errors in fail first (nil: an answer),
// and, when gate is set, tells entered and waits for gate before
// answering.
type scriptedAsker struct {
	mu      sync.Mutex
	fail    []error
	calls   atomic.Int32
	entered chan struct{}
	gate    chan struct{}
}

func (a *scriptedAsker) Ask(ctx context.Context, q retrieval.Question, _ func(string) error) (retrieval.Answer, error) {
	a.calls.Add(1)
	if a.gate != nil {
		a.entered <- struct{}{}
		<-a.gate
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.fail) > 0 {
		err := a.fail[0]
		a.fail = a.fail[1:]
		if err != nil {
			return retrieval.Answer{}, err
		}
	}
	return retrieval.Answer{Answer: "Answer to " + q.Text, Grounded: false}, nil
}

// TestIdempotencyKeyTwoPostsOneAccount is finding 8's "two POSTs, two
// accounts": the same POST sent twice with one Idempotency-Key makes one
// account, and the second answer is the first's.
func TestIdempotencyKeyTwoPostsOneAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"name":"Acme","segment":"enterprise"}`
	first := b.doIdem("create-acme-1", "POST", "/v1/accounts", body)
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	second := b.doIdem("create-acme-1", "POST", "/v1/accounts", body)
	require.Equal(t, http.StatusCreated, second.Status, "%s", second.Body)
	require.Equal(t, first.Body, second.Body, "the same answer, byte for byte")
	require.Equal(t, first.Header.Get("Content-Type"), second.Header.Get("Content-Type"))
	require.Empty(t, first.Header.Get(replayedHeader))
	require.Equal(t, "true", second.Header.Get(replayedHeader))
	require.Equal(t, 1, b.accountCount(), "two POSTs with one key, one account")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()

	t.Run("AnotherBodyOrPathWithTheKeyIs422", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, http.StatusCreated, b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`).Status)
		res := b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Globex"}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{idempotencyHeader}, res.Fields(t))
		res = b.doIdem("k1", "POST", "/v1/users", `{"name":"Acme"}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "another route")
		res = b.doIdem("k1", "POST", "/v1/accounts?x=1", `{"name":"Acme"}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "another query")
		require.Equal(t, 1, b.accountCount())
	})

	t.Run("WithoutAKeyEveryPostRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 2 {
			require.Equal(t, http.StatusCreated, b.doIdem("", "POST", "/v1/accounts", `{"name":"Acme"}`).Status)
		}
		require.Equal(t, 2, b.accountCount())
	})

	t.Run("KeysBelongToTheAPIKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, http.StatusCreated, b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`).Status)
		b.key = b.keyWith(crm.ScopeWrite, crm.ScopeRead)
		res := b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`)
		require.Equal(t, http.StatusCreated, res.Status)
		require.Empty(t, res.Header.Get(replayedHeader))
		require.Equal(t, 2, b.accountCount())
	})

	t.Run("BadKeysAre400", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, k := range []string{strings.Repeat("x", 256), "caf\u00e9", "tab\there"} {
			res := b.doIdem(k, "POST", "/v1/accounts", `{"name":"Acme"}`)
			require.Equal(t, http.StatusBadRequest, res.Status, "%q", k)
			require.Equal(t, []string{idempotencyHeader}, res.Fields(t))
		}
		res := b.doIdem("", "POST", "/v1/accounts", `{"name":"Acme"}`, idempotencyHeader, "")
		require.Equal(t, http.StatusBadRequest, res.Status, "empty")
		res = b.doIdem("a", "POST", "/v1/accounts", `{"name":"Acme"}`, idempotencyHeader, "b")
		require.Equal(t, http.StatusBadRequest, res.Status, "sent twice")
		require.Equal(t, http.StatusCreated, b.doIdem(strings.Repeat("~", 255), "POST", "/v1/accounts", `{"name":"Acme"}`).Status)
		require.Equal(t, 1, b.accountCount())
	})

	t.Run("OtherMethodsIgnoreTheKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		for _, name := range []string{"Globex", "Initech"} {
			res := b.doIdem("k1", "PATCH", "/v1/accounts/"+id, fmt.Sprintf(`{"name":%q}`, name))
			require.Equal(t, http.StatusOK, res.Status)
			require.Equal(t, name, res.Map(t)["name"])
		}
	})

	t.Run("ClientErrorsAreKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := b.doIdem("k1", "POST", "/v1/accounts", `{"name":""}`)
		require.Equal(t, http.StatusUnprocessableEntity, first.Status)
		second := b.doIdem("k1", "POST", "/v1/accounts", `{"name":""}`)
		require.Equal(t, first.Status, second.Status)
		require.Equal(t, first.Body, second.Body)
		require.Equal(t, "application/problem+json", second.Header.Get("Content-Type"))
		require.Equal(t, "true", second.Header.Get(replayedHeader))
	})

	t.Run("ServerErrorsAreNotKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		asker := &scriptedAsker{fail: []error{fmt.Errorf("model down: %w", retrieval.ErrUnavailable), nil}}
		h, err := NewHandler(Deps{Store: b.store, Asker: asker})
		require.NoError(t, err)
		b.handler = h
		q := `{"question":"What did we promise?"}`
		res := b.doIdem("ask-1", "POST", "/v1/ask", q)
		require.Equal(t, http.StatusServiceUnavailable, res.Status)
		res = b.doIdem("ask-1", "POST", "/v1/ask", q)
		require.Equal(t, http.StatusOK, res.Status, "the retry ran: %s", res.Body)
		require.Empty(t, res.Header.Get(replayedHeader))
		again := b.doIdem("ask-1", "POST", "/v1/ask", q)
		require.Equal(t, res.Body, again.Body)
		require.Equal(t, "true", again.Header.Get(replayedHeader))
		require.EqualValues(t, 2, asker.calls.Load(), "the 503 ran, the retry ran, the third was replayed")
	})

	t.Run("StreamedAnswersRefuseTheKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.doIdem("ask-1", "POST", "/v1/ask", `{"question":"What did we promise?"}`, "Accept", "text/event-stream")
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, res.Map(t)["detail"], "text/event-stream")
	})

	t.Run("WhileTheFirstRunsTheSecondIs409", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		asker := &scriptedAsker{entered: make(chan struct{}), gate: make(chan struct{})}
		h, err := NewHandler(Deps{Store: b.store, Asker: asker})
		require.NoError(t, err)
		b.handler = h
		q := `{"question":"What did we promise?"}`
		done := make(chan response)
		go func() {
			req := httptest.NewRequest("POST", "/v1/ask", strings.NewReader(q))
			req.Header.Set("Authorization", "Bearer "+b.key)
			req.Header.Set(idempotencyHeader, "ask-1")
			rec := httptest.NewRecorder()
			b.handler.ServeHTTP(rec, req)
			done <- response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		}()
		<-asker.entered // the first request holds the key and waits in the model call
		res := b.doIdem("ask-1", "POST", "/v1/ask", q)
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		require.Equal(t, "1", res.Header.Get("Retry-After"))
		res = b.doIdem("ask-1", "POST", "/v1/ask", `{"question":"Something else?"}`)
		require.Equal(t, http.StatusConflict, res.Status, "in progress is 409 whatever the body")
		close(asker.gate)
		first := <-done
		require.Equal(t, http.StatusOK, first.Status)
		res = b.doIdem("ask-1", "POST", "/v1/ask", q)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, first.Body, res.Body)
		require.EqualValues(t, 1, asker.calls.Load())
	})

	t.Run("AKeyIsNewAgainAfter24Hours", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := time.Now()
		b.store.SetClock(func() time.Time { return now })
		require.Equal(t, http.StatusCreated, b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`).Status)
		now = now.Add(24*time.Hour - time.Second)
		require.Equal(t, "true", b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`).Header.Get(replayedHeader))
		now = now.Add(time.Second)
		res := b.doIdem("k1", "POST", "/v1/accounts", `{"name":"Acme"}`)
		require.Equal(t, http.StatusCreated, res.Status)
		require.Empty(t, res.Header.Get(replayedHeader))
		require.Equal(t, 2, b.accountCount())
	})

	t.Run("SecretsAreNeitherKeptNorShownTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := `{"name":"ci","scopes":["read"]}`
		first := b.doIdem("key-1", "POST", "/v1/api-keys", body)
		require.Equal(t, http.StatusCreated, first.Status)
		m := first.Map(t)
		secret, id := m["key"].(string), m["id"].(string)
		require.NotEmpty(t, secret)
		second := b.doIdem("key-1", "POST", "/v1/api-keys", body)
		require.Equal(t, http.StatusConflict, second.Status, "%s", second.Body)
		require.Equal(t, "true", second.Header.Get(replayedHeader))
		require.Contains(t, second.Map(t)["detail"], id)
		require.NotContains(t, string(second.Body), secret)
		keys := b.do("GET", "/v1/api-keys", nil).Map(t)["items"].([]any)
		require.Len(t, keys, 2, "the admin key and one new key")

		ctx := context.Background()
		p, err := b.store.APIKeyAuthenticate(ctx, b.key)
		require.NoError(t, err)
		claimed, kept, err := b.store.IdempotencyClaim(ctx, store.IdempotencyKey{OrgID: b.orgID, APIKeyID: p.KeyID, Key: "key-1"},
			store.NewID(), idemTTL, idemStale)
		require.NoError(t, err)
		require.False(t, claimed)
		require.True(t, kept.NoStore)
		require.False(t, bytes.Contains(kept.Body, []byte(secret)), "the secret is not stored: %s", kept.Body)
	})
}

// TestIdempotencyKeyConcurrent sends one POST with one key from many
// clients at once, on a database where each request commits: exactly one
// runs, and every other answer is its replay or 409.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Schema(t))
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org")
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)

	const n = 12
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req := httptest.NewRequest("POST", "/v1/accounts", strings.NewReader(`{"name":"Acme"}`))
			req.Header.Set("Authorization", "Bearer "+k.Key)
			req.Header.Set(idempotencyHeader, "same")
			results[i] = httptest.NewRecorder()
			h.ServeHTTP(results[i], req)
		})
	}
	close(start)
	wg.Wait()

	var created []byte
	for _, rec := range results {
		switch rec.Code {
		case http.StatusCreated:
			if created == nil {
				created = rec.Body.Bytes()
			}
			require.Equal(t, created, rec.Body.Bytes(), "every 201 is the same answer")
		case http.StatusConflict:
			require.Equal(t, "1", rec.Header().Get("Retry-After"))
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	require.NotNil(t, created)
	page, err := s.AccountList(ctx, org.ID, store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "exactly one request ran")
}
