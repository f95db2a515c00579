package datephrase

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ref is Wednesday, 4 March 2026.
var ref = time.Date(2026, 3, 4, 15, 30, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestFindForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text, phrase string
		want         time.Time
	}{
		{"I'll do it today.", "today", day(2026, 3, 4)},
		{"Send it tonight", "tonight", day(2026, 3, 4)},
		{"I'll send it tomorrow.", "tomorrow", day(2026, 3, 5)},
		{"tomorrow morning works", "tomorrow morning", day(2026, 3, 5)},
		{"the day after tomorrow", "the day after tomorrow", day(2026, 3, 6)},
		{"I'll send it by Friday.", "by Friday", day(2026, 3, 6)},
		{"let's talk on Friday", "on Friday", day(2026, 3, 6)},
		{"Friday works", "Friday", day(2026, 3, 6)},
		{"this Friday then", "this Friday", day(2026, 3, 6)},
		{"Wednesday again", "Wednesday", day(2026, 3, 11)},
		{"Tuesday", "Tuesday", day(2026, 3, 10)},
		{"next Friday", "next Friday", day(2026, 3, 13)},
		{"next Monday", "next Monday", day(2026, 3, 9)},
		{"by next Wednesday", "by next Wednesday", day(2026, 3, 11)},
		{"by end of the week", "by end of the week", day(2026, 3, 6)},
		{"by the end of the week", "by the end of the week", day(2026, 3, 6)},
		{"end of week", "end of week", day(2026, 3, 6)},
		{"EOW please", "EOW", day(2026, 3, 6)},
		{"end of next week", "end of next week", day(2026, 3, 13)},
		{"by the end of the month", "by the end of the month", day(2026, 3, 31)},
		{"end of month", "end of month", day(2026, 3, 31)},
		{"end of next month", "end of next month", day(2026, 4, 30)},
		{"next week", "next week", day(2026, 3, 9)},
		{"early next week", "early next week", day(2026, 3, 9)},
		{"in two weeks", "in two weeks", day(2026, 3, 18)},
		{"in 3 days", "in 3 days", day(2026, 3, 7)},
		{"in a week", "in a week", day(2026, 3, 11)},
		{"in a couple of weeks", "in a couple of weeks", day(2026, 3, 18)},
		{"within a month", "within a month", day(2026, 4, 4)},
		{"two weeks from now", "two weeks from now", day(2026, 3, 18)},
		{"March 10", "March 10", day(2026, 3, 10)},
		{"by March 10th.", "by March 10th", day(2026, 3, 10)},
		{"10 March", "10 March", day(2026, 3, 10)},
		{"the 10th of March", "the 10th of March", day(2026, 3, 10)},
		{"Mar 10", "Mar 10", day(2026, 3, 10)},
		{"Mar. 10", "Mar. 10", day(2026, 3, 10)},
		{"March 10, 2027", "March 10, 2027", day(2027, 3, 10)},
		{"on 3/10", "on 3/10", day(2026, 3, 10)},
		{"3/10/27", "3/10/27", day(2027, 3, 10)},
		{"2026-03-10", "2026-03-10", day(2026, 3, 10)},
		{"May 5th", "May 5th", day(2026, 5, 5)},
		{"Feb 20", "Feb 20", day(2026, 2, 20)}, // recent past stays
		{"December 20", "December 20", day(2026, 12, 20)},
		{"by the 15th", "by the 15th", day(2026, 3, 15)},
		{"the 3rd", "the 3rd", day(2026, 4, 3)},
		{"the 4th", "the 4th", day(2026, 3, 4)},
		{"by end of Q3", "by end of Q3", day(2026, 9, 30)},
		{"by Q3", "by Q3", day(2026, 9, 30)},
		{"Q1", "Q1", day(2026, 3, 31)},
		{"Q4 2027", "Q4 2027", day(2027, 12, 31)},
		{"end of the quarter", "end of the quarter", day(2026, 3, 31)},
		{"end of year", "end of year", day(2026, 12, 31)},
		{"end of April", "end of April", day(2026, 4, 30)},
		{"Monday morning", "Monday morning", day(2026, 3, 9)},
		{"Friday, March 13", "Friday, March 13", day(2026, 3, 13)},
		{"by end of day Friday", "by end of day Friday", day(2026, 3, 6)},
		{"EOD tomorrow", "EOD tomorrow", day(2026, 3, 5)},
		{"end of day", "end of day", day(2026, 3, 4)},
		{"BY FRIDAY", "BY FRIDAY", day(2026, 3, 6)},
		{"due by friday", "due by friday", day(2026, 3, 6)},
		{"last Friday", "last Friday", day(2026, 2, 27)},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			t.Parallel()
			ms := Find(c.text, ref)
			require.Len(t, ms, 1, "%q: %+v", c.text, ms)
			m := ms[0]
			require.Equal(t, c.phrase, m.Phrase)
			require.Equal(t, c.phrase, c.text[m.Start:m.End])
			require.Equal(t, c.want, m.Date, "%q", c.text)
		})
	}
}

