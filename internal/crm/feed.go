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
	"occurred_at", "duration_seconds", "subject", "body", "disposition", "next_step_text", "next_step_due", "source",
	"external_id", "contact_ids", "participants", "metadata", "notes", "created_at", "updated_at"}

// CSVRecord is the item as one CSV row of FeedCSVColumns: data as stored,
// with no spreadsheet-formula escaping (the feed is for loaders, not
// spreadsheets). Times are RFC 3339 in UTC, dates YYYY-MM-DD, null empty.
func (it FeedItem) CSVRecord() []string {
	rec := make([]string, len(FeedCSVColumns))
	rec[0] = it.ID
	rec[1] = strconv.FormatBool(it.Deleted)
	if it.DeletedAt != nil {
		rec[2] = it.DeletedAt.UTC().Format(time.RFC3339Nano)
	}
	rec[3] = string(it.Type)
	rec[5] = it.AccountID
	a := it.Activity
	if a == nil {
		return rec
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if a.Direction != nil {
		rec[4] = string(*a.Direction)
	}
	rec[6] = str(a.DealID)
	rec[7] = str(a.OwnerID)
	rec[8] = a.OccurredAt.UTC().Format(time.RFC3339Nano)
	if a.DurationSeconds != nil {
		rec[9] = strconv.Itoa(*a.DurationSeconds)
	}
	rec[10] = str(a.Subject)
	rec[11] = str(a.Body)
	rec[12] = str(a.Disposition)
	if a.NextStep != nil {
		rec[13] = a.NextStep.Text
		if a.NextStep.DueDate != nil {
			rec[14] = a.NextStep.DueDate.Time.Format(time.DateOnly)
		}
	}
	rec[15] = string(a.Source)
	rec[16] = str(a.ExternalID)
	rec[17] = strings.Join(a.ContactIDs, " ")
	rec[18] = participantsJSON(a.Participants)
	rec[19] = compactJSON(a.Metadata)
	rec[20] = compactJSON(a.Notes)
	rec[21] = a.CreatedAt.UTC().Format(time.RFC3339Nano)
	rec[22] = a.UpdatedAt.UTC().Format(time.RFC3339Nano)
	return rec
}

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
