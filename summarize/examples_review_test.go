package summarize_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/safety"
	"logbook/internal/transcript"
	"logbook/summarize"
)

// TestExampleMeetingsNotFlagged runs the detector over the example
// meetings shipped in examples/ (ordinary sales calls: pricing, renewals,
// security reviews, onboarding; written before the detector and not used to
// tune it): no segment and no notes item of theirs is flagged.
func TestExampleMeetingsNotFlagged(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../examples/meetings.json")
	require.NoError(t, err)
	var metas []struct {
		File    string `json:"file"`
		Format  string `json:"format"`
		Title   string `json:"title"`
		Account struct {
			Domains []string `json:"domains"`
		} `json:"account"`
		Participants []crm.Participant `json:"participants"`
	}
	require.NoError(t, json.Unmarshal(raw, &metas))
	require.NotEmpty(t, metas)
	segments, items := 0, 0
	for _, meta := range metas {
		content, err := os.ReadFile(filepath.Join("../examples", meta.File))
		require.NoError(t, err)
		segs, err := transcript.Parse(meta.Format, content)
		require.NoError(t, err, meta.File)
		trusted := append([]string{}, meta.Account.Domains...)
		for _, p := range meta.Participants {
			trusted = append(trusted, crm.EmailDomain(p.Email))
		}
		m := summarize.Meeting{Title: meta.Title, Participants: meta.Participants, Segments: segs, TrustedDomains: trusted}
		n, err := summarize.New(local.New(64), summarize.Config{}).Notes(context.Background(), m)
		require.NoError(t, err)
		segments += len(segs)
		chk := safety.New(trusted)
		for _, seg := range segs {
			if fs := chk.Check(seg.Text); len(fs) > 0 {
				t.Errorf("%s: benign segment %d flagged (%s): %q", meta.File, seg.Index, safety.Reason(fs), seg.Text)
			}
		}
		for _, it := range allItems(n) {
			items++
			require.False(t, it.needs, "%s: benign %s item flagged: %q (%s)", meta.File, it.kind, it.text, deref(it.reason))
		}
		require.Zero(t, n.Held())
	}
	t.Logf("%d example meetings, %d segments, %d notes items: none flagged", len(metas), segments, items)
}
