package web

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAccountPageHasTools: the account page carries the search, ask and
// log sections themselves (not placeholders), each form posting or getting
// to this account with the session's CSRF token where it writes.
func TestAccountPageHasTools(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	f := b.fixture("Acme Corp")
	res := b.get("/accounts/" + f.account.ID)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	for _, want := range []string{
		`action="/accounts/` + f.account.ID + `/search"`,
		`id="ask-form"`,
		`id="log-call"`, `id="log-note"`, `id="log-email"`,
		`action="/accounts/` + f.account.ID + `/log"`,
		`name="csrf" value="` + b.csrf + `"`,
	} {
		require.Contains(t, res.Body, want)
	}
	require.NotContains(t, res.Body, "is coming", "no placeholder left")
}
