package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"logbook/internal/csvout"
	"logbook/internal/store"
)

// The reports page (/reports): connect rates by segment, owner and list as
// horizontal bar charts and activity volume by week as a column chart, from
// the store's report methods (the numbers of GET /v1/reports/*), each with
// its numbers in a table and a CSV download served here (session auth; the
// API wants a key).

// reportZones are the time zones the form offers; UTC first (the default).
var reportZones = []string{"UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "Europe/London", "Europe/Paris", "Europe/Berlin", "Asia/Kolkata", "Asia/Singapore",
	"Asia/Tokyo", "Australia/Sydney"}

// Report ranges: the defaults of each chart and the longest range (the
// API's).
const (
	reportRateDays    = 30
	reportVolumeWeeks = 12
	reportMaxDays     = 732
)

// rateGroups are the connect-rate charts of the page, in order; the CSV
// also takes disposition.
var rateGroups = []struct{ by, title string }{
	{store.GroupSegment, "Connect rate by segment"},
	{store.GroupOwner, "Connect rate by owner"},
	{store.GroupList, "Connect rate by list"},
}

// reportForm is the range form as read: the values as typed (to show them
// again) and the zone.
type reportForm struct {
	Since, Until, TZ string
	Zones            []string
	loc              *time.Location
	since, until     *time.Time // dates at midnight in loc; until inclusive
}

// reportRange is a resolved range: since inclusive, until exclusive.
type reportRange struct{ Since, Until time.Time }

// text is the range for people, in the zone loc: "2026-03-01 to
// 2026-03-30" (the last day included).
func (r reportRange) text(loc *time.Location) string {
	last := r.Until.Add(-time.Microsecond).In(loc)
	return r.Since.In(loc).Format(time.DateOnly) + " to " + last.Format(time.DateOnly)
}

// parseReportForm reads since, until (dates, YYYY-MM-DD; until is the last
// day included) and tz (one of reportZones). A bad value is a message for
// the form.
func parseReportForm(q url.Values) (reportForm, string) {
	f := reportForm{Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		TZ: q.Get("tz"), Zones: reportZones, loc: time.UTC}
	if f.TZ == "" {
		f.TZ = "UTC"
	}
	if !slices.Contains(reportZones, f.TZ) {
		return f, "Choose a time zone from the list."
	}
	loc, err := time.LoadLocation(f.TZ)
	if err != nil {
		return f, "The time zone " + f.TZ + " is not known on this server."
	}
	f.loc = loc
	for _, p := range []struct {
		s    string
		dst  **time.Time
		name string
	}{{f.Since, &f.since, "From"}, {f.Until, &f.until, "Until"}} {
		if p.s == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, p.s, loc)
		if err != nil || d.Year() < 1900 || d.Year() > 9998 {
			return f, p.name + " must be a date such as 2026-03-02."
		}
		*p.dst = &d
	}
	return f, ""
}

// resolve is the range of a chart: the form's dates, or the chart's
// default (def, from today's date in the zone) for what the form leaves
// blank; until defaults to now. A range that ends before it starts, or is
// longer than reportMaxDays, is a message for the form.
func (f reportForm) resolve(now time.Time, def func(today time.Time) time.Time) (reportRange, string) {
	r := reportRange{Until: now.UTC().Truncate(time.Microsecond)}
	if f.until != nil {
		r.Until = f.until.AddDate(0, 0, 1).UTC()
	}
	if f.since != nil {
		r.Since = f.since.UTC()
	} else {
		t := r.Until.Add(-time.Microsecond).In(f.loc)
		r.Since = def(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, f.loc)).UTC()
	}
	switch {
	case !r.Since.Before(r.Until):
		return r, "From must be on or before Until."
	case r.Until.Sub(r.Since) > reportMaxDays*24*time.Hour:
		return r, fmt.Sprintf("The range must be at most %d days.", reportMaxDays)
	}
	return r, ""
}

