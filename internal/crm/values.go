package crm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Date is a calendar date (YYYY-MM-DD) with no time zone, such as a deal's
// close date or an action item's due date.
type Date struct{ time.Time }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("must be a date as YYYY-MM-DD")
	}
	return Date{t}, nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

var decimalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$`)

// Decimal is an exact decimal amount (up to 16 integer and 4 fraction
// digits). It travels as a JSON number and is stored as NUMERIC.
type Decimal string

// ParseDecimal checks that s is a plain decimal number.
func ParseDecimal(s string) (Decimal, error) {
	if !decimalRE.MatchString(s) {
		return "", fmt.Errorf("must be a decimal number with at most 16 integer and 4 fraction digits")
	}
	return Decimal(s), nil
}

// MarshalJSON writes the amount as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d), nil }

// UnmarshalJSON reads a JSON number (a quoted number is accepted too, as
// some clients send money as strings).
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if strings.ContainsAny(s, "eE") {
		var n json.Number = json.Number(s)
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("must be a number")
		}
		s = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
	}
	p, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}
