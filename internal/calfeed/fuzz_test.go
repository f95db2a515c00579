package calfeed_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"logbook/internal/calfeed"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(feed))
	f.Add([]byte("BEGIN:VCALENDAR\r\nX;A=b\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260301T100000Z\r\nRRULE:FREQ=SECONDLY;INTERVAL=60;BYSECOND=30\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:00010101\r\nRRULE:FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6;BYSETPOS=-400\r\nEXDATE:garbage,20260301\r\nRDATE;VALUE=PERIOD:20260301T100000Z/PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=\"../../etc/passwd\":20260301T100000\r\nRRULE:FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=1;COUNT=99999999\r\nATTENDEE;CN=\"unterminated:mailto:a@b.c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\n" + strings.Repeat("BEGIN:VEVENT\r\n", 9)))
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cal, err := calfeed.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		got, _ := calfeed.Expand(cal.Events, from, from.AddDate(1, 0, 0))
		if len(got) > calfeed.MaxInstancesPerEvent*len(cal.Events) {
			t.Fatalf("%d instances from %d events", len(got), len(cal.Events))
		}
	})
}
