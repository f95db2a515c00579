package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The admin pages: users (invite, role, password reset by a new invite,
// sign out everywhere) and the org's settings. Every route is adminOnly in
// the route table; every form posts its CSRF token.

// adminUsersView is /admin/users' data.
type adminUsersView struct {
	Users []crm.User
	// More is true when the org has more users than the page shows.
	More  bool
	Roles []crm.Role
	// SelfID is the viewer's own user (whose role the page does not offer
	// to change: an admin cannot demote themselves out of this page).
	SelfID string
	// Link is the invite link just made, shown once.
	Link *inviteLink
	// Notice says what the last action did.
	Notice string
	// Form is the invite form as posted, Errors its field errors.
	Form   inviteForm
	Errors map[string]string
}

type inviteLink struct {
	URL       string
	Email     string
	ExpiresAt time.Time
}

type inviteForm struct {
	Email, Name string
	Role        crm.Role
}

// usersShown is how many users /admin/users lists.
const usersShown = store.MaxLimit

func (h *handler) usersView(r *http.Request, v *viewer) (adminUsersView, error) {
	page, err := h.Store.UserList(r.Context(), v.OrgID, store.UserFilter{Limit: usersShown})
	if err != nil {
		return adminUsersView{}, err
	}
	return adminUsersView{Users: page.Items, More: page.NextCursor != nil, Roles: crm.Roles, SelfID: v.UserID,
		Form: inviteForm{Role: crm.RoleRep}, Errors: map[string]string{}}, nil
}

func (h *handler) renderUsers(w http.ResponseWriter, r *http.Request, v *viewer, status int, edit func(*adminUsersView)) error {
	view, err := h.usersView(r, v)
	if err != nil {
		return err
	}
	edit(&view)
	return h.render(w, r, v, status, "admin_users.html", "admin", view)
}

func (h *handler) adminUsers(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return h.renderUsers(w, r, v, http.StatusOK, func(*adminUsersView) {})
}

// newInvite makes an invite for a user and its link.
func (h *handler) newInvite(r *http.Request, orgID, userID string) (*inviteLink, error) {
	inv, token, err := h.Store.InviteCreate(r.Context(), orgID, userID, store.InviteTTL)
	if err != nil {
		return nil, err
	}
	return &inviteLink{URL: h.baseURL(r) + "/invite/" + token, Email: inv.Email, ExpiresAt: inv.ExpiresAt}, nil
}

// adminUserInvite invites a person by email: the org's user with that
// email, or a new one with the name and role given. The link is shown
// once, on the page this answers.
func (h *handler) adminUserInvite(w http.ResponseWriter, r *http.Request, v *viewer) error {
	form := inviteForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: crm.Role(r.PostFormValue("role"))}
	if form.Role == "" {
		form.Role = crm.RoleRep
	}
	fail := func(err error) error {
		var ve *crm.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		return h.renderUsers(w, r, v, http.StatusUnprocessableEntity, func(view *adminUsersView) {
			view.Form = form
			for _, f := range ve.Fields {
				view.Errors[f.Field] = f.Message
			}
		})
	}
	in := crm.UserInput{Email: crm.Some(form.Email), Name: crm.Some(form.Name), Role: crm.Some(form.Role)}
	u, err := h.Store.UserGetByEmail(r.Context(), v.OrgID, form.Email)
	created := false
	switch {
	case errors.Is(err, crm.ErrNotFound):
		if err := in.Validate(true); err != nil {
			return fail(err)
		}
		if u, err = h.Store.UserCreate(r.Context(), v.OrgID, in); err != nil {
			return fail(err)
		}
		created = true
	case err != nil:
		return err
	}
	link, err := h.newInvite(r, v.OrgID, u.ID)
	if err != nil {
		return err
	}
	return h.renderUsers(w, r, v, http.StatusOK, func(view *adminUsersView) {
		view.Link = link
		if created {
			view.Notice = fmt.Sprintf("%s (%s) was added as %s.", u.Name, u.Email, u.Role)
		} else {
			view.Notice = fmt.Sprintf("%s (%s) was already a user; their role is unchanged.", u.Name, u.Email)
		}
	})
}

