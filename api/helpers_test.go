package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// testBundle is one test's API on its own rolled-back transaction, with an
// org and an admin key already made.
type testBundle struct {
	t       *testing.T
	store   *store.Store
	handler http.Handler
	orgID   string
	key     string // admin key of orgID
	spec    map[string]any
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	var spec map[string]any
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &spec))
	b.spec = spec
	return b
}

// newOrg makes another org in the same transaction and returns its ID and
// an admin key.
func (b *testBundle) newOrg(name string) (string, string) {
	b.t.Helper()
	ctx := context.Background()
	org, err := b.store.OrgCreate(ctx, name)
	require.NoError(b.t, err)
	k, err := b.store.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(b.t, err)
	return org.ID, k.Key
}

// keyWith makes a key of the bundle's org holding scopes.
func (b *testBundle) keyWith(scopes ...crm.Scope) string {
	b.t.Helper()
	k, err := b.store.APIKeyCreate(context.Background(), b.orgID, "scoped", scopes)
	require.NoError(b.t, err)
	return k.Key
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as an object.
func (r response) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Fields lists the field names of a problem response.
func (r response) Fields(t *testing.T) []string {
	t.Helper()
	var p Problem
	r.JSON(t, &p)
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// do sends a request with the bundle's admin key. body may be a string (sent
// as is), []byte, or anything else (marshalled to JSON).
func (b *testBundle) do(method, path string, body any) response {
	b.t.Helper()
	return b.doKey(b.key, method, path, body)
}

// doKey sends a request with key ("" sends none). Every response is checked
// against /openapi.json (see checkDocumented).
func (b *testBundle) doKey(key, method, path string, body any) response {
	b.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		j, err := json.Marshal(v)
		require.NoError(b.t, err)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.serve(req)
}

// serve serves req (with whatever headers a test set) and checks the
// exchange against /openapi.json like doKey. The body is read first, so
// the request can be checked too.
func (b *testBundle) serve(req *http.Request) response {
	b.t.Helper()
	if req.Body != nil && req.GetBody == nil {
		raw, err := io.ReadAll(req.Body)
		require.NoError(b.t, err)
		req.Body = io.NopCloser(bytes.NewReader(raw))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	b.checkDocumented(req, res)
	return res
}

// checkDocumented fails the test when an exchange does not match the
// document the handler serves (checkExchange). Every response of the API
// tests goes through it, so a route, field, header or status added
// anywhere is checked with no list to keep.
func (b *testBundle) checkDocumented(req *http.Request, res response) {
	b.t.Helper()
	spec := b.handler.(interface{ spec() []byte }).spec()
	require.NoError(b.t, checkExchange(spec, req, res), "%s %s answered %d: %s", req.Method, req.URL, res.Status, res.Body)
}

// create POSTs body to path, requires 201 and returns the new id.
func (b *testBundle) create(path string, body any) string {
	b.t.Helper()
	res := b.do("POST", path, body)
	require.Equal(b.t, http.StatusCreated, res.Status, "POST %s: %s", path, res.Body)
	return res.Map(b.t)["id"].(string)
}

// pathMatches reports whether p fits the route pattern (a {name} segment
// fits any one non-empty segment).
func pathMatches(pattern, p string) bool {
	_, _, ok := matchPath([]string{pattern}, p)
	return ok
}
