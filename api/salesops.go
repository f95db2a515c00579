package api

import (
	"net/http"
	"strings"
	"time"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// Sales operations (issue #12): due next steps, stalled deals and the
// weekly digest, and marking a next step done.

// Bounds of the sales operations' parameters.
const (
	// maxStalledDays bounds ?days= of GET /v1/deals/stalled.
	maxStalledDays = 3650
	// maxDigestRange bounds until − since of GET /v1/digest.
	maxDigestRange = 92 * 24 * time.Hour
	// digestDefaultRange is the digest's range when since is not given.
	digestDefaultRange = 7 * 24 * time.Hour
)

// digestLatestUntil is the latest until GET /v1/digest takes.
var digestLatestUntil = time.Date(9999, 12, 24, 0, 0, 0, 0, time.UTC)

// nextStepDone is the optional body of POST /v1/activities/{id}/next-step/done.
type nextStepDone struct {
	// DoneAt is when the next step was done (default now; not in the
	// future).
	DoneAt *string `json:"done_at" openapi:"format=date-time"`
}

func (h *handler) nextStepList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	now := h.now()
	f := store.NextStepFilter{
		OwnerID:   strings.ToLower(queryID(&pr, r, "owner_id")),
		AccountID: strings.ToLower(queryID(&pr, r, "account_id")),
		Today:     now,
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if s := r.URL.Query().Get("due_before"); s != "" {
		if d, ok := crm.CheckDate(&pr, "due_before", s); ok {
			f.DueBefore = d.Time
		}
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.NextStepList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) nextStepMarkDone(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	now := h.now()
	at := now
	// The body is optional: none, {} or {"done_at": "..."}.
	b, err := readBody(w, r, maxBody)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		var in nextStepDone
		if err := unmarshalStrict(b, &in); err != nil {
			return err
		}
		if in.DoneAt != nil {
			var pr crm.Problems
			t := crm.ParseTime(&pr, "done_at", *in.DoneAt)
			if pr.Len() == 0 && t.After(now) {
				pr.Add("done_at", "must not be in the future")
			}
			if err := pr.Err(); err != nil {
				return err
			}
			at = t
		}
	}
	a, err := h.store.NextStepSetDone(r.Context(), p.OrgID, id, true, at)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) nextStepReopen(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.store.NextStepSetDone(r.Context(), p.OrgID, id, false, time.Time{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) stalledDeals(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.StalledFilter{
		Days:    queryInt(&pr, r, "days", 1, maxStalledDays),
		OwnerID: strings.ToLower(queryID(&pr, r, "owner_id")),
		Now:     h.now(),
		Limit:   queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:  r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.StalledDealList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) digest(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	now := h.now().UTC().Truncate(time.Microsecond)
	f := store.DigestFilter{
		OwnerID: strings.ToLower(queryID(&pr, r, "owner_id")),
		Now:     now,
		Limit:   queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:  r.URL.Query().Get("cursor"),
	}
	since, until := queryTime(&pr, r, "since"), queryTime(&pr, r, "until")
	if pr.Len() == 0 {
		f.Until = now
		if until != nil {
			f.Until = until.UTC()
		}
		f.Since = f.Until.Add(-digestDefaultRange)
		if since != nil {
			f.Since = since.UTC()
		}
		// Name the parameter the client sent.
		field := "since"
		if since == nil {
			field = "until"
		}
		switch {
		case f.Until.After(digestLatestUntil):
			// until + 7 days (due_before) must still be a four-digit year.
			pr.Add("until", "must be before %s", digestLatestUntil.Format(time.DateOnly))
		case !f.Since.Before(f.Until):
			if since != nil && until == nil {
				pr.Add("since", "must be before until (default now)")
			} else {
				pr.Add(field, "since must be before until")
			}
		case f.Until.Sub(f.Since) > maxDigestRange:
			pr.Add(field, "the range from since to until must be at most 92 days")
		}
	}
	if err := pr.Err(); err != nil {
		return err
	}
	facts, err := h.store.DigestFacts(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, brief.ComposeDigest(facts))
	return nil
}
