package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
)

// The kinds of activity the account page logs, as its forms' "kind" field
// names them.
const (
	logCall  = "call"
	logNote  = "note"
	logEmail = "email"
)

// logForm is the state of the log forms: after a refused post, the kind
// posted, its values (kept, so nothing typed is lost) and the problems by
// form field. The zero value is the empty forms.
type logForm struct {
	Kind   string
	Values url.Values
	// Errors are the problems by form field name ("subject",
	// "disposition"…); General those that name no field of the form.
	Errors  map[string]string
	General []string
}

// logDefaults are the values an empty form starts with.
var logDefaults = map[string]string{"direction": string(crm.DirectionOutbound)}

// Value is the value of field in the kind form: what was posted when the
// post was refused, else the default.
func (f logForm) Value(kind, field string) string {
	if f.Kind == kind && f.Values != nil {
		return f.Values.Get(field)
	}
	return logDefaults[field]
}

// Err is the problem with field in the kind form ("" for none).
func (f logForm) Err(kind, field string) string {
	if f.Kind != kind {
		return ""
	}
	return f.Errors[field]
}

// Problems are the kind form's problems that name no field.
func (f logForm) Problems(kind string) []string {
	if f.Kind != kind {
		return nil
	}
	return f.General
}

// Open reports whether the kind form shows open: the one posted, or the
// call form when none was.
func (f logForm) Open(kind string) bool {
	if f.Kind == "" {
		return kind == logCall
	}
	return f.Kind == kind
}

// Refused reports whether the kind form was posted and refused.
func (f logForm) Refused(kind string) bool {
	return f.Kind == kind && (len(f.Errors) > 0 || len(f.General) > 0)
}

// logFieldLabels name the forms' fields in messages.
var logFieldLabels = map[string]string{
	"direction": "Direction", "contact_id": "Contact", "deal_id": "Deal", "disposition": "Disposition",
	"duration_minutes": "Duration", "subject": "Subject", "body": "Body", "next_step": "Next step",
	"next_step_due": "Due date",
}

// apiFields maps the activity input's fields (as activity.Service names
// them in a *crm.ValidationError) to the form's.
var apiFields = map[string]string{
	"direction": "direction", "contact_ids": "contact_id", "deal_id": "deal_id", "disposition": "disposition",
	"duration_seconds": "duration_minutes", "subject": "subject", "body": "body", "next_step.text": "next_step",
	"next_step.due_date": "next_step_due", "next_step": "next_step",
}

// accountLogPage is GET /accounts/{id}/log: the three log forms on a page
// of their own.
func (h *handler) accountLogPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "tools_log.html", "accounts", t)
}

// accountLog is POST /accounts/{id}/log: logs a call, a note or an email
// (form field kind) on the account through activity.Service.Upsert, the
// API's rules (the org's disposition rules included), with source manual
// and the signed-in user as owner, then sends the browser back to the
// account's timeline (303), where it shows at once. A refused form is
// shown again (422) with its values and each field's problem.
func (h *handler) accountLog(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read. Go back and try again.")
	}
	f := logForm{Kind: r.PostForm.Get("kind"), Values: r.PostForm, Errors: map[string]string{}}
	if f.Kind != logCall && f.Kind != logNote && f.Kind != logEmail {
		return errStatus(http.StatusUnprocessableEntity, "Choose what to log: a call, a note or an email.")
	}
	in := f.input(t, v, h.now().UTC().Format(time.RFC3339Nano))
	if len(f.Errors) == 0 {
		var deliveries []string
		_, _, deliveries, err = h.Activities.Upsert(r.Context(), v.OrgID, in)
		var ve *crm.ValidationError
		switch {
		case errors.As(err, &ve):
			f.addProblems(ve)
		case err != nil:
			return err
		default:
			// The activity.created deliveries go out now (the reconciler
			// would otherwise send them); the worker indexes the activity
			// for search.
			h.enqueueDeliveries(r.Context(), v.OrgID, deliveries)
			http.Redirect(w, r, "/accounts/"+t.AccountID+"#timeline", http.StatusSeeOther)
			return nil
		}
	}
	t.Log = f
	return h.render(w, r, v, http.StatusUnprocessableEntity, "tools_log.html", "accounts", t)
}

