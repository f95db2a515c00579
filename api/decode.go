package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"logbook/internal/crm"
)

// Body size limits.
const (
	maxBody      = 1 << 20  // 1 MiB
	maxBatchBody = 16 << 20 // 16 MiB
)

// readBody reads at most limit bytes; more is 413. Invalid UTF-8 is 422:
// encoding/json would silently replace it with U+FFFD, changing the text.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	return readBodyTo(w, r, limit, nil)
}

// readBodyTo is readBody that also writes every byte read to tee (unless
// nil), such as a signature's HMAC. A Content-Length over limit is 413
// before anything is read; otherwise the body is read through
// http.MaxBytesReader into one buffer of the declared length (a body
// without one grows its buffer as it is read, up to limit+1 bytes), so a
// body is never held twice.
func readBodyTo(w http.ResponseWriter, r *http.Request, limit int64, tee io.Writer) ([]byte, error) {
	if err := checkContentLength(r, limit); err != nil {
		return nil, err
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	if tee != nil {
		src = io.TeeReader(src, tee)
	}
	var b []byte
	var err error
	if r.ContentLength > 0 {
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(src, b)
	} else {
		b, err = io.ReadAll(src)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, errStatus(http.StatusBadRequest, "cannot read request body: %v", err)
	}
	if !utf8.Valid(b) {
		return nil, &httpError{status: http.StatusUnprocessableEntity, detail: "request body is not valid UTF-8",
			fields: []crm.FieldError{{Field: "", Message: "must be valid UTF-8"}}}
	}
	return b, nil
}

// decodeJSON reads the body into dst: malformed JSON is 400, an unknown
// field or a value of the wrong type is 422 naming the field, over limit is
// 413.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return unmarshalStrict(b, dst)
}

func unmarshalStrict(b []byte, dst any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errStatus(http.StatusBadRequest, "request body is empty; a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errStatus(http.StatusBadRequest, "malformed JSON: unexpected data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errStatus(http.StatusBadRequest, "malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errStatus(http.StatusBadRequest, "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errStatus(http.StatusBadRequest, "malformed JSON: unexpected end of input")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errStatus(http.StatusBadRequest, "malformed JSON: expected an object, got %s", te.Value)
		}
		return crm.Invalid(field, "must be %s, not %s", jsonKind(te.Type.Kind().String(), te.Type.String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return crm.Invalid(name, "is not a known field")
	}
	// An error from a field's own decoder (a date, a decimal).
	return crm.Invalid("", "%v", err)
}

func jsonKind(kind, typ string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return typ
}

// query helpers: each records a problem instead of failing, so one response
// names every bad parameter.

func queryInt(p *crm.Problems, r *http.Request, name string, min, max int) int {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		p.Add(name, "must be an integer from %d to %d", min, max)
		return 0
	}
	return n
}

func queryTime(p *crm.Problems, r *http.Request, name string) *time.Time {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil
	}
	t := crm.ParseTime(p, name, s)
	return &t
}

func queryID(p *crm.Problems, r *http.Request, name string) string {
	s := r.URL.Query().Get(name)
	if s != "" {
		crm.CheckID(p, name, s)
	}
	return s
}

func queryText(p *crm.Problems, r *http.Request, name string, max int) string {
	s := r.URL.Query().Get(name)
	crm.CheckText(p, name, s, max, false)
	return s
}

// pathID returns the {name} path value; a malformed ID is 422.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !crm.ValidID(id) {
		return "", crm.Invalid(name, "must be an ID (UUID)")
	}
	return strings.ToLower(id), nil
}
