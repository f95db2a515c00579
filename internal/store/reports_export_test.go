package store

// ReportConnectRatesSQL and ReportActivityVolumeSQL expose the reports'
// statements to package store_test, whose EXPLAIN tests pin their plans to
// index-only range scans of the indexes migration 00019 made for them.
func ReportConnectRatesSQL(orgID, groupBy string, f ReportFilter) (string, []any, error) {
	return connectRateQuery(orgID, groupBy, f)
}

func ReportActivityVolumeSQL(orgID, groupBy string, f ReportFilter) (string, []any, error) {
	return volumeQuery(orgID, groupBy, f)
}
