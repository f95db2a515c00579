package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// testBundle is a web UI over a rolled-back transaction, an org and a
// signed-in user of it.
type testBundle struct {
	t       *testing.T
	store   *store.Store
	handler http.Handler
	orgID   string
	user    crm.User
	// token and csrf are the signed-in user's session.
	token, csrf string
}

// setup makes an org with one user of role (rep when empty), signed in.
func setup(t *testing.T, role crm.Role) *testBundle {
	t.Helper()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID}
	b.user, b.token, b.csrf = b.signIn(org.ID, "dana@seller.test", "Dana Lee", role)
	return b
}

// signIn creates a user of the org and a session for them.
func (b *testBundle) signIn(orgID, email, name string, role crm.Role) (crm.User, string, string) {
	b.t.Helper()
	if role == "" {
		role = crm.RoleRep
	}
	in := crm.UserInput{Email: crm.Some(email), Name: crm.Some(name), Role: crm.Some(role)}
	require.NoError(b.t, in.Validate(true))
	u, err := b.store.UserCreate(context.Background(), orgID, in)
	require.NoError(b.t, err)
	ws, token, err := b.store.SessionCreate(context.Background(), orgID, u.ID, SessionTTL)
	require.NoError(b.t, err)
	return u, token, ws.CSRF
}

// answer is an answer of the web UI.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

// get requests path as the signed-in user (token "" for no one).
func (b *testBundle) get(path string) answer { return b.getAs(b.token, path) }

func (b *testBundle) getAs(token, path string) answer {
	b.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
	}
	return b.serve(req)
}

// post sends a form as the signed-in user with the session's CSRF token
// (unless form sets csrf itself).
func (b *testBundle) post(path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: b.token})
	return b.serve(req)
}

func (b *testBundle) serve(req *http.Request) answer {
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(b.t, err)
	return answer{Status: rec.Code, Header: rec.Header(), Body: string(body)}
}
