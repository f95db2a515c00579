package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"logbook/internal/store"
)

// servedSpec is /openapi.json as NewHandler serves it.
func servedSpec(t testing.TB) []byte {
	t.Helper()
	h, err := NewHandler(Deps{Store: store.New(nil), Version: "test"})
	require.NoError(t, err)
	return h.(interface{ spec() []byte }).spec()
}

// TestOpenAPIDocumentIsTyped walks /openapi.json and refuses what a client
// generator cannot use: a schema that says nothing (no type, $ref or
// composition), an object whose properties are listed but which still
// allows others without saying why, an object with neither properties nor
// a stated additionalProperties, an ID, time or date field or parameter
// without its format, and a property name that is not lower case (the
// request check lower-cases a body's keys, as encoding/json matches them
// case-insensitively).
func TestOpenAPIDocumentIsTyped(t *testing.T) {
	t.Parallel()
	b := servedSpec(t)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	problems := lintDocument(doc)
	require.Empty(t, problems, "loosely typed parts of /openapi.json:\n%s", strings.Join(problems, "\n"))
}

// TestOpenAPIDocumentLoads checks that kin-openapi loads the document and
// finds it valid OpenAPI 3.1 (references resolve, schemas are well formed,
// examples and defaults fit).
func TestOpenAPIDocumentLoads(t *testing.T) {
	t.Parallel()
	b := servedSpec(t)
	doc, err := openapi3.NewLoader().LoadFromData(b)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	require.True(t, doc.IsOpenAPI31OrLater())
	for _, name := range []string{"meeting.processed", "activity.created"} {
		require.Contains(t, doc.Webhooks, name)
		op := doc.Webhooks[name].Post
		require.NotNil(t, op, name)
		var hs []string
		for _, p := range op.Parameters {
			if p.Value.In == "header" && p.Value.Required {
				hs = append(hs, p.Value.Name)
			}
		}
		require.ElementsMatch(t, []string{"Logbook-Event", "Logbook-Delivery", "Logbook-Signature"}, hs, name)
	}
	hook := doc.Paths.Find("/v1/hooks/transcripts").Post
	require.NotNil(t, hook.Parameters.GetByInAndName("header", "Logbook-Signature"))
	require.NotNil(t, hook.Parameters.GetByInAndName("header", "Logbook-Org"))
	sse := doc.Paths.Find("/v1/ask").Post.Responses.Status(200).Value.Content.Get("text/event-stream")
	require.NotNil(t, sse)
	require.Contains(t, sse.Extensions, "x-events")
}

func TestLintDocumentFindsLooseSchemas(t *testing.T) {
	t.Parallel()
	doc := map[string]any{
		"paths": map[string]any{"/x": map[string]any{"get": map[string]any{
			"parameters": []any{
				map[string]any{"name": "owner_id", "in": "query", "schema": map[string]any{"type": "string"}},
				map[string]any{"name": "since", "in": "query", "schema": map[string]any{"type": "string", "format": "date-time"}},
			},
			"responses": map[string]any{"200": map[string]any{"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"type": "object", "additionalProperties": map[string]any{}}}}}},
		}}},
		"components": map[string]any{"schemas": map[string]any{
			"A": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"notes":       map[string]any{"type": "object"},
				"meta":        map[string]any{"type": "object", "additionalProperties": true, "description": "free-form"},
				"any":         map[string]any{},
				"account_id":  map[string]any{"type": []any{"string", "null"}},
				"contact_ids": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"external_id": map[string]any{"type": "string"},
				"created_at":  map[string]any{"type": "string"},
				"due_date":    map[string]any{"anyOf": []any{map[string]any{"type": "string", "format": "date"}, map[string]any{"type": "null"}}},
			}},
			"B": map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string", "format": "uuid"}}},
		}},
	}
	got := lintDocument(doc)
	want := []string{
		"#/components/schemas/A/properties/account_id: an ID without format uuid",
		"#/components/schemas/A/properties/any: a schema without a type",
		"#/components/schemas/A/properties/contact_ids: an ID without format uuid",
		"#/components/schemas/A/properties/created_at: a time without format date-time",
		"#/components/schemas/A/properties/notes: an object without properties or a stated additionalProperties",
		"#/components/schemas/B: an object with properties that allows others without saying why",
		"#/paths/~1x/get/parameters/0 (owner_id): an ID without format uuid",
		"#/paths/~1x/get/responses/200/content/application~1json/schema/additionalProperties: a schema without a type",
	}
	require.Equal(t, want, got)
}

