package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// viewport is a window size pages are checked at.
type viewport struct {
	Name          string
	Width, Height int64
	// Mobile applies the page's meta viewport and touch, as a phone does.
	Mobile bool
}

var (
	desktop = viewport{Name: "desktop", Width: 1280, Height: 900}
	phone   = viewport{Name: "phone", Width: 375, Height: 812, Mobile: true}
)

// actionTimeout bounds each browser step of a test (a page load, a
// script, a screenshot), so a page that never loads fails the test instead
// of hanging the binary.
const actionTimeout = 60 * time.Second

// queryTimeout bounds a step that waits for an element of a page already
// loaded (text, a click), so a selector that matches nothing fails fast.
const queryTimeout = 15 * time.Second

// tab is one browser tab of a test, in a browser context of its own (its
// own cookies), on one server. It watches everything the page does and
// keeps what breaks the frame's rules as problems: a request to another
// host, a failed or 4xx/5xx asset, a console error, an uncaught exception,
// a CSP violation. visit and the other steps fail the test on them, and so
// does the test's end. A test that provokes one on purpose (a fetch
// answered 422) takes it with takeProblems and checks it there.
type tab struct {
	t *testing.T
	// ctx is the tab's context (no deadline: each step sets its own).
	ctx  context.Context
	base *url.URL
	vp   viewport

	mu sync.Mutex
	// requests are the URLs the page asked for, in order.
	requests []string
	// urls are the requests by id, for the failures that name only an id.
	urls map[network.RequestID]string
	// problems are what broke the rules since the last takeProblems.
	problems []problem
}

// pagesLoaded counts each test's pages (visit, follow) across its tabs,
// for their screenshots' names: *testing.T → *atomic.Int64.
var pagesLoaded sync.Map

// problem is one thing a page did wrong.
type problem struct {
	// URL is the resource it is about (empty when none).
	URL string
	// Source is the browser's log source ("network", "security"…), for
	// telling a document's own error status from a failure.
	Source string
	Text   string
}

func (p problem) String() string {
	if p.URL != "" && !strings.Contains(p.Text, p.URL) {
		return p.Text + " (" + p.URL + ")"
	}
	return p.Text
}

// newTab opens a tab at vp on the server at base, in a browser context of
// its own. The test fails at its end on any problem not yet reported.
func newTab(t *testing.T, base string, vp viewport) *tab {
	t.Helper()
	bctx := browser(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("browsertest: base URL %q: %v", base, err)
	}
	tb := &tab{t: t, base: u, vp: vp, urls: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	// The first Do opens the tab and binds it to ctx (not to a timeout).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	tb.ctx = ctx
	t.Cleanup(func() {
		if !t.Failed() {
			tb.assertClean("at the end of the test")
		}
	})
	tb.resize(vp)
	return tb
}

// listen sees every event of the tab, in order, in the tab's read loop: it
// only records.
func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		tb.requests = append(tb.requests, u)
		tb.urls[ev.RequestID] = u
		if !tb.local(u) {
			tb.problems = append(tb.problems, problem{URL: u, Text: "a request to another host: " + u})
		}
	case *network.EventResponseReceived:
		if ev.Type != network.ResourceTypeDocument && ev.Response.Status >= 400 {
			tb.problems = append(tb.problems, problem{URL: ev.Response.URL,
				Text: fmt.Sprintf("%s answered %d", ev.Response.URL, ev.Response.Status)})
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			u := tb.urls[ev.RequestID]
			tb.problems = append(tb.problems, problem{URL: u,
				Text: strings.TrimSpace(fmt.Sprintf("loading %s failed: %s %s", u, ev.ErrorText, ev.BlockedReason))})
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		tb.problems = append(tb.problems, problem{URL: d.URL, Text: "uncaught exception: " + text})
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			tb.problems = append(tb.problems, problem{Text: "console." + string(ev.Type) + ": " + strings.Join(parts, " ")})
		}
	case *log.EventEntryAdded:
		if e := ev.Entry; e.Level == log.EntryLevelError {
			tb.problems = append(tb.problems, problem{URL: e.URL, Source: string(e.Source),
				Text: "browser log (" + string(e.Source) + "): " + e.Text})
		}
	}
}

