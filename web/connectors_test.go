package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testredis"
)

// The connectors' admin pages run on a capture.Service with stand-ins of
// two kinds written to the config contracts of issue #14: imap (pulled)
// and recall (pushed by its vendor). The real kinds are packages of their
// own; the pages build any kind's form from the contract.

func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func checkStandInIMAP(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
	var p crm.Problems
	if cfg == nil {
		cfg = old
	}
	var c struct {
		Host      string   `json:"host"`
		Port      int      `json:"port"`
		Security  string   `json:"security"`
		Username  string   `json:"username"`
		Mailboxes []string `json:"mailboxes"`
		Since     string   `json:"since,omitempty"`
		Log       string   `json:"log"`
		NeverLog  []string `json:"never_log"`
		CACert    string   `json:"ca_cert,omitempty"`
	}
	if err := decodeStrict(cfg, &c); err != nil {
		p.Add("config", "must hold only the IMAP settings")
	}
	if c.Host == "" {
		p.Add("config.host", "is required")
	}
	if c.Username == "" {
		p.Add("config.username", "is required")
	}
	if c.Security == "" {
		c.Security = "tls"
	}
	if c.Port == 0 {
		c.Port = map[string]int{"tls": 993, "starttls": 143}[c.Security]
	}
	if len(c.Mailboxes) == 0 {
		c.Mailboxes = []string{"INBOX"}
	}
	if c.Log == "" {
		c.Log = "all"
	}
	if c.NeverLog == nil {
		c.NeverLog = []string{}
	}
	var sec map[string]string
	if secrets != nil {
		if err := decodeStrict(secrets, &sec); err != nil || sec["password"] == "" {
			p.Add("secrets.password", "is required")
		}
	} else if old == nil {
		p.Add("secrets.password", "is required")
	}
	out, _ := json.Marshal(c)
	return out, sec, p.Err()
}

func checkStandInRecall(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
	var p crm.Problems
	if cfg == nil {
		cfg = old
	}
	var c struct {
		BaseURL string `json:"base_url"`
	}
	if err := decodeStrict(cfg, &c); err != nil || !strings.HasPrefix(c.BaseURL, "https://") {
		p.Add("config.base_url", "must be an https URL")
	}
	var sec map[string]string
	if secrets != nil {
		if err := decodeStrict(secrets, &sec); err != nil || sec["api_key"] == "" || !strings.HasPrefix(sec["webhook_secret"], "whsec_") {
			p.Add("secrets", "must hold api_key and webhook_secret (whsec_…)")
		}
	} else if old == nil {
		p.Add("secrets", "are required")
	}
	out, _ := json.Marshal(c)
	return out, sec, p.Err()
}

// withConnectors gives the bundle's web UI a capture service with the
// stand-in kinds, on a queue of the test's own.
func (b *testBundle) withConnectors() *capture.Service {
	b.t.Helper()
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(b.t, err)
	rdb := testredis.Client(b.t)
	q := queue.Prefixed(testredis.Name(b.t) + ":")
	b.t.Cleanup(func() { _ = queue.NewInspector(rdb).DeleteQueues(q) })
	svc := capture.New(capture.Config{Store: b.store, Box: box, Enqueuer: queue.NewEnqueuer(rdb, q)})
	svc.Register(crm.ConnectorIMAP, capture.Kind{Check: checkStandInIMAP, Sync: func(context.Context, *capture.Run) error { return nil }})
	svc.Register(crm.ConnectorRecall, capture.Kind{Check: checkStandInRecall})
	h, err := NewHandler(Deps{Store: b.store, Capture: svc, PublicURL: "https://logbook.example"})
	require.NoError(b.t, err)
	b.handler = h
	return svc
}

const (
	mailPassword = "hunter2-canary-9f1c"
	recallKey    = "rk_canary_77aa"
	recallWhsec  = "whsec_canary_0b0e"
)

// imapForm is the new IMAP form as a person fills it.
func imapForm(owner string) url.Values {
	return url.Values{"kind": {"imap"}, "name": {"Dana's mailbox"}, "user_id": {owner}, "host": {"imap.seller.test"},
		"port": {""}, "security": {"starttls"}, "username": {"dana@seller.test"}, "password": {mailPassword},
		"mailboxes": {"INBOX\nSent"}, "since": {"2026-01-01"}, "log": {"replies"}, "never_log": {"hr@seller.test, payroll.example"},
		"enabled": {"1"}, "interval_seconds": {"600"}}
}

func onlyConnector(t *testing.T, s *store.Store, orgID string) store.ConnectorRecord {
	t.Helper()
	cs, err := s.ConnectorList(context.Background(), orgID)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	rec, err := s.ConnectorGet(context.Background(), orgID, cs[0].ID)
	require.NoError(t, err)
	return rec
}

