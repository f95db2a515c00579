package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/web"
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
func demoWeb(ctx context.Context, w io.Writer, base string, signIn demoLogin, keep bool) error {
	if err := webAnswers(ctx, base); err != nil {
		return fmt.Errorf("demo: the web UI at %s: %w", base, err)
	}
	fmt.Fprintf(w, "\nWeb UI: %s/\n", base)
	fmt.Fprintf(w, "Sign in as %s with the password %s (this demo org's admin).\n", signIn.Email, signIn.Password)
	if !keep {
		fmt.Fprintln(w, "(run the demo in a terminal, or with -serve, to keep it up after the demo)")
		return nil
	}
	fmt.Fprintln(w, "Serving the web UI and the API until Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(w, "\nStopping.")
	return nil
}

// demoLogin is the sample org's sign-in.
type demoLogin struct{ Email, Password string }

// demoSignIn makes the demo org an admin who can sign in to the web UI,
// with a password made for this run (each run's org has its own; signing in
// picks the org whose password matches).
func demoSignIn(ctx context.Context, st *store.Store, orgID string) (demoLogin, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return demoLogin{}, err
	}
	var pw strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			pw.WriteByte('-')
		}
		pw.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	l := demoLogin{Email: "demo@" + sellerDomain, Password: pw.String()}
	in := crm.UserInput{Email: crm.Some(l.Email), Name: crm.Some("Demo Admin"), Role: crm.Some(crm.RoleAdmin)}
	if err := in.Validate(true); err != nil {
		return demoLogin{}, err
	}
	u, err := st.UserCreate(ctx, orgID, in)
	if err != nil {
		return demoLogin{}, fmt.Errorf("demo: sign-in user: %w", err)
	}
	if err := web.SetPassword(ctx, st, orgID, u.ID, l.Password); err != nil {
		return demoLogin{}, fmt.Errorf("demo: sign-in password: %w", err)
	}
	return l, nil
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
