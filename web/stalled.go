package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// Stalled deals (/deals/stalled) and their reassignment
// (POST /deals/{id}/reassign): the list of store.StalledDealList with a
// reassign form per deal, and the reassignment through the API's path
// (store.DealReassign with brief's handoff composer), which shows the
// handoff note written for the new owner.

// maxStalledDays bounds the days input (the API's bound).
const maxStalledDays = 3650

// stalledView is the stalled deals page's data.
type stalledView struct {
	// Days is the threshold used; DaysInput what the form shows.
	Days      int
	DaysInput string
	Error     string
	Rows      []stalledRow
	// Next is the next page's URL ("" on the last page); First the first
	// page's when this is not it.
	Next, First string
}

func (h *handler) stalledDeals(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	view := stalledView{DaysInput: strings.TrimSpace(q.Get("days"))}
	f := store.StalledFilter{Now: h.now(), Cursor: q.Get("cursor")}
	if view.DaysInput != "" {
		n, err := strconv.Atoi(view.DaysInput)
		if err != nil || n < 1 || n > maxStalledDays {
			view.Error = "Days must be a whole number from 1 to " + strconv.Itoa(maxStalledDays) + "."
			return h.render(w, r, v, http.StatusUnprocessableEntity, "stalled.html", "stalled", view)
		}
		f.Days = n
	}
	page, err := h.Store.StalledDealList(r.Context(), v.OrgID, f)
	var ve *crm.ValidationError
	if errors.As(err, &ve) { // a cursor that does not decode
		view.Error = "That page link is not valid any more; here is the first page."
		f.Cursor = ""
		page, err = h.Store.StalledDealList(r.Context(), v.OrgID, f)
	}
	if err != nil {
		return err
	}
	users, err := h.orgUsers(r.Context(), v.OrgID)
	if err != nil {
		return err
	}
	view.Days = page.Days
	for _, it := range page.Items {
		view.Rows = append(view.Rows, stalledRow{StalledDeal: it, Form: reassignForm{DealID: it.Deal.ID, DealName: it.Deal.Name,
			Users: users, Current: it.Deal.OwnerID, CSRF: v.CSRF}})
	}
	if view.DaysInput == "" {
		view.DaysInput = strconv.Itoa(page.Days)
	}
	link := func(cursor string) string {
		p := "/deals/stalled?days=" + strconv.Itoa(page.Days)
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		return p
	}
	if page.NextCursor != nil {
		view.Next = link(*page.NextCursor)
	}
	if f.Cursor != "" {
		view.First = link("")
	}
	return h.render(w, r, v, http.StatusOK, "stalled.html", "stalled", view)
}

// stalledRow is a stalled deal with its reassign form.
type stalledRow struct {
	store.StalledDeal
	Form reassignForm
}

// reassignForm is the data of the "reassign-form" partial.
type reassignForm struct {
	DealID, DealName string
	Users            []crm.User
	// Current is the deal's owner (not offered); Selected the owner chosen
	// (a form shown again).
	Current  *string
	Selected string
	Note     string
	CSRF     string
}

// IsCurrent reports whether id owns the deal now.
func (f reassignForm) IsCurrent(id string) bool { return f.Current != nil && *f.Current == id }

