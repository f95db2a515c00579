package crm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConsentGate(t *testing.T) {
	t.Parallel()
	email := func(s string) *string { return &s }
	dana := Participant{Name: "Dana Lee", Email: "dana@acme.test"}
	wei := Participant{Name: "Wei Chen", Email: "WEI@acme.test"}
	for _, c := range []struct {
		name     string
		consents []MeetingConsent
		parts    []Participant
		require  bool
		hold     bool
		reason   string
	}{
		{name: "NothingRecordedNotRequired", parts: []Participant{dana}},
		{name: "DeclinedHoldsWhateverTheSetting", parts: []Participant{dana, wei},
			consents: []MeetingConsent{{Name: "Dana Lee", Email: email("dana@acme.test"), Consent: ConsentDeclined}},
			hold:     true, reason: "Dana Lee declined recording"},
		{name: "SeveralDeclined", consents: []MeetingConsent{{Name: "Dana Lee", Consent: ConsentDeclined},
			{Email: email("wei@acme.test"), Consent: ConsentDeclined}, {Name: "Ann", Consent: ConsentDeclined}},
			hold: true, reason: "Dana Lee, wei@acme.test and Ann declined recording"},
		{name: "UnknownGoesOnWithoutTheSetting", consents: []MeetingConsent{{Name: "Dana Lee", Consent: ConsentUnknown}}},
		{name: "RequiredAndNoneRecorded", require: true, hold: true,
			reason: "The org requires recording consent, and none is recorded for this meeting"},
		{name: "RequiredAndAParticipantWithoutConsent", require: true, parts: []Participant{dana, wei},
			consents: []MeetingConsent{{Name: "Dana Lee", Email: email("dana@acme.test"), Consent: ConsentGiven}},
			hold:     true, reason: "The org requires recording consent, and Wei Chen has not given it"},
		{name: "RequiredAndUnknown", require: true,
			consents: []MeetingConsent{{Name: "Dana Lee", Consent: ConsentUnknown}, {Name: "Wei", Consent: ConsentUnknown}},
			hold:     true, reason: "The org requires recording consent, and Dana Lee and Wei have not given it"},
		{name: "RequiredAndAllGiven", require: true, parts: []Participant{dana, wei},
			consents: []MeetingConsent{{Name: "Dana Lee", Email: email("dana@acme.test"), Consent: ConsentGiven},
				{Name: "Wei Chen", Email: email("wei@acme.test"), Consent: ConsentGiven}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hold, reason := ConsentGate(c.consents, c.parts, c.require)
			require.Equal(t, c.hold, hold)
			require.Equal(t, c.reason, reason)
		})
	}
}

func TestConsentsInputValidate(t *testing.T) {
	t.Parallel()
	in := ConsentsInput{Consents: []ConsentInput{{Email: " Dana@Acme.test ", Consent: ConsentGiven}, {Name: " Wei ", Consent: ConsentDeclined}}}
	require.NoError(t, in.Validate())
	require.Equal(t, "dana@acme.test", in.Consents[0].Email)
	require.Equal(t, "Wei", in.Consents[1].Name)
	require.Equal(t, "dana@acme.test", ConsentKey("Dana", " DANA@acme.test"))
	require.Equal(t, "wei chen", ConsentKey(" Wei Chen ", ""))

	var nilList ConsentsInput
	require.Error(t, nilList.Validate())
	require.NoError(t, (&ConsentsInput{Consents: []ConsentInput{}}).Validate())
	bad := ConsentsInput{Consents: []ConsentInput{{Name: "A", Consent: "maybe"}, {Consent: ConsentGiven},
		{Name: "a", Consent: ConsentGiven}}}
	var ve *ValidationError
	require.ErrorAs(t, bad.Validate(), &ve)
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	require.Equal(t, []string{"consents[0].consent", "consents[1]", "consents[2]"}, fields)
}
