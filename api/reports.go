package api

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The reports (issue #12): connect rates and activity volume over a time
// range, as JSON or, with Accept: text/csv, as CSV for a spreadsheet.

// Report ranges: the default when since is not given, and the longest a
// report covers (two years and a day or two, so "the last two years" fits
// whatever the leap days).
const (
	reportDefaultDays = 30
	reportMaxDays     = 732
)

// ConnectRateReport is GET /v1/reports/connect-rates' answer.
type ConnectRateReport struct {
	// GroupBy is the grouping asked for: segment, owner, list or disposition.
	GroupBy string `json:"group_by"`
	// Since (inclusive) and Until (exclusive) are the range, in UTC.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// TZ is the zone dates in since and until were read in.
	TZ    string            `json:"tz"`
	Rows  []ConnectRateRow  `json:"rows"`
	Total ConnectRateTotals `json:"total"`
}

// ConnectRateRow is one group of dials.
type ConnectRateRow struct {
	// Key is the segment, the owner's user ID, the list or the disposition
	// code; null for the dials that have none.
	Key   *string `json:"key"`
	Label string  `json:"label"`
	ConnectRateTotals
}

// ConnectRateTotals are the counts of a group, or of the whole range.
type ConnectRateTotals struct {
	Dials     int64 `json:"dials"`
	Connected int64 `json:"connected"`
	// ConnectRate is connected / dials rounded to 4 decimals; null when
	// there are no dials.
	ConnectRate   *float64 `json:"connect_rate"`
	NoDisposition int64    `json:"no_disposition"`
}

// ActivityVolumeReport is GET /v1/reports/activity-volume's answer.
type ActivityVolumeReport struct {
	// GroupBy is the grouping asked for: owner, type or week.
	GroupBy string      `json:"group_by"`
	Since   time.Time   `json:"since"`
	Until   time.Time   `json:"until"`
	TZ      string      `json:"tz"`
	Rows    []VolumeRow `json:"rows"`
	Total   VolumeTotal `json:"total"`
}

// VolumeRow is one group of activities.
type VolumeRow struct {
	// Key is the owner's user ID, the type or the week's Monday
	// (YYYY-MM-DD); null for activities without an owner.
	Key        *string `json:"key"`
	Label      string  `json:"label"`
	Activities int64   `json:"activities"`
}

// VolumeTotal counts every activity of the range.
type VolumeTotal struct {
	Activities int64 `json:"activities"`
}

// The CSV columns of the reports, in order.
var (
	connectRateColumns = []string{"key", "label", "dials", "connected", "connect_rate", "no_disposition"}
	volumeColumns      = []string{"key", "label", "activities"}
)

// reportQuery is what a report reads from its query string.
type reportQuery struct {
	groupBy string
	tz      string
	filter  store.ReportFilter
}

// parseReportQuery reads group_by (one of groups; the first when absent),
// since, until, tz, owner_id and, when withTypes, types; every bad
// parameter is named in one 422.
func parseReportQuery(r *http.Request, groups []string, now time.Time, withTypes bool) (reportQuery, error) {
	var p crm.Problems
	q := r.URL.Query()
	out := reportQuery{groupBy: groups[0]}
	if g := q.Get("group_by"); g != "" {
		out.groupBy = g
		if !slices.Contains(groups, g) {
			p.Add("group_by", "must be one of %s", strings.Join(groups, ", "))
		}
	}
	loc := time.UTC
	out.tz = q.Get("tz")
	switch {
	case out.tz == "":
		out.tz = "UTC"
	case out.tz == "Local":
		p.Add("tz", "must be an IANA time zone name such as Europe/Paris")
	default:
		l, err := time.LoadLocation(out.tz)
		if err != nil {
			p.Add("tz", "must be an IANA time zone name such as Europe/Paris")
		} else {
			loc = l
		}
	}
	since, sinceOK := reportTime(&p, q.Get("since"), "since", loc)
	until, untilOK := reportTime(&p, q.Get("until"), "until", loc)
	if until == nil {
		u := now.UTC().Truncate(time.Microsecond)
		until = &u
	}
	if since == nil {
		s := until.Add(-reportDefaultDays * 24 * time.Hour)
		since = &s
	}
	if sinceOK && untilOK {
		switch {
		case !since.Before(*until):
			p.Add("since", "must be before until (%s)", until.Format(time.RFC3339Nano))
		case until.Sub(*since) > reportMaxDays*24*time.Hour:
			p.Add("since", "must be at most %d days before until", reportMaxDays)
		}
	}
	out.filter = store.ReportFilter{Since: *since, Until: *until, TZ: out.tz,
		OwnerID: strings.ToLower(queryID(&p, r, "owner_id"))}
	if withTypes {
		out.filter.Types = queryActivityTypes(&p, r)
	}
	return out, p.Err()
}

// reportTime reads a report's since or until: an RFC 3339 time, or a date
// (YYYY-MM-DD) meaning its midnight in loc. Empty is nil; ok is false when
// s is malformed.
func reportTime(p *crm.Problems, s, name string, loc *time.Location) (t *time.Time, ok bool) {
	if s == "" {
		return nil, true
	}
	var v time.Time
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		v = d.UTC()
	} else {
		var tp crm.Problems
		v = crm.ParseTime(&tp, name, s)
		if tp.Len() > 0 {
			p.Add(name, "must be an RFC 3339 time such as 2026-03-02T15:00:00Z, or a date such as 2026-03-02 (midnight in tz)")
			return nil, false
		}
	}
	if !crm.TimeInRange(v) {
		p.Add(name, "must lie between the years %d and %d in UTC", crm.MinYear, crm.MaxYear)
		return nil, false
	}
	return &v, true
}

