package browsertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/secretbox"
)

// withIMAP gives the site a LOGBOOK_SECRET_KEY, which a connector with a
// password needs. The imap kind is the real one: its first sync of a host
// that does not resolve here fails, which the page shows.
func withIMAP(a *app.App) {
	a.Cfg.SecretKey = secretbox.NewKey()
}

// TestConnectorsPage: an admin adds an IMAP mailbox through the form and
// sees it listed with its status; the list (empty and full) and the form
// pass axe-core at both widths and do not scroll sideways on a phone.
func TestConnectorsPage(t *testing.T) {
	t.Parallel()
	s := newSite(t, withIMAP)
	tb, _ := s.signedIn(crm.RoleAdmin)

	tb.visit("/admin/connectors", 200)
	require.Contains(t, tb.text("main"), "No connectors yet")
	tb.check("admin-connectors-empty")

	tb.follow(`a[href="/admin/connectors/new?kind=imap"]`, 200)
	require.Contains(t, tb.text("h1"), "Mailbox (IMAP)")
	tb.check("admin-connector-new")
	tb.fbType("#c-name", "Dana's mailbox")
	tb.fbChoose("#c-user", eval[string](tb, `document.querySelector("#c-user option:nth-child(2)").value`))
	tb.fbType("#f-host", "imap.seller.test")
	tb.fbChoose("#f-security", "starttls")
	tb.fbType("#f-username", "dana@seller.test")
	tb.fbType("#f-password", "correct horse battery")
	tb.fbType("#f-mailboxes", "INBOX\nSent")
	tb.fbType("#f-never_log", "hr@seller.test")
	tb.follow(`#connector-form button[type="submit"]`, 200)

	require.Contains(t, tb.text(`[role="status"]`), "Dana's mailbox was added.")
	row := tb.text(`table.connectors tbody tr`)
	require.Contains(t, row, "Dana's mailbox")
	require.Contains(t, row, "Mailbox (IMAP)")
	require.Contains(t, row, "Dana Lee")
	status := tb.text(`table.connectors tbody tr .badge`)
	require.Contains(t, []string{"pending", "ok", "failing"}, status, "a new mailbox is waiting for, or has run, its first sync")
	require.NotContains(t, tb.text("main"), "correct horse battery")
	tb.check("admin-connectors")

	// Its edit page: settings filled in, the password never.
	tb.follow(`table.connectors tbody tr th a`, 200)
	require.Equal(t, "imap.seller.test", eval[string](tb, `document.querySelector("#f-host").value`))
	require.Equal(t, "", eval[string](tb, `document.querySelector("#f-password").value`))
	tb.check("admin-connector-edit")
}