func TestConnectorPages(t *testing.T) {
	t.Parallel()
	b := setup(t, crm.RoleAdmin)
	svc := b.withConnectors()
	var pages []string
	keep := func(a answer) answer { pages = append(pages, a.Body); return a }

	list := keep(b.get("/admin/connectors"))
	require.Equal(t, http.StatusOK, list.Status)
	require.Contains(t, list.Body, "No connectors yet")
	require.Contains(t, list.Body, `href="/admin/connectors/new?kind=imap"`)
	require.Contains(t, list.Body, `href="/admin/connectors/new?kind=recall"`)
	require.NotContains(t, list.Body, "kind=caldav", "only the kinds this server runs")
	require.Contains(t, keep(b.get("/admin/users")).Body, `href="/admin/connectors"`, "linked from the admin pages")

	form := keep(b.get("/admin/connectors/new?kind=imap"))
	require.Equal(t, http.StatusOK, form.Status)
	for _, f := range []string{"host", "port", "security", "username", "password", "mailboxes", "since", "log", "never_log", "ca_cert"} {
		require.Contains(t, form.Body, `name="`+f+`"`, f)
	}
	require.Contains(t, form.Body, `name="password" type="password"`)
	require.Equal(t, http.StatusNotFound, b.get("/admin/connectors/new?kind=fax").Status)

	// Create through the form: listed with its status, config as the contract says.
	created := keep(b.post("/admin/connectors/new", imapForm(b.user.ID)))
	require.Equal(t, http.StatusOK, created.Status, created.Body)
	require.Contains(t, created.Body, "Dana&#39;s mailbox was added.")
	require.Contains(t, created.Body, `<span class="badge badge-pending">pending</span>`)
	require.Contains(t, created.Body, "Dana Lee")
	rec := onlyConnector(t, b.store, b.orgID)
	require.JSONEq(t, `{"host":"imap.seller.test","port":143,"security":"starttls","username":"dana@seller.test",
		"mailboxes":["INBOX","Sent"],"since":"2026-01-01","log":"replies","never_log":["hr@seller.test","payroll.example"]}`, string(rec.Config))
	require.Equal(t, 600, rec.IntervalSeconds)
	require.Equal(t, b.user.ID, *rec.UserID)
	sec, err := svc.Open(rec)
	require.NoError(t, err)
	require.Equal(t, mailPassword, sec["password"])

	// The edit page: values filled in, the password never.
	edit := keep(b.get("/admin/connectors/" + rec.ID))
	require.Equal(t, http.StatusOK, edit.Status)
	require.Contains(t, edit.Body, `value="imap.seller.test"`)
	require.Contains(t, edit.Body, "INBOX\nSent")
	require.Contains(t, edit.Body, "(stored; leave blank to keep)")
	require.Contains(t, edit.Body, `name="password" type="password" class="wide" autocomplete="new-password" value=""`)

	// Save with the password blank: kept; a new one replaces it.
	f := imapForm(b.user.ID)
	f.Set("password", "")
	f.Set("name", "Dana (sales)")
	f.Set("port", "143")
	saved := keep(b.post("/admin/connectors/"+rec.ID, f))
	require.Equal(t, http.StatusOK, saved.Status, saved.Body)
	require.Contains(t, saved.Body, "Dana (sales) was saved.")
	rec = onlyConnector(t, b.store, b.orgID)
	sec, err = svc.Open(rec)
	require.NoError(t, err)
	require.Equal(t, mailPassword, sec["password"], "a blank password keeps the stored one")
	f.Set("password", mailPassword+"-new")
	require.Equal(t, http.StatusOK, b.post("/admin/connectors/"+rec.ID, f).Status)
	sec, err = svc.Open(onlyConnector(t, b.store, b.orgID))
	require.NoError(t, err)
	require.Equal(t, mailPassword+"-new", sec["password"])

	// A refused form: the fields' problems, what was typed, never the password.
	bad := imapForm(b.user.ID)
	bad.Set("host", "")
	bad.Set("port", "nine")
	refused := keep(b.post("/admin/connectors/new", bad))
	require.Equal(t, http.StatusUnprocessableEntity, refused.Status)
	require.Contains(t, refused.Body, "Port must be a whole number")
	bad.Set("port", "")
	refused = keep(b.post("/admin/connectors/new", bad))
	require.Equal(t, http.StatusUnprocessableEntity, refused.Status)
	require.Contains(t, refused.Body, "IMAP server is required")
	require.Contains(t, refused.Body, `value="dana@seller.test"`, "what was typed comes back")
	require.Contains(t, refused.Body, "Nothing was saved")

	// Resync from a day; a day in the future is refused on the page.
	week := time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	rs := keep(b.post("/admin/connectors/"+rec.ID+"/resync", url.Values{"from": {week}}))
	require.Equal(t, http.StatusOK, rs.Status, rs.Body)
	require.Contains(t, rs.Body, "is fetching "+week+" to now again")
	future := keep(b.post("/admin/connectors/"+rec.ID+"/resync", url.Values{"from": {time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)}}))
	require.Equal(t, http.StatusUnprocessableEntity, future.Status)
	require.Contains(t, future.Body, "the first day is in the future")
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/admin/connectors/"+rec.ID+"/resync", url.Values{"from": {""}}).Status)

	// Off and on.
	off := keep(b.post("/admin/connectors/"+rec.ID+"/enabled", url.Values{"enabled": {"0"}}))
	require.Equal(t, http.StatusOK, off.Status)
	require.Contains(t, off.Body, `<span class="badge badge-disabled">disabled</span>`)
	require.NotContains(t, off.Body, `/admin/connectors/`+rec.ID+`/resync`, "no resync of a connector that is off")
	disabledResync := b.post("/admin/connectors/"+rec.ID+"/resync", url.Values{"from": {week}})
	require.Equal(t, http.StatusUnprocessableEntity, disabledResync.Status)
	require.Contains(t, disabledResync.Body, "enable it first")
	on := keep(b.post("/admin/connectors/"+rec.ID+"/enabled", url.Values{"enabled": {"1"}}))
	require.Contains(t, on.Body, "is on again")

	// Recall.ai: the webhook address to give the vendor; changing one
	// secret keeps the other.
	rc := keep(b.post("/admin/connectors/new", url.Values{"kind": {"recall"}, "name": {"Recall.ai"}, "base_url": {"https://us-east-1.recall.ai"},
		"api_key": {recallKey}, "webhook_secret": {recallWhsec}, "enabled": {"1"}}))
	require.Equal(t, http.StatusOK, rc.Status, rc.Body)
	cs, err := b.store.ConnectorList(context.Background(), b.orgID)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	recall := cs[1]
	hook := "https://logbook.example/v1/hooks/recall/" + b.orgID + "/" + recall.ID
	require.Contains(t, rc.Body, hook)
	require.NotContains(t, rc.Body, "/admin/connectors/"+recall.ID+"/resync", "a pushed connector has nothing to resync")
	redit := keep(b.get("/admin/connectors/" + recall.ID))
	require.Contains(t, redit.Body, `value="`+hook+`"`)
	require.Equal(t, http.StatusOK, b.post("/admin/connectors/"+recall.ID, url.Values{"name": {"Recall.ai"},
		"base_url": {"https://us-east-1.recall.ai"}, "api_key": {recallKey + "-2"}, "enabled": {"1"}}).Status)
	rrec, err := b.store.ConnectorGet(context.Background(), b.orgID, recall.ID)
	require.NoError(t, err)
	sec, err = svc.Open(rrec)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"api_key": recallKey + "-2", "webhook_secret": recallWhsec}, sec)

	// Delete asks first.
	confirm := keep(b.get("/admin/connectors/" + recall.ID + "/delete"))
	require.Equal(t, http.StatusOK, confirm.Status)
	require.Contains(t, confirm.Body, "Delete Recall.ai?")
	gone := keep(b.post("/admin/connectors/"+recall.ID+"/delete", nil))
	require.Equal(t, http.StatusOK, gone.Status)
	require.Contains(t, gone.Body, "Recall.ai was deleted")
	require.Equal(t, http.StatusNotFound, b.get("/admin/connectors/"+recall.ID).Status)

	for _, p := range pages {
		for _, s := range []string{mailPassword, recallKey, recallWhsec} {
			require.NotContains(t, p, s)
		}
	}
}

