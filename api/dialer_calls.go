package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/vendorhook"
)

// dialerCall is one vendor callback in Logbook's terms.
type dialerCall struct {
	vendor string // twilio | aircall
	callID string // the vendor's call ID
	// status is the vendor's own status (metadata.status); rank orders
	// statuses (0: the callback carries none, such as Twilio's recording
	// callback; 1–3 ringing to answered; 4 and up the call has ended).
	status string
	rank   int
	// outcome is what the call came to, "" while it rings.
	outcome   string
	direction *crm.Direction
	startedAt time.Time // zero: unknown
	duration  *int
	// voicemail: the callee's machine took a message (Twilio AnsweredBy
	// machine_* on an ended call) or the caller left one (Aircall).
	voicemail  bool
	answeredBy string
	from, to   string
	// external is the other party's number, matched to a contact.
	external   string
	recording  string
	ownerEmail string
	extra      map[string]any // vendor-specific metadata
	// withAnsweredBy reads the callback again as if it carried the
	// AnsweredBy an earlier callback of the call recorded (Twilio's
	// asynchronous machine detection posts it apart); nil for vendors
	// without one.
	withAnsweredBy func(answeredBy string) dialerCall
}

// Outcomes, mapped to the org's disposition codes by dispositionFor.
const (
	outcomeConnected = "connected"
	outcomeVoicemail = "voicemail"
	outcomeNoAnswer  = "no_answer"
	outcomeBusy      = "busy"
	outcomeFailed    = "failed"
	outcomeCanceled  = "canceled"
	outcomeFax       = "fax"
)

// finalRank is the rank from which a call has ended.
const finalRank = 4

// twilioCall reads a Twilio status callback.
func twilioCall(c vendorhook.TwilioCall) dialerCall {
	d := dialerCall{vendor: "twilio", callID: c.CallSid, status: c.CallStatus, answeredBy: c.AnsweredBy,
		from: c.From, to: c.To, recording: c.RecordingURL, extra: map[string]any{}}
	switch c.CallStatus {
	case "queued", "initiated":
		d.rank = 1
	case "ringing":
		d.rank = 2
	case "in-progress":
		d.rank = 3
	case "":
		d.rank = 0
	default:
		d.rank = finalRank
	}
	machine := strings.HasPrefix(c.AnsweredBy, "machine_")
	switch c.CallStatus {
	case "in-progress", "completed":
		switch {
		case machine:
			d.outcome = outcomeVoicemail
		case c.AnsweredBy == "fax":
			d.outcome = outcomeFax
		default:
			d.outcome = outcomeConnected
		}
		d.voicemail = machine && c.CallStatus == "completed"
	case "busy":
		d.outcome = outcomeBusy
	case "no-answer":
		d.outcome = outcomeNoAnswer
	case "failed":
		d.outcome = outcomeFailed
	case "canceled":
		d.outcome = outcomeCanceled
	}
	switch {
	case c.Direction == "inbound":
		d.direction, d.external = ptr(crm.DirectionInbound), c.From
	case strings.HasPrefix(c.Direction, "outbound"):
		d.direction, d.external = ptr(crm.DirectionOutbound), c.To
	}
	if c.HasDuration {
		d.duration = ptr(c.CallDuration)
	}
	// Twilio's Timestamp is when the event fired: the call started
	// CallDuration before a final one (at the latest); the activity keeps the
	// earliest start any callback gave.
	if !c.Timestamp.IsZero() {
		d.startedAt = c.Timestamp
		if c.HasDuration {
			d.startedAt = c.Timestamp.Add(-time.Duration(c.CallDuration) * time.Second)
		}
	}
	if c.ParentCallSid != "" {
		d.extra["parent_call_sid"] = c.ParentCallSid
	}
	if c.RecordingSid != "" {
		d.extra["recording_sid"] = c.RecordingSid
	}
	if c.AnsweredBy == "" {
		d.withAnsweredBy = func(answeredBy string) dialerCall {
			c.AnsweredBy = answeredBy
			return twilioCall(c)
		}
	}
	return d
}

