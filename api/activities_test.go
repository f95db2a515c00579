package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// actBundle is setup(t) plus the test's transaction, so tests can plant
// contacts, users and deals with SQL whatever routes exist for them.
type actBundle struct {
	*testBundle
	tx pgx.Tx
}

func actSetup(t *testing.T) *actBundle {
	t.Helper()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	h, err := NewHandler(Deps{Store: s})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
	return &actBundle{testBundle: b, tx: tx}
}

// account creates an account through the API.
func (b *actBundle) account(name string, domains ...string) string {
	b.t.Helper()
	if domains == nil {
		domains = []string{}
	}
	return b.create("/v1/accounts", map[string]any{"name": name, "domains": domains})
}

// contact plants a contact of the bundle's org.
func (b *actBundle) contact(accountID, email string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(context.Background(),
		`INSERT INTO contacts (org_id, id, account_id, name, email) VALUES ($1, $2, $3, $4, $5)`,
		b.orgID, id, accountID, "Contact "+email, email)
	require.NoError(b.t, err)
	return id
}

// user plants a user of the bundle's org.
func (b *actBundle) user(email string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(context.Background(),
		`INSERT INTO users (org_id, id, email, name, role) VALUES ($1, $2, $3, 'Rep', 'rep')`, b.orgID, id, email)
	require.NoError(b.t, err)
	return id
}

// deal plants a deal of the bundle's org.
func (b *actBundle) deal(accountID string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(context.Background(),
		`INSERT INTO deals (org_id, id, account_id, name) VALUES ($1, $2, $3, 'Renewal')`, b.orgID, id, accountID)
	require.NoError(b.t, err)
	return id
}

// activities counts the org's stored activities.
func (b *actBundle) activities() int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.tx.QueryRow(context.Background(),
		`SELECT count(*) FROM activities WHERE org_id = $1`, b.orgID).Scan(&n))
	return n
}

// post POSTs one activity and decodes the answer.
func (b *actBundle) post(body any) (response, crm.Activity) {
	b.t.Helper()
	res := b.do("POST", "/v1/activities", body)
	var a crm.Activity
	if res.Status < 300 {
		res.JSON(b.t, &a)
	}
	return res, a
}

// postBatch POSTs {"activities": items} and decodes the answer.
func (b *actBundle) postBatch(items any) (response, activityBatchResult) {
	b.t.Helper()
	res := b.do("POST", "/v1/activities", map[string]any{"activities": items})
	var out activityBatchResult
	if res.Status < 300 {
		res.JSON(b.t, &out)
	}
	return res, out
}

