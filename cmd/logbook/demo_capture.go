package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"logbook/internal/crm"
	"logbook/internal/mailmsg"
	"logbook/internal/vendorhook"
)

// The local test servers scripts/services.sh starts (the same as
// internal/testdovecot's and the calendar tests'), which the capture act
// points its connectors at.
const (
	demoIMAPHost      = "127.0.0.1"
	demoIMAPUser      = "rep@logbook.test"
	demoIMAPPassword  = "logbook-test-password"
	demoCalDAVUser    = "rep1"
	demoCalDAVPass    = "rep1-password"
	demoCaptureRep    = "maya.patel@northwind.example"
	demoCaptureBuyer  = "dana.lee@acme-logistics.example"
	demoCaptureWait   = 10 * time.Second
	demoCapturePoll   = 100 * time.Millisecond
	demoServersNeeded = "Automatic capture: skipped: this act needs the local test mail and calendar servers " +
		"(Dovecot on 127.0.0.1:10993, Radicale on 127.0.0.1:5232); start them with `bash scripts/services.sh` " +
		"(scripts/demo.sh does) and run the demo again"
)

// captureServers is where the act finds the test servers.
type captureServers struct {
	IMAPPort int    // the test Dovecot's IMAPS port on demoIMAPHost
	IMAPCert string // the PEM of its self-signed certificate
	CalDAV   string // the test Radicale's base URL
}

// demoServers are the servers scripts/services.sh starts.
var demoServers = captureServers{IMAPPort: 10993, IMAPCert: "/var/lib/logbook-test/dovecot/cert.pem", CalDAV: "http://127.0.0.1:5232"}

// demoCaptureAllow is what the demo adds to CONNECTOR_ALLOW_PRIVATE so its
// connectors may reach the local test servers.
const demoCaptureAllow = "127.0.0.1"

// demoConnectorAllow is the demo process's CONNECTOR_ALLOW_PRIVATE: the
// configured list with the loopback test servers added.
func demoConnectorAllow(configured string) string {
	configured = strings.TrimSpace(configured)
	if configured == "" {
		return demoCaptureAllow
	}
	return configured + "," + demoCaptureAllow
}

// demoCapture is the demo's automatic-capture act: the real connectors
// against the local test servers. An imap connector syncs a fresh folder
// of the test Dovecot's mailbox holding the emails of examples/capture/mail
// (each lands on its account once, the internal one is not logged, and a
// resync adds nothing); a caldav connector syncs a fresh calendar of the
// test Radicale holding examples/capture/calendar's weekly series (one
// meeting per instance, the moved one at its new time, the cancelled one
// absent); a Twilio status callback, signed with the org's token, is
// posted twice (one call); and GET /v1/connectors shows their health. The
// folder and the calendar are deleted at the end and the connectors
// disabled. Without the servers it prints one line saying how to start
// them and returns nil.
func demoCapture(c *demoClient, w io.Writer, dir, orgID string, accounts, people map[string]string) error {
	return demoCaptureOn(demoServers, c, w, dir, orgID, accounts, people)
}

// demoCaptureOn is demoCapture against the servers srv.
func demoCaptureOn(srv captureServers, c *demoClient, w io.Writer, dir, orgID string, accounts, people map[string]string) error {
	ctx := c.ctx
	mails, err := loadDemoMails(filepath.Join(dir, "capture", "mail"))
	if err != nil {
		return err
	}
	series, err := os.ReadFile(filepath.Join(dir, "capture", "calendar", "acme-weekly-sync.ics"))
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	rep, buyer := people[demoCaptureRep], people[demoCaptureBuyer]
	if rep == "" || buyer == "" {
		return fmt.Errorf("capture: the demo org has no %s or %s (examples/meetings.json)", demoCaptureRep, demoCaptureBuyer)
	}
	caPEM, imapc, err := demoIMAPLogin(srv)
	if err == nil {
		err = davReachable(ctx, srv.CalDAV)
		if err != nil {
			imapc.Close()
		}
	}
	rule := strings.Repeat("═", 78)
	if err != nil {
		fmt.Fprintf(w, "\n%s\n%s.\n", rule, demoServersNeeded)
		return nil
	}
	defer func() {
		_ = imapc.Logout().Wait()
		imapc.Close()
	}()
	names := map[string]string{}
	for n, id := range accounts {
		names[id] = n
	}
	a := &captureAct{c: c, w: w, srv: srv, names: names}
	defer a.cleanup()

	fmt.Fprintf(w, "\n%s\nAutomatic capture: connectors log emails, meetings and calls without anyone typing them\n", rule)
	twilioToken := "demo" + randHex(16)
	if err := a.do(http.MethodPatch, "/v1/settings", map[string]any{"own_domains": []string{sellerDomain}, "twilio_auth_token": twilioToken}, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "  PATCH /v1/settings: own_domains [%s] (colleagues, never contacts) and a twilio_auth_token (write-only)\n", sellerDomain)

	if err := a.mail(imapc, caPEM, rep, mails); err != nil {
		return err
	}
	if err := a.calendar(rep, string(series)); err != nil {
		return err
	}
	if err := a.dialer(orgID, twilioToken, buyer); err != nil {
		return err
	}
	return a.health()
}

