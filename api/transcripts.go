package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/transcript"
)

// maxTranscriptBody bounds a posted transcript. A four-hour meeting as
// word-level JSON (the largest format) is ~6 MB; the word limit in
// internal/transcript is what really caps a transcript's length.
const maxTranscriptBody = 16 << 20

// transcriptInput is the body of POST /v1/transcripts (API.md).
type transcriptInput struct {
	Source          string            `json:"source"`
	ExternalID      *string           `json:"external_id"`
	Title           string            `json:"title"`
	StartedAt       string            `json:"started_at"`
	DurationSeconds *int              `json:"duration_seconds"`
	AccountID       *string           `json:"account_id"`
	DealID          *string           `json:"deal_id"`
	OwnerID         *string           `json:"owner_id"`
	Participants    []crm.Participant `json:"participants"`
	Format          *string           `json:"format"`
	Content         *string           `json:"content"`
	Segments        []segmentInput    `json:"segments"`
}

// segmentInput is one posted segment.
type segmentInput struct {
	// Index is accepted (GET ?include=segments returns it) and ignored:
	// segments are renumbered in order.
	Index   *int   `json:"index,omitempty"`
	Speaker string `json:"speaker"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
}

// transcriptAccepted is the answer to a posted transcript.
type transcriptAccepted struct {
	ID         string               `json:"id"`
	ActivityID string               `json:"activity_id"`
	Status     crm.TranscriptStatus `json:"status"`
	StatusURL  string               `json:"status_url"`
}

var transcriptFormats = []string{"vtt", "srt", "text", "json"}

// ingest validates and parses in, then stores it (see store.TranscriptIngestStore).
func (in *transcriptInput) ingest() (store.TranscriptIngest, error) {
	var p crm.Problems
	crm.CheckText(&p, "source", in.Source, 50, true)
	if in.ExternalID != nil {
		// The meeting activity's external_id is "<source>:<external_id>",
		// which must fit crm.MaxExternalID.
		crm.CheckText(&p, "external_id", *in.ExternalID, max(1, crm.MaxExternalID-utf8.RuneCountInString(in.Source)-1), true)
	}
	crm.CheckText(&p, "title", in.Title, 500, false)
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
		if !slices.Contains(transcriptFormats, format) {
			p.Add("format", "must be one of %s", strings.Join(transcriptFormats, ", "))
		}
	}
	switch {
	case in.Content != nil && len(in.Segments) > 0:
		p.Add("content", "give content or segments, not both")
	case in.Content == nil && len(in.Segments) == 0:
		p.Add("content", "is required (or segments)")
	case in.Content != nil:
		crm.CheckText(&p, "content", *in.Content, maxTranscriptBody, true)
	}
	if p.Len() > 0 {
		return store.TranscriptIngest{}, p.Err()
	}
	var (
		segs []crm.Segment
		meta transcript.Meta
		err  error
	)
	if in.Content != nil {
		var parsed transcript.Parsed
		parsed, err = transcript.ParseFull(format, []byte(*in.Content))
		segs, meta = parsed.Segments, parsed.Meta
		if format == "" {
			format = transcript.Detect([]byte(*in.Content))
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
		return store.TranscriptIngest{}, errStatus(http.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		field := "content"
		if in.Content == nil {
			field = "segments"
		}
		return store.TranscriptIngest{}, crm.Invalid(field, "%v", err)
	}

	// What the transcript says about the meeting (a Google Meet export's
	// title, attendees and length) fills what the client did not send.
	title, participants := in.Title, in.Participants
	if title == "" {
		title = meta.Title
	}
	if len(participants) == 0 {
		for _, a := range meta.Attendees[:min(len(meta.Attendees), crm.MaxContactIDs)] {
			participants = append(participants, crm.Participant{Name: a})
		}
	}
	md, _ := json.Marshal(map[string]string{"transcript_source": in.Source, "transcript_format": format})
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
	return store.TranscriptIngest{
		Source: in.Source, ExternalID: in.ExternalID, Title: title, StartedAt: started,
		Duration: in.DurationSeconds, Meeting: m, Format: format, Content: content, Segments: segs,
		Participants: participants,
	}, nil
}

func (h *handler) transcriptCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in transcriptInput
	if err := decodeJSON(w, r, &in, maxTranscriptBody); err != nil {
		return err
	}
	return h.transcriptStore(w, r, p.OrgID, &in)
}

func (h *handler) transcriptStore(w http.ResponseWriter, r *http.Request, orgID string, in *transcriptInput) error {
	ing, err := in.ingest()
	if err != nil {
		return err
	}
	res, err := h.store.TranscriptIngestStore(r.Context(), orgID, ing)
	if err != nil {
		return err
	}
	t := res.Transcript
	status := http.StatusOK
	var work []string
	if res.Result == store.IngestQueued {
		status = http.StatusAccepted
		work = []string{t.ID}
	}
	h.enqueueAfterCommit(r.Context(), orgID, work, res.Deliveries)
	writeJSON(w, status, transcriptAccepted{ID: t.ID, ActivityID: t.ActivityID, Status: t.Status,
		StatusURL: "/v1/transcripts/" + t.ID})
	return nil
}

// transcriptHook authenticates by signature instead of a bearer key.
func (h *handler) transcriptHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	orgID := strings.TrimSpace(r.Header.Get("Logbook-Org"))
	unauthorized := func(detail string) error {
		return &httpError{status: http.StatusUnauthorized, detail: detail}
	}
	if !crm.ValidID(orgID) {
		return unauthorized("the Logbook-Org header must name the org (its ID)")
	}
	body, err := readBody(w, r, maxTranscriptBody)
	if err != nil {
		return err
	}
	secret, err := h.store.IngestSecretGet(r.Context(), orgID)
	if errors.Is(err, crm.ErrNotFound) {
		return unauthorized("bad signature or no ingest secret set for this org")
	}
	if err != nil {
		return err
	}
	if err := crm.VerifySignature(r.Header.Get(crm.SignatureHeader), secret, body, h.now()); err != nil {
		return unauthorized(fmt.Sprintf("%v", err))
	}
	var in transcriptInput
	if err := unmarshalStrict(body, &in); err != nil {
		return err
	}
	return h.transcriptStore(w, r, orgID, &in)
}

func (h *handler) transcriptGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inc := r.URL.Query().Get("include")
	if inc != "" && inc != "segments" {
		return crm.Invalid("include", "must be segments")
	}
	t, err := h.store.TranscriptGet(r.Context(), p.OrgID, id, inc == "segments")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// actionItemPatch is the body of PATCH /v1/action-items/{id}.
type actionItemPatch struct {
	Status crm.ActionItemStatus `json:"status"`
}

func (h *handler) actionItemList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.ActionItemFilter{
		AccountID: queryID(&pr, r, "account_id"),
		Owner:     queryText(&pr, r, "owner", crm.MaxName),
		Status:    crm.ActionItemStatus(r.URL.Query().Get("status")),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if f.Status != "" && !f.Status.Valid() {
		pr.Add("status", "must be open or done")
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.ActionItemList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) actionItemUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in actionItemPatch
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if !in.Status.Valid() {
		return crm.Invalid("status", "must be open or done")
	}
	it, err := h.store.ActionItemSetStatus(r.Context(), p.OrgID, id, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (h *handler) followUpRegenerate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.store.ActivityGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	if h.followUp == nil {
		return errStatus(http.StatusServiceUnavailable, "follow-up drafting is not configured on this server")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	f, err := h.followUp.RegenerateFollowUp(ctx, p.OrgID, id)
	if errors.Is(err, crm.ErrNotFound) {
		return errStatus(http.StatusConflict, "this activity has no processed meeting notes yet")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
