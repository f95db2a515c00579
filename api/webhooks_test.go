package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testredis"
)

// deliveryRecorder is an Enqueuer that records webhook deliveries, after
// checking that each is already stored (the API enqueues only what its
// transaction wrote).
type deliveryRecorder struct {
	t     *testing.T
	store *store.Store
	mu    sync.Mutex
	ids   []string
	fail  bool
}

// EnqueueTranscript refuses: no webhook route stores a transcript.
func (r *deliveryRecorder) EnqueueTranscript(context.Context, string, string) error {
	return errors.New("unexpected transcript")
}

// EnqueueWebhook records id once the delivery is found in the store; with
// fail set it records and then fails, as a down Redis would.
func (r *deliveryRecorder) EnqueueWebhook(ctx context.Context, orgID, id string) error {
	d, err := r.store.WebhookDeliveryForSend(ctx, orgID, id)
	require.NoError(r.t, err, "enqueued delivery %s is not stored", id)
	require.Equal(r.t, "pending", d.Status)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	if r.fail {
		return errors.New("redis is down")
	}
	return nil
}

// take returns what was recorded since the last call.
func (r *deliveryRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.ids
	r.ids = nil
	return ids
}

// webhookSetup is setup(t) with a deliveryRecorder as the Enqueuer.
func webhookSetup(t *testing.T) (*testBundle, *deliveryRecorder) {
	t.Helper()
	b := setup(t)
	rec := &deliveryRecorder{t: t, store: b.store}
	h, err := NewHandler(Deps{Store: b.store, Enqueuer: rec})
	require.NoError(t, err)
	b.handler = h
	return b, rec
}

