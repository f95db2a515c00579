package vendorhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const aircallEnded = `{
  "resource": "call", "event": "call.ended", "timestamp": 1773154900, "token": "45XXYYZZa08",
  "data": {
    "id": 812345, "direct_link": "https://api.aircall.io/v1/calls/812345", "direction": "outbound", "status": "done",
    "missed_call_reason": null, "started_at": 1773154800, "answered_at": 1773154810, "ended_at": 1773154890,
    "duration": 90, "raw_digits": "+1 415-555-0100", "voicemail": null, "recording": "https://aircall.example/rec/812345.mp3",
    "user": {"id": 5, "name": "Dana Lee", "email": "dana@seller.test"},
    "number": {"id": 9, "name": "Sales", "digits": "+1 415-555-0199"},
    "tags": [{"id": 1, "name": "Prospect"}], "comments": [], "new_field": {"x": 1}
  }
}`

func TestParseAircallEvent(t *testing.T) {
	t.Parallel()

	t.Run("CallEnded", func(t *testing.T) {
		t.Parallel()
		ev, err := ParseAircallEvent([]byte(aircallEnded))
		require.NoError(t, err)
		require.Equal(t, "call", ev.Resource)
		require.Equal(t, "call.ended", ev.Event)
		require.Equal(t, "45XXYYZZa08", ev.Token)
		require.Equal(t, time.Unix(1773154900, 0).UTC(), ev.Timestamp)
		c := ev.Call
		require.Equal(t, "812345", c.ID)
		require.Equal(t, "outbound", c.Direction)
		require.Equal(t, "done", c.Status)
		require.Equal(t, time.Unix(1773154800, 0).UTC(), c.StartedAt)
		require.Equal(t, time.Unix(1773154810, 0).UTC(), c.AnsweredAt)
		require.True(t, c.HasDuration)
		require.Equal(t, 90, c.Duration)
		require.Equal(t, "+1 415-555-0100", c.RawDigits)
		require.Equal(t, "https://aircall.example/rec/812345.mp3", c.Recording)
		require.Empty(t, c.Voicemail)
		require.Equal(t, "dana@seller.test", c.UserEmail)
		require.Equal(t, []string{"Prospect"}, c.Tags)
	})

	t.Run("OtherResourcesAreRead", func(t *testing.T) {
		t.Parallel()
		ev, err := ParseAircallEvent([]byte(`{"resource":"user","event":"user.created","timestamp":1,"token":"t","data":{"id":"x"}}`))
		require.NoError(t, err)
		require.Equal(t, "user", ev.Resource)
		require.Empty(t, ev.Call.ID)
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		for name, body := range map[string]string{
			"NotJSON":      `{"event":`,
			"Array":        `[1]`,
			"Two":          `{"event":"call.created","token":"t"} {}`,
			"NoEvent":      `{"resource":"call","token":"t","data":{"id":1,"direction":"inbound"}}`,
			"NoToken":      `{"resource":"call","event":"call.created","data":{"id":1,"direction":"inbound"}}`,
			"NoCallID":     `{"resource":"call","event":"call.created","token":"t","data":{"direction":"inbound"}}`,
			"OddID":        `{"resource":"call","event":"call.created","token":"t","data":{"id":"1; drop","direction":"inbound"}}`,
			"OddDirection": `{"resource":"call","event":"call.created","token":"t","data":{"id":1,"direction":"up"}}`,
			"DataNotCall":  `{"resource":"call","event":"call.created","token":"t","data":"x"}`,
		} {
			_, err := ParseAircallEvent([]byte(body))
			require.ErrorIs(t, err, ErrCallEvent, name)
		}
	})

	t.Run("Token", func(t *testing.T) {
		t.Parallel()
		require.True(t, VerifyAircallToken("45XXYYZZa08", "45XXYYZZa08"))
		require.False(t, VerifyAircallToken("45XXYYZZa08", "45XXYYZZa09"))
		require.False(t, VerifyAircallToken("45XXYYZZa08", ""))
		require.False(t, VerifyAircallToken("", ""))
	})
}

// FuzzParseAircallEvent: arbitrary bodies never panic, and an accepted call
// event has an ID and a direction.
func FuzzParseAircallEvent(f *testing.F) {
	f.Add([]byte(aircallEnded))
	f.Add([]byte(`{"resource":"call","event":"call.voicemail_left","token":"t","timestamp":"1.5e9","data":{"id":"7","direction":"inbound","voicemail":"https://v","started_at":-1,"duration":"NaN"}}`))
	f.Add([]byte(`{"event":"x","token":"t","data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseAircallEvent(body)
		if err != nil || ev.Resource != "call" {
			return
		}
		if ev.Call.ID == "" || (ev.Call.Direction != "inbound" && ev.Call.Direction != "outbound") {
			t.Fatalf("accepted a call event without an ID or direction: %q", body)
		}
	})
}
