package web

import "net/http"

// routes is the route table: every page and action of the web UI, in one
// place, with the access it needs.
func routes() []route {
	type h = handler
	return []route{
		{"GET", "/{$}", member, (*h).home},
		// The account page's interactive sections, each usable on its own
		// page too (account_search.go, account_ask.go, account_log.go).
		{"GET", "/accounts/{id}/search", member, (*h).accountSearch},
		{"GET", "/accounts/{id}/ask", member, (*h).accountAskPage},
		{"POST", "/accounts/{id}/ask", member, (*h).accountAsk},
		{"POST", "/accounts/{id}/ask/stream", member, (*h).accountAskStream},
		{"GET", "/accounts/{id}/log", member, (*h).accountLogPage},
		{"POST", "/accounts/{id}/log", member, (*h).accountLog},

		// Signing in (auth.go) and the admin pages (admin.go).
		{"GET", "/login", public, (*h).loginPage},
		{"POST", "/login", public, (*h).login},
		{"POST", "/logout", member, (*h).logout},
		{"POST", "/logout/everywhere", member, (*h).logoutEverywhere},
		{"GET", "/invite/{token}", public, (*h).invitePage},
		{"POST", "/invite/{token}", public, (*h).inviteAccept},
		{"GET", "/admin/users", adminOnly, (*h).adminUsers},
		{"POST", "/admin/users/invite", adminOnly, (*h).adminUserInvite},
		{"POST", "/admin/users/{id}/role", adminOnly, (*h).adminUserRole},
		{"POST", "/admin/users/{id}/reset", adminOnly, (*h).adminUserReset},
		{"POST", "/admin/users/{id}/logout", adminOnly, (*h).adminUserLogout},
		{"GET", "/admin/settings", adminOnly, (*h).adminSettings},
		{"POST", "/admin/settings", adminOnly, (*h).adminSettingsSave},
		// the connectors: mailboxes, calendars, note-takers (connectors.go)
		{"GET", "/admin/connectors", adminOnly, (*h).adminConnectors},
		{"GET", "/admin/connectors/new", adminOnly, (*h).adminConnectorNew},
		{"POST", "/admin/connectors/new", adminOnly, (*h).adminConnectorCreate},
		{"GET", "/admin/connectors/{id}", adminOnly, (*h).adminConnectorEdit},
		{"POST", "/admin/connectors/{id}", adminOnly, (*h).adminConnectorSave},
		{"POST", "/admin/connectors/{id}/enabled", adminOnly, (*h).adminConnectorEnabled},
		{"POST", "/admin/connectors/{id}/resync", adminOnly, (*h).adminConnectorResync},
		{"GET", "/admin/connectors/{id}/delete", adminOnly, (*h).adminConnectorDeletePage},
		{"POST", "/admin/connectors/{id}/delete", adminOnly, (*h).adminConnectorDelete},
		// accounts (accounts.go, activities.go)
		{"GET", "/accounts", member, (*h).accountsList},
		{"GET", "/accounts/{id}", member, (*h).accountPage},
		{"GET", "/accounts/{id}/timeline", member, (*h).accountTimeline},
		{"GET", "/activities/{id}", member, (*h).activityPage},
		{"GET", "/activities/{id}/transcript", member, (*h).transcriptPage},
		{"POST", "/activities/{id}/confirm", member, (*h).notesConfirm},
		// consent as data (consent.go): an admin's decision on a held transcript
		{"POST", "/activities/{id}/consent/release", adminOnly, (*h).consentRelease},
		{"GET", "/activities/{id}/consent/discard", adminOnly, (*h).consentDiscardPage},
		{"POST", "/activities/{id}/consent/discard", adminOnly, (*h).consentDiscard},
		{"GET", "/admin/held", adminOnly, (*h).adminHeld},
		// managers and ops: reports, stalled deals, the digest
		{"GET", "/reports", member, (*h).reports},
		{"GET", "/reports/connect-rates.csv", member, (*h).reportConnectRatesCSV},
		{"GET", "/reports/activity-volume.csv", member, (*h).reportActivityVolumeCSV},
		{"GET", "/deals/stalled", member, (*h).stalledDeals},
		{"POST", "/deals/{id}/reassign", member, (*h).dealReassign},
		{"GET", "/digest", member, (*h).digest},
	}
}

func (h *handler) home(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return h.render(w, r, v, http.StatusOK, "home.html", "", nil)
}
