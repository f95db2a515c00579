// Package openapi reflects OpenAPI 3.1 (JSON Schema) schemas from Go types
// by their json tags, so a document says what a server decodes and encodes:
// a field added to a type appears in the document without anyone
// remembering to edit a spec file. It knows nothing of routes or of any
// particular API; the caller assembles the document and says, in a Config,
// which types stand for what.
//
// A field may refine its schema with an openapi tag of comma-separated
// options:
//
//	openapi:"format=date-time"   the string (or each string of an array) has this format
//	openapi:"schema=Notes"       the field's schema is Config.Named["Notes"], not its Go type's
//
// A tag the generator cannot apply (an unknown option, a format on a field
// that holds no string, an unknown name) is an error of Document.
package openapi

import (
	"fmt"
	"reflect"
	"slices"
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
	// Named holds what a field's openapi:"schema=NAME" tag names: a
	// reflect.Type (reflected as any other, so a named struct becomes a
	// component) or a fixed schema (a map[string]any, copied).
	Named map[string]any
	// Optional reports whether t wraps an optional value (a field type
	// telling absent from null) and returns the wrapped type; such a field
	// is the wrapped type or null. Nil treats no type so.
	Optional func(t reflect.Type) (reflect.Type, bool)
	// IDFormat is the format of string fields named id or ending in _id,
	// and of the strings of array fields ending in _ids, that are not enums
	// ("uuid"), whether or not they may be null; empty leaves them plain
	// strings. A field's own format tag wins.
	IDFormat string
	// NotIDs lists field names that end in _id but are not IDs in
	// IDFormat (an external system's identifier, say).
	NotIDs []string
	// InputSuffix ends the names of request-body structs ("Input"). A
	// struct is described as a request when its name ends so or when it is
	// reached from a request body (Generator.Request): its schema requires
	// nothing (the operation says what it needs), and a struct whose name
	// does not end in InputSuffix gets a component of its own, named with
	// it (a Participant in a request body is ParticipantInput). Every other
	// struct is a response, whose fields without omitempty or omitzero are
	// required. Both reject unknown fields (additionalProperties false): a
	// struct has the fields it has.
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
	// errs are the tags that could not be applied; Document reports them.
	errs []error
	// request is set while a request body is reflected.
	request bool
}

// New returns a Generator with no components yet.
func New(cfg Config) *Generator {
	return &Generator{Components: map[string]any{}, cfg: cfg}
}

// Err reports the tags that could not be applied so far, if any.
func (g *Generator) Err() error {
	if len(g.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(g.errs))
	for i, e := range g.errs {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return fmt.Errorf("openapi: %s", strings.Join(slices.Compact(msgs), "; "))
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

// Request returns the schema of t as a request body: t and every struct
// it holds are described as requests (see Config.InputSuffix).
func (g *Generator) Request(t reflect.Type) map[string]any {
	was := g.request
	g.request = true
	defer func() { g.request = was }()
	return g.Schema(t)
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
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.Schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.Schema(t.Elem())}
	case reflect.Interface:
		// Anything at all: the schema says nothing, which a document
		// check can find and refuse.
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.Struct(t, !g.request)
		}
		name := g.Name(t)
		isInput := g.cfg.InputSuffix != "" && strings.HasSuffix(name, g.cfg.InputSuffix)
		if g.request && !isInput && g.cfg.InputSuffix != "" {
			name += g.cfg.InputSuffix
			isInput = true
		}
		if _, ok := g.Components[name]; !ok {
			g.Components[name] = map[string]any{} // placeholder against recursion
			was := g.request
			g.request = isInput
			g.Components[name] = g.Struct(t, !isInput)
			g.request = was
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	g.errs = append(g.errs, fmt.Errorf("type %s (kind %s) has no schema", t, t.Kind()))
	return map[string]any{}
}

// jsonField is one field as encoding/json sees it.
type jsonField struct {
	name  string
	field reflect.StructField
	opts  string // the json tag's options after the name
}

// jsonFields lists t's fields as encoding/json encodes them: exported, not
// tagged "-", and the fields of an embedded struct without a json name
// promoted into t (a field of t itself wins over a promoted one of the same
// name, as in encoding/json).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	seen := map[string]bool{}
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		seen[name] = true
		out = append(out, jsonField{name: name, field: f, opts: opts})
	}
	for _, et := range embedded {
		for _, jf := range jsonFields(et) {
			if !seen[jf.name] {
				seen[jf.name] = true
				out = append(out, jf)
			}
		}
	}
	return out
}

