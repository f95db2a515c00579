package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/retrieval"
)

// demoMeeting is one entry of examples/meetings.json.
type demoMeeting struct {
	File            string            `json:"file"`
	Format          string            `json:"format"`
	Title           string            `json:"title"`
	StartedAt       string            `json:"started_at"`
	DurationSeconds int               `json:"duration_seconds"`
	Source          string            `json:"source"`
	ExternalID      string            `json:"external_id"`
	Account         demoAccount       `json:"account"`
	Participants    []crm.Participant `json:"participants"`
}

type demoAccount struct {
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// sellerDomain is the demo company's email domain: participants on it are
// users, everyone else a contact of their account.
const sellerDomain = "northwind.example"

// cmdDemo is the README's first command: the real pipeline on sample
// transcripts, offline. It migrates the database, runs Logbook (API and
// worker) in this process on a loopback port with the configured provider
// (the offline local one by default), creates a demo org with the accounts,
// users and contacts of the meetings in examples/, posts each transcript
// through the public API exactly as a note-taker would, shows progress while
// the workers process them, and prints every meeting's summary, decisions,
// risks, action items with the transcript lines they came from, and the
// drafted follow-up email.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("demo", "The offline demo: migrate, run Logbook (API and worker) in this process, post the sample meetings in\nexamples/ through the API and print their notes.", stderr)
	dir := fs.String("examples", "examples", "directory with meetings.json and the transcripts it lists")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for processing")
	keepServing := demoServeFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	meetings, err := loadDemoMeetings(*dir)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	step := func(format string, a ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", a...) }
	step("migrating %s", app.RedactURL(cfg.DatabaseURL))
	if _, err := app.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	// Connectors seal their secrets with LOGBOOK_SECRET_KEY: without one,
	// the demo makes a key for this run (what it seals does not open in
	// another run).
	demoKey := ""
	if strings.TrimSpace(getenv("LOGBOOK_SECRET_KEY")) == "" {
		demoKey = secretbox.NewKey()
		step("no LOGBOOK_SECRET_KEY set: using a key made for this run (`logbook secret-key` makes one to keep)")
	}
	quiet := func(k string) string {
		if k == "LOG_LEVEL" && getenv(k) == "" {
			return "error"
		}
		if k == "LOGBOOK_SECRET_KEY" && demoKey != "" {
			return demoKey
		}
		// The capture act's connectors reach the local test servers.
		if k == "CONNECTOR_ALLOW_PRIVATE" {
			return demoConnectorAllow(getenv(k))
		}
		return getenv(k)
	}
	a, err := openApp(ctx, stderr, quiet)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w (run scripts/services.sh)", app.RedactURL(a.Cfg.RedisURL), err)
	}
	// Private queues: a Logbook already running on this Redis is not disturbed.
	base, stop, err := a.RunPrivate(ctx, fmt.Sprintf("demo-%d-", os.Getpid()))
	if err != nil {
		return err
	}
	defer func() {
		if err := stop(); err != nil {
			fmt.Fprintf(stderr, "demo: %v\n", err)
		}
	}()
	provider := a.Cfg.LLMProvider
	if provider == "local" {
		provider = "local (offline, extractive)"
	}
	step("Logbook is serving on %s with a worker; model provider: %s", base, provider)

	orgID, key, err := app.CreateOrg(ctx, store.New(a.Pool), "Northwind demo "+time.Now().UTC().Format("2006-01-02 15:04:05"))
	if err != nil {
		return err
	}
	c := &demoClient{ctx: ctx, http: &http.Client{Timeout: 30 * time.Second}, base: base, key: key}
	accounts := map[string]string{}
	users := map[string]string{}
	for _, m := range meetings {
		if _, ok := accounts[m.Account.Name]; !ok {
			accounts[m.Account.Name] = c.post("/v1/accounts", map[string]any{"name": m.Account.Name, "domains": m.Account.Domains})
		}
		for _, p := range m.Participants {
			if crm.EmailDomain(p.Email) == sellerDomain {
				if _, ok := users[p.Email]; !ok {
					users[p.Email] = c.post("/v1/users", map[string]any{"email": p.Email, "name": p.Name, "role": "rep"})
				}
				continue
			}
			if _, ok := users[p.Email]; !ok {
				users[p.Email] = c.post("/v1/contacts", map[string]any{"account_id": accounts[m.Account.Name], "name": p.Name, "email": p.Email})
			}
		}
	}
	if c.err != nil {
		return c.err
	}
	step("created org %s with %d accounts and their people", orgID, len(accounts))

	type posted struct {
		m  demoMeeting
		id string
		// activity is the meeting activity the notes attach to.
		activity string
	}
	var all []posted
	for _, m := range meetings {
		content, err := os.ReadFile(filepath.Join(*dir, m.File))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// No account_id: the note-taker knows only the participants, and
		// Logbook resolves the account from their emails.
		body := map[string]any{"source": m.Source, "external_id": m.ExternalID, "title": m.Title, "started_at": m.StartedAt,
			"duration_seconds": m.DurationSeconds, "participants": m.Participants, "format": m.Format, "content": string(content)}
		var res struct {
			ID         string `json:"id"`
			ActivityID string `json:"activity_id"`
			Status     string `json:"status"`
		}
		if err := app.PostJSON(ctx, c.http, base+"/v1/transcripts", key, body, &res, http.StatusAccepted); err != nil {
			return err
		}
		all = append(all, posted{m: m, id: res.ID, activity: res.ActivityID})
		// A note-taker's retry of the same meeting changes nothing (200).
		if m.File == meetings[0].File {
			if err := app.PostJSON(ctx, c.http, base+"/v1/transcripts", key, body, &res, http.StatusOK); err != nil {
				return fmt.Errorf("demo: idempotent re-post: %w", err)
			}
		}
	}
	step("posted %d transcripts (%s); a re-post of the first was answered 200 and changed nothing", len(all), formatsOf(meetings))

	// Progress while the workers process them.
	deadline := time.Now().Add(*timeout)
	start := time.Now()
	tty := isTerminal(stdout)
	last := ""
	for {
		counts := map[string]int{}
		var failed []string
		for _, p := range all {
			var t struct {
				Status string  `json:"status"`
				Error  *string `json:"error"`
			}
			if err := app.GetJSON(ctx, c.http, base+"/v1/transcripts/"+p.id, key, &t); err != nil {
				return err
			}
			counts[t.Status]++
			if t.Status == "failed" && t.Error != nil {
				failed = append(failed, p.m.Title+": "+*t.Error)
			}
		}
		finished := counts["done"] + counts["failed"]
		line := fmt.Sprintf("%s %d/%d processed (queued %d, processing %d, failed %d)",
			bar(finished, len(all), 24), finished, len(all), counts["queued"], counts["processing"], counts["failed"])
		switch {
		case tty:
			fmt.Fprintf(stdout, "\r    %s %4.1fs ", line, time.Since(start).Seconds())
		case line != last:
			fmt.Fprintf(stdout, "    %s %4.1fs\n", line, time.Since(start).Seconds())
		}
		last = line
		if finished == len(all) {
			if tty {
				fmt.Fprintln(stdout)
			}
			if len(failed) > 0 {
				return fmt.Errorf("demo: %d transcript(s) failed:\n  %s", len(failed), strings.Join(failed, "\n  "))
			}
			break
		}
		if time.Now().After(deadline) {
			if tty {
				fmt.Fprintln(stdout)
			}
			return fmt.Errorf("demo: transcripts still unprocessed after %s", *timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}

	for _, p := range all {
		var act struct {
			Notes *crm.Notes `json:"notes"`
		}
		if err := app.GetJSON(ctx, c.http, base+"/v1/activities/"+p.activity, key, &act); err != nil {
			return err
		}
		if act.Notes == nil {
			return fmt.Errorf("demo: %s has no notes", p.m.Title)
		}
		printNotes(stdout, p.m, *act.Notes)
	}
	var open struct {
		Items []crm.ActionItem `json:"items"`
	}
	c.get("/v1/action-items?status=open&limit=200", &open)
	if c.err != nil {
		return c.err
	}
	fmt.Fprintf(stdout, "\n%s\n%d open action items across %d meetings, each citing the transcript lines it came from: GET %s/v1/action-items\n",
		strings.Repeat("═", 78), len(open.Items), len(all), base)
	if acme, ok := accounts["Acme Logistics"]; ok {
		fmt.Fprintf(stdout, "\n%s\nQuestions about an account's history: POST %s/v1/accounts/{id}/ask\n", strings.Repeat("═", 78), base)
		for _, question := range []string{"What did we promise Acme about SSO?", "What did Acme say about moving their Tokyo office?"} {
			if err := demoAsk(c, stdout, acme, question); err != nil {
				return err
			}
		}
	}
	if err := demoSalesOps(c, stdout, accounts, users); err != nil {
		return fmt.Errorf("demo: sales operations: %w", err)
	}
	if err := demoCapture(c, stdout, *dir, orgID, accounts, users); err != nil {
		return fmt.Errorf("demo: automatic capture: %w", err)
	}
	fmt.Fprintf(stdout, "\nAPI: %s/openapi.json\n", base)
	signIn, err := demoSignIn(ctx, store.New(a.Pool), orgID)
	if err != nil {
		return err
	}
	return demoWeb(ctx, stdout, base, signIn, keepServing(isTerminal(stdout)))
}

// demoAsk asks a question of an account through the API and prints the
// answer with the records it cites.
func demoAsk(c *demoClient, w io.Writer, accountID, question string) error {
	var a retrieval.Answer
	if err := app.PostJSON(c.ctx, c.http, c.base+"/v1/accounts/"+accountID+"/ask", c.key, map[string]string{"question": question}, &a, 200); err != nil {
		return fmt.Errorf("demo: ask %q: %w", question, err)
	}
	fmt.Fprintf(w, "\n  Q: %s\n  A: %s\n  (grounded: %t)\n", question, a.Answer, a.Grounded)
	for _, cit := range a.Citations {
		at := ""
		if cit.StartMS != nil {
			at = " at " + clock(int64(*cit.StartMS))
		}
		who := ""
		if cit.Speaker != nil {
			who = ", " + *cit.Speaker
		}
		fmt.Fprintf(w, "    cites: %s %s%s%s: %q\n", cit.Type, cit.OccurredAt.Format("Jan 2, 2006"), who, at, cit.Quote)
	}
	return nil
}

func loadDemoMeetings(dir string) ([]demoMeeting, error) {
	b, err := os.ReadFile(filepath.Join(dir, "meetings.json"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w (run the demo from the repository root, or pass -examples DIR)", err)
	}
	var ms []demoMeeting
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", filepath.Join(dir, "meetings.json"), err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("demo: %s lists no meetings", filepath.Join(dir, "meetings.json"))
	}
	return ms, nil
}

func formatsOf(ms []demoMeeting) string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.Format) {
			out = append(out, m.Format)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// isTerminal reports whether w is a terminal, where progress redraws one
// line; elsewhere (a log, CI) it prints a line per change.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func bar(n, total, width int) string {
	filled := 0
	if total > 0 {
		filled = n * width / total
	}
	return "[" + strings.Repeat("█", filled) + strings.Repeat("·", width-filled) + "]"
}

func clock(ms int64) string {
	s := ms / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func cite(evs []crm.Evidence) string {
	var parts []string
	for _, e := range evs {
		parts = append(parts, fmt.Sprintf("[#%d %s %s] %q", e.Segment, clock(e.StartMS), e.Speaker, e.Quote))
	}
	return strings.Join(parts, "; ")
}

// held marks an item flagged for review and not confirmed yet: it is kept
// out of the follow-up draft and webhooks until a person confirms it.
func held(isHeld bool, reason *string) string {
	if !isHeld {
		return ""
	}
	r := "flagged"
	if reason != nil {
		r = *reason
	}
	return "  [needs review, kept out of the draft: " + r + "]"
}

func printNotes(w io.Writer, m demoMeeting, n crm.Notes) {
	fmt.Fprintf(w, "\n%s\n%s   (%s, %s)\n%s\n", strings.Repeat("═", 78), m.Title, m.File, m.StartedAt[:10], strings.Repeat("─", 78))
	fmt.Fprintf(w, "Summary: %s\n", n.Summary)
	section := func(name string, ps []crm.Point) {
		if len(ps) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", name)
		for _, p := range ps {
			fmt.Fprintf(w, "  • %s%s\n      ↳ %s\n", p.Text, held(p.Held(), p.ReviewReason), cite(p.Evidence))
		}
	}
	section("Decisions", n.Decisions)
	section("Risks", n.Risks)
	if len(n.ActionItems) > 0 {
		fmt.Fprintln(w, "Action items:")
		for _, ai := range n.ActionItems {
			owner, due, tent := "owner not said", "", ""
			if ai.Owner != nil {
				owner = *ai.Owner
			}
			if ai.DueDate != nil {
				due = ", due " + ai.DueDate.Format("Mon Jan 2")
			}
			if ai.Tentative {
				tent = " (tentative)"
			}
			fmt.Fprintf(w, "  □ %s — %s%s%s%s\n      ↳ %s\n", ai.Text, owner, due, tent, held(ai.Held(), ai.ReviewReason), cite(ai.Evidence))
		}
	}
	fmt.Fprintf(w, "Coverage %.0f%% of the transcript · model %s · prompts %s · %d+%d tokens · $%.4f\n",
		n.Coverage*100, n.Model, n.PromptVersion, n.Tokens.Input, n.Tokens.Output, n.CostUSD)
	if n.FollowUp != nil {
		var to []string
		for _, p := range n.FollowUp.To {
			to = append(to, p.Name+" <"+p.Email+">")
		}
		fmt.Fprintf(w, "\nDrafted follow-up — To: %s\nSubject: %s\n\n%s\n", strings.Join(to, ", "), n.FollowUp.Subject,
			indent(n.FollowUp.Body, "    "))
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "\n")
}

// demoClient makes API calls and keeps the first error, so the demo reads
// as a script.
type demoClient struct {
	ctx  context.Context
	http *http.Client
	base string
	key  string
	err  error
}

func (c *demoClient) post(path string, body any) string {
	if c.err != nil {
		return ""
	}
	var out struct {
		ID string `json:"id"`
	}
	// 201 for a new record, 200 for an idempotent re-post or an action.
	c.err = app.PostJSON(c.ctx, c.http, c.base+path, c.key, body, &out, 0)
	return out.ID
}

func (c *demoClient) get(path string, out any) {
	if c.err != nil {
		return
	}
	c.err = app.GetJSON(c.ctx, c.http, c.base+path, c.key, out)
}
