package calfeed

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/teambition/rrule-go"
)

// Limits on Expand's work.
const (
	// MaxInstancesPerEvent is the most instances one series yields in a
	// window.
	MaxInstancesPerEvent = 1000
	// MaxSteps is the most occurrences of one rule generated (those
	// before the window included) before Expand gives up on it. Daily
	// and weekly series without COUNT start generating near the window,
	// so only a COUNT series decades long reaches it.
	MaxSteps = 100_000
	// MaxInterval is the largest INTERVAL expanded.
	MaxInterval = 1000
	// MaxCostlyRules is how many monthly or yearly rules with BY… parts
	// one Expand call expands (a rule no date satisfies costs rrule-go a
	// walk to the year 9999: milliseconds, but not thousands of times).
	MaxCostlyRules = 200
)

// Instance is one occurrence of an event in a window.
type Instance struct {
	UID string
	// RecurrenceID is the instance's original start, as its key within
	// the series ("20060102T150405Z" in UTC, or "20060102" for an all-day
	// series); "" for a single event.
	RecurrenceID string
	// Start and End are the instance's own (an override moves them).
	Start, End time.Time
	AllDay     bool
	// Event is the VEVENT whose details apply: the override, else the
	// master.
	Event *Event
}

// Stats says what Expand left out.
type Stats struct {
	// Truncated counts series cut at MaxInstancesPerEvent or MaxSteps.
	Truncated int
	// Unexpanded counts series whose rule Expand does not expand (sub-daily
	// frequencies, BYEASTER, BY… parts RFC 5545 forbids with the
	// frequency, INTERVAL over MaxInterval, past MaxCostlyRules, or
	// unreadable): only their DTSTART and RDATEs are instances.
	Unexpanded int
}

// RecurrenceKey formats an original start as Instance.RecurrenceID does.
func RecurrenceKey(t time.Time, allDay bool) string {
	if allDay {
		return t.Format("20060102")
	}
	return t.UTC().Format("20060102T150405Z")
}

// Expand returns the instances of events that start in [from, to), sorted
// by start: single events, the occurrences of each series (RRULE, RDATE,
// minus EXDATE) with overrides (same UID, RECURRENCE-ID) in place of the
// occurrences they replace, wherever they moved them. A cancelled event,
// series or override yields nothing. Of several copies of one event (or
// of one override) the highest SEQUENCE wins.
func Expand(events []Event, from, to time.Time) ([]Instance, Stats) {
	type series struct {
		master    *Event
		overrides map[string]*Event
		order     []string
	}
	bySeries := map[string]*series{}
	var uids []string
	for i := range events {
		e := &events[i]
		s := bySeries[e.UID]
		if s == nil {
			s = &series{overrides: map[string]*Event{}}
			bySeries[e.UID] = s
			uids = append(uids, e.UID)
		}
		if e.RecurrenceID.IsZero() {
			if s.master == nil || e.Sequence >= s.master.Sequence {
				s.master = e
			}
			continue
		}
		k := e.RecurrenceID.UTC().Format(time.RFC3339)
		if cur, ok := s.overrides[k]; !ok || e.Sequence >= cur.Sequence {
			if !ok {
				s.order = append(s.order, k)
			}
			s.overrides[k] = e
		}
	}
	var (
		out    []Instance
		stats  Stats
		costly int
	)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for _, uid := range uids {
		s := bySeries[uid]
		m := s.master
		if m != nil && m.Cancelled() {
			continue
		}
		n := 0
		emit := func(in Instance) bool {
			if n >= MaxInstancesPerEvent {
				return false
			}
			n++
			out = append(out, in)
			return true
		}
		if m != nil && !m.Recurring() {
			if in(m.Start) {
				emit(Instance{UID: uid, Start: m.Start, End: m.End, AllDay: m.AllDay, Event: m})
			}
			continue
		}
		allDay := m != nil && m.AllDay
		overridden := map[string]bool{}
		if m != nil {
			ex := newExclusions(m.ExDates)
			for _, k := range s.order {
				overridden[RecurrenceKey(s.overrides[k].RecurrenceID, allDay)] = true
			}
			occ := occurrences(m, from, to, &stats, &costly)
			for _, o := range occ {
				key := RecurrenceKey(o, allDay)
				if overridden[key] || ex.has(o) {
					continue
				}
				end := o.Add(m.End.Sub(m.Start))
				if allDay {
					end = o.AddDate(0, 0, max(1, int(m.End.Sub(m.Start).Hours()+12)/24))
				}
				if !emit(Instance{UID: uid, RecurrenceID: key, Start: o, End: end, AllDay: allDay, Event: m}) {
					stats.Truncated++
					break
				}
			}
			for _, k := range s.order {
				ov := s.overrides[k]
				if ov.Cancelled() || ex.has(ov.RecurrenceID) || !in(ov.Start) {
					continue
				}
				emit(Instance{UID: uid, RecurrenceID: RecurrenceKey(ov.RecurrenceID, allDay), Start: ov.Start, End: ov.End, AllDay: ov.AllDay, Event: ov})
			}
			continue
		}
		// Overrides without their master (a calendar shared one instance).
		for _, k := range s.order {
			ov := s.overrides[k]
			if ov.Cancelled() || !in(ov.Start) {
				continue
			}
			emit(Instance{UID: uid, RecurrenceID: RecurrenceKey(ov.RecurrenceID, ov.AllDay), Start: ov.Start, End: ov.End, AllDay: ov.AllDay, Event: ov})
		}
	}
	slices.SortStableFunc(out, func(a, b Instance) int { return a.Start.Compare(b.Start) })
	return out, stats
}

