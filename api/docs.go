package api

import (
	"net/http"
	"reflect"
	"strings"

	"logbook/activity"
	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/openapi"
	"logbook/internal/store"
	"logbook/retrieval"
)

// opDoc is what /openapi.json says about one operation beyond its route:
// the prose, the query parameters, the body and the responses (see
// openapi.Operation).
type opDoc struct {
	Tag     string
	Summary string
	Query   []param
	// Headers are the request headers the operation reads (In is set to
	// "header" for them).
	Headers  []param
	Body     any      // zero value of the request body type, or nil
	Required []string // fields a create request must carry
	Resp     map[int]any
}

// params lists the operation's query and header parameters. An optional
// query parameter sent empty (?since=) is taken as absent, as the query
// helpers (decode.go) read it.
func (d opDoc) params() []param {
	out := append([]param(nil), d.Query...)
	for i := range out {
		out[i].AllowEmpty = !out[i].Required
	}
	for _, h := range d.Headers {
		h.In = "header"
		out = append(out, h)
	}
	return out
}

// param documents one query or header parameter, or a response header.
type param = openapi.Param

// withHeaders documents a response that carries headers.
type withHeaders = openapi.Response

// noBody documents a response without a body (204).
type noBody = openapi.NoBody

// activityPostBody documents POST /v1/activities' body: one ActivityInput
// (type and occurred_at required), or {"activities":[...]}.
type activityPostBody struct{}

func (activityPostBody) ContentTypes(g *openapi.Generator) map[string]any {
	in := g.Request(reflect.TypeOf(crm.ActivityInput{}))
	single := map[string]any{"allOf": []any{in, map[string]any{"required": []string{"type", "occurred_at"}}}}
	batch := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"activities"},
		"properties": map[string]any{"activities": map[string]any{
			"type": "array", "minItems": 1, "maxItems": crm.MaxBatch, "items": single}},
	}
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"oneOf": []any{single, batch}}}}
}

// activityPostResponse documents POST /v1/activities' answer: the Activity
// for a single post, an ActivityBatchResult for a batch.
type activityPostResponse struct{}

func (activityPostResponse) ContentTypes(g *openapi.Generator) map[string]any {
	one := g.Schema(reflect.TypeOf(crm.Activity{}))
	batch := g.Schema(reflect.TypeOf(activityBatchResult{}))
	if item, ok := g.Components[g.Name(reflect.TypeOf(activityBatchItem{}))].(map[string]any); ok {
		if props, ok := item["properties"].(map[string]any); ok {
			props["result"] = map[string]any{"type": "string", "enum": []string{
				string(store.UpsertCreated), string(store.UpsertUpdated), string(store.UpsertUnchanged)}}
		}
	}
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"oneOf": []any{one, batch}}}}
}

// errResps are the problem responses every authenticated route may give.
func errResps(m map[int]any, codes ...int) map[int]any {
	for _, c := range codes {
		m[c] = Problem{}
	}
	m[http.StatusUnauthorized] = withHeaders{Body: Problem{}, Headers: []param{{Name: "WWW-Authenticate", Type: "string",
		Required: true, Description: `Bearer realm="logbook": the key is missing or invalid`}}}
	m[http.StatusForbidden] = Problem{}
	m[http.StatusServiceUnavailable] = Problem{} // the database cannot answer now (Retry-After)
	return m
}

// openAPIDocument documents GET /openapi.json's answer: an OpenAPI 3.1
// document, whose own schema is the OpenAPI specification's.
type openAPIDocument struct{}

func (openAPIDocument) ContentTypes(*openapi.Generator) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{
		"type":        "object",
		"description": "An OpenAPI 3.1.0 document (its schema is the OpenAPI specification's: https://spec.openapis.org/oas/3.1/schema/2022-10-07).",
		"required":    []string{"openapi", "info", "paths", "components"},
		"properties": map[string]any{
			"openapi": map[string]any{"type": "string", "enum": []string{"3.1.0"}},
			"info": map[string]any{"type": "object", "required": []string{"title", "version"}, "description": "an OpenAPI Info Object",
				"properties":           map[string]any{"title": map[string]any{"type": "string"}, "version": map[string]any{"type": "string"}},
				"additionalProperties": true},
			"paths":      map[string]any{"type": "object", "additionalProperties": true, "description": "an OpenAPI Paths Object"},
			"webhooks":   map[string]any{"type": "object", "additionalProperties": true, "description": "the Path Item Object of each webhook"},
			"components": map[string]any{"type": "object", "additionalProperties": true, "description": "an OpenAPI Components Object"},
		},
		"additionalProperties": true,
	}}}
}

// askToken, askCitations and askDone are the data of the token,
// citations and done events of an answer streamed as server-sent events.
type askToken struct {
	// Text is the next piece of the validated answer.
	Text string `json:"text"`
}

type askDone struct {
	Answer   string `json:"answer"`
	Grounded bool   `json:"grounded"`
}

// askResponse documents the answer of the ask routes: JSON, or with
// Accept: text/event-stream, server-sent events. OpenAPI 3.1 has no schema
// for the items of a stream, so the event stream's schema is a string and
// x-events gives, for each event name, the schema of its data (one JSON
// value on one data: line): what OpenAPI 3.2 says with itemSchema.
type askResponse struct{}

func (askResponse) ContentTypes(g *openapi.Generator) map[string]any {
	cit := g.Schema(reflect.TypeOf(retrieval.Citation{}))
	g.Components["AskCitations"] = map[string]any{"type": "array", "items": cit,
		"description": "The data of the citations event: the validated citations, as in the JSON answer."}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	return map[string]any{
		"application/json": map[string]any{"schema": g.Schema(reflect.TypeOf(retrieval.Answer{}))},
		"text/event-stream": map[string]any{
			"schema": map[string]any{"type": "string",
				"description": "Server-sent events, each `event: <name>` then `data: <one JSON value>` and a blank line: " +
					"token events (AskToken), then one citations event (AskCitations), then one done event (AskDone); " +
					"or, when answering fails after the stream began, an error event (Problem) ends it. x-events gives each event's data schema."},
			"x-events": map[string]any{
				"token":     g.Schema(reflect.TypeOf(askToken{})),
				"citations": ref("AskCitations"),
				"done":      g.Schema(reflect.TypeOf(askDone{})),
				"error":     ref("Problem"),
			},
		},
	}
}

// webhookPayload documents the body of one webhook event: the envelope
// {"event", "created_at", "data"} around a value of the data's type.
type webhookPayload struct {
	event string
	data  any
}

func (p webhookPayload) ContentTypes(g *openapi.Generator) map[string]any {
	data := g.Schema(reflect.TypeOf(p.data))
	name := g.Name(reflect.TypeOf(p.data)) + "Event"
	g.Components[name] = map[string]any{
		"type": "object", "additionalProperties": false,
		"required": []string{"event", "created_at", "data"},
		"properties": map[string]any{
			"event":      map[string]any{"type": "string", "enum": []string{p.event}},
			"created_at": map[string]any{"type": "string", "format": "date-time", "description": "when the event happened"},
			"data":       data,
		},
	}
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}
}

