package vendorhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Recall.ai's events and shapes, as its documentation gives them: the
// webhook (delivered through Svix, signed by Standard Webhooks) only says
// what is ready; the transcript is then fetched with the API key.

// RecallTranscriptDone is the event Recall sends when a transcript (of a
// bot's recording, or an async transcription) is ready to download.
const RecallTranscriptDone = "transcript.done"

// ErrBadPayload wraps every payload that is not of the vendor's
// documented shape.
var ErrBadPayload = errors.New("vendorhook: malformed payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, args...))
}

// maxVendorID bounds the vendor IDs kept (they go into task IDs, URLs and
// external IDs).
const maxVendorID = 200

// RecallEvent is a Recall webhook's event and the IDs it names.
type RecallEvent struct {
	// Event is the event name ("transcript.done", "recording.done"…).
	Event string
	// TranscriptID, RecordingID and BotID are data.transcript.id,
	// data.recording.id and data.bot.id; BotID is empty for a recording
	// of the Desktop Recording SDK, and TranscriptID for other events.
	TranscriptID, RecordingID, BotID string
}

type recallRef struct {
	ID string `json:"id"`
}

// ParseRecallEvent reads a Recall webhook body:
// {"event": "...", "data": {"data": {"code", "sub_code", "updated_at"},
// "transcript": {"id", "metadata"}, "recording": {"id", "metadata"},
// "bot": {"id", "metadata"} | null}}. A transcript.done event must name
// its transcript.
func ParseRecallEvent(body []byte) (RecallEvent, error) {
	var raw struct {
		Event string `json:"event"`
		Data  struct {
			Transcript *recallRef `json:"transcript"`
			Recording  *recallRef `json:"recording"`
			Bot        *recallRef `json:"bot"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return RecallEvent{}, badPayload("not a Recall event: %v", err)
	}
	if raw.Event == "" || len(raw.Event) > 100 {
		return RecallEvent{}, badPayload("the event name is missing")
	}
	ev := RecallEvent{Event: raw.Event}
	for _, f := range []struct {
		ref *recallRef
		dst *string
	}{{raw.Data.Transcript, &ev.TranscriptID}, {raw.Data.Recording, &ev.RecordingID}, {raw.Data.Bot, &ev.BotID}} {
		if f.ref != nil {
			*f.dst = f.ref.ID
		}
	}
	for _, id := range []string{ev.TranscriptID, ev.RecordingID, ev.BotID} {
		if !plainVendorID(id) {
			return RecallEvent{}, badPayload("an ID is not a plain identifier")
		}
	}
	if ev.Event == RecallTranscriptDone && ev.TranscriptID == "" {
		return RecallEvent{}, badPayload("transcript.done names no data.transcript.id")
	}
	return ev, nil
}

// validID reports whether id is empty or a plain vendor identifier
// (letters, digits, - _ . = + / and no more than maxVendorID bytes): something
// safe to put in a task ID or, escaped, a URL path.
func plainVendorID(id string) bool {
	if len(id) > maxVendorID {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.=+/", r):
		default:
			return false
		}
	}
	return id != "." && id != ".."
}

// RecallTranscriptMeta is what Recall's Retrieve Transcript
// (GET /api/v1/transcript/{id}/) answers that the fetch needs.
type RecallTranscriptMeta struct {
	ID string
	// Status is status.code ("done" when the download is ready).
	Status string
	// DownloadURL is data.download_url: a short-lived link to the
	// transcript JSON, fetched without the API key.
	DownloadURL string
	// RecordingID is recording.id.
	RecordingID string
	// CreatedAt is created_at (zero when absent).
	CreatedAt time.Time
}

// ParseRecallTranscriptMeta reads a Retrieve Transcript answer.
func ParseRecallTranscriptMeta(body []byte) (RecallTranscriptMeta, error) {
	var raw struct {
		ID     string `json:"id"`
		Status *struct {
			Code string `json:"code"`
		} `json:"status"`
		Data *struct {
			DownloadURL string `json:"download_url"`
		} `json:"data"`
		Recording *recallRef `json:"recording"`
		CreatedAt string     `json:"created_at"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return RecallTranscriptMeta{}, badPayload("not a Recall transcript: %v", err)
	}
	m := RecallTranscriptMeta{ID: raw.ID}
	if raw.Status != nil {
		m.Status = raw.Status.Code
	}
	if raw.Data != nil {
		m.DownloadURL = raw.Data.DownloadURL
	}
	if raw.Recording != nil {
		m.RecordingID = raw.Recording.ID
	}
	if !plainVendorID(m.ID) || !plainVendorID(m.RecordingID) {
		return RecallTranscriptMeta{}, badPayload("an ID is not a plain identifier")
	}
	if t, err := time.Parse(time.RFC3339Nano, raw.CreatedAt); err == nil {
		m.CreatedAt = t.UTC()
	}
	if m.DownloadURL == "" {
		return RecallTranscriptMeta{}, badPayload("the transcript has no data.download_url (status %q)", clip(m.Status, 50))
	}
	if len(m.DownloadURL) > 4096 {
		return RecallTranscriptMeta{}, badPayload("data.download_url is too long")
	}
	return m, nil
}

// RecallParticipant is a speaker of a Recall transcript.
type RecallParticipant struct {
	// ID is the participant's id in the meeting (a number in Recall's
	// shape, kept as text).
	ID    string
	Name  string
	Email string
}

// RecallUtterance is one entry of a Recall transcript: a participant's
// run of words.
type RecallUtterance struct {
	Participant RecallParticipant
	Text        string
	// StartMS and EndMS are the first word's start and the last word's
	// end, relative to the recording's start.
	StartMS, EndMS int64
}

// RecallTranscript is a downloaded Recall transcript.
type RecallTranscript struct {
	Utterances []RecallUtterance
	// Participants are the distinct speakers, in order of first words
	// (by id, else by name).
	Participants []RecallParticipant
	// StartedAt is when the recording started, from a word's absolute
	// time less its relative one; zero when no word says.
	StartedAt time.Time
}

type recallTimestamp struct {
	Relative *float64 `json:"relative"`
	Absolute string   `json:"absolute"`
}

// maxRelativeSeconds bounds a word's relative time (a week).
const maxRelativeSeconds = 7 * 24 * 3600

// ParseRecallTranscript reads Recall's transcript download: a list of
// {participant: {id, name, email?, …}, words: [{text, start_timestamp:
// {relative, absolute?}, end_timestamp: {…}}]}. Entries without words are
// skipped; a word's missing end is its start.
func ParseRecallTranscript(body []byte) (RecallTranscript, error) {
	var raw []struct {
		Participant *struct {
			ID    json.RawMessage `json:"id"`
			Name  *string         `json:"name"`
			Email *string         `json:"email"`
		} `json:"participant"`
		Words []struct {
			Text  string           `json:"text"`
			Start *recallTimestamp `json:"start_timestamp"`
			End   *recallTimestamp `json:"end_timestamp"`
		} `json:"words"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return RecallTranscript{}, badPayload("not a Recall transcript download: %v", err)
	}
	var out RecallTranscript
	seen := map[string]bool{}
	for i, e := range raw {
		var p RecallParticipant
		if e.Participant != nil {
			p.ID = recallRawText(e.Participant.ID)
			if e.Participant.Name != nil {
				p.Name = strings.TrimSpace(*e.Participant.Name)
			}
			if e.Participant.Email != nil {
				p.Email = strings.TrimSpace(*e.Participant.Email)
			}
		}
		if !utf8.ValidString(p.Name) || !utf8.ValidString(p.Email) || len(p.Name) > 500 || len(p.Email) > 320 {
			return RecallTranscript{}, badPayload("entry %d: the participant's name or email is not valid text", i)
		}
		var words []string
		u := RecallUtterance{Participant: p, StartMS: -1}
		for j, w := range e.Words {
			if w.Start == nil || w.Start.Relative == nil {
				return RecallTranscript{}, badPayload("entry %d word %d has no start_timestamp.relative", i, j)
			}
			start, err := recallRelMS(*w.Start.Relative)
			if err != nil {
				return RecallTranscript{}, badPayload("entry %d word %d: %v", i, j, err)
			}
			end := start
			if w.End != nil && w.End.Relative != nil {
				if end, err = recallRelMS(*w.End.Relative); err != nil {
					return RecallTranscript{}, badPayload("entry %d word %d: %v", i, j, err)
				}
			}
			if u.StartMS < 0 {
				u.StartMS = start
			}
			u.EndMS = max(u.EndMS, end, start)
			if t := strings.TrimSpace(w.Text); t != "" {
				words = append(words, t)
			}
			if out.StartedAt.IsZero() && w.Start.Absolute != "" {
				if abs, err := time.Parse(time.RFC3339Nano, w.Start.Absolute); err == nil && abs.Year() > 1970 && abs.Year() < 10000 {
					out.StartedAt = abs.Add(-time.Duration(start) * time.Millisecond).UTC().Truncate(time.Second)
				}
			}
		}
		if len(words) == 0 {
			continue
		}
		u.Text = strings.Join(words, " ")
		if !utf8.ValidString(u.Text) {
			return RecallTranscript{}, badPayload("entry %d: the words are not valid text", i)
		}
		out.Utterances = append(out.Utterances, u)
		key := "id:" + p.ID
		if p.ID == "" {
			key = "name:" + p.Name
		}
		if !seen[key] {
			seen[key] = true
			out.Participants = append(out.Participants, p)
		}
	}
	return out, nil
}

// relMS turns relative seconds into milliseconds.
func recallRelMS(s float64) (int64, error) {
	if math.IsNaN(s) || s < 0 || s > maxRelativeSeconds {
		return 0, fmt.Errorf("a relative time is out of range")
	}
	return int64(math.Round(s * 1000)), nil
}

// rawText is a JSON scalar as text: a string's value, a number's digits,
// "" for null or anything else.
func recallRawText(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return clip(s, maxVendorID)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		return clip(n.String(), maxVendorID)
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