// exclusions are a series' EXDATEs: exact instants, and whole days for a
// DATE value.
type exclusions struct {
	at   map[int64]bool
	days map[string]bool
}

func newExclusions(ts []time.Time) exclusions {
	ex := exclusions{at: map[int64]bool{}, days: map[string]bool{}}
	for _, t := range ts {
		ex.at[t.Unix()] = true
		if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 {
			ex.days[t.Format("20060102")] = true
		}
	}
	return ex
}

func (ex exclusions) has(t time.Time) bool {
	return ex.at[t.Unix()] || ex.days[t.Format("20060102")]
}

var untilDate = regexp.MustCompile(`(?i)UNTIL=(\d{8})(;|$)`)

// occurrences returns the original starts of series m in [from, to): its
// DTSTART, its rule's occurrences and its RDATEs, sorted and distinct
// (EXDATEs are the caller's).
func occurrences(m *Event, from, to time.Time, stats *Stats, costly *int) []time.Time {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	var out []time.Time
	if in(m.Start) {
		out = append(out, m.Start)
	}
	for _, t := range m.RDates {
		if in(t) {
			out = append(out, t)
		}
	}
	if m.RRule != "" {
		o, ok := expandable(m, costly)
		if !ok {
			stats.Unexpanded++
		} else {
			got, truncated := runRule(o, from, to)
			if truncated {
				stats.Truncated++
			}
			out = append(out, got...)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// expandable parses m's rule and returns the options to run, or false for
// a rule Expand does not expand (see Stats.Unexpanded).
func expandable(m *Event, costly *int) (rrule.ROption, bool) {
	o, err := ruleOption(m.RRule)
	if err != nil || o == nil {
		return rrule.ROption{}, false
	}
	switch {
	case o.Freq > rrule.DAILY, len(o.Byeaster) > 0, o.Interval > MaxInterval,
		len(o.Byweekno) > 0 && o.Freq != rrule.YEARLY,
		len(o.Byyearday) > 0 && o.Freq != rrule.YEARLY,
		len(o.Bymonthday) > 0 && o.Freq == rrule.WEEKLY,
		len(o.Bysetpos) > 0 && o.Freq != rrule.MONTHLY && o.Freq != rrule.YEARLY:
		return rrule.ROption{}, false
	}
	if o.Freq <= rrule.MONTHLY && len(o.Bymonthday)+len(o.Byweekday)+len(o.Byweekno)+len(o.Byyearday)+len(o.Bysetpos) > 0 {
		*costly++
		if *costly > MaxCostlyRules {
			return rrule.ROption{}, false
		}
	}
	if o.Freq == rrule.DAILY && !dailyPossible(o) {
		o.Count = -1 // marks a rule no day satisfies
	}
	o.Dtstart = m.Start
	if sm := untilDate.FindStringSubmatch(m.RRule); sm != nil {
		if d, err := time.ParseInLocation("20060102", sm[1], m.Start.Location()); err == nil {
			o.Until = d.Add(24*time.Hour - time.Second)
		}
	}
	return *o, true
}

// dailyPossible reports whether a daily rule's BYMONTH and BYMONTHDAY
// (the only date filters allowed with it besides BYDAY, which every date
// meets in some year) leave any date.
func dailyPossible(o *rrule.ROption) bool {
	if len(o.Bymonthday) == 0 {
		return true
	}
	months := o.Bymonth
	if len(months) == 0 {
		months = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	}
	for _, mo := range months {
		days := time.Date(2024, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() // 2024: a leap year
		for _, d := range o.Bymonthday {
			if (d > 0 && d <= days) || (d < 0 && -d <= days) {
				return true
			}
		}
	}
	return false
}

// runRule generates o's occurrences in [from, to), at most
// MaxInstancesPerEvent of them and MaxSteps generated in all.
func runRule(o rrule.ROption, from, to time.Time) (out []time.Time, truncated bool) {
	if o.Count < 0 {
		return nil, false
	}
	defer func() {
		if p := recover(); p != nil {
			out, truncated = nil, true
		}
	}()
	if o.Count == 0 && (o.Freq == rrule.DAILY || o.Freq == rrule.WEEKLY) && from.After(o.Dtstart) {
		// Start near the window: whole periods keep the series' days
		// and week alignment.
		period := max(1, o.Interval)
		if o.Freq == rrule.WEEKLY {
			period *= 7
			if len(o.Byweekday) == 0 {
				o.Byweekday = []rrule.Weekday{weekday(o.Dtstart.Weekday())}
			}
		}
		if k := int(from.Sub(o.Dtstart).Hours()/24)/period - 1; k > 0 {
			o.Dtstart = o.Dtstart.AddDate(0, 0, k*period)
		}
	}
	r, err := rrule.NewRRule(o)
	if err != nil {
		return nil, false
	}
	next := r.Iterator()
	for steps := 0; ; steps++ {
		if steps >= MaxSteps {
			return out, true
		}
		t, ok := next()
		if !ok || !t.Before(to) {
			return out, false
		}
		if t.Before(from) {
			continue
		}
		if len(out) >= MaxInstancesPerEvent {
			return out, true
		}
		out = append(out, t)
	}
}

func weekday(d time.Weekday) rrule.Weekday {
	return [...]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[d]
}

// String describes an instance for logs and tests.
func (in Instance) String() string {
	return fmt.Sprintf("%s/%s %s", in.UID, in.RecurrenceID, in.Start.Format(time.RFC3339))
}
