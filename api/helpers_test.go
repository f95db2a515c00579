package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
// against /openapi.json: its status must be documented for the route, and
// errors must be problem+json.
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
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	b.checkDocumented(req, res)
	return res
}

// checkDocumented fails the test when a route answers with a status its
// OpenAPI entry does not list, or an error that is not problem+json.
func (b *testBundle) checkDocumented(req *http.Request, res response) {
	b.t.Helper()
	if res.Status >= 400 {
		require.Equal(b.t, "application/problem+json", res.Header.Get("Content-Type"), "error body: %s", res.Body)
	}
	path, ok := b.matchSpecPath(req.URL.Path)
	if !ok {
		require.Contains(b.t, []int{404, 405}, res.Status, "unrouted %s answered %d", req.URL.Path, res.Status)
		return
	}
	ops := b.spec["paths"].(map[string]any)[path].(map[string]any)
	op, ok := ops[strings.ToLower(req.Method)].(map[string]any)
	if !ok {
		require.Equal(b.t, 405, res.Status, "%s %s is not in the spec", req.Method, path)
		return
	}
	resps := op["responses"].(map[string]any)
	_, documented := resps[strconv.Itoa(res.Status)]
	require.True(b.t, documented, "%s %s answered %d, which /openapi.json does not list (body %s)", req.Method, path, res.Status, res.Body)
}

func (b *testBundle) matchSpecPath(p string) (string, bool) {
	for sp := range b.spec["paths"].(map[string]any) {
		if pathMatches(sp, p) {
			return sp, true
		}
	}
	return "", false
}

func pathMatches(pattern, p string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(p, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// create POSTs body to path, requires 201 and returns the new id.
func (b *testBundle) create(path string, body any) string {
	b.t.Helper()
	res := b.do("POST", path, body)
	require.Equal(b.t, http.StatusCreated, res.Status, "POST %s: %s", path, res.Body)
	return res.Map(b.t)["id"].(string)
}
