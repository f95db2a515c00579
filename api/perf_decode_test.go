package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// perfDecodeBodies are bodies decodeFast must decode exactly as
// unmarshalStrict does, or hand over to it.
var perfDecodeBodies = []string{
	`{"type":"call","direction":"outbound","account_id":"0190b7a0-8f8e-7c44-9d6e-2a9a5b0c1d2e","occurred_at":"2026-01-01T01:02:03Z","duration_seconds":183,"disposition":"connected","source":"dialer","subject":"Call 12345","body":"Discussed renewal; follow up."}`,
	" \n{ \"type\" : \"note\" ,\r\n\t\"occurred_at\":\"2026-01-01T00:00:00Z\", \"account_id\": null, \"deal_id\":null,\"owner_id\":\"x\" } \n",
	`{"type":"note","source":null}`,
	`{"type":"note","duration_seconds":-0}`,
	`{"type":"note","duration_seconds":0}`,
	`{"type":"note","duration_seconds":-12}`,
	`{"type":"note","external_id":"é ünïcode ✓","subject":""}`,
	"{\"type\":\"\x88\"}",
	"{\"type\":\"a\xff\"}",
	// Handed over: each of these differs from the plain shape somewhere.
	`{}`,
	`{"Type":"call"}`,
	`{"type":"call","type":"note"}`,
	`{"type":"ca\"ll"}`,
	`{"type":"call\u0041"}`,
	`{"duration_seconds":1.0}`,
	`{"duration_seconds":1e2}`,
	`{"duration_seconds":01}`,
	`{"duration_seconds":"1"}`,
	`{"duration_seconds":99999999999999999999}`,
	`{"type":1}`,
	`{"type":"call",}`,
	`{"type":"call"} {}`,
	`{"type":"call"}x`,
	`{"type":"call"`,
	`{"type" "call"}`,
	`{"type":nul}`,
	`{"type":nullx}`,
	`{"participants":[{"email":"a@b.co"}]}`,
	`{"contact_ids":[]}`,
	`{"metadata":{"a":1}}`,
	`{"next_step":{"text":"x"}}`,
	`{"activities":[]}`,
	`{"unknown":"x"}`,
	`[]`,
	``,
	`"x"`,
}

func TestPerfDecodeFastMatchesStrict(t *testing.T) {
	t.Parallel()
	for _, body := range perfDecodeBodies {
		checkDecodeFast(t, []byte(body))
	}
}

func FuzzPerfDecodeFast(f *testing.F) {
	for _, body := range perfDecodeBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeFast(t, b) })
}

// checkDecodeFast fails when decodeFast accepts b but unmarshalStrict
// refuses it or decodes something else.
func checkDecodeFast(t *testing.T, b []byte) {
	t.Helper()
	var fast activityCreateJSON
	if !fast.decodeFast(b) {
		return
	}
	var strict activityCreateJSON
	require.NoError(t, unmarshalStrict(b, &strict), "decodeFast accepted %q", b)
	require.Equal(t, strict, fast, "decodeFast decoded %q differently", b)
}

func BenchmarkPerfDecodeSingle(b *testing.B) {
	body := []byte(perfDecodeBodies[0])
	b.Run("Fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var one activityCreateJSON
			if !one.decodeFast(body) {
				b.Fatal("not fast")
			}
		}
	})
	b.Run("Strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var one activityCreateJSON
			if err := unmarshalStrict(body, &one); err != nil {
				b.Fatal(err)
			}
		}
	})
}
