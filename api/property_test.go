package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/retrieval"
)

// The property test: extreme values through every write route of the route
// table, then every read route over what was accepted. Whatever is sent,
// the API never answers 5xx, every 2xx body is JSON, what it accepted reads
// back equal (times in UTC), and what it refused is a 4xx problem+json that
// names a field. The generator is seeded: a failure names the seed and the
// case, and rerunning gives the same requests.

// loneSurrogate stands for a JSON "\ud800" escape: a Go string cannot
// hold one, so it is put into the body text after json.Marshal.
const loneSurrogate = "\uE000lone\uE000"

// kind is what a field holds, and so which extreme values it gets.
type kind int

const (
	kText kind = iota
	kEmail
	kTime
	kDate
	kID
	kInt
	kDecimal
	kCurrency
	kDomains
	kMetadata
	kCode
	kEnum
	kBool
)

// fieldSpec is one field of a write route's body.
type fieldSpec struct {
	name  string // top-level key, or "next_step.text"
	kind  kind
	limit int // characters for kText
	// verbatim fields read back exactly as sent (after the JSON decoding
	// every client does); the others may be normalised.
	verbatim bool
	// valid values the generator mixes in (half the time), so that the
	// other fields of the body get through more often.
	valid []any
}

// writeSpec is a write route: a valid body to start from, the fields the
// generator varies, and where an accepted object reads back.
type writeSpec struct {
	method, path string
	base         func(f *propFixture) map[string]any
	fields       []fieldSpec
	get          string // GET path of the written object, {id} from the answer; "" none
	// send posts the body itself (a signed vendor hook); nil is b.do.
	send func(f *propFixture, raw []byte) response
}

// propFixture holds the objects every write route can refer to.
type propFixture struct {
	b                                              *testBundle
	rs                                             *retrieval.Service
	account, contact, user, deal, activity, secret string
	// meeting is a meeting activity (its consents are written).
	meeting   string
	connector string
	// signedAt is the Unix second the last hook delivery was signed at.
	signedAt int64
	// dialer is the API with a secret box the dialer hooks are sent to
	// (dialerPropHandler), made at first use.
	dialer http.Handler
}

func extremeStrings(r *rand.Rand, limit int) []string {
	long := func(n int, unit string) string {
		return strings.Repeat(unit, n)
	}
	vs := []string{
		"", " ", "\t\n\r", "a", "NaN", "-Infinity", "Infinity", "null", "true", "-0", "1e309", "0x1F",
		"\x00", "a\x00b", loneSurrogate, "x" + loneSurrogate + "y",
		"\u202Eevil\u202C", "שלום עולם", "مرحبا", "👍🏽👨‍👩‍👧‍👦", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\U0010FFFF", "\uFEFFbom", "e\u0301\u0301\u0301",
		"\u2028\u2029", "\x01\x1f\x7f", "<script>alert(1)</script>", "'; DROP TABLE accounts;--", "%00%ff", `\"\\`,
		"\u200b", "ǅǈ", "İı",
	}
	if limit > 0 {
		// At and past the limit, in 4-byte runes so bytes and characters differ.
		vs = append(vs, long(limit, "𝔘"), long(limit+1, "𝔘"), long(limit, "a"), long(limit+1, "é"))
	}
	r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
	return vs
}

var extremeTimes = []string{
	"9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59-23:59",
	"9999-12-31T00:00:00+23:59", "1970-01-01T00:00:00Z", "1970-01-01T00:30:00+01:00", "1970-01-01T00:00:00-00:01",
	"1969-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00Z", "2026-02-29T00:00:00Z", "2024-02-29T12:00:00+14:00",
	"2026-03-10T15:00:00.123456789+05:45", "2026-03-10T15:00:00z", "2026-03-10 15:00:00Z", "2026-03-10T24:00:00Z",
	"2026-13-01T00:00:00Z", "2026-03-10T15:00:00+24:00", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "",
}

var extremeDates = []string{"9999-12-31", "1970-01-01", "1969-12-31", "0000-01-01", "2024-02-29", "2026-02-29", "10000-01-01", "2026-1-1", ""}

var extremeNumbers = []any{
	0, -1, 1, 2147483647, 2147483648, -2147483649, int64(9007199254740993), int64(-9223372036854775808), json.Number("1e308"),
	json.Number("-0"), json.Number("0.5"), json.Number("1e-320"), json.Number("123456789012345678901234567890"), 604800, 604801,
}

