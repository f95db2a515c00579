package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
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
	ops := make([]openapi.Operation, 0, len(rs))
	for _, rt := range rs {
		d, ok := docs[rt.Method+" "+rt.Path]
		if !ok {
			return nil, fmt.Errorf("api: route %s %s has no entry in docs", rt.Method, rt.Path)
		}
		if _, ok := d.Resp[http.StatusInternalServerError]; !ok && d.Resp != nil {
			// Any route may fail unexpectedly: the error is logged and the
			// answer says so, without details.
			d.Resp[http.StatusInternalServerError] = Problem{}
		}
		if p, ok := d.Resp[http.StatusServiceUnavailable].(Problem); ok {
			// Every 503 problem says when to try again (writeError,
			// writeUnavailable).
			d.Resp[http.StatusServiceUnavailable] = withHeaders{Body: p, Headers: []param{{Name: "Retry-After", Type: "integer",
				Required: true, Description: "seconds to wait before trying again"}}}
		}
		op := openapi.Operation{Method: rt.Method, Path: rt.Path, ID: operationID(rt), Tag: d.Tag, Summary: d.Summary,
			Secured: rt.Scope != "", Params: d.params(), Body: d.Body, Required: d.Required, Responses: d.Resp}
		if rt.Scope != "" {
			op.Description = fmt.Sprintf("Needs the `%s` scope (or `admin`).", rt.Scope)
		}
		ops = append(ops, op)
	}
	if len(ops) != len(docs) {
		seen := map[string]bool{}
		for _, rt := range rs {
			seen[rt.Method+" "+rt.Path] = true
		}
		for key := range docs {
			if !seen[key] {
				return nil, fmt.Errorf("api: docs has an entry for %s, which is not in the route table", key)
			}
		}
	}
	b, err := newSchemaGen().Document(openapi.Info{
		Title:       "Logbook API",
		Version:     version,
		Description: "The activity log and meeting-note pipeline for sales and customer-success teams. Errors are application/problem+json (RFC 9457). Lists are keyset-paginated with an opaque cursor." + policyDoc,
		Problem:     Problem{},
		Bearer:      "An API key: Authorization: Bearer lbk_…",
		Webhooks:    webhookDocs(),
	}, ops)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return b, nil
}

// pathParams lists the names of path's parameters.
func pathParams(path string) []string { return openapi.PathParams(path) }

func operationID(rt route) string {
	parts := strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '-' || r == '.' })
	return strings.ToLower(rt.Method) + "_" + strings.Join(parts, "_")
}

// newSchemaGen returns the schema generator configured for Logbook's types:
// crm.Opt[T] is T or null, dates, decimals and raw JSON have fixed schemas,
// the crm enums list their values, IDs (id, *_id, *_ids but external_id)
// are UUIDs, *Input structs are request bodies, and the names an
// openapi:"schema=…" tag may use are listed in Named.
func newSchemaGen() *openapi.Generator {
	crmPkg := reflect.TypeOf(crm.Opt[int]{}).PkgPath()
	event := map[string]any{"type": "string", "enum": store.WebhookEvents}
	return openapi.New(openapi.Config{
		Types: map[reflect.Type]map[string]any{
			reflect.TypeOf(time.Time{}):     {"type": "string", "format": "date-time"},
			reflect.TypeOf(crm.Date{}):      {"type": "string", "format": "date"},
			reflect.TypeOf(crm.Decimal("")): {"type": "number"},
			// A request's amount: a JSON number, or a string holding one (as
			// some clients send money); crm.Decimal checks its digits.
			reflect.TypeOf(json.Number("")): {"type": []string{"number", "string"}, "pattern": `^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`,
				"description": "a decimal number; a string holding one is accepted too"},
			// Raw JSON is an activity's metadata: free-form by design.
			reflect.TypeOf(json.RawMessage{}): {"type": "object", "additionalProperties": true,
				"description": "Free-form JSON object of the client's own fields, stored and returned as given (at most 64 KiB, no NUL characters; null or absent is {}). Its keys are not checked: a handoff activity Logbook logs itself records from_owner_id and to_owner_id here."},
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
			reflect.TypeOf(crm.Consent("")):               strs(crm.Consents),
			reflect.TypeOf(crm.ConsentDecisionKind("")):   {string(crm.ConsentReleased), string(crm.ConsentDiscarded)},
			reflect.TypeOf(crm.ConnectorKind("")):         strs(crm.ConnectorKinds),
		},
		Named: map[string]any{
			// An activity's notes are held as raw JSON; they are crm.Notes.
			"Notes":        reflect.TypeOf(crm.Notes{}),
			"WebhookEvent": event,
			"ProblemType": map[string]any{"type": "string", "format": "uri-reference", "minLength": 1,
				"description": "a URI naming the kind of problem; about:blank when the status says it all (RFC 9457)"},
			"Text":          map[string]any{"type": "string", "minLength": 1},
			"ActivityType":  reflect.TypeOf(crm.ActivityType("")),
			"WebhookEvents": map[string]any{"type": "array", "items": event},
			// A resync's from and to: a time or a whole day.
			"DateOrTime": map[string]any{"type": "string", "minLength": 1,
				"description": "an RFC 3339 time, or a date YYYY-MM-DD (a day in UTC)"},
		},
		Optional: func(t reflect.Type) (reflect.Type, bool) {
			if t.Kind() == reflect.Struct && t.PkgPath() == crmPkg && strings.HasPrefix(t.Name(), "Opt[") {
				return t.Field(2).Type, true
			}
			return nil, false
		},
		IDFormat:     "uuid",
		NotIDs:       []string{"external_id"},
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
