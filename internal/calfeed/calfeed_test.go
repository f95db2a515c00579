package calfeed_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/calfeed"
)

const feed = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
X-WR-TIMEZONE:Europe/Berlin
BEGIN:VTIMEZONE
TZID:Custom Zone
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly-1@example.com
DTSTART;TZID=America/New_York:20260302T100000
DTEND;TZID=America/New_York:20260302T103000
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260413
EXDATE;TZID=America/New_York:20260316T100000
SUMMARY:Weekly sync\, Acme
ORGANIZER;CN=Rep One:mailto:Rep1@Logbook.test
ATTENDEE;CN=Ann Buyer;PARTSTAT=ACCEPTED:mailto:ann@acme.example
ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@resource.calendar.google.com
DESCRIPTION:Join: https://us02web.zoom.us/j/123456789?pwd=abc\nThanks
SEQUENCE:2
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@example.com
RECURRENCE-ID;TZID=America/New_York:20260323T100000
DTSTART;TZID=America/New_York:20260324T150000
DTEND;TZID=America/New_York:20260324T153000
SUMMARY:Weekly sync (moved)
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@example.com
RECURRENCE-ID;TZID=America/New_York:20260330T100000
DTSTART;TZID=America/New_York:20260330T100000
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
UID:allday-1
DTSTART;VALUE=DATE:20260305
SUMMARY:Onsite workshop
LOCATION:https://meet.google.com/abc-defg-hij
END:VEVENT
BEGIN:VEVENT
UID:custom-tz
DTSTART;TZID=Custom Zone:20260306T090000
DURATION:PT45M
CONFERENCE;VALUE=URI;FEATURE=PHONE:tel:+1-555
CONFERENCE;VALUE=URI;FEATURE=VIDEO,AUDIO:https://teams.microsoft.com/l/meetup-join/xyz
END:VEVENT
BEGIN:VEVENT
UID:floating
DTSTART:20260307T090000
DTEND:20260307T100000
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
SUMMARY:no uid
DTSTART:20260307T090000Z
END:VEVENT
END:VCALENDAR
`

func TestParseAndExpand(t *testing.T) {
	t.Parallel()
	cal, err := calfeed.Parse(strings.NewReader(strings.ReplaceAll(feed, "\n", "\r\n")))
	require.NoError(t, err)
	require.Equal(t, 1, cal.Skipped)
	require.Equal(t, "Europe/Berlin", cal.Location.String())
	ev := cal.Events[0]
	require.Equal(t, "Weekly sync, Acme", ev.Summary)
	require.Equal(t, "rep1@logbook.test", ev.Organizer.Email)
	require.Equal(t, []calfeed.Attendee{
		{Email: "ann@acme.example", Name: "Ann Buyer", PartStat: "ACCEPTED"},
		{Email: "room4@resource.calendar.google.com", Name: "Room 4", Resource: true},
	}, ev.Attendees)
	require.Equal(t, "https://us02web.zoom.us/j/123456789?pwd=abc", ev.ConferenceURL)
	require.Equal(t, 2, ev.Sequence)
	ny, _ := time.LoadLocation("America/New_York")
	require.Equal(t, time.Date(2026, 3, 2, 10, 0, 0, 0, ny), ev.Start)

	byUID := map[string]calfeed.Event{}
	for _, e := range cal.Events {
		if e.RecurrenceID.IsZero() {
			byUID[e.UID] = e
		}
	}
	ad := byUID["allday-1"]
	require.True(t, ad.AllDay)
	require.Equal(t, "https://meet.google.com/abc-defg-hij", ad.ConferenceURL)
	ber, _ := time.LoadLocation("Europe/Berlin")
	require.Equal(t, time.Date(2026, 3, 5, 0, 0, 0, 0, ber), ad.Start)
	require.Equal(t, ad.Start.AddDate(0, 0, 1), ad.End)
	ct := byUID["custom-tz"]
	require.Equal(t, "https://teams.microsoft.com/l/meetup-join/xyz", ct.ConferenceURL)
	require.Equal(t, time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC), ct.Start.UTC(), "the VTIMEZONE's standard offset")
	require.Equal(t, 45*time.Minute, ct.End.Sub(ct.Start))
	require.True(t, byUID["floating"].Floating)

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	got, stats := calfeed.Expand(cal.Events, from, from.AddDate(0, 2, 0))
	require.Zero(t, stats.Truncated)
	var lines []string
	for _, in := range got {
		lines = append(lines, in.String()+" "+in.Event.Summary)
	}
	// Weekly on Mondays 10:00 New York (DST starts 8 March: 15:00Z then
	// 14:00Z) until 13 April inclusive; 16 March excluded, 23 March moved
	// to the 24th, 30 March cancelled. The floating event is cancelled.
	require.Equal(t, []string{
		"weekly-1@example.com/20260302T150000Z 2026-03-02T10:00:00-05:00 Weekly sync, Acme",
		"allday-1/ 2026-03-05T00:00:00+01:00 Onsite workshop",
		"custom-tz/ 2026-03-06T09:00:00+01:00 ",
		"weekly-1@example.com/20260309T140000Z 2026-03-09T10:00:00-04:00 Weekly sync, Acme",
		"weekly-1@example.com/20260323T140000Z 2026-03-24T15:00:00-04:00 Weekly sync (moved)",
		"weekly-1@example.com/20260406T140000Z 2026-04-06T10:00:00-04:00 Weekly sync, Acme",
		"weekly-1@example.com/20260413T140000Z 2026-04-13T10:00:00-04:00 Weekly sync, Acme",
	}, lines)

	// A window after the series: nothing of it.
	got, _ = calfeed.Expand(cal.Events, from.AddDate(0, 3, 0), from.AddDate(0, 4, 0))
	require.Empty(t, got)
}

func TestExpandLongSeriesAndHostileRules(t *testing.T) {
	t.Parallel()
	start := time.Date(1990, 1, 1, 9, 0, 0, 0, time.UTC)
	mk := func(uid, rule string) calfeed.Event {
		return calfeed.Event{UID: uid, Start: start, End: start.Add(time.Hour), RRule: rule}
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 14)
	got, stats := calfeed.Expand([]calfeed.Event{
		mk("daily", "FREQ=DAILY"),                               // 36 years of days: starts near the window
		mk("never", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"),       // no such day
		mk("secondly", "FREQ=SECONDLY"),                         // not expanded
		mk("forbidden", "FREQ=WEEKLY;BYMONTHDAY=3"),             // RFC 5545 forbids it
		mk("huge-interval", "FREQ=WEEKLY;INTERVAL=99999999999"), // not expanded
		mk("garbage", "FREQ=;;;=="),
	}, from, to)
	require.Len(t, got, 14)
	for _, in := range got {
		require.Equal(t, "daily", in.UID)
	}
	require.Equal(t, 4, stats.Unexpanded)
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"not a calendar",
		"BEGIN:VCALENDAR\r\nX;A=b\r\nEND:VCALENDAR\r\n", // go-ical panics on this line
		"BEGIN:VCALENDAR\r\n" + strings.Repeat("BEGIN:X\r\n", 50) + "END:VCALENDAR\r\n",
		"BEGIN:VEVENT\r\nEND:VEVENT\r\n",
	} {
		_, err := calfeed.Parse(strings.NewReader(in))
		require.ErrorIs(t, err, calfeed.ErrMalformed, "%q", in)
	}
}

func TestParseZonesAndVendorLinks(t *testing.T) {
	t.Parallel()
	cal, err := calfeed.Parse(strings.NewReader("BEGIN:VCALENDAR\r\n" +
		"BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=W. Europe Standard Time:20260706T100000\r\n" +
		"X-GOOGLE-CONFERENCE:https://meet.google.com/aaa-bbbb-ccc\r\n" +
		"ATTENDEE;PARTSTAT=DECLINED;EMAIL=Carl@Acme.Example:urn:uuid:1\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:m\r\nDTSTART;TZID=/mozilla.org/20050126_1/America/Chicago:20260706T100000\r\n" +
		"DESCRIPTION:Dial in or join https://teams.microsoft.com/l/meetup-join/abc. Thanks\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"))
	require.NoError(t, err)
	require.Len(t, cal.Events, 2)
	w, m := cal.Events[0], cal.Events[1]
	require.Equal(t, time.Date(2026, 7, 6, 8, 0, 0, 0, time.UTC), w.Start.UTC(), "Windows zone name: Berlin, summer time")
	require.Equal(t, "https://meet.google.com/aaa-bbbb-ccc", w.ConferenceURL)
	require.Equal(t, []calfeed.Attendee{{Email: "carl@acme.example", PartStat: "DECLINED"}}, w.Attendees)
	require.Equal(t, time.Date(2026, 7, 6, 15, 0, 0, 0, time.UTC), m.Start.UTC(), "prefixed IANA name")
	require.Equal(t, "https://teams.microsoft.com/l/meetup-join/abc", m.ConferenceURL)
}
