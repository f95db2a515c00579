package calfeed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"logbook/internal/crm"
)

// Limits on what Parse accepts.
const (
	// MaxDepth is the deepest nesting of components accepted
	// (VCALENDAR > VEVENT > VALARM is 3).
	MaxDepth = 8
	// MaxEvents is the most events one Parse reads; a feed with more is
	// an error.
	MaxEvents = 20000
)

// ErrMalformed is what every error of Parse matches with errors.Is.
var ErrMalformed = errors.New("calfeed: malformed calendar data")

// Attendee is an event's organizer or one of its attendees.
type Attendee struct {
	// Email is lower case, without "mailto:"; "" when the calendar gave
	// none.
	Email string
	Name  string
	// PartStat is the attendee's answer (ACCEPTED, DECLINED, TENTATIVE,
	// NEEDS-ACTION…), upper case; "" when not given.
	PartStat string
	// Resource is true for a room or a piece of equipment (CUTYPE ROOM or
	// RESOURCE), which is no participant.
	Resource bool
}

// Event is one VEVENT: a single event, a recurring series' master, or an
// override of one instance of a series (RecurrenceID set).
type Event struct {
	UID string
	// RecurrenceID is the original start of the instance an override
	// replaces; zero on a single event or a master.
	RecurrenceID time.Time
	// Start and End (exclusive). An all-day event starts at midnight of
	// its day in the calendar's zone; a floating time is read in it too.
	Start, End time.Time
	AllDay     bool
	Floating   bool
	Summary    string
	// Description and Location are unescaped text.
	Description string
	Location    string
	// Status is CONFIRMED, TENTATIVE, CANCELLED or "".
	Status    string
	Sequence  int
	Organizer Attendee
	Attendees []Attendee
	// ConferenceURL is the meeting's video link, "" when none was found.
	ConferenceURL string

	// RRule is the recurrence rule as written ("" for none).
	RRule   string
	RDates  []time.Time
	ExDates []time.Time
}

// Cancelled reports whether the event's STATUS is CANCELLED.
func (e *Event) Cancelled() bool { return e.Status == "CANCELLED" }

// Recurring reports whether the event is a series (RRULE or RDATE) or an
// override of one instance.
func (e *Event) Recurring() bool {
	return e.RRule != "" || len(e.RDates) > 0 || !e.RecurrenceID.IsZero()
}

// Calendar is what Parse read.
type Calendar struct {
	Events []Event
	// Location is the calendar's zone (X-WR-TIMEZONE), in which all-day
	// and floating times are read; UTC when it names none.
	Location *time.Location
	// Skipped counts the VEVENTs left out: no UID or no usable DTSTART.
	Skipped int
}

// Parse reads iCalendar data: one or more VCALENDAR objects. Events that
// cannot be used (no UID, no readable DTSTART) are skipped and counted;
// data that is not iCalendar at all is an error wrapping ErrMalformed.
func Parse(r io.Reader) (*Calendar, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("calfeed: read: %w", err)
	}
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	var cals []*ical.Calendar
	dec := ical.NewDecoder(bytes.NewReader(data))
	for {
		cal, err := decode(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(cals) > 0 {
				break // trailing garbage after a calendar: keep what was read
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		cals = append(cals, cal)
	}
	if len(cals) == 0 {
		return nil, fmt.Errorf("%w: no VCALENDAR", ErrMalformed)
	}
	out := &Calendar{Location: time.UTC}
	for _, cal := range cals {
		c, err := FromICal(cal)
		if err != nil {
			return nil, err
		}
		if len(out.Events)+len(c.Events) > MaxEvents {
			return nil, fmt.Errorf("%w: more than %d events", ErrMalformed, MaxEvents)
		}
		if out.Location == time.UTC {
			out.Location = c.Location
		}
		out.Events = append(out.Events, c.Events...)
		out.Skipped += c.Skipped
	}
	return out, nil
}

// decode runs go-ical's decoder, whose parameter parsing panics on some
// malformed lines: a panic is a malformed calendar.
func decode(dec *ical.Decoder) (cal *ical.Calendar, err error) {
	defer func() {
		if p := recover(); p != nil {
			cal, err = nil, fmt.Errorf("%v", p)
		}
	}()
	return dec.Decode()
}

// checkDepth refuses data nesting components deeper than MaxDepth before
// go-ical's recursive decoder sees it.
func checkDepth(data []byte) error {
	depth := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), len(data)+1)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) >= 6 && bytes.EqualFold(line[:6], []byte("BEGIN:")):
			depth++
			if depth > MaxDepth {
				return fmt.Errorf("%w: components nested deeper than %d", ErrMalformed, MaxDepth)
			}
		case len(line) >= 4 && bytes.EqualFold(line[:4], []byte("END:")):
			depth--
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// FromICal reads the events of a decoded calendar (as a CalDAV client
// returns it). It never panics.
func FromICal(cal *ical.Calendar) (out *Calendar, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	if cal == nil || cal.Component == nil {
		return nil, fmt.Errorf("%w: no VCALENDAR", ErrMalformed)
	}
	z := &zones{loc: time.UTC, cache: map[string]*time.Location{}, defs: map[string]*ical.Component{}}
	if p := cal.Props.Get("X-WR-TIMEZONE"); p != nil {
		if loc, ok := loadZone(strings.TrimSpace(p.Value)); ok {
			z.loc = loc
		}
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			if id := c.Props.Get(ical.PropTimezoneID); id != nil {
				z.defs[id.Value] = c
			}
		}
	}
	out = &Calendar{Location: z.loc}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		if len(out.Events) >= MaxEvents {
			return nil, fmt.Errorf("%w: more than %d events", ErrMalformed, MaxEvents)
		}
		ev, ok := readEvent(c, z)
		if !ok {
			out.Skipped++
			continue
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}

