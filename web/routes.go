package web

import "net/http"

// routes is the route table: every page and action of the web UI, in one
// place, with the access it needs.
func routes() []route {
	type h = handler
	return []route{
		{"GET", "/{$}", member, (*h).home},
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
