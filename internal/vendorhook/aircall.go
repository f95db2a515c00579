package vendorhook

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// AircallEvent is an Aircall webhook event: {resource, event, timestamp,
// token, data}. Aircall signs nothing: each event carries the webhook's
// token, which VerifyAircallToken compares with the one the org stored.
// For call events (resource "call") Call is the call object; for other
// resources it is the zero value.
type AircallEvent struct {
	Resource string
	// Event is the event's name: call.created, call.ringing_on_agent,
	// call.answered, call.hungup, call.ended, call.voicemail_left,
	// call.tagged, call.commented… (other names are kept as sent).
	Event     string
	Timestamp time.Time
	Token     string
	Call      AircallCall
}

// AircallCall is Aircall's call object as its events carry it. Times are
// zero when absent; Aircall sends them as Unix seconds.
type AircallCall struct {
	// ID is Aircall's call ID, a number, as its decimal text.
	ID string
	// Direction is inbound or outbound.
	Direction string
	// Status is initial, answered or done.
	Status     string
	StartedAt  time.Time
	AnsweredAt time.Time
	EndedAt    time.Time
	// Duration is ended_at - started_at in seconds (ringing included).
	Duration    int
	HasDuration bool
	// RawDigits is the other party's number as Aircall formats it.
	RawDigits string
	// Voicemail is the voicemail's URL when one was left, Recording the
	// call recording's; both are empty otherwise.
	Voicemail string
	Recording string
	// MissedCallReason says why an inbound call was missed.
	MissedCallReason string
	// UserEmail is the Aircall user's (the rep's) email, NumberDigits the
	// Aircall line's own number.
	UserEmail    string
	NumberDigits string
	Tags         []string
}

// aircallWire is the JSON as Aircall sends it; fields are lenient about
// numbers and strings, since the event is read, not validated.
type aircallWire struct {
	Resource  string          `json:"resource"`
	Event     string          `json:"event"`
	Timestamp json.RawMessage `json:"timestamp"`
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"`
}

type aircallCallWire struct {
	ID               json.RawMessage `json:"id"`
	Direction        string          `json:"direction"`
	Status           string          `json:"status"`
	StartedAt        json.RawMessage `json:"started_at"`
	AnsweredAt       json.RawMessage `json:"answered_at"`
	EndedAt          json.RawMessage `json:"ended_at"`
	Duration         json.RawMessage `json:"duration"`
	RawDigits        *string         `json:"raw_digits"`
	Voicemail        *string         `json:"voicemail"`
	Recording        *string         `json:"recording"`
	MissedCallReason *string         `json:"missed_call_reason"`
	User             *struct {
		Email *string `json:"email"`
	} `json:"user"`
	Number *struct {
		Digits *string `json:"digits"`
	} `json:"number"`
	Tags []struct {
		Name *string `json:"name"`
	} `json:"tags"`
}

// maxAircallField bounds every text field an event is read into.
const maxAircallField = 2048

// ParseAircallEvent reads an Aircall webhook body. The body must be a JSON
// object with a non-empty event and token; a call event (resource "call")
// must carry its call's id and a direction of inbound or outbound. Unknown
// fields are ignored (Aircall adds some over time). Every problem is an
// error wrapping ErrCallEvent.
func ParseAircallEvent(body []byte) (AircallEvent, error) {
	var w aircallWire
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return AircallEvent{}, callEventErr("the body is not a JSON object: %v", err)
	}
	if dec.More() {
		return AircallEvent{}, callEventErr("the body holds more than one JSON value")
	}
	ev := AircallEvent{Resource: strings.TrimSpace(w.Resource), Event: strings.TrimSpace(w.Event), Token: w.Token}
	if ev.Event == "" || len(ev.Event) > 100 {
		return AircallEvent{}, callEventErr("event must name the event (call.created, call.ended…)")
	}
	if ev.Token == "" || len(ev.Token) > maxAircallField {
		return AircallEvent{}, callEventErr("token is missing")
	}
	if ev.Resource == "" {
		ev.Resource, _, _ = strings.Cut(ev.Event, ".")
	}
	ev.Timestamp, _ = aircallTime(w.Timestamp)
	if ev.Resource != "call" {
		return ev, nil
	}
	var c aircallCallWire
	if len(w.Data) == 0 || json.Unmarshal(w.Data, &c) != nil {
		return AircallEvent{}, callEventErr("data must be the call object")
	}
	id, ok := aircallID(c.ID)
	if !ok {
		return AircallEvent{}, callEventErr("data.id must be the call's ID")
	}
	call := AircallCall{ID: id, Direction: strings.TrimSpace(c.Direction), Status: strings.TrimSpace(c.Status)}
	if call.Direction != "inbound" && call.Direction != "outbound" {
		return AircallEvent{}, callEventErr("data.direction must be inbound or outbound")
	}
	call.StartedAt, _ = aircallTime(c.StartedAt)
	call.AnsweredAt, _ = aircallTime(c.AnsweredAt)
	call.EndedAt, _ = aircallTime(c.EndedAt)
	if d, ok := aircallNumber(c.Duration); ok && d >= 0 && d <= 7*24*3600 {
		call.Duration, call.HasDuration = int(d), true
	}
	text := func(p *string) string {
		if p == nil {
			return ""
		}
		s := strings.TrimSpace(*p)
		if len(s) > maxAircallField {
			return ""
		}
		return s
	}
	call.RawDigits, call.Voicemail, call.Recording = text(c.RawDigits), text(c.Voicemail), text(c.Recording)
	call.MissedCallReason = text(c.MissedCallReason)
	if c.User != nil {
		call.UserEmail = text(c.User.Email)
	}
	if c.Number != nil {
		call.NumberDigits = text(c.Number.Digits)
	}
	for _, t := range c.Tags {
		if n := text(t.Name); n != "" && len(call.Tags) < 50 {
			call.Tags = append(call.Tags, n)
		}
	}
	ev.Call = call
	return ev, nil
}

// VerifyAircallToken reports whether the token an event carries is the
// org's, in constant time (both are hashed first, so not even the stored
// token's length shows). An empty token never verifies.
func VerifyAircallToken(want, got string) bool {
	if want == "" || got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// aircallID reads an ID sent as a JSON number or string: digits only.
func aircallID(raw json.RawMessage) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	if s == "" || len(s) > 30 {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return s, true
}

// aircallNumber reads a JSON number (or a string holding one).
func aircallNumber(raw json.RawMessage) (float64, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// aircallTime reads Unix seconds (a number or a numeric string) or an RFC
// 3339 string; anything else, or a time before 1970 or after 9999, is zero.
func aircallTime(raw json.RawMessage) (time.Time, bool) {
	if f, ok := aircallNumber(raw); ok {
		if f <= 0 || f > 253402300799 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil && t.Year() >= 1970 && t.Year() < 10000 {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