func TestFindRollsMonthsIntoNextYear(t *testing.T) {
	t.Parallel()
	late := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	d, ok := Resolve("Jan 5", late)
	require.True(t, ok)
	require.Equal(t, day(2027, 1, 5), d)
	d, ok = Resolve("by the 15th", late)
	require.True(t, ok)
	require.Equal(t, day(2026, 12, 15), d)
	d, ok = Resolve("end of Q3", late)
	require.True(t, ok)
	require.Equal(t, day(2027, 9, 30), d)
	d, ok = Resolve("the 10th", time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Equal(t, day(2027, 1, 10), d)
	d, ok = Resolve("the 31st", time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Equal(t, day(2026, 5, 31), d)
}

func TestEndOfWeekOnWeekend(t *testing.T) {
	t.Parallel()
	sat := day(2026, 3, 7)
	d, ok := Resolve("end of the week", sat)
	require.True(t, ok)
	require.Equal(t, day(2026, 3, 13), d)
	fri := day(2026, 3, 6)
	d, ok = Resolve("EOW", fri)
	require.True(t, ok)
	require.Equal(t, fri, d)
	d, ok = Resolve("Friday", fri)
	require.True(t, ok)
	require.Equal(t, day(2026, 3, 13), d)
}

func TestRefLocationCalendarDay(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("UTC-8", -8*3600)
	r := time.Date(2026, 3, 4, 22, 0, 0, 0, loc) // 5 March in UTC
	d, ok := Resolve("tomorrow", r)
	require.True(t, ok)
	require.Equal(t, day(2026, 3, 5), d)
}

func TestNonDates(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"We track this in Monday.com and friday@acme.com",
		"we may need more seats",
		"you may 10x your usage",
		"in March we hired",
		"it's a 50/50 call",
		"call 555-1234",
		"mail friday@acme.com",
		"at 10:30 sharp",
		"the first thing",
		"Mondays are busy",
		"version 2.10 shipped",
		"13/45 tickets",
		"we grew 10% in 3 quarters",
		"February 30",
		"",
	} {
		require.Empty(t, Find(text, ref), "%q", text)
	}
}

func TestFindSeveral(t *testing.T) {
	t.Parallel()
	text := "I'll send the SOC 2 report by Friday and the pricing by March 10th; Dana can review next week."
	ms := Find(text, ref)
	require.Len(t, ms, 3)
	require.Equal(t, []string{"by Friday", "by March 10th", "next week"}, []string{ms[0].Phrase, ms[1].Phrase, ms[2].Phrase})
	for _, m := range ms {
		require.Equal(t, m.Phrase, text[m.Start:m.End])
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	d, ok := Resolve("by Friday", ref)
	require.True(t, ok)
	require.Equal(t, day(2026, 3, 6), d)
	_, ok = Resolve("soon", ref)
	require.False(t, ok)
	_, ok = Resolve("", ref)
	require.False(t, ok)
}

func FuzzFind(f *testing.F) {
	f.Add("by Friday, March 13th 2026 and 3/10 or 2026-03-10, end of Q3")
	f.Add("the 31st of February")
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range Find(text, ref) {
			if text[m.Start:m.End] != m.Phrase || m.Date.Hour() != 0 || m.Date.Location() != time.UTC {
				t.Fatalf("bad match %+v in %q", m, text)
			}
		}
	})
}
