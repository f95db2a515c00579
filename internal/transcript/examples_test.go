package transcript

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// exampleMeeting is one entry of examples/meetings.json (the fields these
// tests read).
type exampleMeeting struct {
	File         string            `json:"file"`
	Format       string            `json:"format"`
	Title        string            `json:"title"`
	StartedAt    string            `json:"started_at"`
	Duration     int               `json:"duration_seconds"`
	Source       string            `json:"source"`
	ExternalID   string            `json:"external_id"`
	Participants []crm.Participant `json:"participants"`
	Account      struct {
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
	} `json:"account"`
	Expect struct {
		Commitments     []exampleQuote `json:"commitments"`
		Tentative       []exampleQuote `json:"tentative"`
		Decisions       []exampleQuote `json:"decisions"`
		Risks           []exampleQuote `json:"risks"`
		PromptInjection *exampleQuote  `json:"prompt_injection"`
	} `json:"expect"`
}

// exampleQuote is a fact a reader should find: who said what (and, for a
// commitment, whose it is and by when).
type exampleQuote struct {
	Owner  string `json:"owner"`
	SaidBy string `json:"said_by"`
	Due    string `json:"due"`
	Quote  string `json:"quote"`
}

// TestExamplesParse parses every sample meeting in examples/ with the format
// meetings.json gives and checks that it is a real meeting: at least 30
// segments, every listed participant among the speakers, and each expected
// quote in a segment of the speaker who said it.
func TestExamplesParse(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "examples")
	b, err := os.ReadFile(filepath.Join(dir, "meetings.json"))
	require.NoError(t, err)
	var meetings []exampleMeeting
	require.NoError(t, json.Unmarshal(b, &meetings))
	require.Len(t, meetings, 6)

	formats, injections := map[string]bool{}, 0
	for _, m := range meetings {
		formats[m.Format+"/"+m.Source] = true
		if m.Expect.PromptInjection != nil {
			injections++
		}
	}
	require.Len(t, formats, 6, "each meeting shows a different recorder")
	require.Equal(t, 1, injections, "exactly one meeting carries a prompt-injection attempt")

	for _, m := range meetings {
		t.Run(strings.TrimSuffix(m.File, filepath.Ext(m.File)), func(t *testing.T) {
			t.Parallel()
			content, err := os.ReadFile(filepath.Join(dir, m.File))
			require.NoError(t, err)
			require.Equal(t, m.Format, Detect(content))
			segs, err := Parse(m.Format, content)
			require.NoError(t, err)
			requireInvariants(t, segs)
			require.GreaterOrEqual(t, len(segs), 30)
			require.NotEmpty(t, m.Title)
			require.Contains(t, m.StartedAt, "2026-")
			require.NotEmpty(t, m.ExternalID)
			require.Greater(t, int64(m.Duration)*1000, segs[len(segs)-1].EndMS)

			speakers := map[string]bool{}
			for _, s := range segs {
				speakers[s.Speaker] = true
			}
			sellers, buyers := 0, 0
			for _, p := range m.Participants {
				require.True(t, speakers[p.Name], "participant %s does not speak", p.Name)
				domain := p.Email[strings.IndexByte(p.Email, '@')+1:]
				switch {
				case domain == "northwind.example":
					sellers++
				case slices.Contains(m.Account.Domains, domain):
					buyers++
				default:
					t.Fatalf("participant %s has an email outside both companies", p.Email)
				}
			}
			require.Positive(t, sellers)
			require.Positive(t, buyers)
			require.Len(t, speakers, len(m.Participants), "no speaker outside the participant list")

			quotes := slices.Concat(m.Expect.Commitments, m.Expect.Tentative, m.Expect.Decisions, m.Expect.Risks)
			if m.Expect.PromptInjection != nil {
				quotes = append(quotes, *m.Expect.PromptInjection)
			}
			require.GreaterOrEqual(t, len(m.Expect.Commitments), 2)
			for _, q := range quotes {
				found := slices.ContainsFunc(segs, func(s crm.Segment) bool {
					return s.Speaker == q.SaidBy && strings.Contains(s.Text, q.Quote)
				})
				require.True(t, found, "%s does not say %q", q.SaidBy, q.Quote)
				if q.Owner != "" {
					require.True(t, speakers[q.Owner], "owner %s is not a participant", q.Owner)
				}
			}
		})
	}
}