// captureAct is the act's state: the client, and what to undo at the end.
type captureAct struct {
	c          *demoClient
	w          io.Writer
	srv        captureServers
	names      map[string]string // account ID → name
	connectors []string
	undo       []undoStep
}

// undoStep removes one thing the act made on a test server.
type undoStep struct {
	what string
	do   func(context.Context) error
}

// cleanup removes what the act made on the test servers (whatever
// happened), so nothing there grows from run to run; what it could not
// remove it says.
func (a *captureAct) cleanup() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.c.ctx), 10*time.Second)
	defer cancel()
	for i := len(a.undo) - 1; i >= 0; i-- {
		if err := a.undo[i].do(ctx); err != nil {
			fmt.Fprintf(a.w, "  (could not remove %s: %v)\n", a.undo[i].what, err)
		}
	}
}

// demoMail is one sample email.
type demoMail struct {
	file string
	raw  []byte
	msg  mailmsg.Message
}

func loadDemoMails(dir string) ([]demoMail, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("capture: no sample emails in %s (run the demo from the repository root, or pass -examples DIR)", dir)
	}
	slices.Sort(files)
	var out []demoMail
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		// IMAP wants CRLF line ends; the files are kept with LF.
		b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		m, err := mailmsg.Parse(b)
		if err != nil || m.MessageID == "" {
			return nil, fmt.Errorf("capture: %s: not a message with a Message-ID (%v)", f, err)
		}
		out = append(out, demoMail{file: filepath.Base(f), raw: b, msg: m})
	}
	return out, nil
}

// demoIMAPLogin logs in to the test Dovecot over TLS, trusting its
// self-signed certificate, which it returns as PEM.
func demoIMAPLogin(srv captureServers) (string, *imapclient.Client, error) {
	pemBytes, err := os.ReadFile(srv.IMAPCert)
	if err != nil {
		return "", nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return "", nil, fmt.Errorf("%s holds no certificate", srv.IMAPCert)
	}
	c, err := imapclient.DialTLS(net.JoinHostPort(demoIMAPHost, fmt.Sprint(srv.IMAPPort)), &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: demoIMAPHost},
		Dialer:    &net.Dialer{Timeout: 3 * time.Second},
	})
	if err != nil {
		return "", nil, err
	}
	if err := c.Login(demoIMAPUser, demoIMAPPassword).Wait(); err != nil {
		c.Close()
		return "", nil, err
	}
	return string(pemBytes), c, nil
}

// davReachable reports whether the test Radicale answers with rep1's
// credentials.
func davReachable(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	code, err := davDo(ctx, base, "PROPFIND", "/"+demoCalDAVUser+"/", "", map[string]string{"Depth": "0"})
	if err != nil {
		return err
	}
	if code != http.StatusMultiStatus {
		return fmt.Errorf("PROPFIND /%s/ answered %d", demoCalDAVUser, code)
	}
	return nil
}

