package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// badPages serves pages that break every rule the harness checks, so the
// checks are seen to fail. One other host is on loopback (127.0.0.2), the
// other a name that cannot exist (.invalid), which the browser hands to its
// dead proxy without resolving it: neither request leaves the machine.
func badPages() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /strict", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>Strict</title></head><body><main>
<h1 style="color: red">Inline style</h1><script>document.title = "inline script ran"</script>
</main></body></html>`))
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>Broken</title>
<script src="/page.js"></script></head><body><main><h1>Broken</h1><img src="/missing.png" alt="missing">
<img src="http://127.0.0.2:9/pixel.png" alt=""><img src="http://logbook-test.invalid/pixel.png" alt="">
</main></body></html>`))
	})
	mux.HandleFunc("GET /page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte(`console.error("something broke"); setTimeout(() => { null.x; }, 0);`))
	})
	mux.HandleFunc("GET /inaccessible", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>Inaccessible</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>.wide { width: 2000px; height: 10px; background: #eee; }</style></head><body><main><h1>Form</h1>
<input type="text" name="q"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p class="wide" id="banner">wide</p></main></body></html>`))
	})
	return mux
}

// TestHarnessCatchesBadPages: the checks every browser test relies on
// report what they are for: a request to another host, a failed asset, a
// console error and an uncaught exception, CSP violations, axe-core's
// serious violations, a page wider than a phone, a missing CSP header.
func TestHarnessCatchesBadPages(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(badPages())
	t.Cleanup(srv.Close)
	tb := newTab(t, srv.URL, desktop)

	texts := func(ps []problem) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.String())
		}
		return strings.Join(out, "\n")
	}

	_, err := tb.navigate("/strict")
	require.NoError(t, err)
	ps, err := tb.takeProblems()
	require.NoError(t, err)
	got := texts(ps)
	require.Contains(t, got, "Content Security Policy", "an inline style and an inline script break the CSP:\n%s", got)

	res, err := tb.navigate("/broken")
	require.NoError(t, err)
	require.Empty(t, header(res.Headers, "Content-Security-Policy"))
	// The exception comes from a timer: wait for it.
	require.Eventually(t, func() bool {
		ps, err := tb.takeProblems()
		require.NoError(t, err)
		got += "\n" + texts(ps)
		return strings.Contains(got, "uncaught exception")
	}, actionTimeout, 50*time.Millisecond)
	for _, want := range []string{
		"a request to another host: http://127.0.0.2:9/pixel.png",
		srv.URL + "/missing.png answered 404",
		`console.error: "something broke"`,
		"uncaught exception",
		"loading http://logbook-test.invalid/pixel.png failed: net::ERR_PROXY_CONNECTION_FAILED", // the dead proxy: nothing left the machine
	} {
		require.Contains(t, got, want)
	}

	_, err = tb.navigate("/inaccessible")
	require.NoError(t, err)
	vs, err := tb.axeViolations()
	require.NoError(t, err)
	var serious []string
	for _, v := range vs {
		if v.serious() {
			serious = append(serious, v.ID)
		}
	}
	require.Subset(t, serious, []string{"label", "image-alt"}, "%v", vs)
	i := slices.IndexFunc(vs, func(v axeViolation) bool { return v.ID == "label" })
	require.Equal(t, []string{"input"}, vs[i].Nodes[0].Target)

	tb.resize(phone)
	o, err := tb.measureOverflow()
	require.NoError(t, err)
	require.True(t, o.scrolls(), "%+v", o)
	require.Equal(t, 375, o.ClientWidth)
	require.Contains(t, strings.Join(o.Wide, " "), "p#banner.wide")
	tb.resize(desktop)
	_, err = tb.takeProblems()
	require.NoError(t, err)
}

// TestREADMEScreenshot: readmeShot writes the PNG only when
// LOGBOOK_README_SCREENSHOT=1.
func TestREADMEScreenshot(t *testing.T) {
	srv := httptest.NewServer(badPages())
	t.Cleanup(srv.Close)
	tb := newTab(t, srv.URL, phone)
	_, err := tb.navigate("/inaccessible")
	require.NoError(t, err)
	dir := t.TempDir()

	t.Setenv("LOGBOOK_README_SCREENSHOT", "")
	tb.readmeShotIn(dir, "page.png")
	require.NoFileExists(t, filepath.Join(dir, "page.png"))

	t.Setenv("LOGBOOK_README_SCREENSHOT", "1")
	tb.readmeShotIn(dir, "page.png")
	b, err := os.ReadFile(filepath.Join(dir, "page.png"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "\x89PNG\r\n"), "a PNG")
	require.Equal(t, phone, tb.vp, "the tab is back at its viewport")
	_, err = tb.takeProblems()
	require.NoError(t, err)
}

// signInForm is a stand-in for the sign-in page of the shared contract
// (/login: fields email and password, a "Sign in" button; a session cookie
// and a redirect home on success), to test signInThroughForm on.
func signInForm() http.Handler {
	const csp = "default-src 'none'; style-src 'self'; form-action 'self'"
	page := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>Sign in</title></head><body><main>` + body + `</main></body></html>`))
	}
	form := `<h1>Sign in</h1><form method="post" action="/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form>`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { page(w, 200, form) })
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("email") != "dana@seller.test" || r.PostFormValue("password") != "correct horse" {
			page(w, http.StatusUnauthorized, `<p role="alert">Wrong email or password.</p>`+form)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s1" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		page(w, 200, `<h1>Hello</h1>`)
	})
	return mux
}

// TestSignInThroughForm: the helper fills the contract's sign-in form and
// lands where the form leads: home for the right password, the form again
// (401) for a wrong one.
func TestSignInThroughForm(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(signInForm())
	t.Cleanup(srv.Close)

	tb := newTab(t, srv.URL, desktop)
	res := tb.signInThroughForm("dana@seller.test", "wrong", http.StatusUnauthorized)
	require.Equal(t, srv.URL+"/login", res.URL)
	require.Equal(t, "Wrong email or password.", tb.text(`[role="alert"]`))

	res = tb.signInThroughForm("dana@seller.test", "correct horse", http.StatusOK)
	require.Equal(t, srv.URL+"/", res.URL)
	require.Equal(t, "Hello", tb.text("h1"))
}
