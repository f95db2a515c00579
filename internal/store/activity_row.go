package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Activities are written by upsert: an activity that carries an external_id
// is unique per (org, source, external_id), and its content_hash (SHA-256 of
// the canonical JSON of what was posted, after the account and contacts were
// resolved) tells a harmless re-post (nothing changes, not even updated_at)
// from a changed one (the row and its contact links are rewritten). Rows
// without an external_id cannot be posted again and store no hash.
//
// The store only runs the SQL: package activity validates an input, resolves
// its account and contacts (with ActivityRefs), applies the org's
// disposition rules and hands the store a finished ActivityRow. The files:
//   - activity_row.go: the row, its content hash and how it is read back;
//   - activity_refs.go: the lookups resolution needs, and the missing
//     references a refused write names;
//   - activity_write.go: one activity (ActivityWrite);
//   - activity_batch.go: a batch (ActivityWriteBatch);
//   - activity_update.go: read one, replace one (PATCH), delete one;
//   - timeline.go: an account's timeline.

// UpsertResult says what posting an activity did to the stored row.
type UpsertResult string

// Upsert results. An activity whose source and external_id are already stored
// is UpsertUnchanged when its content hash matches (nothing is written) and
// UpsertUpdated otherwise.
const (
	UpsertCreated   UpsertResult = "created"
	UpsertUpdated   UpsertResult = "updated"
	UpsertUnchanged UpsertResult = "unchanged"
)

// ActivityUpserted is what ActivityWriteBatch (activity.Service.UpsertBatch) did with one item, in input
// order.
type ActivityUpserted struct {
	ID         string
	ExternalID *string
	Result     UpsertResult
	// DeliveryIDs are the activity.created webhook deliveries written with
	// a created activity (one per subscribed webhook; none otherwise), for
	// the caller to enqueue after commit.
	DeliveryIDs []string
}

// plan has no Sort node anywhere).
const activityColumns = `a.id, a.type, a.direction, a.account_id, a.deal_id, a.owner_id, a.occurred_at,
	a.duration_seconds, a.subject, a.body, a.disposition, a.next_step_text, a.next_step_due, a.next_step_done_at,
	a.participants, a.source, a.external_id, a.metadata, a.created_at, a.updated_at,
	ARRAY(SELECT ac.contact_id FROM activity_contacts ac WHERE ac.org_id = a.org_id AND ac.activity_id = a.id)`

func scanActivity(orgID string) pgx.RowToFunc[crm.Activity] {
	return func(r pgx.CollectableRow) (crm.Activity, error) {
		a := crm.Activity{OrgID: orgID}
		var (
			dir, nsText *string
			nsDue       *time.Time
			nsDone      *time.Time
			dur         *int32
			metadata    []byte
		)
		err := r.Scan(&a.ID, &a.Type, &dir, &a.AccountID, &a.DealID, &a.OwnerID, &a.OccurredAt,
			&dur, &a.Subject, &a.Body, &a.Disposition, &nsText, &nsDue, &nsDone,
			&a.Participants, &a.Source, &a.ExternalID, &metadata, &a.CreatedAt, &a.UpdatedAt,
			&a.ContactIDs)
		if err != nil {
			return a, err
		}
		if dir != nil {
			d := crm.Direction(*dir)
			a.Direction = &d
		}
		if dur != nil {
			n := int(*dur)
			a.DurationSeconds = &n
		}
		if nsText != nil {
			a.NextStep = &crm.NextStep{Text: *nsText}
			if nsDue != nil {
				a.NextStep.DueDate = &crm.Date{Time: *nsDue}
			}
			if nsDone != nil {
				t := nsDone.UTC()
				a.NextStep.DoneAt = &t
			}
		}
		a.Metadata = json.RawMessage(metadata)
		if a.Participants == nil {
			a.Participants = []crm.Participant{}
		}
		if a.ContactIDs == nil {
			a.ContactIDs = []string{}
		}
		slices.Sort(a.ContactIDs)
		a.OccurredAt, a.CreatedAt, a.UpdatedAt = a.OccurredAt.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		return a, nil
	}
}

// ActivityRow is one activity ready to be written: validated, its account
// and contacts resolved (package activity does both), finished (Finish).
type ActivityRow struct {
	// Item is the row's index in its request, for results and problems.
	Item int
	// ID is the new row's ID (an upsert that finds its row keeps the stored
	// one).
	ID           string
	Type         crm.ActivityType
	Direction    *crm.Direction
	AccountID    string
	DealID       *string
	OwnerID      *string
	OccurredAt   time.Time
	Duration     *int
	Subject      *string
	Body         *string
	Disposition  *string
	NextStep     *crm.NextStep
	Participants []crm.Participant
	Source       crm.Source
	ExternalID   *string
	Metadata     json.RawMessage
	// ContactIDs are the contacts to link: sorted, distinct, of AccountID.
	ContactIDs []string

	hash []byte // set by Finish
}

