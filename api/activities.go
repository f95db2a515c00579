package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// activityBatchResult answers a batch POST /v1/activities: what happened to
// each item, in input order, and the totals.
type activityBatchResult struct {
	Items     []activityBatchItem `json:"items"`
	Created   int                 `json:"created"`
	Updated   int                 `json:"updated"`
	Unchanged int                 `json:"unchanged"`
}

// activityBatchItem is one item's outcome: result is created, updated or
// unchanged.
type activityBatchItem struct {
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id"`
	Result     string  `json:"result"`
}

func activityTypeNames() []string { return strs(crm.ActivityTypes) }

// activityCreate serves both forms of POST /v1/activities. The body is read
// with the batch limit. A body whose first key is "activities" is a batch;
// any other is decoded strictly as one activity, and an unknown "activities"
// field found there makes it a batch after all. Either way the common body
// is parsed once. A single activity over the single limit is 413.
func (h *handler) activityCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	b, err := readBody(w, r, maxBatchBody)
	if err != nil {
		return err
	}
	if firstKeyIs(b, "activities") {
		return h.activityCreateBatch(w, r, p, b)
	}
	var one activityCreateJSON
	err = unmarshalStrict(b, &one)
	if isBatchField(err) {
		return h.activityCreateBatch(w, r, p, b)
	}
	if len(b) > maxBody {
		return errStatus(http.StatusRequestEntityTooLarge,
			"request body is over the limit of %d bytes for one activity (%d for a batch)", maxBody, maxBatchBody)
	}
	if err != nil {
		return err
	}
	a, res, deliveries, err := h.activities.Upsert(r.Context(), p.OrgID, one.input())
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		h.enqueueAfterCommit(r.Context(), p.OrgID, nil, deliveries)
	}
	status := http.StatusOK
	if res == store.UpsertCreated {
		status = http.StatusCreated
	}
	writeJSON(w, status, a)
	return nil
}

// firstKeyIs reports whether b is an object whose first key is key (in any
// case, as encoding/json matches fields, and without escapes): the cheap
// test for a batch. Anything else is decoded as one activity, whose decoder
// still recognises "activities" elsewhere.
func firstKeyIs(b []byte, key string) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) < len(key)+2 || b[0] != '"' || b[len(key)+1] != '"' {
		return false
	}
	return strings.EqualFold(string(b[1:len(key)+1]), key)
}

// isBatchField reports whether decoding a body as one activity failed on a
// top-level "activities" field: ActivityInput has none, so the only problem
// decoding can report on it is that it is unknown.
func isBatchField(err error) bool {
	var ve *crm.ValidationError
	return errors.As(err, &ve) && len(ve.Fields) == 1 && strings.EqualFold(ve.Fields[0].Field, "activities")
}

// activityCreateJSON decodes one activity of a create: crm.ActivityInput
// with plain pointers where a create cannot tell null from absent anyway (no
// value either way), which encoding/json decodes natively rather than
// through Opt's UnmarshalJSON per field. It saves ~40% of decoding, which is
// much of a 1000-item batch's CPU. Source stays an Opt (null is refused
// there, absent defaults to api), metadata stays raw. Its fields and json
// names must match crm.ActivityInput's (a test checks).
type activityCreateJSON struct {
	Type            *crm.ActivityType   `json:"type"`
	Direction       *crm.Direction      `json:"direction"`
	AccountID       *string             `json:"account_id"`
	ContactIDs      *[]string           `json:"contact_ids"`
	Participants    *[]crm.Participant  `json:"participants"`
	DealID          *string             `json:"deal_id"`
	OwnerID         *string             `json:"owner_id"`
	OccurredAt      *string             `json:"occurred_at"`
	DurationSeconds *int                `json:"duration_seconds"`
	Subject         *string             `json:"subject"`
	Body            *string             `json:"body"`
	Disposition     *string             `json:"disposition"`
	NextStep        *crm.NextStepInput  `json:"next_step"`
	Source          crm.Opt[crm.Source] `json:"source"`
	ExternalID      *string             `json:"external_id"`
	Metadata        json.RawMessage     `json:"metadata"`
}

// input converts to the crm input the store validates.
func (j *activityCreateJSON) input() crm.ActivityInput {
	in := crm.ActivityInput{
		Type: opt(j.Type), Direction: opt(j.Direction), AccountID: opt(j.AccountID),
		ContactIDs: opt(j.ContactIDs), Participants: opt(j.Participants), DealID: opt(j.DealID),
		OwnerID: opt(j.OwnerID), OccurredAt: opt(j.OccurredAt), DurationSeconds: opt(j.DurationSeconds),
		Subject: opt(j.Subject), Body: opt(j.Body), Disposition: opt(j.Disposition),
		NextStep: opt(j.NextStep), Source: j.Source, ExternalID: opt(j.ExternalID),
	}
	if j.Metadata != nil {
		in.Metadata = crm.Opt[json.RawMessage]{Set: true, Null: string(j.Metadata) == "null", V: j.Metadata}
	}
	return in
}