// webhookDocs documents what Logbook sends to webhooks: one POST per event,
// signed, for the document's top-level webhooks.
func webhookDocs() []openapi.Operation {
	headers := func(event string) []param {
		return []param{
			{Name: "Logbook-Event", In: "header", Type: "string", Enum: []string{event}, Required: true,
				Description: "the event's name, as in the body's event"},
			{Name: "Logbook-Delivery", In: "header", Type: "string", Format: "uuid", Required: true,
				Description: "the delivery's ID (GET /v1/webhooks/{id}/deliveries lists it). Deliveries are at least once: " +
					"a retried delivery keeps its ID, so receivers dedupe on it."},
			{Name: crm.SignatureHeader, In: "header", Type: "string", Required: true,
				Description: "t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, t + \".\" + raw body)>: recompute it over the raw " +
					"body and compare in constant time; refuse a t more than 5 minutes from now."},
			{Name: "User-Agent", In: "header", Type: "string", Description: "Logbook-Webhooks/1"},
		}
	}
	resps := map[int]any{
		200: withHeaders{Body: noBody{}, Description: "Any 2xx status: the delivery is delivered (the body is not read past 64 KiB)"},
		410: withHeaders{Body: noBody{}, Description: "Gone: the delivery fails for good (no more retries)"},
	}
	prose := " Any 2xx answer delivers it; 410 Gone fails it for good; anything else (or no answer) is retried " +
		"with backoff, and the delivery log says how each attempt went."
	return []openapi.Operation{
		{Method: "POST", Path: store.EventMeetingProcessed, ID: "webhook_meeting_processed", Tag: "webhooks",
			Summary: "A meeting's transcript was processed, or a person confirmed items of its notes held for review: data holds the " +
				"meeting's notes as GET /v1/activities/{id} shows them, without the items still held for review (flagged as payment " +
				"instructions, credentials or outside links and not confirmed; held_for_review counts them). Once a person confirms " +
				"items, the event is sent again with them." + prose,
			Params: headers(store.EventMeetingProcessed), Body: webhookPayload{event: store.EventMeetingProcessed, data: store.MeetingProcessed{}}, Responses: resps},
		{Method: "POST", Path: store.EventActivityCreated, ID: "webhook_activity_created", Tag: "webhooks",
			Summary: "An activity was logged (created, not updated) by any route: a post, a batch, a transcript's meeting or a deal's handoff." + prose,
			Params:  headers(store.EventActivityCreated), Body: webhookPayload{event: store.EventActivityCreated, data: store.ActivityCreatedData{}}, Responses: resps},
	}
}

