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

func TestClipText(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"héllo wörld", 5, "héllo"},
		{"a\x00b", 5, "ab"},
		{"ok\xffok", 10, "ok\uFFFDok"},
		{"日本語テキスト", 3, "日本語"},
		{"", 3, ""},
	} {
		got := ClipText(c.in, c.max)
		if got != c.want {
			t.Errorf("ClipText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		var p Problems
		CheckText(&p, "f", got, c.max, false)
		if p.Len() != 0 {
			t.Errorf("ClipText(%q, %d) = %q, which CheckText refuses", c.in, c.max, got)
		}
	}
}
