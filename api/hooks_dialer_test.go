package api

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/vendorhook"
)

// Test tokens: what the responses must never show.
const (
	testTwilioToken  = "tw0123456789abcdef0123456789abcd"
	testAircallToken = "ac45XXYYZZa08secret"
)

// dialerBundle is a testBundle whose API has a secret box, an org with
// both dialer tokens set, an account with a contact who has a phone, and a
// user (the rep).
type dialerBundle struct {
	*testBundle
	account, contact, user string
	// bodies are every response body seen, to check no secret leaks.
	bodies []string
}

func dialerSetup(t *testing.T, publicURL string) *dialerBundle {
	t.Helper()
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	return dialerSetupBox(t, box, publicURL, true)
}

func dialerSetupBox(t *testing.T, box *secretbox.Box, publicURL string, tokens bool) *dialerBundle {
	t.Helper()
	return dialerSetupOn(t, store.New(testdb.Tx(t)), box, publicURL, tokens)
}

func dialerSetupOn(t *testing.T, s *store.Store, box *secretbox.Box, publicURL string, tokens bool) *dialerBundle {
	t.Helper()
	ctx := context.Background()
	h, err := NewHandler(Deps{Store: s, SecretBox: box, PublicURL: publicURL})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &dialerBundle{testBundle: &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
	b.user = b.create("/v1/users", map[string]any{"email": "rep@seller.test", "name": "Rep"})
	b.account = b.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"acme.test"}})
	b.contact = b.create("/v1/contacts", map[string]any{"account_id": b.account, "name": "Wei", "email": "wei@acme.test", "phone": "(415) 555-0100"})
	if tokens {
		res := b.do("PATCH", "/v1/settings", map[string]any{"twilio_auth_token": testTwilioToken, "aircall_token": testAircallToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		b.bodies = append(b.bodies, string(res.Body))
	}
	t.Cleanup(func() {
		for _, body := range b.bodies {
			require.NotContains(t, body, testTwilioToken)
			require.NotContains(t, body, testAircallToken)
		}
	})
	return b
}

// twilio posts form to the Twilio hook of orgID with query, signed with
// token for the URL the request arrives at (sig overrides when not nil).
func (b *dialerBundle) twilio(orgID, token, query string, form url.Values, sig *string) response {
	b.t.Helper()
	path := "/v1/hooks/twilio/" + orgID + query
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signature := vendorhook.SignTwilio(token, "http://example.com"+path, form)
	if sig != nil {
		signature = *sig
	}
	if signature != "" {
		req.Header.Set(vendorhook.TwilioSignatureHeader, signature)
	}
	res := b.serve(req)
	b.bodies = append(b.bodies, string(res.Body))
	return res
}

// aircall posts an Aircall event to orgID's hook.
func (b *dialerBundle) aircall(orgID, query string, ev map[string]any) response {
	b.t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(b.t, err)
	return b.aircallRaw(orgID, query, string(raw))
}

func (b *dialerBundle) aircallRaw(orgID, query, raw string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", "/v1/hooks/aircall/"+orgID+query, strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res := b.serve(req)
	b.bodies = append(b.bodies, string(res.Body))
	return res
}

// result decodes a hook's 200 answer.
func (b *dialerBundle) result(res response) dialerHookResult {
	b.t.Helper()
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	var out dialerHookResult
	res.JSON(b.t, &out)
	return out
}

// activity reads an activity back.
func (b *dialerBundle) activity(id string) crm.Activity {
	b.t.Helper()
	res := b.do("GET", "/v1/activities/"+id, nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	var a crm.Activity
	res.JSON(b.t, &a)
	return a
}

func metadataOf(t *testing.T, a crm.Activity) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.Metadata, &m))
	return m
}

// counter reads logbook_dialer_callbacks_total{vendor, result}.
func (b *dialerBundle) counter(vendor, result string) float64 {
	return testutil.ToFloat64(b.handler.(*server).h.dialerCalls.WithLabelValues(vendor, result))
}

