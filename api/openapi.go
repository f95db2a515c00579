package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/openapi"
	"logbook/internal/store"
)

// buildOpenAPI renders the OpenAPI 3.1 document of the route table. Schemas
// are reflected from the Go types that handlers decode and encode, so the
// document says what is served: a field added to crm.Account appears here
// without anyone remembering to edit a spec file.
//
// Each route's prose, parameters, body and responses come from docs, keyed
// by "Method Path": a route without an entry, or an entry without a route,
// is an error.
func buildOpenAPI(rs []route, docs map[string]opDoc, version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	g := newSchemaGen()
	g.Components["Problem"] = g.Struct(reflect.TypeOf(Problem{}), false)
	paths := map[string]map[string]any{}
	documented := 0
	for _, rt := range rs {
		d, ok := docs[rt.Method+" "+rt.Path]
		if !ok {
			return nil, fmt.Errorf("api: route %s %s has no entry in docs", rt.Method, rt.Path)
		}
		documented++
		op := map[string]any{
			"summary":     d.Summary,
			"operationId": operationID(rt),
			"tags":        []string{d.Tag},
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
		for _, q := range d.Query {
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
		if ct, ok := d.Body.(contentTyped); ok {
			// A body of several shapes (one activity or a batch) describes itself.
			op["requestBody"] = map[string]any{"required": true, "content": ct.contentTypes(g)}
		} else if d.Body != nil {
			s := g.Schema(reflect.TypeOf(d.Body))
			if len(d.Required) > 0 {
				s = map[string]any{"allOf": []any{s, map[string]any{"required": d.Required}}}
			}
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": s}},
			}
		}
		resps := map[string]any{}
		for code, body := range d.Resp {
			resps[strconv.Itoa(code)] = responseDoc(g, code, body)
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
	if documented != len(docs) {
		for key := range docs {
			if m, p, _ := strings.Cut(key, " "); paths[p][strings.ToLower(m)] == nil {
				return nil, fmt.Errorf("api: docs has an entry for %s, which is not in the route table", key)
			}
		}
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
			"schemas": g.Components,
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

func responseDoc(g *openapi.Generator, code int, body any) map[string]any {
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
			"application/json": map[string]any{"schema": g.Schema(reflect.TypeOf(b))}}}
	}
}

// contentTyped lets a body or response document its content types itself
// (a body of several shapes, JSON or server-sent events).
type contentTyped interface {
	contentTypes(g *openapi.Generator) map[string]any
}

// newSchemaGen returns the schema generator configured for Logbook's types:
// crm.Opt[T] is T or null, dates, decimals and raw JSON have fixed schemas,
// the crm enums list their values, IDs are UUIDs and *Input structs are
// request bodies.
func newSchemaGen() *openapi.Generator {
	crmPkg := reflect.TypeOf(crm.Opt[int]{}).PkgPath()
	return openapi.New(openapi.Config{
		Types: map[reflect.Type]map[string]any{
			reflect.TypeOf(time.Time{}):       {"type": "string", "format": "date-time"},
			reflect.TypeOf(crm.Date{}):        {"type": "string", "format": "date"},
			reflect.TypeOf(crm.Decimal("")):   {"type": "number"},
			reflect.TypeOf(json.Number("")):   {"type": "number"},
			reflect.TypeOf(json.RawMessage{}): {"type": "object"},
		},
		Enums: map[reflect.Type][]string{
			reflect.TypeOf(crm.ActivityType("")):          strs(crm.ActivityTypes),
			reflect.TypeOf(crm.Direction("")):             strs(crm.Directions),
			reflect.TypeOf(crm.Source("")):                strs(crm.Sources),
			reflect.TypeOf(crm.Role("")):                  strs(crm.Roles),
			reflect.TypeOf(crm.DealStatus("")):            strs(crm.DealStatuses),
			reflect.TypeOf(crm.Scope("")):                 strs(crm.Scopes),
			reflect.TypeOf(crm.TranscriptStatus("")):      strs(crm.TranscriptStatuses),
			reflect.TypeOf(crm.WebhookDeliveryStatus("")): strs(crm.WebhookDeliveryStatuses),
			reflect.TypeOf(crm.ActionItemStatus("")):      {string(crm.ActionOpen), string(crm.ActionDone)},
			reflect.TypeOf(store.BriefSide("")):           strs(store.BriefSides), // the brief's open_action_items[].side
		},
		Optional: func(t reflect.Type) (reflect.Type, bool) {
			if t.Kind() == reflect.Struct && t.PkgPath() == crmPkg && strings.HasPrefix(t.Name(), "Opt[") {
				return t.Field(2).Type, true
			}
			return nil, false
		},
		IDFormat:     "uuid",
		InputSuffix:  "Input",
		GenericNames: map[string]string{"itemsOf": "List"},
	})
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
