package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type color string

type opt[T any] struct {
	Set bool
	V   T
}

type page[T any] struct {
	Items []T `json:"items"`
}

type raw []byte

// Thing is a response type.
type Thing struct {
	ID       string          `json:"id"`
	OwnerID  *string         `json:"owner_id"`
	Color    color           `json:"color"`
	At       time.Time       `json:"at"`
	Note     string          `json:"note,omitempty"`
	Skip     string          `json:"-"`
	Tint     opt[color]      `json:"tint"`
	PeerIDs  []string        `json:"peer_ids"`
	External *string         `json:"external_id"`
	Count    int             `json:"count,omitzero"`
	Labels   map[string]int  `json:"labels"`
	Extra    raw             `json:"extra" openapi:"schema=Part"`
	Parts    []Part          `json:"parts"`
	Named    raw             `json:"named,omitempty" openapi:"schema=Fixed"`
	Maybe    *raw            `json:"maybe" openapi:"schema=Part"`
	Day      opt[string]     `json:"day" openapi:"format=date"`
	Days     []string        `json:"days" openapi:"format=date"`
	Counts   map[string]Part `json:"counts"`
	hidden   int
}

// Part is a struct a response and a request both hold.
type Part struct {
	Name string `json:"name"`
	Kind color  `json:"kind_id"` // an enum named like an ID is not one
}

type ThingInput struct {
	Name  string      `json:"name"`
	Since opt[string] `json:"since" openapi:"format=date-time"`
	Parts []Part      `json:"parts"`
}

// Base is embedded in Wrapper.
type Base struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type Wrapper struct {
	Base
	*Extra
	Name  string `json:"name,omitempty"` // wins over Base.Name
	Inner Base   `json:"inner"`          // a named field, not promoted
}

type Extra struct {
	Tag string `json:"tag"`
}