// orgUsers are every user of the org, by name (for the owner selects).
func (h *handler) orgUsers(ctx context.Context, orgID string) ([]crm.User, error) {
	var out []crm.User
	f := store.UserFilter{Limit: store.MaxLimit}
	for {
		page, err := h.Store.UserList(ctx, orgID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			break
		}
		f.Cursor = *page.NextCursor
	}
	slices.SortFunc(out, func(a, b crm.User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// reassignView is the reassign form shown again with what was wrong.
type reassignView struct {
	Deal    crm.Deal
	Account crm.Account
	Errors  []string
	Form    reassignForm
}

// handoffView is the result of a reassignment.
type handoffView struct {
	Deal     crm.Deal
	Account  crm.Account
	Activity crm.Activity
	// Owner is the new owner's name.
	Owner string
	Note  noteDoc
}

func (h *handler) dealReassign(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := strings.ToLower(r.PathValue("id"))
	if !crm.ValidID(id) {
		return crm.ErrNotFound
	}
	ctx := r.Context()
	in := crm.ReassignInput{OwnerID: strings.ToLower(strings.TrimSpace(r.PostFormValue("owner_id"))), Note: r.PostFormValue("note")}
	// The API's path: validate, then the store's transaction with brief's
	// composer (api/deals.go dealReassign).
	err := in.Validate()
	if in.OwnerID == "" {
		err = crm.Invalid("owner_id", "is required")
	}
	var (
		notes      brief.Handoffs
		d          crm.Deal
		a          crm.Activity
		deliveries []string
	)
	if err == nil {
		d, a, deliveries, err = h.Store.DealReassign(ctx, v.OrgID, id, in, notes.Compose)
	}
	var ve *crm.ValidationError
	if errors.As(err, &ve) {
		return h.reassignAgain(w, r, v, id, in, ve)
	}
	if err != nil {
		return err
	}
	h.enqueueDeliveries(ctx, v.OrgID, deliveries)
	acc, err := h.Store.AccountGet(ctx, v.OrgID, d.AccountID)
	if err != nil {
		return err
	}
	owner := ""
	if a.OwnerID != nil {
		if u, err := h.Store.UserGet(ctx, v.OrgID, *a.OwnerID); err == nil {
			owner = u.Name
		}
	}
	return h.render(w, r, v, http.StatusOK, "handoff.html", "stalled", handoffView{Deal: d, Account: acc, Activity: a,
		Owner: owner, Note: newNoteDoc(notes.Note(d.ID))})
}

// reassignAgain answers a reassignment the store or the input refused
// (the same owner, an unknown user, a note too long) with the form again,
// its message in words, as a 422; a deal of another org is the 404.
func (h *handler) reassignAgain(w http.ResponseWriter, r *http.Request, v *viewer, id string, in crm.ReassignInput, ve *crm.ValidationError) error {
	ctx := r.Context()
	d, err := h.Store.DealGet(ctx, v.OrgID, id)
	if err != nil {
		return err
	}
	acc, err := h.Store.AccountGet(ctx, v.OrgID, d.AccountID)
	if err != nil {
		return err
	}
	users, err := h.orgUsers(ctx, v.OrgID)
	if err != nil {
		return err
	}
	view := reassignView{Deal: d, Account: acc, Form: reassignForm{DealID: d.ID, DealName: d.Name, Users: users,
		Current: d.OwnerID, Selected: in.OwnerID, Note: in.Note, CSRF: v.CSRF}}
	for _, f := range ve.Fields {
		switch f.Field {
		case "owner_id":
			view.Errors = append(view.Errors, "New owner: "+reassignOwnerMessage(f.Message))
		case "note":
			view.Errors = append(view.Errors, "Note: "+f.Message+".")
		default:
			view.Errors = append(view.Errors, f.Message+".")
		}
	}
	return h.render(w, r, v, http.StatusUnprocessableEntity, "reassign.html", "stalled", view)
}

// reassignOwnerMessage words the store's and the input's owner_id
// messages for people.
func reassignOwnerMessage(m string) string {
	switch {
	case strings.HasPrefix(m, "already owns"):
		return "this person already owns the deal. Choose someone else."
	case m == "does not exist":
		return "this person is not a user of your organisation. Choose someone from the list."
	case strings.Contains(m, "required"):
		return "choose who takes the deal over."
	default:
		return "choose someone from the list."
	}
}

// noteDoc is a composed document (a handoff note) as the page shows it:
// each statement with its citations numbered.
type noteDoc struct {
	Headline string
	Sections []noteSection
}

type noteSection struct {
	ID, Title  string
	Statements []citedLine
}

// citedLine is a statement and the activities it rests on, as links.
type citedLine struct {
	Text  string
	Cites []cite
	// More are citations past citeShown, behind a disclosure.
	More []cite
}

// cite is a link to a cited activity; N numbers it within its line.
type cite struct {
	ID string
	N  int
}

// citeShown is how many citations a line shows before "N more".
const citeShown = 5

func newCitedLine(st brief.BriefStatement) citedLine {
	l := citedLine{Text: st.Text}
	for i, id := range st.ActivityIDs {
		c := cite{ID: id, N: i + 1}
		if i < citeShown {
			l.Cites = append(l.Cites, c)
		} else {
			l.More = append(l.More, c)
		}
	}
	return l
}

func citedLines(sts []brief.BriefStatement) []citedLine {
	out := make([]citedLine, len(sts))
	for i, st := range sts {
		out[i] = newCitedLine(st)
	}
	return out
}

func newNoteDoc(d brief.BriefDoc) noteDoc {
	n := noteDoc{Headline: d.Headline}
	for i, s := range d.Sections {
		n.Sections = append(n.Sections, noteSection{ID: "handoff-section-" + strconv.Itoa(i+1), Title: s.Title,
			Statements: citedLines(s.Statements)})
	}
	return n
}
