package store

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"logbook/internal/crm"
)

// Cursors are opaque to clients: base64url of the keyset position. A cursor
// that does not decode is a validation error on "cursor", never a 500.

// Limit bounds of list endpoints.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

func encodeCursor(parts ...string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "|")))
	return &c
}

func decodeCursor(c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, crm.Invalid("cursor", "is not a cursor returned by this list")
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != n {
		return nil, crm.Invalid("cursor", "is not a cursor returned by this list")
	}
	return parts, nil
}

// idCursor is the keyset of lists ordered by id DESC (UUIDv7: newest first).
func decodeIDCursor(c string) (string, error) {
	parts, err := decodeCursor(c, 1)
	if err != nil {
		return "", err
	}
	if !crm.ValidID(parts[0]) {
		return "", crm.Invalid("cursor", "is not a cursor returned by this list")
	}
	return parts[0], nil
}

// timeIDCursor is the keyset of lists ordered by (time DESC, id DESC).
func encodeTimeIDCursor(t time.Time, id string) *string {
	return encodeCursor(t.UTC().Format(time.RFC3339Nano), id)
}

func decodeTimeIDCursor(c string) (time.Time, string, error) {
	parts, err := decodeCursor(c, 2)
	if err != nil {
		return time.Time{}, "", err
	}
	t, terr := time.Parse(time.RFC3339Nano, parts[0])
	if terr != nil || !crm.ValidID(parts[1]) {
		return time.Time{}, "", crm.Invalid("cursor", "is not a cursor returned by this list")
	}
	return t, parts[1], nil
}

// clampLimit applies the default and the maximum.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// args collects positional arguments for a dynamic query and hands out their
// placeholders, so values are never interpolated into SQL.
type args []any

// add appends v and returns its placeholder ($N).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}