func twilioForm(sid, status string, kv ...string) url.Values {
	f := url.Values{"CallSid": {sid}, "AccountSid": {"AC0001"}, "From": {"+14155550199"}, "To": {"+14155550100"},
		"Direction": {"outbound-api"}, "CallStatus": {status}, "ApiVersion": {"2010-04-01"},
		"Timestamp": {"Tue, 10 Mar 2026 15:00:00 +0000"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestDialerSettings(t *testing.T) {
	t.Parallel()

	t.Run("WriteOnly", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		res := b.do("GET", "/v1/settings", nil)
		b.bodies = append(b.bodies, string(res.Body))
		m := res.Map(t)
		require.Equal(t, true, m["twilio_auth_token_set"])
		require.Equal(t, true, m["aircall_token_set"])
		res = b.do("PATCH", "/v1/settings", map[string]any{"aircall_token": nil})
		b.bodies = append(b.bodies, string(res.Body))
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, false, res.Map(t)["aircall_token_set"])
		require.Equal(t, true, res.Map(t)["twilio_auth_token_set"])
		res = b.do("PATCH", "/v1/settings", map[string]any{"twilio_auth_token": "has a space"})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"twilio_auth_token"}, res.Fields(t))
		require.NotContains(t, string(res.Body), "has a space")
		// The sealed bytes are bound to the org and the setting.
		sealed, err := b.store.DialerSecretGet(context.Background(), b.orgID, store.DialerTwilioAuthToken)
		require.NoError(t, err)
		require.NotContains(t, string(sealed), testTwilioToken)
	})

	t.Run("NoSecretKey", func(t *testing.T) {
		t.Parallel()
		box, err := secretbox.New("")
		require.NoError(t, err)
		b := dialerSetupBox(t, box, "", false)
		res := b.do("PATCH", "/v1/settings", map[string]any{"twilio_auth_token": testTwilioToken, "stalled_after_days": 20})
		b.bodies = append(b.bodies, string(res.Body))
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"twilio_auth_token"}, res.Fields(t))
		require.Contains(t, string(res.Body), "LOGBOOK_SECRET_KEY")
		res = b.do("GET", "/v1/settings", nil)
		require.Equal(t, float64(14), res.Map(t)["stalled_after_days"], "nothing of the refused PATCH was applied")
		// Removing needs no key.
		res = b.do("PATCH", "/v1/settings", map[string]any{"twilio_auth_token": nil})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	})
}