// local reports whether u is served by the server under test (or needs no
// host: data:, about:blank).
func (tb *tab) local(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "about", "blob":
		return true
	}
	return u.Scheme == tb.base.Scheme && u.Host == tb.base.Host
}

// query is the tab's context for a step that waits for an element.
func (tb *tab) query() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, queryTimeout)
}

// url is path on the server.
func (tb *tab) url(path string) string { return tb.base.String() + path }

// tabRun runs one action on the tab, bounded by d.
func tabRun[T any](tb *tab, d time.Duration, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, d)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// tabDo runs actions that return nothing on the tab, bounded by d in all.
func tabDo(tb *tab, d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tb.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// run runs browser steps, failing the test on an error.
func (tb *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := tabDo(tb, actionTimeout, actions...); err != nil {
		tb.t.Fatalf("browsertest: %s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page (not subject to the
// page's CSP) and decodes its JSON value into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := tabRun(tb, actionTimeout, chromedp.Evaluate[T](expr, awaitPromise))
	if err != nil {
		tb.t.Fatalf("browsertest: evaluate %.80q: %v", expr, err)
	}
	return v
}

func awaitPromise(p *runtime.EvaluateParams) { p.AwaitPromise = new(true) }

// navigate loads path and returns the document's response, without
// judging it.
func (tb *tab) navigate(path string) (*network.Response, error) {
	return tabRun(tb, actionTimeout, chromedp.NavigateResponse(tb.url(path)))
}

// visit loads path, expects the document's status, and holds the page to
// the frame's rules: the Content-Security-Policy header is there, and
// nothing went wrong while it loaded (no request to another host, no failed
// asset, no console error or CSP violation). It saves a full-page
// screenshot at the tab's viewport (NN-path-viewport.png).
func (tb *tab) visit(path string, wantStatus int64) *network.Response {
	tb.t.Helper()
	res, err := tb.navigate(path)
	if err != nil {
		tb.t.Fatalf("browsertest: load %s: %v", path, err)
	}
	tb.checkDocument(path, res, wantStatus)
	return res
}

// follow clicks what sel finds and waits for the page it leads to, like
// visit.
func (tb *tab) follow(sel string, wantStatus int64) *network.Response {
	tb.t.Helper()
	res, err := clickToLoadOf(tb, chromedp.CSS(sel))
	if err != nil {
		tb.t.Fatalf("browsertest: click %s: %v", sel, err)
	}
	if res == nil {
		tb.t.Fatalf("browsertest: clicking %s loaded no page", sel)
	}
	tb.checkDocument(sel, res, wantStatus)
	return res
}

// clickToLoadOf waits (queryTimeout) for what sel finds to be visible,
// clicks it and waits (actionTimeout) for the page the click loads.
func clickToLoadOf[S chromedp.Selectable](tb *tab, sel S) (*network.Response, error) {
	ctx, cancel := tb.query()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
		return nil, fmt.Errorf("%w (waited up to %s for it)", err, queryTimeout)
	}
	ctx, cancel = context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	return chromedp.RunResponse(ctx, chromedp.Click(sel))
}

func (tb *tab) checkDocument(what string, res *network.Response, wantStatus int64) {
	tb.t.Helper()
	if res.Status != wantStatus {
		tb.t.Errorf("%s: status %d, want %d", what, res.Status, wantStatus)
	}
	if csp := header(res.Headers, "Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		tb.t.Errorf("%s: Content-Security-Policy %q, want one that starts from default-src 'none'", what, csp)
	}
	// The browser logs a document's error status as a failed load: that
	// is the status just checked, not a problem of the page.
	tb.assertClean(what, func(p problem) bool {
		return wantStatus >= 400 && p.Source == string(log.EntrySourceNetwork) && p.URL == res.URL
	})
	n, _ := pagesLoaded.LoadOrStore(tb.t, new(atomic.Int64))
	name := "page"
	if u, err := url.Parse(res.URL); err == nil && u.Path != "/" {
		name = u.Path
	}
	tb.shot(fmt.Sprintf("%02d-%s", n.(*atomic.Int64).Add(1), fileName(name)))
}

// header is a response header by name, whatever its case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// takeProblems returns the problems recorded so far (after the browser has
// sent every event of what ran before) and forgets them.
func (tb *tab) takeProblems() ([]problem, error) {
	// A round trip: the events the page sent before its answer have
	// reached listen when it returns.
	if _, err := tabRun(tb, actionTimeout, chromedp.Evaluate[int]("1")); err != nil {
		return nil, err
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	ps := tb.problems
	tb.problems = nil
	return ps, nil
}

// assertClean fails the test on every problem recorded so far that ignore
// (if any) does not excuse.
func (tb *tab) assertClean(what string, ignore ...func(problem) bool) {
	tb.t.Helper()
	ps, err := tb.takeProblems()
	if err != nil {
		tb.t.Errorf("browsertest: %s: %v", what, err)
		return
	}
next:
	for _, p := range ps {
		for _, ig := range ignore {
			if ig(p) {
				continue next
			}
		}
		tb.t.Errorf("%s: %s", what, p)
	}
}

// requested returns the URLs the page asked for so far.
func (tb *tab) requested() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}

// resize sets the tab's viewport (a phone's applies the meta viewport and
// touch); the page reflows in place.
func (tb *tab) resize(vp viewport) {
	tb.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tb.run("resize to "+vp.Name, chromedp.EmulateViewport(vp.Width, vp.Height, opts...))
	tb.vp = vp
}

// text is the visible text of the first element sel finds.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := tb.query()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("browsertest: text of %s: %v (waited up to %s)", sel, err, queryTimeout)
	}
	return strings.TrimSpace(s)
}

