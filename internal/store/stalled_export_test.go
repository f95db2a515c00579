package store

import "time"

// StalledSQL exposes the stalled-deals query to package store_test, whose
// EXPLAIN test checks that every way an activity counts is an index scan.
func StalledSQL(orgID string, days int, now time.Time) (string, []any, error) {
	var a args
	q, err := stalledQuery(&a, orgID, days, now, "", nil, "", "", DefaultLimit+1)
	return q, a, err
}

// DigestAccountsSQL exposes the digest's accounts query to package
// store_test (its plan is logged by the stalled-deals plan test).
func DigestAccountsSQL(orgID string, f DigestFilter, days int, now time.Time, due string) (string, []any, error) {
	return digestAccountsQuery(orgID, f, days, now, due, DefaultLimit)
}