func TestTwilioHook(t *testing.T) {
	t.Parallel()

	t.Run("Signatures", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		form := twilioForm("CA100", "ringing")
		bad, none := vendorhook.SignTwilio("another token", "http://example.com/v1/hooks/twilio/"+b.orgID, form), ""
		refusals := map[string]response{
			"Bad":     b.twilio(b.orgID, testTwilioToken, "", form, &bad),
			"Missing": b.twilio(b.orgID, testTwilioToken, "", form, &none),
			// Signed for another URL: the query is part of what is signed.
			"OtherURL":   b.twilio(b.orgID, testTwilioToken, "?list=x", form, ptr(vendorhook.SignTwilio(testTwilioToken, "http://example.com/v1/hooks/twilio/"+b.orgID, form))),
			"UnknownOrg": b.twilio("0190b3c2-7e1c-7000-8000-000000000001", testTwilioToken, "", form, nil),
			"NotAnOrg":   b.twilio("not-an-org", testTwilioToken, "", form, nil),
		}
		otherOrg, otherKey := b.newOrg("Other")
		refusals["OrgWithoutToken"] = b.twilio(otherOrg, testTwilioToken, "", form, nil)
		var first string
		for name, res := range refusals {
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", name, res.Body)
			require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), name)
			if first == "" {
				first = string(res.Body)
			}
			require.Equal(t, first, string(res.Body), "%s: every refusal reads alike", name)
		}
		require.Zero(t, b.counter("twilio", dialerCreated))
		_ = otherKey

		ok := b.result(b.twilio(b.orgID, testTwilioToken, "", form, nil))
		require.Equal(t, dialerCreated, ok.Result)
		require.NotNil(t, ok.ActivityID)
		require.Equal(t, float64(1), b.counter("twilio", dialerCreated))
	})

	t.Run("PublicURL", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "https://logbook.example.com/")
		form := twilioForm("CA200", "completed", "CallDuration", "30")
		path := "/v1/hooks/twilio/" + b.orgID + "?list=spring"
		sig := vendorhook.SignTwilio(testTwilioToken, "https://logbook.example.com"+path, form)
		res := b.twilio(b.orgID, testTwilioToken, "?list=spring", form, &sig)
		require.Equal(t, dialerCreated, b.result(res).Result)
		// The request's own host is not what Twilio signed then.
		res = b.twilio(b.orgID, testTwilioToken, "?list=spring", twilioForm("CA201", "ringing"), nil)
		require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	})

	t.Run("CallLifecycle", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		q := "?owner_email=REP@seller.test&list=spring-outbound"
		ringing := twilioForm("CA300", "ringing", "SequenceNumber", "1")
		r1 := b.result(b.twilio(b.orgID, testTwilioToken, q, ringing, nil))
		require.Equal(t, dialerCreated, r1.Result)
		id := *r1.ActivityID
		a := b.activity(id)
		require.Equal(t, crm.ActivityCall, a.Type)
		require.Equal(t, crm.DirectionOutbound, *a.Direction)
		require.Equal(t, b.account, a.AccountID, "the number matched the contact's phone")
		require.Equal(t, []string{b.contact}, a.ContactIDs)
		require.Equal(t, b.user, *a.OwnerID)
		require.Equal(t, crm.SourceDialer, a.Source)
		require.Equal(t, "twilio:CA300", *a.ExternalID)
		require.Nil(t, a.Disposition)
		require.Equal(t, time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), a.OccurredAt)

		// The same callback again changes nothing.
		again := b.result(b.twilio(b.orgID, testTwilioToken, q, ringing, nil))
		require.Equal(t, dialerUnchanged, again.Result)
		require.Equal(t, id, *again.ActivityID)
		require.Equal(t, a.UpdatedAt, b.activity(id).UpdatedAt)

		inProgress := twilioForm("CA300", "in-progress", "Timestamp", "Tue, 10 Mar 2026 15:00:08 +0000", "SequenceNumber", "2")
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, q, inProgress, nil)).Result)
		completed := twilioForm("CA300", "completed", "Timestamp", "Tue, 10 Mar 2026 15:02:10 +0000", "CallDuration", "122",
			"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC0001/Recordings/RE1", "RecordingSid", "RE1", "SequenceNumber", "3")
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, q, completed, nil)).Result)
		a = b.activity(id)
		require.Equal(t, crm.ActivityCall, a.Type)
		require.Equal(t, "connected", *a.Disposition)
		require.Equal(t, 122, *a.DurationSeconds)
		require.Equal(t, time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), a.OccurredAt, "the earliest start is kept")
		m := metadataOf(t, a)
		require.Equal(t, "twilio", m["vendor"])
		require.Equal(t, "completed", m["status"])
		require.Equal(t, "https://api.twilio.com/2010-04-01/Accounts/AC0001/Recordings/RE1", m["recording_url"])
		require.Equal(t, "+14155550199", m["from"])
		require.Equal(t, "+14155550100", m["to"])
		require.Equal(t, "spring-outbound", m["list"])

		// Late and retried callbacks change nothing.
		before := a.UpdatedAt
		for _, f := range []url.Values{ringing, inProgress, completed} {
			res := b.result(b.twilio(b.orgID, testTwilioToken, q, f, nil))
			require.Equal(t, dialerUnchanged, res.Result)
		}
		a = b.activity(id)
		require.Equal(t, before, a.UpdatedAt)
		require.Equal(t, "completed", metadataOf(t, a)["status"])

		// A rep's own disposition survives a later callback of the same
		// stage that only adds a link.
		res := b.do("PATCH", "/v1/activities/"+id, map[string]any{"disposition": "meeting_booked", "subject": "Booked the demo"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		rec := url.Values{"CallSid": {"CA300"}, "AccountSid": {"AC0001"}, "RecordingUrl": {"https://api.twilio.com/rec/RE2"}, "RecordingSid": {"RE2"}}
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, q, rec, nil)).Result)
		a = b.activity(id)
		require.Equal(t, "meeting_booked", *a.Disposition)
		require.Equal(t, "Booked the demo", *a.Subject)
		require.Equal(t, "https://api.twilio.com/rec/RE2", metadataOf(t, a)["recording_url"])
		require.Equal(t, "completed", metadataOf(t, a)["status"])
	})

	t.Run("OutOfOrder", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		done := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA400", "busy"), nil))
		require.Equal(t, dialerCreated, done.Result)
		late := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA400", "ringing"), nil))
		require.Equal(t, dialerUnchanged, late.Result)
		a := b.activity(*done.ActivityID)
		require.Equal(t, "busy", *a.Disposition)
		require.Equal(t, "busy", metadataOf(t, a)["status"])
	})

	t.Run("Voicemail", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		f := twilioForm("CA500", "completed", "AnsweredBy", "machine_end_beep", "CallDuration", "40")
		res := b.result(b.twilio(b.orgID, testTwilioToken, "", f, nil))
		a := b.activity(*res.ActivityID)
		require.Equal(t, crm.ActivityVoicemail, a.Type)
		require.Equal(t, "voicemail", *a.Disposition)
		require.Equal(t, "machine_end_beep", metadataOf(t, a)["answered_by"])
	})

	t.Run("AsyncMachineDetection", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		r := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA510", "in-progress"), nil))
		require.Equal(t, dialerCreated, r.Result)
		// The detection's own callback: no CallStatus, AnsweredBy only.
		amd := url.Values{"CallSid": {"CA510"}, "AccountSid": {"AC0001"}, "AnsweredBy": {"machine_end_beep"}, "MachineDetectionDuration": {"4200"}}
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, "", amd, nil)).Result)
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA510", "completed", "CallDuration", "31"), nil)).Result)
		a := b.activity(*r.ActivityID)
		require.Equal(t, crm.ActivityVoicemail, a.Type)
		require.Equal(t, "voicemail", *a.Disposition)
	})

	t.Run("CustomCodes", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		res := b.do("PATCH", "/v1/settings", map[string]any{"disposition_codes": []map[string]any{
			{"code": "conversation", "connect": true}, {"code": "left_voicemail"}, {"code": "not_reached"}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		outcome := func(sid string, kv ...string) crm.Activity {
			r := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm(sid, "completed", kv...), nil))
			require.Equal(t, dialerCreated, r.Result)
			return b.activity(*r.ActivityID)
		}
		require.Equal(t, "conversation", *outcome("CA600", "AnsweredBy", "human").Disposition, "the org's only connect code")
		require.Equal(t, "left_voicemail", *outcome("CA601", "AnsweredBy", "machine_end_silence").Disposition)
		require.Nil(t, outcome("CA602", "CallStatus", "no-answer").Disposition, "no code names it")

		early := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA605", "ringing"), nil))
		require.Equal(t, dialerCreated, early.Result)

		// Required: an ended outbound call gets the org's fallback, a
		// ringing one waits for its outcome.
		res = b.do("PATCH", "/v1/settings", map[string]any{"require_disposition": true})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		// A call recorded before gets one with whatever comes next.
		rec := url.Values{"CallSid": {"CA605"}, "RecordingUrl": {"https://api.twilio.com/rec/RE9"}}
		require.Equal(t, dialerUpdated, b.result(b.twilio(b.orgID, testTwilioToken, "", rec, nil)).Result)
		require.NotNil(t, b.activity(*early.ActivityID).Disposition)
		a := outcome("CA603", "CallStatus", "no-answer")
		require.Equal(t, "left_voicemail", *a.Disposition, "the first code that is not a connect")
		require.Equal(t, true, metadataOf(t, a)["disposition_fallback"])
		r := b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA604", "ringing"), nil))
		require.Equal(t, dialerDeferred, r.Result)
		require.Nil(t, r.ActivityID)
		require.Equal(t, dialerCreated, b.result(b.twilio(b.orgID, testTwilioToken, "", twilioForm("CA604", "completed"), nil)).Result)
	})

	t.Run("WhereTheCallGoes", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		unknown := twilioForm("CA700", "completed", "To", "+442079460958")
		r := b.result(b.twilio(b.orgID, testTwilioToken, "", unknown, nil))
		require.Equal(t, dialerUnresolved, r.Result)
		require.Nil(t, r.ActivityID)
		require.Equal(t, float64(1), b.counter("twilio", dialerUnresolved))
		res := b.do("GET", "/v1/activities?types=call", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Empty(t, res.Map(t)["items"])

		// The hook URL names the account (and the deal).
		deal := b.create("/v1/deals", map[string]any{"account_id": b.account, "name": "Renewal"})
		r = b.result(b.twilio(b.orgID, testTwilioToken, "?account_id="+b.account+"&deal_id="+deal, unknown, nil))
		require.Equal(t, dialerCreated, r.Result)
		a := b.activity(*r.ActivityID)
		require.Equal(t, b.account, a.AccountID)
		require.Equal(t, deal, *a.DealID)

		// An inbound call is matched on its caller, spelled otherwise.
		in := twilioForm("CA701", "completed", "Direction", "inbound", "From", "+1 415 555 0100", "To", "+14155550199")
		r = b.result(b.twilio(b.orgID, testTwilioToken, "", in, nil))
		a = b.activity(*r.ActivityID)
		require.Equal(t, crm.DirectionInbound, *a.Direction)
		require.Equal(t, b.account, a.AccountID)

		// A query that names what does not exist is 422; a malformed one 400.
		res = b.twilio(b.orgID, testTwilioToken, "?account_id=0190b3c2-7e1c-7000-8000-000000000009", twilioForm("CA702", "ringing"), nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = b.twilio(b.orgID, testTwilioToken, "?account_id=nope", twilioForm("CA703", "ringing"), nil)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		require.Equal(t, []string{"account_id"}, res.Fields(t))
	})

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		path := "/v1/hooks/twilio/" + b.orgID
		req := httptest.NewRequest("POST", path, strings.NewReader("CallSid=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := b.serve(req)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		for name, f := range map[string]url.Values{
			"NoCallSid":     {"CallStatus": {"ringing"}},
			"UnknownStatus": {"CallSid": {"CA1"}, "CallStatus": {"exploded"}},
		} {
			res := b.twilio(b.orgID, testTwilioToken, "", f, nil)
			require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
		}
	})
}