// deliveryIDs lists the IDs of a webhook's deliveries through the API.
func (b *testBundle) deliveryIDs(webhookID, query string) []string {
	b.t.Helper()
	res := b.do("GET", "/v1/webhooks/"+webhookID+"/deliveries"+query, nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	var page crm.Page[crm.WebhookDelivery]
	res.JSON(b.t, &page)
	ids := []string{}
	for _, d := range page.Items {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestWebhooks(t *testing.T) {
	t.Parallel()

	t.Run("AdminOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}})
		key := b.keyWith(crm.ScopeRead, crm.ScopeWrite, crm.ScopeIngest)
		for _, c := range []struct{ method, path string }{
			{"POST", "/v1/webhooks"}, {"GET", "/v1/webhooks"}, {"GET", "/v1/webhooks/" + id},
			{"DELETE", "/v1/webhooks/" + id}, {"GET", "/v1/webhooks/" + id + "/deliveries"},
		} {
			var body any
			if c.method == "POST" {
				body = map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}}
			}
			require.Equal(t, http.StatusForbidden, b.doKey(key, c.method, c.path, body).Status, "%s %s", c.method, c.path)
		}
	})

	t.Run("AnotherOrgsWebhookIs404", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}})
		_, otherKey := b.newOrg("Other")
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/webhooks/" + id}, {"DELETE", "/v1/webhooks/" + id}, {"GET", "/v1/webhooks/" + id + "/deliveries"},
		} {
			res := b.doKey(otherKey, c.method, c.path, nil)
			require.Equal(t, http.StatusNotFound, res.Status, "%s %s", c.method, c.path)
			require.NotContains(t, string(res.Body), id)
		}
		list := b.doKey(otherKey, "GET", "/v1/webhooks", nil)
		require.Equal(t, http.StatusOK, list.Status)
		require.JSONEq(t, `{"items":[]}`, string(list.Body))
		require.Equal(t, http.StatusOK, b.do("GET", "/v1/webhooks/"+id, nil).Status)
	})

	t.Run("BadInputIs422", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, c := range []struct {
			body   any
			fields []string
		}{
			{map[string]any{"url": "ftp://hooks.example.test/", "events": []string{"activity.created"}}, []string{"url"}},
			{map[string]any{"url": "https://ops:pw@hooks.example.test/", "events": []string{"activity.created"}}, []string{"url"}},
			{map[string]any{"url": "hooks.example.test", "events": []string{"activity.created"}}, []string{"url"}},
			{map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created", "deal.won"}}, []string{"events[1]"}},
			{map[string]any{"url": "https://hooks.example.test/", "events": []string{}}, []string{"events"}},
			{map[string]any{"url": "https://hooks.example.test/"}, []string{"events"}},
			{map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}, "secret": "short"}, []string{"secret"}},
			{map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}, "secret": ""}, []string{"secret"}},
			{map[string]any{"events": "activity.created"}, []string{"events"}},
			{map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}, "enabled": true}, []string{"enabled"}},
			{map[string]any{"url": "mailto:x@example.test", "events": []string{"x"}, "secret": "0123456789"}, []string{"url", "events[0]", "secret"}},
		} {
			res := b.do("POST", "/v1/webhooks", c.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", c.body, res.Body)
			require.ElementsMatch(t, c.fields, res.Fields(t), "%v", c.body)
		}
		require.Equal(t, http.StatusBadRequest, b.do("POST", "/v1/webhooks", `{"url":`).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/webhooks/not-an-id", nil).Status)
		require.JSONEq(t, `{"items":[]}`, string(b.do("GET", "/v1/webhooks", nil).Body))
	})

	t.Run("CreateGetListDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		secret := "my-own-secret-of-some-length"
		res := b.do("POST", "/v1/webhooks", map[string]any{"url": "https://hooks.example.test/logbook",
			"events": []string{"meeting.processed", "activity.created", "meeting.processed"}, "secret": secret})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.NotContains(t, string(res.Body), secret)
		created := res.Map(t)
		require.NotContains(t, created, "secret", "a chosen secret is never echoed")
		id := created["id"].(string)
		require.Equal(t, "https://hooks.example.test/logbook", created["url"])
		require.Equal(t, []any{"meeting.processed", "activity.created"}, created["events"])
		require.NotEmpty(t, created["created_at"])

		got := b.do("GET", "/v1/webhooks/"+id, nil)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, created, got.Map(t))
		list := b.do("GET", "/v1/webhooks", nil)
		require.Equal(t, http.StatusOK, list.Status)
		require.Equal(t, map[string]any{"items": []any{created}}, list.Map(t))

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/webhooks/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/webhooks/"+id, nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/webhooks/"+id+"/deliveries", nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/webhooks/"+id, nil).Status)
	})

	t.Run("DeliveriesArePagedNewestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}})
		require.Empty(t, b.deliveryIDs(id, ""))
		account := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		var acts []string
		for i := range 3 {
			acts = append(acts, b.create("/v1/activities", map[string]any{"type": "note", "account_id": account,
				"occurred_at": "2026-03-02T15:00:00Z", "subject": fmt.Sprint(i)}))
		}

		res := b.do("GET", "/v1/webhooks/"+id+"/deliveries?limit=2", nil)
		require.Equal(t, http.StatusOK, res.Status)
		var page crm.Page[crm.WebhookDelivery]
		res.JSON(t, &page)
		require.Len(t, page.Items, 2)
		require.NotNil(t, page.NextCursor)
		raw := res.Map(t)["items"].([]any)[0].(map[string]any)
		for _, k := range []string{"id", "event", "status", "attempts", "last_status_code", "last_error", "created_at",
			"updated_at", "delivered_at"} {
			require.Contains(t, raw, k)
		}
		require.Equal(t, "activity.created", raw["event"])
		require.Equal(t, "pending", raw["status"])
		rest := b.deliveryIDs(id, "?limit=2&cursor="+*page.NextCursor)
		require.Len(t, rest, 1)
		all := append([]string{page.Items[0].ID, page.Items[1].ID}, rest...)
		require.True(t, slices.IsSortedFunc(all, func(a, b string) int { return strings.Compare(b, a) }), "newest first")
		require.Len(t, acts, len(all))

		require.Len(t, b.deliveryIDs(id, "?status=pending"), 3)
		require.Empty(t, b.deliveryIDs(id, "?status=delivered"))
		bad := b.do("GET", "/v1/webhooks/"+id+"/deliveries?status=lost&limit=0&cursor=%21", nil)
		require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
		require.ElementsMatch(t, []string{"status", "limit"}, bad.Fields(t))
		bad = b.do("GET", "/v1/webhooks/"+id+"/deliveries?cursor=nope", nil)
		require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
		require.Equal(t, []string{"cursor"}, bad.Fields(t))
	})

	t.Run("GeneratedSecretIsShownOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.do("POST", "/v1/webhooks", map[string]any{"url": "http://hooks.example.test:9000/in", "events": []string{"activity.created"}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		m := res.Map(t)
		secret, _ := m["secret"].(string)
		require.Len(t, secret, 43)
		id := m["id"].(string)
		for _, path := range []string{"/v1/webhooks/" + id, "/v1/webhooks", "/v1/webhooks/" + id + "/deliveries", "/v1/settings"} {
			got := b.do("GET", path, nil)
			require.Equal(t, http.StatusOK, got.Status, path)
			require.NotContains(t, string(got.Body), secret, path)
			require.NotContains(t, string(got.Body), `"secret"`, path)
		}
	})
}

