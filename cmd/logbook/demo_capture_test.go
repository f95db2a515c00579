package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// TestDemoCapture runs the demo's automatic-capture act as the demo does
// (a Logbook with its worker in this process, the demo org's accounts and
// people from examples/) against the local test Dovecot and Radicale
// (scripts/services.sh), and checks what it prints: 4 of the 5 sample
// emails captured on their accounts, the internal one skipped, a resync
// adding nothing, 3 meetings of the 4-instance series (the moved one at
// its new time, the cancelled one absent), one call for a callback posted
// twice, and every connector ok.
func TestDemoCapture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := testredis.Name(t) + "-"
	env := map[string]string{"DATABASE_URL": testdb.SchemaURL(t, true), "REDIS_URL": testredis.URL(), "LOG_LEVEL": "error",
		"LOGBOOK_SECRET_KEY": secretbox.NewKey(), "CONNECTOR_ALLOW_PRIVATE": demoConnectorAllow("")}
	var errb bytes.Buffer
	a, err := openApp(ctx, &errb, envOf(env))
	require.NoError(t, err, errb.String())
	t.Cleanup(a.Close)
	base, stop, err := a.RunPrivate(ctx, prefix)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stop()) })

	orgID, key, err := app.CreateOrg(ctx, store.New(a.Pool), "Northwind demo")
	require.NoError(t, err)
	c := &demoClient{ctx: ctx, http: &http.Client{Timeout: 30 * time.Second}, base: base, key: key}
	meetings, err := loadDemoMeetings("../../examples")
	require.NoError(t, err)
	accounts, people := map[string]string{}, map[string]string{}
	for _, m := range meetings {
		if _, ok := accounts[m.Account.Name]; !ok {
			accounts[m.Account.Name] = c.post("/v1/accounts", map[string]any{"name": m.Account.Name, "domains": m.Account.Domains})
		}
		for _, p := range m.Participants {
			if _, ok := people[p.Email]; ok {
				continue
			}
			if crm.EmailDomain(p.Email) == sellerDomain {
				people[p.Email] = c.post("/v1/users", map[string]any{"email": p.Email, "name": p.Name, "role": "rep"})
			} else {
				people[p.Email] = c.post("/v1/contacts", map[string]any{"account_id": accounts[m.Account.Name], "name": p.Name, "email": p.Email})
			}
		}
	}
	require.NoError(t, c.err)

	var out bytes.Buffer
	require.NoError(t, demoCapture(c, &out, "../../examples", orgID, accounts, people))
	got := out.String()
	t.Log(got)
	require.NotContains(t, got, "skipped: this act needs")
	require.Contains(t, got, "4 emails captured, 1 skipped (internal), from 5 messages; connector items captured: 4\n")
	require.Regexp(t, `– skipped +\(internal\) +"Q3 forecast call prep": no address outside northwind\.example, not logged\n`, got)
	require.Regexp(t, `✓ inbound  → Acme Logistics +"SSO rollout: can we start with the Chicago warehouse\?" \(1 contact\)\n`, got)
	require.Regexp(t, `✓ outbound → Acme Logistics +"Re: SSO rollout: can we start with the Chicago warehouse\?" \(2 contacts\)\n +a reply in the thread of sso-rollout-1@acme-logistics.example`, got)
	require.Regexp(t, `✓ outbound → Globex +"Globex pilot proposal and pricing" \(2 contacts\)\n +HTML read as text; attachment Globex-pilot-proposal.pdf \(18 KB\) listed, not stored\n`, got)
	require.Regexp(t, `✓ inbound  → Hooli +"Security questionnaire before we sign" \(1 contact\)\n`, got)
	require.Regexp(t, `read the folder again: 0 new emails \(still 4, items captured 4\)`, got)

	require.Contains(t, got, "3 meetings logged, one per instance (3 calendar meetings in the log; connector items captured: 3)\n")
	require.Regexp(t, `cancelled: absent\n`, got)
	require.Regexp(t, `✓ \w{3} \w{3} +\d+ 17:00 UTC +"Acme weekly rollout sync \(moved: Dana travels\)" → Acme Logistics \(moved from`, got)

	require.Contains(t, got, "POST /v1/hooks/twilio/{org_id}: created;")
	require.Contains(t, got, "the same callback again (Twilio retries): unchanged\n")
	require.Contains(t, got, "✓ outbound call, 4m23s, disposition connected → Acme Logistics\n")
	require.Regexp(t, `\n  1 call activity for the call CA[0-9a-f]{32}\n`, got)

	rows := regexp.MustCompile(`(?m)^    (Maya's mailbox \(demo\)|Rep One's calendar \(demo\)) +(imap|caldav) +ok +(\d+) +\d+s$`).FindAllStringSubmatch(got, -1)
	require.Len(t, rows, 2, "each connector's health row")
	require.Equal(t, "4", rows[0][3])
	require.Equal(t, "3", rows[1][3])
	require.NotContains(t, got, "last error")

	// The act disabled its connectors: nothing syncs a deleted folder later.
	var list struct {
		Items []crm.Connector `json:"items"`
	}
	c.get("/v1/connectors", &list)
	require.NoError(t, c.err)
	require.Len(t, list.Items, 2)
	for _, cn := range list.Items {
		require.False(t, cn.Enabled, cn.Name)
	}
}

// TestDemoCaptureWithoutServers: without the test Dovecot or the test
// Radicale the act prints one line saying how to start them and the demo
// goes on (no error), having touched nothing.
func TestDemoCaptureWithoutServers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	people := map[string]string{demoCaptureRep: "rep", demoCaptureBuyer: "buyer"}
	c := &demoClient{ctx: context.Background(), http: http.DefaultClient, base: "http://127.0.0.1:1", key: "unused"}
	for name, srv := range map[string]captureServers{
		"no Dovecot":  {IMAPPort: closed, IMAPCert: demoServers.IMAPCert, CalDAV: demoServers.CalDAV},
		"no Radicale": {IMAPPort: demoServers.IMAPPort, IMAPCert: demoServers.IMAPCert, CalDAV: "http://127.0.0.1:" + strconv.Itoa(closed)},
		"no cert":     {IMAPPort: demoServers.IMAPPort, IMAPCert: filepath.Join(t.TempDir(), "none.pem"), CalDAV: demoServers.CalDAV},
	} {
		var out bytes.Buffer
		require.NoError(t, demoCaptureOn(srv, c, &out, "../../examples", "org", map[string]string{"Acme Logistics": "acct"}, people), name)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		require.Len(t, lines, 2, "%s: %s", name, out.String())
		require.Equal(t, demoServersNeeded+".", lines[1], name)
		require.Contains(t, lines[1], "bash scripts/services.sh")
	}
}
