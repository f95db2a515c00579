// Package csvout writes the CSV that Logbook's reports and downloads
// answer with, the same way for the API and the web UI: RFC 4180 with CRLF
// line ends, UTF-8, and free text guarded against being read as a
// spreadsheet formula. Stdlib only.
package csvout

import (
	"bytes"
	"encoding/csv"
	"strings"
)

// Encode is a CSV document: the header row, then rows.
func Encode(header []string, rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	if err := cw.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Text keeps a cell of free text from being read as a formula when the CSV
// is opened in a spreadsheet (CSV injection): a cell that starts with =, +,
// -, @, a tab or a carriage return gets a leading apostrophe, as OWASP
// advises. Numbers, dates and codes are written as they are.
func Text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
