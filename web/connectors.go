package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The connectors' admin pages (issue #14): the org's mailboxes, calendars
// and note-takers with their health, and the forms that create and change
// them through capture.Service (Deps.Capture), as the API does. Every
// route is adminOnly. Secrets are write-only: their inputs are
// type=password and never filled in; left blank on an edit, the stored
// secret is kept.

// connectorField is one field of a kind's form: a key of its config, or
// of its secrets (Secret).
type connectorField struct {
	// Name is the config or secrets key, and the form field's name.
	Name  string
	Label string
	// Input is the control: text, url, number, date, password (every
	// secret), select, lines (a textarea of one value per line: a list)
	// or textarea.
	Input   string
	Options []string
	Help    string
	Secret  bool
}

// connectorFields are each kind's fields, written against the config
// contracts of issue #14 (the kinds' packages check them).
var connectorFields = map[crm.ConnectorKind][]connectorField{
	crm.ConnectorIMAP: {
		{Name: "host", Label: "IMAP server", Input: "text", Help: "Such as imap.example.com."},
		{Name: "port", Label: "Port", Input: "number", Help: "Empty: 993 for TLS, 143 for STARTTLS."},
		{Name: "security", Label: "Security", Input: "select", Options: []string{"tls", "starttls"}},
		{Name: "username", Label: "Username", Input: "text"},
		{Name: "password", Label: "Password", Input: "password", Secret: true},
		{Name: "mailboxes", Label: "Mailboxes", Input: "lines", Help: "One per line; empty: INBOX. Add the Sent folder to log outbound mail."},
		{Name: "since", Label: "First sync from", Input: "date", Help: "Mail before this day is not logged; empty: 30 days ago."},
		{Name: "log", Label: "Log", Input: "select", Options: []string{"all", "replies"}, Help: "all: every message; replies: only threads someone answered."},
		{Name: "never_log", Label: "Never log", Input: "lines", Help: "Addresses or domains, one per line: mail with them is never logged."},
		{Name: "ca_cert", Label: "CA certificate (PEM)", Input: "textarea", Help: "Only for a server with a private or self-signed certificate."},
	},
	crm.ConnectorICS: {
		{Name: "url", Label: "Feed URL", Input: "password", Secret: true, Help: "The calendar's private ICS address (it carries its own secret, so it is stored sealed)."},
		{Name: "since", Label: "Events from", Input: "date", Help: "Empty: the feed's own start."},
		{Name: "horizon_days", Label: "Days ahead", Input: "number", Help: "How far ahead recurring events are expanded; empty: 90."},
	},
	crm.ConnectorCalDAV: {
		{Name: "url", Label: "CalDAV URL", Input: "url"},
		{Name: "username", Label: "Username", Input: "text"},
		{Name: "password", Label: "Password", Input: "password", Secret: true},
		{Name: "calendars", Label: "Calendars", Input: "lines", Help: "Calendar paths, one per line; empty: every calendar of the account."},
		{Name: "since", Label: "Events from", Input: "date"},
		{Name: "horizon_days", Label: "Days ahead", Input: "number", Help: "Empty: 90."},
		{Name: "ca_cert", Label: "CA certificate (PEM)", Input: "textarea", Help: "Only for a server with a private or self-signed certificate."},
	},
	crm.ConnectorRecall: {
		{Name: "base_url", Label: "Recall.ai region URL", Input: "url", Help: "Such as https://us-east-1.recall.ai."},
		{Name: "api_key", Label: "API key", Input: "password", Secret: true},
		{Name: "webhook_secret", Label: "Webhook signing secret", Input: "password", Secret: true, Help: "whsec_…, from the webhook endpoint in Recall.ai's dashboard."},
	},
	crm.ConnectorZoom: {
		{Name: "base_url", Label: "Download URL", Input: "url", Help: "Where recordings are downloaded from; empty: Zoom's."},
		{Name: "webhook_secret_token", Label: "Webhook secret token", Input: "password", Secret: true, Help: "From the Zoom app's event subscription."},
	},
}

// connectorKindNames are the kinds' names as people read them.
var connectorKindNames = map[crm.ConnectorKind]string{
	crm.ConnectorIMAP: "Mailbox (IMAP)", crm.ConnectorICS: "Calendar feed (ICS)", crm.ConnectorCalDAV: "Calendar (CalDAV)",
	crm.ConnectorRecall: "Recall.ai", crm.ConnectorZoom: "Zoom transcripts",
}