func extremeValue(r *rand.Rand, k kind, limit int) any {
	pick := func(vs []string) string { return vs[r.IntN(len(vs))] }
	switch k {
	case kText, kCode, kEnum:
		return pick(extremeStrings(r, limit))
	case kEmail:
		return pick([]string{"DANA@ACME.COM", " dana@acme.com ", "dána@ácme.com", "a@b", "@", "dana@", "dana\x00@acme.com",
			strings.Repeat("a", 310) + "@acme.com", "\"quoted\"@acme.com", "dana+" + loneSurrogate + "@acme.com", "👍@acme.com"})
	case kTime:
		return pick(extremeTimes)
	case kDate:
		return pick(extremeDates)
	case kID:
		return pick([]string{"00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "not-an-id", "",
			"0190b3c2-7e1c-7000-8000-00000000000\x00", "01234567-89ab-cdef-0123-456789abcdef"})
	case kInt:
		return extremeNumbers[r.IntN(len(extremeNumbers))]
	case kDecimal:
		return []any{json.Number("9999999999999999.9999"), json.Number("10000000000000000"), json.Number("-1"), json.Number("1e3"),
			json.Number("0.00001"), "12.5", "NaN", json.Number("1e400"), json.Number("-0.0"), 0}[r.IntN(10)]
	case kCurrency:
		return pick([]string{"USD", "usd", "US", "USDX", "€€€", "", "\x00\x00\x00"})
	case kDomains:
		return []any{[]string{"ACME.com", "https://www.acme.com/x"}, []string{"xn--bcher-kva.example"}, []string{"bücher.example"},
			[]string{strings.Repeat("a", 64) + ".com"}, []string{""}, []string{"a.b.c.d.e.f.g.h.i.j.k.example"}, []string{"\x00.com"},
			make([]string, 51), []string{}}[r.IntN(9)]
	case kMetadata:
		deep := any("x")
		for range 200 {
			deep = map[string]any{"d": deep}
		}
		return []any{map[string]any{"k": "\x00"}, map[string]any{"\x00": 1}, map[string]any{"n": json.Number("1e308"), "s": "👍" + loneSurrogate},
			[]any{1}, "text", map[string]any{"big": strings.Repeat("𝔘", 20_000)}, deep, map[string]any{}}[r.IntN(8)]
	case kBool:
		return []any{true, false, "true", 1, nil}[r.IntN(5)]
	}
	panic("unknown kind")
}

// anyValue is a value of a random kind: type confusion.
func anyValue(r *rand.Rand) any {
	return []any{nil, true, 1.5, -1, "x", []any{}, map[string]any{}, []any{"a", 1}, json.Number("1e309")}[r.IntN(9)]
}

