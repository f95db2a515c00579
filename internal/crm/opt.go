package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
)

// Opt is a PATCH field: it tells "absent" (leave as is) from "null" (clear)
// from a value (set). encoding/json calls UnmarshalJSON for null too, so all
// three cases arrive here.
type Opt[T any] struct {
	// Set is true when the field appeared in the request body.
	Set bool
	// Null is true when the field was JSON null.
	Null bool
	// V is the value when Set and not Null.
	V T
}

// UnmarshalJSON records that the field was present and decodes its value.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	if err := json.Unmarshal(b, &o.V); err != nil {
		// Report every failure as a type error: encoding/json then adds the
		// field's path, so the client learns which field was wrong.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return err
		}
		v := string(b)
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return &json.UnmarshalTypeError{Value: v, Type: reflect.TypeFor[T]()}
	}
	return nil
}

// Ptr returns nil for absent or null, else a pointer to the value.
func (o Opt[T]) Ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.V
	return &v
}

// Some returns an Opt holding v, for building patches in code and tests.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, V: v} }
