package mail_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"logbook/capture"
	"logbook/capture/mail"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testdovecot"
)

type testBundle struct {
	ctx                     context.Context
	svc                     *capture.Service
	st                      *store.Store
	orgID, userID           string
	acmeID, globexID, danaC string
	imap                    *imapclient.Client
	box                     string
}

type setupOpts struct {
	guard     mail.Dialer
	batchSize int
}

func loopbackGuard(t *testing.T) *netguard.Guard {
	t.Helper()
	allow, err := netguard.ParseAllowList("127.0.0.1")
	require.NoError(t, err)
	return netguard.New(netguard.Options{Allow: allow})
}

func setup(t *testing.T, o setupOpts) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	org, err := st.OrgCreate(ctx, "mail "+t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = st.OrgDelete(context.WithoutCancel(ctx), org.ID) })
	user, err := st.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some(testdovecot.User), Name: crm.Some("Riley Rep")})
	require.NoError(t, err)
	_, err = st.SettingsUpdate(ctx, org.ID, crm.SettingsInput{OwnDomains: crm.Some([]string{"logbook.test"})})
	require.NoError(t, err)
	acme, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.com"})})
	require.NoError(t, err)
	globex, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Globex"), Domains: crm.Some([]string{"globex.com"})})
	require.NoError(t, err)
	dana, err := st.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(acme.ID), Name: crm.Some("Dana Whitfield"), Email: crm.Some("dana@acme.com")})
	require.NoError(t, err)
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	svc := capture.New(capture.Config{Store: st, Box: box})
	guard := o.guard
	if guard == nil {
		guard = loopbackGuard(t)
	}
	svc.Register(crm.ConnectorIMAP, mail.Kind(mail.Deps{Store: st, Guard: guard, BatchSize: o.batchSize}))
	c := testdovecot.Client(t, testdovecot.User, testdovecot.Password)
	return &testBundle{
		ctx: ctx, svc: svc, st: st, orgID: org.ID, userID: user.ID, acmeID: acme.ID, globexID: globex.ID,
		danaC: dana.ID, imap: c, box: testdovecot.Mailbox(t, c),
	}
}

// connector creates an imap connector on the test Dovecot; cfg is merged
// over the defaults (TLS, the bundle's mailbox, the CA).
func (b *testBundle) connector(t *testing.T, cfg map[string]any, password string) crm.Connector {
	t.Helper()
	base := map[string]any{
		"host": testdovecot.Host, "port": testdovecot.PortTLS, "security": "tls",
		"username": testdovecot.User, "mailboxes": []string{b.box}, "ca_cert": testdovecot.CACert(t),
	}
	for k, v := range cfg {
		base[k] = v
	}
	body, err := json.Marshal(map[string]any{"kind": "imap", "name": "Riley's mailbox", "user_id": b.userID,
		"config": base, "secrets": map[string]string{"password": password}})
	require.NoError(t, err)
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal(body, &in))
	c, err := b.svc.Create(b.ctx, b.orgID, in)
	require.NoError(t, err)
	return c
}

func (b *testBundle) sync(t *testing.T, ctx context.Context, c crm.Connector) store.ConnectorRecord {
	t.Helper()
	require.NoError(t, b.svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c.ID}))
	rec, err := b.st.ConnectorGet(b.ctx, b.orgID, c.ID)
	require.NoError(t, err)
	return rec
}

func (b *testBundle) emails(t *testing.T, accountID string) []crm.Activity {
	t.Helper()
	page, err := b.st.ActivityListByAccount(b.ctx, b.orgID, accountID, store.ActivityFilter{Limit: 200})
	require.NoError(t, err)
	slices.SortFunc(page.Items, func(a, b crm.Activity) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return page.Items
}

func (b *testBundle) append(t *testing.T, box string, raw []byte, flags ...imap.Flag) {
	t.Helper()
	testdovecot.Append(t, b.imap, box, raw, time.Time{}, flags...)
}

// msg is a test message dated minutes ago.
func msg(id string, minutesAgo int, headers []string, body string) []byte {
	h := []string{
		"Message-ID: <" + id + ">",
		"Date: " + time.Now().Add(-time.Duration(minutesAgo)*time.Minute).Format(time.RFC1123Z),
		"MIME-Version: 1.0",
	}
	return testdovecot.Message(append(h, headers...), body)
}

func meta(t *testing.T, a crm.Activity) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.Metadata, &m))
	return m
}

func TestSyncEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{batchSize: 2})
	b.append(t, b.box, msg("m1@acme.com", 50, []string{
		`From: "Dana Whitfield" <dana@acme.com>`, "To: rep@logbook.test", "Subject: Pricing for 40 seats",
		"Content-Type: text/plain; charset=utf-8",
	}, "Hi Riley,\n\nCan you send pricing for 40 seats?\n\nOn Mon, Mar 2, 2026 at 9:00 AM Riley <rep@logbook.test> wrote:\n> Happy to help.\n\n-- \nDana Whitfield\nVP Operations"))
	b.append(t, b.box, msg("m2@logbook.test", 40, []string{
		"From: Riley Rep <rep@logbook.test>", "To: Dana Whitfield <dana@acme.com>", "Cc: Pat Colleague <pat@logbook.test>",
		"Subject: Re: Pricing for 40 seats", "In-Reply-To: <m1@acme.com>", "References: <m1@acme.com>",
		`Content-Type: multipart/mixed; boundary="mix"`,
	}, "--mix\nContent-Type: text/html; charset=utf-8\n\n<html><head><style>p{}</style></head><body><p>Hi Dana,</p><p>Pricing is <b>attached</b>. See <a href=\"https://logbook.test/pricing\">the page</a>.</p><div class=\"gmail_quote\">On Tue, Dana &lt;dana@acme.com&gt; wrote:<blockquote>Can you send pricing for 40 seats?</blockquote></div></body></html>\n--mix\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"pricing.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--mix--\n"))
	b.append(t, b.box, msg("m3@logbook.test", 30, []string{
		"From: rep@logbook.test", "To: pat@logbook.test", "Subject: internal only",
	}, "lunch?"))
	b.append(t, b.box, msg("m4@nowhere.example", 20, []string{
		"From: someone@nowhere.example", "To: rep@logbook.test", "Subject: unknown sender",
	}, "hello"))
	b.append(t, b.box, msg("m5@globex.com", 10, []string{
		"From: Bob <bob@globex.com>", "To: rep@logbook.test", "Subject: Intro",
	}, "Nice to meet you."))
	// The same message again (copied into the folder twice).
	b.append(t, b.box, msg("m1@acme.com", 50, []string{
		`From: "Dana Whitfield" <dana@acme.com>`, "To: rep@logbook.test", "Subject: Pricing for 40 seats",
		"Content-Type: text/plain; charset=utf-8",
	}, "Hi Riley,\n\nCan you send pricing for 40 seats?\n\nOn Mon, Mar 2, 2026 at 9:00 AM Riley <rep@logbook.test> wrote:\n> Happy to help.\n\n-- \nDana Whitfield\nVP Operations"))

	c := b.connector(t, nil, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.Nil(t, rec.Health.LastError, "%v", deref(rec.Health.LastError))
	require.Equal(t, "ok", rec.Health.Status)
	require.EqualValues(t, 3, rec.Health.ItemsCaptured)

	acme := b.emails(t, b.acmeID)
	require.Len(t, acme, 2)
	in, out := acme[0], acme[1]

	require.Equal(t, crm.ActivityEmail, in.Type)
	require.Equal(t, crm.DirectionInbound, *in.Direction)
	require.Equal(t, "Pricing for 40 seats", *in.Subject)
	require.Equal(t, "Hi Riley,\n\nCan you send pricing for 40 seats?", *in.Body, "quote and signature trimmed")
	require.Equal(t, crm.SourceEmailSync, in.Source)
	require.Equal(t, "m1@acme.com", *in.ExternalID)
	require.Equal(t, b.userID, *in.OwnerID)
	require.Equal(t, []string{b.danaC}, in.ContactIDs)
	require.Equal(t, []crm.Participant{{Name: "Dana Whitfield", Email: "dana@acme.com"}}, in.Participants)
	mi := meta(t, in)
	require.Equal(t, "m1@acme.com", mi["message_id"])
	require.Equal(t, "m1@acme.com", mi["thread_id"])
	require.Nil(t, mi["in_reply_to"])
	require.Equal(t, b.box, mi["mailbox"])
	require.Equal(t, []any{}, mi["attachments"])

	require.Equal(t, crm.DirectionOutbound, *out.Direction)
	require.Equal(t, "Hi Dana,\n\nPricing is attached. See the page (https://logbook.test/pricing).", *out.Body, "HTML as text, quote trimmed")
	require.Equal(t, []crm.Participant{{Name: "Dana Whitfield", Email: "dana@acme.com"}}, out.Participants, "colleagues are not participants")
	mo := meta(t, out)
	require.Equal(t, "m2@logbook.test", mo["message_id"])
	require.Equal(t, "m1@acme.com", mo["thread_id"])
	require.Equal(t, "m1@acme.com", mo["in_reply_to"])
	require.Equal(t, []any{map[string]any{"name": "pricing.pdf", "size": float64(9), "content_type": "application/pdf"}}, mo["attachments"])
	require.NotContains(t, string(out.Metadata), "JVBER", "attachments are listed, not stored")

	globex := b.emails(t, b.globexID)
	require.Len(t, globex, 1)
	require.Equal(t, "Nice to meet you.", *globex[0].Body)

	// Capture creates no contacts: colleagues and unknown senders stay out.
	contacts, err := b.st.ContactList(b.ctx, b.orgID, store.ContactFilter{})
	require.NoError(t, err)
	require.Len(t, contacts.Items, 1)
	require.Equal(t, "dana@acme.com", *contacts.Items[0].Email)

	// A second sync adds nothing; nor does a backfill of the range.
	rec = b.sync(t, b.ctx, c)
	require.EqualValues(t, 3, rec.Health.ItemsCaptured)
	stateBefore := string(rec.State)
	from := time.Now().Add(-24 * time.Hour)
	require.NoError(t, b.svc.SyncNow(b.ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c.ID, From: &from}))
	rec, err = b.st.ConnectorGet(b.ctx, b.orgID, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 3, rec.Health.ItemsCaptured)
	require.JSONEq(t, stateBefore, string(rec.State), "a backfill never moves the watermark")
	require.Len(t, b.emails(t, b.acmeID), 2)
	require.Len(t, b.emails(t, b.globexID), 1)

	// New mail is picked up incrementally.
	b.append(t, b.box, msg("m7@acme.com", 1, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: Signed"}, "Signed copy attached."))
	rec = b.sync(t, b.ctx, c)
	require.EqualValues(t, 4, rec.Health.ItemsCaptured)
	require.Len(t, b.emails(t, b.acmeID), 3)
}

func TestSyncSTARTTLS(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.append(t, b.box, msg("s1@acme.com", 5, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: over starttls"}, "hello"))
	c := b.connector(t, map[string]any{"security": "starttls", "port": testdovecot.PortSTARTTLS}, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.Nil(t, rec.Health.LastError, "%v", deref(rec.Health.LastError))
	require.EqualValues(t, 1, rec.Health.ItemsCaptured)
	require.Len(t, b.emails(t, b.acmeID), 1)
}

// cuttingDialer dials through the guard and, once more than after bytes
// have been read on a connection, calls cut (a cancel, or closing the
// connection as a network would).
type cuttingDialer struct {
	guard *netguard.Guard
	after int64
	cut   func(net.Conn)
	armed atomic.Bool
}

func (d *cuttingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.guard.DialContext(ctx, network, addr)
	if err != nil || !d.armed.Load() {
		return c, err
	}
	return &cuttingConn{Conn: c, d: d}, nil
}

type cuttingConn struct {
	net.Conn
	d    *cuttingDialer
	read int64
}

func (c *cuttingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	if c.read > c.d.after {
		c.d.cut(c.Conn)
	}
	return n, err
}

func TestRestartMidSync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// cancel cuts the run by cancelling its context (a worker shutting
		// down); otherwise the connection drops (a run that dies).
		cancel bool
	}{
		{name: "ContextCancelled", cancel: true},
		{name: "ConnectionDropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d := &cuttingDialer{guard: loopbackGuard(t), after: 3*20_000 + 10_000}
			d.cut = func(c net.Conn) {
				if tc.cancel {
					cancel()
				} else {
					c.Close()
				}
			}
			b := setup(t, setupOpts{guard: d, batchSize: 2})
			pad := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 350) // ~20 kB
			const n = 7
			for i := range n {
				b.append(t, b.box, msg(fmt.Sprintf("r%d@acme.com", i), 60-i, []string{
					"From: dana@acme.com", "To: rep@logbook.test", fmt.Sprintf("Subject: message %d", i),
				}, fmt.Sprintf("Message %d.\n\n%s", i, pad)))
			}
			c := b.connector(t, nil, testdovecot.Password)
			d.armed.Store(true)
			require.NoError(t, b.svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c.ID}))
			first := len(b.emails(t, b.acmeID))
			require.Greater(t, first, 0, "the first run wrote its first batches")
			require.Less(t, first, n, "the first run was cut before the end")
			rec, err := b.st.ConnectorGet(b.ctx, b.orgID, c.ID)
			require.NoError(t, err)
			require.Contains(t, string(rec.State), `"last_uid"`, "a checkpoint was saved")
			if tc.cancel {
				require.Nil(t, rec.Health.LastError, "a cancelled run is not a failure of the source")
			} else {
				require.NotNil(t, rec.Health.LastError, "a dropped connection shows")
				require.Contains(t, *rec.Health.LastError, "the connection to 127.0.0.1:10993 was lost")
			}

			d.armed.Store(false)
			rec = b.sync(t, b.ctx, c)
			require.Equal(t, "ok", rec.Health.Status, "%v", deref(rec.Health.LastError))
			require.Nil(t, rec.Health.FailingSince)
			got := b.emails(t, b.acmeID)
			require.Len(t, got, n, "every message exactly once")
			ids := map[string]bool{}
			for _, a := range got {
				require.False(t, ids[*a.ExternalID], "duplicate %s", *a.ExternalID)
				ids[*a.ExternalID] = true
			}
			require.EqualValues(t, n, rec.Health.ItemsCaptured)
		})
	}
}

