// Package store holds every SQL statement Logbook runs: hand-written SQL on
// pgx/v5, one named method per statement (Noun+Verb: AccountGet,
// ActivityListByAccount), results mapped to crm types, and driver errors
// translated at the boundary (no rows → crm.ErrNotFound, unique violation →
// crm.ErrConflict, a foreign key to a missing row → a crm validation error).
//
// Every method takes the org ID and filters by it; a row of another org is
// indistinguishable from a missing one.
//
// A Store wraps a DBTX, which both *pgxpool.Pool and pgx.Tx satisfy: New(tx)
// inside a test transaction just works, and WithTx there becomes a savepoint.
package store