// connectorRow is one connector as the list shows it.
type connectorRow struct {
	crm.Connector
	KindName  string
	OwnerName string
	// Lag says how long ago the last successful sync was.
	Lag string
	// HookURL is where the vendor posts (recall, zoom).
	HookURL string
	Pulled  bool
}

// connectorsView is /admin/connectors' data.
type connectorsView struct {
	// Available is false when the server has no capture service.
	Available bool
	Kinds     []kindChoice
	Rows      []connectorRow
	Notice    string
	// Error is what went wrong with the last action, RowID its row.
	Error, RowID string
	// Today is the resync form's default and latest date.
	Today string
}

type kindChoice struct {
	Kind crm.ConnectorKind
	Name string
}

func (h *handler) kindChoices() []kindChoice {
	if h.Capture == nil {
		return nil
	}
	var out []kindChoice
	for _, k := range h.Capture.Kinds() {
		if _, ok := connectorFields[k]; ok {
			out = append(out, kindChoice{Kind: k, Name: connectorKindNames[k]})
		}
	}
	return out
}

// hookURL is the inbound webhook address of a pushed connector, "" for
// the others.
func (h *handler) hookURL(r *http.Request, orgID string, c crm.Connector) string {
	if c.Kind != crm.ConnectorRecall && c.Kind != crm.ConnectorZoom {
		return ""
	}
	return h.baseURL(r) + "/v1/hooks/" + string(c.Kind) + "/" + orgID + "/" + c.ID
}

// lagText is a duration in seconds as people read it.
func lagText(s *int64) string {
	if s == nil {
		return ""
	}
	d := time.Duration(*s) * time.Second
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (h *handler) userNames(r *http.Request, orgID string) ([]crm.User, map[string]string, error) {
	page, err := h.Store.UserList(r.Context(), orgID, store.UserFilter{Limit: usersShown})
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, u := range page.Items {
		names[u.ID] = u.Name
	}
	return page.Items, names, nil
}

func (h *handler) connectorsView(r *http.Request, v *viewer) (connectorsView, error) {
	view := connectorsView{Available: h.Capture != nil, Kinds: h.kindChoices(), Today: h.Now().UTC().Format(time.DateOnly)}
	cs, err := h.Store.ConnectorList(r.Context(), v.OrgID)
	if err != nil {
		return view, err
	}
	_, names, err := h.userNames(r, v.OrgID)
	if err != nil {
		return view, err
	}
	for _, c := range cs {
		row := connectorRow{Connector: c, KindName: connectorKindNames[c.Kind], Lag: lagText(c.Health.LagSeconds),
			HookURL: h.hookURL(r, v.OrgID, c), Pulled: c.Kind.Pulled()}
		if c.UserID != nil {
			row.OwnerName = names[*c.UserID]
		}
		view.Rows = append(view.Rows, row)
	}
	return view, nil
}

func (h *handler) renderConnectors(w http.ResponseWriter, r *http.Request, v *viewer, status int, edit func(*connectorsView)) error {
	view, err := h.connectorsView(r, v)
	if err != nil {
		return err
	}
	edit(&view)
	return h.render(w, r, v, status, "admin_connectors.html", "admin", view)
}

func (h *handler) adminConnectors(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return h.renderConnectors(w, r, v, http.StatusOK, func(*connectorsView) {})
}

// connectorOfPath is the org's connector of the path's {id}; another
// org's, or a malformed ID, is crm.ErrNotFound (the 404 page).
func (h *handler) connectorOfPath(r *http.Request, v *viewer) (store.ConnectorRecord, error) {
	id := strings.ToLower(r.PathValue("id"))
	if !crm.ValidID(id) {
		return store.ConnectorRecord{}, crm.ErrNotFound
	}
	return h.Store.ConnectorGet(r.Context(), v.OrgID, id)
}

// needCapture is the answer of a write on a server without connectors.
func (h *handler) needCapture() error {
	if h.Capture == nil {
		return errStatus(http.StatusServiceUnavailable, "Connectors are not available on this server.")
	}
	return nil
}

// connectorFormView is the new and edit pages' data.
type connectorFormView struct {
	// ID is empty on the new page.
	ID       string
	Kind     crm.ConnectorKind
	KindName string
	Fields   []formField
	Name     string
	UserID   string
	Users    []crm.User
	Enabled  bool
	Interval string
	Pulled   bool
	HookURL  string
	Health   *crm.ConnectorHealth
	// Errors are field errors keyed by form field; General the rest.
	Errors  map[string]string
	General []string
	Saved   bool
}

// formField is one kind field with its value as the form shows it.
type formField struct {
	connectorField
	// Value is the field's value (never a secret's).
	Value string
	// Stored says a secret is stored (blank keeps it).
	Stored bool
}

// configValues turns a stored config into form values.
func configValues(cfg json.RawMessage) map[string]string {
	var m map[string]any
	_ = json.Unmarshal(cfg, &m)
	out := map[string]string{}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(x)
		case []any:
			var parts []string
			for _, p := range x {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			out[k] = strings.Join(parts, "\n")
		}
	}
	return out
}

