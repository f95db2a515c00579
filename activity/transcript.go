package activity

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/transcript"
)

// MaxTranscriptBytes is the largest transcript content accepted (16 MiB).
const MaxTranscriptBytes = 16 << 20

// TranscriptInput is a posted transcript (POST /v1/transcripts and the
// signed ingest hook, API.md): the meeting it records and either its content
// in a known format or its segments.
type TranscriptInput struct {
	Source          string            `json:"source"`
	ExternalID      *string           `json:"external_id"`
	Title           string            `json:"title"`
	StartedAt       string            `json:"started_at" openapi:"format=date-time"`
	DurationSeconds *int              `json:"duration_seconds"`
	AccountID       *string           `json:"account_id"`
	DealID          *string           `json:"deal_id"`
	OwnerID         *string           `json:"owner_id"`
	Participants    []crm.Participant `json:"participants"`
	Format          *string           `json:"format"`
	Content         *string           `json:"content"`
	Segments        []SegmentInput    `json:"segments"`
	// ConferenceURL is the meeting's video link (Zoom, Meet, Teams…):
	// with it the transcript lands on the meeting a calendar connector
	// captured for it (see IngestTranscript).
	ConferenceURL *string `json:"conference_url"`
}

// SegmentInput is one posted segment.
type SegmentInput struct {
	// Index is accepted (GET ?include=segments returns it) and ignored:
	// segments are renumbered in order.
	Index   *int   `json:"index,omitempty"`
	Speaker string `json:"speaker"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
}

// TranscriptFormats are the formats a posted transcript may name.
var TranscriptFormats = []string{"vtt", "srt", "text", "json"}

// ParseTranscript validates and parses a posted transcript into what
// IngestTranscript stores: the meeting activity (type meeting, source
// notetaker, external_id "<source>:<external_id>") and the segments. What the
// transcript itself says about the meeting (a Google Meet export's title,
// attendees and length) fills what the client did not send. Problems are a
// *crm.ValidationError; content over the transcript limits wraps
// transcript.ErrTooLong.
func ParseTranscript(in *TranscriptInput) (store.TranscriptIngest, error) {
	var p crm.Problems
	crm.CheckText(&p, "source", in.Source, 50, true)
	if in.ExternalID != nil {
		// The meeting activity's external_id is "<source>:<external_id>",
		// which must fit crm.MaxExternalID.
		crm.CheckText(&p, "external_id", *in.ExternalID, max(1, crm.MaxExternalID-utf8.RuneCountInString(in.Source)-1), true)
	}
	crm.CheckText(&p, "title", in.Title, 500, false)
	if in.ConferenceURL != nil {
		crm.CheckText(&p, "conference_url", *in.ConferenceURL, 2000, false)
	}
	var started time.Time
	if in.StartedAt == "" {
		p.Add("started_at", "is required")
	} else {
		started = crm.ParseTime(&p, "started_at", in.StartedAt)
	}
	if in.DurationSeconds != nil && (*in.DurationSeconds < 0 || *in.DurationSeconds > crm.MaxDuration) {
		p.Add("duration_seconds", "must be between 0 and %d", crm.MaxDuration)
	}
	format := ""
	if in.Format != nil {
		format = strings.ToLower(*in.Format)
		if !slices.Contains(TranscriptFormats, format) {
			p.Add("format", "must be one of %s", strings.Join(TranscriptFormats, ", "))
		}
	}
	switch {
	case in.Content != nil && len(in.Segments) > 0:
		p.Add("content", "give content or segments, not both")
	case in.Content == nil && len(in.Segments) == 0:
		p.Add("content", "is required (or segments)")
	case in.Content != nil:
		crm.CheckText(&p, "content", *in.Content, MaxTranscriptBytes, true)
	}
	consents := participantConsents(&p, in.Participants)
	if p.Len() > 0 {
		return store.TranscriptIngest{}, p.Err()
	}
	var (
		segs []crm.Segment
		meta transcript.Meta
		err  error
	)
	if in.Content != nil {
		// From the decoded string itself: a transcript of up to 16 MiB is
		// not copied again, and its segments share its memory.
		var parsed transcript.Parsed
		parsed, err = transcript.ParseString(format, *in.Content)
		segs, meta = parsed.Segments, parsed.Meta
		if format == "" {
			format = parsed.Format
		}
	} else {
		format = "segments"
		raw := make([]crm.Segment, len(in.Segments))
		for i, s := range in.Segments {
			raw[i] = crm.Segment{Index: i, Speaker: s.Speaker, StartMS: s.StartMS, EndMS: s.EndMS, Text: s.Text}
		}
		segs, err = transcript.FromSegments(raw)
	}
	switch {
	case errors.Is(err, transcript.ErrTooLong):
		return store.TranscriptIngest{}, err
	case err != nil:
		field := "content"
		if in.Content == nil {
			field = "segments"
		}
		return store.TranscriptIngest{}, crm.Invalid(field, "%v", err)
	}

	title, participants := in.Title, in.Participants
	if title == "" {
		title = meta.Title
	}
	if len(participants) == 0 {
		for _, a := range meta.Attendees[:min(len(meta.Attendees), crm.MaxContactIDs)] {
			participants = append(participants, crm.Participant{Name: a})
		}
	}
	mdv := map[string]string{"transcript_source": in.Source, "transcript_format": format}
	if in.ConferenceURL != nil {
		// A calendar synced later finds this meeting by its link
		// (store.NotetakerMeetingAdopt).
		if key := crm.ConferenceKey(*in.ConferenceURL); key != "" {
			mdv["conference_key"] = key
		}
	}
	md, err := json.Marshal(mdv)
	if err != nil {
		return store.TranscriptIngest{}, err
	}
	m := crm.ActivityInput{
		Type:         crm.Some(crm.ActivityMeeting),
		OccurredAt:   crm.Some(in.StartedAt),
		Source:       crm.Some(crm.SourceNotetaker),
		Participants: crm.Opt[[]crm.Participant]{Set: len(participants) > 0, V: participants},
		Metadata:     crm.Some(json.RawMessage(md)),
	}
	if title != "" {
		m.Subject = crm.Some(title)
	}
	if in.ExternalID != nil {
		m.ExternalID = crm.Some(in.Source + ":" + *in.ExternalID)
	}
	if in.AccountID != nil {
		m.AccountID = crm.Some(*in.AccountID)
	}
	if in.DealID != nil {
		m.DealID = crm.Some(*in.DealID)
	}
	if in.OwnerID != nil {
		m.OwnerID = crm.Some(*in.OwnerID)
	}
	if in.DurationSeconds != nil {
		m.DurationSeconds = crm.Some(*in.DurationSeconds)
	} else if meta.DurationMS > 0 {
		m.DurationSeconds = crm.Some(int(min(meta.DurationMS/1000, crm.MaxDuration)))
	} else if n := len(segs); n > 0 && segs[n-1].EndMS > 0 {
		m.DurationSeconds = crm.Some(int(segs[n-1].EndMS / 1000))
	}
	content := ""
	if in.Content != nil {
		content = *in.Content
	}
	conference := ""
	if in.ConferenceURL != nil {
		conference = *in.ConferenceURL
	}
	return store.TranscriptIngest{
		Source: in.Source, ExternalID: in.ExternalID, Title: title, StartedAt: started,
		Duration: in.DurationSeconds, Meeting: m, Format: format, Content: content, Segments: segs,
		Participants: participants, Consents: consents,

		ConferenceURL: conference,
	}, nil
}

// IngestTranscript stores a parsed transcript durably in one transaction:
// it upserts the meeting activity with Upsert's rules (idempotent on source
// + external_id), records the consents its participants carried, then the
// transcript (store.TranscriptSave: queued when new or changed, unchanged
// when the same content is already stored), and applies the consent gate
// (consentGate): a transcript whose meeting lacks consent is held and the
// result is store.IngestHeld, nothing to enqueue.
// Deliveries are the activity.created webhook deliveries written with a new
// meeting activity, to enqueue after commit with the transcript when the
// result is store.IngestQueued.
func (s *Service) IngestTranscript(ctx context.Context, orgID string, in store.TranscriptIngest) (store.Ingested, error) {
	var out store.Ingested
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		var err error
		out, err = ingestTranscript(ctx, tx, orgID, in)
		return err
	})
	return out, err
}

// Delivery identifies one signed delivery of the transcript hook: the hash
// of its signature and when the signature's window ends.
type Delivery struct {
	SigHash []byte
	Expires time.Time
	// Now is the time the signature was checked at; a record of the same
	// hash expiring at or before it is stale.
	Now time.Time
}

// IngestSignedTranscript is IngestTranscript for a signed delivery: in the
// same transaction it records the delivery's signature
// (store.IngestSignatureRecord) before storing anything, so a delivery
// replayed within its window is an error wrapping crm.ErrReplayedSignature
// and stores nothing, while one that fails leaves no record and may be sent
// again as it was.
func (s *Service) IngestSignedTranscript(ctx context.Context, orgID string, d Delivery, in store.TranscriptIngest) (store.Ingested, error) {
	var out store.Ingested
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		if err := tx.IngestSignatureRecord(ctx, orgID, d.SigHash, d.Expires, d.Now); err != nil {
			return err
		}
		var err error
		out, err = ingestTranscript(ctx, tx, orgID, in)
		return err
	})
	return out, err
}

// ingestTranscript is IngestTranscript's work inside the transaction tx.
// When the note-taker's meeting is not on record yet, the transcript
// lands on the calendar's meeting it records, if one matches
// (calendarMeeting); otherwise the meeting is upserted.
func ingestTranscript(ctx context.Context, tx *store.Store, orgID string, in store.TranscriptIngest) (store.Ingested, error) {
	var out store.Ingested
	act, matched, err := calendarMeeting(ctx, tx, orgID, in)
	if err != nil {
		return out, err
	}
	if !matched {
		var deliveries []string
		act, _, deliveries, err = upsert(ctx, tx, orgID, in.Meeting)
		out.Deliveries = deliveries
		if err != nil {
			return out, err
		}
	}
	if err := tx.ConsentsUpsert(ctx, orgID, act.ID, in.Source, in.Consents); err != nil {
		return out, err
	}
	if out.Transcript, out.Result, err = tx.TranscriptSave(ctx, orgID, act, in); err != nil {
		return out, err
	}
	t, g, err := consentGate(ctx, tx, orgID, act, out.Transcript)
	if err != nil {
		return out, err
	}
	out.Transcript = t
	switch g {
	case gateHeld:
		out.Result = store.IngestHeld
	case gateReleased:
		out.Result = store.IngestQueued
	}
	return out, nil
}

// calendarMeeting finds the meeting a calendar connector captured for the
// transcript's meeting, when the note-taker's own meeting (its source +
// external_id) is not on record: by the note-taker meeting ID recorded on
// it by an earlier post, else by the conference link (crm.ConferenceKey),
// else by a start within store.CalendarMatchWindow and a shared
// participant email (store.CalendarMatch). The match keeps the calendar's
// title, time and participants, and records the note-taker's source and
// external_id in its metadata (notetaker_source, notetaker_external_id) so
// the same post lands there again.
func calendarMeeting(ctx context.Context, tx *store.Store, orgID string, in store.TranscriptIngest) (crm.Activity, bool, error) {
	key := in.Meeting.ExternalID.Ptr()
	if key != nil {
		if _, err := tx.ActivityIDBySource(ctx, orgID, crm.SourceNotetaker, *key); err == nil {
			return crm.Activity{}, false, nil
		} else if !errors.Is(err, crm.ErrNotFound) {
			return crm.Activity{}, false, err
		}
	}
	q := store.CalendarMatchQuery{ConferenceKey: crm.ConferenceKey(in.ConferenceURL), StartedAt: in.StartedAt}
	if key != nil {
		q.NotetakerKey = *key
	}
	for _, p := range in.Participants {
		if p.Email != "" {
			q.Emails = append(q.Emails, crm.NormalizeEmail(p.Email))
		}
	}
	act, err := tx.CalendarMatch(ctx, orgID, q)
	if errors.Is(err, crm.ErrNotFound) {
		return crm.Activity{}, false, nil
	}
	if err != nil {
		return crm.Activity{}, false, err
	}
	patch := map[string]string{"notetaker_source": in.Source, "transcript_source": in.Source, "transcript_format": in.Format}
	if key != nil {
		patch["notetaker_external_id"] = *key
	}
	if err := tx.CalendarMeetingAttach(ctx, orgID, act.ID, patch); err != nil {
		return crm.Activity{}, false, err
	}
	return act, true, nil
}
