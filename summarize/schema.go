package summarize

import (
	"encoding/json"
	"reflect"
	"strings"

	"logbook/internal/llm"
)

// The JSON Schemas of the answers, derived from llm's output types so they
// cannot drift apart. They are strict-compatible: every property required,
// no additional properties.
var (
	notesSchema    = mustSchema("meeting_notes", reflect.TypeFor[llm.NotesOutput]())
	followUpSchema = mustSchema("follow_up_email", reflect.TypeFor[llm.FollowUpOutput]())
)

// NotesSchema returns the JSON Schema sent with notes and notes-reduce
// requests (a copy).
func NotesSchema() llm.Schema { return cloneSchema(notesSchema) }

// FollowUpSchema returns the JSON Schema sent with followup.v1 requests (a
// copy).
func FollowUpSchema() llm.Schema { return cloneSchema(followUpSchema) }

func cloneSchema(s *llm.Schema) llm.Schema {
	return llm.Schema{Name: s.Name, JSON: append(json.RawMessage(nil), s.JSON...)}
}

func mustSchema(name string, t reflect.Type) *llm.Schema {
	b, err := json.Marshal(schemaOf(t))
	if err != nil {
		panic(err)
	}
	return &llm.Schema{Name: name, JSON: b}
}

// schemaOf builds the JSON Schema of t from its json tags. It knows the
// kinds llm's output types use.
func schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		required := []string{}
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
			required = append(required, name)
		}
		return map[string]any{
			"type":                 "object",
			"properties":           props,
			"required":             required,
			"additionalProperties": false,
		}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Pointer:
		return schemaOf(t.Elem())
	}
	panic("summarize: no JSON Schema for " + t.String())
}
