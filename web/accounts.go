package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// The accounts list and the account page: the brief, the timeline with its
// filters and keyset "Load more", who owes whom and the deals. Reads go
// through the same store methods and brief service as the API's
// GET /v1/accounts, /v1/accounts/{id}/brief, /v1/accounts/{id}/timeline
// and /v1/action-items.

// timelinePageSize is how many activities a timeline page shows.
const timelinePageSize = 25

// accountsView is the accounts list's data.
type accountsView struct {
	Q        string
	Rows     []store.WebAccountRow
	NextHref string
	// Paged is set on a page after the first (the list continues).
	Paged bool
}

func (h *handler) accountsList(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > crm.MaxName {
		return crm.Invalid("q", "must be at most %d characters", crm.MaxName)
	}
	cursor := r.URL.Query().Get("cursor")
	page, err := h.Store.WebAccountList(r.Context(), v.OrgID, store.WebAccountFilter{Q: q, Cursor: cursor})
	if err != nil {
		return err
	}
	view := accountsView{Q: q, Rows: page.Items, Paged: cursor != ""}
	if page.NextCursor != nil {
		vals := url.Values{"cursor": {*page.NextCursor}}
		if q != "" {
			vals.Set("q", q)
		}
		view.NextHref = "/accounts?" + vals.Encode()
	}
	return h.render(w, r, v, http.StatusOK, "accounts.html", "accounts", view)
}

// accountView is the account page's data.
type accountView struct {
	Account   crm.Account
	OwnerName string
	Brief     brief.BriefDoc
	// BriefError is set when the brief could not be built (the rest of
	// the page still shows).
	BriefError bool
	Deals      []brief.BriefDeal
	Timeline   timelineView
	Contacts   []crm.Contact
	Owes       []owesGroup
	// OwesMore counts the open items beyond those listed.
	OwesMore int
	Types    []crm.ActivityType
	// Tools feeds the search, ask and log sections (account_tools.go).
	Tools *accountTools
}

// timelineView is a timeline page: its items, the filters as set and the
// next page's links (full page and fragment).
type timelineView struct {
	AccountID string
	Items     []timelineItem
	Filter    timelineFilter
	// NextHref is the next page as a full page; NextFragment the same page
	// as the fragment app-account.js appends. Empty on the last page.
	NextHref, NextFragment string
	// Continued is set on a page reached through a cursor.
	Continued bool
}

// timelineFilter is the filter form's values as given.
type timelineFilter struct {
	Type, ContactID, DealID, Since, Until string
}

// Active reports whether any filter is set.
func (f timelineFilter) Active() bool {
	return f.Type != "" || f.ContactID != "" || f.DealID != "" || f.Since != "" || f.Until != ""
}