func TestMissingMailboxFailsClearlyAndSyncsTheOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.append(t, b.box, msg("x1@acme.com", 5, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: hi"}, "hello"))
	c := b.connector(t, map[string]any{"mailboxes": []string{"No Such Folder", b.box}}, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, `cannot open mailbox "No Such Folder": `)
	require.Contains(t, *rec.Health.LastError, "doesn't exist")
	require.EqualValues(t, 1, rec.Health.ItemsCaptured, "the other mailbox was synced")
}

func TestBadPasswordShowsClearError(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	const wrong = "not-the-password-42"
	c := b.connector(t, nil, wrong)
	rec := b.sync(t, b.ctx, c)
	require.NotNil(t, rec.Health.LastError)
	require.Equal(t, "failing", rec.Health.Status)
	require.Contains(t, *rec.Health.LastError, "IMAP login refused for rep@logbook.test: [AUTHENTICATIONFAILED]")
	require.NotContains(t, *rec.Health.LastError, wrong)
	require.NotContains(t, string(rec.Config), wrong)
}

func TestUIDValidityChangeAddsNoDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m1 := msg("u1@acme.com", 30, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: one"}, "one")
	m2 := msg("u2@acme.com", 20, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: two"}, "two")
	b.append(t, b.box, m1)
	b.append(t, b.box, m2)
	c := b.connector(t, nil, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.EqualValues(t, 2, rec.Health.ItemsCaptured)
	var st1 struct {
		Mailboxes map[string]struct{ UIDValidity uint32 } `json:"mailboxes"`
	}
	require.NoError(t, json.Unmarshal(rec.State, &st1))

	// The folder is deleted and made again: a new UIDVALIDITY, UIDs from 1.
	testdovecot.Delete(t, b.imap, b.box)
	time.Sleep(1100 * time.Millisecond) // Dovecot's UIDVALIDITY is a time in seconds
	testdovecot.Create(t, b.imap, b.box)
	b.append(t, b.box, m1)
	b.append(t, b.box, m2)
	b.append(t, b.box, msg("u3@acme.com", 10, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: three"}, "three"))
	rec = b.sync(t, b.ctx, c)
	require.Nil(t, rec.Health.LastError, "%v", deref(rec.Health.LastError))
	var st2 struct {
		Mailboxes map[string]struct{ UIDValidity uint32 } `json:"mailboxes"`
	}
	require.NoError(t, json.Unmarshal(rec.State, &st2))
	require.NotEqual(t, st1.Mailboxes[b.box].UIDValidity, st2.Mailboxes[b.box].UIDValidity)
	require.EqualValues(t, 3, rec.Health.ItemsCaptured)
	require.Len(t, b.emails(t, b.acmeID), 3)
}

func TestLoggingRules(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sent := testdovecot.Mailbox(t, b.imap)
	// a: the rep's cold email, in Sent; answered by b, so logged.
	b.append(t, sent, msg("a@logbook.test", 60, []string{"From: rep@logbook.test", "To: dana@acme.com", "Subject: Intro"}, "Intro from Riley."))
	// b: Dana's reply.
	b.append(t, b.box, msg("b@acme.com", 50, []string{"From: dana@acme.com", "To: rep@logbook.test", "Subject: Re: Intro", "In-Reply-To: <a@logbook.test>", "References: <a@logbook.test>"}, "Interested."))
	// c: a newsletter nobody answered.
	b.append(t, b.box, msg("c@acme.com", 40, []string{"From: news@acme.com", "To: rep@logbook.test", "Subject: Newsletter"}, "News."))
	// d: answered by the rep (\Answered), so logged.
	b.append(t, b.box, msg("d@acme.com", 30, []string{"From: ops@acme.com", "To: rep@logbook.test", "Subject: Question"}, "A question."), imap.FlagAnswered)
	// e: a reply from a never_log domain.
	b.append(t, b.box, msg("e@globex.com", 20, []string{"From: bob@globex.com", "To: rep@logbook.test", "Subject: Re: x", "In-Reply-To: <x@logbook.test>"}, "private"))
	// f: a reply with a never_log address in Cc.
	b.append(t, b.box, msg("f@acme.com", 10, []string{"From: dana@acme.com", "To: rep@logbook.test", "Cc: legal@acme.com", "Subject: Re: Intro", "In-Reply-To: <b@acme.com>"}, "legal matter"))

	c := b.connector(t, map[string]any{"mailboxes": []string{b.box, sent}, "log": "replies", "never_log": []string{"Globex.com", "legal@acme.com"}}, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.Nil(t, rec.Health.LastError, "%v", deref(rec.Health.LastError))
	var ids []string
	for _, a := range b.emails(t, b.acmeID) {
		ids = append(ids, *a.ExternalID)
	}
	require.Equal(t, []string{"a@logbook.test", "b@acme.com", "d@acme.com"}, ids)
	require.Empty(t, b.emails(t, b.globexID))
	require.NotContains(t, string(rec.State), "parents", "looked-up parents leave the watermark")
	require.EqualValues(t, 3, rec.Health.ItemsCaptured)
}

func TestGuardRefusesLoopbackWhenNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{guard: netguard.New(netguard.Options{})})
	c := b.connector(t, nil, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "cannot connect to 127.0.0.1:10993")
	require.Contains(t, *rec.Health.LastError, "CONNECTOR_ALLOW_PRIVATE")
}

func TestUntrustedCertificateSaysCACert(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := b.connector(t, map[string]any{"ca_cert": ""}, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "TLS with 127.0.0.1:10993 failed")
	require.Contains(t, *rec.Health.LastError, "ca_cert")
}

// TestNoPasswordWithoutSTARTTLS talks to a server that refuses STARTTLS:
// the sync fails and the password never crosses the wire.
func TestNoPasswordWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var heard atomic.Value
	heard.Store("")
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(conn, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plain only\r\n")
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					heard.Store(heard.Load().(string) + line)
					if err != nil {
						return
					}
					tag, _, _ := strings.Cut(line, " ")
					fmt.Fprintf(conn, "%s BAD STARTTLS not supported\r\n", tag)
				}
			}()
		}
	}()
	b := setup(t, setupOpts{})
	port := ln.Addr().(*net.TCPAddr).Port
	c := b.connector(t, map[string]any{"security": "starttls", "port": port}, testdovecot.Password)
	rec := b.sync(t, b.ctx, c)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "STARTTLS")
	require.Contains(t, *rec.Health.LastError, "never sends the password unencrypted")
	require.NotContains(t, heard.Load().(string), testdovecot.Password)
	require.NotContains(t, heard.Load().(string), "LOGIN")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	kind := mail.Kind(mail.Deps{Now: func() time.Time { return time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC) }})
	pw := json.RawMessage(`{"password":"pw"}`)

	t.Run("DefaultsFilled", func(t *testing.T) {
		t.Parallel()
		out, sec, err := kind.Check(json.RawMessage(`{"host":"imap.example.com","username":"rep@example.com","never_log":["Secret@Example.com","https://www.Family.example/"]}`), nil, pw)
		require.NoError(t, err)
		require.JSONEq(t, `{"host":"imap.example.com","port":993,"security":"tls","username":"rep@example.com","mailboxes":["INBOX"],"since":"2026-03-01","log":"all","never_log":["secret@example.com","family.example"]}`, string(out))
		require.Equal(t, map[string]string{"password": "pw"}, sec)
		out, _, err = kind.Check(json.RawMessage(`{"host":"imap.example.com","username":"u","security":"starttls"}`), nil, pw)
		require.NoError(t, err)
		require.Contains(t, string(out), `"port":143`)
	})

	t.Run("Problems", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			cfg, secrets, field string
		}{
			{`{"username":"u"}`, `{"password":"pw"}`, "config.host"},
			{`{"host":"https://imap.example.com","username":"u"}`, `{"password":"pw"}`, "config.host"},
			{`{"host":"imap.example.com","username":"u","security":"none"}`, `{"password":"pw"}`, "config.security"},
			{`{"host":"imap.example.com"}`, `{"password":"pw"}`, "config.username"},
			{`{"host":"imap.example.com","username":"u","port":70000}`, `{"password":"pw"}`, "config.port"},
			{`{"host":"imap.example.com","username":"u","since":"last week"}`, `{"password":"pw"}`, "config.since"},
			{`{"host":"imap.example.com","username":"u","log":"some"}`, `{"password":"pw"}`, "config.log"},
			{`{"host":"imap.example.com","username":"u","never_log":["not a domain"]}`, `{"password":"pw"}`, "config.never_log[0]"},
			{`{"host":"imap.example.com","username":"u","ca_cert":"-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----"}`, `{"password":"pw"}`, "config.ca_cert"},
			{`{"host":"imap.example.com","username":"u","ca_cert":"hello"}`, `{"password":"pw"}`, "config.ca_cert"},
			{`{"host":"imap.example.com","username":"u","passwd":"x"}`, `{"password":"pw"}`, "config"},
			{`{"host":"imap.example.com","username":"u"}`, ``, "secrets.password"},
			{`{"host":"imap.example.com","username":"u"}`, `{"password":""}`, "secrets.password"},
			{`{"host":"imap.example.com","username":"u"}`, `{"password":"pw","token":"x"}`, "secrets.token"},
		} {
			var sec json.RawMessage
			if tc.secrets != "" {
				sec = json.RawMessage(tc.secrets)
			}
			_, _, err := kind.Check(json.RawMessage(tc.cfg), nil, sec)
			var ve *crm.ValidationError
			require.ErrorAs(t, err, &ve, tc.cfg)
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			require.Contains(t, fields, tc.field, tc.cfg)
			require.NotContains(t, err.Error(), `"pw"`)
		}
	})

	t.Run("CACertMustParse", func(t *testing.T) {
		t.Parallel()
		cfg, err := json.Marshal(map[string]any{"host": "imap.example.com", "username": "u", "ca_cert": testdovecot.CACert(t)})
		require.NoError(t, err)
		_, _, err = kind.Check(cfg, nil, pw)
		require.NoError(t, err)
	})

	t.Run("UpdateKeepsWhatItDoesNotChange", func(t *testing.T) {
		t.Parallel()
		old := json.RawMessage(`{"host":"imap.example.com","port":993,"security":"tls","username":"u","mailboxes":["INBOX"],"since":"2026-03-01","log":"all","never_log":[]}`)
		out, sec, err := kind.Check(nil, old, nil)
		require.NoError(t, err)
		require.Equal(t, string(old), string(out))
		require.Nil(t, sec, "secrets not sent are kept")
		_, sec, err = kind.Check(nil, old, json.RawMessage(`{"password":"new"}`))
		require.NoError(t, err)
		require.Equal(t, map[string]string{"password": "new"}, sec)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