// connectRate is connected / dials rounded to 4 decimals, nil without dials.
func connectRate(connected, dials int64) *float64 {
	if dials == 0 {
		return nil
	}
	v := math.Round(float64(connected)/float64(dials)*10000) / 10000
	return &v
}

func (h *handler) reportConnectRates(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	f, err := negotiate(r, formatCSV)
	if err != nil {
		return err
	}
	q, err := parseReportQuery(r, store.ConnectRateGroups, h.now(), false)
	if err != nil {
		return err
	}
	rows, err := h.store.ReportConnectRates(r.Context(), p.OrgID, q.groupBy, q.filter)
	if err != nil {
		return err
	}
	rep := ConnectRateReport{GroupBy: q.groupBy, Since: q.filter.Since, Until: q.filter.Until, TZ: q.tz,
		Rows: make([]ConnectRateRow, len(rows))}
	for i, row := range rows {
		rep.Rows[i] = ConnectRateRow{Key: row.Key, Label: row.Label, ConnectRateTotals: ConnectRateTotals{
			Dials: row.Dials, Connected: row.Connected, ConnectRate: connectRate(row.Connected, row.Dials),
			NoDisposition: row.NoDisposition}}
		rep.Total.Dials += row.Dials
		rep.Total.Connected += row.Connected
		rep.Total.NoDisposition += row.NoDisposition
	}
	rep.Total.ConnectRate = connectRate(rep.Total.Connected, rep.Total.Dials)
	w.Header().Add("Vary", "Accept")
	if f == formatCSV {
		cells := make([][]string, len(rep.Rows))
		for i, row := range rep.Rows {
			rate := ""
			if row.ConnectRate != nil {
				rate = strconv.FormatFloat(*row.ConnectRate, 'f', -1, 64)
			}
			cells[i] = []string{csvKey(row.Key), csvText(row.Label), strconv.FormatInt(row.Dials, 10),
				strconv.FormatInt(row.Connected, 10), rate, strconv.FormatInt(row.NoDisposition, 10)}
		}
		return writeCSV(w, http.StatusOK, connectRateColumns, cells)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (h *handler) reportActivityVolume(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	f, err := negotiate(r, formatCSV)
	if err != nil {
		return err
	}
	q, err := parseReportQuery(r, store.VolumeGroups, h.now(), true)
	if err != nil {
		return err
	}
	rows, err := h.store.ReportActivityVolume(r.Context(), p.OrgID, q.groupBy, q.filter)
	if err != nil {
		return err
	}
	rep := ActivityVolumeReport{GroupBy: q.groupBy, Since: q.filter.Since, Until: q.filter.Until, TZ: q.tz,
		Rows: make([]VolumeRow, len(rows))}
	for i, row := range rows {
		rep.Rows[i] = VolumeRow{Key: row.Key, Label: row.Label, Activities: row.Activities}
		rep.Total.Activities += row.Activities
	}
	w.Header().Add("Vary", "Accept")
	if f == formatCSV {
		cells := make([][]string, len(rep.Rows))
		for i, row := range rep.Rows {
			cells[i] = []string{csvKey(row.Key), csvText(row.Label), strconv.FormatInt(row.Activities, 10)}
		}
		return writeCSV(w, http.StatusOK, volumeColumns, cells)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// csvKey is a row's key as a CSV cell: empty for null. A segment or a list
// is text a person typed, so it is guarded like a label.
func csvKey(k *string) string {
	if k == nil {
		return ""
	}
	return csvText(*k)
}

// reportRangeDoc is what the reports' documentation says of their range.
const reportRangeDoc = "since and until are RFC 3339 times, or dates (YYYY-MM-DD: midnight in tz); since is inclusive, until " +
	"exclusive; until defaults to now and since to 30 days before until. since must be before until, at most 732 days. " +
	"since and until are answered in UTC. A bad parameter is a 422 naming it."

// reportParams documents a report's query parameters: group_by among
// groups, the range, tz, owner_id and, withTypes, types.
func reportParams(groups []string, withTypes bool) []param {
	ps := []param{
		{Name: "group_by", Type: "string", Enum: groups, Description: "how rows are grouped; default " + groups[0]},
		{Name: "since", Type: "string", Formats: []string{"date-time", "date"},
			Description: "start of the range, inclusive: an RFC 3339 time, or a date (midnight in tz); default until - 30 days"},
		{Name: "until", Type: "string", Formats: []string{"date-time", "date"},
			Description: "end of the range, exclusive: an RFC 3339 time, or a date (midnight in tz); default now"},
		{Name: "tz", Type: "string",
			Description: "IANA time zone name (Europe/Paris) that dates and weeks are read in; default UTC"},
		{Name: "owner_id", Type: "string", Format: "uuid", Description: "only the activities this user owns"},
	}
	if withTypes {
		ps = append(ps, param{Name: "types", Type: "string",
			Description: "comma-separated activity types to count (any of " + strings.Join(activityTypeNames(), ", ") + "); default all"})
	}
	return ps
}
