package vendorhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks reference vector (the spec's libraries test with
// it; checked here against openssl too).
const (
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS     = "1614265330"
	swBody   = `{"test": 2432232314}`
	swSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestVerifyStandardKnownVector(t *testing.T) {
	t.Parallel()
	at := time.Unix(1614265330, 0)
	key, err := StandardSecret(swSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := SignStandard(key, swID, at, []byte(swBody)); got != swSig {
		t.Fatalf("SignStandard = %q, want %q", got, swSig)
	}
	cases := []struct {
		name           string
		secret, id, ts string
		sig, body      string
		now            time.Time
		want           error
	}{
		{"Valid", swSecret, swID, swTS, swSig, swBody, at, nil},
		{"ValidWithoutPrefix", strings.TrimPrefix(swSecret, "whsec_"), swID, swTS, swSig, swBody, at.Add(4 * time.Minute), nil},
		{"OneOfSeveral", swSecret, swID, swTS, "v1,bm90IGl0 v2,abc " + swSig, swBody, at, nil},
		{"OtherVersionOnly", swSecret, swID, swTS, "v1a," + strings.TrimPrefix(swSig, "v1,"), swBody, at, ErrSignatureMismatch},
		{"TamperedBody", swSecret, swID, swTS, swSig, `{"test": 2432232315}`, at, ErrSignatureMismatch},
		{"OtherID", swSecret, "msg_other", swTS, swSig, swBody, at, ErrSignatureMismatch},
		{"WrongSecret", "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", swID, swTS, swSig, swBody, at, ErrSignatureMismatch},
		{"Stale", swSecret, swID, swTS, swSig, swBody, at.Add(5*time.Minute + time.Second), ErrStaleSignature},
		{"FromTheFuture", swSecret, swID, swTS, swSig, swBody, at.Add(-6 * time.Minute), ErrStaleSignature},
		{"TimestampNotANumber", swSecret, swID, "1614265330.0", swSig, swBody, at, ErrStaleSignature},
		{"MissingID", swSecret, "", swTS, swSig, swBody, at, ErrNoSignature},
		{"MissingTimestamp", swSecret, swID, "", swSig, swBody, at, ErrNoSignature},
		{"MissingSignature", swSecret, swID, swTS, "", swBody, at, ErrNoSignature},
		{"NotBase64", swSecret, swID, swTS, "v1,!!!", swBody, at, ErrSignatureMismatch},
		{"BadSecret", "whsec_%%%", swID, swTS, swSig, swBody, at, ErrBadWebhookSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := VerifyStandard(c.secret, c.id, c.ts, c.sig, []byte(c.body), c.now)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && (d.ID != swID || d.Timestamp.Unix() != 1614265330) {
				t.Fatalf("delivery = %+v", d)
			}
			if err != nil && strings.Contains(err.Error(), "MfKQ9r8") {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestVerifyZoomKnownVector(t *testing.T) {
	t.Parallel()
	const token, ts, body = "zoom-secret-token", "1700000000", `{"event":"meeting.started"}`
	// openssl: printf 'v0:1700000000:{"event":"meeting.started"}' | openssl dgst -sha256 -hmac zoom-secret-token
	const sig = "v0=786c4446a640d95353b44534c52c31a8be0a5eadf45b4a1715cb39d62fa6acd1"
	if got := SignZoom(token, ts, []byte(body)); got != sig {
		t.Fatalf("SignZoom = %q, want %q", got, sig)
	}
	at := time.Unix(1700000000, 0)
	cases := []struct {
		name, token, ts, sig, body string
		now                        time.Time
		want                       error
	}{
		{"Valid", token, ts, sig, body, at.Add(time.Minute), nil},
		{"Uppercase", token, ts, "v0=" + strings.ToUpper(strings.TrimPrefix(sig, "v0=")), body, at, nil},
		{"Tampered", token, ts, sig, body + " ", at, ErrSignatureMismatch},
		{"WrongToken", "other", ts, sig, body, at, ErrSignatureMismatch},
		{"NoPrefix", token, ts, strings.TrimPrefix(sig, "v0="), body, at, ErrSignatureMismatch},
		{"Stale", token, ts, sig, body, at.Add(10 * time.Minute), ErrStaleSignature},
		{"OtherTimestamp", token, strconv.Itoa(1700000001), sig, body, at, ErrSignatureMismatch},
		{"Missing", token, ts, "", body, at, ErrNoSignature},
		{"MissingTimestamp", token, "", sig, body, at, ErrNoSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := VerifyZoom(c.token, c.ts, c.sig, []byte(c.body), c.now); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestZoomChallenge(t *testing.T) {
	t.Parallel()
	// openssl: printf qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac zoom-secret-token
	got := AnswerZoomChallenge("zoom-secret-token", "qgg8vlvZRS6UYooatFL8Aw")
	want := ZoomChallenge{PlainToken: "qgg8vlvZRS6UYooatFL8Aw", EncryptedToken: "d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	ev, err := ParseZoomEvent([]byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`))
	if err != nil || ev.Event != ZoomURLValidation || ev.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" || ev.EventTS != 1654503849680 {
		t.Fatalf("ev = %+v, err = %v", ev, err)
	}
	if _, err := ParseZoomEvent([]byte(`{"payload":{},"event":"endpoint.url_validation"}`)); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("a challenge without its token: err = %v", err)
	}
}

const zoomTranscriptEvent = `{
  "event": "recording.transcript_completed",
  "event_ts": 1772463600000,
  "payload": {
    "account_id": "AAAAAABBBB",
    "object": {
      "uuid": "4444AAAiAAAAAiAiAiiAii==",
      "id": 84113334444,
      "account_id": "AAAAAABBBB",
      "host_id": "x1yCzABCDEfg23HiJKl4mN",
      "topic": "Acme QBR",
      "type": 2,
      "start_time": "2026-03-02T15:00:00Z",
      "timezone": "America/Los_Angeles",
      "host_email": "dana@acme.test",
      "duration": 52,
      "total_size": 529758,
      "recording_count": 2,
      "share_url": "https://example.zoom.us/rec/share/abc",
      "recording_files": [
        {"id": "ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8", "meeting_id": "4444AAAiAAAAAiAiAiiAii==", "recording_start": "2026-03-02T15:00:05Z",
         "recording_end": "2026-03-02T15:52:10Z", "file_type": "MP4", "file_extension": "MP4", "file_size": 246560,
         "download_url": "https://example.zoom.us/rec/download/mp4", "status": "completed", "recording_type": "shared_screen_with_speaker_view"},
        {"id": "f2a8c1d0-1b2c-4d5e-8f90-a1b2c3d4e5f6", "meeting_id": "4444AAAiAAAAAiAiAiiAii==", "recording_start": "2026-03-02T15:00:05Z",
         "recording_end": "2026-03-02T15:52:10Z", "file_type": "TRANSCRIPT", "file_extension": "VTT", "file_size": 1234,
         "download_url": "https://example.zoom.us/rec/download/vtt", "status": "completed", "recording_type": "audio_transcript"}
      ]
    }
  },
  "download_token": "abJhbGciOiJIUzUxMiJ9.eyJpc3MiOiJodHRwczovL2V2ZW50Lnpvb20udXMi"
}`

func TestParseZoomTranscriptCompleted(t *testing.T) {
	t.Parallel()
	ev, err := ParseZoomEvent([]byte(zoomTranscriptEvent))
	if err != nil {
		t.Fatal(err)
	}
	m := ev.Meeting
	if ev.Event != ZoomTranscriptCompleted || ev.DownloadToken == "" || m.UUID != "4444AAAiAAAAAiAiAiiAii==" || m.ID != "84113334444" ||
		m.Topic != "Acme QBR" || m.HostEmail != "dana@acme.test" || m.DurationMinutes != 52 ||
		!m.StartTime.Equal(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)) || len(m.Files) != 2 {
		t.Fatalf("ev = %+v", ev)
	}
	tr := m.Transcripts()
	if len(tr) != 1 || tr[0].ID != "f2a8c1d0-1b2c-4d5e-8f90-a1b2c3d4e5f6" || tr[0].DownloadURL != "https://example.zoom.us/rec/download/vtt" ||
		!tr[0].RecordingStart.Equal(time.Date(2026, 3, 2, 15, 0, 5, 0, time.UTC)) {
		t.Fatalf("transcripts = %+v", tr)
	}
	for _, bad := range []string{
		`{"event":"recording.transcript_completed","payload":{"object":{"uuid":"u"}}}`,
		`{"event":"recording.transcript_completed","payload":{},"download_token":"t"}`,
		`{"event":"recording.transcript_completed","payload":{"object":{"uuid":"u","recording_files":[{"id":"a b"}]}},"download_token":"t"}`,
		`{"event":""}`, `[]`, `{"event":"x","payload":{"object":{"uuid":"u","id":"notanumber"}}}`,
	} {
		if _, err := ParseZoomEvent([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("%s: err = %v, want ErrBadPayload", bad, err)
		}
	}
	// Other events are read (and ignored by the hook).
	if ev, err := ParseZoomEvent([]byte(`{"event":"meeting.started","payload":{"object":{"uuid":"u","id":1}}}`)); err != nil || ev.Event != "meeting.started" {
		t.Fatalf("ev = %+v, err = %v", ev, err)
	}
}

func TestParseRecallEvent(t *testing.T) {
	t.Parallel()
	ev, err := ParseRecallEvent([]byte(`{"event":"transcript.done","data":{"data":{"code":"done","sub_code":null,"updated_at":"2026-03-02T16:00:00Z"},
		"transcript":{"id":"tr_8f1e","metadata":{}},"recording":{"id":"rec_77aa","metadata":{}},"bot":{"id":"bot_12cd","metadata":{}}}}`))
	if err != nil || ev != (RecallEvent{Event: "transcript.done", TranscriptID: "tr_8f1e", RecordingID: "rec_77aa", BotID: "bot_12cd"}) {
		t.Fatalf("ev = %+v, err = %v", ev, err)
	}
	ev, err = ParseRecallEvent([]byte(`{"event":"recording.done","data":{"data":{"code":"done"},"recording":{"id":"rec_1"},"bot":null}}`))
	if err != nil || ev != (RecallEvent{Event: "recording.done", RecordingID: "rec_1"}) {
		t.Fatalf("ev = %+v, err = %v", ev, err)
	}
	for _, bad := range []string{`{"event":"transcript.done","data":{"recording":{"id":"r"}}}`, `{"data":{}}`, `nope`,
		`{"event":"transcript.done","data":{"transcript":{"id":"../../x y"}}}`, `{"event":"transcript.done","data":{"transcript":{"id":7}}}`} {
		if _, err := ParseRecallEvent([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("%s: err = %v, want ErrBadPayload", bad, err)
		}
	}
}

func TestParseRecallTranscript(t *testing.T) {
	t.Parallel()
	meta, err := ParseRecallTranscriptMeta([]byte(`{"id":"tr_8f1e","recording":{"id":"rec_77aa","metadata":{}},"created_at":"2026-03-02T16:00:00.123Z",
		"status":{"code":"done","sub_code":null,"updated_at":"2026-03-02T16:00:00Z"},"metadata":{},
		"data":{"download_url":"https://us-east-1.recall.ai/download/tr_8f1e?token=x","provider_data_download_url":null},"diarization":null,"provider":{}}`))
	if err != nil || meta.ID != "tr_8f1e" || meta.Status != "done" || meta.RecordingID != "rec_77aa" ||
		meta.DownloadURL != "https://us-east-1.recall.ai/download/tr_8f1e?token=x" || meta.CreatedAt.IsZero() {
		t.Fatalf("meta = %+v, err = %v", meta, err)
	}
	if _, err := ParseRecallTranscriptMeta([]byte(`{"id":"tr_1","status":{"code":"processing"},"data":{"download_url":null}}`)); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("a transcript without a download: err = %v", err)
	}

	tr, err := ParseRecallTranscript([]byte(`[
	  {"participant":{"id":100,"name":"Maya Patel","is_host":true,"platform":"zoom","extra_data":{},"email":"maya@northwind.test"},
	   "words":[{"text":"Thanks","start_timestamp":{"relative":1.5,"absolute":"2026-03-02T15:00:01.5Z"},"end_timestamp":{"relative":1.9,"absolute":null}},
	            {"text":"for joining.","start_timestamp":{"relative":2.0},"end_timestamp":{"relative":2.75}}]},
	  {"participant":{"id":101,"name":"Dana Lee","is_host":false,"platform":"zoom","extra_data":{},"email":null},
	   "words":[{"text":"Happy to.","start_timestamp":{"relative":3.0},"end_timestamp":null}]},
	  {"participant":{"id":100,"name":"Maya Patel","email":"maya@northwind.test"},"words":[]},
	  {"participant":{"id":100,"name":"Maya Patel","email":"maya@northwind.test"},
	   "words":[{"text":"Let's start.","start_timestamp":{"relative":4.0},"end_timestamp":{"relative":5.0}}]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Utterances) != 3 || len(tr.Participants) != 2 {
		t.Fatalf("tr = %+v", tr)
	}
	u := tr.Utterances[0]
	if u.Text != "Thanks for joining." || u.StartMS != 1500 || u.EndMS != 2750 || u.Participant != (RecallParticipant{ID: "100", Name: "Maya Patel", Email: "maya@northwind.test"}) {
		t.Fatalf("first = %+v", u)
	}
	if u := tr.Utterances[1]; u.StartMS != 3000 || u.EndMS != 3000 || u.Participant.Email != "" {
		t.Fatalf("second = %+v", u)
	}
	if !tr.StartedAt.Equal(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("started at %v", tr.StartedAt)
	}
	for _, bad := range []string{`{}`, `[{"words":[{"text":"x"}]}]`, `[{"words":[{"text":"x","start_timestamp":{"relative":-1}}]}]`,
		`[{"words":[{"text":"x","start_timestamp":{"relative":1e300}}]}]`} {
		if _, err := ParseRecallTranscript([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("%s: err = %v, want ErrBadPayload", bad, err)
		}
	}
}

func FuzzVerifyStandard(f *testing.F) {
	f.Add(swID, swTS, swSig, []byte(swBody))
	f.Add("", "x", "v1,", []byte{})
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		now := time.Unix(1614265330, 0)
		d, err := VerifyStandard(swSecret, id, ts, sig, body, now)
		if err == nil && (d.ID == "" || strings.TrimSpace(sig) == "") {
			t.Fatalf("accepted without an id or signature: %+v", d)
		}
	})
}

func FuzzVerifyZoom(f *testing.F) {
	f.Add("1700000000", "v0=786c4446a640d95353b44534c52c31a8be0a5eadf45b4a1715cb39d62fa6acd1", []byte(`{"event":"meeting.started"}`))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := VerifyZoom("zoom-secret-token", ts, sig, body, time.Unix(1700000000, 0))
		if err == nil && SignZoom("zoom-secret-token", strings.TrimSpace(ts), body) != strings.ToLower(strings.TrimSpace(sig)) {
			t.Fatalf("accepted a signature that is not the body's")
		}
	})
}

func FuzzParseRecallEvent(f *testing.F) {
	f.Add([]byte(`{"event":"transcript.done","data":{"transcript":{"id":"t"},"recording":{"id":"r"},"bot":{"id":"b"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseRecallEvent(b)
		if err == nil && ev.Event == RecallTranscriptDone && (ev.TranscriptID == "" || !plainVendorID(ev.TranscriptID)) {
			t.Fatalf("accepted %+v", ev)
		}
	})
}

func FuzzParseRecallTranscriptMeta(f *testing.F) {
	f.Add([]byte(`{"id":"t","status":{"code":"done"},"data":{"download_url":"https://x"},"recording":{"id":"r"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseRecallTranscriptMeta(b)
		if err == nil && m.DownloadURL == "" {
			t.Fatalf("accepted without a download: %+v", m)
		}
	})
}

func FuzzParseRecallTranscript(f *testing.F) {
	f.Add([]byte(`[{"participant":{"id":1,"name":"A","email":"a@x.test"},"words":[{"text":"hi","start_timestamp":{"relative":0.5},"end_timestamp":{"relative":1}}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseRecallTranscript(b)
		if err != nil {
			return
		}
		for _, u := range tr.Utterances {
			if u.Text == "" || u.StartMS < 0 || u.EndMS < u.StartMS {
				t.Fatalf("bad utterance %+v", u)
			}
		}
	})
}

func FuzzParseZoomEvent(f *testing.F) {
	f.Add([]byte(zoomTranscriptEvent))
	f.Add([]byte(`{"payload":{"plainToken":"x"},"event":"endpoint.url_validation"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseZoomEvent(b)
		if err != nil {
			return
		}
		if ev.Event == ZoomTranscriptCompleted {
			if ev.DownloadToken == "" || ev.Meeting.UUID == "" {
				t.Fatalf("accepted %+v", ev)
			}
			for _, f := range ev.Meeting.Transcripts() {
				if f.ID == "" || f.DownloadURL == "" {
					t.Fatalf("accepted a transcript file without id or url: %+v", f)
				}
			}
		}
	})
}
