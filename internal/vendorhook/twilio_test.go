package vendorhook

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// twilioDocParams and twilioDocURL are the example of Twilio's "webhooks
// security" documentation, whose signature with the auth token 12345 is
// 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
var twilioDocParams = url.Values{
	"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
	"From": {"+12349013030"}, "To": {"+18005551212"},
}

const twilioDocURL = "https://mycompany.com/myapp.php?foo=1&bar=2"

func TestSignTwilio(t *testing.T) {
	t.Parallel()

	t.Run("DocumentedExample", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", SignTwilio("12345", twilioDocURL, twilioDocParams))
		require.True(t, VerifyTwilio("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", twilioDocURL, twilioDocParams))
	})

	t.Run("AnyChangeFails", func(t *testing.T) {
		t.Parallel()
		sig := SignTwilio("12345", twilioDocURL, twilioDocParams)
		require.False(t, VerifyTwilio("12346", sig, twilioDocURL, twilioDocParams), "another token")
		require.False(t, VerifyTwilio("12345", sig, twilioDocURL+"&x=1", twilioDocParams), "another URL")
		changed := url.Values{}
		for k, v := range twilioDocParams {
			changed[k] = v
		}
		changed.Set("Digits", "1235")
		require.False(t, VerifyTwilio("12345", sig, twilioDocURL, changed), "another value")
		require.False(t, VerifyTwilio("12345", "", twilioDocURL, twilioDocParams), "no signature")
		require.False(t, VerifyTwilio("", SignTwilio("", twilioDocURL, twilioDocParams), twilioDocURL, twilioDocParams), "no token")
		require.False(t, VerifyTwilio("12345", sig[:len(sig)-1], twilioDocURL, twilioDocParams), "a cut signature")
	})

	t.Run("DefaultPortEitherWay", func(t *testing.T) {
		t.Parallel()
		sig := SignTwilio("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", twilioDocParams)
		require.True(t, VerifyTwilio("12345", sig, twilioDocURL, twilioDocParams))
		sig = SignTwilio("12345", twilioDocURL, twilioDocParams)
		require.True(t, VerifyTwilio("12345", sig, "https://mycompany.com:443/myapp.php?foo=1&bar=2", twilioDocParams))
		require.False(t, VerifyTwilio("12345", sig, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", twilioDocParams))
	})

	t.Run("RepeatedNamesSortedValues", func(t *testing.T) {
		t.Parallel()
		a := url.Values{"A": {"2", "1"}, "B": {"x"}}
		b := url.Values{"B": {"x"}, "A": {"1", "2"}}
		require.Equal(t, SignTwilio("k", "https://h/x", a), SignTwilio("k", "https://h/x", b))
	})
}

func TestParseTwilioCall(t *testing.T) {
	t.Parallel()

	t.Run("StatusCallback", func(t *testing.T) {
		t.Parallel()
		c, err := ParseTwilioCall(url.Values{
			"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "ParentCallSid": {"CAffff"}, "AccountSid": {"AC1"},
			"From": {"+14155550100"}, "To": {"+14155550199"}, "Direction": {"outbound-api"}, "CallStatus": {"completed"},
			"CallDuration": {"62"}, "AnsweredBy": {"machine_end_beep"}, "RecordingUrl": {"https://api.twilio.com/rec/RE1"},
			"RecordingSid": {"RE1"}, "Timestamp": {"Tue, 10 Mar 2026 15:01:02 +0000"}, "SequenceNumber": {"3"}, "Extra": {"ignored"},
		})
		require.NoError(t, err)
		require.Equal(t, "CA0123456789abcdef0123456789abcdef", c.CallSid)
		require.Equal(t, "CAffff", c.ParentCallSid)
		require.Equal(t, "outbound-api", c.Direction)
		require.Equal(t, "completed", c.CallStatus)
		require.True(t, c.HasDuration)
		require.Equal(t, 62, c.CallDuration)
		require.Equal(t, "machine_end_beep", c.AnsweredBy)
		require.Equal(t, "https://api.twilio.com/rec/RE1", c.RecordingURL)
		require.Equal(t, time.Date(2026, 3, 10, 15, 1, 2, 0, time.UTC), c.Timestamp)
		require.Equal(t, 3, c.SequenceNumber)
		require.True(t, TwilioFinal(c.CallStatus))
		require.False(t, TwilioFinal("ringing"))
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		for name, form := range map[string]url.Values{
			"NoCallSid":      {"CallStatus": {"ringing"}},
			"OddCallSid":     {"CallSid": {"CA 1"}},
			"UnknownStatus":  {"CallSid": {"CA1"}, "CallStatus": {"exploded"}},
			"OddDirection":   {"CallSid": {"CA1"}, "Direction": {"sideways"}},
			"NegativeLength": {"CallSid": {"CA1"}, "CallDuration": {"-4"}},
			"TextLength":     {"CallSid": {"CA1"}, "CallDuration": {"long"}},
		} {
			_, err := ParseTwilioCall(form)
			require.ErrorIs(t, err, ErrCallEvent, name)
		}
	})

	t.Run("RecordingCallbackHasNoStatus", func(t *testing.T) {
		t.Parallel()
		c, err := ParseTwilioCall(url.Values{"CallSid": {"CA1"}, "RecordingUrl": {"https://x/r"}, "Timestamp": {"garbage"}})
		require.NoError(t, err)
		require.Empty(t, c.CallStatus)
		require.True(t, c.Timestamp.IsZero())
		require.Equal(t, -1, c.SequenceNumber)
	})
}

// FuzzParseTwilioCall feeds arbitrary form bodies through the parser and
// the signature: neither may panic, and an accepted call has a CallSid.
func FuzzParseTwilioCall(f *testing.F) {
	f.Add("CallSid=CA1&CallStatus=completed&CallDuration=5&Timestamp=Tue%2C+10+Mar+2026+15%3A01%3A02+%2B0000")
	f.Add("CallSid=CA1&CallSid=CA2&Direction=outbound-dial&AnsweredBy=human")
	f.Add("%zz=1&CallSid=")
	f.Add("CallDuration=99999999999999999999&CallSid=CA1")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_ = VerifyTwilio("token", SignTwilio("token", "https://h/x", form), "https://h/x", form)
		c, err := ParseTwilioCall(form)
		if err == nil && c.CallSid == "" {
			t.Fatalf("accepted a call without a CallSid: %q", body)
		}
	})
}
