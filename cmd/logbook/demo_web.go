package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// demoServeFlag adds -serve to the demo's flags and returns what decides,
// once they are parsed, whether the demo keeps its server up at the end:
// -serve (or -serve=true) does, -serve=false does not, and without the
// flag it does when the output is a terminal (a person ran it, and the web
// UI is there to open), not when it is a pipe or a log (CI), where the
// demo ends as it always did.
func demoServeFlag(fs *flag.FlagSet) func(tty bool) bool {
	serve := fs.Bool("serve", false, "keep the server (web UI and API) up after the demo until Ctrl-C; "+
		"the default when the output is a terminal (-serve=false ends at once)")
	return func(tty bool) bool {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "serve" })
		if set {
			return *serve
		}
		return tty
	}
}

// demoWeb checks that the web UI answers at base, prints its address, and,
// when keep, serves until ctx ends (Ctrl-C or SIGTERM); the caller's
// deferred stop then shuts the server down.
func demoWeb(ctx context.Context, w io.Writer, base string, keep bool) error {
	if err := webAnswers(ctx, base); err != nil {
		return fmt.Errorf("demo: the web UI at %s: %w", base, err)
	}
	fmt.Fprintf(w, "\nWeb UI: %s/\n", base)
	if !keep {
		fmt.Fprintln(w, "(run the demo in a terminal, or with -serve, to keep it up after the demo)")
		return nil
	}
	fmt.Fprintln(w, "Serving the web UI and the API until Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(w, "\nStopping.")
	return nil
}

// webAnswers reports whether GET base/ is answered as the web UI answers
// it for no one signed in: the start page, or a redirect to sign in.
func webAnswers(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	if err != nil {
		return err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("GET / answered %s", res.Status)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		return fmt.Errorf("GET / answered %s without a Content-Security-Policy: not the web UI", res.Status)
	}
	return nil
}