func (h *handler) connectorForm(r *http.Request, v *viewer, kind crm.ConnectorKind, values map[string]string, secretsSet []string) (connectorFormView, error) {
	users, _, err := h.userNames(r, v.OrgID)
	if err != nil {
		return connectorFormView{}, err
	}
	view := connectorFormView{Kind: kind, KindName: connectorKindNames[kind], Users: users, Enabled: true,
		Interval: strconv.Itoa(crm.DefaultConnectorInterval), Pulled: kind.Pulled(), Errors: map[string]string{}}
	for _, f := range connectorFields[kind] {
		ff := formField{connectorField: f}
		if f.Secret {
			for _, s := range secretsSet {
				ff.Stored = ff.Stored || s == f.Name
			}
		} else {
			ff.Value = values[f.Name]
		}
		view.Fields = append(view.Fields, ff)
	}
	return view, nil
}

func (h *handler) adminConnectorNew(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := h.needCapture(); err != nil {
		return err
	}
	kind := crm.ConnectorKind(r.URL.Query().Get("kind"))
	if !h.kindAvailable(kind) {
		return errStatus(http.StatusNotFound, "There is no connector of that kind on this server: choose one on the connectors page.")
	}
	view, err := h.connectorForm(r, v, kind, map[string]string{}, nil)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "admin_connector.html", "admin", view)
}

func (h *handler) kindAvailable(kind crm.ConnectorKind) bool {
	for _, k := range h.kindChoices() {
		if k.Kind == kind {
			return true
		}
	}
	return false
}

// readConnectorForm reads a posted form into an input: the generic fields,
// the config (every non-secret field given; empty ones are left to the
// kind's defaults) and the secrets typed (nil when none was). The view
// gets what was posted back, secrets excepted.
func readConnectorForm(r *http.Request, kind crm.ConnectorKind, view *connectorFormView) (crm.ConnectorInput, map[string]string) {
	in := crm.ConnectorInput{Name: crm.Some(strings.TrimSpace(r.PostFormValue("name")))}
	view.Name = in.Name.V
	view.UserID = r.PostFormValue("user_id")
	if view.UserID == "" {
		in.UserID = crm.Opt[string]{Set: true, Null: true}
	} else {
		in.UserID = crm.Some(view.UserID)
	}
	view.Enabled = r.PostFormValue("enabled") != ""
	in.Enabled = crm.Some(view.Enabled)
	if kind.Pulled() {
		view.Interval = strings.TrimSpace(r.PostFormValue("interval_seconds"))
		if n, err := strconv.Atoi(view.Interval); err != nil {
			view.Errors["interval_seconds"] = "must be a whole number of seconds"
		} else {
			in.IntervalSeconds = crm.Some(n)
		}
	}
	cfg := map[string]any{}
	var secrets map[string]string
	for i, f := range view.Fields {
		raw := r.PostFormValue(f.Name)
		if f.Secret {
			if raw != "" {
				if secrets == nil {
					secrets = map[string]string{}
				}
				secrets[f.Name] = raw
			}
			continue
		}
		if f.Input != "textarea" {
			raw = strings.TrimSpace(raw)
		}
		view.Fields[i].Value = raw
		if strings.TrimSpace(raw) == "" {
			continue
		}
		switch f.Input {
		case "number":
			n, err := strconv.Atoi(raw)
			if err != nil {
				view.Errors[f.Name] = "must be a whole number"
				continue
			}
			cfg[f.Name] = n
		case "lines":
			var list []string
			for _, l := range strings.FieldsFunc(raw, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
				if l = strings.TrimSpace(l); l != "" {
					list = append(list, l)
				}
			}
			cfg[f.Name] = list
		default:
			cfg[f.Name] = raw
		}
	}
	b, _ := json.Marshal(cfg)
	in.Config = crm.Some(json.RawMessage(b))
	return in, secrets
}