// opt turns a decoded pointer into an Opt: nil (absent or null) is absent.
func opt[T any](p *T) crm.Opt[T] {
	if p == nil {
		return crm.Opt[T]{}
	}
	return crm.Some(*p)
}

// activityCreateBatch decodes the batch in one strict pass and hands it to
// the store, which validates, resolves and writes it all or nothing. When
// decoding fails, the items are decoded again one by one, so each problem
// names its item.
func (h *handler) activityCreateBatch(w http.ResponseWriter, r *http.Request, p crm.Principal, b []byte) error {
	var body struct {
		Activities []activityCreateJSON `json:"activities"`
	}
	if err := unmarshalStrict(b, &body); err != nil {
		return activityBatchDecodeError(b, err)
	}
	if n := len(body.Activities); n == 0 || n > crm.MaxBatch {
		return crm.Invalid("activities", "must list from 1 to %d activities (got %d)", crm.MaxBatch, n)
	}
	ins := make([]crm.ActivityInput, len(body.Activities))
	for i := range body.Activities {
		ins[i] = body.Activities[i].input()
	}
	out, err := h.activities.UpsertBatch(r.Context(), p.OrgID, ins)
	if err != nil {
		return err
	}
	res := activityBatchResult{Items: make([]activityBatchItem, len(out))}
	var deliveries []string
	for i, o := range out {
		res.Items[i] = activityBatchItem{ID: o.ID, ExternalID: o.ExternalID, Result: string(o.Result)}
		deliveries = append(deliveries, o.DeliveryIDs...)
		switch o.Result {
		case store.UpsertCreated:
			res.Created++
		case store.UpsertUpdated:
			res.Updated++
		default:
			res.Unchanged++
		}
	}
	if len(deliveries) > 0 {
		h.enqueueAfterCommit(r.Context(), p.OrgID, nil, deliveries)
	}
	status := http.StatusOK
	if res.Created > 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, res)
	return nil
}

// activityBatchDecodeError explains why a batch body did not decode: the
// body's own problem (malformed JSON, an unknown top-level field,
// "activities" not an array), else every item's decoding and field problems
// with paths activities[i].field. err is what the one-pass decode said.
func activityBatchDecodeError(b []byte, err error) error {
	var body struct {
		Activities []json.RawMessage `json:"activities"`
	}
	if err := unmarshalStrict(b, &body); err != nil {
		return err
	}
	if n := len(body.Activities); n == 0 || n > crm.MaxBatch {
		return crm.Invalid("activities", "must list from 1 to %d activities (got %d)", crm.MaxBatch, n)
	}
	var pr crm.Problems
	for i, raw := range body.Activities {
		prefix := fmt.Sprintf("activities[%d].", i)
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			pr.Add(strings.TrimSuffix(prefix, "."), "must be an activity object")
			continue
		}
		var one activityCreateJSON
		if derr := unmarshalStrict(raw, &one); derr != nil {
			pr.Merge(prefix, derr)
			continue
		}
		// Report the field problems of the other items too, so one answer
		// names everything that is wrong.
		in := one.input()
		pr.Merge(prefix, in.Validate(true))
	}
	if pr.Len() == 0 {
		return err
	}
	return pr.Err()
}

func (h *handler) activityGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.store.ActivityGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	if a.Type == crm.ActivityMeeting {
		if a.Consents, err = h.store.MeetingConsents(r.Context(), p.OrgID, id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) activityUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.ActivityInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	a, err := h.activities.Update(r.Context(), p.OrgID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) activityDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.ActivityDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) accountTimeline(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var pr crm.Problems
	f := store.ActivityFilter{
		Types:     queryActivityTypes(&pr, r),
		Since:     queryTime(&pr, r, "since"),
		Until:     queryTime(&pr, r, "until"),
		ContactID: strings.ToLower(queryID(&pr, r, "contact_id")),
		DealID:    strings.ToLower(queryID(&pr, r, "deal_id")),
		OwnerID:   strings.ToLower(queryID(&pr, r, "owner_id")),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		pr.Add("until", "must not be before since")
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.ActivityListByAccount(r.Context(), p.OrgID, id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// queryActivityTypes parses ?types=call,email; each must be a known type.
func queryActivityTypes(p *crm.Problems, r *http.Request) []crm.ActivityType {
	s := r.URL.Query().Get("types")
	if s == "" {
		return nil
	}
	var out []crm.ActivityType
	for _, part := range strings.Split(s, ",") {
		t := crm.ActivityType(strings.TrimSpace(part))
		if t == "" {
			continue
		}
		if !t.Valid() {
			p.Add("types", "%q is not an activity type; use any of %s", string(t), strings.Join(activityTypeNames(), ", "))
			continue
		}
		out = append(out, t)
	}
	return out
}
