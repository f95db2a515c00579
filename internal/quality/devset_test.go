package quality

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadDevSet(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	require.Equal(t, []string{"IS9002", "TS9001"}, ds.AccountIDs())
	require.Equal(t, []string{"TS9001a", "TS9001b"}, ds.Accounts["TS9001"])
	require.Len(t, ds.Meetings, 3)
	m, ok := ds.Meeting("TS9001b")
	require.True(t, ok)
	require.Equal(t, "Product", m.Domain)
	require.Equal(t, Turn{I: 1, Speaker: "Engineer", Content: "The cooler lasted nine hours in the lab."}, m.Turns[1])
	_, ok = ds.Meeting("XX0000a")
	require.False(t, ok)
	require.Equal(t, TurnTime{I: 2, StartMS: 2000, EndMS: 3000}, ds.TurnIndex["IS9002a"][2])
	require.Len(t, ds.Retrieval, 3)
	require.Equal(t, []int{1, 3}, ds.Retrieval[1].RelevantTurns)
	require.Len(t, ds.Summaries, 2)
	require.Equal(t, []string{"TS9001a", "TS9001b"}, ds.LabelOrder)
	lab := ds.Labels["TS9001a"]
	require.Len(t, lab.Commitments, 4)
	require.Equal(t, "", lab.Commitments[1].Owner, "a null owner reads as no owner")
	require.Equal(t, "soft", lab.Commitments[1].Strength)
	require.Equal(t, "recap", lab.Decisions[1].Kind)
	require.Equal(t, filepath.Join(fixtureDir, "qmsum-val", "vtt", "IS9002a.vtt"), ds.VTT["IS9002a"])
}

func TestLoadDevSetMissingFile(t *testing.T) {
	t.Parallel()

	for _, name := range []string{
		"qmsum-val/accounts.json",
		"qmsum-val/meetings.jsonl",
		"qmsum-val/turn_index.jsonl",
		"qmsum-val/retrieval_gold.jsonl",
		"qmsum-val/summaries_gold.jsonl",
		"ami-val-labels.json",
		"qmsum-val/vtt/TS9001b.vtt",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			dir := copyDir(t, fixtureDir)
			require.NoError(t, os.Remove(filepath.Join(dir, name)))
			_, err := LoadDevSet(dir)
			require.ErrorIs(t, err, os.ErrNotExist)
			require.ErrorContains(t, err, filepath.Base(name))
		})
	}
}

func TestLoadDevSetMalformedLine(t *testing.T) {
	t.Parallel()

	dir := copyDir(t, fixtureDir)
	p := filepath.Join(dir, "qmsum-val", "retrieval_gold.jsonl")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"qid": "x", "meeting_id": "TS9001a", "relevant_turns": "two"}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = LoadDevSet(dir)
	require.ErrorContains(t, err, "retrieval_gold.jsonl line 4")
}
