package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// The API tests check every exchange against the document the handler
// serves, with kin-openapi's openapi3filter, a maintained OpenAPI 3.1
// validator. For a 3.1 document it validates with JSON Schema 2020-12
// (santhosh-tekuri/jsonschema) when a schema uses 2020-12 keywords, and with
// its own validator otherwise (every schema here: $refs and 3.0 keywords
// only), which reads 3.1's type [X, "null"] as nullable.
// TestCheckExchangeCatchesDrift shows that null is taken where the
// document allows it and refused where it does not, with formats,
// additionalProperties false and minLength enforced. What it checks:
//
//   - the response: its status is listed for the operation, its
//     Content-Type is one the operation lists for that status, its body
//     fits the schema (required fields, no undocumented field, types,
//     enums, formats: uuid as crm.ValidID has it, date-time, date), and
//     the headers documented as required are there;
//   - errors are application/problem+json;
//   - server-sent events (text/event-stream): openapi3filter checks the
//     stream is a string; checkEvents then checks each event is named in
//     the media type's x-events and its data fits that event's schema
//     (OpenAPI 3.1 has no schema for a stream's items; see askResponse);
//   - the request, when the API accepted it (2xx): path, query and header
//     parameters, the bearer token where the operation is secured, and the
//     body. A 4xx is not checked against the request schema, since tests
//     send bad requests on purpose. A request whose body the test read
//     before calling checkDocumented (GetBody unset, Body consumed) is
//     checked without its body: serve keeps the body, so only helpers that
//     serve by hand lose it. The body is checked as encoding/json reads it:
//     it matches an object's keys to fields case-insensitively, so the keys
//     are lower-cased (the document's property names are all lower case:
//     TestOpenAPIDocumentIsTyped checks it); it reads null into a field
//     that cannot hold null as nothing at all, so a key whose value is null
//     is checked as absent (where the document lets a field be null, the
//     API reads null as "clear": absent and null are both allowed there);
//     and a body sent without a Content-Type is checked as the JSON the API
//     reads it as.
//
// A path the document does not have must answer 404, a method it does not
// list 405.

// uuidRE is crm.ValidID's pattern: any 8-4-4-4-12 hex string is an ID.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// schemaOptions are the schema options of every check: uuid is a format
// kin-openapi does not define by itself.
var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
		if !uuidRE.MatchString(s) {
			return fmt.Errorf("not a UUID: %q", s)
		}
		return nil
	})),
}

func init() {
	// A text/event-stream body is a string to openapi3filter; checkEvents
	// reads its events.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
}

// loadedSpec is a served document loaded once per distinct document: the
// parallel tests that start together wait for one load rather than each
// loading it (a second of CPU under the race detector).
type loadedSpec struct {
	once  sync.Once
	doc   *openapi3.T
	paths []string // the document's path templates
	err   error
}

// specKey names a served document by where its bytes are: a handler keeps
// its document for life, and the cache keeps the bytes alive, so the
// address is never another document's. Looking a document up by its
// content would copy or hash 200 KB per request; by address, each
// handler's document is looked up by content once.
type specKey struct {
	first *byte
	n     int
}

var (
	specsByAddress sync.Map // specKey → *loadedSpec
	specsByContent sync.Map // string(document) → *loadedSpec
)

// jsonSchema2020Keywords are the keywords for which kin-openapi keeps a
// 3.1 document's schema on its JSON Schema 2020-12 validator.
var jsonSchema2020Keywords = []string{"const", "prefixItems", "contains", "patternProperties", "dependentSchemas",
	"propertyNames", "unevaluatedItems", "unevaluatedProperties", "if", "then", "else", "dependentRequired", "$defs",
	"contentSchema"}

func loadSpec(spec []byte) *loadedSpec {
	key := specKey{n: len(spec)}
	if len(spec) > 0 {
		key.first = &spec[0]
	}
	if v, ok := specsByAddress.Load(key); ok {
		return v.(*loadedSpec)
	}
	v, _ := specsByContent.LoadOrStore(string(spec), &loadedSpec{})
	ls := v.(*loadedSpec)
	ls.once.Do(func() { ls.load(spec) })
	v, _ = specsByAddress.LoadOrStore(key, ls)
	return v.(*loadedSpec)
}