func writeSpecs() []writeSpec {
	when := "2026-03-10T15:00:00Z"
	seg := []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "We agreed to send the contract."}}
	activityFields := []fieldSpec{
		{name: "occurred_at", kind: kTime}, {name: "subject", kind: kText, limit: crm.MaxSubject, verbatim: true},
		{name: "body", kind: kText, limit: crm.MaxBody, verbatim: true}, {name: "duration_seconds", kind: kInt, verbatim: true},
		{name: "external_id", kind: kText, limit: crm.MaxExternalID, verbatim: true}, {name: "metadata", kind: kMetadata},
		{name: "direction", kind: kEnum, valid: []any{"inbound", "outbound", nil}}, {name: "type", kind: kEnum, valid: []any{"note", "email", "meeting"}}, {name: "disposition", kind: kCode, valid: []any{nil}},
		{name: "next_step.text", kind: kText, limit: crm.MaxSubject, verbatim: true}, {name: "next_step.due_date", kind: kDate, verbatim: true},
		{name: "contact_ids", kind: kID, valid: []any{[]string{}, nil}}, {name: "deal_id", kind: kID, valid: []any{nil}}, {name: "owner_id", kind: kID}, {name: "source", kind: kEnum, valid: []any{"api", "manual"}},
	}
	return []writeSpec{
		{method: "POST", path: "/v1/api-keys", base: func(*propFixture) map[string]any {
			return map[string]any{"name": "k", "scopes": []string{"read"}}
		}, fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName}, {name: "scopes", kind: kEnum, valid: []any{[]string{"read", "write"}, []string{"ingest"}}}}},
		{method: "PATCH", path: "/v1/settings", base: func(*propFixture) map[string]any {
			return map[string]any{"stalled_after_days": 30}
		}, fields: []fieldSpec{{name: "stalled_after_days", kind: kInt}, {name: "require_disposition", kind: kBool, valid: []any{false}}, {name: "dispositions", kind: kCode, valid: []any{[]string{"connected", "no_answer"}}},
			{name: "transcript_retention_days", kind: kInt, valid: []any{30, nil}}, {name: "keep_notes_after_purge", kind: kBool, valid: []any{true}}}},
		{method: "POST", path: "/v1/users", base: func(*propFixture) map[string]any {
			return map[string]any{"email": fmt.Sprintf("u%d@acme.com", time.Now().UnixNano()), "name": "Dana"}
		}, fields: []fieldSpec{{name: "email", kind: kEmail}, {name: "name", kind: kText, limit: crm.MaxName, verbatim: true},
			{name: "role", kind: kEnum, valid: []any{"rep", "admin", "manager"}}}, get: "/v1/users/{id}"},
		{method: "POST", path: "/v1/users/{user}/invite", base: func(*propFixture) map[string]any { return map[string]any{} },
			fields: []fieldSpec{{name: "expires_in_days", kind: kInt, valid: []any{1, 30, nil}}}},
		{method: "PATCH", path: "/v1/users/{user}", base: func(*propFixture) map[string]any { return map[string]any{"name": "Dana"} },
			fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "role", kind: kEnum, valid: []any{"rep", "admin", "manager"}}}},
		{method: "POST", path: "/v1/accounts", base: func(*propFixture) map[string]any { return map[string]any{"name": "Acme"} },
			fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "segment", kind: kText, limit: crm.MaxShort, verbatim: true},
				{name: "domains", kind: kDomains}, {name: "owner_id", kind: kID, valid: []any{nil}}}, get: "/v1/accounts/{id}"},
		{method: "PATCH", path: "/v1/accounts/{account}", base: func(*propFixture) map[string]any { return map[string]any{"segment": "smb"} },
			fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "segment", kind: kText, limit: crm.MaxShort, verbatim: true}}},
		{method: "POST", path: "/v1/contacts", base: func(f *propFixture) map[string]any {
			return map[string]any{"account_id": f.account, "name": "Wei"}
		}, fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "email", kind: kEmail},
			{name: "phone", kind: kText, limit: 50, verbatim: true}, {name: "title", kind: kText, limit: crm.MaxName, verbatim: true},
			{name: "account_id", kind: kID}}, get: "/v1/contacts/{id}"},
		{method: "PATCH", path: "/v1/contacts/{contact}", base: func(*propFixture) map[string]any { return map[string]any{"title": "CFO"} },
			fields: []fieldSpec{{name: "title", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "phone", kind: kText, limit: 50, verbatim: true}}},
		{method: "POST", path: "/v1/deals", base: func(f *propFixture) map[string]any {
			return map[string]any{"account_id": f.account, "name": "Renewal", "amount": 1000, "currency": "USD", "close_date": "2026-06-30"}
		}, fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxName, verbatim: true}, {name: "stage", kind: kText, limit: crm.MaxShort, verbatim: true},
			{name: "amount", kind: kDecimal}, {name: "currency", kind: kCurrency}, {name: "close_date", kind: kDate, verbatim: true},
			{name: "status", kind: kEnum, valid: []any{"open", "won", "lost"}}}, get: "/v1/deals/{id}"},
		{method: "PATCH", path: "/v1/deals/{deal}", base: func(*propFixture) map[string]any { return map[string]any{"stage": "proposal"} },
			fields: []fieldSpec{{name: "stage", kind: kText, limit: crm.MaxShort, verbatim: true}, {name: "close_date", kind: kDate, verbatim: true},
				{name: "amount", kind: kDecimal}}},
		{method: "POST", path: "/v1/deals/{deal}/reassign", base: func(f *propFixture) map[string]any {
			return map[string]any{"owner_id": f.user, "note": "handover"}
		}, fields: []fieldSpec{{name: "note", kind: kText, limit: crm.MaxBody}, {name: "owner_id", kind: kID}}},
		{method: "POST", path: "/v1/deals/reassign", base: func(f *propFixture) map[string]any {
			return map[string]any{"owner_id": f.user, "deal_ids": []string{f.deal}, "note": "handover"}
		}, fields: []fieldSpec{{name: "note", kind: kText, limit: crm.MaxBody}, {name: "owner_id", kind: kID},
			{name: "deal_ids", kind: kEnum, valid: []any{[]string{}, []string{"not-an-id"}, []any{nil},
				[]string{"0190a0e0-0000-7000-8000-000000000000", "0190A0E0-0000-7000-8000-000000000000"}}}}},
		{method: "POST", path: "/v1/activities", base: func(f *propFixture) map[string]any {
			return map[string]any{"type": "note", "account_id": f.account, "occurred_at": when, "body": "The renewal contract goes out Friday."}
		}, fields: activityFields, get: "/v1/activities/{id}"},
		{method: "PATCH", path: "/v1/activities/{activity}", base: func(*propFixture) map[string]any { return map[string]any{"subject": "s"} },
			fields: activityFields},
		{method: "POST", path: "/v1/transcripts", base: func(f *propFixture) map[string]any {
			return map[string]any{"source": "zoom", "started_at": when, "account_id": f.account, "segments": seg}
		}, fields: []fieldSpec{{name: "started_at", kind: kTime}, {name: "title", kind: kText, limit: 500}, {name: "source", kind: kText, limit: 50},
			{name: "external_id", kind: kText, limit: 200}, {name: "duration_seconds", kind: kInt}, {name: "content", kind: kText, limit: 2000},
			{name: "format", kind: kEnum, valid: []any{"vtt", "srt", "text", "json"}}}},
		{method: "POST", path: "/v1/hooks/transcripts", base: func(f *propFixture) map[string]any {
			return map[string]any{"source": "meet", "started_at": when, "account_id": f.account, "segments": seg}
		}, fields: []fieldSpec{{name: "started_at", kind: kTime}, {name: "title", kind: kText, limit: 500}, {name: "external_id", kind: kText, limit: 200}}},
		{method: "PATCH", path: "/v1/action-items/{activity}", base: func(*propFixture) map[string]any { return map[string]any{"status": "done"} },
			fields: []fieldSpec{{name: "status", kind: kEnum, valid: []any{"open", "done"}}}},
		{method: "POST", path: "/v1/activities/{activity}/notes/confirm", base: func(*propFixture) map[string]any {
			return map[string]any{"items": []map[string]any{{"kind": "decision", "index": 0}}}
		}, fields: []fieldSpec{{name: "items", kind: kEnum, valid: []any{[]map[string]any{{"kind": "action_item", "index": 0}}}}}},
		{method: "POST", path: "/v1/webhooks", base: func(*propFixture) map[string]any {
			return map[string]any{"url": "https://93.184.216.34/logbook", "events": []string{"activity.created"}}
		}, fields: []fieldSpec{{name: "url", kind: kText, limit: crm.MaxWebhookURL}, {name: "secret", kind: kText, limit: crm.MaxWebhookSecret},
			{name: "events", kind: kEnum, valid: []any{[]string{"activity.created", "meeting.processed"}, []string{"meeting.processed"}}}}, get: "/v1/webhooks/{id}"},
		{method: "POST", path: "/v1/accounts/{account}/ask", base: func(*propFixture) map[string]any {
			return map[string]any{"question": "When does the contract go out?"}
		}, fields: []fieldSpec{{name: "question", kind: kText, limit: crm.MaxQuestion}, {name: "since", kind: kTime}, {name: "until", kind: kTime}, {name: "types", kind: kEnum, valid: []any{[]string{"note"}, []string{}}}}},
		{method: "POST", path: "/v1/ask", base: func(*propFixture) map[string]any { return map[string]any{"question": "When does the contract go out?"} },
			fields: []fieldSpec{{name: "question", kind: kText, limit: crm.MaxQuestion}, {name: "since", kind: kTime}, {name: "until", kind: kTime}}},
		{method: "POST", path: "/v1/activities/{activity}/next-step/done", base: func(*propFixture) map[string]any { return map[string]any{} },
			fields: []fieldSpec{{name: "done_at", kind: kTime, valid: []any{"2026-03-10T15:00:00Z", nil}}}},
		{method: "PUT", path: "/v1/activities/{meeting}/consents", base: func(*propFixture) map[string]any {
			return map[string]any{"consents": []map[string]any{{"email": "wei@acme.com", "consent": "given"}}}
		}, fields: []fieldSpec{{name: "consents", kind: kEnum, valid: []any{[]any{}, nil,
			[]map[string]any{{"name": "Dana Lee", "consent": "declined"}, {"email": "wei@acme.com", "consent": "unknown"}},
			[]map[string]any{{"name": "Dana", "consent": "maybe"}}, []map[string]any{{"email": "x@y.com"}, {"email": "X@Y.com", "consent": "given"}},
			[]map[string]any{{"name": "", "email": "", "consent": "given"}}}}}},
		{method: "POST", path: "/v1/connectors", base: func(*propFixture) map[string]any {
			return map[string]any{"kind": "ics", "name": "Team calendar", "config": map[string]any{},
				"secrets": map[string]any{"url": "https://calendar.example/feed.ics"}}
		}, fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxConnectorName, verbatim: true},
			{name: "kind", kind: kEnum, valid: []any{"ics", "recall", "caldav"}}, {name: "interval_seconds", kind: kInt, valid: []any{30, 86400}},
			{name: "enabled", kind: kBool, valid: []any{true, false}}, {name: "user_id", kind: kID, valid: []any{nil}},
			{name: "config.since", kind: kDate}, {name: "config.horizon_days", kind: kInt, valid: []any{1, 730}},
			{name: "secrets.url", kind: kText, limit: 2000}}, get: "/v1/connectors/{id}"},
		{method: "PATCH", path: "/v1/connectors/{connector}", base: func(*propFixture) map[string]any { return map[string]any{"name": "Calendar"} },
			fields: []fieldSpec{{name: "name", kind: kText, limit: crm.MaxConnectorName, verbatim: true}, {name: "kind", kind: kEnum},
				{name: "interval_seconds", kind: kInt, valid: []any{30, 600}}, {name: "enabled", kind: kBool, valid: []any{true}},
				{name: "user_id", kind: kID, valid: []any{nil}}}},
		{method: "POST", path: "/v1/connectors/{connector}/resync", base: func(*propFixture) map[string]any {
			return map[string]any{"from": time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)}
		}, fields: []fieldSpec{{name: "from", kind: kTime, valid: []any{time.Now().UTC().AddDate(0, 0, -30).Format(time.RFC3339)}},
			{name: "to", kind: kDate, valid: []any{time.Now().UTC().Format(time.DateOnly), nil}}}},
		{method: "POST", path: "/v1/hooks/twilio/{org_id}", base: func(*propFixture) map[string]any {
			return map[string]any{"CallSid": fmt.Sprintf("CA%d", time.Now().UnixNano()), "CallStatus": "completed", "Direction": "outbound-api",
				"From": "+14155550199", "To": "+14155550100", "CallDuration": "42", "Timestamp": "Tue, 10 Mar 2026 15:00:00 +0000"}
		}, fields: []fieldSpec{{name: "CallSid", kind: kText, limit: 64}, {name: "CallDuration", kind: kInt, valid: []any{"0", "3600"}},
			{name: "CallStatus", kind: kEnum, valid: []any{"ringing", "in-progress", "busy", "no-answer", ""}},
			{name: "AnsweredBy", kind: kEnum, valid: []any{"human", "machine_end_beep", "fax"}}, {name: "Timestamp", kind: kText},
			{name: "Direction", kind: kEnum, valid: []any{"inbound", "outbound-dial"}}, {name: "RecordingUrl", kind: kText, limit: 2048},
			{name: "To", kind: kText, limit: 2048}}, send: (*propFixture).twilioHook},
		{method: "POST", path: "/v1/hooks/aircall/{org_id}", base: func(*propFixture) map[string]any {
			return map[string]any{"resource": "call", "event": "call.ended", "timestamp": 1773154900, "token": propAircallToken,
				"data": map[string]any{"id": time.Now().UnixNano() % 1e12, "direction": "outbound", "status": "done", "started_at": 1773154800,
					"answered_at": 1773154810, "duration": 90, "raw_digits": "+1 415-555-0100", "recording": "https://aircall.example/r.mp3"}}
		}, fields: []fieldSpec{{name: "event", kind: kText, limit: 100, valid: []any{"call.created", "call.voicemail_left"}},
			{name: "data.id", kind: kInt}, {name: "data.direction", kind: kEnum, valid: []any{"inbound"}},
			{name: "data.started_at", kind: kInt}, {name: "data.duration", kind: kInt}, {name: "data.voicemail", kind: kText, limit: 2048},
			{name: "data.raw_digits", kind: kText}, {name: "timestamp", kind: kTime}}, send: (*propFixture).aircallHook},
	}
}

