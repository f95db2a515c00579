package crm_test

import (
	"testing"

	"logbook/internal/crm"
)

func TestConferenceKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://us02web.zoom.us/j/123456789?pwd=abc":              "zoom.us/j/123456789",
		"https://zoom.us/s/123456789":                              "zoom.us/j/123456789",
		"https://acme.zoom.us/wc/join/123456789":                   "zoom.us/j/123456789",
		"https://meet.google.com/ABC-defg-hij?authuser=0":          "meet.google.com/abc-defg-hij",
		"https://www.Whereby.com/acme/":                            "whereby.com/acme",
		"https://acme.webex.com/acme/j.php?MTID=m1234&other=x":     "acme.webex.com/acme/j.php?MTID=m1234",
		"https://teams.microsoft.com/l/meetup-join/19%3ameeting/0": "teams.microsoft.com/l/meetup-join/19%3ameeting/0",
		"tel:+15555555":   "",
		"not a url":       "",
		"ftp://zoom.us/j": "",
	} {
		if got := crm.ConferenceKey(in); got != want {
			t.Errorf("ConferenceKey(%q) = %q, want %q", in, got, want)
		}
	}
}
