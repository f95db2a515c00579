package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// Info is what a document says about the API as a whole.
type Info struct {
	Title, Version, Description string
	// Problem is the zero value of the error body type: the component
	// "Problem", served as application/problem+json wherever a response's
	// body is a value of its type.
	Problem any
	// Bearer describes the bearer token of the "bearer" security scheme,
	// which every operation with Secured uses.
	Bearer string
	// Webhooks are the requests the API sends to its clients (the
	// document's top-level webhooks): each one's Path is the webhook's
	// name (an event such as "meeting.processed"), its Method the method
	// the request uses, its Body the payload (described as a response is:
	// Logbook writes it) and its Params the headers the request carries.
	Webhooks []Operation
}

// Operation is one documented operation.
type Operation struct {
	Method, Path string
	// ID is the operationId.
	ID                        string
	Tag, Summary, Description string
	// Secured operations need the bearer token; the others are public.
	Secured bool
	// Params are the query and header parameters (path parameters come
	// from Path).
	Params []Param
	// Body is the zero value of the request body type, or nil; one that
	// implements Content describes itself.
	Body any
	// Required lists the fields the body must carry.
	Required []string
	// Responses holds a body per status code: the zero value of its type, a
	// NoBody, a string (text/plain), the Info's Problem, a Content, or a
	// Response (one of those with headers).
	Responses map[int]any
}

// Param documents one query or header parameter, or a response header.
type Param struct {
	Name, Type, Description string
	// In is "query" (the default) or "header"; response headers leave it
	// empty.
	In string
	// Format is an OpenAPI format such as "date-time" or "uuid".
	Format string
	Enum   []string
	// Required marks a parameter every request must carry, or a header
	// every response of its status carries.
	Required bool
	// AllowEmpty marks a query parameter whose empty value (?name=) is
	// taken as its absence (allowEmptyValue).
	AllowEmpty bool
	// Formats, when set, lets the value take any of these formats (the
	// schema is anyOf one string of each), such as a report's since, which
	// is a date-time or a date; Format is then unused.
	Formats []string
}

// Response is a response that carries headers besides its body, or says
// more of itself than its status's name.
type Response struct {
	// Description replaces the status's name as the response's
	// description when not empty.
	Description string
	// Body is what a value of Operation.Responses otherwise is.
	Body any
	// Headers are the response headers (Param.In is not used).
	Headers []Param
}

// NoBody documents a response without a body (204).
type NoBody struct{}

// Content is a body or response that documents its content types itself
// (a body of several shapes, JSON or server-sent events).
type Content interface {
	ContentTypes(g *Generator) map[string]any
}

// Document renders the OpenAPI 3.1 document of ops, with the schemas of
// their bodies and responses as components. A path parameter ({id}) is a
// string of the Config's IDFormat. An operation listed twice, and a field
// tag the generator cannot apply, are errors.
func (g *Generator) Document(info Info, ops []Operation) ([]byte, error) {
	problem := reflect.TypeOf(info.Problem)
	if problem != nil {
		g.Components["Problem"] = g.Struct(problem, true)
	}
	paths := map[string]map[string]any{}
	for _, o := range ops {
		op, err := g.operation(o, problem, false)
		if err != nil {
			return nil, err
		}
		if paths[o.Path] == nil {
			paths[o.Path] = map[string]any{}
		}
		m := strings.ToLower(o.Method)
		if _, dup := paths[o.Path][m]; dup {
			return nil, fmt.Errorf("openapi: operation %s %s listed twice", o.Method, o.Path)
		}
		paths[o.Path][m] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": info.Title, "version": info.Version, "description": info.Description},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
	}
	if len(info.Webhooks) > 0 {
		hooks := map[string]map[string]any{}
		for _, o := range info.Webhooks {
			op, err := g.operation(o, problem, true)
			if err != nil {
				return nil, err
			}
			delete(op, "security")
			if hooks[o.Path] == nil {
				hooks[o.Path] = map[string]any{}
			}
			m := strings.ToLower(o.Method)
			if _, dup := hooks[o.Path][m]; dup {
				return nil, fmt.Errorf("openapi: webhook %s %s listed twice", o.Method, o.Path)
			}
			hooks[o.Path][m] = op
		}
		doc["webhooks"] = hooks
	}
	if err := g.Err(); err != nil {
		return nil, err
	}
	doc["components"] = map[string]any{
		"schemas": g.Components,
		"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": info.Bearer},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal the document: %w", err)
	}
	return b, nil
}