// load loads and validates spec (see loadSpec).
func (ls *loadedSpec) load(spec []byte) {
	ls.doc, ls.err = openapi3.NewLoader().LoadFromData(spec)
	if ls.err == nil {
		ls.err = ls.doc.Validate(context.Background())
	}
	if ls.err != nil {
		return
	}
	ls.paths = ls.doc.Paths.InMatchingOrder()
	// For a 3.1 document, kin-openapi compiles a JSON Schema 2020-12
	// validator for every value it checks, then, for a schema with
	// component $refs and no 2020-12 keyword (all of ours), drops it and
	// checks with its own validator. Checking with that one directly gives
	// the same verdicts at a third of the time and a fifteenth of the
	// allocations, which the race detector makes count: the loaded
	// (already validated) document is marked 3.0 for checking, unless it
	// holds a 2020-12 keyword somewhere.
	var raw map[string]any
	if err := json.Unmarshal(spec, &raw); err != nil {
		ls.err = err
		return
	}
	if !hasAnyKey(raw, jsonSchema2020Keywords) {
		ls.doc.OpenAPI = "3.0.3"
	}
}

// hasAnyKey reports whether any object within v has one of keys, outside
// the document's examples and extensions (where a key is data).
func hasAnyKey(v any, keys []string) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if slices.Contains(keys, k) {
				return true
			}
			if strings.HasPrefix(k, "x-") && k != "x-events" || k == "example" || k == "examples" {
				continue
			}
			if hasAnyKey(e, keys) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasAnyKey(e, keys) {
				return true
			}
		}
	}
	return false
}

// checkExchange checks one request and the response it got against spec,
// the OpenAPI document the handler serves (see the comment above).
func checkExchange(spec []byte, req *http.Request, res response) error {
	ls := loadSpec(spec)
	if ls.err != nil {
		return fmt.Errorf("load the served document: %w", ls.err)
	}
	if res.Status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		return fmt.Errorf("an error answered %s, not application/problem+json", res.Header.Get("Content-Type"))
	}
	tmpl, params, ok := matchPath(ls.paths, req.URL.Path)
	if !ok {
		if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s is not in the document, yet answered %d", req.URL.Path, res.Status)
		}
		return nil
	}
	item := ls.doc.Paths.Value(tmpl)
	op := item.GetOperation(req.Method)
	if op == nil {
		if res.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("the document has no %s %s, yet it answered %d", req.Method, tmpl, res.Status)
		}
		return nil
	}
	route := &routers.Route{Spec: ls.doc, Path: tmpl, PathItem: item, Method: req.Method, Operation: op}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		AuthenticationFunc:      bearerPresent,
		SchemaValidationOptions: schemaOptions,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.Status, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(res.Body)), Options: opts,
	})
	if err != nil {
		return fmt.Errorf("the response does not match the document: %w", err)
	}
	if ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";"); ct == "text/event-stream" {
		mt := op.Responses.Status(res.Status).Value.Content.Get(ct)
		if err := checkEvents(ls.doc, mt, res.Body); err != nil {
			return fmt.Errorf("the event stream does not match the document: %w", err)
		}
	}
	if res.Status < 200 || res.Status > 299 {
		return nil
	}
	rin := *in
	ropts := *opts
	rin.Options = &ropts
	r := req.Clone(context.Background())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return fmt.Errorf("read the request body again: %w", err)
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			return fmt.Errorf("read the request body again: %w", err)
		}
		if req.Header.Get("Content-Type") == "" && len(raw) > 0 {
			// The API reads every body as JSON, whatever its Content-Type
			// says (or when it says nothing): check it as what was read.
			r.Header.Set("Content-Type", "application/json")
		}
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); ct == "application/json" {
			raw = asDecoded(raw)
		}
		// openapi3filter reads the body more than once, putting it back
		// through GetBody.
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
		r.Body, _ = r.GetBody()
		r.ContentLength = int64(len(raw))
	} else {
		ropts.ExcludeRequestBody = true
	}
	rin.Request = r
	if err := openapi3filter.ValidateRequest(context.Background(), &rin); err != nil {
		return fmt.Errorf("the API accepted (%d) a request the document does not allow: %w", res.Status, err)
	}
	return nil
}