// Struct describes a struct by its json tags. A response lists every field
// without omitempty or omitzero as required; a request (response false)
// requires nothing (the caller adds what an operation needs). Neither
// allows fields the struct does not have.
func (g *Generator) Struct(t reflect.Type, response bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, jf := range jsonFields(t) {
		props[jf.name] = g.field(t, jf)
		omit := false
		for _, o := range strings.Split(jf.opts, ",") {
			omit = omit || o == "omitempty" || o == "omitzero"
		}
		if response && !omit {
			required = append(required, jf.name)
		}
	}
	sort.Strings(required)
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// field is the schema of one field of t: its Go type's, or the one its
// openapi tag names, with the format its tag or its name (IDFormat) gives.
func (g *Generator) field(t reflect.Type, jf jsonField) map[string]any {
	var format, named string
	if tag, ok := jf.field.Tag.Lookup("openapi"); ok {
		for _, opt := range strings.Split(tag, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
			switch {
			case k == "format" && v != "":
				format = v
			case k == "schema" && v != "":
				named = v
			default:
				g.errs = append(g.errs, fmt.Errorf("%s.%s: unknown openapi tag option %q", t, jf.field.Name, opt))
			}
		}
	}
	var s map[string]any
	if named != "" {
		s = g.named(t, jf, named)
	} else {
		s = g.Schema(jf.field.Type)
	}
	if format == "" && g.cfg.IDFormat != "" && !slices.Contains(g.cfg.NotIDs, jf.name) &&
		(jf.name == "id" || strings.HasSuffix(jf.name, "_id") || strings.HasSuffix(jf.name, "_ids")) {
		if f, ok := withFormat(s, g.cfg.IDFormat); ok {
			return f
		}
		return s // an enum or a number named like an ID: not one
	}
	if format != "" {
		f, ok := withFormat(s, format)
		if !ok {
			g.errs = append(g.errs, fmt.Errorf("%s.%s: format %q on a field that holds no plain string", t, jf.field.Name, format))
			return s
		}
		return f
	}
	return s
}

// named is the schema Config.Named gives name, nullable when the field's
// own type may be null (a pointer or an Optional).
func (g *Generator) named(t reflect.Type, jf jsonField, name string) map[string]any {
	var s map[string]any
	switch v := g.cfg.Named[name].(type) {
	case reflect.Type:
		s = g.Schema(v)
	case map[string]any:
		s = copyMap(v)
	default:
		g.errs = append(g.errs, fmt.Errorf("%s.%s: Config.Named has no schema %q", t, jf.field.Name, name))
		return g.Schema(jf.field.Type)
	}
	ft := jf.field.Type
	opt := false
	if g.cfg.Optional != nil {
		_, opt = g.cfg.Optional(ft)
	}
	if ft.Kind() == reflect.Pointer || opt {
		return nullable(s)
	}
	return s
}

// withFormat returns s with format set on its string: s itself when it is
// a string (or a string or null), each item when it is an array of them,
// each alternative of an anyOf. It reports false when s holds no plain
// string (an enum is not one: its values say everything).
func withFormat(s map[string]any, format string) (map[string]any, bool) {
	if _, isEnum := s["enum"]; isEnum {
		return s, false
	}
	if alts, ok := s["anyOf"].([]any); ok {
		out := make([]any, len(alts))
		applied := false
		for i, a := range alts {
			out[i] = a
			if m, ok := a.(map[string]any); ok {
				if f, ok := withFormat(m, format); ok {
					out[i], applied = f, true
				}
			}
		}
		c := copyMap(s)
		c["anyOf"] = out
		return c, applied
	}
	switch typ := s["type"].(type) {
	case string:
		switch typ {
		case "string":
			c := copyMap(s)
			c["format"] = format
			return c, true
		case "array":
			if items, ok := s["items"].(map[string]any); ok {
				if f, ok := withFormat(items, format); ok {
					c := copyMap(s)
					c["items"] = f
					return c, true
				}
			}
		}
	case []string:
		if slices.Contains(typ, "string") {
			c := copyMap(s)
			c["format"] = format
			return c, true
		}
	}
	return s, false
}

// nullable lets s be null too: a plain type becomes [type, "null"] (with
// null added to an enum), anything else anyOf s or null.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok && s["items"] == nil && s["properties"] == nil && s["additionalProperties"] == nil {
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
