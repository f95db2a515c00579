package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/web"
)

// TestDemoServeFlag: the demo keeps serving with -serve, never with
// -serve=false, and otherwise only when its output is a terminal (CI's
// demo run, a pipe, ends as before).
func TestDemoServeFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		tty  bool
		want bool
	}{
		{nil, false, false},
		{nil, true, true},
		{[]string{"-serve"}, false, true},
		{[]string{"-serve=true"}, false, true},
		{[]string{"-serve=false"}, true, false},
		{[]string{"-serve=false"}, false, false},
		{[]string{"-timeout", "1m"}, true, true},
	}
	for _, tt := range tests {
		fs := newFlagSet("demo", "test", io.Discard)
		fs.Duration("timeout", time.Minute, "")
		keep := demoServeFlag(fs)
		require.NoError(t, parseFlags(fs, tt.args))
		require.Equal(t, tt.want, keep(tt.tty), "%v tty=%t", tt.args, tt.tty)
	}
	fs := newFlagSet("demo", "test", io.Discard)
	demoServeFlag(fs)
	require.Error(t, parseFlags(fs, []string{"-serve=maybe"}))
}

// TestDemoWeb: the demo prints the web UI's address once it answers; kept
// up, it returns when its context ends (Ctrl-C); a server that is not the
// web UI, or none, is an error.
func TestDemoWeb(t *testing.T) {
	t.Parallel()
	h, err := web.NewHandler(web.Deps{Store: store.New(testdb.Tx(t))})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	require.NoError(t, demoWeb(context.Background(), &out, srv.URL, demoLogin{Email: "demo@northwind.example", Password: "abcd-efgh-jkmn"}, false))
	require.Contains(t, out.String(), "Web UI: "+srv.URL+"/\n")
	require.Contains(t, out.String(), "Sign in as demo@northwind.example with the password abcd-efgh-jkmn")
	require.Contains(t, out.String(), "-serve")

	out.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- demoWeb(ctx, &out, srv.URL, demoLogin{}, true) }()
	select {
	case err := <-done:
		t.Fatalf("demoWeb returned before Ctrl-C: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("demoWeb kept serving after its context ended")
	}
	require.Contains(t, out.String(), "Serving the web UI and the API until Ctrl-C.")

	notWeb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(notWeb.Close)
	require.ErrorContains(t, demoWeb(context.Background(), io.Discard, notWeb.URL, demoLogin{}, false), "not the web UI")
	notWeb.Close()
	require.Error(t, demoWeb(context.Background(), io.Discard, notWeb.URL, demoLogin{}, false))
}

// TestDemoSignIn: the sign-in the demo prints works: its admin signs in on
// /login with the printed password, into the demo's org.
func TestDemoSignIn(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Tx(t))
	org, err := st.OrgCreate(ctx, "Northwind demo")
	require.NoError(t, err)
	l, err := demoSignIn(ctx, st, org.ID)
	require.NoError(t, err)
	require.Equal(t, "demo@northwind.example", l.Email)
	require.Regexp(t, `^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$`, l.Password)

	webH, err := web.NewHandler(web.Deps{Store: st})
	require.NoError(t, err)
	lb := &browser{t: t, h: webH, cookies: map[string]string{}}
	_, _, page := lb.do("GET", "/login", nil)
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m)
	code, _, page := lb.do("POST", "/login", url.Values{"csrf": {m[1]}, "email": {l.Email}, "password": {"wrong password!"}})
	require.NotEqual(t, http.StatusSeeOther, code, page)
	code, hd, page := lb.do("POST", "/login", url.Values{"csrf": {m[1]}, "email": {l.Email}, "password": {l.Password}})
	require.Equal(t, http.StatusSeeOther, code, page)
	require.Equal(t, "/", hd.Get("Location"))
	_, _, page = lb.do("GET", "/", nil)
	require.Contains(t, page, "Demo Admin")
}