func aircallEvent(event string, data map[string]any) map[string]any {
	d := map[string]any{"id": 812345, "direction": "outbound", "status": "initial", "started_at": 1773154800,
		"answered_at": nil, "ended_at": nil, "duration": 0, "raw_digits": "+1 415-555-0100", "voicemail": nil, "recording": nil,
		"user": map[string]any{"id": 5, "email": "rep@seller.test"}, "number": map[string]any{"id": 9, "digits": "+1 415-555-0199"}, "tags": []any{}}
	for k, v := range data {
		d[k] = v
	}
	return map[string]any{"resource": "call", "event": event, "timestamp": 1773154900, "token": testAircallToken, "data": d}
}

func TestAircallHook(t *testing.T) {
	t.Parallel()

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		ev := aircallEvent("call.created", nil)
		bad := aircallEvent("call.created", nil)
		bad["token"] = "not the token"
		missing := aircallEvent("call.created", nil)
		delete(missing, "token")
		otherOrg, _ := b.newOrg("Other")
		var first string
		for name, res := range map[string]response{
			"Bad": b.aircall(b.orgID, "", bad), "Missing": b.aircall(b.orgID, "", missing),
			"UnknownOrg": b.aircall("0190b3c2-7e1c-7000-8000-000000000001", "", ev), "OrgWithoutToken": b.aircall(otherOrg, "", ev),
		} {
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", name, res.Body)
			if first == "" {
				first = string(res.Body)
			}
			require.Equal(t, first, string(res.Body), name)
		}
		require.Equal(t, dialerCreated, b.result(b.aircall(b.orgID, "", ev)).Result)

		// Other resources are acknowledged and ignored.
		r := b.result(b.aircall(b.orgID, "", map[string]any{"resource": "user", "event": "user.connected", "token": testAircallToken, "data": map[string]any{"id": 5}}))
		require.Equal(t, dialerIgnored, r.Result)
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		created := b.result(b.aircall(b.orgID, "", aircallEvent("call.created", nil)))
		require.Equal(t, dialerCreated, created.Result)
		id := *created.ActivityID
		answered := aircallEvent("call.answered", map[string]any{"status": "answered", "answered_at": 1773154810})
		require.Equal(t, dialerUpdated, b.result(b.aircall(b.orgID, "", answered)).Result)
		ended := aircallEvent("call.ended", map[string]any{"status": "done", "answered_at": 1773154810, "ended_at": 1773154890,
			"duration": 90, "recording": "https://aircall.example/rec/812345.mp3", "tags": []any{map[string]any{"id": 1, "name": "Prospect"}}})
		require.Equal(t, dialerUpdated, b.result(b.aircall(b.orgID, "", ended)).Result)
		a := b.activity(id)
		require.Equal(t, crm.ActivityCall, a.Type)
		require.Equal(t, "connected", *a.Disposition)
		require.Equal(t, 90, *a.DurationSeconds)
		require.Equal(t, time.Unix(1773154800, 0).UTC(), a.OccurredAt)
		require.Equal(t, b.account, a.AccountID)
		require.Equal(t, b.user, *a.OwnerID)
		require.Equal(t, "aircall:812345", *a.ExternalID)
		m := metadataOf(t, a)
		require.Equal(t, "https://aircall.example/rec/812345.mp3", m["recording_url"])
		require.Equal(t, "aircall", m["vendor"])
		require.Equal(t, []any{"Prospect"}, m["tags"])

		before := a.UpdatedAt
		require.Equal(t, dialerUnchanged, b.result(b.aircall(b.orgID, "", ended)).Result, "a retried event")
		require.Equal(t, dialerUnchanged, b.result(b.aircall(b.orgID, "", answered)).Result, "a late event")
		require.Equal(t, before, b.activity(id).UpdatedAt)
	})

	t.Run("Voicemail", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		ev := aircallEvent("call.voicemail_left", map[string]any{"id": 9001, "direction": "inbound", "status": "done",
			"voicemail": "https://aircall.example/vm/9001.mp3", "duration": 35, "missed_call_reason": "agents_did_not_answer"})
		r := b.result(b.aircall(b.orgID, "", ev))
		a := b.activity(*r.ActivityID)
		require.Equal(t, crm.ActivityVoicemail, a.Type)
		require.Equal(t, crm.DirectionInbound, *a.Direction)
		require.Equal(t, "voicemail", *a.Disposition)
		require.Equal(t, "https://aircall.example/vm/9001.mp3", metadataOf(t, a)["voicemail_url"])
	})

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := dialerSetup(t, "")
		res := b.aircallRaw(b.orgID, "", `{"event": "call.created", "token": `)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		res = b.aircallRaw(b.orgID, "", `{"resource":"call","event":"call.created","token":"`+testAircallToken+`","data":{"direction":"inbound"}}`)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		// Without the token, a readable body of the wrong shape is a 401.
		res = b.aircallRaw(b.orgID, "", `{"resource":"call","event":"call.created","token":"guess","data":{"direction":"inbound"}}`)
		require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	})
}

