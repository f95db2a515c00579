package vendorhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Zoom's webhook scheme and the events the note-taker connector reads
// (developers.zoom.us, "Using webhooks").
const (
	// HeaderZoomSignature carries "v0=" and the hex HMAC-SHA256, under the
	// app's secret token, of "v0:" + timestamp + ":" + body.
	HeaderZoomSignature = "x-zm-signature"
	// HeaderZoomTimestamp is the signed request time, in Unix seconds.
	HeaderZoomTimestamp = "x-zm-request-timestamp"

	// ZoomURLValidation is the challenge Zoom sends when the endpoint is
	// saved and every 72 hours: answer ZoomChallenge.
	ZoomURLValidation = "endpoint.url_validation"
	// ZoomTranscriptCompleted says a cloud recording's transcript (a VTT
	// file) can be downloaded with the event's download_token.
	ZoomTranscriptCompleted = "recording.transcript_completed"
)

// SignZoom returns the x-zm-signature value for body signed at timestamp
// (Unix seconds, as sent in x-zm-request-timestamp) with secretToken.
func SignZoom(secretToken, timestamp string, body []byte) string {
	return "v0=" + hex.EncodeToString(zoomMAC(secretToken, timestamp, body))
}

func zoomMAC(secretToken, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secretToken))
	m.Write([]byte("v0:"))
	m.Write([]byte(timestamp))
	m.Write([]byte{':'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifyZoom checks a Zoom delivery: x-zm-request-timestamp within
// SignatureTolerance of now and x-zm-signature equal, in constant time, to
// SignZoom's. The challenge must be verified too before it is answered:
// its answer is an HMAC under the same token, so answering unsigned
// challenges would sign whatever a caller asks.
func VerifyZoom(secretToken, timestamp, signature string, body []byte, now time.Time) error {
	timestamp, signature = strings.TrimSpace(timestamp), strings.TrimSpace(signature)
	if timestamp == "" || signature == "" {
		return ErrNoSignature
	}
	if _, err := signedUnix(timestamp, now); err != nil {
		return err
	}
	if secretToken == "" {
		return ErrBadWebhookSecret
	}
	hexSig, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return ErrSignatureMismatch
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, zoomMAC(secretToken, timestamp, body)) {
		return ErrSignatureMismatch
	}
	return nil
}

// ZoomChallenge is the answer to endpoint.url_validation.
type ZoomChallenge struct {
	PlainToken string `json:"plainToken"`
	// EncryptedToken is the hex HMAC-SHA256 of plainToken under the
	// secret token.
	EncryptedToken string `json:"encryptedToken"`
}

// AnswerZoomChallenge answers a url_validation challenge.
func AnswerZoomChallenge(secretToken, plainToken string) ZoomChallenge {
	m := hmac.New(sha256.New, []byte(secretToken))
	m.Write([]byte(plainToken))
	return ZoomChallenge{PlainToken: plainToken, EncryptedToken: hex.EncodeToString(m.Sum(nil))}
}

// ZoomFile is one file of a cloud recording.
type ZoomFile struct {
	ID             string
	FileType       string // "TRANSCRIPT", "MP4", "M4A", "CHAT"…
	FileExtension  string // "VTT" for a transcript
	DownloadURL    string
	RecordingStart time.Time
	RecordingEnd   time.Time
}

// IsTranscript reports whether f is a VTT transcript.
func (f ZoomFile) IsTranscript() bool {
	return strings.EqualFold(f.FileType, "TRANSCRIPT") && (f.FileExtension == "" || strings.EqualFold(f.FileExtension, "VTT"))
}

// ZoomMeeting is payload.object of a recording event.
type ZoomMeeting struct {
	UUID string
	// ID is the meeting number (a JSON number in Zoom's shape).
	ID              string
	Topic           string
	StartTime       time.Time
	DurationMinutes int
	HostEmail       string
	Files           []ZoomFile
}

// Transcripts returns the meeting's VTT transcript files.
func (m ZoomMeeting) Transcripts() []ZoomFile {
	var out []ZoomFile
	for _, f := range m.Files {
		if f.IsTranscript() {
			out = append(out, f)
		}
	}
	return out
}

// ZoomEvent is a Zoom webhook body, read.
type ZoomEvent struct {
	Event string
	// EventTS is event_ts (Unix milliseconds).
	EventTS int64
	// PlainToken is the challenge of endpoint.url_validation.
	PlainToken string
	// DownloadToken authorises the download of the recording's files
	// (a Bearer token, valid for 24 hours).
	DownloadToken string
	// Meeting is payload.object of a recording event.
	Meeting ZoomMeeting
}

// ParseZoomEvent reads a Zoom webhook body: {event, event_ts, payload:
// {plainToken} | {account_id, object: {uuid, id, topic, start_time,
// duration, host_email, recording_files: [{id, file_type, file_extension,
// download_url, recording_start, recording_end}]}}, download_token}. A
// url_validation must carry its plainToken; a transcript_completed must
// carry a meeting uuid and the download_token.
func ParseZoomEvent(body []byte) (ZoomEvent, error) {
	var raw struct {
		Event   string `json:"event"`
		EventTS int64  `json:"event_ts"`
		Payload struct {
			PlainToken string `json:"plainToken"`
			Object     *struct {
				UUID      string      `json:"uuid"`
				ID        json.Number `json:"id"`
				Topic     string      `json:"topic"`
				StartTime string      `json:"start_time"`
				Duration  int         `json:"duration"`
				HostEmail string      `json:"host_email"`
				Files     []struct {
					ID             string `json:"id"`
					FileType       string `json:"file_type"`
					FileExtension  string `json:"file_extension"`
					DownloadURL    string `json:"download_url"`
					RecordingStart string `json:"recording_start"`
					RecordingEnd   string `json:"recording_end"`
				} `json:"recording_files"`
			} `json:"object"`
		} `json:"payload"`
		DownloadToken string `json:"download_token"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return ZoomEvent{}, badPayload("not a Zoom event: %v", err)
	}
	if raw.Event == "" || len(raw.Event) > 100 {
		return ZoomEvent{}, badPayload("the event name is missing")
	}
	ev := ZoomEvent{Event: raw.Event, EventTS: raw.EventTS, PlainToken: raw.Payload.PlainToken, DownloadToken: raw.DownloadToken}
	if ev.Event == ZoomURLValidation {
		if ev.PlainToken == "" || len(ev.PlainToken) > 512 || !utf8.ValidString(ev.PlainToken) {
			return ZoomEvent{}, badPayload("endpoint.url_validation carries no usable payload.plainToken")
		}
		return ev, nil
	}
	if o := raw.Payload.Object; o != nil {
		m := ZoomMeeting{UUID: o.UUID, ID: o.ID.String(), Topic: o.Topic, DurationMinutes: o.Duration, HostEmail: strings.TrimSpace(o.HostEmail)}
		if len(m.UUID) > maxVendorID || len(m.ID) > 40 || strings.ContainsRune(m.UUID, 0) || !utf8.ValidString(m.UUID) {
			return ZoomEvent{}, badPayload("the meeting's uuid or id is malformed")
		}
		if len(m.Topic) > 2000 || !utf8.ValidString(m.Topic) || len(m.HostEmail) > 320 || !utf8.ValidString(m.HostEmail) {
			return ZoomEvent{}, badPayload("the meeting's topic or host_email is not valid text")
		}
		if m.DurationMinutes < 0 || m.DurationMinutes > 7*24*60 {
			return ZoomEvent{}, badPayload("the meeting's duration is out of range")
		}
		m.StartTime = vendorTime(o.StartTime)
		for _, f := range o.Files {
			zf := ZoomFile{ID: f.ID, FileType: f.FileType, FileExtension: f.FileExtension, DownloadURL: f.DownloadURL,
				RecordingStart: vendorTime(f.RecordingStart), RecordingEnd: vendorTime(f.RecordingEnd)}
			if !plainVendorID(zf.ID) || len(zf.DownloadURL) > 4096 || len(zf.FileType) > 50 || len(zf.FileExtension) > 20 {
				return ZoomEvent{}, badPayload("a recording file's id or download_url is malformed")
			}
			m.Files = append(m.Files, zf)
		}
		ev.Meeting = m
	}
	if ev.Event == ZoomTranscriptCompleted {
		switch {
		case raw.Payload.Object == nil || ev.Meeting.UUID == "":
			return ZoomEvent{}, badPayload("recording.transcript_completed names no payload.object.uuid")
		case ev.DownloadToken == "" || len(ev.DownloadToken) > 8192:
			return ZoomEvent{}, badPayload("recording.transcript_completed carries no usable download_token")
		}
		for _, f := range ev.Meeting.Transcripts() {
			if f.ID == "" || f.DownloadURL == "" {
				return ZoomEvent{}, badPayload("a transcript file has no id or download_url")
			}
		}
	}
	return ev, nil
}

// parseTime reads an RFC 3339 time; zero when absent or unreadable.
func vendorTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1971 || t.Year() > 9999 {
		return time.Time{}
	}
	return t.UTC()
}