// operation renders one operation: of a path, or a webhook (sent, so its
// body is described as a response is: what the API writes).
func (g *Generator) operation(o Operation, problem reflect.Type, webhook bool) (map[string]any, error) {
	op := map[string]any{"summary": o.Summary, "operationId": o.ID, "tags": []string{o.Tag}}
	if o.Description != "" {
		op["description"] = o.Description
	}
	op["security"] = []map[string][]string{}
	if o.Secured {
		op["security"] = []map[string][]string{{"bearer": {}}}
	}
	var params []any
	for _, name := range PathParams(o.Path) {
		s := map[string]any{"type": "string"}
		if g.cfg.IDFormat != "" {
			s["format"] = g.cfg.IDFormat
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": s})
	}
	for _, q := range o.Params {
		in := q.In
		if in == "" {
			in = "query"
		}
		if in != "query" && in != "header" {
			return nil, fmt.Errorf("openapi: %s %s: parameter %s is in %q, not query or header", o.Method, o.Path, q.Name, in)
		}
		qp := map[string]any{"name": q.Name, "in": in, "description": q.Description, "schema": paramSchema(q)}
		if q.Required {
			qp["required"] = true
		}
		if q.AllowEmpty {
			if in != "query" {
				return nil, fmt.Errorf("openapi: %s %s: parameter %s allows an empty value but is not in the query", o.Method, o.Path, q.Name)
			}
			qp["allowEmptyValue"] = true
		}
		params = append(params, qp)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if ct, ok := o.Body.(Content); ok {
		op["requestBody"] = map[string]any{"required": true, "content": ct.ContentTypes(g)}
	} else if o.Body != nil {
		var s map[string]any
		if webhook {
			s = g.Schema(reflect.TypeOf(o.Body))
		} else {
			s = g.Request(reflect.TypeOf(o.Body))
		}
		if len(o.Required) > 0 {
			s = map[string]any{"allOf": []any{s, map[string]any{"required": o.Required}}}
		}
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": s}}}
	}
	resps := map[string]any{}
	for code, body := range o.Responses {
		resps[strconv.Itoa(code)] = g.response(code, body, problem)
	}
	op["responses"] = resps
	return op, nil
}

func paramSchema(q Param) map[string]any {
	if len(q.Formats) > 0 {
		alts := make([]any, len(q.Formats))
		for i, f := range q.Formats {
			alts[i] = map[string]any{"type": q.Type, "format": f}
		}
		return map[string]any{"anyOf": alts}
	}
	s := map[string]any{"type": q.Type}
	if q.Format != "" {
		s["format"] = q.Format
	}
	if len(q.Enum) > 0 {
		s["enum"] = q.Enum
	}
	return s
}

func (g *Generator) response(code int, body any, problem reflect.Type) map[string]any {
	if r, ok := body.(Response); ok {
		out := g.response(code, r.Body, problem)
		if r.Description != "" {
			out["description"] = r.Description
		}
		if len(r.Headers) > 0 {
			hs := map[string]any{}
			for _, h := range r.Headers {
				hd := map[string]any{"schema": paramSchema(h)}
				if h.Description != "" {
					hd["description"] = h.Description
				}
				if h.Required {
					hd["required"] = true
				}
				hs[h.Name] = hd
			}
			out["headers"] = hs
		}
		return out
	}
	desc := http.StatusText(code)
	if desc == "" {
		desc = "Status " + strconv.Itoa(code)
	}
	if problem != nil && reflect.TypeOf(body) == problem {
		return map[string]any{"description": desc, "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	}
	switch b := body.(type) {
	case NoBody:
		return map[string]any{"description": desc}
	case string:
		return map[string]any{"description": desc, "content": map[string]any{
			"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
	case Content:
		return map[string]any{"description": desc, "content": b.ContentTypes(g)}
	}
	return map[string]any{"description": desc, "content": map[string]any{
		"application/json": map[string]any{"schema": g.Schema(reflect.TypeOf(body))}}}
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// PathParams lists the names of path's parameters ({id} is "id"), in order.
func PathParams(path string) []string {
	var out []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}
