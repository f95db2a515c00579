package crm

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// FeedItem is one entry of the activity feed (GET /v1/activities, logbook
// export): an activity as it is now, or the tombstone of a deleted one. A
// client replays the feed by upserting live items by id and deleting by id
// on a tombstone.
type FeedItem struct {
	// ID is the activity's.
	ID string `json:"id"`
	// Deleted is true on a tombstone: the activity was deleted (on its own,
	// or with its contact or account).
	Deleted bool `json:"deleted"`
	// AccountID and Type are the activity's, on a tombstone too (its last).
	AccountID string       `json:"account_id"`
	Type      ActivityType `json:"type"`
	// DeletedAt is when a tombstone's activity was deleted; null on a live
	// item.
	DeletedAt *time.Time `json:"deleted_at"`
	// Activity is the activity as GET /v1/activities/{id} shows it (a
	// processed meeting with its notes); null on a tombstone.
	Activity *Activity `json:"activity"`
}

// FeedCSVColumns are the columns of the feed as CSV, in order. A tombstone
// fills id, deleted, deleted_at, type and account_id; a live item every
// column but deleted_at. contact_ids are space-separated; participants,
// metadata and notes are JSON text (notes empty but for processed
// meetings).
var FeedCSVColumns = []string{"id", "deleted", "deleted_at", "type", "direction", "account_id", "deal_id", "owner_id",
	"occurred_at", "duration_seconds", "subject", "body", "disposition", "next_step_text", "next_step_due", "next_step_done_at", "source",
	"external_id", "contact_ids", "participants", "metadata", "notes", "created_at", "updated_at"}

// CSVRecord is the item as one CSV row of FeedCSVColumns: data as stored,
// with no spreadsheet-formula escaping (the feed is for loaders, not
// spreadsheets). Times are RFC 3339 in UTC, dates YYYY-MM-DD, null empty.
func (it FeedItem) CSVRecord() []string {
	rec := make([]string, len(FeedCSVColumns))
	set := func(col, v string) {
		i, ok := feedCSVIndex[col]
		if !ok {
			panic("crm: feed CSV has no column " + col) // a typo here, caught by any test
		}
		rec[i] = v
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	set("id", it.ID)
	set("deleted", strconv.FormatBool(it.Deleted))
	if it.DeletedAt != nil {
		set("deleted_at", ts(*it.DeletedAt))
	}
	set("type", string(it.Type))
	set("account_id", it.AccountID)
	a := it.Activity
	if a == nil {
		return rec
	}
	if a.Direction != nil {
		set("direction", string(*a.Direction))
	}
	set("deal_id", str(a.DealID))
	set("owner_id", str(a.OwnerID))
	set("occurred_at", ts(a.OccurredAt))
	if a.DurationSeconds != nil {
		set("duration_seconds", strconv.Itoa(*a.DurationSeconds))
	}
	set("subject", str(a.Subject))
	set("body", str(a.Body))
	set("disposition", str(a.Disposition))
	if a.NextStep != nil {
		set("next_step_text", a.NextStep.Text)
		if a.NextStep.DueDate != nil {
			set("next_step_due", a.NextStep.DueDate.Time.Format(time.DateOnly))
		}
		if a.NextStep.DoneAt != nil {
			set("next_step_done_at", ts(*a.NextStep.DoneAt))
		}
	}
	set("source", string(a.Source))
	set("external_id", str(a.ExternalID))
	set("contact_ids", strings.Join(a.ContactIDs, " "))
	set("participants", participantsJSON(a.Participants))
	set("metadata", compactJSON(a.Metadata))
	set("notes", compactJSON(a.Notes))
	set("created_at", ts(a.CreatedAt))
	set("updated_at", ts(a.UpdatedAt))
	return rec
}

// feedCSVIndex is each column's place in FeedCSVColumns.
var feedCSVIndex = func() map[string]int {
	m := make(map[string]int, len(FeedCSVColumns))
	for i, c := range FeedCSVColumns {
		m[c] = i
	}
	return m
}()

// participantsJSON is participants as a JSON array ("[]" for none).
func participantsJSON(ps []Participant) string {
	if len(ps) == 0 {
		return "[]"
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// compactJSON is raw without insignificant space, as the JSON and NDJSON
// representations write it.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
