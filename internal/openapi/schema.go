// Package openapi reflects OpenAPI 3.1 (JSON Schema) schemas from Go types
// by their json tags, so a document says what a server decodes and encodes:
// a field added to a type appears in the document without anyone
// remembering to edit a spec file. It knows nothing of routes or of any
// particular API; the caller assembles the document and says, in a Config,
// which types stand for what.
package openapi

import (
	"reflect"
	"sort"
	"strings"
)

// Config says how the types of one API map to schemas.
type Config struct {
	// Types gives the fixed schema of a type that is not described by its
	// Go kind, such as time.Time as a date-time string.
	Types map[reflect.Type]map[string]any
	// Enums lists the values of string enum types.
	Enums map[reflect.Type][]string
	// Optional reports whether t wraps an optional value (a field type
	// telling absent from null) and returns the wrapped type; such a field
	// is the wrapped type or null. Nil treats no type so.
	Optional func(t reflect.Type) (reflect.Type, bool)
	// IDFormat is the format of string fields named id or ending in _id
	// that are not enums ("uuid"); empty leaves them plain strings.
	IDFormat string
	// InputSuffix ends the names of request-body structs ("Input"): their
	// schemas require nothing and reject unknown fields. Every other struct
	// is a response, whose fields without omitempty are required.
	InputSuffix string
	// GenericNames maps the base name of a generic type to the suffix its
	// instances' schema names get: with {"itemsOf": "List"}, itemsOf[T] is
	// TList. A base name not listed is used capitalized (Page[T] is TPage).
	GenericNames map[string]string
}

// Generator reflects schemas. Named structs become components, referenced
// by $ref; Components collects them as it goes. A Generator is used by one
// goroutine at a time.
type Generator struct {
	// Components holds the named schemas seen so far, by Name.
	Components map[string]any
	cfg        Config
}

// New returns a Generator with no components yet.
func New(cfg Config) *Generator {
	return &Generator{Components: map[string]any{}, cfg: cfg}
}

// Name is the component name of a named type: the type's name capitalized,
// and for an instance of a generic type, the type argument's name followed
// by the generic type's suffix (crm.Page[crm.Account] is AccountPage).
func (g *Generator) Name(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		inner := n[i+1 : len(n)-1]
		if j := strings.LastIndexByte(inner, '.'); j >= 0 {
			inner = inner[j+1:]
		}
		base := n[:i]
		if s, ok := g.cfg.GenericNames[base]; ok {
			return inner + s
		}
		return inner + strings.ToUpper(base[:1]) + base[1:]
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// Schema returns the schema of t: inline for unnamed and basic types, a
// $ref to a component (added on first sight) for a named struct.
func (g *Generator) Schema(t reflect.Type) map[string]any {
	if g.cfg.Optional != nil {
		if inner, ok := g.cfg.Optional(t); ok {
			return nullable(g.Schema(inner))
		}
	}
	if s, ok := g.cfg.Types[t]; ok {
		return copyMap(s)
	}
	if vals, ok := g.cfg.Enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.Schema(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.Schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.Schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.Struct(t, true)
		}
		name := g.Name(t)
		if _, ok := g.Components[name]; !ok {
			g.Components[name] = map[string]any{} // placeholder against recursion
			isInput := g.cfg.InputSuffix != "" && strings.HasSuffix(t.Name(), g.cfg.InputSuffix)
			g.Components[name] = g.Struct(t, !isInput)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// Struct describes a struct by its json tags. A response lists every field
// without omitempty as required; a request (response false) requires
// nothing (the caller adds what an operation needs) and rejects unknown
// fields.
func (g *Generator) Struct(t reflect.Type, response bool) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		s := g.Schema(f.Type)
		if g.cfg.IDFormat != "" && f.Type.Kind() == reflect.String && (name == "id" || strings.HasSuffix(name, "_id")) &&
			g.cfg.Enums[f.Type] == nil {
			s = map[string]any{"type": "string", "format": g.cfg.IDFormat}
		}
		props[name] = s
		if response && !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	if !response {
		out["additionalProperties"] = false
	}
	return out
}

// nullable lets s be null too: a plain type becomes [type, "null"] (with
// null added to an enum), anything else anyOf s or null.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok && len(s) <= 3 && s["items"] == nil && s["properties"] == nil {
		c := copyMap(s)
		c["type"] = []string{typ, "null"}
		if e, ok := c["enum"].([]string); ok {
			vals := make([]any, 0, len(e)+1)
			for _, v := range e {
				vals = append(vals, v)
			}
			c["enum"] = append(vals, nil)
		}
		return c
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func copyMap(s map[string]any) map[string]any {
	c := make(map[string]any, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}
