package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func TestContacts(t *testing.T) {
	t.Parallel()

	// account makes an account of the bundle's org.
	account := func(b *testBundle, name string) string {
		b.t.Helper()
		return b.create("/v1/accounts", map[string]any{"name": name})
	}

	t.Run("AccountOfAnotherOrgIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mine := account(b, "Acme")
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Globex"})
		require.Equal(t, http.StatusCreated, res.Status)
		theirs := res.Map(t)["id"].(string)

		for _, acct := range []string{theirs, "0190a0e0-0000-7000-8000-000000000000"} {
			res = b.do("POST", "/v1/contacts", map[string]any{"account_id": acct, "name": "Dana"})
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
			require.Equal(t, []string{"account_id"}, res.Fields(t))
		}

		id := b.create("/v1/contacts", map[string]any{"account_id": mine, "name": "Dana"})
		res = b.do("PATCH", "/v1/contacts/"+id, map[string]any{"account_id": theirs})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"account_id"}, res.Fields(t))
		require.Equal(t, mine, b.do("GET", "/v1/contacts/"+id, nil).Map(t)["account_id"])
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		ok := func(extra string) string { return `{"account_id":"` + acct + `","name":"Dana"` + extra + `}` }
		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"name":`, 400, nil},
			{"Empty", ``, 400, nil},
			{"MissingEverything", `{}`, 422, []string{"account_id", "name"}},
			{"BadAccountID", `{"account_id":"acme","name":"Dana"}`, 422, []string{"account_id"}},
			{"BadEmail", ok(`,"email":"not an email"`), 422, []string{"email"}},
			{"LongPhone", ok(`,"phone":"` + strings.Repeat("5", 51) + `"`), 422, []string{"phone"}},
			{"LongTitle", ok(`,"title":"` + strings.Repeat("t", 201) + `"`), 422, []string{"title"}},
			{"WrongType", ok(`,"phone":5550100`), 422, []string{"phone"}},
			{"UnknownField", ok(`,"company":"Acme"`), 422, []string{"company"}},
			{"TooLarge", ok(`,"title":"` + strings.Repeat("x", 2<<20) + `"`), 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/contacts", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/contacts/not-a-uuid", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/contacts?account_id=acme", nil).Status)
	})

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		res := b.do("POST", "/v1/contacts", map[string]any{
			"account_id": acct, "name": "Dana Lee", "email": "Dana@Acme.com", "phone": "+1 555 0100", "title": "VP Sales",
		})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		id := m["id"].(string)
		require.Equal(t, "dana@acme.com", m["email"])
		require.Equal(t, acct, m["account_id"])

		res = b.do("GET", "/v1/contacts/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "VP Sales", res.Map(t)["title"])

		res = b.do("PATCH", "/v1/contacts/"+id, map[string]any{"title": "CRO"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Equal(t, "CRO", m["title"])
		require.Equal(t, "+1 555 0100", m["phone"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/contacts/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/contacts/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/contacts/"+id, nil).Status)
	})

	t.Run("DuplicateEmailIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "Dana", "email": "dana@acme.com"})
		res := b.do("POST", "/v1/contacts", map[string]any{"account_id": acct, "name": "Dana 2", "email": "DANA@acme.com"})
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		var p Problem
		res.JSON(t, &p)
		require.Equal(t, "a contact with this email already exists", p.Detail)

		lee := b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "Lee", "email": "lee@acme.com"})
		require.Equal(t, http.StatusConflict, b.do("PATCH", "/v1/contacts/"+lee, map[string]any{"email": "Dana@acme.com"}).Status)

		// Contacts without email never conflict.
		b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "No Email 1"})
		b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "No Email 2"})
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acme, initech := account(b, "Acme"), account(b, "Initech")
		dana := b.create("/v1/contacts", map[string]any{"account_id": acme, "name": "Dana", "email": "dana@acme.com"})
		b.create("/v1/contacts", map[string]any{"account_id": acme, "name": "Lee", "email": "lee@acme.com"})
		bob := b.create("/v1/contacts", map[string]any{"account_id": initech, "name": "Bob"})

		ids := func(q string) []string {
			var page struct {
				Items []struct{ ID string } `json:"items"`
			}
			res := b.do("GET", "/v1/contacts?"+q, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", q, res.Body)
			res.JSON(t, &page)
			out := []string{}
			for _, it := range page.Items {
				out = append(out, it.ID)
			}
			return out
		}
		require.Equal(t, []string{bob}, ids("account_id="+initech))
		require.Len(t, ids("account_id="+acme), 2)
		require.Equal(t, []string{dana}, ids("email=DANA%40acme.com"))
		require.Equal(t, []string{dana}, ids("email=dana@acme.com&account_id="+acme))
		require.Empty(t, ids("email=dana@acme.com&account_id="+initech))
		require.Empty(t, ids("email=nobody@acme.com"))
	})

	t.Run("OtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/contacts", map[string]any{"account_id": account(b, "Acme"), "name": "Dana"})
		_, otherKey := b.newOrg("Other")
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "GET", "/v1/contacts/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "PATCH", "/v1/contacts/"+id, map[string]any{"name": "Eve"}).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "DELETE", "/v1/contacts/"+id, nil).Status)
		res := b.doKey(otherKey, "GET", "/v1/contacts", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, string(res.Body), id)
		require.Equal(t, "Dana", b.do("GET", "/v1/contacts/"+id, nil).Map(t)["name"])
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		for i := range 5 {
			b.create("/v1/contacts", map[string]any{"account_id": acct, "name": fmt.Sprintf("C%d", i)})
		}
		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			var page struct {
				Items      []struct{ ID string } `json:"items"`
				NextCursor *string               `json:"next_cursor"`
			}
			b.do("GET", "/v1/contacts?limit=2&account_id="+acct+"&cursor="+cursor, nil).JSON(t, &page)
			for _, it := range page.Items {
				require.False(t, seen[it.ID], "contact listed twice")
				seen[it.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 5)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/contacts?cursor=garbage!", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/contacts?limit=0", nil).Status)
	})

	t.Run("PatchNullClearsAbsentKeeps", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		id := b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "Dana", "email": "dana@acme.com", "phone": "555", "title": "CTO"})

		res := b.do("PATCH", "/v1/contacts/"+id, `{"phone":null,"email":null}`)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m := res.Map(t)
		require.Nil(t, m["phone"])
		require.Nil(t, m["email"])
		require.Equal(t, "CTO", m["title"])
		require.Equal(t, "Dana", m["name"])
		require.Equal(t, acct, m["account_id"])

		res = b.do("PATCH", "/v1/contacts/"+id, `{"account_id":null,"name":null}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"account_id", "name"}, res.Fields(t))

		// The email freed by the null can be taken by another contact.
		b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "Dana 2", "email": "dana@acme.com"})
	})

	t.Run("ReadKeyCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := account(b, "Acme")
		id := b.create("/v1/contacts", map[string]any{"account_id": acct, "name": "Dana"})
		read := b.keyWith(crm.ScopeRead)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/contacts", map[string]any{"account_id": acct, "name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "PATCH", "/v1/contacts/"+id, map[string]any{"name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "DELETE", "/v1/contacts/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/contacts/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/contacts", nil).Status)
	})
}
