package quality

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixtureDir is a tiny dev set written for these tests (three made-up
// meetings, labels and questions), in the layout of ../shared/quality.
const fixtureDir = "testdata/devset"

func loadFixture(t *testing.T) *DevSet {
	t.Helper()
	ds, err := LoadDevSet(fixtureDir)
	require.NoError(t, err)
	return ds
}

// loadNotes reads a NOTES.jsonl file (score_notes.py's input format).
func loadNotes(t *testing.T, path string) map[string]MeetingNotes {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]MeetingNotes{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			MeetingID string       `json:"meeting_id"`
			Notes     MeetingNotes `json:"notes"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		out[r.MeetingID] = r.Notes
	}
	return out
}

// copyDir copies the fixture into a temporary directory the test may break.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// ratio returns a Ratio's value, failing when it is undefined.
func ratio(t *testing.T, r Ratio) float64 {
	t.Helper()
	v, ok := r.Value()
	require.True(t, ok, "ratio %d/%d is undefined", r.Num, r.Den)
	return v
}