// press sends one key (kb.Tab, kb.Enter…) to the page.
func (tb *tab) press(key string) {
	tb.t.Helper()
	tb.run("press "+key, chromedp.KeyEvent(key))
}

// focused describes the element that has the focus.
type focused struct {
	Tag   string `json:"tag"`
	ID    string `json:"id"`
	Class string `json:"class"`
	Text  string `json:"text"`
	// Left, Top, Width and Height are its box in the viewport.
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Outline is its computed outline style ("none" when focus shows
	// nothing).
	Outline string `json:"outline"`
}

func (tb *tab) focus() focused {
	tb.t.Helper()
	return eval[focused](tb, `(() => {
  const e = document.activeElement, r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), id: e.id, class: typeof e.className === "string" ? e.className : "",
    text: (e.innerText || "").trim().slice(0, 80), left: r.left, top: r.top, width: r.width, height: r.height,
    outline: getComputedStyle(e).outlineStyle};
})()`)
}

// tabTo presses Tab and returns what has the focus then.
func (tb *tab) tabTo() focused {
	tb.t.Helper()
	tb.press(kb.Tab)
	return tb.focus()
}

// overflow is what makes a page wider than its viewport.
type overflow struct {
	ScrollWidth int `json:"scrollWidth"`
	ClientWidth int `json:"clientWidth"`
	// Wide are the first elements that reach past the right edge, or
	// whose content does, with how far (px).
	Wide []string `json:"wide"`
}

func (o overflow) scrolls() bool { return o.ScrollWidth > o.ClientWidth }

func (tb *tab) measureOverflow() (overflow, error) {
	return tabRun(tb, actionTimeout, chromedp.Evaluate[overflow](`(() => {
  const d = document.documentElement, w = d.clientWidth;
  const wide = d.scrollWidth <= w ? [] : Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > w + 0.5 ||
      (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible")).slice(0, 8)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
      (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "") +
      " (" + Math.round(Math.max(e.getBoundingClientRect().right, e.getBoundingClientRect().left + e.scrollWidth)) + "px)");
  return {scrollWidth: d.scrollWidth, clientWidth: w, wide};
})()`))
}

// noHorizontalScroll fails the test when the page is wider than the
// viewport (tables scroll inside a .table-wrap, never the page).
func (tb *tab) noHorizontalScroll(what string) {
	tb.t.Helper()
	o, err := tb.measureOverflow()
	if err != nil {
		tb.t.Fatalf("browsertest: measure %s: %v", what, err)
	}
	if o.scrolls() {
		tb.t.Errorf("%s at %dpx scrolls sideways: the page is %dpx wide; too wide: %s",
			what, tb.vp.Width, o.ScrollWidth, strings.Join(o.Wide, ", "))
	}
}

// check holds the page the tab shows to the rules every main page keeps,
// at the desktop's and the phone's width: axe-core finds no serious or
// critical violation, and at the phone's width nothing scrolls sideways;
// it saves a full-page screenshot at each width (name-desktop.png,
// name-phone.png). The tab ends at the viewport it had.
func (tb *tab) check(name string) {
	tb.t.Helper()
	was := tb.vp
	for _, vp := range []viewport{desktop, phone} {
		tb.resize(vp)
		tb.shot(name)
		tb.axe(name + " at " + vp.Name + " width")
		if vp.Mobile {
			tb.noHorizontalScroll(name)
		}
	}
	tb.resize(was)
	tb.assertClean(name)
}

// shot saves a full-page PNG of what the tab shows as
// <artifacts>/<test>/<name>-<viewport>.png.
func (tb *tab) shot(name string) string {
	tb.t.Helper()
	png, err := tabRun(tb, actionTimeout, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	dir, err := artifacts()
	if err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	dir = filepath.Join(dir, fileName(tb.t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	path := filepath.Join(dir, fileName(name)+"-"+tb.vp.Name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	return path
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName makes s (a test or page name) safe as a file name.
func fileName(s string) string { return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "_") }

// readmeShot writes a screenshot of what the tab shows, at the desktop's
// viewport (not the full page), as docs/<file> when
// LOGBOOK_README_SCREENSHOT=1, for the README:
//
//	LOGBOOK_README_SCREENSHOT=1 go test ./internal/browsertest -run TestX
//
// Without the variable it writes nothing there (the test's shots are still
// artifacts).
func (tb *tab) readmeShot(file string) {
	tb.t.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	tb.readmeShotIn(filepath.Join(root, "docs"), file)
}

func (tb *tab) readmeShotIn(dir, file string) {
	tb.t.Helper()
	if os.Getenv("LOGBOOK_README_SCREENSHOT") != "1" {
		return
	}
	was := tb.vp
	tb.resize(desktop)
	defer tb.resize(was)
	png, err := tabRun(tb, actionTimeout, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("browsertest: screenshot for the README: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatalf("browsertest: %v", err)
	}
	tb.t.Logf("README screenshot: %s", path)
}

// signInThroughForm signs in as a person does: it opens /login, types
// email and password into the form's fields (input[name=email],
// input[name=password]) and clicks its "Sign in" button. It returns the
// response of the page the form leads to (after any redirect), which the
// caller judges; the page is held to the frame's rules as visit does.
func (tb *tab) signInThroughForm(email, password string, wantStatus int64) *network.Response {
	tb.t.Helper()
	tb.visit("/login", 200)
	ctx, cancel := tb.query()
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password)); err != nil {
		tb.t.Fatalf("browsertest: fill in the sign-in form: %v (waited up to %s)", err, queryTimeout)
	}
	res, err := clickToLoadOf(tb, chromedp.Search(`//button[normalize-space(.)="Sign in"]`))
	if err != nil {
		tb.t.Fatalf("browsertest: click the Sign in button: %v", err)
	}
	if res == nil {
		tb.t.Fatal("browsertest: Sign in loaded no page")
	}
	tb.checkDocument("sign in", res, wantStatus)
	return res
}

// setCookie gives the tab's browser context a cookie for the server (as
// the server would have set it: HttpOnly, SameSite=Lax).
func (tb *tab) setCookie(name, value string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: name, Value: value, URL: tb.base.String() + "/", HTTPOnly: new(true), SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		tb.t.Fatalf("browsertest: set cookie %s: %v", name, err)
	}
}