// withSecrets sets in's secrets to typed, marshalled.
func withSecrets(in *crm.ConnectorInput, typed map[string]string) {
	if typed == nil {
		return
	}
	b, _ := json.Marshal(typed)
	in.Secrets = crm.Some(json.RawMessage(b))
}

// formErrors puts a capture error's fields on the form: config.x and
// secrets.x on field x, the generic fields on theirs, the rest on top.
func formErrors(view *connectorFormView, err error) bool {
	var ve *crm.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	known := map[string]bool{"name": true, "user_id": true, "enabled": true, "interval_seconds": true}
	for _, f := range view.Fields {
		known[f.Name] = true
	}
	for _, fe := range ve.Fields {
		key := strings.TrimPrefix(strings.TrimPrefix(fe.Field, "config."), "secrets.")
		if known[key] && key != "" {
			view.Errors[key] = fe.Message
			continue
		}
		view.General = append(view.General, strings.TrimSpace(fe.Field+" "+fe.Message))
	}
	return true
}

func (h *handler) adminConnectorCreate(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := h.needCapture(); err != nil {
		return err
	}
	kind := crm.ConnectorKind(r.PostFormValue("kind"))
	if !h.kindAvailable(kind) {
		return errStatus(http.StatusUnprocessableEntity, "There is no connector of that kind on this server.")
	}
	view, err := h.connectorForm(r, v, kind, map[string]string{}, nil)
	if err != nil {
		return err
	}
	in, typed := readConnectorForm(r, kind, &view)
	in.Kind = crm.Some(kind)
	withSecrets(&in, typed)
	if len(view.Errors) > 0 {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_connector.html", "admin", view)
	}
	c, err := h.Capture.Create(r.Context(), v.OrgID, in)
	if formErrors(&view, err) {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_connector.html", "admin", view)
	}
	if err != nil {
		return err
	}
	return h.renderConnectors(w, r, v, http.StatusOK, func(view *connectorsView) {
		view.Notice = fmt.Sprintf("%s was added.", c.Name)
		if c.Kind.Pulled() && c.Enabled {
			view.Notice += " Its first sync has started."
		}
		view.RowID = c.ID
	})
}

// editView is the edit page of the stored connector rec.
func (h *handler) editView(r *http.Request, v *viewer, rec store.ConnectorRecord) (connectorFormView, error) {
	view, err := h.connectorForm(r, v, rec.Kind, configValues(rec.Config), rec.SecretsSet)
	if err != nil {
		return view, err
	}
	view.ID, view.Name, view.Enabled = rec.ID, rec.Name, rec.Enabled
	view.Interval = strconv.Itoa(rec.IntervalSeconds)
	if rec.UserID != nil {
		view.UserID = *rec.UserID
	}
	view.HookURL = h.hookURL(r, v.OrgID, rec.Connector)
	health := rec.Health
	view.Health = &health
	return view, nil
}

func (h *handler) adminConnectorEdit(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	view, err := h.editView(r, v, rec)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "admin_connector.html", "admin", view)
}

func (h *handler) adminConnectorSave(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	if err := h.needCapture(); err != nil {
		return err
	}
	view, err := h.editView(r, v, rec)
	if err != nil {
		return err
	}
	before := make([]string, len(view.Fields))
	for i, f := range view.Fields {
		before[i] = f.Value
	}
	in, typed := readConnectorForm(r, rec.Kind, &view)
	unchanged := true
	for i, f := range view.Fields {
		unchanged = unchanged && (f.Secret || strings.TrimSpace(f.Value) == strings.TrimSpace(before[i]))
	}
	if unchanged {
		// The settings are as stored: leave them (and the sync's place).
		in.Config = crm.Opt[json.RawMessage]{}
	}
	if typed != nil {
		// A secret typed replaces that one; the others stay: the kind
		// gets the whole set (a blank field keeps what is stored).
		if stored, err := h.Capture.Open(rec); err == nil {
			for k, val := range stored {
				if _, ok := typed[k]; !ok {
					typed[k] = val
				}
			}
		}
		withSecrets(&in, typed)
	}
	if len(view.Errors) > 0 {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_connector.html", "admin", view)
	}
	c, err := h.Capture.Update(r.Context(), v.OrgID, rec.ID, in)
	if formErrors(&view, err) {
		return h.render(w, r, v, http.StatusUnprocessableEntity, "admin_connector.html", "admin", view)
	}
	if err != nil {
		return err
	}
	return h.renderConnectors(w, r, v, http.StatusOK, func(view *connectorsView) {
		view.Notice, view.RowID = fmt.Sprintf("%s was saved.", c.Name), c.ID
	})
}