func TestConnectorPagesAccess(t *testing.T) {
	t.Parallel()
	b := setup(t, crm.RoleAdmin)
	b.withConnectors()
	require.Equal(t, http.StatusOK, b.post("/admin/connectors/new", imapForm(b.user.ID)).Status)
	rec := onlyConnector(t, b.store, b.orgID)

	// A form without the session's CSRF token changes nothing.
	f := url.Values{"enabled": {"0"}, "csrf": {"forged"}}
	require.Equal(t, http.StatusForbidden, b.post("/admin/connectors/"+rec.ID+"/enabled", f).Status)
	require.True(t, onlyConnector(t, b.store, b.orgID).Enabled)

	// A rep sees no connector page.
	_, repToken, _ := b.signIn(b.orgID, "rep@seller.test", "Rita Rep", crm.RoleRep)
	require.Equal(t, http.StatusForbidden, b.getAs(repToken, "/admin/connectors").Status)
	require.Equal(t, http.StatusForbidden, b.getAs(repToken, "/admin/connectors/"+rec.ID).Status)

	// Another org's admin: the connector is not there.
	other, err := b.store.OrgCreate(context.Background(), "Other")
	require.NoError(t, err)
	_, otherToken, _ := b.signIn(other.ID, "admin@other.test", "Olga Other", crm.RoleAdmin)
	for _, p := range []string{"/admin/connectors/" + rec.ID, "/admin/connectors/" + rec.ID + "/delete"} {
		require.Equal(t, http.StatusNotFound, b.getAs(otherToken, p).Status, p)
	}
	require.NotContains(t, b.getAs(otherToken, "/admin/connectors").Body, rec.ID)

	// A server without connectors says so.
	h, err := NewHandler(Deps{Store: b.store})
	require.NoError(t, err)
	b.handler = h
	list := b.get("/admin/connectors")
	require.Equal(t, http.StatusOK, list.Status)
	require.Contains(t, list.Body, "Connectors are not available on this server")
	require.Equal(t, http.StatusServiceUnavailable, b.post("/admin/connectors/new", imapForm(b.user.ID)).Status)
}
