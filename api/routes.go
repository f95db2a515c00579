package api

import (
	"net/http"

	"logbook/internal/crm"
)

// route is one entry of the route table: what is served, who may call it,
// and what the OpenAPI document says about it.
type route struct {
	Method string
	Path   string
	// Scope is what the key must hold; "" makes the route public.
	Scope  crm.Scope
	Handle handlerFunc

	// Object names what the {id} in Path refers to ("account", "user"…), so
	// the tenancy test can plant one in another org. Empty when Path has no
	// object ID.
	Object string

	// Documentation for /openapi.json.
	Summary  string
	Tag      string
	Query    []param
	Body     any      // zero value of the request body type, or nil
	Required []string // fields a create request must carry
	Resp     map[int]any
}

// param documents one query parameter.
type param struct {
	Name, Type, Description string
	// Format is an OpenAPI format such as "date-time" or "uuid".
	Format string
	Enum   []string
	// Required marks a parameter every request must carry.
	Required bool
}

// noBody documents a response without a body (204).
type noBody struct{}

// routes is the route table: every route Logbook serves, in one place.
func routes() []route {
	var rs []route
	rs = append(rs, opsRoutes()...)
	rs = append(rs, keyRoutes()...)
	rs = append(rs, settingsRoutes()...)
	rs = append(rs, ingestSecretRoutes()...)
	rs = append(rs, userRoutes()...)
	rs = append(rs, accountRoutes()...)
	rs = append(rs, briefRoutes()...)
	rs = append(rs, contactRoutes()...)
	rs = append(rs, dealRoutes()...)
	rs = append(rs, activityRoutes()...)
	rs = append(rs, transcriptRoutes()...)
	rs = append(rs, askRoutes()...)
	rs = append(rs, searchRoutes()...)
	rs = append(rs, webhookRoutes()...)
	return rs
}

// Common parameter sets.
var pageParams = []param{
	{Name: "limit", Type: "integer", Description: "page size, 1 to 200 (default 50)"},
	{Name: "cursor", Type: "string", Description: "next_cursor of the previous page"},
}

// errResps are the problem responses every authenticated route may give.
func errResps(m map[int]any, codes ...int) map[int]any {
	for _, c := range codes {
		m[c] = Problem{}
	}
	m[http.StatusUnauthorized] = Problem{}
	m[http.StatusForbidden] = Problem{}
	return m
}