// propTwilioToken and propAircallToken are the property test org's dialer
// secrets.
const (
	propTwilioToken  = "propTwilioToken0123456789abcdef"
	propAircallToken = "propAircallToken"
)

// dialerPropHandler is the property test's API with a secret box, on the
// fixture's store, its org holding both dialer tokens.
func (f *propFixture) dialerPropHandler() http.Handler {
	t := f.b.t
	t.Helper()
	if f.dialer != nil {
		return f.dialer
	}
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	h, err := NewHandler(Deps{Store: f.b.store, SecretBox: box})
	require.NoError(t, err)
	ctx := context.Background()
	for name, token := range map[store.DialerSecret]string{store.DialerTwilioAuthToken: propTwilioToken, store.DialerAircallToken: propAircallToken} {
		sealed, err := box.Seal([]byte(token), store.DialerSecretAAD(f.b.orgID, name))
		require.NoError(t, err)
		require.NoError(t, f.b.store.DialerSecretSet(ctx, f.b.orgID, name, sealed))
	}
	f.dialer = h
	return h
}

// propServe serves req on the dialer handler, checked against the document.
func (f *propFixture) propServe(req *http.Request) response {
	rec := httptest.NewRecorder()
	f.dialerPropHandler().ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	f.b.checkDocumented(req, res)
	return res
}