// docs is the OpenAPI documentation of every route, keyed by the route's
// pattern ("METHOD /path", as in the route table). buildOpenAPI refuses a
// route without an entry here and an entry without a route.
func docs() map[string]opDoc {
	page := []param{
		{Name: "limit", Type: "integer", Description: "page size, 1 to 200 (default 50)"},
		{Name: "cursor", Type: "string", Description: "next_cursor of the previous page"},
	}
	paged := func(ps ...param) []param { return append(ps, page...) }
	types := func(eg string) string {
		return "comma-separated activity types, e.g. " + eg + " (any of " + strings.Join(activityTypeNames(), ", ") + ")"
	}
	signed := ": t=<unix>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>"
	sse := "With `Accept: text/event-stream` the answer streams as server-sent events: `token` events ({\"text\"}), then one `citations` event (the validated citations), then `done` ({\"answer\",\"grounded\"}: the validated answer). Only validated text streams: once the model's citations are checked, each sentence is sent as soon as it is complete, in the form the validated answer has it, so a sentence or reference the validation drops never appears, and the `token` texts joined are exactly `done`'s answer. A failure after the stream began is an `error` event with a problem object; the tokens before it are not an answer."
	passages := "Passages are ranked best first by hybrid search (meaning and words, fused by reciprocal rank fusion; score is the fused score): " +
		"each holds at least one of the query's words (in any form: \"promised\" for \"promise\") or is close to it in meaning. " +
		"`highlights` are the query's words in `text`, as half-open [start, end) ranges counted in UTF-16 code units " +
		"(JavaScript string indices: text.slice(start, end) is the word; for characters outside the Basic Multilingual Plane, such as emoji, " +
		"they differ from code point offsets), matched whole-word, case-insensitively and by stem. `speaker` (the passage's first), `start_ms` and `end_ms` are set on " +
		"transcript passages only. A query with no searchable words (only punctuation or stop words) finds nothing: 200 with no items."
	search := []param{
		{Name: "q", Type: "string", Required: true, Description: "what to search for, 1 to 1000 characters (trimmed)"},
		{Name: "limit", Type: "integer", Description: "most passages to return, 1 to 50 (default 10)"},
		{Name: "types", Type: "string", Description: types("meeting,email")},
		{Name: "since", Type: "string", Format: "date-time", Description: "occurred at or after (inclusive), RFC 3339"},
		{Name: "until", Type: "string", Format: "date-time", Description: "occurred before (exclusive), RFC 3339; not before since"},
	}

	return map[string]opDoc{
		// ops
		"GET /healthz": {Tag: "ops", Summary: "Liveness: the process is up.", Resp: map[int]any{200: health{}}},
		"GET /readyz": {Tag: "ops", Summary: "Readiness: PostgreSQL and Redis are reachable. details.connectors counts every " +
			"org's connectors by health (ok, failing, unhealthy: failing for over an hour, pending, disabled), counts only; " +
			"a broken connector never makes the server unready.",
			Resp: map[int]any{200: health{}, 503: health{}}},
		"GET /metrics":      {Tag: "ops", Summary: "Prometheus metrics (text exposition format).", Resp: map[int]any{200: "text", 401: Problem{}}},
		"GET /openapi.json": {Tag: "ops", Summary: "This OpenAPI 3.1 document.", Resp: map[int]any{200: openAPIDocument{}}},

		// api-keys
		"POST /v1/api-keys": {Tag: "api-keys", Summary: "Create an API key. The key is shown once; only its hash is stored.",
			Body: crm.APIKeyInput{}, Required: []string{"name", "scopes"},
			Resp: errResps(map[int]any{201: crm.APIKey{}}, 400, 413, 422)},
		"GET /v1/api-keys": {Tag: "api-keys", Summary: "List the org's live API keys (without secrets).",
			Resp: errResps(map[int]any{200: itemsOf[crm.APIKey]{}})},
		"DELETE /v1/api-keys/{id}": {Tag: "api-keys", Summary: "Revoke an API key at once.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},

		// settings
		"GET /v1/settings": {Tag: "settings",
			Summary: "The org's settings: disposition codes, require_disposition, stalled_after_days, " +
				"transcript_retention_days (raw transcripts are purged after that many days; null keeps them forever) and " +
				"keep_notes_after_purge (default true: a purged meeting keeps its notes and their evidence).",
			Resp: errResps(map[int]any{200: crm.Settings{}})},
		"PATCH /v1/settings": {Tag: "settings", Summary: "Change the org's settings. twilio_auth_token and aircall_token (the dialer hooks' secrets) " +
			"are write-only: sealed with the server's LOGBOOK_SECRET_KEY (422 naming the field when the server has none), null removes one, " +
			"and GET /v1/settings shows only twilio_auth_token_set and aircall_token_set.", Body: settingsInput{},
			Resp: errResps(map[int]any{200: crm.Settings{}}, 400, 413, 422)},
		"POST /v1/settings/ingest-secret": {Tag: "settings",
			Summary: "Generate the org's ingest secret, which signs POST /v1/hooks/transcripts (" + crm.SignatureHeader +
				signed + ", with the org's ID in Logbook-Org) instead of a " +
				"bearer key. It replaces any previous secret at once and is shown only in this response; GET /v1/settings " +
				"never shows it. No request body.",
			Resp: errResps(map[int]any{201: ingestSecret{}})},
		"DELETE /v1/settings/ingest-secret": {Tag: "settings",
			Summary: "Delete the org's ingest secret, which disables the signed transcript hook (204 even when none was set).",
			Resp:    errResps(map[int]any{204: noBody{}})},

		// users
		"POST /v1/users": {Tag: "users",
			Summary: "Create a user (role defaults to rep). Emails are case-insensitive and unique per org (409 otherwise).",
			Body:    crm.UserInput{}, Required: []string{"email", "name"},
			Resp: errResps(map[int]any{201: crm.User{}}, 400, 409, 413, 422)},
		"GET /v1/users": {Tag: "users", Summary: "List users, newest first.",
			Query: paged(param{Name: "role", Type: "string", Description: "only users with this role", Enum: strs(crm.Roles)}),
			Resp:  errResps(map[int]any{200: crm.Page[crm.User]{}}, 422)},
		"GET /v1/users/{id}": {Tag: "users", Summary: "Get a user.", Resp: errResps(map[int]any{200: crm.User{}}, 404, 422)},
		"PATCH /v1/users/{id}": {Tag: "users", Summary: "Update a user; absent fields are kept, and no field may be null.",
			Body: crm.UserInput{}, Resp: errResps(map[int]any{200: crm.User{}}, 400, 404, 409, 413, 422)},
		"DELETE /v1/users/{id}": {Tag: "users",
			Summary: "Delete a user. Accounts, deals and activities the user owned stay, with no owner.",
			Resp:    errResps(map[int]any{204: noBody{}}, 404, 422)},
		"POST /v1/users/{id}/invite": {Tag: "users",
			Summary: "Make a one-time link that lets the user set a password in the web UI and signs them in " +
				"(url: PUBLIC_URL, or this request's scheme and host, then /invite/{token}). The link is shown only in this " +
				"answer (Cache-Control: no-store); only its SHA-256 is stored. It works once, for expires_in_days (1 to 30, " +
				"default 7), and a newer invite of the user makes older unused links stop working. Using it ends the " +
				"user's web sessions. The body is {} or {\"expires_in_days\": N}. Admin scope.",
			Body: inviteInput{},
			Resp: errResps(map[int]any{201: inviteLink{}}, 400, 404, 413, 422)},

		// accounts
		"POST /v1/accounts": {Tag: "accounts",
			Summary: "Create an account. Each domain may belong to one account of the org (409 otherwise).",
			Body:    crm.AccountInput{}, Required: []string{"name"},
			Resp: errResps(map[int]any{201: crm.Account{}}, 400, 409, 413, 422)},
		"GET /v1/accounts": {Tag: "accounts", Summary: "List accounts, newest first; q searches names and domains.",
			Query: paged(
				param{Name: "q", Type: "string", Description: "case-insensitive substring of the name or a domain"},
				param{Name: "owner_id", Type: "string", Format: "uuid"},
				param{Name: "segment", Type: "string"}),
			Resp: errResps(map[int]any{200: crm.Page[crm.Account]{}}, 422)},
		"GET /v1/accounts/{id}": {Tag: "accounts", Summary: "Get an account.",
			Resp: errResps(map[int]any{200: crm.Account{}}, 404, 422)},
		"PATCH /v1/accounts/{id}": {Tag: "accounts", Summary: "Update an account; domains, when given, replace the list.",
			Body: crm.AccountInput{}, Resp: errResps(map[int]any{200: crm.Account{}}, 400, 404, 409, 413, 422)},
		"DELETE /v1/accounts/{id}": {Tag: "accounts", Summary: "Delete an account with everything derived from it: contacts, deals, " +
			"activities, transcripts, meeting notes, action items, follow-up drafts, search chunks, the brief and the webhook " +
			"deliveries that carry its data.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
		"GET /v1/accounts/{id}/brief": {Tag: "accounts",
			Summary: "The account read in under a minute, composed from the record and the meeting notes (no model): " +
				"brief.headline, then brief.sections in this order when they have something to say: The account, Deals, " +
				"Open commitments, Risks raised, Last touch per contact, Recent meetings. Each statement cites the activities " +
				"it rests on in activity_ids; only a deal with no activity logged on it, or an account with none at all, " +
				"cites none. Lists are capped (3 deals; 4 open commitments, soonest due first, at most 2 ours, 2 theirs and 1 " +
				"with no clear owner; 2 risks; 3 contacts; 1 meeting), free text is clipped to a few words, and a capped " +
				"list ends with a statement \"…and N more\" (section.more = N): the longest brief is under 250 words. " +
				"Sides of a commitment (open_action_items[].side): ours when the owner is the name or email of a user of " +
				"the org; theirs when it is a contact of the account's; otherwise decided by the meeting participant of " +
				"that name: theirs when their email is at one of the account's domains, ours when it is a user's email or " +
				"at a user's email domain; else unknown (also when no owner was named). Risks come from the notes of the " +
				"5 newest processed meetings held in the last 90 days. open_action_items (at most 50, soonest due first, " +
				"undated last), deals (at most 50, open first by close date, then closed most recently changed first) and " +
				"last_activity_at are plain data from the database. The brief is cached and rebuilt when the account's " +
				"activities, action items, deals, contacts, meeting notes or the org's users change, and once a day " +
				"(overdue and the risk window move with the date); generated_at says when it was built.",
			Resp: errResps(map[int]any{200: brief.AccountBrief{}}, 404, 422)},

		// contacts
		"POST /v1/contacts": {Tag: "contacts",
			Summary: "Create a contact on an account of the org (422 on account_id otherwise). Emails are case-insensitive and unique per org (409 otherwise).",
			Body:    crm.ContactInput{}, Required: []string{"account_id", "name"},
			Resp: errResps(map[int]any{201: crm.Contact{}}, 400, 409, 413, 422)},
		"GET /v1/contacts": {Tag: "contacts", Summary: "List contacts, newest first.",
			Query: paged(
				param{Name: "account_id", Type: "string", Format: "uuid", Description: "only the contacts of this account"},
				param{Name: "email", Type: "string", Description: "only the contact with this email (case-insensitive)"}),
			Resp: errResps(map[int]any{200: crm.Page[crm.Contact]{}}, 422)},
		"GET /v1/contacts/{id}": {Tag: "contacts", Summary: "Get a contact.",
			Resp: errResps(map[int]any{200: crm.Contact{}}, 404, 422)},
		"PATCH /v1/contacts/{id}": {Tag: "contacts",
			Summary: "Update a contact; absent fields are kept, null clears email, phone and title (account_id and name may not be null).",
			Body:    crm.ContactInput{}, Resp: errResps(map[int]any{200: crm.Contact{}}, 400, 404, 409, 413, 422)},
		"DELETE /v1/contacts/{id}": {Tag: "contacts", Summary: "Delete a contact. Activities linked to no other contact are " +
			"deleted with everything derived from them (transcript, notes, action items, draft, search chunks); activities shared " +
			"with other contacts stay, without the link and the contact's participant entry.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},

		// deals
		"POST /v1/deals": {Tag: "deals",
			Summary: "Create a deal on an account of the org (status defaults to open). account_id and owner_id must name records of the org (422 otherwise); amount is an exact decimal with at most 4 fraction digits.",
			Body:    crm.DealInput{}, Required: []string{"account_id", "name"},
			Resp: errResps(map[int]any{201: crm.Deal{}}, 400, 413, 422)},
		"GET /v1/deals": {Tag: "deals", Summary: "List deals, newest first.",
			Query: paged(
				param{Name: "account_id", Type: "string", Format: "uuid", Description: "only the deals of this account"},
				param{Name: "owner_id", Type: "string", Format: "uuid", Description: "only the deals this user owns"},
				param{Name: "status", Type: "string", Description: "only deals with this status", Enum: strs(crm.DealStatuses)},
				param{Name: "stage", Type: "string", Description: "only deals at this stage (exact match)"}),
			Resp: errResps(map[int]any{200: crm.Page[crm.Deal]{}}, 422)},
		"GET /v1/deals/{id}": {Tag: "deals", Summary: "Get a deal.", Resp: errResps(map[int]any{200: crm.Deal{}}, 404, 422)},
		"PATCH /v1/deals/{id}": {Tag: "deals",
			Summary: "Update a deal; absent fields are kept, null clears stage, amount, currency, close_date and owner_id (account_id, name and status may not be null). Use reassign to change the owner with a handoff on the timeline.",
			Body:    crm.DealInput{}, Resp: errResps(map[int]any{200: crm.Deal{}}, 400, 404, 413, 422)},
		"DELETE /v1/deals/{id}": {Tag: "deals",
			Summary: "Delete a deal; its activities stay on the account's timeline, unlinked from the deal.",
			Resp:    errResps(map[int]any{204: noBody{}}, 404, 422)},
		"POST /v1/deals/{id}/reassign": {Tag: "deals",
			Summary: "Change a deal's owner and log a handoff activity on its account, atomically. owner_id must be a user of the org other than the current owner (422 otherwise). " + handoffNoteDoc,
			Body:    crm.ReassignInput{}, Required: []string{"owner_id"},
			Resp: errResps(map[int]any{200: dealReassignment{}}, 400, 404, 413, 422)},
		"POST /v1/deals/reassign": {Tag: "deals",
			Summary: "Reassign several deals (deal_ids: 1 to 100, distinct) to one owner in one transaction, all or nothing: each as POST /v1/deals/{id}/reassign does, with its own handoff activity and note (the notes are composed before any deal changes, so one never shows another handoff of the batch). A deal ID that is not the org's deal, repeats an earlier one, or names a deal owner_id already owns is a 422 naming deal_ids[i] (every such index is named), and nothing changes. The answer's items follow deal_ids' order. " + handoffNoteDoc,
			Body:    crm.ReassignBatchInput{}, Required: []string{"owner_id", "deal_ids"},
			Resp: errResps(map[int]any{200: dealReassignments{}}, 400, 413, 422)},

		// activities
		"POST /v1/activities": {Tag: "activities",
			Summary: "Log one activity, or a batch as {\"activities\":[...]} (1 to 1000, all or nothing; a bad item is a 422 naming " +
				"activities[i].field for every bad item). The account is account_id, else the one account of contact_ids, else " +
				"the account of the most participants matched to contacts by email, or (when no email is a contact's) to account " +
				"domains; unresolvable or tied is 422. Linked are the contacts named in contact_ids and those matching a " +
				"participant's email, limited to that account. Source defaults to api. With an external_id the post is idempotent " +
				"per (source, external_id): the same content again returns the stored activity unchanged (200), other content " +
				"updates it (200), a new pair creates it (201). A single activity answers with the activity; a batch with one " +
				"result per item in input order, 201 when any item was created, else 200.",
			Body: activityPostBody{},
			Resp: errResps(map[int]any{200: activityPostResponse{}, 201: activityPostResponse{}}, 400, 413, 422)},
		"GET /v1/activities": {Tag: "activities",
			Summary: "The org's activity feed, for incremental sync (a warehouse, another CRM): every activity and the tombstone " +
				"of every deleted one, in change order (keyset on the transaction that last changed each; a change moves the " +
				"activity to the end). An activity changes when any of its fields, its contact links or a meeting's notes " +
				"(summary, action items and their status, follow-up draft) change. Items are {id, deleted, account_id, type, " +
				"deleted_at, activity}: activity is the activity as GET /v1/activities/{id} shows it (notes included), null on a " +
				"tombstone (deleted true, deleted_at set). Replay by upserting by id and deleting on tombstones. A page serves only " +
				"changes whose transactions have all ended, so nothing can ever land behind a cursor: no gaps, and nothing " +
				"unchanged is served twice. next_cursor reads the next page and is null when you are caught up; sync_cursor is " +
				"always set: keep it and pass it as cursor next time to get only what changed since. A cursor carries the filter " +
				"it was made with: types and updated_since may be left out with it, or repeated; other values are 422 on cursor. " +
				"With Accept: text/csv or application/x-ndjson the page streams (limit up to 100000, default 10000) and the " +
				"cursors come in the Logbook-Next-Cursor and Logbook-Sync-Cursor headers (every representation has them), with " +
				"Logbook-Item-Count, the number of items the body holds (a broken transfer is cut short, never ended cleanly).",
			Query: []param{
				{Name: "updated_since", Type: "string", Format: "date-time",
					Description: "only activities changed (their fields, contacts or notes) at or after this time, and tombstones of deletions at or after it; RFC 3339"},
				{Name: "types", Type: "string", Description: types("call,meeting") + "; tombstones too are filtered by the deleted activity's type"},
				{Name: "limit", Type: "integer", Description: "page size: JSON 1 to 200 (default 50); CSV and NDJSON 1 to 100000 (default 10000)"},
				{Name: "cursor", Type: "string", Description: "next_cursor of the previous page, or sync_cursor of the last sync"},
			},
			Resp: errResps(map[int]any{200: withHeaders{Body: feedResponse{}, Headers: []param{
				{Name: feedNextHeader, Type: "string", Description: "next_cursor; absent when caught up"},
				{Name: feedSyncHeader, Type: "string", Required: true, Description: "sync_cursor: where to resume next time"},
				{Name: feedCountHeader, Type: "integer", Required: true, Description: "how many items the page holds"},
			}}}, 406, 422)},
		"GET /v1/activities/{id}": {Tag: "activities", Summary: "Get an activity. A meeting carries consents: its participants' recorded recording consents (empty when none is recorded).",
			Resp: errResps(map[int]any{200: crm.Activity{}}, 404, 422)},
		"PATCH /v1/activities/{id}": {Tag: "activities", Body: crm.ActivityInput{},
			Summary: "Update an activity: absent fields stay, null clears. The org's disposition rules apply to the result. " +
				"When contact_ids, participants or account_id is given, the links are recomputed: contact_ids (or the current " +
				"links) plus contacts matching a participant's email, limited to the activity's account. A source and " +
				"external_id pair another activity has is 409.",
			Resp: errResps(map[int]any{200: crm.Activity{}}, 400, 404, 409, 413, 422)},
		"DELETE /v1/activities/{id}": {Tag: "activities", Summary: "Delete an activity.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
		"GET /v1/accounts/{id}/timeline": {Tag: "activities",
			Summary: "An account's activities, newest first by occurred_at (ties by id), keyset-paginated. " +
				"An account that is not the org's is 404, even when nothing would match.",
			Query: paged(
				param{Name: "types", Type: "string", Description: types("call,email")},
				param{Name: "since", Type: "string", Format: "date-time", Description: "occurred at or after (inclusive), RFC 3339"},
				param{Name: "until", Type: "string", Format: "date-time", Description: "occurred before (exclusive), RFC 3339"},
				param{Name: "contact_id", Type: "string", Format: "uuid", Description: "linked to this contact"},
				param{Name: "deal_id", Type: "string", Format: "uuid"},
				param{Name: "owner_id", Type: "string", Format: "uuid"}),
			Resp: errResps(map[int]any{200: crm.Page[crm.Activity]{}}, 404, 422)},

		// transcripts and meeting notes
		"POST /v1/transcripts": {Tag: "transcripts",
			Summary: "Post a meeting transcript. It is stored durably before the 202; workers turn it into cited notes. " +
				"Re-posting the same source+external_id with the same content changes nothing (200); new content reprocesses (202). " +
				"Each participant may carry consent (given, declined, unknown), recorded on the meeting; when the consents or the " +
				"org's require_consent hold the transcript, it is stored with status held (202) and not processed " +
				"(see PUT /v1/activities/{id}/consents). " +
				transcriptLimitsDoc,
			Body: activity.TranscriptInput{}, Required: []string{"source", "started_at"},
			Resp: errResps(map[int]any{202: transcriptAccepted{}, 200: transcriptAccepted{}}, 400, 413, 422, 503)},
		"GET /v1/transcripts/{id}": {Tag: "transcripts",
			Summary: "A transcript's processing status; ?include=segments adds the parsed segments. A failed transcript says " +
				"why in error; a done one whose follow-up draft failed says why in follow_up_error (its notes are kept); " +
				"purged_at is set once the org's retention setting removed its content. A transcript held for recording " +
				"consent is held with held_reason; consents lists its meeting's recorded consents and consent_decision an " +
				"admin's release or discard.",
			Query: []param{{Name: "include", Type: "string", Enum: []string{"segments"}}},
			Resp:  errResps(map[int]any{200: crm.Transcript{}}, 404, 422)},
		"POST /v1/hooks/transcripts": {Tag: "transcripts",
			Summary: "The same as POST /v1/transcripts for note-takers that sign instead of holding a key: the Logbook-Org header " +
				"names the org and Logbook-Signature (t=<unix>,v1=<hex HMAC-SHA256(ingest secret, t.body)>) authorises it. " +
				"A bad or stale (over 5 minutes) signature is 401; the org, the signature header's form and time and the org's secret " +
				"are checked before the body is read, and the body is decoded only once the signature matches. " +
				"A signature already accepted within its 5 minutes is 401 too (a replayed delivery, nothing stored): sign every delivery " +
				"afresh; external_id is what makes a re-sent meeting the same meeting. " + transcriptLimitsDoc,
			Headers: []param{
				{Name: "Logbook-Org", Type: "string", Format: "uuid", Required: true, Description: "the ID of the org whose ingest secret signed the body"},
				{Name: crm.SignatureHeader, Type: "string", Required: true,
					Description: "t=<unix seconds>,v1=<hex HMAC-SHA256(ingest secret, t + \".\" + raw body)>; several v1 values may be given (any may match)"},
			},
			Body: activity.TranscriptInput{}, Required: []string{"source", "started_at"},
			Resp: map[int]any{202: transcriptAccepted{}, 200: transcriptAccepted{}, 400: Problem{}, 401: Problem{}, 409: Problem{},
				413: Problem{}, 422: Problem{}, 503: Problem{}}},
		"GET /v1/action-items": {Tag: "meeting-notes",
			Summary: "Who owes whom: action items across meetings, grouped by person. Order: by owner (names compared lower-cased and trimmed, in byte order; " +
				"items without an owner last), then overdue first (open and due before today, UTC), then due date (undated last), then newest meeting first, " +
				"then id; keyset-paginated over that order. Each item has side (whose commitment it is, by the account brief's rule on the owner's name: " +
				"no owner is unknown; a user of the org (name or email) is ours; a contact of the item's account is theirs; else the meeting participant of that " +
				"name is theirs when their email's domain is one of the account's domains, ours when their email is a user's or shares its domain; else unknown), " +
				"overdue and meeting {id, occurred_at, subject}. groups sums up the whole filtered set (every page carries the same): one per person and side, " +
				"in the items' order of persons then by side, with total, open and overdue counts; the totals add up to the number of items the filters match.",
			Query: paged(
				param{Name: "account_id", Type: "string", Format: "uuid"},
				param{Name: "owner", Type: "string", Description: "owner name, case-insensitive"},
				param{Name: "status", Type: "string", Enum: []string{"open", "done"}},
				param{Name: "due_before", Type: "string", Format: "date", Description: "only items due before this date (exclusive); undated items are left out"},
				param{Name: "side", Type: "string", Enum: []string{"ours", "theirs", "unknown"}, Description: "only items of this side"}),
			Resp: errResps(map[int]any{200: store.ActionItemPage{}}, 422)},
		"PATCH /v1/action-items/{id}": {Tag: "meeting-notes", Summary: "Mark an action item open or done.",
			Body: actionItemPatch{}, Required: []string{"status"},
			Resp: errResps(map[int]any{200: crm.ActionItem{}}, 400, 404, 413, 422)},
		"POST /v1/activities/{id}/follow-up": {Tag: "meeting-notes",
			Summary: "Draft the meeting's follow-up email again from its notes (clears the transcript's follow_up_error). " +
				"409 when the meeting has no processed notes yet.",
			Resp: errResps(map[int]any{200: crm.FollowUp{}}, 404, 409, 422, 503)},
		"POST /v1/activities/{id}/notes/confirm": {Tag: "meeting-notes",
			Summary: "Confirm notes items flagged for review. An item that carries payment instructions (bank accounts, IBANs, wires, changed bank details, cards, crypto, gift cards), credentials (passwords, codes, keys, \"log in with\") or a link outside the account's and the org's domains has needs_review true and a review_reason (\"code: reason; …\", codes payment_instructions, credentials, external_link); it is shown in the notes but held out of the follow-up draft and the meeting.processed webhook until confirmed here. Each item is named by its list (kind: summary_sentences, key_points, decisions, risks or action_items) and index, or an action item by id, with the item's text as read (optional: a text that no longer matches, because the notes were written again, is 422); every one must need review (422 otherwise, and nothing changes). Confirmed items get confirmed_by (the calling key's ID) and confirmed_at (a second confirmation keeps the first); the summary is rebuilt, meeting.processed is sent again with the released items, and the answer is the meeting's notes. Draft the follow-up again (POST /v1/activities/{id}/follow-up) to include them. 409 when the meeting has no processed notes yet.",
			Body:    crm.NotesConfirmInput{}, Required: []string{"items"},
			Resp: errResps(map[int]any{200: crm.Notes{}}, 400, 404, 409, 413, 422)},

		// consent as data (consents.go)
		"PUT /v1/activities/{id}/consents": {Tag: "consent",
			Summary: "Record a meeting's participants' recording consent, replacing what was recorded before (an empty list clears it). " +
				"Each entry names a participant by email (lower-cased; it identifies them) or else by name, with consent given, declined " +
				"or unknown. A posted transcript may carry the same per participant (participants[].consent), which records those " +
				"participants' consents and leaves the others'. The consent gate then runs on the meeting's transcript: when any " +
				"participant declined, or the org's require_consent is on and a participant's consent is not given (or none is " +
				"recorded), a queued transcript is held (status held, held_reason says why) and never processed until the consents " +
				"allow it or an admin releases it; a held one whose consents now allow it is queued and processed. A transcript " +
				"already done or failed is left as it is. Meetings only: another activity type is 422.",
			Body: crm.ConsentsInput{}, Required: []string{"consents"},
			Resp: errResps(map[int]any{200: consentsAnswer{}}, 400, 404, 413, 422)},
		"GET /v1/transcripts/held": {Tag: "consent",
			Summary: "The org's transcripts held for recording consent, newest received first: each with its meeting's title, " +
				"account, participant count and why it is held. Release or discard each with the routes below.",
			Query: paged(),
			Resp:  errResps(map[int]any{200: crm.Page[store.HeldTranscript]{}}, 422)},
		"POST /v1/transcripts/{id}/release": {Tag: "consent",
			Summary: "An admin's decision to process a transcript held for consent anyway: it is queued and processed, and " +
				"consent_decision records released, by (the calling key's ID) and at. Consents changed later do not hold that " +
				"content again; new content for the meeting goes through the gate afresh. A transcript that is not held is 409.",
			Resp: errResps(map[int]any{200: crm.Transcript{}}, 404, 409, 422)},
		"POST /v1/transcripts/{id}/discard": {Tag: "consent",
			Summary: "An admin's decision to discard a transcript held for consent: as the retention purge does, its raw content, " +
				"segments and search passages are deleted (purged_at set), with any notes, action items and follow-up draft an " +
				"earlier revision left; the meeting activity stays. The transcript is failed with an error saying the recording " +
				"was discarded for lack of consent, and consent_decision records discarded, by and at. Posting the recording " +
				"again stores it anew, through the gate. A transcript that is not held is 409.",
			Resp: errResps(map[int]any{200: crm.Transcript{}}, 404, 409, 422)},

		// questions
		"POST /v1/accounts/{id}/ask": {Tag: "questions",
			Summary: "Ask a question about one account's history. Only that account's records are searched (hybrid: meaning and words); the answer cites the records it rests on, each citation checked against the sources the model was given: a citation's quote is the record's own words from one line (a transcript segment, or an email's or note's text), never the speaker's label (speaker is its own field), n is the [n] of the answer it backs (every [n] in the answer names one), and start_ms/end_ms are the quoted segment's span (null for records that are not transcripts). When nothing relevant is on record, the answer says so and grounded is false. " + sse,
			Body:    crm.AskInput{}, Required: []string{"question"},
			Resp: errResps(map[int]any{200: askResponse{}}, 400, 404, 413, 422, 503)},
		"POST /v1/ask": {Tag: "questions",
			Summary: "Ask a question over the whole org's history; citations add account_id. " + sse,
			Body:    crm.AskInput{}, Required: []string{"question"},
			Resp: errResps(map[int]any{200: askResponse{}}, 400, 413, 422, 503)},
		"GET /v1/accounts/{id}/search": {Tag: "questions", Query: search,
			Summary: "Search one account's history for passages: only that account's records are searched. " + passages,
			Resp:    errResps(map[int]any{200: itemsOf[Passage]{}}, 404, 422, 503)},
		"GET /v1/search": {Tag: "questions", Query: search,
			Summary: "Search the whole org's history for passages (account_id names each passage's account). " + passages,
			Resp:    errResps(map[int]any{200: itemsOf[Passage]{}}, 422, 503)},

		// webhooks
		"POST /v1/webhooks": {Tag: "webhooks",
			Summary: "Create a webhook: url (absolute http or https with a host, no user info, at most 2000 bytes) receives " +
				"the events listed (any of " + strings.Join(store.WebhookEvents, ", ") + "; duplicates are dropped) as POSTs signed with " +
				crm.SignatureHeader + signed + ", retried with backoff for over a day. " +
				"The host must be public: a name that resolves to (or an address that is) loopback, private, link-local " +
				"or otherwise internal is refused (422) unless the operator allows it, and every delivery checks the " +
				"address again when it connects; redirects are not followed. An org has at most 25 webhooks by default " +
				"(409 past the limit). Deliveries are at least once: the Logbook-Delivery header names each, for the " +
				"receiver to drop one it already has. " +
				"secret (at least 16 characters) is never shown again; leave it out to have a random one generated and " +
				"returned in this response only.",
			Body: crm.WebhookInput{}, Required: []string{"url", "events"},
			Resp: errResps(map[int]any{201: crm.Webhook{}}, 400, 409, 413, 422)},
		"GET /v1/webhooks": {Tag: "webhooks", Summary: "List the org's webhooks, newest first (without secrets).",
			Resp: errResps(map[int]any{200: itemsOf[crm.Webhook]{}})},
		"GET /v1/webhooks/{id}": {Tag: "webhooks", Summary: "Get a webhook (without its secret).",
			Resp: errResps(map[int]any{200: crm.Webhook{}}, 404, 422)},
		"DELETE /v1/webhooks/{id}": {Tag: "webhooks",
			Summary: "Delete a webhook with its delivery log; deliveries not yet sent are dropped.",
			Resp:    errResps(map[int]any{204: noBody{}}, 404, 422)},
		"GET /v1/webhooks/{id}/deliveries": {Tag: "webhooks",
			Summary: "A webhook's delivery log, newest first, keyset-paginated: each event sent or to be sent, with its " +
				"status (pending until delivered, or failed when retries ran out or the endpoint answered 410), attempts " +
				"and the last attempt's HTTP status and error.",
			Query: paged(param{Name: "status", Type: "string", Enum: strs(crm.WebhookDeliveryStatuses)}),
			Resp:  errResps(map[int]any{200: crm.Page[crm.WebhookDelivery]{}}, 404, 422)},
		"POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver": {Tag: "webhooks",
			Summary: "Send a delivery again, whatever its status: it becomes pending and is queued now (one still " +
				"waiting for a retry is sent at once), with its retries starting over. It keeps its ID, sent as the " +
				"Logbook-Delivery header, and its payload, so a receiver that already has it can tell: deliveries are " +
				"at least once. Answers the delivery.",
			Resp: errResps(map[int]any{202: crm.WebhookDelivery{}}, 404, 422)},

		// connectors (issue #14)
		"GET /v1/connectors": {Tag: "connectors",
			Summary: "List the org's connectors, oldest first, each with its health: status (ok: the last sync succeeded; " +
				"failing: failing for less than an hour; unhealthy: failing for over an hour; pending: never synced; disabled), " +
				"last_success_at, last_error (readable, never a secret) and last_error_at, failing_since, items_captured (new " +
				"items only: a re-fetched item does not count), newest_item_at, lag_seconds (since the last success) and, for a " +
				"pulled connector (imap, ics, caldav), next_run_at. Secrets are never shown: secrets_set names which are " +
				"stored. Admin scope, reads included: configs name mail servers, mailbox users and people never to log.",
			Resp: errResps(map[int]any{200: itemsOf[crm.Connector]{}})},
		"POST /v1/connectors": {Tag: "connectors",
			Summary: "Create a connector: kind (imap, ics, caldav, recall, zoom; only the kinds this server runs), name, " +
				"user_id (the owner of what it captures: a mailbox's owner), config (the kind's settings, checked and " +
				"normalised with defaults by the kind), secrets (write-only: a password, a feed URL, API keys; sealed with " +
				"LOGBOOK_SECRET_KEY, never returned or logged), enabled (default true) and interval_seconds (30 to 86400, " +
				"default 300; how often a pulled connector syncs). A pulled connector syncs at once. A server without " +
				"LOGBOOK_SECRET_KEY refuses secrets (422 on secrets). Config of each kind: imap {host, port, security: tls|" +
				"starttls, username, mailboxes, since, log: all|replies, never_log, ca_cert} with secrets {password}; ics " +
				"{since, horizon_days} with {url}; caldav {url, username, calendars, since, horizon_days, ca_cert} with " +
				"{password}; recall {base_url} with {api_key, webhook_secret}; zoom {base_url} with {webhook_secret_token}. " +
				"Recall.ai and Zoom post to POST /v1/hooks/recall/{org_id}/{connector_id} and /v1/hooks/zoom/{org_id}/{connector_id}.",
			Body: crm.ConnectorInput{}, Required: []string{"kind", "name"},
			Resp: errResps(map[int]any{201: withHeaders{Body: crm.Connector{}, Headers: []param{{Name: "Location", Type: "string",
				Required: true, Description: "/v1/connectors/{id} of the new connector"}}}}, 400, 413, 422)},
		"GET /v1/connectors/{id}": {Tag: "connectors", Summary: "Get a connector with its health (never its secrets).",
			Resp: errResps(map[int]any{200: crm.Connector{}}, 404, 422)},
		"PATCH /v1/connectors/{id}": {Tag: "connectors",
			Summary: "Change a connector; absent fields are kept. kind cannot change (create another connector). config, when " +
				"given, is the whole config, checked again by the kind; a changed config starts the sync over from the " +
				"config's since (nothing captured twice). secrets, when given, replace every stored secret of the connector " +
				"(send them all); absent, the stored ones are kept. user_id null clears the owner. Enabling a pulled " +
				"connector makes it sync at once.",
			Body: crm.ConnectorInput{}, Resp: errResps(map[int]any{200: crm.Connector{}}, 400, 404, 413, 422)},
		"DELETE /v1/connectors/{id}": {Tag: "connectors",
			Summary: "Delete a connector with its sealed secrets and sync state. What it captured stays.",
			Resp:    errResps(map[int]any{204: noBody{}}, 404, 422)},
		"POST /v1/connectors/{id}/resync": {Tag: "connectors",
			Summary: "Backfill a pulled connector's items (emails, events) between from (inclusive) and to (exclusive; " +
				"default now), whatever its watermark: items already captured are not captured again, so a resync " +
				"duplicates nothing. from and to are RFC 3339 times or dates (from a date is its day's start, to a date " +
				"includes that day, UTC); from must not be in the future, to must be after from and not after today, and " +
				"the range at most 366 days. The backfill runs as a task (asking twice for the same range runs it once); " +
				"202 answers the connector. A push connector (recall, zoom) has nothing to resync: 422 on kind. A disabled " +
				"connector: 409 on enabled. The task queue cannot take it now: 503 with Retry-After.",
			Body: connectorResync{}, Required: []string{"from"},
			Resp: errResps(map[int]any{202: crm.Connector{}}, 400, 404, 409, 413, 422)},

		// sales operations: next steps, stalled deals, the weekly digest
		"GET /v1/next-steps": {Tag: "sales-operations",
			Summary: "Next steps that are due or overdue and not done: activities' next_step with a due_date before due_before " +
				"(default tomorrow in UTC: due today or earlier), oldest due first, then by the activity's occurred_at and id, " +
				"keyset-paginated. A next step without a due date is never listed here (it is never due). overdue is true when " +
				"the due date is before today (UTC), and days_overdue says by how many days (0 otherwise). A next step marked done " +
				"(POST /v1/activities/{id}/next-step/done) is not listed until a different next step is written on its activity. " +
				"An owner_id or account_id that is not the org's lists nothing.",
			Query: paged(
				param{Name: "owner_id", Type: "string", Format: "uuid", Description: "only next steps of activities this user owns"},
				param{Name: "account_id", Type: "string", Format: "uuid", Description: "only next steps of this account's activities"},
				param{Name: "due_before", Type: "string", Format: "date", Description: "due before this date (exclusive), YYYY-MM-DD; default tomorrow (UTC)"}),
			Resp: errResps(map[int]any{200: crm.Page[store.NextStepItem]{}}, 422)},
		"POST /v1/activities/{id}/next-step/done": {Tag: "sales-operations",
			Summary: "Mark the activity's next step done: it leaves GET /v1/next-steps and the digest, and next_step.done_at says when. " +
				"The body is {} (done now) or {\"done_at\": RFC 3339, not in the future}. " +
				"Idempotent: a next step already marked keeps its first done_at. Writing a different next step (text or due date, " +
				"by PATCH or by re-posting the source and external_id) opens it again. An activity without a next step is 422 " +
				"naming next_step. Answers the activity.",
			Body: nextStepDone{},
			Resp: errResps(map[int]any{200: crm.Activity{}}, 400, 404, 413, 422)},
		"DELETE /v1/activities/{id}/next-step/done": {Tag: "sales-operations",
			Summary: "Open the activity's next step again (done_at null); a no-op when it is open. An activity without a next step " +
				"is 422 naming next_step. Answers the activity.",
			Resp: errResps(map[int]any{200: crm.Activity{}}, 404, 422)},
		"GET /v1/deals/stalled": {Tag: "sales-operations",
			Summary: "Open deals with no activity for `days` days (default the org's settings.stalled_after_days; the answer's days " +
				"says which was used): no activity on the deal, on its account, or linked to a contact of its account (whichever " +
				"account that activity is on) that occurred after now − days. Activities of type handoff do not count: a " +
				"reassignment is not contact with the customer. A deal with no counting activity at all is stalled when it was " +
				"created at or before now − days. last_activity is the newest counting activity (null when there is none) and " +
				"days_inactive the whole days since it (or since the deal was created). Largest amount first (amounts are " +
				"compared as numbers whatever their currency; deals without an amount last), then the longest inactive, then id; " +
				"keyset-paginated. Won and lost deals are never listed.",
			Query: paged(
				param{Name: "days", Type: "integer", Description: "days without activity, 1 to 3650 (default settings.stalled_after_days)"},
				param{Name: "owner_id", Type: "string", Format: "uuid", Description: "only deals this user owns"}),
			Resp: errResps(map[int]any{200: store.StalledPage{}}, 422)},
		"GET /v1/digest": {Tag: "sales-operations",
			Summary: "The weekly digest: per account, what happened in [since, until), what is due and what is stalled, each " +
				"line a statement citing its activities (no model is called). Accounts are listed by name, then id, " +
				"keyset-paginated (limit counts accounts); an account with nothing in any section is not listed. With owner_id, " +
				"the accounts that user owns, or where they own an open deal, or where they own an activity in the range, each " +
				"with everything on the account (not only that user's); without, every account with something to say. " +
				"happened: a count of the range's activities by type (citing the newest 50), then up to 5 notable ones — " +
				"meetings with the first sentence of their notes' summary, connected calls (a disposition that counts as a " +
				"connect), emails — each citing itself. due: open next steps and open action items due before due_before " +
				"(until + 7 days, or today when later, so everything overdue is included), soonest first, 5 of them and " +
				"\"…and N more\" citing the rest (up to 50); next steps without a due date are not listed. stalled: the " +
				"account's stalled deals as GET /v1/deals/stalled finds them with the org's stalled_after_days, largest first, " +
				"5 of them and \"…and N more\", each citing its last counting activity (a deal with no activity at all cites " +
				"none). since defaults to until − 7 days, until to now; since must be before until, at most 92 days apart.",
			Query: paged(
				param{Name: "owner_id", Type: "string", Format: "uuid", Description: "only the accounts this user owns or works on (see above)"},
				param{Name: "since", Type: "string", Format: "date-time", Description: "from (inclusive), RFC 3339; default until − 7 days"},
				param{Name: "until", Type: "string", Format: "date-time", Description: "to (exclusive), RFC 3339, before 9999-12-24; default now"}),
			Resp: errResps(map[int]any{200: brief.Digest{}}, 422)},
		// reports
		"GET /v1/reports/connect-rates": {Tag: "reports",
			Summary: "Connect rates over a time range, grouped. Dials are the org's activities with direction outbound and type " +
				"call or voicemail (a voicemail a dialer left is a dial) that occurred in [since, until). A dial is connected " +
				"when the org flags its disposition code as a connect (GET /v1/settings disposition_codes; the flag as it is now, " +
				"retired codes included). A dial without a disposition, or with a code the org has no entry for, is never " +
				"connected and is counted in no_disposition. Every dial is in exactly one row, so the rows add up to total: " +
				"dials without a segment, owner or list are the row whose key is null (label \"(no segment)\", \"(no owner)\", " +
				"\"(no list)\"); by disposition, dials without one (or with an unknown code) are the null row, " +
				"\"(no disposition)\". segment is the account's segment (empty read as none), owner the activity's owner_id " +
				"(label: the user's name), list the activity's list (metadata.list trimmed, at most 200 characters), disposition " +
				"the code (label: the code's label). connect_rate is connected / dials rounded to 4 decimals, null without dials. " +
				"Rows are ordered by dials, most first, then label (byte order), the null row last among equals. " + reportRangeDoc +
				" With Accept: text/csv the rows are CSV (no total row).",
			Query: reportParams(store.ConnectRateGroups, false),
			Resp:  errResps(map[int]any{200: jsonOrCSV{Body: ConnectRateReport{}, Columns: connectRateColumns}}, 406, 422)},
		"GET /v1/reports/activity-volume": {Tag: "reports",
			Summary: "How many activities occurred in [since, until), grouped by owner (the activity's owner_id; null is " +
				"\"(no owner)\"), type, or week. By owner or type only groups with activities are rows, ordered by count, most " +
				"first, then label, the null row last among equals. By week every week that overlaps the range is a row, zeros " +
				"included, oldest first (a continuous axis): weeks run Monday 00:00 to Monday 00:00 on the clock in tz (across a " +
				"daylight saving change too), key is the Monday (YYYY-MM-DD) and label the ISO week (2026-W10). The rows add up " +
				"to total. " + reportRangeDoc + " With Accept: text/csv the rows are CSV (no total row).",
			Query: reportParams(store.VolumeGroups, true),
			Resp:  errResps(map[int]any{200: jsonOrCSV{Body: ActivityVolumeReport{}, Columns: volumeColumns}}, 406, 422)},

		// dialer hooks (hooks_dialer.go, dialer_calls.go)
		"POST /v1/hooks/twilio/{org_id}": {Tag: "dialers",
			Summary: "Twilio's voice status callbacks (the call's StatusCallback, form-encoded), authenticated by X-Twilio-Signature: " +
				"HMAC-SHA1 with the org's twilio_auth_token setting over the URL Twilio requested followed by every POST parameter's name and value " +
				"in sorted name order, base64. The URL checked is PUBLIC_URL + this request's path and query when the server has PUBLIC_URL, else " +
				"the scheme and host the request arrived with (X-Forwarded-Proto and X-Forwarded-Host when a proxy sets them), with and without " +
				"the default port. " + dialerHookDoc,
			Query: dialerHookQuery, Headers: []param{{Name: "X-Twilio-Signature", Type: "string", Description: "Twilio's signature of the request"}},
			Body: twilioFormBody{}, Resp: dialerHookResps()},
		"POST /v1/hooks/aircall/{org_id}": {Tag: "dialers",
			Summary: "Aircall's webhook events (JSON {resource, event, timestamp, token, data}), authenticated by the token every event carries, " +
				"compared in constant time with the org's aircall_token setting. Call events (call.created, call.answered, call.hungup, call.ended, " +
				"call.voicemail_left, and later ones such as call.tagged) move the call's activity forward; events of other resources answer 200 ignored. " +
				dialerHookDoc,
			Query: dialerHookQuery, Body: aircallEventBody{}, Resp: dialerHookResps()},
		// note-takers' pings (hooks_notetaker.go)
		"POST /v1/hooks/recall/{org_id}/{connector_id}": {Tag: "transcripts",
			Summary: "Recall.ai's webhook for a recall connector (register this URL as an endpoint in Recall's webhooks dashboard, " +
				"with the transcript.done event). Signed by Standard Webhooks: webhook-id, webhook-timestamp (Unix seconds, within 5 minutes) " +
				"and webhook-signature (space-separated v1,<base64 HMAC-SHA256(key, id.timestamp.body)>, the key being the connector's " +
				"webhook_secret whsec_… decoded). transcript.done queues the pull (notetaker:fetch): the worker fetches the transcript with " +
				"the connector's api_key from its base_url, then its download, and logs it as a meeting (source notetaker, external_id " +
				"recall:<recording id>, participants' emails resolving the account), processed like any transcript. " + notetakerHookDoc,
			Headers: []param{
				{Name: "webhook-id", Type: "string", Required: true, Description: "the message's ID, the same on every retry of it"},
				{Name: "webhook-timestamp", Type: "string", Required: true, Description: "Unix seconds when it was signed"},
				{Name: "webhook-signature", Type: "string", Required: true, Description: "one or more space-separated v1,<base64> signatures"},
			},
			Body: recallEventDoc{},
			Resp: map[int]any{202: hookAck{}, 200: hookAck{}, 400: Problem{}, 401: Problem{}, 404: Problem{}, 413: Problem{}, 503: Problem{}}},
		"POST /v1/hooks/zoom/{org_id}/{connector_id}": {Tag: "transcripts",
			Summary: "Zoom's webhook for a zoom connector (the Event notification endpoint URL of a Zoom app subscribed to " +
				"recording.transcript_completed). Signed with the app's Secret Token (the connector's webhook_secret_token): " +
				"x-zm-signature is v0=<hex HMAC-SHA256(token, \"v0:\" + x-zm-request-timestamp + \":\" + body)>, the timestamp within 5 minutes. " +
				"endpoint.url_validation (signed too) is answered 200 {plainToken, encryptedToken: hex HMAC-SHA256(token, plainToken)}. " +
				"recording.transcript_completed queues, for each TRANSCRIPT (VTT) file, its download with the event's download_token as a " +
				"Bearer token from under the connector's base_url (default https://zoom.us and its subdomains); the meeting is logged with " +
				"source notetaker, external_id zoom:<meeting uuid>, the topic as subject and the host's email as a participant (Zoom's event " +
				"names no other attendees' emails). " + notetakerHookDoc,
			Headers: []param{
				{Name: "x-zm-request-timestamp", Type: "string", Required: true, Description: "Unix seconds when it was signed"},
				{Name: "x-zm-signature", Type: "string", Required: true, Description: "v0=<hex HMAC-SHA256>"},
			},
			Body: zoomEventDoc{},
			Resp: map[int]any{202: hookAck{}, 200: zoomHookAnswer{}, 400: Problem{}, 401: Problem{}, 404: Problem{}, 413: Problem{}, 503: Problem{}}},
	}
}

// dialerHookDoc is what both dialer hooks do with a call.
const dialerHookDoc = "An unknown org, an org without the secret and a bad signature or token all answer 401 alike; an unreadable body is 400. " +
	"Each call is one activity (source dialer, external_id \"<vendor>:<call id>\"): type call, or voicemail when the callee's machine took a " +
	"message (Twilio AnsweredBy machine_* on a completed call) or the caller left one (Aircall); direction, duration_seconds, occurred_at = " +
	"the call's start, a disposition mapped from the outcome to the org's own codes (a person answered: connected, else the org's only " +
	"connect code; a machine: voicemail; no-answer, busy, failed, canceled: the code of that name; none when the org has no such code. An " +
	"org that requires a disposition gets, for an outbound call that ended without one, its first code counted like the outcome, with " +
	"metadata.disposition_fallback; a ringing call is then deferred, recorded when it ends), and metadata {vendor, status, status_rank, " +
	"answered_by, from, to, recording_url (a link only), list, …}. The account comes from the query's account_id or contact_id, else from the " +
	"contacts whose phone matches the other party's number (the last 9 digits); a call with no account is answered 200 unresolved and recorded " +
	"nowhere (logged and counted in logbook_dialer_callbacks_total), so the dialer does not retry it. A retried callback, or one older than the " +
	"status recorded (ringing after completed), changes nothing (unchanged); a later status updates the same activity (updated). A query " +
	"parameter that is malformed is 400; an account, contact or deal that does not exist is 422."

// dialerHookQuery are the parameters a dialer's configuration can add to
// a hook's URL.
var dialerHookQuery = []param{
	{Name: "account_id", Type: "string", Format: "uuid", Description: "the account every call of this URL is logged on"},
	{Name: "contact_id", Type: "string", Format: "uuid", Description: "the contact the calls are with (and so their account)"},
	{Name: "deal_id", Type: "string", Format: "uuid", Description: "the deal the calls are about"},
	{Name: "owner_email", Type: "string", Description: "the rep (a user's email) who owns the calls; Aircall's user.email otherwise"},
	{Name: "list", Type: "string", Description: "the call list (metadata.list, which the connect-rate report groups by)"},
}

func dialerHookResps() map[int]any {
	return map[int]any{200: dialerHookResult{}, 400: Problem{}, 401: Problem{}, 413: Problem{}, 422: Problem{}, 503: Problem{}}
}

// twilioFormBody documents a Twilio status callback's form.
type twilioFormBody struct{}

func (twilioFormBody) ContentTypes(*openapi.Generator) map[string]any {
	return map[string]any{"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{
		"type": "object", "additionalProperties": map[string]any{"type": "string"},
		"description": "Twilio's status callback parameters, named as Twilio names them: CallSid (required), ParentCallSid, AccountSid, " +
			"From, To, Direction (inbound, outbound-api, outbound-dial), CallStatus (queued, initiated, ringing, in-progress, completed, " +
			"busy, failed, no-answer, canceled), CallDuration (seconds), AnsweredBy (human, machine_start, machine_end_beep, " +
			"machine_end_silence, machine_end_other, fax, unknown), RecordingUrl, RecordingSid, Timestamp (RFC 2822), SequenceNumber; " +
			"the others Twilio sends are signed like these and otherwise ignored.",
	}}}
}

// aircallEventBody documents an Aircall webhook event.
type aircallEventBody struct{}

func (aircallEventBody) ContentTypes(*openapi.Generator) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{
		"type": "object", "required": []string{"event", "token"},
		"properties": map[string]any{
			"resource":  map[string]any{"type": "string"},
			"event":     map[string]any{"type": "string"},
			"timestamp": map[string]any{"type": []string{"integer", "number", "string"}},
			"token":     map[string]any{"type": "string"},
			"data":      map[string]any{"type": "object", "additionalProperties": true, "description": "Aircall's call object for call events"},
		},
		"additionalProperties": true,
		"description":          "an Aircall webhook event; Aircall adds fields over time, which are accepted and ignored",
	}}}
}

