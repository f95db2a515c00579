package web

import (
	"encoding/json"
	"html"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestInjectionCorpusRendersAsText: every transcript of the project's
// injection corpus (summarize/testdata/injection: payment redirection,
// credential requests, outside links, in several languages and markups),
// stored as a meeting, shows on the transcript page line by line as text:
// each line's words HTML-escaped, no markup of a line ever raw on the page.
func TestInjectionCorpusRendersAsText(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../summarize/testdata/injection/corpus.json")
	require.NoError(t, err)
	var corpus struct {
		Cases []struct {
			Name  string   `json:"name"`
			Lines []string `json:"lines"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &corpus))
	require.NotEmpty(t, corpus.Cases)

	b := setup(t, "")
	f := b.fixture("Acme Corp")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	marked := 0
	for i, c := range corpus.Cases {
		segs := make([]crm.Segment, len(c.Lines))
		for j, l := range c.Lines {
			speaker, text, _ := strings.Cut(l, "|")
			segs[j] = crm.Segment{Index: j, Speaker: speaker, Text: text, StartMS: int64(j) * 1000, EndMS: int64(j+1) * 1000}
		}
		m := b.meeting(f.account.ID, at.Add(time.Duration(i)*time.Hour), c.Name, segs, nil)
		res := b.get("/activities/" + m.ID + "/transcript")
		require.Equal(t, http.StatusOK, res.Status, c.Name)
		for _, s := range segs {
			require.Contains(t, res.Body, html.EscapeString(s.Text), "%s: line %d is shown, escaped", c.Name, s.Index)
			if strings.ContainsAny(s.Text, "<>") {
				marked++
				require.NotContains(t, res.Body, s.Text, "%s: line %d's markup is never raw", c.Name, s.Index)
			}
		}
	}
	require.Positive(t, marked, "the corpus carries markup: the check above is not empty")
}