// asDecoded returns the JSON document raw as encoding/json reads it into the
// API's types: every object key lower-cased and every member whose value is
// null left out (raw itself when it is not JSON: the check then says so).
func asDecoded(raw []byte) []byte {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var lower func(v any) any
	lower = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				if e != nil {
					out[strings.ToLower(k)] = lower(e)
				}
			}
			return out
		case []any:
			for i, e := range x {
				x[i] = lower(e)
			}
		}
		return v
	}
	b, err := json.Marshal(lower(v))
	if err != nil {
		return raw
	}
	return b
}

// bearerPresent is the bearer scheme as the document states it: the
// request carries Authorization: Bearer <something>. Whether the key is
// good is the API's business.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, key, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return in.NewError(errors.New("no Authorization: Bearer <key>"))
	}
	return nil
}

// matchPath finds the template of paths (in kin-openapi's matching order:
// fixed segments before parameters) that p fits, with the parameters'
// values.
func matchPath(paths []string, p string) (string, map[string]string, bool) {
	xs := strings.Split(p, "/")
next:
	for _, tmpl := range paths {
		ps := strings.Split(tmpl, "/")
		if len(ps) != len(xs) {
			continue
		}
		params := map[string]string{}
		for i := range ps {
			if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") {
				if xs[i] == "" {
					continue next
				}
				params[ps[i][1:len(ps[i])-1]] = xs[i]
				continue
			}
			if ps[i] != xs[i] {
				continue next
			}
		}
		return tmpl, params, true
	}
	return "", nil, false
}

// checkEvents checks a server-sent event stream against its media type's
// x-events: each event (event: name, data: one JSON value) must be named
// there and its data must fit the schema given for the name, a $ref to a
// component schema.
func checkEvents(doc *openapi3.T, mt *openapi3.MediaType, body []byte) error {
	raw, ok := mt.Extensions["x-events"].(map[string]any)
	if !ok {
		return errors.New("the text/event-stream media type has no x-events")
	}
	schemas := map[string]*openapi3.Schema{}
	for name, v := range raw {
		ref, _ := v.(map[string]any)["$ref"].(string)
		comp, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || doc.Components.Schemas[comp] == nil {
			return fmt.Errorf("x-events.%s is not a $ref to a component schema (checkEvents reads only those)", name)
		}
		schemas[name] = doc.Components.Schemas[comp].Value
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var name string
	var data []string
	n := 0
	flush := func() error {
		if name == "" && data == nil {
			return nil
		}
		n++
		s, ok := schemas[name]
		if !ok {
			return fmt.Errorf("event %d is %q, which x-events does not list", n, name)
		}
		var v any
		if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &v); err != nil {
			return fmt.Errorf("event %d (%s): data is not JSON: %w", n, name, err)
		}
		opts := append([]openapi3.SchemaValidationOption{openapi3.VisitAsResponse(), openapi3.MultiErrors(),
			openapi3.EnableJSONSchema2020()}, schemaOptions...)
		if err := s.VisitJSON(v, opts...); err != nil {
			return fmt.Errorf("event %d (%s): %w", n, name, err)
		}
		name, data = "", nil
		return nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if err := flush(); err != nil {
				return err
			}
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		case strings.HasPrefix(line, ":"):
			// a comment
		default:
			return fmt.Errorf("line %q is not a server-sent event field", line)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if name != "" || data != nil {
		return errors.New("the stream ends inside an event (no blank line after it)")
	}
	if n == 0 {
		return errors.New("the stream holds no event")
	}
	return nil
}
