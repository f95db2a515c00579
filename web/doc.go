// Package web is Logbook's web UI: server-rendered pages (html/template)
// with their assets embedded, served by the same binary as the API, for the
// people who read accounts: reps, CSMs, managers and admins, signed in with
// their own password (the API's keys stay for machines).
//
// One route table (routes.go) lists every page and action with the role it
// needs; NewHandler wraps each with the same steps: security headers (a
// Content-Security-Policy that allows this origin only), the session from
// the cookie (store.SessionLookup), the role check, the CSRF check on every
// state-changing request, and error pages (another org's record is a 404,
// as in the API). Handlers read through the same services and store
// methods as the API, so a page shows what the API answers.
//
// Templates: templates/layout.html is the frame (landmarks, skip link,
// navigation); each page in templates/pages defines "title" and "content";
// templates/partials holds fragments a page and a fetch can both render.
// Every value is escaped by html/template; nothing builds HTML by hand.
package web
