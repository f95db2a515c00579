package web

import "net/http"

// routes is the route table: every page and action of the web UI, in one
// place, with the access it needs.
func routes() []route {
	type h = handler
	return []route{
		{"GET", "/{$}", member, (*h).home},
		// accounts (accounts.go, activities.go)
		{"GET", "/accounts", member, (*h).accountsList},
		{"GET", "/accounts/{id}", member, (*h).accountPage},
		{"GET", "/accounts/{id}/timeline", member, (*h).accountTimeline},
		{"GET", "/activities/{id}", member, (*h).activityPage},
		{"GET", "/activities/{id}/transcript", member, (*h).transcriptPage},
		{"POST", "/activities/{id}/confirm", member, (*h).notesConfirm},
	}
}

func (h *handler) home(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return h.render(w, r, v, http.StatusOK, "home.html", "", nil)
}
