// Package browsertest holds the web UI's browser tests: Debian's headless
// Chromium, driven from Go over the DevTools protocol (chromedp), against
// the real Logbook (internal/app: the API, the web UI and the worker on a
// loopback port, over a private schema).
//
// The package has test files only: nothing imports it, and its tests may
// import anything (internal/archtest, kind test-only).
//
// One browser serves the whole test binary (TestMain starts it on first
// use and stops it at the end); each test has its own tab in a browser
// context of its own (cookies apart) and its own Logbook (newSite). Every
// page a test visits is held to the rules of the frame (tab.visit): no
// request to another host, no failed asset, no console error or CSP
// violation. tab.check adds the page-level rules: axe-core finds no serious
// or critical violation, and there is no horizontal scroll at a phone's
// width; it saves full-page screenshots at both widths.
//
// Environment:
//
//	LOGBOOK_ARTIFACTS=DIR      where screenshots go (relative to the module
//	                           root); default a directory under os.TempDir(),
//	                           printed at the start.
//	LOGBOOK_README_SCREENSHOT=1  readmeShot also writes docs/<name>.png.
//	LOGBOOK_CHROMIUM=PATH      another Chromium binary (default
//	                           /usr/bin/chromium, Debian's package).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// testBrowser is the one browser of the test binary, started by the first
// test that asks for it (browser).
var testBrowser struct {
	once   sync.Once
	ctx    context.Context // the browser's context: NewContext(ctx) is a tab
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBrowser.cancel != nil {
		testBrowser.cancel() // closes the browser and removes its profile
	}
	os.Exit(code)
}

// chromiumPath is the browser binary: LOGBOOK_CHROMIUM or Debian's.
func chromiumPath() string {
	if p := os.Getenv("LOGBOOK_CHROMIUM"); p != "" {
		return p
	}
	return defaultChromium
}

// browser returns the context of the shared browser, starting it on first
// use. Without Chromium the test fails (it never skips) and says how to
// install it.
func browser(t *testing.T) context.Context {
	t.Helper()
	testBrowser.once.Do(func() { testBrowser.ctx, testBrowser.cancel, testBrowser.err = startBrowser() })
	if testBrowser.err != nil {
		t.Fatalf("browsertest: %v", testBrowser.err)
	}
	return testBrowser.ctx
}

func startBrowser() (context.Context, context.CancelFunc, error) {
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no Chromium at %s (%v): run scripts/services.sh, which installs Debian's chromium "+
			"(CI runs it first)", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(int(desktop.Width), int(desktop.Height)),
		// Every request to a host other than this machine goes to a proxy
		// that is not there, so a page that names another host cannot
		// reach it (loopback never uses a proxy); tab.visit reports the
		// attempt.
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root (CI and these machines).
		opts = append(opts, chromedp.Flag("no-sandbox", true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	cancel := func() { cancelCtx(); cancelAlloc() }
	start, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	// The first Do starts the browser; its life is bound to ctx, not to
	// the timeout of this call (chromedp binds it to the context of the
	// first Run, so run it on ctx and watch the time apart).
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("starting %s: %w (run scripts/services.sh)", path, err)
		}
	case <-start.Done():
		cancel()
		return nil, nil, errors.New("starting " + path + ": no answer in 30 s")
	}
	return ctx, cancel, nil
}

// artifacts is the directory screenshots go to: LOGBOOK_ARTIFACTS
// (relative to the module root) or logbook-browser-artifacts under the
// system's temporary directory. It is made on first use and printed once.
var artifacts = sync.OnceValues(func() (string, error) {
	dir := os.Getenv("LOGBOOK_ARTIFACTS")
	switch {
	case dir == "":
		dir = filepath.Join(os.TempDir(), "logbook-browser-artifacts")
	case !filepath.IsAbs(dir):
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("artifacts: %w", err)
	}
	fmt.Fprintf(os.Stderr, "browsertest: screenshots in %s (LOGBOOK_ARTIFACTS)\n", dir)
	return dir, nil
})

// moduleRoot is the directory holding go.mod, above the working directory
// (go test runs in the package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
}