// userOfPath is the org's user of the path's {id}; another org's, or a
// malformed ID, is crm.ErrNotFound (the 404 page).
func (h *handler) userOfPath(r *http.Request, v *viewer) (crm.User, error) {
	id := strings.ToLower(r.PathValue("id"))
	if !crm.ValidID(id) {
		return crm.User{}, crm.ErrNotFound
	}
	return h.Store.UserGet(r.Context(), v.OrgID, id)
}

func (h *handler) adminUserRole(w http.ResponseWriter, r *http.Request, v *viewer) error {
	u, err := h.userOfPath(r, v)
	if err != nil {
		return err
	}
	if u.ID == v.UserID {
		return errStatus(http.StatusUnprocessableEntity, "You cannot change your own role: ask another admin.")
	}
	in := crm.UserInput{Role: crm.Some(crm.Role(r.PostFormValue("role")))}
	if err := in.Validate(false); err != nil {
		return err
	}
	if u, err = h.Store.UserUpdate(r.Context(), v.OrgID, u.ID, in); err != nil {
		return err
	}
	return h.renderUsers(w, r, v, http.StatusOK, func(view *adminUsersView) {
		view.Notice = fmt.Sprintf("%s is now %s.", u.Name, u.Role)
	})
}

// adminUserReset makes a new invite for a user: the link sets a new
// password (older links stop working). The current password keeps working
// until the link is used; sign the user out everywhere as well when it may
// be known to someone else.
func (h *handler) adminUserReset(w http.ResponseWriter, r *http.Request, v *viewer) error {
	u, err := h.userOfPath(r, v)
	if err != nil {
		return err
	}
	link, err := h.newInvite(r, v.OrgID, u.ID)
	if err != nil {
		return err
	}
	return h.renderUsers(w, r, v, http.StatusOK, func(view *adminUsersView) {
		view.Link = link
		view.Notice = fmt.Sprintf("A new link for %s to set a password; older links no longer work.", u.Name)
	})
}

func (h *handler) adminUserLogout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	u, err := h.userOfPath(r, v)
	if err != nil {
		return err
	}
	n, err := h.Store.SessionEndAll(r.Context(), v.OrgID, u.ID)
	if err != nil {
		return err
	}
	if u.ID == v.UserID {
		h.clearSessionCookie(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	return h.renderUsers(w, r, v, http.StatusOK, func(view *adminUsersView) {
		view.Notice = fmt.Sprintf("%s was signed out of %d session(s).", u.Name, n)
	})
}

// settingsView is /admin/settings' data.
type settingsView struct {
	RequireDisposition bool
	StalledAfterDays   string
	// Rows are the active codes, in order, as the form shows them.
	Rows []codeRow
	// New is the row that adds a code.
	New codeRow
	// Retired are the retired codes (adding one again revives it).
	Retired []crm.DispositionCode
	// Errors are field errors keyed by form field name.
	Errors map[string]string
	Saved  bool

	// RequireConsent holds a meeting's transcript until every participant's
	// recording consent is given (consent.go).
	RequireConsent bool
}

type codeRow struct {
	Code, Label     string
	Connect, Retire bool
}

func settingsViewOf(s crm.Settings) settingsView {
	v := settingsView{RequireDisposition: s.RequireDisposition, StalledAfterDays: strconv.Itoa(s.StalledAfterDays),
		Errors: map[string]string{}}
	v.RequireConsent = s.RequireConsent
	for _, c := range s.DispositionCodes {
		if c.Retired {
			v.Retired = append(v.Retired, c)
			continue
		}
		v.Rows = append(v.Rows, codeRow{Code: c.Code, Label: c.Label, Connect: c.Connect})
	}
	return v
}

func (h *handler) adminSettings(w http.ResponseWriter, r *http.Request, v *viewer) error {
	s, err := h.Store.SettingsGet(r.Context(), v.OrgID)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "admin_settings.html", "admin", settingsViewOf(s))
}