// TestActivityCreatedEnqueue checks that the routes that create activities
// enqueue the activity.created deliveries they wrote, after the store has
// them, and only those.
func TestActivityCreatedEnqueue(t *testing.T) {
	t.Parallel()

	t.Run("BatchEnqueuesEveryCreatedItemsDeliveries", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		w1 := b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		w2 := b.create("/v1/webhooks", map[string]any{"url": "https://b.example.test/", "events": []string{"activity.created"}})
		account := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		items := []map[string]any{}
		for i := range 4 {
			items = append(items, map[string]any{"type": "email", "account_id": account, "occurred_at": "2026-03-02T15:00:00Z",
				"source": "email_sync", "external_id": fmt.Sprintf("m-%d", i)})
		}
		res := b.do("POST", "/v1/activities", map[string]any{"activities": items})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		got := rec.take()
		require.Len(t, got, 8)
		want := append(b.deliveryIDs(w1, ""), b.deliveryIDs(w2, "")...)
		require.ElementsMatch(t, want, got)

		// Two unchanged, one updated, one new: only the new one's.
		items[2]["subject"] = "changed"
		items[3]["external_id"] = "m-new"
		res = b.do("POST", "/v1/activities", map[string]any{"activities": items})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		got = rec.take()
		require.Len(t, got, 2)
		require.Len(t, b.deliveryIDs(w1, ""), 5)
		require.Contains(t, b.deliveryIDs(w1, ""), b.deliveryIDs(w1, "?limit=1")[0])
		require.Contains(t, got, b.deliveryIDs(w1, "?limit=1")[0])
	})

	t.Run("DealReassignEnqueuesTheHandoffs", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		w := b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		account := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		deal := b.create("/v1/deals", map[string]any{"account_id": account, "name": "Renewal"})
		lee := b.create("/v1/users", map[string]any{"email": "lee@seller.test", "name": "Lee", "role": "rep"})
		res := b.do("POST", "/v1/deals/"+deal+"/reassign", map[string]any{"owner_id": lee})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, b.deliveryIDs(w, ""), rec.take())
	})

	t.Run("EnqueueFailureDoesNotFailTheRequest", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		rec.fail = true
		b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		b.create("/v1/webhooks", map[string]any{"url": "https://b.example.test/", "events": []string{"activity.created"}})
		account := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		b.create("/v1/activities", map[string]any{"type": "note", "account_id": account, "occurred_at": "2026-03-02T15:00:00Z"})
		require.Len(t, rec.take(), 1, "gives up on the first failure; the reconciler sends the rest")
	})

	t.Run("SingleEnqueuesOnlyOnCreate", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		account := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		body := map[string]any{"type": "call", "direction": "outbound", "disposition": "connected", "account_id": account,
			"occurred_at": "2026-03-02T15:00:00Z", "source": "dialer", "external_id": "call-1"}
		b.create("/v1/activities", body)
		require.Empty(t, rec.take(), "no webhook, nothing to enqueue")

		w := b.create("/v1/webhooks", map[string]any{"url": "https://a.example.test/", "events": []string{"activity.created"}})
		b.create("/v1/webhooks", map[string]any{"url": "https://b.example.test/", "events": []string{"meeting.processed"}})
		body["external_id"] = "call-2"
		b.create("/v1/activities", body)
		got := rec.take()
		require.Len(t, got, 1)
		require.Equal(t, b.deliveryIDs(w, ""), got)

		res := b.do("POST", "/v1/activities", body)
		require.Equal(t, http.StatusOK, res.Status, "unchanged")
		body["subject"] = "now with a subject"
		res = b.do("POST", "/v1/activities", body)
		require.Equal(t, http.StatusOK, res.Status, "updated")
		require.Empty(t, rec.take())
		require.Len(t, b.deliveryIDs(w, ""), 1)
	})
}