// notetakerHookDoc is what both note-taker hooks say of their answers.
const notetakerHookDoc = "No API key: the connector's secret authorises the call. A connector that is unknown, another org's, of the other kind or " +
	"disabled is 404 (all alike, before the signature is looked at); a missing, stale or wrong signature is 401; a verified body not of the " +
	"vendor's documented shape is 400; over 1 MiB is 413. 202 {status: queued} when the pull is queued; 200 {status: duplicate} when the " +
	"same event was queued before (a vendor's retry or a replay: nothing is queued twice, for 72 hours after it ran); 200 {status: ignored} " +
	"for events Logbook does not use. 503 when the task queue or the connector's secrets cannot be reached now (the vendor sends it again). " +
	"The pull's outcome (items captured, or a readable error such as the vendor refusing the key) is on the connector's health."

// policyDoc is what the document says about the headers every
// authenticated route answers with (ratelimit.go) and Idempotency-Key
// (idempotency.go).
const policyDoc = " Rate limits: every request with an API key counts against a quota per key and one per org (and, on the ask routes, stricter ones), shared by all servers; " +
	"responses carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds until full again) of the quota closest to empty " +
	"(draft-ietf-httpapi-ratelimit-headers-06), and a request over a quota is 429 with Retry-After (seconds). " +
	"Idempotency: any POST with an API key may carry Idempotency-Key (1 to 255 printable ASCII characters, per API key, kept 24 hours; 400 otherwise): " +
	"the same key with the same method, path and body answers the first response again with Idempotent-Replayed: true; " +
	"with another request, 422; while the first still runs, 409 with Retry-After. 5xx answers are not kept (a retry runs again); " +
	"a response that carried a secret (a new API key, webhook or ingest secret) is not kept either, and a replay is 409 naming what the first request made. " +
	"Streamed answers (Accept: text/event-stream) refuse the header with 400."

