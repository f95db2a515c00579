package crm

import (
	"slices"
	"testing"
	"time"
)

// TestFeedCSVRecordFillsEveryColumn: a live item with every field set
// fills every column but deleted_at, each from its own field.
func TestFeedCSVRecordFillsEveryColumn(t *testing.T) {
	s := func(v string) *string { return &v }
	dir := DirectionOutbound
	dur := 60
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	done := at.Add(time.Hour)
	a := Activity{ID: "a1", Type: ActivityCall, Direction: &dir, AccountID: "acc", DealID: s("deal"), OwnerID: s("own"),
		OccurredAt: at, DurationSeconds: &dur, Subject: s("subj"), Body: s("body"), Disposition: s("connected"),
		NextStep: &NextStep{Text: "step", DueDate: &Date{Time: at}, DoneAt: &done}, Source: SourceDialer,
		ExternalID: s("x1"), ContactIDs: []string{"c1", "c2"}, Participants: []Participant{{Name: "Dana"}},
		Metadata: []byte(`{"list": "q1"}`), Notes: []byte(`{"summary": "s"}`), CreatedAt: at, UpdatedAt: at}
	rec := FeedItem{ID: "a1", Type: ActivityCall, AccountID: "acc", Activity: &a}.CSVRecord()
	for i, c := range FeedCSVColumns {
		if c == "deleted_at" {
			if rec[i] != "" {
				t.Errorf("deleted_at = %q on a live item", rec[i])
			}
			continue
		}
		if rec[i] == "" {
			t.Errorf("column %s is empty", c)
		}
	}
	col := func(name string) string { return rec[slices.Index(FeedCSVColumns, name)] }
	for name, want := range map[string]string{
		"next_step_done_at": "2026-03-02T16:00:00Z", "next_step_due": "2026-03-02", "contact_ids": "c1 c2",
		"metadata": `{"list":"q1"}`, "deleted": "false", "duration_seconds": "60",
	} {
		if got := col(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
