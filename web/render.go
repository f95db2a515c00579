package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

//go:embed templates static
var files embed.FS

// pages are the parsed templates: each page with the layout and every
// partial, and the partials alone (fragments).
type pages struct {
	page     map[string]*template.Template
	partials *template.Template
}

// funcs are the template functions every template may use.
var funcs = template.FuncMap{
	// slice3 makes a list of three strings (a template's several arguments).
	"slice3": func(a, b, c string) []string { return []string{a, b, c} },
	// date is a time as a date (2026-03-02), UTC.
	"date": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	// datetime is a time to the minute, UTC.
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	// iso is a time in RFC 3339 (for <time datetime>).
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// clock is milliseconds into a meeting as m:ss or h:mm:ss.
	"clock": func(ms int64) string {
		s := ms / 1000
		if s >= 3600 {
			return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
		}
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	// cite and reviewArgs: the account pages' (account_funcs.go).
	"cite":       citeHref,
	"reviewArgs": reviewArgs,
}

func loadPages() (*pages, error) {
	base := template.New("layout.html").Funcs(funcs)
	base, err := base.ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	if m, _ := fs.Glob(files, "templates/partials/*.html"); len(m) > 0 {
		if base, err = base.ParseFS(files, "templates/partials/*.html"); err != nil {
			return nil, fmt.Errorf("web: parse partials: %w", err)
		}
	}
	p := &pages{page: map[string]*template.Template{}, partials: base}
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(files, n); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		p.page[path.Base(n)] = t
	}
	return p, nil
}

// page is what the layout renders a page with.
type page struct {
	// Viewer is the signed-in person (nil on the sign-in pages).
	Viewer *viewer
	// CSRF is the token forms post back (the viewer's).
	CSRF string
	// Nav names the section the page belongs to, for the navigation's
	// aria-current ("accounts", "reports"…).
	Nav string
	// Data is the page's own.
	Data any
}

// render writes a full page: name is a file of templates/pages, data the
// page's own (as .Data). It renders into a buffer first, so a template
// error is an error page, never half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, v *viewer, status int, name, nav string, data any) error {
	t, ok := h.pages.page[name]
	if !ok {
		return fmt.Errorf("web: no page %s", name)
	}
	pg := page{Viewer: v, Nav: nav, Data: data}
	if v != nil {
		pg.CSRF = v.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pg); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	writeHTML(w, status, buf.Bytes())
	return nil
}

// renderFragment writes one partial alone (for a fetch that replaces part
// of a page), with the same page wrapper as data.
func (h *handler) renderFragment(w http.ResponseWriter, v *viewer, status int, name string, data any) error {
	pg := page{Viewer: v, Data: data}
	if v != nil {
		pg.CSRF = v.CSRF
	}
	var buf bytes.Buffer
	if err := h.pages.partials.ExecuteTemplate(&buf, name, pg); err != nil {
		return fmt.Errorf("web: render fragment %s: %w", name, err)
	}
	writeHTML(w, status, buf.Bytes())
	return nil
}

func writeHTML(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// statusError is an error with the status and message its page shows.
type statusError struct {
	status  int
	message string
}

func (e *statusError) Error() string { return e.message }

func errStatus(status int, format string, a ...any) error {
	return &statusError{status: status, message: fmt.Sprintf(format, a...)}
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Title   string
	Message string
}

// errorPage answers err as a page: another org's record or an unknown one
// is the 404 page (never a 403: no existence leak), a database outage 503
// with Retry-After, a statusError its own; anything else is logged and
// shown as 500 without its details.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	ev := errorView{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "The error has been logged. Try again in a moment."}
	var se *statusError
	var ve *crm.ValidationError
	switch {
	case errors.As(err, &se):
		ev.Status, ev.Message = se.status, se.message
		ev.Title = http.StatusText(se.status)
	case errors.Is(err, crm.ErrNotFound):
		ev.Status, ev.Title = http.StatusNotFound, "Not found"
		ev.Message = "There is nothing here, or it is not yours to see."
	case errors.As(err, &ve):
		ev.Status, ev.Title = http.StatusUnprocessableEntity, "Check what you entered"
		ev.Message = ve.Error()
	case errors.Is(err, store.ErrUnavailable):
		ev.Status, ev.Title = http.StatusServiceUnavailable, "Logbook is unavailable"
		ev.Message = "The database cannot be reached right now. Try again in a moment."
		w.Header().Set("Retry-After", "5")
	default:
		h.log.ErrorContext(r.Context(), "web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if rerr := h.render(w, r, v, ev.Status, "error.html", "", ev); rerr != nil {
		h.log.ErrorContext(r.Context(), "render error page", "error", rerr)
		http.Error(w, ev.Message, ev.Status)
	}
}

// staticHandler serves the embedded assets under /static/.
func staticHandler() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed always has static/
	}
	fsrv := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
