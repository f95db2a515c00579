package crm

import "testing"

// TestParseTimeOffsets: RFC 3339's offset hours run 00 to 23, and
// time.Parse alone takes +24:00 (the OpenAPI check of the API tests found
// the API accepting what its document's date-time refuses).
func TestParseTimeOffsets(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"2026-03-10T15:00:00+23:59": true,
		"2026-03-10T15:00:00-23:59": true,
		"2026-03-10T15:00:00Z":      true,
		"2026-03-10T15:00:00+24:00": false,
		"2026-03-10T15:00:00-24:00": false,
	} {
		var p Problems
		ParseTime(&p, "at", s)
		if got := p.Err() == nil; got != ok {
			t.Errorf("%s: accepted %v, want %v (%v)", s, got, ok, p.Err())
		}
	}
}
