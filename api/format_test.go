package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNegotiate(t *testing.T) {
	offers := []format{formatCSV, formatNDJSON}
	for _, c := range []struct {
		accept string
		want   format
	}{
		{"", formatJSON},
		{"*/*", formatJSON},
		{"application/*", formatJSON},
		{"text/csv", formatCSV},
		{"text/*", formatCSV},
		{"application/x-ndjson", formatNDJSON},
		{"text/csv;q=0.5, application/json", formatJSON},
		{"application/json;q=0.1, text/csv", formatCSV},
		{"*/*;q=0.8, text/csv", formatCSV},
		{"text/csv;q=0, */*", formatJSON},
		{"garbage;;, text/csv", formatCSV},
		{"text/csv; charset=utf-8", formatCSV},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		got, err := negotiate(r, offers...)
		require.NoError(t, err, c.accept)
		require.Equal(t, c.want, got, c.accept)
	}
	// Only JSON offered: CSV is refused with 406, naming what is served.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept", "text/csv")
	_, err := negotiate(r)
	var he *httpError
	require.True(t, errors.As(err, &he))
	require.Equal(t, http.StatusNotAcceptable, he.status)
	require.Contains(t, he.detail, "application/json")
}

func TestCSVText(t *testing.T) {
	require.Equal(t, "'=SUM(A1)", csvText("=SUM(A1)"))
	require.Equal(t, "'@x", csvText("@x"))
	require.Equal(t, "Acme", csvText("Acme"))
	require.Equal(t, "", csvText(""))
}