// aircallCall reads an Aircall call event.
func aircallCall(ev vendorhook.AircallEvent) dialerCall {
	c := ev.Call
	d := dialerCall{vendor: "aircall", callID: c.ID, status: c.Status, external: c.RawDigits, ownerEmail: c.UserEmail,
		extra: map[string]any{"event": ev.Event}}
	switch c.Status {
	case "answered":
		d.rank = 3
	case "done":
		d.rank = 5
	default:
		d.rank = 1
	}
	switch ev.Event {
	case "call.answered":
		d.rank = max(d.rank, 3)
	case "call.hungup", "call.ended", "call.voicemail_left":
		d.rank = 5
	}
	if d.status == "" {
		d.status = ev.Event
	}
	if c.Direction == "inbound" {
		d.direction, d.from, d.to = ptr(crm.DirectionInbound), c.RawDigits, c.NumberDigits
	} else {
		d.direction, d.from, d.to = ptr(crm.DirectionOutbound), c.NumberDigits, c.RawDigits
	}
	d.voicemail = c.Voicemail != "" || ev.Event == "call.voicemail_left"
	answered := !c.AnsweredAt.IsZero() || d.rank == 3
	switch {
	case d.voicemail:
		d.outcome = outcomeVoicemail
	case answered:
		d.outcome = outcomeConnected
	case d.rank >= finalRank:
		d.outcome = outcomeNoAnswer
	}
	d.recording = c.Recording
	if c.Voicemail != "" {
		d.extra["voicemail_url"] = c.Voicemail
	}
	if c.MissedCallReason != "" {
		d.extra["missed_call_reason"] = c.MissedCallReason
	}
	if len(c.Tags) > 0 {
		d.extra["tags"] = c.Tags
	}
	if d.rank >= finalRank && c.HasDuration {
		d.duration = ptr(c.Duration)
	}
	d.startedAt = c.StartedAt
	if d.startedAt.IsZero() {
		d.startedAt = ev.Timestamp
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// dispositionCandidates are, per outcome, the codes that name it, best
// first: the first one the org has active is the call's disposition.
var dispositionCandidates = map[string][]string{
	outcomeConnected: {"connected"},
	outcomeVoicemail: {"voicemail", "left_voicemail", "voicemail_left", "left_message", "answering_machine", "machine"},
	outcomeNoAnswer:  {"no_answer", "unanswered", "no_response", "missed"},
	outcomeBusy:      {"busy"},
	outcomeFailed:    {"failed", "call_failed", "invalid_number", "bad_number"},
	outcomeCanceled:  {"canceled", "cancelled", "no_answer"},
	outcomeFax:       {"fax", "failed", "invalid_number", "bad_number"},
}

// dispositionFor maps an outcome to one of the org's active codes: the
// first of dispositionCandidates the org has; for a call a person answered
// with no "connected" code, the org's connect code when it has exactly one
// (the code flagged connect). Otherwise nil: the call carries none.
func dispositionFor(s crm.Settings, outcome string) *string {
	for _, c := range dispositionCandidates[outcome] {
		if slices.Contains(s.Dispositions, c) {
			return ptr(c)
		}
	}
	if outcome == outcomeConnected {
		var connect []string
		for _, c := range s.DispositionCodes {
			if c.Connect && !c.Retired {
				connect = append(connect, c.Code)
			}
		}
		if len(connect) == 1 {
			return ptr(connect[0])
		}
	}
	return nil
}

// dispositionFallback is the code an ended outbound call gets when the org
// requires a disposition and none of its codes names the outcome (a dialer
// cannot be refused): the org's first active code counted like the outcome
// (a connect for a person who answered, not a connect otherwise), else its
// first active code. The activity's metadata says disposition_fallback.
func dispositionFallback(s crm.Settings, outcome string) *string {
	wantConnect := outcome == outcomeConnected
	for _, c := range s.DispositionCodes {
		if !c.Retired && c.Connect == wantConnect {
			return ptr(c.Code)
		}
	}
	if len(s.Dispositions) > 0 {
		return ptr(s.Dispositions[0])
	}
	return nil
}

// dialerTarget is where a call is recorded, from the hook URL's query
// (account_id, contact_id, deal_id, owner_email, list: what the dialer's
// configuration adds to the URL) or found by the call's number.
type dialerTarget struct {
	accountID, contactID, dealID, ownerEmail, list string
}

// dialerQuery reads the hook URL's query parameters; a malformed one is a
// 400 naming it.
func dialerQuery(r *http.Request) (dialerTarget, error) {
	q := r.URL.Query()
	t := dialerTarget{
		accountID: strings.ToLower(strings.TrimSpace(q.Get("account_id"))), contactID: strings.ToLower(strings.TrimSpace(q.Get("contact_id"))),
		dealID: strings.ToLower(strings.TrimSpace(q.Get("deal_id"))), ownerEmail: strings.TrimSpace(q.Get("owner_email")),
		list: strings.TrimSpace(q.Get("list")),
	}
	var p crm.Problems
	for name, v := range map[string]string{"account_id": t.accountID, "contact_id": t.contactID, "deal_id": t.dealID} {
		if v != "" {
			crm.CheckID(&p, name, v)
		}
	}
	if t.ownerEmail != "" {
		crm.CheckEmail(&p, "owner_email", t.ownerEmail)
	}
	if len(t.list) > crm.MaxShort {
		p.Add("list", "must be at most %d characters", crm.MaxShort)
	}
	if err := p.Err(); err != nil {
		var ve *crm.ValidationError
		errors.As(err, &ve)
		return t, &httpError{status: http.StatusBadRequest, detail: "the hook URL's query parameters are malformed", fields: ve.Fields}
	}
	return t, nil
}

// dialerApply records one verified callback: it creates the call's
// activity, or moves it forward, in one transaction under a lock on the
// call, so callbacks of one call apply one at a time.
//
//   - A new call (nothing recorded under its external_id) is upserted
//     through activity.Service with source dialer. Its account comes from
//     the query's account_id or contact_id, else from the contacts whose
//     phone matches the other party's number (all in one account; several
//     accounts is ambiguous). No account: nothing is written, the answer is
//     200 "unresolved", logged and counted (a dialer must not retry it).
//   - A known call is patched (activity.Service.Update) with what the
//     dialer owns, and only when the callback is not older than what was
//     applied: a later status sets type, disposition and duration; any
//     callback adds the metadata it brings (a recording's URL); the start
//     is the earliest seen. A rep's own edits (subject, body, next step,
//     a disposition changed after the call) are kept unless the status
//     moves forward. A retried callback writes nothing.
func (h *handler) dialerApply(w http.ResponseWriter, r *http.Request, orgID string, c dialerCall) error {
	ctx := r.Context()
	target, err := dialerQuery(r)
	if err != nil {
		return err
	}
	externalID := c.vendor + ":" + c.callID
	var res dialerHookResult
	var deliveries []string
	err = h.store.WithTx(ctx, func(tx *store.Store) error {
		res, deliveries = dialerHookResult{}, nil
		if err := tx.DialerCallLock(ctx, orgID, externalID); err != nil {
			return err
		}
		cur, err := tx.DialerCallGet(ctx, orgID, externalID)
		switch {
		case errors.Is(err, crm.ErrNotFound):
			res, deliveries, err = h.dialerCreate(ctx, tx, orgID, externalID, c, target)
			return err
		case err != nil:
			return err
		}
		res, err = h.dialerAdvance(ctx, tx, orgID, cur, c)
		return err
	})
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		h.enqueueAfterCommit(ctx, orgID, nil, deliveries)
	}
	h.dialerCalls.WithLabelValues(c.vendor, res.Result).Inc()
	if res.Result == dialerUnresolved {
		h.log.InfoContext(ctx, "dialer hook: no account for the call; nothing recorded",
			slog.String("org_id", orgID), slog.String("external_id", externalID), slog.String("number", maskNumber(c.external)))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// maskNumber keeps a number's last 4 digits for the log.
func maskNumber(n string) string {
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// dialerMetadata is the metadata the dialer owns on its activity.
func dialerMetadata(c dialerCall, list string) map[string]any {
	m := map[string]any{"vendor": c.vendor}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("status", c.status)
	set("answered_by", c.answeredBy)
	set("from", c.from)
	set("to", c.to)
	set("recording_url", c.recording)
	set("list", list)
	if c.rank > 0 {
		m["status_rank"] = c.rank
	}
	maps.Copy(m, c.extra)
	return m
}

// dialerCreate records a call seen for the first time.
func (h *handler) dialerCreate(ctx context.Context, tx *store.Store, orgID, externalID string, c dialerCall, t dialerTarget) (dialerHookResult, []string, error) {
	if c.rank == 0 {
		return dialerHookResult{Result: dialerIgnored, Detail: "a callback without a call status, for a call not recorded yet"}, nil, nil
	}
	settings, err := tx.SettingsGet(ctx, orgID)
	if err != nil {
		return dialerHookResult{}, nil, err
	}
	in := crm.ActivityInput{
		Type: crm.Some(crm.ActivityCall), Source: crm.Some(crm.SourceDialer), ExternalID: crm.Some(externalID),
	}
	if c.voicemail {
		in.Type = crm.Some(crm.ActivityVoicemail)
	}
	if c.direction != nil {
		in.Direction = crm.Some(*c.direction)
	}
	started := c.startedAt
	if started.IsZero() {
		started = h.now()
	}
	in.OccurredAt = crm.Some(started.UTC().Format(time.RFC3339Nano))
	if c.duration != nil {
		in.DurationSeconds = crm.Some(*c.duration)
	}
	meta := dialerMetadata(c, t.list)
	disp := dispositionFor(settings, c.outcome)
	outboundCall := in.Type.V == crm.ActivityCall && c.direction != nil && *c.direction == crm.DirectionOutbound
	if disp == nil && settings.RequireDisposition && outboundCall {
		if c.rank < finalRank && c.outcome == "" {
			return dialerHookResult{Result: dialerDeferred,
				Detail: "the org requires a disposition on outbound calls: the call is recorded when it has an outcome"}, nil, nil
		}
		disp = dispositionFallback(settings, c.outcome)
		meta["disposition_fallback"] = true
	}
	if disp != nil {
		in.Disposition = crm.Some(*disp)
	}
	// Where: the query's IDs, else the contacts with the number.
	ownerEmail := cmp.Or(t.ownerEmail, c.ownerEmail)
	match, err := tx.DialerMatchFind(ctx, orgID, pick(t.accountID == "" && t.contactID == "", c.external), ownerEmail)
	if err != nil {
		return dialerHookResult{}, nil, err
	}
	switch {
	case t.accountID != "" || t.contactID != "":
		if t.accountID != "" {
			in.AccountID = crm.Some(t.accountID)
		}
		if t.contactID != "" {
			in.ContactIDs = crm.Some([]string{t.contactID})
		}
	default:
		accounts := map[string][]string{}
		for _, ct := range match.Contacts {
			accounts[ct.AccountID] = append(accounts[ct.AccountID], ct.ID)
		}
		if len(accounts) != 1 {
			detail := "no contact has the call's number; add account_id or contact_id to the hook URL, or the number to a contact"
			if len(accounts) > 1 {
				detail = "contacts of several accounts have the call's number; add account_id or contact_id to the hook URL"
			}
			return dialerHookResult{Result: dialerUnresolved, Detail: detail}, nil, nil
		}
		for acct, ids := range accounts {
			in.AccountID, in.ContactIDs = crm.Some(acct), crm.Some(ids)
		}
	}
	if t.dealID != "" {
		in.DealID = crm.Some(t.dealID)
	}
	if match.OwnerID != "" {
		in.OwnerID = crm.Some(match.OwnerID)
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return dialerHookResult{}, nil, err
	}
	in.Metadata = crm.Some(json.RawMessage(raw))
	a, result, deliveries, err := activity.New(tx).Upsert(ctx, orgID, in)
	if err != nil {
		return dialerHookResult{}, nil, err
	}
	out := dialerHookResult{Result: dialerCreated, ActivityID: &a.ID}
	if result != store.UpsertCreated {
		out.Result = dialerUnchanged
	}
	return out, deliveries, nil
}

// dialerAdvance applies a callback of a call already recorded.
func (h *handler) dialerAdvance(ctx context.Context, tx *store.Store, orgID string, cur crm.Activity, c dialerCall) (dialerHookResult, error) {
	unchanged := dialerHookResult{Result: dialerUnchanged, ActivityID: &cur.ID}
	meta := map[string]any{}
	if len(cur.Metadata) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cur.Metadata))
		dec.UseNumber()
		_ = dec.Decode(&meta) // a rep's metadata that is not an object is replaced
		if meta == nil {
			meta = map[string]any{}
		}
	}
	if prev, ok := meta["answered_by"].(string); ok && prev != "" && c.withAnsweredBy != nil {
		c = c.withAnsweredBy(prev)
	}
	curRank := 0
	if n, ok := meta["status_rank"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			curRank = int(v)
		}
	}
	if c.rank > 0 && c.rank < curRank {
		unchanged.Detail = "an older status than the one recorded"
		return unchanged, nil
	}
	advance := c.rank > curRank
	incoming := dialerMetadata(c, "")
	if !advance {
		// The same stage again: it may only add what was missing.
		for _, k := range []string{"status", "status_rank", "answered_by"} {
			if _, ok := meta[k]; ok {
				delete(incoming, k)
			}
		}
	}
	var in crm.ActivityInput
	changed := false
	restage := advance || (c.voicemail && cur.Type == crm.ActivityCall)
	outbound := cur.Direction != nil && *cur.Direction == crm.DirectionOutbound
	// A call recorded before the org required a disposition needs one
	// before anything else can be written to it.
	lacking := cur.Disposition == nil && cur.Type == crm.ActivityCall && outbound
	if restage || lacking {
		typ := cur.Type
		if restage {
			typ = crm.ActivityCall
			if c.voicemail {
				typ = crm.ActivityVoicemail
			}
		}
		if typ != cur.Type {
			in.Type, changed = crm.Some(typ), true
		}
		settings, err := tx.SettingsGet(ctx, orgID)
		if err != nil {
			return dialerHookResult{}, err
		}
		var disp *string
		if restage {
			disp = dispositionFor(settings, c.outcome)
		}
		if disp == nil && cur.Disposition == nil && settings.RequireDisposition && typ == crm.ActivityCall && outbound {
			disp = dispositionFallback(settings, c.outcome)
			incoming["disposition_fallback"] = true
		}
		if disp != nil && (cur.Disposition == nil || *cur.Disposition != *disp) {
			in.Disposition, changed = crm.Some(*disp), true
		}
	}
	next := maps.Clone(meta)
	maps.Copy(next, incoming)
	if !sameJSON(meta, next) {
		raw, err := json.Marshal(next)
		if err != nil {
			return dialerHookResult{}, err
		}
		in.Metadata, changed = crm.Some(json.RawMessage(raw)), true
	}
	if !c.startedAt.IsZero() && c.startedAt.Before(cur.OccurredAt) {
		in.OccurredAt, changed = crm.Some(c.startedAt.UTC().Format(time.RFC3339Nano)), true
	}
	if c.duration != nil && (advance || cur.DurationSeconds == nil) && (cur.DurationSeconds == nil || *cur.DurationSeconds != *c.duration) {
		in.DurationSeconds, changed = crm.Some(*c.duration), true
	}
	if !changed {
		unchanged.Detail = "nothing new"
		return unchanged, nil
	}
	a, err := activity.New(tx).Update(ctx, orgID, cur.ID, in)
	if err != nil {
		return dialerHookResult{}, err
	}
	return dialerHookResult{Result: dialerUpdated, ActivityID: &a.ID}, nil
}

// sameJSON reports whether a and b encode alike (map keys are sorted).
func sameJSON(a, b map[string]any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// pick is v when cond holds, else "".
func pick(cond bool, v string) string {
	if cond {
		return v
	}
	return ""
}

// jsonToken decodes body into v, reporting whether it is JSON of v's shape.
func jsonToken(body []byte, v any) bool { return json.Unmarshal(body, v) == nil }