func (f timelineFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"type": f.Type, "contact_id": f.ContactID, "deal_id": f.DealID,
		"since": f.Since, "until": f.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// timelineItem is one activity as the timeline shows it.
type timelineItem struct {
	crm.Activity
	Contacts []string
	DealName string
	// Summary is a meeting's notes summary (empty without notes).
	Summary string
}

// owesGroup is one person's open commitments on the account.
type owesGroup struct {
	Owner   string
	Side    store.BriefSide
	Overdue int
	Items   []store.ActionItemListed
}

func (h *handler) accountPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := webPathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	acc, err := h.Store.AccountGet(ctx, v.OrgID, id)
	if err != nil {
		return err
	}
	tl, err := h.timeline(r, v, id)
	if err != nil {
		return err
	}
	view := accountView{Account: acc, Timeline: tl, Types: crm.ActivityTypes}
	if acc.OwnerID != nil {
		if u, err := h.Store.UserGet(ctx, v.OrgID, *acc.OwnerID); err == nil {
			view.OwnerName = u.Name
		}
	}
	if b, err := h.Briefs.Account(ctx, v.OrgID, id, h.now()); err != nil {
		h.log.WarnContext(ctx, "web: account brief", "account_id", id, "error", err)
		view.BriefError = true
	} else if err := json.Unmarshal(b.Brief, &view.Brief); err != nil {
		view.BriefError = true
	} else if err := json.Unmarshal(b.Deals, &view.Deals); err != nil {
		view.BriefError = true
	}
	cs, err := h.Store.ContactList(ctx, v.OrgID, store.ContactFilter{AccountID: id, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	view.Contacts = cs.Items
	slices.SortFunc(view.Contacts, func(a, b crm.Contact) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	owes, err := h.Store.ActionItemList(ctx, v.OrgID, store.ActionItemFilter{AccountID: id, Status: crm.ActionOpen, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	view.Owes = groupOwes(owes)
	listed := 0
	total := 0
	for _, g := range owes.Groups {
		total += g.Open
	}
	for _, g := range view.Owes {
		listed += len(g.Items)
	}
	view.OwesMore = total - listed
	if view.Tools, err = h.accountTools(ctx, v, id); err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "account.html", "accounts", view)
}

// groupOwes puts a page of ActionItemList (already ordered by person, then
// overdue first) into one group per person and side.
func groupOwes(p store.ActionItemPage) []owesGroup {
	var out []owesGroup
	for _, it := range p.Items {
		owner := ""
		if it.Owner != nil {
			owner = strings.TrimSpace(*it.Owner)
		}
		n := len(out)
		if n == 0 || !strings.EqualFold(out[n-1].Owner, owner) || out[n-1].Side != it.Side {
			out = append(out, owesGroup{Owner: owner, Side: it.Side})
			n++
		}
		g := &out[n-1]
		g.Items = append(g.Items, it)
		if it.Overdue {
			g.Overdue++
		}
	}
	return out
}

// accountTimeline is a timeline page alone, as the fragment app-account.js
// appends to the list ("Load more" without reloading the page).
func (h *handler) accountTimeline(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := webPathID(r)
	if err != nil {
		return err
	}
	tl, err := h.timeline(r, v, id)
	if err != nil {
		return err
	}
	return h.renderFragment(w, v, http.StatusOK, "timeline-page", tl)
}

// timeline reads one timeline page of the account as the request's query
// asks (type, contact_id, deal_id, since, until as dates, cursor): since
// is inclusive from the start of its day, until inclusive to the end of
// its day (UTC).
func (h *handler) timeline(r *http.Request, v *viewer, accountID string) (timelineView, error) {
	qv := r.URL.Query()
	f := timelineFilter{Type: qv.Get("type"), ContactID: strings.ToLower(qv.Get("contact_id")),
		DealID: strings.ToLower(qv.Get("deal_id")), Since: qv.Get("since"), Until: qv.Get("until")}
	sf := store.ActivityFilter{ContactID: f.ContactID, DealID: f.DealID, Limit: timelinePageSize, Cursor: qv.Get("cursor")}
	var pr crm.Problems
	if f.Type != "" {
		if t := crm.ActivityType(f.Type); t.Valid() {
			sf.Types = []crm.ActivityType{t}
		} else {
			pr.Add("type", "must be an activity type")
		}
	}
	if f.ContactID != "" && !crm.ValidID(f.ContactID) {
		pr.Add("contact_id", "must be a contact's ID")
	}
	if f.DealID != "" && !crm.ValidID(f.DealID) {
		pr.Add("deal_id", "must be a deal's ID")
	}
	day := func(name, s string) *time.Time {
		if s == "" {
			return nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			pr.Add(name, "must be a date as YYYY-MM-DD")
			return nil
		}
		return &d
	}
	sf.Since = day("since", f.Since)
	if u := day("until", f.Until); u != nil {
		end := u.AddDate(0, 0, 1)
		sf.Until = &end
	}
	if sf.Since != nil && sf.Until != nil && sf.Until.Before(*sf.Since) {
		pr.Add("until", "must not be before since")
	}
	if err := pr.Err(); err != nil {
		return timelineView{}, err
	}
	page, err := h.Store.ActivityListByAccount(r.Context(), v.OrgID, accountID, sf)
	if err != nil {
		return timelineView{}, err
	}
	tl := timelineView{AccountID: accountID, Filter: f, Continued: sf.Cursor != ""}
	var cids, dids []string
	for _, a := range page.Items {
		cids = append(cids, a.ContactIDs...)
		if a.DealID != nil {
			dids = append(dids, *a.DealID)
		}
	}
	contacts, deals, err := h.Store.WebNames(r.Context(), v.OrgID, cids, dids)
	if err != nil {
		return timelineView{}, err
	}
	for _, a := range page.Items {
		it := timelineItem{Activity: a}
		for _, c := range a.ContactIDs {
			if n, ok := contacts[c]; ok {
				it.Contacts = append(it.Contacts, n)
			}
		}
		if a.DealID != nil {
			it.DealName = deals[*a.DealID]
		}
		if len(a.Notes) > 0 {
			var n struct {
				Summary string `json:"summary"`
			}
			if json.Unmarshal(a.Notes, &n) == nil {
				it.Summary = n.Summary
			}
		}
		tl.Items = append(tl.Items, it)
	}
	if page.NextCursor != nil {
		vals := f.values()
		vals.Set("cursor", *page.NextCursor)
		tl.NextHref = fmt.Sprintf("/accounts/%s?%s#timeline", accountID, vals.Encode())
		tl.NextFragment = fmt.Sprintf("/accounts/%s/timeline?%s", accountID, vals.Encode())
	}
	return tl, nil
}

// webPathID is the {id} path value; one that is not an ID is the 404 page
// (no such page), as an unknown ID is.
func webPathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !crm.ValidID(id) {
		return "", crm.ErrNotFound
	}
	return strings.ToLower(id), nil
}
