package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// buildOpenAPI renders the OpenAPI 3.1 document of the route table. Schemas
// are reflected from the Go types that handlers decode and encode, so the
// document says what is served: a field added to crm.Account appears here
// without anyone remembering to edit a spec file.
func buildOpenAPI(rs []route, version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	g := &schemaGen{comps: map[string]any{}}
	g.comps["Problem"] = g.structSchema(reflect.TypeOf(Problem{}), false)
	paths := map[string]map[string]any{}
	for _, rt := range rs {
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"tags":        []string{rt.Tag},
		}
		if rt.Scope != "" {
			op["security"] = []map[string][]string{{"bearer": {}}}
			op["description"] = fmt.Sprintf("Needs the `%s` scope (or `admin`).", rt.Scope)
		} else {
			op["security"] = []map[string][]string{}
		}
		var params []any
		for _, name := range pathParams(rt.Path) {
			params = append(params, map[string]any{
				"name": name, "in": "path", "required": true,
				"schema": map[string]any{"type": "string", "format": "uuid"},
			})
		}
		for _, q := range rt.Query {
			s := map[string]any{"type": q.Type}
			if q.Format != "" {
				s["format"] = q.Format
			}
			if len(q.Enum) > 0 {
				s["enum"] = q.Enum
			}
			qp := map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": s}
			if q.Required {
				qp["required"] = true
			}
			params = append(params, qp)
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if ct, ok := rt.Body.(contentTyped); ok {
			// A body of several shapes (one activity or a batch) describes itself.
			op["requestBody"] = map[string]any{"required": true, "content": ct.contentTypes(g)}
		} else if rt.Body != nil {
			s := g.schema(reflect.TypeOf(rt.Body))
			if len(rt.Required) > 0 {
				s = map[string]any{"allOf": []any{s, map[string]any{"required": rt.Required}}}
			}
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": s}},
			}
		}
		resps := map[string]any{}
		for code, body := range rt.Resp {
			resps[strconv.Itoa(code)] = g.response(code, body)
		}
		op["responses"] = resps
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		m := strings.ToLower(rt.Method)
		if _, dup := paths[rt.Path][m]; dup {
			return nil, fmt.Errorf("api: route %s %s registered twice", rt.Method, rt.Path)
		}
		paths[rt.Path][m] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Logbook API",
			"version":     version,
			"description": "The activity log and meeting-note pipeline for sales and customer-success teams. Errors are application/problem+json (RFC 9457). Lists are keyset-paginated with an opaque cursor.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.comps,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key: Authorization: Bearer lbk_…"},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("api: marshal openapi: %w", err)
	}
	return b, nil
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func pathParams(path string) []string {
	var out []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

func operationID(rt route) string {
	parts := strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '-' || r == '.' })
	return strings.ToLower(rt.Method) + "_" + strings.Join(parts, "_")
}

func (g *schemaGen) response(code int, body any) map[string]any {
	desc := http.StatusText(code)
	switch b := body.(type) {
	case noBody:
		return map[string]any{"description": desc}
	case string:
		return map[string]any{"description": desc, "content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
	case Problem:
		return map[string]any{"description": desc, "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	default:
		if ct, ok := body.(contentTyped); ok {
			return map[string]any{"description": desc, "content": ct.contentTypes(g)}
		}
		return map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(b))}}}
	}
}

// contentTyped lets a response document several content types (JSON and
// server-sent events).
type contentTyped interface {
	contentTypes(g *schemaGen) map[string]any
}

type schemaGen struct {
	comps map[string]any
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	dateType    = reflect.TypeOf(crm.Date{})
	decimalType = reflect.TypeOf(crm.Decimal(""))
	rawType     = reflect.TypeOf(json.RawMessage{})
	numberType  = reflect.TypeOf(json.Number(""))
)

// enums lists the values of the string enums.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(crm.ActivityType("")):          strs(crm.ActivityTypes),
	reflect.TypeOf(crm.Direction("")):             strs(crm.Directions),
	reflect.TypeOf(crm.Source("")):                strs(crm.Sources),
	reflect.TypeOf(crm.Role("")):                  strs(crm.Roles),
	reflect.TypeOf(crm.DealStatus("")):            strs(crm.DealStatuses),
	reflect.TypeOf(crm.Scope("")):                 strs(crm.Scopes),
	reflect.TypeOf(crm.TranscriptStatus("")):      strs(crm.TranscriptStatuses),
	reflect.TypeOf(crm.WebhookDeliveryStatus("")): strs(crm.WebhookDeliveryStatuses),
	reflect.TypeOf(crm.ActionItemStatus("")):      {string(crm.ActionOpen), string(crm.ActionDone)},
	reflect.TypeOf(store.BriefSide("")):           strs(store.BriefSides),
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemaName turns crm.Page[logbook/internal/crm.Account] into AccountPage.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		inner := n[i+1 : len(n)-1]
		if j := strings.LastIndexByte(inner, '.'); j >= 0 {
			inner = inner[j+1:]
		}
		base := n[:i]
		switch base {
		case "Page":
			return inner + "Page"
		case "itemsOf":
			return inner + "List"
		}
		return inner + strings.ToUpper(base[:1]) + base[1:]
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Struct && t.Name() != "" && strings.HasPrefix(t.Name(), "Opt[") {
		return nullable(g.schema(t.Field(2).Type))
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case dateType:
		return map[string]any{"type": "string", "format": "date"}
	case decimalType, numberType:
		return map[string]any{"type": "number"}
	case rawType:
		return map[string]any{"type": "object"}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t, true)
		}
		name := schemaName(t)
		if _, ok := g.comps[name]; !ok {
			g.comps[name] = map[string]any{} // placeholder against recursion
			g.comps[name] = g.structSchema(t, !strings.HasSuffix(t.Name(), "Input"))
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// structSchema describes a struct by its json tags. Response types list
// every field without omitempty as required; input types require nothing
// (routes add what a create needs) and reject unknown fields.
func (g *schemaGen) structSchema(t reflect.Type, response bool) map[string]any {
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
		s := g.schema(f.Type)
		if f.Type.Kind() == reflect.String && (name == "id" || strings.HasSuffix(name, "_id")) && enums[f.Type] == nil {
			s = map[string]any{"type": "string", "format": "uuid"}
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

func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok && len(s) <= 3 && s["items"] == nil && s["properties"] == nil {
		c := map[string]any{}
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []string{typ, "null"}
		if e, ok := c["enum"].([]string); ok {
			c["enum"] = append(append([]any{}, anys(e)...), nil)
		}
		return c
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