func davDo(ctx context.Context, base, method, path, body string, headers map[string]string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(demoCalDAVUser, demoCalDAVPass)
	if body != "" {
		req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// mail appends the sample emails to a fresh folder, lets an imap
// connector sync it, prints where each landed, then resyncs and shows
// that nothing new was captured.
func (a *captureAct) mail(imapc *imapclient.Client, caPEM, rep string, mails []demoMail) error {
	folder := "logbook-demo-" + time.Now().UTC().Format("20060102-150405") + "-" + randHex(4)
	if err := imapc.Create(folder, nil).Wait(); err != nil {
		return fmt.Errorf("capture: create the mail folder %s: %w", folder, err)
	}
	a.undo = append(a.undo, undoStep{"the demo's mail folder " + folder, func(context.Context) error { return imapc.Delete(folder).Wait() }})
	for _, m := range mails {
		cmd := imapc.Append(folder, int64(len(m.raw)), &imap.AppendOptions{})
		_, werr := cmd.Write(m.raw)
		cerr := cmd.Close()
		if _, err := cmd.Wait(); errors.Join(werr, cerr, err) != nil {
			return fmt.Errorf("capture: append %s: %w", m.file, errors.Join(werr, cerr, err))
		}
	}
	since := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	fmt.Fprintf(a.w, "\n  Email: %d sample messages (examples/capture/mail) put in the folder %s of %s on the test Dovecot (%s:%d);\n"+
		"  an imap connector for the rep's mailbox syncs it (POST /v1/connectors, the worker runs the sync):\n",
		len(mails), folder, demoIMAPUser, demoIMAPHost, a.srv.IMAPPort)
	id, err := a.create(map[string]any{"kind": "imap", "name": "Maya's mailbox (demo)", "user_id": rep, "enabled": true, "interval_seconds": 3600,
		"config": map[string]any{"host": demoIMAPHost, "port": a.srv.IMAPPort, "security": "tls", "username": demoIMAPUser,
			"mailboxes": []string{folder}, "since": since, "log": "all", "ca_cert": caPEM},
		"secrets": map[string]any{"password": demoIMAPPassword}})
	if err != nil {
		return err
	}
	h, err := a.waitSync(id, time.Time{})
	if err != nil {
		return err
	}
	emails, err := a.feed("email", crm.SourceEmailSync)
	if err != nil {
		return err
	}
	byID := map[string]crm.Activity{}
	for _, e := range emails {
		if e.ExternalID != nil {
			byID[*e.ExternalID] = e
		}
	}
	captured, skipped := 0, 0
	for _, m := range mails {
		act, ok := byID[m.msg.MessageID]
		if !ok {
			skipped++
			what, why := "(no account)", "its addresses match no account"
			if a.internal(m.msg) {
				what, why = "(internal)", "no address outside "+sellerDomain
			}
			fmt.Fprintf(a.w, "    – %-8s   %-16s %q: %s, not logged\n", "skipped", what, m.msg.Subject, why)
			continue
		}
		captured++
		dir := "inbound"
		if act.Direction != nil {
			dir = string(*act.Direction)
		}
		var md struct {
			ThreadID    string               `json:"thread_id"`
			InReplyTo   *string              `json:"in_reply_to"`
			Attachments []mailmsg.Attachment `json:"attachments"`
		}
		_ = json.Unmarshal(act.Metadata, &md)
		var notes []string
		if md.InReplyTo != nil {
			notes = append(notes, "a reply in the thread of "+md.ThreadID+", quoted text trimmed")
		}
		if m.msg.FromHTML {
			notes = append(notes, "HTML read as text")
		}
		for _, at := range md.Attachments {
			notes = append(notes, fmt.Sprintf("attachment %s (%s) listed, not stored", at.Name, kb(at.Size)))
		}
		extra := ""
		if len(notes) > 0 {
			extra = "\n        " + strings.Join(notes, "; ")
		}
		fmt.Fprintf(a.w, "    ✓ %-8s → %-16s %q (%d %s)%s\n", dir, a.names[act.AccountID], m.msg.Subject,
			len(act.ContactIDs), plural(len(act.ContactIDs), "contact", "contacts"), extra)
	}
	fmt.Fprintf(a.w, "  %d emails captured, %d skipped (internal), from %d messages; connector items captured: %d\n",
		captured, skipped, len(mails), h.ItemsCaptured)

	// A backfill over the same days fetches every message again: all are
	// on record already (Message-ID), so nothing is added.
	if err := a.do(http.MethodPost, "/v1/connectors/"+url.PathEscape(id)+"/resync", map[string]any{"from": since}, nil); err != nil {
		return err
	}
	h2, err := a.waitSync(id, *h.LastAttemptAt)
	if err != nil {
		return err
	}
	again, err := a.feed("email", crm.SourceEmailSync)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.w, "  A second sync (POST /v1/connectors/{id}/resync {\"from\": %q}) read the folder again: %d new emails (still %d, items captured %d)\n",
		since, len(again)-len(emails), len(again), h2.ItemsCaptured)
	return nil
}

// internal reports whether every address of m is at the demo org's own
// domain.
func (a *captureAct) internal(m mailmsg.Message) bool {
	for _, ad := range append(append([]mailmsg.Address{m.From}, m.To...), m.Cc...) {
		if ad.Email != "" && crm.EmailDomain(ad.Email) != sellerDomain {
			return false
		}
	}
	return true
}

// calendar puts the sample weekly series (4 instances from tomorrow, the
// 2nd moved two days later, the 3rd cancelled) into a fresh calendar, lets
// a caldav connector sync it and prints the meetings logged.
func (a *captureAct) calendar(rep, template string) error {
	ctx := a.c.ctx
	col := "/" + demoCalDAVUser + "/logbook-demo-" + time.Now().UTC().Format("20060102-150405") + "-" + randHex(4) + "/"
	code, err := davDo(ctx, a.srv.CalDAV, "MKCALENDAR", col, "", nil)
	if err != nil {
		return fmt.Errorf("capture: create the calendar: %w", err)
	}
	if code != http.StatusCreated {
		return fmt.Errorf("capture: MKCALENDAR %s answered %d", col, code)
	}
	a.undo = append(a.undo, undoStep{"the demo's calendar " + col, func(ctx context.Context) error {
		code, err := davDo(ctx, a.srv.CalDAV, http.MethodDelete, col, "", nil)
		if err == nil && code >= 300 && code != http.StatusNotFound {
			err = fmt.Errorf("the server answered %d", code)
		}
		return err
	}})

	now := time.Now().UTC()
	start := now.Truncate(24*time.Hour).AddDate(0, 0, 1).Add(15 * time.Hour)
	week := 7 * 24 * time.Hour
	moved := start.Add(week + 2*24*time.Hour + 2*time.Hour) // two days later, at 17:00
	cancelled := start.Add(2 * week)
	ts := func(t time.Time) string { return t.Format("20060102T150405Z") }
	ics := strings.NewReplacer("{{STAMP}}", ts(now), "{{START}}", ts(start), "{{END}}", ts(start.Add(45*time.Minute)),
		"{{MOVED_FROM}}", ts(start.Add(week)), "{{MOVED_START}}", ts(moved), "{{MOVED_END}}", ts(moved.Add(45*time.Minute)),
		"{{CANCELLED}}", ts(cancelled), "{{CANCELLED_END}}", ts(cancelled.Add(45*time.Minute))).Replace(template)
	ics = strings.ReplaceAll(strings.ReplaceAll(ics, "\r\n", "\n"), "\n", "\r\n")
	code, err = davDo(ctx, a.srv.CalDAV, http.MethodPut, col+"acme-weekly-sync.ics", ics, nil)
	if err != nil {
		return fmt.Errorf("capture: put the series: %w", err)
	}
	if code != http.StatusCreated && code != http.StatusNoContent {
		return fmt.Errorf("capture: PUT the series answered %d", code)
	}
	fmt.Fprintf(a.w, "\n  Calendar: a weekly series of 4 with Acme (examples/capture/calendar), the 2nd moved two days later, the 3rd cancelled,\n"+
		"  in the calendar %s on the test Radicale (%s); a caldav connector syncs it:\n", col, a.srv.CalDAV)
	id, err := a.create(map[string]any{"kind": "caldav", "name": "Rep One's calendar (demo)", "user_id": rep, "enabled": true, "interval_seconds": 3600,
		"config":  map[string]any{"url": a.srv.CalDAV + "/", "username": demoCalDAVUser, "calendars": []string{col}},
		"secrets": map[string]any{"password": demoCalDAVPass}})
	if err != nil {
		return err
	}
	h, err := a.waitSync(id, time.Time{})
	if err != nil {
		return err
	}
	meetings, err := a.feed("meeting", crm.SourceCalendarSync)
	if err != nil {
		return err
	}
	slices.SortFunc(meetings, func(x, y crm.Activity) int { return x.OccurredAt.Compare(y.OccurredAt) })
	at := func(t time.Time) string { return t.UTC().Format("Mon Jan 2 15:04 UTC") }
	logged := 0
	for i := range 4 {
		orig := start.Add(time.Duration(i) * week)
		if orig.Equal(cancelled) {
			found := slices.ContainsFunc(meetings, func(m crm.Activity) bool { return m.OccurredAt.Equal(cancelled) })
			state := "absent"
			if found {
				state = "STILL LOGGED"
			}
			fmt.Fprintf(a.w, "    – %-22s cancelled: %s\n", at(orig), state)
			continue
		}
		want := orig
		note := ""
		if i == 1 {
			want, note = moved, " (moved from "+at(orig)+")"
		}
		for _, m := range meetings {
			if m.OccurredAt.Equal(want) {
				logged++
				subj := ""
				if m.Subject != nil {
					subj = *m.Subject
				}
				fmt.Fprintf(a.w, "    ✓ %-22s %q → %s%s\n", at(m.OccurredAt), subj, a.names[m.AccountID], note)
			}
		}
	}
	fmt.Fprintf(a.w, "  %d meetings logged, one per instance (%d calendar meetings in the log; connector items captured: %d)\n",
		logged, len(meetings), h.ItemsCaptured)
	return nil
}

// dialer posts a Twilio status callback signed as Twilio signs it, then the
// same again (a retry), and prints the one call it made.
func (a *captureAct) dialer(orgID, token, contactID string) error {
	sid := "CA" + randHex(16)
	form := url.Values{"CallSid": {sid}, "AccountSid": {"AC" + randHex(16)}, "ApiVersion": {"2010-04-01"},
		"From": {"+13125550101"}, "To": {"+13125550142"}, "Direction": {"outbound-api"}, "CallStatus": {"completed"},
		"AnsweredBy": {"human"}, "CallDuration": {"263"}, "Timestamp": {time.Now().UTC().Format(time.RFC1123Z)}}
	hook := a.c.base + "/v1/hooks/twilio/" + url.PathEscape(orgID) + "?" +
		url.Values{"contact_id": {contactID}, "owner_email": {demoCaptureRep}, "list": {"demo-capture"}}.Encode()
	sig := vendorhook.SignTwilio(token, hook, form)
	var results []string
	var activityID string
	for range 2 {
		req, err := http.NewRequestWithContext(a.c.ctx, http.MethodPost, hook, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(vendorhook.TwilioSignatureHeader, sig)
		res, err := a.c.http.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
			return fmt.Errorf("capture: POST /v1/hooks/twilio: status %d: %s", res.StatusCode, b)
		}
		var r struct {
			Result     string  `json:"result"`
			ActivityID *string `json:"activity_id"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("capture: POST /v1/hooks/twilio: %w", err)
		}
		results = append(results, r.Result)
		if r.ActivityID != nil {
			activityID = *r.ActivityID
		}
	}
	calls, err := a.feed("call", crm.SourceDialer)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range calls {
		if c.ExternalID != nil && *c.ExternalID == "twilio:"+sid {
			n++
		}
	}
	fmt.Fprintf(a.w, "\n  Dialer: a Twilio status callback signed with the org's twilio_auth_token (X-Twilio-Signature), POST /v1/hooks/twilio/{org_id}: %s;\n"+
		"  the same callback again (Twilio retries): %s\n", results[0], results[1])
	if activityID == "" {
		return fmt.Errorf("capture: the Twilio callback made no activity (%s)", results[0])
	}
	var act crm.Activity
	if err := a.do(http.MethodGet, "/v1/activities/"+url.PathEscape(activityID), nil, &act); err != nil {
		return err
	}
	disp, dir, dur := "none", "?", 0
	if act.Disposition != nil {
		disp = *act.Disposition
	}
	if act.Direction != nil {
		dir = string(*act.Direction)
	}
	if act.DurationSeconds != nil {
		dur = *act.DurationSeconds
	}
	fmt.Fprintf(a.w, "    ✓ %s %s, %dm%02ds, disposition %s → %s\n", dir, act.Type, dur/60, dur%60, disp, a.names[act.AccountID])
	fmt.Fprintf(a.w, "  %d call %s for the call %s\n", n, plural(n, "activity", "activities"), sid)
	return nil
}

// health prints GET /v1/connectors, then disables the act's connectors:
// their folder and calendar are deleted as the act ends.
func (a *captureAct) health() error {
	var list struct {
		Items []crm.Connector `json:"items"`
	}
	if err := a.do(http.MethodGet, "/v1/connectors", nil, &list); err != nil {
		return err
	}
	fmt.Fprintf(a.w, "\n  Connectors and their health (GET /v1/connectors):\n")
	fmt.Fprintf(a.w, "    %-28s %-7s %-8s %15s %6s\n", "name", "kind", "status", "items captured", "lag")
	for _, c := range list.Items {
		lag := "—"
		if c.Health.LagSeconds != nil {
			lag = fmt.Sprintf("%ds", *c.Health.LagSeconds)
		}
		fmt.Fprintf(a.w, "    %-28s %-7s %-8s %15d %6s\n", c.Name, c.Kind, c.Health.Status, c.Health.ItemsCaptured, lag)
		if c.Health.LastError != nil {
			fmt.Fprintf(a.w, "      last error: %s\n", *c.Health.LastError)
		}
	}
	for _, id := range a.connectors {
		if err := a.do(http.MethodPatch, "/v1/connectors/"+url.PathEscape(id), map[string]any{"enabled": false}, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.w, "  (the demo's mail folder and calendar are deleted now, and its connectors disabled)\n")
	return nil
}

// create posts a connector and returns its ID.
func (a *captureAct) create(body map[string]any) (string, error) {
	var c crm.Connector
	if err := a.do(http.MethodPost, "/v1/connectors", body, &c); err != nil {
		return "", err
	}
	a.connectors = append(a.connectors, c.ID)
	return c.ID, nil
}

// waitSync polls the connector until a sync that began after after ends,
// and returns its health; a failed sync is an error with the connector's
// last_error. Never longer than demoCaptureWait.
func (a *captureAct) waitSync(id string, after time.Time) (crm.ConnectorHealth, error) {
	deadline := time.Now().Add(demoCaptureWait)
	for {
		var c crm.Connector
		if err := a.do(http.MethodGet, "/v1/connectors/"+url.PathEscape(id), nil, &c); err != nil {
			return crm.ConnectorHealth{}, err
		}
		h := c.Health
		if h.LastAttemptAt != nil && h.LastAttemptAt.After(after) {
			// A finished run records success or error with its attempt.
			switch {
			case h.LastErrorAt != nil && !h.LastErrorAt.Before(*h.LastAttemptAt) && h.LastError != nil:
				return h, fmt.Errorf("capture: the %s connector's sync failed: %s", c.Kind, *h.LastError)
			case h.LastSuccessAt != nil && !h.LastSuccessAt.Before(*h.LastAttemptAt):
				return h, nil
			}
		}
		if time.Now().After(deadline) {
			return h, fmt.Errorf("capture: the %s connector did not finish a sync within %s (status %s)", c.Kind, demoCaptureWait, h.Status)
		}
		select {
		case <-a.c.ctx.Done():
			return h, a.c.ctx.Err()
		case <-time.After(demoCapturePoll):
		}
	}
}

// feed lists the org's activities of type typ from source src: every
// demo account's timeline (GET /v1/accounts/{id}/timeline, every page),
// which reads what is committed at once. (The org-wide feed, GET
// /v1/activities, serves only what is older than the oldest open
// transaction on the server, so on a busy server it lags.)
func (a *captureAct) feed(typ string, src crm.Source) ([]crm.Activity, error) {
	ids := make([]string, 0, len(a.names))
	for id := range a.names {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []crm.Activity
	for _, id := range ids {
		cursor := ""
		for {
			var page crm.Page[crm.Activity]
			q := url.Values{"types": {typ}, "limit": {"200"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			if err := a.do(http.MethodGet, "/v1/accounts/"+url.PathEscape(id)+"/timeline?"+q.Encode(), nil, &page); err != nil {
				return nil, err
			}
			for _, act := range page.Items {
				if act.Source == src {
					out = append(out, act)
				}
			}
			if page.NextCursor == nil || *page.NextCursor == "" || len(page.Items) == 0 {
				break
			}
			cursor = *page.NextCursor
		}
	}
	slices.SortFunc(out, func(x, y crm.Activity) int { return x.OccurredAt.Compare(y.OccurredAt) })
	return out, nil
}

// do calls the API with the demo's key: body as JSON (nil: none), the
// answer (any 2xx) decoded into out (nil: ignored).
func (a *captureAct) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(a.c.ctx, method, a.c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		p, _, _ := strings.Cut(path, "?")
		return fmt.Errorf("capture: %s %s: status %d: %s", method, p, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func kb(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d KB", (n+512)/1024)
}
