package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestListAndAdminPages: the pages no flow above checks pass axe-core at
// both widths and do not scroll sideways on a phone: the accounts list
// (empty, then with accounts) and the admin's users and settings pages.
func TestListAndAdminPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tb, _ := s.signedIn(crm.RoleAdmin)

	tb.visit("/accounts", 200)
	require.Contains(t, tb.text("main"), "No accounts yet")
	tb.check("accounts-empty")

	for _, name := range []string{"Acme Corp", "Globex", "Initech"} {
		in := crm.AccountInput{Name: crm.Some(name), Domains: crm.Some([]string{strings.ToLower(strings.Fields(name)[0]) + ".test"})}
		require.NoError(t, in.Validate(true))
		_, err := s.Store.AccountCreate(context.Background(), s.OrgID, in)
		require.NoError(t, err)
	}
	tb.visit("/accounts", 200)
	require.Contains(t, tb.text("main"), "Globex")
	tb.check("accounts")

	tb.visit("/admin/users", 200)
	require.Contains(t, tb.text("main"), "Dana Lee")
	tb.check("admin-users")

	tb.visit("/admin/settings", 200)
	tb.check("admin-settings")
}
