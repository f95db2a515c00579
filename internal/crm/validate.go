package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on text fields. They keep one record readable on a timeline and
// stop a runaway client from storing megabytes in a subject line.
const (
	MaxName        = 200
	MaxEmail       = 320
	MaxShort       = 100
	MaxSubject     = 1000
	MaxBody        = 100_000
	MaxExternalID  = 255
	MaxMetadata    = 64 << 10
	MaxDomains     = 50
	MaxContactIDs  = 100
	MaxDuration    = 7 * 24 * 3600
	MaxBatch       = 1000
	MaxDispositons = 100
)

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	codeRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)
	ccyRE    = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ValidID reports whether s is a UUID in text form, which every Logbook ID is.
func ValidID(s string) bool { return uuidRE.MatchString(s) }

// CheckID adds a problem when s is not a valid ID.
func CheckID(p *Problems, field, s string) {
	if !ValidID(s) {
		p.Add(field, "must be an ID (UUID)")
	}
}

// ClipText makes s a text CheckText accepts at max characters: invalid
// UTF-8 replaced, NUL bytes dropped, cut to max characters. For text a
// connector captures, which arrives however its sender wrote it.
func ClipText(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i := 0
	for j := range s {
		if i == max {
			return s[:j]
		}
		i++
	}
	return s
}

// CheckText adds a problem when s holds a NUL byte or invalid UTF-8, is
// longer than max characters, or is blank while required.
func CheckText(p *Problems, field, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		p.Add(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		p.Add(field, "must not contain NUL characters")
	case required && strings.TrimSpace(s) == "":
		p.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		p.Add(field, "must be at most %d characters (got %d)", max, utf8.RuneCountInString(s))
	}
}

// NormalizeEmail lowercases and trims an address. Emails are compared
// case-insensitively everywhere.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail adds a problem when s is not a bare email address.
func CheckEmail(p *Problems, field, s string) {
	before := p.Len()
	CheckText(p, field, s, MaxEmail, true)
	if p.Len() > before {
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != strings.TrimSpace(s) || !strings.Contains(a.Address, "@") {
		p.Add(field, "must be an email address such as dana@acme.com")
	}
}

// EmailDomain returns the lowercased domain part of an address.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}

// NormalizeDomain lowercases a domain and strips a scheme, "www." and a
// trailing dot or path, so "https://www.Acme.com/" becomes "acme.com".
func NormalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), ".")
	return s
}

// CheckDomains normalises and checks a list of domains in place.
func CheckDomains(p *Problems, field string, ds []string) []string {
	if len(ds) > MaxDomains {
		p.Add(field, "must list at most %d domains", MaxDomains)
		return ds
	}
	out := make([]string, 0, len(ds))
	seen := map[string]bool{}
	for i, d := range ds {
		n := NormalizeDomain(d)
		if !utf8.ValidString(d) || len(n) > 253 || !domainRE.MatchString(n) {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "must be a domain such as acme.com")
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Every time Logbook accepts lies in [MinYear, MaxYear] once it is in UTC:
// a four-digit year is what RFC 3339 (and so encoding/json's time.Time)
// can write back, and nothing Logbook records happened before 1970.
const (
	MinYear = 1970
	MaxYear = 9999
)

// TimeInRange reports whether t, converted to UTC, lies within the years
// MinYear to MaxYear. "9999-12-31T23:59:59-23:59" is year 10000 in UTC and
// "1970-01-01T00:30:00+01:00" is 1969: both are out.
func TimeInRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= MinYear && y <= MaxYear
}

// ClampTime returns t in UTC, moved to the nearest end of the range
// TimeInRange accepts when it lies outside it. Reads use it so that a value
// stored before the range was enforced can still be written as JSON.
func ClampTime(t time.Time) time.Time {
	t = t.UTC()
	switch {
	case t.Year() < MinYear:
		return time.Date(MinYear, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > MaxYear:
		return time.Date(MaxYear, 12, 31, 23, 59, 59, 999999000, time.UTC)
	}
	return t
}

// ParseTime parses an RFC 3339 time with any offset and returns it in UTC,
// truncated to microseconds (PostgreSQL's precision, which would otherwise
// round 9999-12-31T23:59:59.9999999Z up into year 10000). The time must lie
// within TimeInRange after the conversion to UTC.
func ParseTime(p *Problems, field, s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if _, off := t.Zone(); err != nil || off <= -24*3600 || off >= 24*3600 {
		// time.Parse takes an offset of +24:00, which RFC 3339 does not
		// (its hours are 00 to 23).
		p.Add(field, "must be an RFC 3339 time such as 2026-03-02T15:00:00Z")
		return time.Time{}
	}
	t = t.UTC().Truncate(time.Microsecond)
	if !TimeInRange(t) {
		p.Add(field, "must lie between the years %d and %d in UTC (got %s)", MinYear, MaxYear, t.Format("2006-01-02T15:04:05Z07:00"))
		return time.Time{}
	}
	return t
}

// CheckDate parses a YYYY-MM-DD date of an input and adds a problem when it
// is malformed or outside the years MinYear to MaxYear.
func CheckDate(p *Problems, field, s string) (Date, bool) {
	d, err := ParseDate(s)
	if err != nil {
		p.Add(field, "%v", err)
		return Date{}, false
	}
	if !TimeInRange(d.Time) {
		p.Add(field, "must lie between the years %d and %d", MinYear, MaxYear)
		return Date{}, false
	}
	return d, true
}

// CheckCode adds a problem when s is not a lowercase code such as a
// disposition ("no_answer").
func CheckCode(p *Problems, field, s string) {
	if !codeRE.MatchString(s) {
		p.Add(field, "must be a lowercase code of letters, digits and underscores (at most 50)")
	}
}

// CheckCurrency adds a problem when s is not an ISO 4217 code.
func CheckCurrency(p *Problems, field, s string) {
	if !ccyRE.MatchString(s) {
		p.Add(field, "must be a three-letter ISO 4217 code such as USD")
	}
}

// CheckMetadata checks that raw is a JSON object of at most MaxMetadata bytes
// whose strings and keys hold no NUL characters (PostgreSQL's jsonb cannot
// store them), and returns it re-encoded: compact, numbers as written, and
// a lone UTF-16 surrogate escape ("\ud800", which jsonb refuses) as the
// U+FFFD every JSON decoder reads it as. An empty raw yields "{}".
func CheckMetadata(p *Problems, field string, raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return json.RawMessage(`{}`)
	}
	if len(raw) > MaxMetadata {
		p.Add(field, "must be at most %d bytes", MaxMetadata)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		p.Add(field, "must be a JSON object")
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		p.Add(field, "must be a JSON object")
		return nil
	}
	if hasNUL(v) {
		p.Add(field, "must not contain NUL characters")
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		p.Add(field, "must be a JSON object")
		return nil
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
