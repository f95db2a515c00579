package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccounts(t *testing.T) {
	t.Parallel()

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"https://www.Acme.com/", "acme.io"}, "segment": "enterprise"})
		res := b.do("GET", "/v1/accounts/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status)
		m := res.Map(t)
		require.Equal(t, []any{"acme.com", "acme.io"}, m["domains"])
		require.Equal(t, "enterprise", m["segment"])

		res = b.do("PATCH", "/v1/accounts/"+id, map[string]any{"segment": nil, "domains": []string{"acme.org"}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Nil(t, m["segment"])
		require.Equal(t, "Acme", m["name"])
		require.Equal(t, []any{"acme.org"}, m["domains"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/accounts/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/accounts/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/accounts/"+id, nil).Status)
	})

	t.Run("DomainClaimedTwiceIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"acme.com"}})
		res := b.do("POST", "/v1/accounts", map[string]any{"name": "Acme 2", "domains": []string{"ACME.com"}})
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	})

	t.Run("SearchByNameAndDomain", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create("/v1/accounts", map[string]any{"name": "Globex Corporation", "domains": []string{"globex.com"}})
		b.create("/v1/accounts", map[string]any{"name": "Initech", "domains": []string{"initech.io"}})
		var page struct {
			Items []struct{ Name string } `json:"items"`
		}
		b.do("GET", "/v1/accounts?q=GLOBEX", nil).JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, "Globex Corporation", page.Items[0].Name)
		b.do("GET", "/v1/accounts?q=initech.io", nil).JSON(t, &page)
		require.Len(t, page.Items, 1)
		b.do("GET", "/v1/accounts?q=100%25", nil).JSON(t, &page)
		require.Empty(t, page.Items)
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := 0; i < 5; i++ {
			b.create("/v1/accounts", map[string]any{"name": "A" + strings.Repeat("x", i)})
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			var page struct {
				Items      []struct{ ID string } `json:"items"`
				NextCursor *string               `json:"next_cursor"`
			}
			b.do("GET", "/v1/accounts?limit=2&cursor="+cursor, nil).JSON(t, &page)
			for _, it := range page.Items {
				require.False(t, seen[it.ID], "account listed twice")
				seen[it.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 5)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/accounts?cursor=garbage!", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/accounts?limit=0", nil).Status)
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"name":`, 400, nil},
			{"NotAnObject", `[1,2]`, 400, nil},
			{"Empty", ``, 400, nil},
			{"UnknownField", `{"name":"A","colour":"red"}`, 422, []string{"colour"}},
			{"WrongType", `{"name":5}`, 422, []string{"name"}},
			{"MissingName", `{"segment":"smb"}`, 422, []string{"name"}},
			{"BadDomain", `{"name":"A","domains":["not a domain"]}`, 422, []string{"domains[0]"}},
			{"NulInName", `{"name":"a\u0000b"}`, 422, []string{"name"}},
			{"LongName", map[string]any{"name": strings.Repeat("n", 10_000)}, 422, []string{"name"}},
			{"BadOwner", `{"name":"A","owner_id":"nope"}`, 422, []string{"owner_id"}},
			{"MissingOwner", `{"name":"A","owner_id":"0190a0e0-0000-7000-8000-000000000000"}`, 422, []string{"owner_id"}},
			{"InvalidUTF8", []byte("{\"name\":\"\xff\xfe\"}"), 422, nil},
			{"TooLarge", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/accounts", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/accounts/not-a-uuid", nil).Status)
	})
}
