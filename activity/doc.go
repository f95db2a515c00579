// Package activity holds the rules of writing an activity: everything
// between a request (the API, transcript ingest, and next the connectors and
// the web UI) and the SQL. A write is validated (crm.ActivityInput.Validate),
// its account and contacts are resolved from account_id, contact_ids or the
// participants' emails and domains, the org's disposition rules are applied,
// and the finished row goes to the store (internal/store), which only runs
// SQL. Transcript ingest parses the posted transcript (internal/transcript),
// upserts its meeting activity and stores the transcript in one transaction.
//
// Errors are the store's and crm's: a *crm.ValidationError naming every bad
// field (a missing account, deal or owner included), crm.ErrNotFound,
// crm.ErrConflict; a transcript over the size limits wraps
// transcript.ErrTooLong.
package activity