func text(c *ical.Component, name string) string {
	p := c.Props.Get(name)
	if p == nil {
		return ""
	}
	if s, err := p.Text(); err == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(p.Value)
}

func readEvent(c *ical.Component, z *zones) (Event, bool) {
	ev := Event{UID: text(c, ical.PropUID)}
	if ev.UID == "" {
		return ev, false
	}
	sp := c.Props.Get(ical.PropDateTimeStart)
	if sp == nil {
		return ev, false
	}
	var err error
	ev.Start, ev.AllDay, ev.Floating, err = z.dateTime(sp.Value, sp.Params)
	if err != nil {
		return ev, false
	}
	ev.End = ev.Start
	switch {
	case c.Props.Get(ical.PropDateTimeEnd) != nil:
		ep := c.Props.Get(ical.PropDateTimeEnd)
		if end, _, _, err := z.dateTime(ep.Value, ep.Params); err == nil && end.After(ev.Start) {
			ev.End = end
		}
	case c.Props.Get(ical.PropDuration) != nil:
		if d, err := c.Props.Get(ical.PropDuration).Duration(); err == nil && d > 0 && d <= 366*24*time.Hour {
			ev.End = ev.Start.Add(d)
		}
	}
	if ev.AllDay && !ev.End.After(ev.Start) {
		ev.End = ev.Start.AddDate(0, 0, 1)
	}
	if rp := c.Props.Get(ical.PropRecurrenceID); rp != nil {
		rid, _, _, err := z.dateTime(rp.Value, rp.Params)
		if err != nil {
			return ev, false
		}
		ev.RecurrenceID = rid
	}
	ev.Summary = text(c, ical.PropSummary)
	ev.Description = text(c, ical.PropDescription)
	ev.Location = text(c, ical.PropLocation)
	ev.Status = strings.ToUpper(text(c, ical.PropStatus))
	if p := c.Props.Get("SEQUENCE"); p != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil && n >= 0 {
			ev.Sequence = n
		}
	}
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		ev.Organizer = attendee(p)
	}
	for _, p := range c.Props.Values(ical.PropAttendee) {
		a := attendee(&p)
		if a.Email == "" && a.Name == "" {
			continue
		}
		ev.Attendees = append(ev.Attendees, a)
	}
	if p := c.Props.Get(ical.PropRecurrenceRule); p != nil {
		ev.RRule = strings.TrimSpace(p.Value)
	}
	for _, p := range c.Props.Values(ical.PropRecurrenceDates) {
		ev.RDates = append(ev.RDates, z.dateTimes(p.Value, p.Params)...)
	}
	for _, p := range c.Props.Values(ical.PropExceptionDates) {
		ev.ExDates = append(ev.ExDates, z.dateTimes(p.Value, p.Params)...)
	}
	ev.ConferenceURL = conferenceURL(c, ev.Location, ev.Description)
	return ev, true
}

