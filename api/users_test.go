package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func TestUsers(t *testing.T) {
	t.Parallel()

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"email":`, 400, nil},
			{"Empty", ``, 400, nil},
			{"NotAnObject", `"dana"`, 400, nil},
			{"MissingEverything", `{}`, 422, []string{"email", "name"}},
			{"NullName", `{"email":"dana@acme.com","name":null}`, 422, []string{"name"}},
			{"BadEmail", `{"email":"Dana <dana@acme.com>","name":"Dana"}`, 422, []string{"email"}},
			{"BlankName", `{"email":"dana@acme.com","name":"  "}`, 422, []string{"name"}},
			{"BadRole", `{"email":"dana@acme.com","name":"Dana","role":"boss"}`, 422, []string{"role"}},
			{"NullRole", `{"email":"dana@acme.com","name":"Dana","role":null}`, 422, []string{"role"}},
			{"WrongType", `{"email":"dana@acme.com","name":7}`, 422, []string{"name"}},
			{"UnknownField", `{"email":"dana@acme.com","name":"Dana","team":"east"}`, 422, []string{"team"}},
			{"TooLarge", `{"email":"dana@acme.com","name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/users", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/users/not-a-uuid", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("PATCH", "/v1/users/not-a-uuid", `{}`).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("DELETE", "/v1/users/not-a-uuid", nil).Status)
	})

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.do("POST", "/v1/users", map[string]any{"email": "Dana@Acme.com", "name": "Dana Lee"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		id := m["id"].(string)
		require.Equal(t, "dana@acme.com", m["email"])
		require.Equal(t, "rep", m["role"], "role defaults to rep")
		require.NotContains(t, m, "org_id")
		require.True(t, strings.HasSuffix(m["created_at"].(string), "Z"), "times are UTC: %v", m["created_at"])

		res = b.do("GET", "/v1/users/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "Dana Lee", res.Map(t)["name"])
		// IDs are case-insensitive in paths.
		require.Equal(t, http.StatusOK, b.do("GET", "/v1/users/"+strings.ToUpper(id), nil).Status)

		res = b.do("PATCH", "/v1/users/"+id, map[string]any{"role": "manager"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Equal(t, "manager", m["role"])
		require.Equal(t, "Dana Lee", m["name"], "an absent field is kept")
		require.Equal(t, "dana@acme.com", m["email"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/users/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/users/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("PATCH", "/v1/users/"+id, map[string]any{"name": "Ghost"}).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/users/"+id, nil).Status)
	})

	t.Run("DuplicateEmailIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create("/v1/users", map[string]any{"email": "dana@acme.com", "name": "Dana"})
		res := b.do("POST", "/v1/users", map[string]any{"email": "DANA@acme.com", "name": "Dana 2"})
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		var p Problem
		res.JSON(t, &p)
		require.Equal(t, "a user with this email already exists", p.Detail)

		lee := b.create("/v1/users", map[string]any{"email": "lee@acme.com", "name": "Lee"})
		require.Equal(t, http.StatusConflict, b.do("PATCH", "/v1/users/"+lee, map[string]any{"email": "dana@ACME.com"}).Status)
		require.Equal(t, "lee@acme.com", b.do("GET", "/v1/users/"+lee, nil).Map(t)["email"])

		// Emails are unique per org, not globally.
		_, otherKey := b.newOrg("Other")
		require.Equal(t, http.StatusCreated, b.doKey(otherKey, "POST", "/v1/users", map[string]any{"email": "dana@acme.com", "name": "Dana"}).Status)
	})

	t.Run("ListFiltersByRole", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create("/v1/users", map[string]any{"email": "a@acme.com", "name": "A", "role": "csm"})
		b.create("/v1/users", map[string]any{"email": "b@acme.com", "name": "B"})
		c := b.create("/v1/users", map[string]any{"email": "c@acme.com", "name": "C", "role": "csm"})
		var page struct {
			Items []struct {
				ID   string `json:"id"`
				Role string `json:"role"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		b.do("GET", "/v1/users?role=csm", nil).JSON(t, &page)
		require.Len(t, page.Items, 2)
		require.Equal(t, c, page.Items[0].ID, "newest first")
		for _, it := range page.Items {
			require.Equal(t, "csm", it.Role)
		}
		require.Nil(t, page.NextCursor)

		res := b.do("GET", "/v1/users?role=admin", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.JSONEq(t, `{"items":[],"next_cursor":null}`, string(res.Body))

		res = b.do("GET", "/v1/users?role=boss", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"role"}, res.Fields(t))
	})

	t.Run("OtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/users", map[string]any{"email": "dana@acme.com", "name": "Dana"})
		_, otherKey := b.newOrg("Other")
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "GET", "/v1/users/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "PATCH", "/v1/users/"+id, map[string]any{"name": "Eve"}).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "DELETE", "/v1/users/"+id, nil).Status)
		res := b.doKey(otherKey, "GET", "/v1/users", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, string(res.Body), id)
		// Untouched.
		require.Equal(t, "Dana", b.do("GET", "/v1/users/"+id, nil).Map(t)["name"])
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 5 {
			b.create("/v1/users", map[string]any{"email": fmt.Sprintf("u%d@acme.com", i), "name": fmt.Sprintf("User %d", i)})
		}
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for ; pages < 10; pages++ {
			var page struct {
				Items      []struct{ ID string } `json:"items"`
				NextCursor *string               `json:"next_cursor"`
			}
			res := b.do("GET", "/v1/users?limit=2&cursor="+cursor, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			res.JSON(t, &page)
			require.LessOrEqual(t, len(page.Items), 2)
			for _, it := range page.Items {
				require.False(t, seen[it.ID], "user listed twice")
				seen[it.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 5)
		require.Equal(t, 2, pages, "three pages of 2, 2 and 1")
		for _, q := range []string{"cursor=garbage!", "limit=0", "limit=201", "limit=ten"} {
			res := b.do("GET", "/v1/users?"+q, nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
		}
	})

	t.Run("PatchNullIsInvalidAbsentIsKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/users", map[string]any{"email": "dana@acme.com", "name": "Dana", "role": "csm"})
		res := b.do("PATCH", "/v1/users/"+id, `{"email":null,"name":null,"role":null}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"email", "name", "role"}, res.Fields(t))

		res = b.do("PATCH", "/v1/users/"+id, `{}`)
		require.Equal(t, http.StatusOK, res.Status)
		m := res.Map(t)
		require.Equal(t, "dana@acme.com", m["email"])
		require.Equal(t, "Dana", m["name"])
		require.Equal(t, "csm", m["role"])

		res = b.do("PATCH", "/v1/users/"+id, map[string]any{"email": "DANA.LEE@acme.com"})
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "dana.lee@acme.com", res.Map(t)["email"])
	})

	t.Run("ReadKeyCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/users", map[string]any{"email": "dana@acme.com", "name": "Dana"})
		read := b.keyWith(crm.ScopeRead)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/users", map[string]any{"email": "x@acme.com", "name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "PATCH", "/v1/users/"+id, map[string]any{"name": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "DELETE", "/v1/users/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/users/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/users", nil).Status)

		write := b.keyWith(crm.ScopeWrite)
		require.Equal(t, http.StatusCreated, b.doKey(write, "POST", "/v1/users", map[string]any{"email": "w@acme.com", "name": "W"}).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "GET", "/v1/users", nil).Status)
	})
}
