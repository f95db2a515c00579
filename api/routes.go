package api

import "logbook/internal/crm"

// route is one entry of the route table: what is served and who may call
// it. What /openapi.json says about it is in docs, under "Method Path".
type route struct {
	Method string
	Path   string
	// Scope is what the key must hold; "" makes the route public.
	Scope  crm.Scope
	Handle handlerFunc
	// Object names what the {id} in Path refers to ("account", "user"…), so
	// the tenancy test can plant one in another org. Empty when Path has no
	// object ID.
	Object string
}

// routes is the route table: every route Logbook serves, in one place.
func routes() []route {
	type h = handler
	const (
		public = crm.Scope("")
		admin  = crm.ScopeAdmin
		read   = crm.ScopeRead
		write  = crm.ScopeWrite
		ingest = crm.ScopeIngest
	)
	return []route{
		// method, path, scope, handler, object of {id}
		{"GET", "/healthz", public, (*h).healthz, ""},
		{"GET", "/readyz", public, (*h).readyz, ""},
		{"GET", "/metrics", public, (*h).serveMetrics, ""},
		{"GET", "/openapi.json", public, (*h).serveOpenAPI, ""},

		{"POST", "/v1/api-keys", admin, (*h).keyCreate, ""},
		{"GET", "/v1/api-keys", admin, (*h).keyList, ""},
		{"DELETE", "/v1/api-keys/{id}", admin, (*h).keyRevoke, "api_key"},

		{"GET", "/v1/settings", read, (*h).settingsGet, ""},
		{"PATCH", "/v1/settings", admin, (*h).settingsUpdate, ""},
		{"POST", "/v1/settings/ingest-secret", admin, (*h).ingestSecretRotate, ""},
		{"DELETE", "/v1/settings/ingest-secret", admin, (*h).ingestSecretDelete, ""},

		{"POST", "/v1/users", write, (*h).userCreate, ""},
		{"GET", "/v1/users", read, (*h).userList, ""},
		{"GET", "/v1/users/{id}", read, (*h).userGet, "user"},
		{"PATCH", "/v1/users/{id}", write, (*h).userUpdate, "user"},
		{"DELETE", "/v1/users/{id}", write, (*h).userDelete, "user"},
		{"POST", "/v1/users/{id}/invite", admin, (*h).userInvite, "user"},

		{"POST", "/v1/accounts", write, (*h).accountCreate, ""},
		{"GET", "/v1/accounts", read, (*h).accountList, ""},
		{"GET", "/v1/accounts/{id}", read, (*h).accountGet, "account"},
		{"PATCH", "/v1/accounts/{id}", write, (*h).accountUpdate, "account"},
		{"DELETE", "/v1/accounts/{id}", write, (*h).accountDelete, "account"},
		{"GET", "/v1/accounts/{id}/brief", read, (*h).accountBrief, "account"},

		{"POST", "/v1/contacts", write, (*h).contactCreate, ""},
		{"GET", "/v1/contacts", read, (*h).contactList, ""},
		{"GET", "/v1/contacts/{id}", read, (*h).contactGet, "contact"},
		{"PATCH", "/v1/contacts/{id}", write, (*h).contactUpdate, "contact"},
		{"DELETE", "/v1/contacts/{id}", write, (*h).contactDelete, "contact"},

		{"POST", "/v1/deals", write, (*h).dealCreate, ""},
		{"GET", "/v1/deals", read, (*h).dealList, ""},
		{"GET", "/v1/deals/{id}", read, (*h).dealGet, "deal"},
		{"PATCH", "/v1/deals/{id}", write, (*h).dealUpdate, "deal"},
		{"DELETE", "/v1/deals/{id}", write, (*h).dealDelete, "deal"},
		{"POST", "/v1/deals/{id}/reassign", write, (*h).dealReassign, "deal"},
		{"POST", "/v1/deals/reassign", write, (*h).dealReassignBatch, ""},

		{"POST", "/v1/activities", ingest, (*h).activityCreate, ""},
		{"GET", "/v1/activities", read, (*h).activityFeed, ""},
		{"GET", "/v1/activities/{id}", read, (*h).activityGet, "activity"},
		{"PATCH", "/v1/activities/{id}", write, (*h).activityUpdate, "activity"},
		{"DELETE", "/v1/activities/{id}", write, (*h).activityDelete, "activity"},
		{"GET", "/v1/accounts/{id}/timeline", read, (*h).accountTimeline, "account"},

		{"POST", "/v1/transcripts", ingest, (*h).transcriptCreate, ""},
		{"GET", "/v1/transcripts/{id}", read, (*h).transcriptGet, "transcript"},
		{"POST", "/v1/hooks/transcripts", public, (*h).transcriptHook, ""}, // signed with the org's ingest secret
		// dialers: signed with the org's Twilio auth token / carrying its Aircall token (hooks_dialer.go)
		{"POST", "/v1/hooks/twilio/{org_id}", public, (*h).twilioHook, ""},
		{"POST", "/v1/hooks/aircall/{org_id}", public, (*h).aircallHook, ""},
		{"GET", "/v1/action-items", read, (*h).actionItemList, ""},
		{"PATCH", "/v1/action-items/{id}", write, (*h).actionItemUpdate, "action_item"},
		{"POST", "/v1/activities/{id}/follow-up", write, (*h).followUpRegenerate, "activity"},
		{"POST", "/v1/activities/{id}/notes/confirm", write, (*h).notesConfirm, "activity"},
		// consent as data (consents.go)
		{"PUT", "/v1/activities/{id}/consents", write, (*h).consentsPut, "activity"},
		{"GET", "/v1/transcripts/held", admin, (*h).transcriptsHeld, ""},
		{"POST", "/v1/transcripts/{id}/release", admin, (*h).transcriptRelease, "transcript"},
		{"POST", "/v1/transcripts/{id}/discard", admin, (*h).transcriptDiscard, "transcript"},

		{"POST", "/v1/accounts/{id}/ask", read, (*h).accountAsk, "account"},
		{"POST", "/v1/ask", read, (*h).orgAsk, ""},
		{"GET", "/v1/accounts/{id}/search", read, (*h).accountSearch, "account"},
		{"GET", "/v1/search", read, (*h).orgSearch, ""},

		{"POST", "/v1/webhooks", admin, (*h).webhookCreate, ""},
		{"GET", "/v1/webhooks", admin, (*h).webhookList, ""},
		{"GET", "/v1/webhooks/{id}", admin, (*h).webhookGet, "webhook"},
		{"DELETE", "/v1/webhooks/{id}", admin, (*h).webhookDelete, "webhook"},
		{"GET", "/v1/webhooks/{id}/deliveries", admin, (*h).webhookDeliveries, "webhook"},
		{"POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", admin, (*h).webhookRedeliver, "webhook"},

		// connectors (issue #14): mailboxes, calendars, note-takers, with
		// their health (connectors.go); admin reads too: their configs
		// name mail servers and users
		{"GET", "/v1/connectors", admin, (*h).connectorList, ""},
		{"POST", "/v1/connectors", admin, (*h).connectorCreate, ""},
		{"GET", "/v1/connectors/{id}", admin, (*h).connectorGet, "connector"},
		{"PATCH", "/v1/connectors/{id}", admin, (*h).connectorUpdate, "connector"},
		{"DELETE", "/v1/connectors/{id}", admin, (*h).connectorDelete, "connector"},
		{"POST", "/v1/connectors/{id}/resync", admin, (*h).connectorResync, "connector"},

		// sales operations: next steps, stalled deals, the weekly digest
		{"GET", "/v1/next-steps", read, (*h).nextStepList, ""},
		{"POST", "/v1/activities/{id}/next-step/done", write, (*h).nextStepMarkDone, "activity"},
		{"DELETE", "/v1/activities/{id}/next-step/done", write, (*h).nextStepReopen, "activity"},
		{"GET", "/v1/deals/stalled", read, (*h).stalledDeals, ""},
		{"GET", "/v1/digest", read, (*h).digest, ""},
		{"GET", "/v1/reports/connect-rates", read, (*h).reportConnectRates, ""},
		{"GET", "/v1/reports/activity-volume", read, (*h).reportActivityVolume, ""},

		// note-takers' pings (hooks_notetaker.go), signed with the connector's secret
		{"POST", "/v1/hooks/recall/{org_id}/{connector_id}", public, (*h).recallHook, ""},
		{"POST", "/v1/hooks/zoom/{org_id}/{connector_id}", public, (*h).zoomHook, ""},
	}
}