// TestPropertyExtremeValues is the property test described above.
func TestPropertyExtremeValues(t *testing.T) {
	t.Parallel()
	const seed = 11
	casesPerRoute := 40
	if testing.Short() {
		casesPerRoute = 8
	}
	r := rand.New(rand.NewPCG(seed, seed))
	f := newPropFixture(t)
	b := f.b

	// Every write route of the table is covered here or below (DELETE and
	// the body-less POSTs take no values).
	specs := writeSpecs()
	covered := map[string]bool{}
	for _, s := range specs {
		covered[s.method+" "+pattern(s.path)] = true
		covered[s.method+" "+s.path] = true
	}
	for _, rt := range routes() {
		if rt.Method == "GET" || rt.Method == "DELETE" || covered[rt.Method+" "+rt.Path] {
			continue
		}
		switch rt.Method + " " + rt.Path {
		case "POST /v1/settings/ingest-secret", "POST /v1/activities/{id}/follow-up",
			"POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver":
			continue // no body: exercised with odd path IDs below
		case "POST /v1/transcripts/{id}/release", "POST /v1/transcripts/{id}/discard":
			continue // no body: exercised with odd path IDs below
		case "POST /v1/hooks/recall/{org_id}/{connector_id}", "POST /v1/hooks/zoom/{org_id}/{connector_id}":
			// Vendor pings signed with a connector's secret: their parsers
			// are fuzzed in internal/vendorhook and the signed hooks tested
			// in capture/notetaker; odd path IDs below.
			continue
		}
		t.Fatalf("the property test has no writeSpec for %s %s", rt.Method, rt.Path)
	}

	var created []string // GET paths of accepted objects
	stats := map[string]int{}
	defer func() { t.Logf("answers: %v", stats) }()
	for _, s := range specs {
		for c := range casesPerRoute {
			body := s.base(f)
			n := 1 + r.IntN(2)
			var varied []fieldSpec
			for range n {
				fs := s.fields[r.IntN(len(s.fields))]
				var v any
				switch {
				case r.IntN(10) == 0:
					v = anyValue(r)
				case len(fs.valid) > 0 && r.IntN(2) == 0:
					v = fs.valid[r.IntN(len(fs.valid))]
				default:
					v = extremeValue(r, fs.kind, fs.limit)
				}
				setField(body, fs.name, v)
				varied = append(varied, fs)
			}
			if s.path == "/v1/activities" && c%4 == 3 {
				body = map[string]any{"activities": []any{body, s.base(f)}}
			}
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			raw = bytes.ReplaceAll(raw, []byte(loneSurrogate), []byte(`\ud800`))
			path := f.path(s.path)
			what := fmt.Sprintf("seed %d, %s %s case %d, body %.300s", seed, s.method, path, c, raw)
			var res response
			if s.send != nil {
				res = s.send(f, raw)
			} else if s.path == "/v1/hooks/transcripts" {
				res = f.hook(raw)
			} else {
				res = b.do(s.method, path, raw)
			}
			checkAnswer(t, what, res)
			stats[s.method+" "+s.path+" "+strconv.Itoa(res.Status)]++
			if res.Status >= 300 {
				continue
			}
			var sent map[string]any
			require.NoError(t, json.Unmarshal(raw, &sent), what)
			got := res.Map(t)
			if _, batch := sent["activities"]; batch {
				continue
			}
			if s.get != "" {
				id, _ := got["id"].(string)
				require.NotEmpty(t, id, what)
				g := b.do("GET", strings.ReplaceAll(s.get, "{id}", id), nil)
				require.Equal(t, http.StatusOK, g.Status, "%s: read back: %s", what, g.Body)
				got = g.Map(t)
				created = append(created, strings.ReplaceAll(s.get, "{id}", id))
				if s.path == "/v1/activities" {
					_, err := f.rs.IndexActivity(context.Background(), b.orgID, id)
					require.NoError(t, err, what)
				}
			}
			if id, ok := got["id"].(string); ok && strings.HasSuffix(s.path, "/transcripts") {
				created = append(created, "/v1/transcripts/"+id+"?include=segments")
			}
			if s.path == "/v1/webhooks" {
				created = append(created, strings.TrimSuffix(created[len(created)-1], "/")+"/deliveries")
			}
			if s.method == "POST" && s.get == "" && !strings.HasSuffix(s.path, "/ask") {
				continue // the answer is not the object (202 transcripts, keys)
			}
			if strings.HasSuffix(s.path, "/ask") {
				continue
			}
			for _, fs := range varied {
				if fs.verbatim || fs.kind == kTime {
					requireReadBack(t, what, fs, sent, got)
				}
			}
		}
	}

	// Odd path IDs on every route with one, DELETE included.
	for _, rt := range routes() {
		if !strings.Contains(rt.Path, "{") {
			continue
		}
		for _, id := range []string{"not-an-id", "00000000-0000-0000-0000-000000000000", "%00", strings.ToUpper(f.account), "ffffffff-ffff-ffff-ffff-fffffffffff%F0"} {
			path := pathParam.ReplaceAllString(rt.Path, id)
			var body any
			if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
				body = "{}"
			}
			res := b.do(rt.Method, path, body)
			checkAnswer(t, fmt.Sprintf("%s %s", rt.Method, path), res)
		}
	}

	// Every read route over what was accepted, with extreme parameters.
	reads := []string{
		"/v1/accounts/" + f.account + "/timeline?limit=200", "/v1/accounts/" + f.account + "/brief", "/v1/accounts/" + f.account,
		"/v1/accounts?limit=200", "/v1/contacts?limit=200", "/v1/deals?limit=200", "/v1/users?limit=200", "/v1/api-keys",
		"/v1/webhooks", "/v1/action-items?limit=200", "/v1/settings", "/v1/activities/" + f.activity, "/v1/connectors",
		"/v1/next-steps?limit=200&due_before=9999-12-31", "/v1/deals/stalled?days=1&limit=200", "/v1/digest?limit=200&since=2026-01-01T00:00:00Z&until=2026-04-01T00:00:00Z",
	}
	reads = append(reads, created...)
	for _, q := range extremeStrings(r, maxSearchQuery) {
		if r.IntN(2) == 0 {
			continue
		}
		reads = append(reads, "/v1/search?q="+url.QueryEscape(strings.ReplaceAll(q, loneSurrogate, "\ufffd")),
			"/v1/accounts/"+f.account+"/search?q="+url.QueryEscape(strings.ReplaceAll(q, loneSurrogate, "\ufffd")))
	}
	for _, at := range extremeTimes {
		reads = append(reads, "/v1/accounts/"+f.account+"/timeline?since="+url.QueryEscape(at),
			"/v1/search?q=contract&until="+url.QueryEscape(at))
	}
	for _, n := range []string{"0", "-1", "201", "99999999999999999999", "NaN", "1e3", "%00"} {
		reads = append(reads, "/v1/accounts?limit="+n, "/v1/accounts/"+f.account+"/timeline?limit="+n)
	}
	for _, c := range []string{"x", "%00", strings.Repeat("A", 5000), "eyJ0IjoiMTAwMDAtMDEtMDEifQ"} {
		reads = append(reads, "/v1/accounts?cursor="+c, "/v1/accounts/"+f.account+"/timeline?cursor="+c)
		reads = append(reads, "/v1/next-steps?cursor="+c, "/v1/deals/stalled?cursor="+c, "/v1/digest?cursor="+c)
	}
	for _, at := range extremeTimes {
		reads = append(reads, "/v1/digest?until="+url.QueryEscape(at), "/v1/digest?since="+url.QueryEscape(at))
	}
	for _, d := range extremeDates {
		reads = append(reads, "/v1/next-steps?due_before="+url.QueryEscape(d))
	}
	for _, n := range []string{"0", "-1", "3651", "99999999999999999999", "NaN", "1e3", "%00"} {
		reads = append(reads, "/v1/deals/stalled?days="+n)
	}
	for _, p := range reads {
		res := b.do("GET", p, nil)
		checkAnswer(t, "GET "+p, res)
	}
	for _, q := range extremeStrings(r, crm.MaxQuestion)[:8] {
		raw, err := json.Marshal(map[string]any{"question": q})
		require.NoError(t, err)
		raw = bytes.ReplaceAll(raw, []byte(loneSurrogate), []byte(`\ud800`))
		for _, p := range []string{"/v1/ask", "/v1/accounts/" + f.account + "/ask"} {
			checkAnswer(t, fmt.Sprintf("POST %s %.200s", p, raw), b.do("POST", p, raw))
		}
	}
}