// maxCodeRows bounds the rows a settings form may post.
const maxCodeRows = 2 * crm.MaxDispositons

var codeField = regexp.MustCompile(`^disposition_codes\[(\d+)\]\.(code|label|connect)$`)

// adminSettingsSave applies the settings form through the same validation
// as PATCH /v1/settings; field errors come back on the form (422).
func (h *handler) adminSettingsSave(w http.ResponseWriter, r *http.Request, v *viewer) error {
	cur, err := h.Store.SettingsGet(r.Context(), v.OrgID)
	if err != nil {
		return err
	}
	view := settingsViewOf(cur)
	view.RequireDisposition = r.PostFormValue("require_disposition") != ""
	view.StalledAfterDays = strings.TrimSpace(r.PostFormValue("stalled_after_days"))
	view.Rows = nil
	n, _ := strconv.Atoi(r.PostFormValue("rows"))
	n = min(max(n, 0), maxCodeRows)
	in := crm.SettingsInput{RequireDisposition: crm.Some(view.RequireDisposition)}
	view.RequireConsent = r.PostFormValue("require_consent") != ""
	in.RequireConsent = crm.Some(view.RequireConsent)
	var list []crm.DispositionCodeInput
	var keyOf []string // form row key of each entry of list
	for i := range n {
		k := strconv.Itoa(i)
		row := codeRow{Code: strings.TrimSpace(r.PostFormValue("code_" + k)), Label: strings.TrimSpace(r.PostFormValue("label_" + k)),
			Connect: r.PostFormValue("connect_"+k) != "", Retire: r.PostFormValue("retire_"+k) != ""}
		view.Rows = append(view.Rows, row)
		if row.Retire {
			continue
		}
		list = append(list, crm.DispositionCodeInput{Code: row.Code, Label: crm.Some(row.Label), Connect: crm.Some(row.Connect)})
		keyOf = append(keyOf, k)
	}
	view.New = codeRow{Code: strings.TrimSpace(r.PostFormValue("code_new")), Label: strings.TrimSpace(r.PostFormValue("label_new")),
		Connect: r.PostFormValue("connect_new") != ""}
	if view.New.Code != "" {
		c := crm.DispositionCodeInput{Code: view.New.Code, Connect: crm.Some(view.New.Connect)}
		if view.New.Label != "" {
			c.Label = crm.Some(view.New.Label)
		}
		list = append(list, c)
		keyOf = append(keyOf, "new")
	}
	in.DispositionCodes = crm.Some(list)
	days, aerr := strconv.Atoi(view.StalledAfterDays)
	if aerr != nil {
		view.Errors["stalled_after_days"] = "must be a whole number of days"
	} else {
		in.StalledAfterDays = crm.Some(days)
	}
	err = in.Validate()
	var ve *crm.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			key := f.Field
			if m := codeField.FindStringSubmatch(f.Field); m != nil {
				if i, _ := strconv.Atoi(m[1]); i < len(keyOf) {
					key = m[2] + "_" + keyOf[i]
				}
			}
			if key == "disposition_codes" {
				key = "codes"
			}
			view.Errors[key] = f.Message
		}
	} else if err != nil {
		return err
	}
	if len(view.Errors) > 0 {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_settings.html", "admin", view)
	}
	s, err := h.Store.SettingsUpdate(r.Context(), v.OrgID, in)
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			view.Errors[f.Field] = f.Message
		}
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_settings.html", "admin", view)
	}
	if err != nil {
		return err
	}
	view = settingsViewOf(s)
	view.Saved = true
	return h.render(w, r, v, http.StatusOK, "admin_settings.html", "admin", view)
}
