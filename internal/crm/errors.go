package crm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. The store translates driver errors into these at its
// boundary; the API maps them to status codes (404, 409, 422).
var (
	// ErrNotFound means the resource does not exist in the caller's org. A
	// resource of another org is reported exactly like a missing one.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule was broken (a second user with the
	// same email, a domain already claimed by another account).
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input broke a validation rule. It is usually
	// wrapped in a *ValidationError that names the fields.
	ErrInvalid = errors.New("invalid input")
)

// ConflictError is a broken uniqueness rule, with what the client needs to
// fix it: Field names the field whose value is taken (email, domains,
// external_id), Detail says so in a sentence. It matches ErrConflict with
// errors.Is.
type ConflictError struct {
	Field  string
	Detail string
}

// Error returns "conflict: " and the detail.
func (e *ConflictError) Error() string { return "conflict: " + e.Detail }

// Is reports that a ConflictError is an ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// FieldError names one bad field and says what is wrong with it. Field is a
// JSON path such as "activities[3].occurred_at".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError collects every bad field of one request, so a client can
// fix them all at once. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Error joins the field messages.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		if f.Field == "" {
			parts = append(parts, f.Message)
			continue
		}
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is reports that a ValidationError is an ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a ValidationError for a single field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// Problems accumulates field errors during validation. The zero value is ready
// to use; Err returns nil when nothing was added.
type Problems struct {
	fields []FieldError
}

// Add records that field is wrong.
func (p *Problems) Add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Merge adds the fields of err when it is a *ValidationError, each prefixed
// with prefix (for example "activities[2]."). Any other non-nil error is added
// as a message on prefix itself.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			name := prefix + f.Field
			if f.Field == "" {
				name = strings.TrimSuffix(prefix, ".")
			}
			p.fields = append(p.fields, FieldError{Field: name, Message: f.Message})
		}
		return
	}
	p.fields = append(p.fields, FieldError{Field: strings.TrimSuffix(prefix, "."), Message: err.Error()})
}

// Len is the number of problems recorded so far.
func (p *Problems) Len() int { return len(p.fields) }

// Err returns a *ValidationError holding every problem, or nil.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: append([]FieldError(nil), p.fields...)}
}