// checkAnswer holds every answer to the property: no 5xx, a 2xx body is
// JSON, a 4xx is problem+json naming a field (404 names none: the object
// is simply not there).
func checkAnswer(t *testing.T, what string, res response) {
	t.Helper()
	require.Less(t, res.Status, 500, "%s answered %d: %s", what, res.Status, res.Body)
	if res.Status < 300 {
		if res.Status != http.StatusNoContent {
			require.True(t, json.Valid(res.Body), "%s: a %d whose body is not JSON: %q", what, res.Status, res.Body)
		}
		return
	}
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "%s: %s", what, res.Body)
	var p Problem
	require.NoError(t, json.Unmarshal(res.Body, &p), "%s: %s", what, res.Body)
	require.Equal(t, res.Status, p.Status, what)
	switch res.Status {
	case http.StatusNotFound, http.StatusRequestEntityTooLarge:
		return
	}
	named := false
	for _, e := range p.Errors {
		named = named || e.Field != ""
	}
	require.True(t, named, "%s: refused with %d without naming a field: %s", what, res.Status, res.Body)
}

// requireReadBack checks that an accepted field reads back as sent.
func requireReadBack(t *testing.T, what string, fs fieldSpec, sent, got map[string]any) {
	t.Helper()
	want, ok := getField(sent, fs.name)
	if !ok || want == nil {
		return
	}
	have, _ := getField(got, fs.name)
	if fs.kind == kTime {
		ws, ok := want.(string)
		if !ok {
			return
		}
		wt, err := time.Parse(time.RFC3339Nano, ws)
		require.NoError(t, err, what)
		hs, _ := have.(string)
		ht, err := time.Parse(time.RFC3339Nano, hs)
		require.NoError(t, err, "%s: %s read back as %v", what, fs.name, have)
		require.True(t, wt.UTC().Truncate(time.Microsecond).Equal(ht), "%s: %s sent %s, read back %s", what, fs.name, ws, hs)
		require.True(t, strings.HasSuffix(hs, "Z"), "%s: %s read back as %s, not in UTC", what, fs.name, hs)
		return
	}
	if n, ok := want.(float64); ok {
		hn, _ := have.(float64)
		require.Equal(t, n, hn, "%s: %s", what, fs.name)
		return
	}
	require.True(t, reflect.DeepEqual(want, have), "%s: %s sent %q, read back %q", what, fs.name, want, have)
}

