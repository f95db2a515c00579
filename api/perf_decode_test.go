package api

import "testing"

// perfDecodeBody is a single POST /v1/activities from a dialer: the body
// the ingest benchmark (logbook bench -only ingest) sends.
const perfDecodeBody = `{"type":"call","direction":"outbound","account_id":"0190b7a0-8f8e-7c44-9d6e-2a9a5b0c1d2e","occurred_at":"2026-01-01T01:02:03Z","duration_seconds":183,"disposition":"connected","source":"dialer","subject":"Call 12345","body":"Discussed renewal; follow up."}`

// BenchmarkPerfDecodeSingle measures decoding one activity as
// activityCreate does.
func BenchmarkPerfDecodeSingle(b *testing.B) {
	body := []byte(perfDecodeBody)
	b.ReportAllocs()
	for b.Loop() {
		var one activityCreateJSON
		if err := unmarshalStrict(body, &one); err != nil {
			b.Fatal(err)
		}
	}
}