// rateDefault is the connect rates' default start: the last 30 days,
// today included.
func rateDefault(today time.Time) time.Time { return today.AddDate(0, 0, -(reportRateDays - 1)) }

// volumeDefault is the volume's default start: the Monday 11 weeks before
// this week's, so 12 weeks with this one.
func volumeDefault(today time.Time) time.Time {
	back := (int(today.Weekday()) + 6) % 7 // days since Monday
	return today.AddDate(0, 0, -back-7*(reportVolumeWeeks-1))
}

// reportsView is the reports page's data.
type reportsView struct {
	Form  reportForm
	Error string
	// RateRange and VolumeRange say which days each part covers.
	RateRange, VolumeRange string
	Rates                  []rateSection
	RateTotal              rateRow
	Volume                 chart
	Weeks                  []countRow
	VolumeTotal            int64
	VolumeCSV              string
}

// rateSection is one connect-rate chart with its table and download.
type rateSection struct {
	ID, Title, GroupBy, CSV string
	Chart                   chart
	Rows                    []rateRow
}

func (h *handler) reports(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, msg := parseReportForm(r.URL.Query())
	view := reportsView{Form: f}
	var rr, vr reportRange
	if msg == "" {
		rr, msg = f.resolve(h.now(), rateDefault)
	}
	if msg == "" {
		vr, msg = f.resolve(h.now(), volumeDefault)
	}
	if msg != "" {
		view.Error = msg
		return h.render(w, r, v, http.StatusUnprocessableEntity, "reports.html", "reports", view)
	}
	ctx := r.Context()
	view.RateRange, view.VolumeRange = rr.text(f.loc), vr.text(f.loc)
	for i, g := range rateGroups {
		rows, err := h.Store.ReportConnectRates(ctx, v.OrgID, g.by, store.ReportFilter{Since: rr.Since, Until: rr.Until, TZ: f.TZ})
		if err != nil {
			return err
		}
		sec := rateSection{ID: "rate-" + g.by, Title: g.title, GroupBy: g.by, Rows: rateRows(rows),
			CSV: reportCSVPath("/reports/connect-rates.csv", g.by, f)}
		sec.Chart = rateChart("chart-"+g.by, g.title, sec.Rows)
		if i == 0 { // every dial is in exactly one row of any grouping
			for _, row := range sec.Rows {
				view.RateTotal.Dials += row.Dials
				view.RateTotal.Connected += row.Connected
			}
		}
		view.Rates = append(view.Rates, sec)
	}
	vrows, err := h.Store.ReportActivityVolume(ctx, v.OrgID, store.GroupWeek, store.ReportFilter{Since: vr.Since, Until: vr.Until, TZ: f.TZ})
	if err != nil {
		return err
	}
	view.Weeks = weekRows(vrows)
	for _, wk := range view.Weeks {
		view.VolumeTotal += wk.Count
	}
	view.Volume = columnChart("chart-volume", "Activities per week", "week", "weeks", "activities",
		"No activity in this range.", view.Weeks)
	view.VolumeCSV = reportCSVPath("/reports/activity-volume.csv", store.GroupWeek, f)
	return h.render(w, r, v, http.StatusOK, "reports.html", "reports", view)
}

// rateRows are the store's rows as the chart reads them.
func rateRows(rows []store.ConnectRateRow) []rateRow {
	out := make([]rateRow, len(rows))
	for i, r := range rows {
		out[i] = rateRow{Label: r.Label, Null: r.Key == nil, Connected: r.Connected, Dials: r.Dials}
	}
	return out
}

// weekRows are the store's week rows as the chart reads them: the ISO week
// (2026-W10) in full, "W10" under the column.
func weekRows(rows []store.VolumeRow) []countRow {
	out := make([]countRow, len(rows))
	for i, r := range rows {
		short := r.Label
		if j := strings.LastIndexByte(short, '-'); j >= 0 {
			short = short[j+1:]
		}
		key := ""
		if r.Key != nil {
			key = *r.Key
		}
		out[i] = countRow{Key: key, Label: r.Label, Short: short, Count: r.Activities}
	}
	return out
}