func testGen() *Generator {
	return New(Config{
		Types: map[reflect.Type]map[string]any{reflect.TypeOf(time.Time{}): {"type": "string", "format": "date-time"}},
		Enums: map[reflect.Type][]string{reflect.TypeOf(color("")): {"red", "blue"}},
		Named: map[string]any{
			"Part":  reflect.TypeOf(Part{}),
			"Fixed": map[string]any{"type": "object", "additionalProperties": true},
		},
		Optional: func(t reflect.Type) (reflect.Type, bool) {
			if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "opt[") {
				return t.Field(1).Type, true
			}
			return nil, false
		},
		IDFormat:     "uuid",
		NotIDs:       []string{"external_id"},
		InputSuffix:  "Input",
		GenericNames: map[string]string{"page": "List"},
	})
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchema(t *testing.T) {
	t.Parallel()
	g := testGen()
	if got := asJSON(t, g.Schema(reflect.TypeOf(page[Thing]{}))); got != `{"$ref":"#/components/schemas/ThingList"}` {
		t.Fatalf("page[Thing]: %s", got)
	}
	want := map[string]string{
		"Thing": `{"additionalProperties":false,"properties":{` +
			`"at":{"format":"date-time","type":"string"},` +
			`"color":{"enum":["red","blue"],"type":"string"},` +
			`"count":{"type":"integer"},` +
			`"counts":{"additionalProperties":{"$ref":"#/components/schemas/Part"},"type":"object"},` +
			`"day":{"format":"date","type":["string","null"]},` +
			`"days":{"items":{"format":"date","type":"string"},"type":"array"},` +
			`"external_id":{"type":["string","null"]},` +
			`"extra":{"$ref":"#/components/schemas/Part"},` +
			`"id":{"format":"uuid","type":"string"},` +
			`"labels":{"additionalProperties":{"type":"integer"},"type":"object"},` +
			`"maybe":{"anyOf":[{"$ref":"#/components/schemas/Part"},{"type":"null"}]},` +
			`"named":{"additionalProperties":true,"type":"object"},` +
			`"note":{"type":"string"},` +
			`"owner_id":{"format":"uuid","type":["string","null"]},` +
			`"parts":{"items":{"$ref":"#/components/schemas/Part"},"type":"array"},` +
			`"peer_ids":{"items":{"format":"uuid","type":"string"},"type":"array"},` +
			`"tint":{"enum":["red","blue",null],"type":["string","null"]}},` +
			`"required":["at","color","counts","day","days","external_id","extra","id","labels","maybe","owner_id","parts","peer_ids","tint"],"type":"object"}`,
		"ThingList": `{"additionalProperties":false,"properties":{"items":{"items":{"$ref":"#/components/schemas/Thing"},"type":"array"}},"required":["items"],"type":"object"}`,
		"Part": `{"additionalProperties":false,"properties":{"kind_id":{"enum":["red","blue"],"type":"string"},"name":{"type":"string"}},` +
			`"required":["kind_id","name"],"type":"object"}`,
	}
	for name, w := range want {
		if got := asJSON(t, g.Components[name]); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRequest checks that a request body and the structs it holds require
// nothing, and that a struct a response holds too gets a request component
// of its own.
func TestRequest(t *testing.T) {
	t.Parallel()
	g := testGen()
	g.Schema(reflect.TypeOf(Part{}))
	if got := asJSON(t, g.Request(reflect.TypeOf(ThingInput{}))); got != `{"$ref":"#/components/schemas/ThingInput"}` {
		t.Fatalf("ThingInput: %s", got)
	}
	want := map[string]string{
		"ThingInput": `{"additionalProperties":false,"properties":{"name":{"type":"string"},` +
			`"parts":{"items":{"$ref":"#/components/schemas/PartInput"},"type":"array"},` +
			`"since":{"format":"date-time","type":["string","null"]}},"type":"object"}`,
		"PartInput": `{"additionalProperties":false,"properties":{"kind_id":{"enum":["red","blue"],"type":"string"},"name":{"type":"string"}},"type":"object"}`,
		"Part": `{"additionalProperties":false,"properties":{"kind_id":{"enum":["red","blue"],"type":"string"},"name":{"type":"string"}},` +
			`"required":["kind_id","name"],"type":"object"}`,
	}
	for name, w := range want {
		if got := asJSON(t, g.Components[name]); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	// Outside a request body, a response struct is a response again.
	g.Schema(reflect.TypeOf(Thing{}))
	if got := asJSON(t, g.Components["Thing"]); !strings.Contains(got, `"required":[`) {
		t.Errorf("Thing after a request: %s", got)
	}
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	g := testGen()
	g.Schema(reflect.TypeOf(Wrapper{}))
	want := `{"additionalProperties":false,"properties":{"id":{"format":"uuid","type":"string"},` +
		`"inner":{"$ref":"#/components/schemas/Base"},"name":{"type":"string"},"tag":{"type":"string"}},` +
		`"required":["id","inner","tag"],"type":"object"}`
	if got := asJSON(t, g.Components["Wrapper"]); got != want {
		t.Errorf("Wrapper:\n got %s\nwant %s", got, want)
	}
	// What encoding/json writes is what the schema says.
	b, err := json.Marshal(Wrapper{Base: Base{ID: "i", Name: "base"}, Extra: &Extra{Tag: "t"}, Name: "outer"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	props := g.Components["Wrapper"].(map[string]any)["properties"].(map[string]any)
	for k := range m {
		if props[k] == nil {
			t.Errorf("encoding/json writes %q, which the schema lacks", k)
		}
	}
	if len(m) != len(props) {
		t.Errorf("encoding/json writes %v; the schema has %d properties", m, len(props))
	}
}

func TestTagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"UnknownOption", struct {
			A string `json:"a" openapi:"min=1"`
		}{}, `unknown openapi tag option "min=1"`},
		{"FormatOnANumber", struct {
			A int `json:"a" openapi:"format=date"`
		}{}, `format "date" on a field that holds no plain string`},
		{"FormatOnAnEnum", struct {
			A color `json:"a" openapi:"format=date"`
		}{}, `format "date" on a field that holds no plain string`},
		{"UnknownName", struct {
			A raw `json:"a" openapi:"schema=Nope"`
		}{}, `Config.Named has no schema "Nope"`},
		{"AChannel", struct {
			A chan int `json:"a"`
		}{}, `has no schema`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := testGen()
			_, err := g.Document(Info{Title: "T", Version: "1"}, []Operation{
				{Method: "GET", Path: "/x", ID: "x", Responses: map[int]any{200: tc.v}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestDocument(t *testing.T) {
	t.Parallel()
	problem := struct {
		Detail string `json:"detail,omitempty"`
		Status int    `json:"status"`
	}{}
	ops := []Operation{
		{Method: "GET", Path: "/things/{id}", ID: "get_thing", Tag: "things", Summary: "Get a Thing.", Secured: true,
			Params: []Param{{Name: "q", Type: "string", Required: true}, {Name: "X-Trace", In: "header", Type: "string", Format: "uuid"}, {Name: "p", Type: "string", AllowEmpty: true}},
			Responses: map[int]any{200: Thing{}, 404: problem,
				401: Response{Body: problem, Headers: []Param{{Name: "WWW-Authenticate", Type: "string", Required: true}}}}},
		{Method: "DELETE", Path: "/things/{id}", ID: "delete_thing", Responses: map[int]any{204: NoBody{}}},
		{Method: "POST", Path: "/things", ID: "post_thing", Body: ThingInput{}, Required: []string{"name"},
			Responses: map[int]any{201: Thing{}}},
	}
	hooks := []Operation{{Method: "POST", Path: "thing.made", ID: "thing_made", Summary: "A thing was made.",
		Params: []Param{{Name: "Sig", In: "header", Type: "string", Required: true}}, Body: Thing{}, Responses: map[int]any{200: Response{Body: NoBody{}, Description: "Any 2xx."}}}}
	b, err := testGen().Document(Info{Title: "T", Version: "1", Problem: problem, Webhooks: hooks}, ops)
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		Security    []map[string][]string     `json:"security"`
		Parameters  []map[string]any          `json:"parameters"`
		RequestBody map[string]any            `json:"requestBody"`
		Responses   map[string]map[string]any `json:"responses"`
	}
	var doc struct {
		Paths      map[string]map[string]op `json:"paths"`
		Webhooks   map[string]map[string]op `json:"webhooks"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	get := doc.Paths["/things/{id}"]["get"]
	if len(get.Security) != 1 || len(get.Parameters) != 4 || get.Parameters[3]["allowEmptyValue"] != true || get.Parameters[0]["in"] != "path" || get.Parameters[1]["required"] != true {
		t.Errorf("get: %+v", get)
	}
	if got := asJSON(t, get.Parameters[2]); got != `{"description":"","in":"header","name":"X-Trace","schema":{"format":"uuid","type":"string"}}` {
		t.Errorf("header parameter: %s", got)
	}
	if _, ok := get.Responses["404"]["content"].(map[string]any)["application/problem+json"]; !ok {
		t.Errorf("404 is not a problem: %v", get.Responses["404"])
	}
	if got := asJSON(t, get.Responses["401"]["headers"]); got != `{"WWW-Authenticate":{"required":true,"schema":{"type":"string"}}}` {
		t.Errorf("401 headers: %s", got)
	}
	if _, ok := get.Responses["401"]["content"].(map[string]any)["application/problem+json"]; !ok {
		t.Errorf("401 is not a problem: %v", get.Responses["401"])
	}
	if got := asJSON(t, doc.Components.Schemas["Problem"]); got != `{"additionalProperties":false,"properties":{"detail":{"type":"string"},"status":{"type":"integer"}},"required":["status"],"type":"object"}` {
		t.Errorf("Problem: %s", got)
	}
	del := doc.Paths["/things/{id}"]["delete"]
	if len(del.Security) != 0 || del.Responses["204"]["content"] != nil {
		t.Errorf("delete: %+v", del)
	}
	post := asJSON(t, doc.Paths["/things"]["post"].RequestBody)
	if post != `{"content":{"application/json":{"schema":{"allOf":[{"$ref":"#/components/schemas/ThingInput"},{"required":["name"]}]}}},"required":true}` {
		t.Errorf("post body: %s", post)
	}
	hook, ok := doc.Webhooks["thing.made"]["post"]
	if !ok || hook.Security != nil || len(hook.Parameters) != 1 || hook.Parameters[0]["in"] != "header" ||
		!strings.Contains(asJSON(t, hook.RequestBody), `"$ref":"#/components/schemas/Thing"`) ||
		asJSON(t, hook.Responses["200"]) != `{"description":"Any 2xx."}` {
		t.Errorf("webhook: %+v", doc.Webhooks)
	}

	if _, err := testGen().Document(Info{}, append(ops, ops[1])); err == nil {
		t.Error("an operation listed twice is not an error")
	}
	if _, err := testGen().Document(Info{}, []Operation{{Method: "GET", Path: "/x", Params: []Param{{Name: "c", In: "cookie", Type: "string"}}}}); err == nil {
		t.Error("a cookie parameter is not an error")
	}
	if _, err := testGen().Document(Info{}, []Operation{{Method: "GET", Path: "/x", Params: []Param{{Name: "h", In: "header", Type: "string", AllowEmpty: true}}}}); err == nil {
		t.Error("an empty header allowed is not an error")
	}
}