func TestIngestSecretRoutes(t *testing.T) {
	t.Parallel()

	t.Run("AdminOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.keyWith(crm.ScopeRead, crm.ScopeWrite, crm.ScopeIngest)
		require.Equal(t, http.StatusForbidden, b.doKey(key, "POST", "/v1/settings/ingest-secret", nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(key, "DELETE", "/v1/settings/ingest-secret", nil).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "POST", "/v1/settings/ingest-secret", nil).Status)
	})

	t.Run("RotateShowsTheSecretOnceAndDeleteDisables", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		res := b.do("POST", "/v1/settings/ingest-secret", nil)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		var got struct {
			Secret string `json:"secret"`
			Header string `json:"header"`
			OrgID  string `json:"org_id"`
		}
		res.JSON(t, &got)
		require.Len(t, got.Secret, 43)
		require.Equal(t, "Logbook-Signature", got.Header)
		require.Equal(t, b.orgID, got.OrgID)
		stored, err := b.store.IngestSecretGet(ctx, b.orgID)
		require.NoError(t, err)
		require.Equal(t, got.Secret, stored)

		settings := b.do("GET", "/v1/settings", nil)
		require.Equal(t, http.StatusOK, settings.Status)
		require.NotContains(t, string(settings.Body), got.Secret)
		require.NotContains(t, settings.Map(t), "ingest_secret")

		again := b.do("POST", "/v1/settings/ingest-secret", nil)
		require.Equal(t, http.StatusCreated, again.Status)
		require.NotEqual(t, got.Secret, again.Map(t)["secret"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/settings/ingest-secret", nil).Status)
		_, err = b.store.IngestSecretGet(ctx, b.orgID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/settings/ingest-secret", nil).Status)

		// Each org has its own.
		otherOrg, otherKey := b.newOrg("Other")
		require.Equal(t, http.StatusCreated, b.doKey(otherKey, "POST", "/v1/settings/ingest-secret", nil).Status)
		_, err = b.store.IngestSecretGet(ctx, b.orgID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.IngestSecretGet(ctx, otherOrg)
		require.NoError(t, err)
	})
}

// fakeResolver answers host names from a map, as DNS would; a name it does
// not know does not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[strings.ToLower(strings.TrimSuffix(host, "."))]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// guardSetup is setup(t) with a webhook guard that resolves names through
// fakeResolver and trusts allow, and a deliveryRecorder as the Enqueuer.
func guardSetup(t *testing.T, allow string, max int) (*testBundle, *deliveryRecorder) {
	t.Helper()
	b := setup(t)
	rec := &deliveryRecorder{t: t, store: b.store}
	list, err := netguard.ParseAllowList(allow)
	require.NoError(t, err)
	g := netguard.New(netguard.Options{Allow: list, Resolver: fakeResolver{
		"hooks.example.com":    {"93.184.216.34"},
		"internal.example.com": {"10.0.0.5"},
		"meta.example.com":     {"169.254.169.254"},
		"loop.example.com":     {"127.0.0.1", "93.184.216.34"},
		"mapped.example.com":   {"::ffff:192.168.0.1"},
		"hooks.internal":       {"10.1.2.3"},
	}})
	h, err := NewHandler(Deps{Store: b.store, Enqueuer: rec, WebhookGuard: g, MaxWebhooksPerOrg: max})
	require.NoError(t, err)
	b.handler = h
	return b, rec
}

// TestWebhookTargets is the SSRF finding: internal targets, in every
// spelling, are refused when a webhook is created (422 on url), and the
// answer does not say what a name resolved to.
func TestWebhookTargets(t *testing.T) {
	t.Parallel()

	refuse := func(t *testing.T, b *testBundle, urls []string) {
		t.Helper()
		for _, u := range urls {
			res := b.do("POST", "/v1/webhooks", map[string]any{"url": u, "events": []string{"activity.created"}})
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", u, res.Body)
			require.Equal(t, []string{"url"}, res.Fields(t), u)
			for _, leak := range []string{"127.0.0.1", "10.0.0.5", "169.254", "192.168", "::1", "resolved to", " is a "} {
				if !strings.Contains(u, leak) {
					require.NotContains(t, strings.ToLower(string(res.Body)), leak, "%s: the answer names what the host is", u)
				}
			}
		}
		require.JSONEq(t, `{"items":[]}`, string(b.do("GET", "/v1/webhooks", nil).Body), "nothing was stored")
	}

	// The finding's targets, and more spellings of them; no name lookup is
	// needed for any of these.
	t.Run("InternalAddressesInEverySpelling", func(t *testing.T) {
		t.Parallel()
		refuse(t, setup(t), []string{
			"http://127.0.0.1/", "http://127.0.0.1:6379/", "http://localhost/", "http://localhost:9000/in",
			"http://[::1]/", "http://[::1]:5432/", "http://0.0.0.0/", "http://0.0.0.0:8080/", "http://[::]/",
			"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://169.254.169.254/latest/meta-data/",
			"http://10.0.0.1/", "http://10.255.0.3:9200/", "http://172.16.0.1/", "http://192.168.0.1/",
			"http://192.168.1.254:8443/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fd00::1]/",
			"http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/",
			"http://0/", "http://2852039166/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:c0a8:101::]/",
			"http://metadata.google.internal/", "http://redis:6379/", "http://api.localhost/",
		})
	})

	t.Run("NamesResolvingToInternalAddresses", func(t *testing.T) {
		t.Parallel()
		b, _ := guardSetup(t, "", 0)
		refuse(t, b, []string{"https://internal.example.com/", "https://meta.example.com/", "https://loop.example.com/",
			"https://mapped.example.com/", "https://nowhere.example.com/"})
		// One message for every reason, so the answer maps nothing.
		var msgs []string
		for _, u := range []string{"https://internal.example.com/", "https://nowhere.example.com/", "http://127.0.0.1/"} {
			res := b.do("POST", "/v1/webhooks", map[string]any{"url": u, "events": []string{"activity.created"}})
			var p struct {
				Errors []crm.FieldError `json:"errors"`
			}
			res.JSON(t, &p)
			msgs = append(msgs, p.Errors[0].Message)
		}
		require.Equal(t, msgs[0], msgs[1])
		require.Equal(t, msgs[0], msgs[2])

		res := b.do("POST", "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/in", "events": []string{"activity.created"}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	})

	t.Run("AllowListAdmitsWhatTheOperatorTrusts", func(t *testing.T) {
		t.Parallel()
		b, _ := guardSetup(t, "10.0.0.0/8,hooks.internal", 0)
		for _, u := range []string{"http://10.0.0.1:8080/in", "https://internal.example.com/", "http://hooks.internal/in"} {
			res := b.do("POST", "/v1/webhooks", map[string]any{"url": u, "events": []string{"activity.created"}})
			require.Equal(t, http.StatusCreated, res.Status, "%s: %s", u, res.Body)
		}
		refuse := b.do("POST", "/v1/webhooks", map[string]any{"url": "http://192.168.0.1/", "events": []string{"activity.created"}})
		require.Equal(t, http.StatusUnprocessableEntity, refuse.Status)
	})

	t.Run("MalformedURLsSayWhy", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for u, want := range map[string]string{
			"gopher://127.0.0.1:6379/_":       "http or https",
			"https://u:p@hooks.example.test/": "user name or password",
			"https://hooks.example.test:0/":   "port",
			"http://134744072/":               "usual form",
		} {
			res := b.do("POST", "/v1/webhooks", map[string]any{"url": u, "events": []string{"activity.created"}})
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, u)
			require.Contains(t, string(res.Body), want, u)
		}
	})
}

func TestWebhookLimit(t *testing.T) {
	t.Parallel()
	b, _ := guardSetup(t, "", 2)
	body := map[string]any{"url": "https://hooks.example.com/", "events": []string{"activity.created"}}
	b.create("/v1/webhooks", body)
	second := b.create("/v1/webhooks", body)
	res := b.do("POST", "/v1/webhooks", body)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "already has 2 webhooks, the most it may have (2); delete one to add another")
	require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/webhooks/"+second, nil).Status)
	b.create("/v1/webhooks", body)

	// The default is 25.
	d := setup(t)
	for range DefaultMaxWebhooksPerOrg {
		d.create("/v1/webhooks", body)
	}
	require.Equal(t, http.StatusConflict, d.do("POST", "/v1/webhooks", body).Status)
}