func TestActivities(t *testing.T) {
	t.Parallel()

	t.Run("EveryTypeCreatesAndReadsBack", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		owner, deal := b.user("rep@seller.test"), b.deal(acme)
		for _, typ := range crm.ActivityTypes {
			body := map[string]any{"type": typ, "direction": "inbound", "account_id": acme, "deal_id": deal,
				"owner_id": owner, "occurred_at": "2026-03-02T16:00:00+01:00", "duration_seconds": 300,
				"subject": "Subject " + string(typ), "body": "Body ünïcödé", "source": "manual"}
			body["next_step"] = map[string]any{"text": "Send deck", "due_date": "2026-03-10"}
			body["participants"] = []map[string]any{{"name": "Dana Lee", "email": "dana@acme.test"}}
			body["metadata"] = map[string]any{"list": "spring"}
			if typ.TakesDisposition() {
				body["disposition"] = "voicemail"
			}
			res, a := b.post(body)
			require.Equal(t, http.StatusCreated, res.Status, "%s: %s", typ, res.Body)
			m := res.Map(t)
			require.Equal(t, "2026-03-02T15:00:00Z", m["occurred_at"], "UTC on output")
			require.Equal(t, []any{}, m["contact_ids"])
			require.Equal(t, map[string]any{"list": "spring"}, m["metadata"])
			require.NotContains(t, m, "notes")
			require.Equal(t, "manual", m["source"])

			got := b.do("GET", "/v1/activities/"+a.ID, nil)
			require.Equal(t, http.StatusOK, got.Status)
			g := got.Map(t)
			for _, k := range []string{"id", "type", "direction", "account_id", "deal_id", "owner_id", "occurred_at",
				"duration_seconds", "subject", "body", "disposition", "next_step", "participants", "source",
				"external_id", "metadata", "contact_ids", "created_at", "updated_at"} {
				require.Equal(t, m[k], g[k], "%s: %s", typ, k)
			}
		}
		require.Equal(t, len(crm.ActivityTypes), b.activities())
	})

	t.Run("SourceDefaultsToAPI", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		res, a := b.post(map[string]any{"type": "note", "account_id": b.account("Acme"), "occurred_at": "2026-03-02T15:00:00Z"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, crm.SourceAPI, a.Source)
		require.Nil(t, a.ExternalID)
	})

	t.Run("ParticipantsResolveByContactEmailAndByDomain", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme", "acme.test")
		globex := b.account("Globex", "globex.test")
		dana := b.contact(acme, "dana@acme.test")

		res, a := b.post(map[string]any{"type": "meeting", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"name": "Dana Lee", "email": "Dana@Acme.TEST"}, {"name": "Me", "email": "me@seller.test"}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, []string{dana}, a.ContactIDs)
		require.Equal(t, "dana@acme.test", a.Participants[0].Email, "stored normalised")

		res, a = b.post(map[string]any{"type": "email", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"name": "Hank", "email": "hank@globex.test"}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, globex, a.AccountID)
		require.Empty(t, a.ContactIDs)
	})

	t.Run("UnresolvableOrAmbiguousAccountIs422", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme, globex := b.account("Acme", "acme.test"), b.account("Globex", "globex.test")
		d, g := b.contact(acme, "d@acme.test"), b.contact(globex, "g@globex.test")
		cases := []struct {
			desc   string
			body   map[string]any
			fields []string
		}{
			{"NothingMatches", map[string]any{"participants": []map[string]any{{"email": "x@nowhere.test"}}}, []string{"participants"}},
			{"ContactsTie", map[string]any{"participants": []map[string]any{{"email": "d@acme.test"}, {"email": "g@globex.test"}}}, []string{"participants"}},
			{"DomainsTie", map[string]any{"participants": []map[string]any{{"email": "a@acme.test"}, {"email": "b@globex.test"}}}, []string{"participants"}},
			{"ContactsOfTwoAccounts", map[string]any{"contact_ids": []string{d, g}}, []string{"contact_ids"}},
			{"UnknownContact", map[string]any{"contact_ids": []string{d, store.NewID()}}, []string{"contact_ids[1]"}},
			{"NothingToGoOn", map[string]any{}, []string{"account_id"}},
			{"UnknownAccount", map[string]any{"account_id": store.NewID()}, []string{"account_id"}},
		}
		for _, tc := range cases {
			tc.body["type"], tc.body["occurred_at"] = "meeting", "2026-03-02T15:00:00Z"
			res, _ := b.post(tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", tc.desc, res.Body)
			require.Equal(t, tc.fields, res.Fields(t), tc.desc)
		}
		res, _ := b.post(map[string]any{"type": "meeting", "occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{d, g}})
		require.Contains(t, string(res.Body), "contacts belong to different accounts; pass account_id")
		require.Zero(t, b.activities())
	})

	t.Run("AnotherOrgsReferencesAre422", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/activities", map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"account_id"}, res.Fields(t))
		res, _ = b.post(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"deal_id": store.NewID(), "owner_id": store.NewID()})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"deal_id", "owner_id"}, res.Fields(t))
	})

	t.Run("Dispositions", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		call := func(extra map[string]any) response {
			body := map[string]any{"type": "call", "direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}
			for k, v := range extra {
				body[k] = v
			}
			res, _ := b.post(body)
			return res
		}
		require.Equal(t, http.StatusCreated, call(map[string]any{"disposition": "meeting_booked"}).Status)
		require.Equal(t, http.StatusCreated, call(nil).Status, "not required by default")
		res := call(map[string]any{"disposition": "left_message"})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"disposition"}, res.Fields(t))
		res = call(map[string]any{"type": "meeting", "disposition": "connected"})
		require.Equal(t, []string{"disposition"}, res.Fields(t))

		set := b.do("PATCH", "/v1/settings", map[string]any{"dispositions": []string{"left_message", "connected"}, "require_disposition": true})
		require.Equal(t, http.StatusOK, set.Status, "%s", set.Body)
		require.Equal(t, http.StatusCreated, call(map[string]any{"disposition": "left_message"}).Status)
		require.Equal(t, []string{"disposition"}, call(map[string]any{"disposition": "meeting_booked"}).Fields(t))
		res = call(nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Contains(t, string(res.Body), "require_disposition")
		require.Equal(t, http.StatusCreated, call(map[string]any{"direction": "inbound"}).Status)
		require.Equal(t, http.StatusCreated, call(map[string]any{"type": "email"}).Status)
	})

	t.Run("RepostIsIdempotentAndChangesUpdate", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		d := b.contact(acme, "d@acme.test")
		body := map[string]any{"type": "call", "direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"source": "dialer", "external_id": "call-77", "disposition": "connected", "contact_ids": []string{d}}
		res, first := b.post(body)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

		res, again := b.post(body)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.UpdatedAt, again.UpdatedAt, "nothing changes")
		require.Equal(t, first.ContactIDs, again.ContactIDs)
		require.Equal(t, 1, b.activities())

		body["disposition"] = "busy"
		res, changed := b.post(body)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, first.ID, changed.ID)
		require.Equal(t, "busy", *changed.Disposition)
		require.True(t, changed.UpdatedAt.After(first.UpdatedAt))
		require.Equal(t, first.CreatedAt, changed.CreatedAt)
		require.Equal(t, 1, b.activities())
		got := b.do("GET", "/v1/activities/"+first.ID, nil).Map(t)
		require.Equal(t, "busy", got["disposition"])
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		valid := func(extra string) string {
			return `{"type":"note","account_id":"` + acme + `","occurred_at":"2026-03-02T15:00:00Z"` + extra + `}`
		}
		cases := []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"MalformedJSON", `{"type":`, 400, nil},
			{"Empty", ``, 400, nil},
			{"NotAnObject", `[{"type":"note"}]`, 400, nil},
			{"TrailingData", valid("") + `{}`, 400, nil},
			{"UnknownField", valid(`,"colour":"red"`), 422, []string{"colour"}},
			{"WrongType", valid(`,"duration_seconds":"long"`), 422, []string{"duration_seconds"}},
			{"MissingTypeAndTime", `{"account_id":"` + acme + `"}`, 422, []string{"type", "occurred_at"}},
			{"BadEnums", valid(`,"direction":"sideways","source":"fax"`), 422, []string{"direction", "source"}},
			{"BadType", `{"type":"telegram","account_id":"` + acme + `","occurred_at":"2026-03-02T15:00:00Z"}`, 422, []string{"type"}},
			{"BadIDs", valid(`,"deal_id":"42","owner_id":"nope","contact_ids":["x"]`), 422, []string{"contact_ids[0]", "deal_id", "owner_id"}},
			{"BadAccountID", `{"type":"note","account_id":"acme","occurred_at":"2026-03-02T15:00:00Z"}`, 422, []string{"account_id"}},
			{"BadTime", `{"type":"note","account_id":"` + acme + `","occurred_at":"2026-03-02 15:00"}`, 422, []string{"occurred_at"}},
			{"NegativeDuration", valid(`,"duration_seconds":-5`), 422, []string{"duration_seconds"}},
			{"HugeDuration", valid(`,"duration_seconds":99999999999`), 422, []string{"duration_seconds"}},
			{"LongSubject", valid(`,"subject":"` + strings.Repeat("s", 10_000) + `"`), 422, []string{"subject"}},
			{"NulInBody", valid(`,"body":"a\u0000b"`), 422, []string{"body"}},
			{"NulInMetadata", valid(`,"metadata":{"k":"a\u0000b"}`), 422, []string{"metadata"}},
			{"MetadataNotAnObject", valid(`,"metadata":[1]`), 422, []string{"metadata"}},
			{"InvalidUTF8", []byte(valid(",\"subject\":\"\xff\xfe\"")), 422, nil},
			{"BadParticipant", valid(`,"participants":[{"name":"","email":"not-an-email"},{}]`), 422, []string{"participants[0].email", "participants[1]"}},
			{"BadNextStep", valid(`,"next_step":{"text":"","due_date":"soon"}`), 422, []string{"next_step.text", "next_step.due_date"}},
			{"BlankExternalID", valid(`,"external_id":"  "`), 422, []string{"external_id"}},
			{"BadDisposition", `{"type":"call","account_id":"` + acme + `","occurred_at":"2026-03-02T15:00:00Z","disposition":"No Answer!"}`, 422, []string{"disposition"}},
			{"TooLarge", valid(`,"body":"` + strings.Repeat("x", 1<<20) + `"`), 413, nil},
		}
		for _, tc := range cases {
			res := b.do("POST", "/v1/activities", tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.ElementsMatch(t, tc.fields, res.Fields(t), tc.desc)
			}
		}
		require.Zero(t, b.activities())
	})

	t.Run("GetPatchDelete", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme, globex := b.account("Acme"), b.account("Globex")
		d, g := b.contact(acme, "d@acme.test"), b.contact(globex, "g@globex.test")
		_, a := b.post(map[string]any{"type": "call", "direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"subject": "Intro", "disposition": "connected", "contact_ids": []string{d}})

		res := b.do("PATCH", "/v1/activities/"+a.ID, map[string]any{"subject": "Intro call", "direction": nil, "duration_seconds": 42})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m := res.Map(t)
		require.Equal(t, "Intro call", m["subject"])
		require.Nil(t, m["direction"])
		require.Equal(t, float64(42), m["duration_seconds"])
		require.Equal(t, "connected", m["disposition"], "absent fields stay")
		require.Equal(t, []any{d}, m["contact_ids"])

		for _, tc := range []struct {
			desc   string
			body   any
			status int
			fields []string
		}{
			{"NullType", map[string]any{"type": nil}, 422, []string{"type"}},
			{"NullAccount", map[string]any{"account_id": nil}, 422, []string{"account_id"}},
			{"NullOccurredAt", map[string]any{"occurred_at": nil}, 422, []string{"occurred_at"}},
			{"DispositionOnAnEmail", map[string]any{"type": "email"}, 422, []string{"disposition"}},
			{"UnknownAccount", map[string]any{"account_id": store.NewID()}, 422, []string{"account_id"}},
			{"UnknownField", `{"colour":"red"}`, 422, []string{"colour"}},
			{"Malformed", `{"subject":`, 400, nil},
		} {
			res := b.do("PATCH", "/v1/activities/"+a.ID, tc.body)
			require.Equal(t, tc.status, res.Status, "%s: %s", tc.desc, res.Body)
			if tc.fields != nil {
				require.Equal(t, tc.fields, res.Fields(t), tc.desc)
			}
		}

		res = b.do("PATCH", "/v1/activities/"+a.ID, map[string]any{"account_id": globex, "contact_ids": []string{g}, "type": "email", "disposition": nil})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m = res.Map(t)
		require.Equal(t, globex, m["account_id"])
		require.Equal(t, []any{g}, m["contact_ids"])

		// An external_id another activity has is a conflict.
		_, other := b.post(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "external_id": "taken"})
		require.NotEmpty(t, other.ID)
		require.Equal(t, http.StatusConflict, b.do("PATCH", "/v1/activities/"+a.ID, map[string]any{"external_id": "taken"}).Status)

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/activities/"+a.ID, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/activities/"+a.ID, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("PATCH", "/v1/activities/"+a.ID, map[string]any{"subject": "x"}).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/activities/"+a.ID, nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/activities/not-a-uuid", nil).Status)
	})

	t.Run("AnotherOrgsActivityIs404", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		_, a := b.post(map[string]any{"type": "note", "account_id": b.account("Acme"), "occurred_at": "2026-03-02T15:00:00Z", "body": "canary"})
		_, otherKey := b.newOrg("Other")
		for _, method := range []string{"GET", "PATCH", "DELETE"} {
			var body any
			if method == "PATCH" {
				body = map[string]any{"body": "x"}
			}
			res := b.doKey(otherKey, method, "/v1/activities/"+a.ID, body)
			require.Equal(t, http.StatusNotFound, res.Status, method)
			require.NotContains(t, string(res.Body), "canary")
		}
		require.Equal(t, http.StatusOK, b.do("GET", "/v1/activities/"+a.ID, nil).Status)
	})

	t.Run("Scopes", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		body := map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}
		read, ingest, write := b.keyWith(crm.ScopeRead), b.keyWith(crm.ScopeIngest), b.keyWith(crm.ScopeWrite)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/activities", body).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/activities", map[string]any{"activities": []any{body}}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(write, "POST", "/v1/activities", body).Status)
		res := b.doKey(ingest, "POST", "/v1/activities", body)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		id := res.Map(t)["id"].(string)
		require.Equal(t, http.StatusForbidden, b.doKey(ingest, "GET", "/v1/activities/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/activities/"+id, nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "PATCH", "/v1/activities/"+id, map[string]any{"body": "x"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "DELETE", "/v1/activities/"+id, nil).Status)
		require.Equal(t, http.StatusOK, b.doKey(write, "PATCH", "/v1/activities/"+id, map[string]any{"body": "x"}).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "POST", "/v1/activities", body).Status)
		require.Equal(t, http.StatusNoContent, b.doKey(write, "DELETE", "/v1/activities/"+id, nil).Status)
	})

	t.Run("OpenAPIDocumentsBothForms", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		post := b.spec["paths"].(map[string]any)["/v1/activities"].(map[string]any)["post"].(map[string]any)
		schema := post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		require.Len(t, schema["oneOf"], 2)
		resp := post["responses"].(map[string]any)["201"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		require.Len(t, resp["oneOf"], 2)
		comps := b.spec["components"].(map[string]any)["schemas"].(map[string]any)
		require.Contains(t, comps, "ActivityBatchResult")
		item := comps["ActivityBatchItem"].(map[string]any)["properties"].(map[string]any)["result"].(map[string]any)
		require.Equal(t, []any{"created", "updated", "unchanged"}, item["enum"])
	})
}