func setField(m map[string]any, name string, v any) {
	if head, rest, ok := strings.Cut(name, "."); ok {
		sub, _ := m[head].(map[string]any)
		if sub == nil {
			sub = map[string]any{"text": "call back"}
		}
		setField(sub, rest, v)
		m[head] = sub
		return
	}
	m[name] = v
}

func getField(m map[string]any, name string) (any, bool) {
	if head, rest, ok := strings.Cut(name, "."); ok {
		sub, ok := m[head].(map[string]any)
		if !ok {
			return nil, false
		}
		return getField(sub, rest)
	}
	v, ok := m[name]
	return v, ok
}

// pattern turns a spec path ("/v1/users/{user}") into the route table's.
func pattern(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// path fills a spec path with the fixture's IDs.
func (f *propFixture) path(p string) string {
	return strings.NewReplacer("{user}", f.user, "{account}", f.account, "{contact}", f.contact, "{deal}", f.deal,
		"{activity}", f.activity, "{meeting}", f.meeting, "{connector}", f.connector).Replace(p)
}

// hook posts raw to the signed ingest hook, signed with the org's secret.
func (f *propFixture) hook(raw []byte) response {
	req := httptest.NewRequest("POST", "/v1/hooks/transcripts", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Logbook-Org", f.b.orgID)
	// Each delivery is signed at a second of its own: the same body signed
	// twice in one second is one delivery, and sending it again a replay
	// (409).
	f.signedAt = max(time.Now().Unix(), f.signedAt+1)
	req.Header.Set(crm.SignatureHeader, crm.Sign(f.secret, time.Unix(f.signedAt, 0), raw))
	rec := httptest.NewRecorder()
	f.b.handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	f.b.checkDocumented(req, res)
	return res
}

// noFollowUps is a FollowUpGenerator with nothing to regenerate.
type noFollowUps struct{}

func (noFollowUps) RegenerateFollowUp(context.Context, string, string) (crm.FollowUp, error) {
	return crm.FollowUp{}, crm.ErrNotFound
}

func newPropFixture(t *testing.T) *propFixture {
	t.Helper()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	lp := local.New(384)
	rs, err := retrieval.New(retrieval.Config{Store: s, Embedder: lp, Completer: lp, EmbedModel: lp.Model()})
	require.NoError(t, err)
	connectors, _ := testCapture(t, s, "", nil)
	h, err := NewHandler(Deps{Store: s, Asker: rs, Searcher: rs, FollowUps: noFollowUps{}, Capture: connectors})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
	f := &propFixture{b: b, rs: rs}
	f.user = b.create("/v1/users", map[string]any{"email": "owner@acme.com", "name": "Owner"})
	f.account = b.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"acme.com"}})
	f.contact = b.create("/v1/contacts", map[string]any{"account_id": f.account, "name": "Wei", "email": "wei@acme.com"})
	f.deal = b.create("/v1/deals", map[string]any{"account_id": f.account, "name": "Renewal"})
	f.activity = b.create("/v1/activities", map[string]any{"type": "email", "account_id": f.account, "occurred_at": "2026-03-10T15:00:00Z",
		"subject": "Renewal quote", "body": "The renewal uplift is capped at 7 percent."})
	_, err = rs.IndexActivity(ctx, b.orgID, f.activity)
	require.NoError(t, err)
	f.meeting = b.create("/v1/activities", map[string]any{"type": "meeting", "account_id": f.account, "occurred_at": "2026-03-10T15:00:00Z",
		"subject": "Renewal call", "participants": []map[string]any{{"name": "Wei", "email": "wei@acme.com"}}})
	res := b.do("POST", "/v1/settings/ingest-secret", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	f.secret = res.Map(t)["secret"].(string)
	f.connector = b.create("/v1/connectors", map[string]any{"kind": "ics", "name": "Team calendar",
		"secrets": map[string]any{"url": "https://calendar.example/feed.ics"}})
	return f
}