// twilioHook sends raw (a JSON object) as a signed Twilio form, every value
// as text, on the fixture's account.
func (f *propFixture) twilioHook(raw []byte) response {
	// Numbers as written (the extreme values include 1e309, which no
	// float64 holds): a form carries text.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(f.b.t, dec.Decode(&m))
	form := url.Values{}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			form.Set(k, x)
		case json.Number:
			form.Set(k, x.String())
		case nil:
		default:
			j, _ := json.Marshal(x)
			form.Set(k, strings.Trim(string(j), `"`))
		}
	}
	path := "/v1/hooks/twilio/" + f.b.orgID + "?account_id=" + f.account + "&list=prop"
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(vendorhook.TwilioSignatureHeader, vendorhook.SignTwilio(propTwilioToken, "http://example.com"+path, form))
	return f.propServe(req)
}

// aircallHook sends raw as an Aircall event on the fixture's contact.
func (f *propFixture) aircallHook(raw []byte) response {
	req := httptest.NewRequest("POST", "/v1/hooks/aircall/"+f.b.orgID+"?contact_id="+f.contact, strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	return f.propServe(req)
}

// TestDialerHookConcurrent sends one call's callbacks all at once, each
// several times, on a real pool: the call's lock applies them one at a
// time, so there is one activity and it ends completed whatever the order.
func TestDialerHookConcurrent(t *testing.T) {
	t.Parallel()
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	b := dialerSetupOn(t, store.New(testdb.Schema(t)), box, "", true)
	forms := []url.Values{
		twilioForm("CA900", "ringing"), twilioForm("CA900", "in-progress"),
		twilioForm("CA900", "completed", "CallDuration", "75", "RecordingUrl", "https://api.twilio.com/rec/RE900"),
	}
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 3*len(forms))
	var wg sync.WaitGroup
	for range 3 {
		for _, f := range forms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := "/v1/hooks/twilio/" + b.orgID
				req := httptest.NewRequest("POST", path, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(vendorhook.TwilioSignatureHeader, vendorhook.SignTwilio(testTwilioToken, "http://example.com"+path, f))
				rec := httptest.NewRecorder()
				b.handler.ServeHTTP(rec, req)
				answers <- answer{rec.Code, rec.Body.String()}
			}()
		}
	}
	wg.Wait()
	close(answers)
	created, ids := 0, map[string]bool{}
	for a := range answers {
		require.Equal(t, http.StatusOK, a.status, a.body)
		var r dialerHookResult
		require.NoError(t, json.Unmarshal([]byte(a.body), &r))
		if r.Result == dialerCreated {
			created++
		}
		if r.ActivityID != nil {
			ids[*r.ActivityID] = true
		}
	}
	require.Equal(t, 1, created)
	require.Len(t, ids, 1, "every callback answered with the one activity")
	a := b.activity(slices.Collect(maps.Keys(ids))[0])
	require.Equal(t, "completed", metadataOf(t, a)["status"])
	require.Equal(t, "connected", *a.Disposition)
	require.Equal(t, 75, *a.DurationSeconds)
}
