package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func baselineMeeting() Meeting {
	return Meeting{ID: "TS1000a", Turns: []Turn{
		{I: 0, Content: "{vocalsound} Okay ."},                                                // 1 word
		{I: 1, Content: "So , we need a budget of twenty pounds ."},                           // 8 words
		{I: 2, Content: "Mm ."},                                                               // 1 word
		{I: 3, Content: "The crate will be made of steel , and the trays of soft silicone ."}, // 13 words
		{I: 4, Content: "Right , let's stop ."},                                               // 3 words
	}}
}

func TestLeadBaseline(t *testing.T) {
	t.Parallel()

	m := baselineMeeting()
	require.Equal(t, "Okay .\nSo , we need a", LeadBaseline(m, 5))
	all := LeadBaseline(m, 100)
	require.Equal(t, "Okay .\nSo , we need a budget of twenty pounds .\nMm .\n"+
		"The crate will be made of steel , and the trays of soft silicone .\nRight , let's stop .", all)
	require.Equal(t, "", LeadBaseline(m, 0))
}

func TestLongestTurnsBaseline(t *testing.T) {
	t.Parallel()

	m := baselineMeeting()
	// The longest turn alone is over budget: its first 10 words.
	require.Equal(t, "The crate will be made of steel , and the trays", LongestTurnsBaseline(m, 10))
	// 13 + 8 + 3 + 1: of the two one-word turns the earlier is taken; the
	// result is in meeting order.
	require.Equal(t, "Okay .\nSo , we need a budget of twenty pounds .\n"+
		"The crate will be made of steel , and the trays of soft silicone .\nRight , let's stop .",
		LongestTurnsBaseline(m, 25))
	// 13 + 8, then 2 of the 3-word turn, and nothing after it.
	require.Equal(t, "So , we need a budget of twenty pounds .\n"+
		"The crate will be made of steel , and the trays of soft silicone .\nRight , let's",
		LongestTurnsBaseline(m, 23))
}