// input turns the posted form into an activity, adding a problem for each
// field the form itself can check: a contact or deal must be one the form
// offers (the account's), a disposition one of the active codes, the
// duration whole minutes.
func (f *logForm) input(t *accountTools, v *viewer, now string) crm.ActivityInput {
	val := func(k string) string { return strings.TrimSpace(f.Values.Get(k)) }
	in := crm.ActivityInput{
		Type:       crm.Some(crm.ActivityType(f.Kind)),
		AccountID:  crm.Some(t.AccountID),
		OccurredAt: crm.Some(now),
		Source:     crm.Some(crm.SourceManual),
	}
	if v.UserID != "" {
		in.OwnerID = crm.Some(v.UserID)
	}
	if s := val("subject"); s != "" {
		in.Subject = crm.Some(s)
	}
	// The body keeps its own spacing: only an all-blank one is none.
	if b := f.Values.Get("body"); strings.TrimSpace(b) != "" {
		in.Body = crm.Some(b)
	}
	if f.Kind == logNote || f.Kind == logEmail {
		if in.Subject.Ptr() == nil && in.Body.Ptr() == nil {
			f.Errors["body"] = "Write a subject or a body."
		}
	}
	if f.Kind == logCall || f.Kind == logEmail {
		switch d := crm.Direction(val("direction")); d {
		case crm.DirectionInbound, crm.DirectionOutbound:
			in.Direction = crm.Some(d)
		default:
			f.Errors["direction"] = "Choose inbound or outbound."
		}
		if id := val("contact_id"); id != "" {
			if !slices.ContainsFunc(t.Contacts, func(c crm.Contact) bool { return c.ID == id }) {
				f.Errors["contact_id"] = "Choose one of this account's contacts."
			} else {
				in.ContactIDs = crm.Some([]string{id})
			}
		}
	}
	if f.Kind != logCall {
		return in
	}
	if id := val("deal_id"); id != "" {
		if !slices.ContainsFunc(t.Deals, func(d crm.Deal) bool { return d.ID == id }) {
			f.Errors["deal_id"] = "Choose one of this account's deals."
		} else {
			in.DealID = crm.Some(id)
		}
	}
	if code := val("disposition"); code != "" {
		// The org's rules (activity.Service) say what is wrong with a
		// code that is not active: unknown or retired.
		in.Disposition = crm.Some(code)
	}
	if m := val("duration_minutes"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > crm.MaxDuration/60 {
			f.Errors["duration_minutes"] = "Enter whole minutes, from 0 to " + strconv.Itoa(crm.MaxDuration/60) + "."
		} else {
			in.DurationSeconds = crm.Some(n * 60)
		}
	}
	step, due := val("next_step"), val("next_step_due")
	switch {
	case step != "":
		ns := crm.NextStepInput{Text: step}
		if due != "" {
			ns.DueDate = &due
		}
		in.NextStep = crm.Some(ns)
	case due != "":
		f.Errors["next_step"] = "Say what the next step is, or clear its due date."
	}
	return in
}

// addProblems files the write's problems under the form's fields.
func (f *logForm) addProblems(ve *crm.ValidationError) {
	for _, fe := range ve.Fields {
		name := fe.Field
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i] // contact_ids[0] → contact_ids
		}
		field, ok := apiFields[name]
		if !ok {
			msg := fe.Message
			if fe.Field != "" {
				msg = fe.Field + " " + msg
			}
			f.General = append(f.General, msg)
			continue
		}
		if _, seen := f.Errors[field]; !seen {
			f.Errors[field] = logFieldLabels[field] + " " + fe.Message + "."
		}
	}
}