// adminConnectorEnabled turns a connector on (enabled=1) or off.
func (h *handler) adminConnectorEnabled(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	if err := h.needCapture(); err != nil {
		return err
	}
	on := r.PostFormValue("enabled") == "1"
	c, err := h.Capture.Update(r.Context(), v.OrgID, rec.ID, crm.ConnectorInput{Enabled: crm.Some(on)})
	if err != nil {
		return err
	}
	return h.renderConnectors(w, r, v, http.StatusOK, func(view *connectorsView) {
		view.RowID = c.ID
		if on {
			view.Notice = fmt.Sprintf("%s is on again.", c.Name)
			if c.Kind.Pulled() {
				view.Notice += " It syncs now."
			}
		} else {
			view.Notice = fmt.Sprintf("%s is off: it captures nothing until it is turned on.", c.Name)
		}
	})
}

// maxResyncDays is the longest range one resync may backfill (as the API).
const maxResyncDays = 366

// adminConnectorResync backfills a pulled connector from a day (and to a
// day, both included; empty: until now), as POST /v1/connectors/{id}/resync.
func (h *handler) adminConnectorResync(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	if err := h.needCapture(); err != nil {
		return err
	}
	fail := func(msg string) error {
		return h.renderConnectors(w, r, v, http.StatusUnprocessableEntity, func(view *connectorsView) {
			view.Error, view.RowID = fmt.Sprintf("%s was not resynced: %s", rec.Name, msg), rec.ID
		})
	}
	now := h.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	fromS, toS := strings.TrimSpace(r.PostFormValue("from")), strings.TrimSpace(r.PostFormValue("to"))
	from, err := time.Parse(time.DateOnly, fromS)
	if err != nil {
		return fail("choose the first day to fetch again.")
	}
	var to time.Time
	end := now
	if toS != "" {
		d, err := time.Parse(time.DateOnly, toS)
		if err != nil {
			return fail("the last day is not a date.")
		}
		to = d.AddDate(0, 0, 1)
		end = to
	}
	switch {
	case from.After(today):
		return fail("the first day is in the future.")
	case !to.IsZero() && to.After(today.AddDate(0, 0, 1)):
		return fail("the last day is in the future.")
	case !end.After(from):
		return fail("the last day is before the first.")
	case end.Sub(from) > maxResyncDays*24*time.Hour:
		return fail(fmt.Sprintf("at most %d days at a time.", maxResyncDays))
	}
	c, err := h.Capture.Resync(r.Context(), v.OrgID, rec.ID, from, to)
	var ve *crm.ValidationError
	var ce *crm.ConflictError
	switch {
	case errors.As(err, &ce):
		return fail(ce.Detail + ".")
	case errors.As(err, &ve):
		return fail(ve.Fields[0].Message + ".")
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, store.ErrUnavailable):
		return err
	case err != nil:
		h.log.WarnContext(r.Context(), "enqueue connector resync", "connector_id", rec.ID, "error", err)
		return errStatus(http.StatusServiceUnavailable, "The task queue cannot take the resync right now. Try again in a moment.")
	}
	return h.renderConnectors(w, r, v, http.StatusOK, func(view *connectorsView) {
		until := "now"
		if toS != "" {
			until = toS
		}
		view.Notice = fmt.Sprintf("%s is fetching %s to %s again; what is already logged is not logged twice.", c.Name, fromS, until)
		view.RowID = c.ID
	})
}

// adminConnectorDeletePage asks before deleting.
func (h *handler) adminConnectorDeletePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "admin_connector_delete.html", "admin",
		connectorRow{Connector: rec.Connector, KindName: connectorKindNames[rec.Kind]})
}

func (h *handler) adminConnectorDelete(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rec, err := h.connectorOfPath(r, v)
	if err != nil {
		return err
	}
	if err := h.Store.ConnectorDelete(r.Context(), v.OrgID, rec.ID); err != nil {
		return err
	}
	return h.renderConnectors(w, r, v, http.StatusOK, func(view *connectorsView) {
		view.Notice = fmt.Sprintf("%s was deleted, with its stored secrets. What it captured stays.", rec.Name)
	})
}
