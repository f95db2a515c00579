package browsertest

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// axeSource is the vendored axe-core (testdata/axe, README.md there says
// which version and where from), read once.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		return "", fmt.Errorf("the vendored axe-core: %w", err)
	}
	return string(b), nil
})

// axeRules are the rule sets every page is checked against: WCAG 2.0 and
// 2.1, levels A and AA, and axe's best practices.
const axeRules = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]`

// axeViolation is one rule a page breaks, with the elements that break it.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeNode struct {
	// Target is the element's CSS selector path (one entry per frame or
	// shadow root).
	Target  []string `json:"target"`
	HTML    string   `json:"html"`
	Summary string   `json:"summary"`
}

// serious reports whether the violation fails a page: impact serious or
// critical.
func (v axeViolation) serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s [%s]", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %s  %s", strings.Join(n.Target, " "), n.HTML)
		if n.Summary != "" {
			fmt.Fprintf(&b, "\n        %s", strings.ReplaceAll(n.Summary, "\n", "\n        "))
		}
	}
	return b.String()
}

// axeViolations runs axe-core on the page the tab shows and returns every
// violation. axe is evaluated into the page over the DevTools protocol
// (Runtime.evaluate), which the page's CSP does not govern; the page never
// loads it itself.
func (tb *tab) axeViolations() ([]axeViolation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, err
	}
	loaded, err := tabRun(tb, actionTimeout, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := tabDo(tb, actionTimeout, chromedp.Evaluate[chromedp.Void](src+"\n;undefined")); err != nil {
			return nil, fmt.Errorf("load axe-core: %w", err)
		}
	}
	return tabRun(tb, actionTimeout, chromedp.Evaluate[[]axeViolation](`(async () => {
  const r = await axe.run(document, {runOnly: `+axeRules+`, resultTypes: ["violations"]});
  return r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, summary: n.failureSummary || ""}))}));
})()`, awaitPromise))
}

// axe fails the test on every serious or critical violation axe-core finds
// on the page (printing each rule, its help and the elements' selectors);
// the moderate and minor ones are logged.
func (tb *tab) axe(what string) {
	tb.t.Helper()
	vs, err := tb.axeViolations()
	if err != nil {
		tb.t.Fatalf("browsertest: axe on %s: %v", what, err)
	}
	for _, v := range vs {
		if v.serious() {
			tb.t.Errorf("accessibility, %s: %s", what, v)
		} else {
			tb.t.Logf("accessibility (not failing), %s: %s", what, v)
		}
	}
}