// TestActivityCreateJSONMatchesInput keeps the create decoder in step with
// crm.ActivityInput: the same json names, the same field names.
func TestActivityCreateJSONMatchesInput(t *testing.T) {
	t.Parallel()
	tags := func(typ reflect.Type) []string {
		var out []string
		for i := range typ.NumField() {
			if tag := typ.Field(i).Tag.Get("json"); tag != "-" {
				out = append(out, typ.Field(i).Name+" "+tag)
			}
		}
		return out
	}
	require.Equal(t, tags(reflect.TypeFor[crm.ActivityInput]()), tags(reflect.TypeFor[activityCreateJSON]()))
}

func TestActivitiesBatch(t *testing.T) {
	t.Parallel()

	items := func(n int, account string) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
			out[i] = map[string]any{"type": crm.ActivityTypes[i%len(crm.ActivityTypes)], "account_id": account,
				"occurred_at": at.Format(time.RFC3339), "source": "email_sync", "external_id": fmt.Sprintf("m-%04d", i)}
		}
		return out
	}

	t.Run("ThousandCreatedThenUnchanged", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		batch := items(crm.MaxBatch, acme)
		res, out := b.postBatch(batch)
		require.Equal(t, http.StatusCreated, res.Status, "%.500s", res.Body)
		require.Equal(t, crm.MaxBatch, out.Created)
		require.Len(t, out.Items, crm.MaxBatch)
		for i, it := range out.Items {
			require.Equal(t, "created", it.Result)
			require.Equal(t, fmt.Sprintf("m-%04d", i), *it.ExternalID)
		}
		require.Equal(t, crm.MaxBatch, b.activities())

		// Re-posting changes nothing: 200, same ids.
		res, again := b.postBatch(batch)
		require.Equal(t, http.StatusOK, res.Status, "%.500s", res.Body)
		require.Equal(t, crm.MaxBatch, again.Unchanged)
		require.Zero(t, again.Created+again.Updated)
		for i := range again.Items {
			require.Equal(t, out.Items[i].ID, again.Items[i].ID)
		}

		// One changed item: 200, one updated.
		batch[500]["subject"] = "changed"
		res, changed := b.postBatch(batch)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, 1, changed.Updated)
		require.Equal(t, "updated", changed.Items[500].Result)
		require.Equal(t, out.Items[500].ID, changed.Items[500].ID)
		require.Equal(t, crm.MaxBatch, b.activities())
	})

	t.Run("ResponseShape", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme", "acme.test")
		batch := items(2, acme)
		batch = append(batch, map[string]any{"type": "email", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"email": "x@acme.test"}}})
		res := b.do("POST", "/v1/activities", map[string]any{"activities": batch})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		require.Equal(t, float64(3), m["created"])
		require.Equal(t, float64(0), m["updated"])
		require.Equal(t, float64(0), m["unchanged"])
		last := m["items"].([]any)[2].(map[string]any)
		require.Nil(t, last["external_id"])
		require.Equal(t, "created", last["result"])
		got := b.do("GET", "/v1/activities/"+last["id"].(string), nil).Map(t)
		require.Equal(t, acme, got["account_id"])
	})

	t.Run("OneBadItemWritesNothing", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		batch := items(crm.MaxBatch, acme)
		batch[999]["occurred_at"] = "nope"
		res, _ := b.postBatch(batch)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"activities[999].occurred_at"}, res.Fields(t))
		require.Zero(t, b.activities())
	})

	t.Run("EveryBadItemIsNamed", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		batch := items(8, acme)
		batch[1]["duration_seconds"] = "long"  // a decode error
		batch[2]["colour"] = "red"             // an unknown field
		batch[3]["type"] = "fax"               // a validation error
		batch[4]["account_id"] = store.NewID() // a missing account
		batch[5]["disposition"] = "not_a_code" // not an org code
		batch[6]["owner_id"] = store.NewID()   // a missing user
		batch[7]["subject"] = strings.Repeat("s", 10_000)
		res, _ := b.postBatch(batch)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		fields := res.Fields(t)
		require.Contains(t, fields, "activities[1].duration_seconds")
		require.Contains(t, fields, "activities[2].colour")
		require.Contains(t, fields, "activities[3].type")
		require.Contains(t, fields, "activities[7].subject")
		require.Zero(t, b.activities())

		// Once the decoding is right, the store names the rest, missing
		// references included, in input order.
		batch = items(8, acme)
		batch[4]["account_id"] = store.NewID()
		batch[5]["type"], batch[5]["disposition"] = "call", "not_a_code"
		batch[6]["owner_id"] = store.NewID()
		res, _ = b.postBatch(batch)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"activities[4].account_id", "activities[5].disposition", "activities[6].owner_id"}, res.Fields(t))
		// Missing references alone are found when the foreign keys refuse them.
		batch[5] = items(1, acme)[0]
		batch[5]["external_id"] = "m-0005"
		res, _ = b.postBatch(batch)
		require.Equal(t, []string{"activities[4].account_id", "activities[6].owner_id"}, res.Fields(t))
		require.Zero(t, b.activities())
	})

	t.Run("ItemsThatAreNotObjects", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		res := b.do("POST", "/v1/activities", `{"activities":[{"type":"note"}, 5, null, "x"]}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		fields := res.Fields(t)
		require.Contains(t, fields, "activities[1]")
		require.Contains(t, fields, "activities[2]")
		require.Contains(t, fields, "activities[3]")
		require.Contains(t, fields, "activities[0].occurred_at")
	})

	t.Run("SizeLimits", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		for _, body := range []string{`{"activities":[]}`, `{"activities":null}`, `{"activities":{}}`} {
			res := b.do("POST", "/v1/activities", body)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", body, res.Body)
			require.Equal(t, []string{"activities"}, res.Fields(t), body)
		}
		res, _ := b.postBatch(items(crm.MaxBatch+1, acme))
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"activities"}, res.Fields(t))

		// A batch may be larger than one activity's 1 MiB, up to 16 MiB.
		big := items(30, acme)
		for _, it := range big {
			it["body"] = strings.Repeat("b", 90_000)
		}
		res, out := b.postBatch(big)
		require.Equal(t, http.StatusCreated, res.Status, "%.300s", res.Body)
		require.Equal(t, 30, out.Created)
		huge := `{"activities":[{"body":"` + strings.Repeat("h", 17<<20) + `"}]}`
		require.Equal(t, http.StatusRequestEntityTooLarge, b.do("POST", "/v1/activities", huge).Status)
		// Unknown top-level keys next to activities are refused.
		res = b.do("POST", "/v1/activities", map[string]any{"activities": items(1, acme), "type": "note"})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"type"}, res.Fields(t))
		res = b.do("POST", "/v1/activities", `{"type":"note","activities":[]}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"type"}, res.Fields(t))
		// A batch is recognised wherever its key is.
		one, err := json.Marshal(items(1, acme))
		require.NoError(t, err)
		res = b.do("POST", "/v1/activities", " {\n \"ACTIVITIES\" : "+string(one)+"}")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, float64(1), res.Map(t)["updated"], "m-0000 without its long body")
		require.Equal(t, 30, b.activities())
	})

	t.Run("DuplicatesInOneBatch", func(t *testing.T) {
		t.Parallel()
		b := actSetup(t)
		acme := b.account("Acme")
		batch := items(3, acme)
		dup := map[string]any{}
		for k, v := range batch[0] {
			dup[k] = v
		}
		res, out := b.postBatch(append(batch, dup))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, out.Items[0].ID, out.Items[3].ID)
		require.Equal(t, 3, out.Created)
		require.Equal(t, 1, out.Unchanged)
		require.Equal(t, 3, b.activities())

		batch = items(3, acme)
		batch[2]["external_id"] = "m-0000"
		res, _ = b.postBatch(batch)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"activities[2].external_id"}, res.Fields(t))
	})
}
