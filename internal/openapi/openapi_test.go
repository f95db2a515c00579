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

// Thing is a response type.
type Thing struct {
	ID      string     `json:"id"`
	OwnerID *string    `json:"owner_id"`
	Color   color      `json:"color"`
	At      time.Time  `json:"at"`
	Note    string     `json:"note,omitempty"`
	Skip    string     `json:"-"`
	Tint    opt[color] `json:"tint"`
	hidden  int
}

type ThingInput struct {
	Name string `json:"name"`
}

func testGen() *Generator {
	return New(Config{
		Types: map[reflect.Type]map[string]any{reflect.TypeOf(time.Time{}): {"type": "string", "format": "date-time"}},
		Enums: map[reflect.Type][]string{reflect.TypeOf(color("")): {"red", "blue"}},
		Optional: func(t reflect.Type) (reflect.Type, bool) {
			if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "opt[") {
				return t.Field(1).Type, true
			}
			return nil, false
		},
		IDFormat:     "uuid",
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
		"Thing": `{"properties":{"at":{"format":"date-time","type":"string"},"color":{"enum":["red","blue"],"type":"string"},` +
			`"id":{"format":"uuid","type":"string"},"note":{"type":"string"},"owner_id":{"type":["string","null"]},` +
			`"tint":{"enum":["red","blue",null],"type":["string","null"]}},"required":["at","color","id","owner_id","tint"],"type":"object"}`,
		"ThingList": `{"properties":{"items":{"items":{"$ref":"#/components/schemas/Thing"},"type":"array"}},"required":["items"],"type":"object"}`,
	}
	for name, w := range want {
		if got := asJSON(t, g.Components[name]); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	g.Schema(reflect.TypeOf(ThingInput{}))
	if got := asJSON(t, g.Components["ThingInput"]); got != `{"additionalProperties":false,"properties":{"name":{"type":"string"}},"type":"object"}` {
		t.Errorf("ThingInput: %s", got)
	}
}

func TestDocument(t *testing.T) {
	t.Parallel()
	ops := []Operation{
		{Method: "GET", Path: "/things/{id}", ID: "get_thing", Tag: "things", Summary: "Get a Thing.", Secured: true,
			Query: []Param{{Name: "q", Type: "string", Required: true}}, Responses: map[int]any{200: Thing{}, 404: struct{ Detail string }{}}},
		{Method: "DELETE", Path: "/things/{id}", ID: "delete_thing", Responses: map[int]any{204: NoBody{}}},
	}
	b, err := testGen().Document(Info{Title: "T", Version: "1", Problem: struct{ Detail string }{}}, ops)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security   []map[string][]string     `json:"security"`
			Parameters []map[string]any          `json:"parameters"`
			Responses  map[string]map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	get := doc.Paths["/things/{id}"]["get"]
	if len(get.Security) != 1 || len(get.Parameters) != 2 || get.Parameters[0]["in"] != "path" || get.Parameters[1]["required"] != true {
		t.Errorf("get: %+v", get)
	}
	if _, ok := get.Responses["404"]["content"].(map[string]any)["application/problem+json"]; !ok {
		t.Errorf("404 is not a problem: %v", get.Responses["404"])
	}
	del := doc.Paths["/things/{id}"]["delete"]
	if len(del.Security) != 0 || del.Responses["204"]["content"] != nil {
		t.Errorf("delete: %+v", del)
	}

	if _, err := testGen().Document(Info{}, append(ops, ops[1])); err == nil {
		t.Error("an operation listed twice is not an error")
	}
}