// Finish normalises what the hash and the columns need (empty metadata,
// participants and contacts) and computes the content hash. Whoever builds a
// row finishes it before handing it to a write; a write does not finish it
// again.
func (r *ActivityRow) Finish() {
	if len(r.Metadata) == 0 {
		r.Metadata = json.RawMessage(`{}`)
	}
	if r.Participants == nil {
		r.Participants = []crm.Participant{}
	}
	if r.ContactIDs == nil {
		r.ContactIDs = []string{}
	}
	// Only a row with an external_id can be posted again, so only its
	// content needs a hash to compare; others store NULL.
	r.hash = nil
	if r.ExternalID != nil {
		r.hash = r.contentHash()
	}
}

// contentHash is SHA-256 of the canonical JSON of everything the row says
// (not its id, source or external_id, which identify it). Struct fields
// marshal in a fixed order and metadata is re-encoded with sorted keys, so
// the same content always hashes the same.
func (r *ActivityRow) contentHash() []byte {
	c := struct {
		Type         crm.ActivityType  `json:"type"`
		Direction    *crm.Direction    `json:"direction"`
		AccountID    string            `json:"account_id"`
		ContactIDs   []string          `json:"contact_ids"`
		Participants []crm.Participant `json:"participants"`
		DealID       *string           `json:"deal_id"`
		OwnerID      *string           `json:"owner_id"`
		OccurredAt   string            `json:"occurred_at"`
		Duration     *int              `json:"duration_seconds"`
		Subject      *string           `json:"subject"`
		Body         *string           `json:"body"`
		Disposition  *string           `json:"disposition"`
		NextStep     any               `json:"next_step"`
		Metadata     json.RawMessage   `json:"metadata"`
	}{
		r.Type, r.Direction, r.AccountID, r.ContactIDs, r.Participants, r.DealID, r.OwnerID,
		r.OccurredAt.UTC().Format(time.RFC3339Nano), r.Duration, r.Subject, r.Body, r.Disposition,
		hashNextStep(r.NextStep), canonicalJSON(r.Metadata),
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Only invalid metadata JSON can fail, which validation rules out;
		// hash the raw bytes rather than lose the row.
		b = append([]byte(fmt.Sprintf("%+v", c)), r.Metadata...)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// hashNextStep is the next step as the content hash sees it: what was
// posted (text and due date), without whether it was marked done, so
// marking it done changes no hash and a hash is the same as before done_at
// existed.
func hashNextStep(ns *crm.NextStep) any {
	if ns == nil {
		return nil
	}
	return struct {
		Text    string    `json:"text"`
		DueDate *crm.Date `json:"due_date"`
	}{ns.Text, ns.DueDate}
}

// canonicalJSON re-encodes a JSON value with sorted object keys and no
// insignificant space (numbers keep their text).
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == `{}` {
		return json.RawMessage(`{}`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

// SameContent reports whether two finished rows say the same thing (their
// content hashes are equal): a batch that repeats a source and external_id
// with the same content posts one activity.
func (r *ActivityRow) SameContent(o *ActivityRow) bool { return bytes.Equal(r.hash, o.hash) }

// activity returns the row as the API shows it.
func (r *ActivityRow) activity(orgID string) crm.Activity {
	return crm.Activity{
		ID: r.ID, OrgID: orgID, Type: r.Type, Direction: r.Direction, AccountID: r.AccountID,
		DealID: r.DealID, OwnerID: r.OwnerID, ContactIDs: r.ContactIDs, Participants: r.Participants,
		OccurredAt: r.OccurredAt.UTC(), DurationSeconds: r.Duration, Subject: r.Subject, Body: r.Body,
		Disposition: r.Disposition, NextStep: r.NextStep, Source: r.Source, ExternalID: r.ExternalID,
		Metadata: r.Metadata,
	}
}

// nextStepText, nextStepDue, durationArg and participantsJSON are column
// values of the row as pgx encodes them.
func (r *ActivityRow) nextStepText() *string {
	if r.NextStep == nil {
		return nil
	}
	return &r.NextStep.Text
}

func (r *ActivityRow) nextStepDue() *time.Time {
	if r.NextStep == nil || r.NextStep.DueDate == nil {
		return nil
	}
	return &r.NextStep.DueDate.Time
}

func (r *ActivityRow) durationArg() *int32 {
	if r.Duration == nil {
		return nil
	}
	n := int32(*r.Duration)
	return &n
}

func (r *ActivityRow) participantsJSON() string {
	b, err := json.Marshal(r.Participants)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func directionArg(d *crm.Direction) *string {
	if d == nil {
		return nil
	}
	s := string(*d)
	return &s
}