func TestWebhookRedeliver(t *testing.T) {
	t.Parallel()

	// delivery makes a webhook with one delivery, which failed.
	delivery := func(t *testing.T, b *testBundle) (string, string) {
		t.Helper()
		hook := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}})
		b.create("/v1/activities", map[string]any{"type": "note", "account_id": b.create("/v1/accounts", map[string]any{"name": "Acme"}),
			"occurred_at": "2026-03-02T15:00:00Z"})
		ids := b.deliveryIDs(hook, "")
		require.Len(t, ids, 1)
		require.NoError(t, b.store.WebhookDeliveryAttemptRecord(context.Background(), b.orgID, ids[0], store.WebhookAttempt{
			Error: "delivery failed: could not connect or got no response", Status: crm.DeliveryFailed}))
		require.Equal(t, []string{ids[0]}, b.deliveryIDs(hook, "?status=failed"))
		return hook, ids[0]
	}

	t.Run("RequeuesWithTheSameID", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		hook, id := delivery(t, b)
		rec.take()
		res := b.do("POST", "/v1/webhooks/"+hook+"/deliveries/"+id+"/redeliver", nil)
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		var d crm.WebhookDelivery
		res.JSON(t, &d)
		require.Equal(t, id, d.ID)
		require.Equal(t, crm.DeliveryPending, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, []string{id}, rec.take(), "enqueued, with the same ID")
		require.Equal(t, []string{id}, b.deliveryIDs(hook, "?status=pending"))
	})

	t.Run("AnotherOrgsOrWebhooksDeliveryIs404", func(t *testing.T) {
		t.Parallel()
		b, rec := webhookSetup(t)
		hook, id := delivery(t, b)
		rec.take()
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/webhooks/"+hook+"/deliveries/"+id+"/redeliver", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
		require.NotContains(t, string(res.Body), id)
		other := b.create("/v1/webhooks", map[string]any{"url": "https://b.example.test/", "events": []string{"meeting.processed"}})
		require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/webhooks/"+other+"/deliveries/"+id+"/redeliver", nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/webhooks/"+hook+"/deliveries/"+store.NewID()+"/redeliver", nil).Status)
		bad := b.do("POST", "/v1/webhooks/nope/deliveries/nope/redeliver", nil)
		require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
		require.ElementsMatch(t, []string{"id", "delivery_id"}, bad.Fields(t))
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead, crm.ScopeWrite), "POST",
			"/v1/webhooks/"+hook+"/deliveries/"+id+"/redeliver", nil).Status)
		require.Empty(t, rec.take())
		require.Equal(t, []string{id}, b.deliveryIDs(hook, "?status=failed"), "unchanged")
	})

	// With the real queue, a delivery still waiting out its backoff is
	// sent now.
	t.Run("WaitingRetryRunsNow", func(t *testing.T) {
		t.Parallel()
		rdb := testredis.Client(t)
		q := queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t), Webhooks: testredis.Name(t)}
		enq := queue.NewEnqueuer(rdb, q)
		t.Cleanup(func() {
			require.NoError(t, queue.NewInspector(rdb).DeleteQueues(q))
			_ = enq.Close()
		})
		b := setup(t)
		h, err := NewHandler(Deps{Store: b.store, Enqueuer: enq})
		require.NoError(t, err)
		b.handler = h
		hook, id := delivery(t, b)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		// The activity's enqueue put the task on the webhooks queue; make it
		// wait as a retry would.
		require.NoError(t, insp.DeleteTask(q.Webhooks, id))
		task, err := queue.NewWebhookDeliverTask(queue.WebhookPayload{OrgID: b.orgID, DeliveryID: id})
		require.NoError(t, err)
		_, err = asynq.NewClientFromRedisClient(rdb).Enqueue(task, asynq.Queue(q.Webhooks), asynq.TaskID(id), asynq.ProcessIn(12*3600e9))
		require.NoError(t, err)

		require.Equal(t, http.StatusAccepted, b.do("POST", "/v1/webhooks/"+hook+"/deliveries/"+id+"/redeliver", nil).Status)
		info, err := insp.GetTaskInfo(q.Webhooks, id)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, info.State)
	})
}
