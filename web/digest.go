package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// The weekly digest (/digest): GET /v1/digest's composition
// (store.DigestFacts, then brief.ComposeDigest) for one owner or everyone,
// per account what happened, what is due and what stalled, each line's
// cited activities as links.

// Digest ranges (the API's): the default and the longest.
const (
	digestDefaultRange = 7 * 24 * time.Hour
	digestMaxRange     = 92 * 24 * time.Hour
)

// digestEveryone is the owner select's value for every owner.
const digestEveryone = "all"

// digestView is the digest page's data.
type digestView struct {
	// Owner is the select's value: a user's ID or digestEveryone.
	Owner        string
	Since, Until string // as typed
	Users        []crm.User
	Error        string
	// Range says which days the digest covers (UTC), DueBefore the day
	// before which open items are due.
	Range     string
	DueBefore string
	Days      int
	Accounts  []digestAccount
	Next      string
	First     string
}

// digestAccount is one account of the digest with its three sections.
type digestAccount struct {
	ID, Name               string
	Happened, Due, Stalled []citedLine
}

func (h *handler) digest(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	q := r.URL.Query()
	view := digestView{Owner: strings.ToLower(strings.TrimSpace(q.Get("owner_id"))),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	if view.Owner == "" {
		view.Owner = v.UserID
	}
	users, err := h.orgUsers(ctx, v.OrgID)
	if err != nil {
		return err
	}
	view.Users = users
	now := h.now().UTC().Truncate(time.Microsecond)
	f := store.DigestFilter{Now: now, Cursor: q.Get("cursor"), Until: now}
	if view.Owner != digestEveryone {
		if !crm.ValidID(view.Owner) {
			view.Error = "Choose an owner from the list."
		}
		f.OwnerID = view.Owner
	}
	since, until, msg := digestDate(view.Since, "From"), digestDate(view.Until, "Until"), ""
	switch {
	case since.msg != "":
		msg = since.msg
	case until.msg != "":
		msg = until.msg
	}
	if msg == "" && view.Error == "" {
		if until.t != nil {
			f.Until = until.t.AddDate(0, 0, 1) // the day is included
		}
		f.Since = f.Until.Add(-digestDefaultRange)
		if since.t != nil {
			f.Since = *since.t
		}
		switch {
		case !f.Since.Before(f.Until):
			msg = "From must be on or before Until."
		case f.Until.Sub(f.Since) > digestMaxRange:
			msg = "The range must be at most 92 days."
		}
	}
	if msg != "" {
		view.Error = msg
	}
	if view.Error != "" {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "digest.html", "digest", view)
	}
	facts, err := h.Store.DigestFacts(ctx, v.OrgID, f)
	var ve *crm.ValidationError
	if errors.As(err, &ve) { // a cursor that does not decode
		f.Cursor = ""
		facts, err = h.Store.DigestFacts(ctx, v.OrgID, f)
	}
	if err != nil {
		return err
	}
	d := brief.ComposeDigest(facts)
	view.Range = reportRange{Since: d.Since, Until: d.Until}.text(time.UTC)
	view.DueBefore = d.DueBefore.Format(time.DateOnly)
	view.Days = d.StalledDays
	for _, it := range d.Items {
		view.Accounts = append(view.Accounts, digestAccount{ID: it.Account.ID, Name: it.Account.Name,
			Happened: citedLines(it.Happened), Due: citedLines(it.Due), Stalled: citedLines(it.Stalled)})
	}
	link := func(cursor string) string {
		p := url.Values{"owner_id": {view.Owner}}
		if view.Since != "" {
			p.Set("since", view.Since)
		}
		if view.Until != "" {
			p.Set("until", view.Until)
		}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		return "/digest?" + p.Encode()
	}
	if d.NextCursor != nil {
		view.Next = link(*d.NextCursor)
	}
	if f.Cursor != "" {
		view.First = link("")
	}
	return h.render(w, r, v, http.StatusOK, "digest.html", "digest", view)
}

// digestDay is a date of the digest form: nil when blank, or a message.
type digestDay struct {
	t   *time.Time
	msg string
}

// digestDate reads a date (YYYY-MM-DD, UTC midnight).
func digestDate(s, name string) digestDay {
	if s == "" {
		return digestDay{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < 1900 || d.Year() > 9998 {
		return digestDay{msg: name + " must be a date such as 2026-03-02."}
	}
	return digestDay{t: &d}
}