// handoffNoteDoc is what the reassign routes say about the handoff note.
const handoffNoteDoc = "The handoff activity (type handoff, owned by the new owner, on the deal's account) also carries a handoff note for the new owner, " +
	"read inside the same transaction and composed from the same facts as the account brief, without a model: handoff_note " +
	"(also the activity's metadata.handoff; metadata keeps from_owner_id and to_owner_id) has a headline and four sections, always in this order and each possibly empty: " +
	"\"Open commitments\" (the account's open action items: side ours/theirs/unknown by the brief's rule, owner, due date, overdue; soonest due first; 8 shown), " +
	"\"Last week\" (the account's activities that occurred in the 7×24 hours up to the reassignment, newest first: date, type, subject or else the disposition's label, owner and contacts; 8 shown), " +
	"\"Next steps\" (the account's activities' next steps, soonest due first, undated last, overdue marked; 5 shown) and " +
	"\"Risks\" (the risks the brief's \"Risks raised\" picks: the newest processed meetings within 90 days; 3 shown). " +
	"Each statement cites the activities it rests on (activity_ids); a capped section ends with \"…and N more\" (its more) citing what it leaves out. " +
	"The activity's body is note (when not blank), a blank line, then the note as plain text: the headline, then each section's title and its statements, " +
	"one per line, each followed by \"[activity <id>]\" for every activity it cites (\"none.\" for an empty section). " +
	"The activity.created webhook deliveries are written in the same transaction and sent after commit."