// attendee reads an ATTENDEE or ORGANIZER property.
func attendee(p *ical.Prop) Attendee {
	a := Attendee{
		Name:     strings.TrimSpace(p.Params.Get("CN")),
		PartStat: strings.ToUpper(strings.TrimSpace(p.Params.Get("PARTSTAT"))),
	}
	switch strings.ToUpper(p.Params.Get("CUTYPE")) {
	case "ROOM", "RESOURCE":
		a.Resource = true
	}
	v := strings.TrimSpace(p.Value)
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		v = v[7:]
	} else if e := p.Params.Get("EMAIL"); e != "" {
		v = e
	}
	if email := strings.ToLower(strings.TrimSpace(v)); plausibleEmail(email) {
		a.Email = email
		if strings.HasSuffix(email, "@resource.calendar.google.com") {
			a.Resource = true
		}
	}
	if len(a.Name) > crm.MaxName {
		a.Name = a.Name[:crm.MaxName]
	}
	if strings.EqualFold(a.Name, a.Email) {
		a.Name = ""
	}
	return a
}

// plausibleEmail is a cheap shape check; what is stored is checked again
// by the activity's validation.
func plausibleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && len(s) <= crm.MaxEmail &&
		!strings.ContainsAny(s, " \t<>\",;:")
}

// --- times ---------------------------------------------------------------

type zones struct {
	loc   *time.Location // the calendar's zone: all-day and floating times
	cache map[string]*time.Location
	defs  map[string]*ical.Component // VTIMEZONE by TZID
}

// windowsZones maps the Windows zone names Outlook and Exchange write as
// TZID to IANA names (the common ones).
var windowsZones = map[string]string{
	"Pacific Standard Time": "America/Los_Angeles", "Mountain Standard Time": "America/Denver",
	"Central Standard Time": "America/Chicago", "Eastern Standard Time": "America/New_York",
	"US Mountain Standard Time": "America/Phoenix", "Alaskan Standard Time": "America/Anchorage",
	"Hawaiian Standard Time": "Pacific/Honolulu", "Atlantic Standard Time": "America/Halifax",
	"GMT Standard Time": "Europe/London", "Greenwich Standard Time": "Atlantic/Reykjavik",
	"W. Europe Standard Time": "Europe/Berlin", "Romance Standard Time": "Europe/Paris",
	"Central Europe Standard Time": "Europe/Budapest", "Central European Standard Time": "Europe/Warsaw",
	"E. Europe Standard Time": "Europe/Chisinau", "FLE Standard Time": "Europe/Kiev",
	"GTB Standard Time": "Europe/Bucharest", "Russian Standard Time": "Europe/Moscow",
	"India Standard Time": "Asia/Kolkata", "China Standard Time": "Asia/Shanghai",
	"Tokyo Standard Time": "Asia/Tokyo", "Singapore Standard Time": "Asia/Singapore",
	"AUS Eastern Standard Time": "Australia/Sydney", "New Zealand Standard Time": "Pacific/Auckland",
	"E. South America Standard Time": "America/Sao_Paulo", "SA Pacific Standard Time": "America/Bogota",
	"Israel Standard Time": "Asia/Jerusalem", "Arabian Standard Time": "Asia/Dubai",
	"South Africa Standard Time": "Africa/Johannesburg", "UTC": "UTC", "Coordinated Universal Time": "UTC",
}

// loadZone loads an IANA zone by name; "Local" and names with path tricks
// are refused.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" || len(name) > 100 || strings.Contains(name, "..") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// zone resolves a TZID: an IANA name, a Windows name, a prefixed IANA name
// (/mozilla.org/20050126_1/America/New_York), else the fixed standard
// offset of the calendar's own VTIMEZONE, else the calendar's zone.
func (z *zones) zone(tzid string) *time.Location {
	tzid = strings.Trim(tzid, "\" ")
	if loc, ok := z.cache[tzid]; ok {
		return loc
	}
	loc := z.resolve(tzid)
	z.cache[tzid] = loc
	return loc
}

func (z *zones) resolve(tzid string) *time.Location {
	if loc, ok := loadZone(tzid); ok {
		return loc
	}
	if name, ok := windowsZones[tzid]; ok {
		if loc, ok := loadZone(name); ok {
			return loc
		}
	}
	if parts := strings.Split(strings.Trim(tzid, "/"), "/"); len(parts) >= 2 {
		for i := len(parts) - 3; i <= len(parts)-2; i++ {
			if i >= 0 {
				if loc, ok := loadZone(strings.Join(parts[i:], "/")); ok {
					return loc
				}
			}
		}
	}
	if def, ok := z.defs[tzid]; ok {
		for _, c := range def.Children {
			if c.Name == ical.CompTimezoneStandard {
				if p := c.Props.Get(ical.PropTimezoneOffsetTo); p != nil {
					if off, ok := parseOffset(p.Value); ok {
						return time.FixedZone(tzid, off)
					}
				}
			}
		}
	}
	return z.loc
}