// lintDocument lists the loosely typed parts of an OpenAPI document (see
// TestOpenAPIDocumentIsTyped), sorted.
func lintDocument(doc map[string]any) []string {
	var out []string
	add := func(ptr, format string, args ...any) { out = append(out, ptr+": "+fmt.Sprintf(format, args...)) }

	var schema func(ptr, name string, s any)
	schema = func(ptr, name string, s any) {
		m, ok := s.(map[string]any)
		if !ok {
			if _, isBool := s.(bool); !isBool {
				add(ptr, "a schema that is not an object")
			}
			return
		}
		if name != "" {
			checkFieldFormat(ptr, name, m, add)
		}
		if _, ok := m["$ref"]; ok {
			return
		}
		composed := false
		for _, k := range []string{"anyOf", "oneOf", "allOf"} {
			if alts, ok := m[k].([]any); ok {
				composed = true
				for i, a := range alts {
					schema(fmt.Sprintf("%s/%s/%d", ptr, k, i), "", a)
				}
			}
		}
		typ, hasType := m["type"]
		if !hasType && !composed {
			if _, req := m["required"]; !req || len(m) > 1 { // {"required": [...]} in an allOf adds to a sibling
				add(ptr, "a schema without a type")
			}
			return
		}
		if typeIs(typ, "object") {
			props, hasProps := m["properties"].(map[string]any)
			ap, hasAP := m["additionalProperties"]
			_, described := m["description"]
			switch {
			case !hasProps && !hasAP:
				add(ptr, "an object without properties or a stated additionalProperties")
			case hasProps && ap != false && !described:
				add(ptr, "an object with properties that allows others without saying why")
			case !hasProps && ap == true && !described:
				add(ptr, "a free-form object that does not say so")
			}
			keys := make([]string, 0, len(props))
			for k := range props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if k != strings.ToLower(k) {
					add(ptr+"/properties/"+escape(k), "a property name that is not lower case")
				}
				schema(ptr+"/properties/"+escape(k), k, props[k])
			}
			if apm, ok := ap.(map[string]any); ok {
				schema(ptr+"/additionalProperties", "", apm)
			}
		}
		if typeIs(typ, "array") {
			items, ok := m["items"]
			if !ok {
				add(ptr, "an array without items")
			} else {
				schema(ptr+"/items", "", items)
			}
		}
	}

	var operation func(ptr string, op map[string]any)
	operation = func(ptr string, op map[string]any) {
		params, _ := op["parameters"].([]any)
		for i, p := range params {
			pm, _ := p.(map[string]any)
			name, _ := pm["name"].(string)
			pp := fmt.Sprintf("%s/parameters/%d", ptr, i)
			if s, ok := pm["schema"].(map[string]any); ok {
				checkFieldFormat(pp+" ("+name+")", strings.ToLower(name), s, add)
				schema(pp+"/schema", "", s)
			} else {
				add(pp, "a parameter without a schema")
			}
		}
		if rb, ok := op["requestBody"].(map[string]any); ok {
			content(ptr+"/requestBody", rb, schema)
		}
		resps, _ := op["responses"].(map[string]any)
		for code, r := range resps {
			content(ptr+"/responses/"+code, r.(map[string]any), schema)
		}
	}

	for _, section := range []string{"paths", "webhooks"} {
		items, _ := doc[section].(map[string]any)
		for path, item := range items {
			for method, op := range item.(map[string]any) {
				operation("#/"+section+"/"+escape(path)+"/"+method, op.(map[string]any))
			}
		}
	}
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for name, s := range schemas {
		schema("#/components/schemas/"+escape(name), "", s)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func content(ptr string, holder map[string]any, schema func(ptr, name string, s any)) {
	cs, _ := holder["content"].(map[string]any)
	for ct, mt := range cs {
		mtm := mt.(map[string]any)
		s, ok := mtm["schema"]
		if !ok {
			schema(ptr+"/content/"+escape(ct), "", nil)
			continue
		}
		schema(ptr+"/content/"+escape(ct)+"/schema", "", s)
		if evs, ok := mtm["x-events"].(map[string]any); ok {
			for name, es := range evs {
				schema(ptr+"/content/"+escape(ct)+"/x-events/"+name, "", es)
			}
		}
	}
}

// checkFieldFormat adds a problem when a field or parameter named like an
// ID (id, *_id, *_ids but external_id), a time (*_at, since, until) or a
// date (*_date) has a string schema without that format.
func checkFieldFormat(ptr, name string, s map[string]any, add func(ptr, format string, args ...any)) {
	var want, what string
	switch {
	case (name == "since" || name == "until") && formatsAre(s, "date-time", "date"): // a report's range also takes a date
		return
	case name == "external_id":
		return
	case name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids"):
		want, what = "uuid", "an ID"
	case strings.HasSuffix(name, "_at") || name == "since" || name == "until":
		want, what = "date-time", "a time"
	case strings.HasSuffix(name, "_date"):
		want, what = "date", "a date"
	default:
		return
	}
	if !hasFormat(s, want) {
		add(ptr, "%s without format %s", what, want)
	}
}

// hasFormat reports whether every string s may be has format (following
// arrays' items and anyOf alternatives; a $ref or an enum counts as typed).
func hasFormat(s map[string]any, format string) bool {
	if _, ok := s["$ref"]; ok {
		return true
	}
	if _, ok := s["enum"]; ok {
		return true
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, a := range alts {
			am, _ := a.(map[string]any)
			if typeIs(am["type"], "null") && !typeIs(am["type"], "string") {
				continue
			}
			if !hasFormat(am, format) {
				return false
			}
		}
		return true
	}
	typ := s["type"]
	if typeIs(typ, "array") {
		items, _ := s["items"].(map[string]any)
		return hasFormat(items, format)
	}
	if typeIs(typ, "string") {
		return s["format"] == format
	}
	return typ != nil // an integer or a boolean named like an ID is not one
}

func typeIs(typ any, want string) bool {
	switch t := typ.(type) {
	case string:
		return t == want
	case []any:
		for _, x := range t {
			if x == want {
				return true
			}
		}
	case []string:
		return slices.Contains(t, want)
	}
	return false
}

// escape escapes a JSON pointer token.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
