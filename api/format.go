package api

import (
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"logbook/internal/csvout"
	"logbook/internal/openapi"
)

// A response's representation, chosen by the request's Accept header
// (negotiate). JSON is every route's default; the reports also answer CSV,
// and the activity feed CSV and NDJSON.
type format string

const (
	formatJSON   format = "application/json"
	formatCSV    format = "text/csv"
	formatNDJSON format = "application/x-ndjson"
)

// negotiate picks the representation of a response from the Accept header
// among offered (JSON is always offered and is the default): the acceptable
// offer with the highest q, ties going to the earlier media range in the
// header. No Accept, an empty one or one that accepts */* or application/*
// and nothing more specific takes JSON. An Accept that names none of the
// offers is 406 with the offers in the detail.
func negotiate(r *http.Request, offered ...format) (format, error) {
	offers := append([]format{formatJSON}, offered...)
	header := strings.Join(r.Header.Values("Accept"), ",")
	if strings.TrimSpace(header) == "" {
		return formatJSON, nil
	}
	type rng struct {
		typ string
		q   float64
		at  int
	}
	var ranges []rng
	for i, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		ranges = append(ranges, rng{typ: mt, q: q, at: i})
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	// A specific type beats a wildcard of the same q.
	specific := func(t string) int { return strings.Count(t, "*") }
	sort.SliceStable(ranges, func(i, j int) bool {
		return ranges[i].q == ranges[j].q && specific(ranges[i].typ) < specific(ranges[j].typ)
	})
	for _, rg := range ranges {
		if rg.q == 0 {
			continue
		}
		for _, o := range offers {
			if mediaMatches(rg.typ, string(o)) {
				return o, nil
			}
		}
	}
	names := make([]string, len(offers))
	for i, o := range offers {
		names[i] = string(o)
	}
	return "", errStatus(http.StatusNotAcceptable, "this resource is served as %s; the Accept header names none of them",
		strings.Join(names, ", "))
}

// mediaMatches reports whether media range rg (type/subtype, either a *)
// covers media type t.
func mediaMatches(rg, t string) bool {
	if rg == "*/*" || rg == t {
		return true
	}
	rt, _, _ := strings.Cut(rg, "/")
	tt, _, _ := strings.Cut(t, "/")
	return strings.HasSuffix(rg, "/*") && rt == tt
}

// writeCSV answers with a CSV document: header, then rows (RFC 4180, CRLF
// line ends, UTF-8). The document is built in memory first, like
// writeJSON's, so a failure can still be a problem response; stream large
// exports instead. Cells are written as given: a report meant for a
// spreadsheet passes text a person typed through csvText.
func writeCSV(w http.ResponseWriter, status int, header []string, rows [][]string) error {
	b, err := csvout.Encode(header, rows)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// csvText guards a cell of free text (csvout.Text).
func csvText(s string) string { return csvout.Text(s) }

// jsonOrCSV documents a response served as JSON (Body's schema) or, with
// Accept: text/csv, as CSV with Columns in that order (one row per item of
// the JSON's list).
type jsonOrCSV struct {
	Body    any
	Columns []string
}

func (d jsonOrCSV) ContentTypes(g *openapi.Generator) map[string]any {
	return map[string]any{
		"application/json": map[string]any{"schema": g.Schema(reflect.TypeOf(d.Body))},
		"text/csv": map[string]any{"schema": map[string]any{"type": "string",
			"description": "RFC 4180 CSV, UTF-8, a header row then one row per item; columns: " + strings.Join(d.Columns, ", ") +
				". Free text that would start a spreadsheet formula is prefixed with an apostrophe."}},
	}
}
