package browsertest

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestHomePage: the start page of a signed-in user greets them, passes
// axe-core at both widths and does not scroll sideways on a phone.
func TestHomePage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tb, _ := s.signedIn(crm.RoleRep)

	tb.visit("/", 200)
	require.Equal(t, "Hello, Dana Lee", tb.text("h1"))
	require.Equal(t, "Dana Lee · Org "+t.Name(), tb.text("header .who"), "the name, then the org")
	tb.check("home")
}

// TestNotFound: an unknown path and another org's account are the designed
// 404 page ("Not found", never a 403 that would say the record exists),
// signed in or not; the page passes axe-core.
func TestNotFound(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, token := s.user(s.OrgID, "admin@seller.test", "Admin", crm.RoleAdmin)
	tb := s.tab(token, desktop)
	_, hidden := s.otherOrg()

	for _, path := range []string{"/no/such/page", "/accounts/" + hidden.ID} {
		tb.visit(path, 404)
		require.Equal(t, "Not found", tb.text("h1"), path)
		require.NotContains(t, tb.text("main"), hidden.Name, path)
	}
	tb.check("not-found")
	tb.follow("main a", 200)
	require.Equal(t, "Hello, Admin", tb.text("h1"), "the 404 page leads to the start page")

	anon := s.tab("", phone)
	anon.visit("/no/such/page", 404)
	require.Equal(t, "Not found", anon.text("h1"))
}

// TestNoOtherHost: a page loads its assets from Logbook only (tab.visit
// fails on any request to another host) and says so in its
// Content-Security-Policy: every source is 'self', 'none' or data: (for
// images), and nothing is inline.
func TestNoOtherHost(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tb, _ := s.signedIn(crm.RoleRep)

	res := tb.visit("/", 200)
	var assets []string
	for _, r := range tb.requested() {
		u, err := url.Parse(r)
		require.NoError(t, err)
		require.Equal(t, s.URL, u.Scheme+"://"+u.Host, "%s: only Logbook's own host", r)
		assets = append(assets, u.Path)
	}
	require.Contains(t, assets, "/static/app.css")
	require.Contains(t, assets, "/static/app.js")

	csp := header(res.Headers, "Content-Security-Policy")
	require.NotEmpty(t, csp)
	directives := map[string][]string{}
	for d := range strings.SplitSeq(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		directives[f[0]] = f[1:]
		for _, src := range f[1:] {
			require.Contains(t, []string{"'self'", "'none'", "data:"}, src, "%s: no other host, nothing inline", f[0])
		}
	}
	require.Equal(t, []string{"'none'"}, directives["default-src"])
	require.Equal(t, []string{"'self'"}, directives["script-src"])
	require.Equal(t, []string{"'self'"}, directives["style-src"])
	require.Equal(t, []string{"'none'"}, directives["frame-ancestors"])
}

// TestSkipLink: the first Tab on a page reaches the skip link, which shows
// (in the viewport, with a focus outline) and moves the focus to main.
func TestSkipLink(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tb, _ := s.signedIn(crm.RoleRep)

	for _, vp := range []viewport{desktop, phone} {
		tb.resize(vp)
		tb.visit("/", 200)
		f := tb.tabTo()
		require.Equal(t, "a", f.Tag, "%s: the first Tab reaches %+v", vp.Name, f)
		require.Equal(t, "skip", f.Class)
		require.Equal(t, "Skip to content", f.Text)
		require.GreaterOrEqual(t, f.Left, 0.0, "%s: the focused skip link is on screen", vp.Name)
		require.LessOrEqual(t, f.Left+f.Width, float64(vp.Width), vp.Name)
		require.Positive(t, f.Height)
		require.NotEqual(t, "none", f.Outline, "focus is visible")

		tb.press(kb.Enter)
		f = tb.focus()
		require.Equal(t, "main", f.Tag, "%s: the skip link moves the focus to main, not %+v", vp.Name, f)
		require.Equal(t, "main", f.ID)
		tb.assertClean("skip link at " + vp.Name)
	}
}
