package transcript

import "testing"

// BenchmarkParseVTT4h parses a four-hour, 50,000-word Zoom-style WebVTT
// file (fourHourVTT). It must stay well under 50 ms per parse.
func BenchmarkParseVTT4h(b *testing.B) {
	content := fourHourVTT()
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("vtt", content); err != nil {
			b.Fatal(err)
		}
	}
}