// reportCSVPath is the download link of a report with the form's range.
func reportCSVPath(path, groupBy string, f reportForm) string {
	q := url.Values{"group_by": {groupBy}, "tz": {f.TZ}}
	if f.Since != "" {
		q.Set("since", f.Since)
	}
	if f.Until != "" {
		q.Set("until", f.Until)
	}
	return path + "?" + q.Encode()
}

// The CSV columns: the API's (api/reports.go), so a spreadsheet built on
// one reads the other.
var (
	connectRateColumns = []string{"key", "label", "dials", "connected", "connect_rate", "no_disposition"}
	volumeColumns      = []string{"key", "label", "activities"}
)

// reportCSVGroup reads group_by for a CSV: one of groups, the first when
// absent.
func reportCSVGroup(q url.Values, groups []string) (string, error) {
	g := q.Get("group_by")
	if g == "" {
		return groups[0], nil
	}
	if !slices.Contains(groups, g) {
		return "", errStatus(http.StatusUnprocessableEntity, "group_by must be one of %s.", strings.Join(groups, ", "))
	}
	return g, nil
}

func (h *handler) reportConnectRatesCSV(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	by, err := reportCSVGroup(q, store.ConnectRateGroups)
	if err != nil {
		return err
	}
	f, msg := parseReportForm(q)
	var rr reportRange
	if msg == "" {
		rr, msg = f.resolve(h.now(), rateDefault)
	}
	if msg != "" {
		return errStatus(http.StatusUnprocessableEntity, "%s", msg)
	}
	rows, err := h.Store.ReportConnectRates(r.Context(), v.OrgID, by, store.ReportFilter{Since: rr.Since, Until: rr.Until, TZ: f.TZ})
	if err != nil {
		return err
	}
	cells := make([][]string, len(rows))
	for i, row := range rows {
		rate := ""
		if row.Dials > 0 {
			rate = strconv.FormatFloat(math.Round(float64(row.Connected)/float64(row.Dials)*10000)/10000, 'f', -1, 64)
		}
		cells[i] = []string{csvKey(row.Key), csvText(row.Label), strconv.FormatInt(row.Dials, 10),
			strconv.FormatInt(row.Connected, 10), rate, strconv.FormatInt(row.NoDisposition, 10)}
	}
	return writeCSV(w, csvName("connect-rates-"+by, rr, f.loc), connectRateColumns, cells)
}

func (h *handler) reportActivityVolumeCSV(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	by, err := reportCSVGroup(q, store.VolumeGroups)
	if err != nil {
		return err
	}
	f, msg := parseReportForm(q)
	var vr reportRange
	if msg == "" {
		vr, msg = f.resolve(h.now(), volumeDefault)
	}
	if msg != "" {
		return errStatus(http.StatusUnprocessableEntity, "%s", msg)
	}
	rows, err := h.Store.ReportActivityVolume(r.Context(), v.OrgID, by, store.ReportFilter{Since: vr.Since, Until: vr.Until, TZ: f.TZ})
	if err != nil {
		return err
	}
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = []string{csvKey(row.Key), csvText(row.Label), strconv.FormatInt(row.Activities, 10)}
	}
	return writeCSV(w, csvName("activity-volume-"+by, vr, f.loc), volumeColumns, cells)
}

// csvName is a download's file name: what, then the range's first and last
// days.
func csvName(what string, rr reportRange, loc *time.Location) string {
	return what + "-" + strings.ReplaceAll(rr.text(loc), " to ", "-") + ".csv"
}

// writeCSV writes an RFC 4180 CSV download (a header row, then rows) as
// the attachment name.
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) error {
	b, err := csvout.Encode(header, rows)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// csvText guards a cell of free text as the API does (csvout.Text).
func csvText(s string) string { return csvout.Text(s) }

// csvKey is a row's key as a cell: empty for null, guarded like text.
func csvKey(k *string) string {
	if k == nil {
		return ""
	}
	return csvText(*k)
}
