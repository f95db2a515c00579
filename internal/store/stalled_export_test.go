package store

import "time"

// StalledSQL exposes the stalled-deals query to package store_test, whose
// EXPLAIN test checks that every way an activity counts is an index scan.
func StalledSQL(orgID string, days int, now time.Time) (string, []any, error) {
	var a args
	q, err := stalledQuery(&a, orgID, days, now, "", nil, "", DefaultLimit+1)
	return q, a, err
}
