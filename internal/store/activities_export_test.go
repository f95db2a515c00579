package store

// ActivityTimelineSQL exposes the timeline query to package store_test,
// whose EXPLAIN test pins its plan to a range scan of activities_timeline_idx.
func ActivityTimelineSQL(orgID, accountID string, f ActivityFilter) (string, []any, error) {
	q, a, _, err := activityTimelineQuery(orgID, accountID, f)
	return q, a, err
}
