// Package crm holds Logbook's domain types (orgs, users, accounts, contacts,
// deals, activities and, later, transcripts, notes and chunks), their enums,
// the validation rules every entry point shares, and the sentinel errors that
// the store returns and the API maps to status codes.
//
// It imports only the standard library and sits at the bottom of the layer
// rule in ARCHITECTURE.md: every other package may import it, it imports none
// of them.
package crm