// parseOffset reads a UTC offset such as +0100 or -053000, in seconds.
func parseOffset(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 5 && len(s) != 7 {
		return 0, false
	}
	sign := 1
	switch s[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, false
	}
	n := func(a string) int { v, _ := strconv.Atoi(a); return v }
	if !isDigits(s[1:]) {
		return 0, false
	}
	off := n(s[1:3])*3600 + n(s[3:5])*60
	if len(s) == 7 {
		off += n(s[5:7])
	}
	if off >= 24*3600 {
		return 0, false
	}
	return sign * off, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// dateTime reads one DATE or DATE-TIME value with its parameters.
func (z *zones) dateTime(v string, params ical.Params) (t time.Time, allDay, floating bool, err error) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(params.Get("VALUE"), "DATE") || len(v) == 8 {
		t, err = time.ParseInLocation("20060102", v, z.loc)
		return t, true, true, err
	}
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		t, err = time.ParseInLocation("20060102T150405", v[:len(v)-1], time.UTC)
		return t, false, false, err
	}
	if tzid := params.Get("TZID"); tzid != "" {
		t, err = time.ParseInLocation("20060102T150405", v, z.zone(tzid))
		return t, false, false, err
	}
	t, err = time.ParseInLocation("20060102T150405", v, z.loc)
	return t, false, true, err
}

// dateTimes reads a comma-separated list (EXDATE, RDATE; a PERIOD's start).
func (z *zones) dateTimes(v string, params ical.Params) []time.Time {
	var out []time.Time
	for part := range strings.SplitSeq(v, ",") {
		if i := strings.IndexByte(part, '/'); i >= 0 {
			part = part[:i]
		}
		p := params
		if strings.EqualFold(params.Get("VALUE"), "PERIOD") {
			p = ical.Params{}
			if tz := params.Get("TZID"); tz != "" {
				p.Set("TZID", tz)
			}
		}
		if t, _, _, err := z.dateTime(part, p); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// --- conference links ----------------------------------------------------

// videoHosts are the hosts of video-meeting services whose links, found
// in a LOCATION or DESCRIPTION, are taken as the meeting's link.
var videoHosts = []string{
	"zoom.us", "meet.google.com", "teams.microsoft.com", "teams.live.com", "webex.com",
	"whereby.com", "meet.jit.si", "gotomeet.me", "gotomeeting.com", "chime.aws", "bluejeans.com",
	"around.co", "meet.around.co",
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"'\\]+`)

func isVideoLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, v := range videoHosts {
		if h == v || strings.HasSuffix(h, "."+v) {
			return true
		}
	}
	return false
}

// conferenceURL finds the meeting's video link: RFC 7986 CONFERENCE (one
// with FEATURE=VIDEO first), the vendors' own properties, URL when it is a
// video link, else the first video link in LOCATION, then DESCRIPTION.
func conferenceURL(c *ical.Component, location, description string) string {
	httpURL := func(v string) string {
		v = strings.TrimSpace(v)
		if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(v) <= 2000 {
			return v
		}
		return ""
	}
	var first string
	for _, p := range c.Props.Values(ical.PropConference) {
		v := httpURL(p.Value)
		if v == "" {
			continue
		}
		if strings.Contains(strings.ToUpper(strings.Join(p.Params.Values("FEATURE"), ",")), "VIDEO") {
			return v
		}
		if first == "" {
			first = v
		}
	}
	if first != "" {
		return first
	}
	for _, name := range []string{"X-GOOGLE-CONFERENCE", "X-MICROSOFT-ONLINEMEETINGURL", "X-MICROSOFT-SKYPETEAMSMEETINGURL", "X-ZOOM-MEETING-URL"} {
		if p := c.Props.Get(name); p != nil {
			if v := httpURL(p.Value); v != "" {
				return v
			}
		}
	}
	if p := c.Props.Get(ical.PropURL); p != nil {
		if v := httpURL(p.Value); v != "" && isVideoLink(v) {
			return v
		}
	}
	for _, s := range []string{location, description} {
		for _, m := range linkRE.FindAllString(s, 50) {
			m = strings.TrimRight(m, ".,;)>]")
			if isVideoLink(m) && len(m) <= 2000 {
				return m
			}
		}
	}
	return ""
}

// ruleOption parses an RRULE value (rrule-go's parser, recovered).
func ruleOption(s string) (o *rrule.ROption, err error) {
	defer func() {
		if p := recover(); p != nil {
			o, err = nil, fmt.Errorf("%v", p)
		}
	}()
	return rrule.StrToROption(s)
}
