package crm

import (
	"encoding/json"
	"slices"
	"time"
)

// ConnectorKind names what a connector captures from.
type ConnectorKind string

// Connector kinds. imap, ics and caldav are pulled on a schedule; recall
// and zoom are pinged by the vendor's webhook and then pull what the ping
// announced.
const (
	ConnectorIMAP   ConnectorKind = "imap"
	ConnectorICS    ConnectorKind = "ics"
	ConnectorCalDAV ConnectorKind = "caldav"
	ConnectorRecall ConnectorKind = "recall"
	ConnectorZoom   ConnectorKind = "zoom"
)

// ConnectorKinds lists every valid ConnectorKind.
var ConnectorKinds = []ConnectorKind{ConnectorIMAP, ConnectorICS, ConnectorCalDAV, ConnectorRecall, ConnectorZoom}

// Valid reports whether k is a known kind.
func (k ConnectorKind) Valid() bool { return slices.Contains(ConnectorKinds, k) }

// Pulled reports whether connectors of kind k sync on a schedule (rather
// than only when their vendor pings them).
func (k ConnectorKind) Pulled() bool {
	return k == ConnectorIMAP || k == ConnectorICS || k == ConnectorCalDAV
}

// ConnectorUnhealthyAfter is how long a connector may keep failing before
// it counts as unhealthy (on /readyz's details and in the metrics).
const ConnectorUnhealthyAfter = time.Hour

// Connector is a configured source of activities, as the API shows it. Its
// secrets are never part of it: SecretsSet says only which are stored.
type Connector struct {
	ID     string        `json:"id"`
	Kind   ConnectorKind `json:"kind"`
	Name   string        `json:"name"`
	UserID *string       `json:"user_id"`
	// Config is the kind's non-secret settings (host, port, URL, logging
	// rules…), as stored after validation.
	Config json.RawMessage `json:"config"`
	// SecretsSet names the secrets stored for it (say ["password"]).
	SecretsSet      []string        `json:"secrets_set"`
	Enabled         bool            `json:"enabled"`
	IntervalSeconds int             `json:"interval_seconds"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	Health          ConnectorHealth `json:"health"`
}

// ConnectorHealth is how a connector's syncs have gone.
type ConnectorHealth struct {
	// Status is "ok" (last run succeeded), "failing" (failing for less
	// than ConnectorUnhealthyAfter), "unhealthy" (failing for longer),
	// "pending" (never run) or "disabled".
	Status        string     `json:"status"`
	Healthy       bool       `json:"healthy"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastError     *string    `json:"last_error"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	FailingSince  *time.Time `json:"failing_since"`
	ItemsCaptured int64      `json:"items_captured"`
	// NewestItemAt is the time of the newest item captured (an email's
	// date, a meeting's start).
	NewestItemAt *time.Time `json:"newest_item_at"`
	// LagSeconds is how long ago the last successful sync was (null before
	// the first): how far behind its source Logbook may be.
	LagSeconds *int64 `json:"lag_seconds"`
	// NextRunAt is when a pulled connector syncs next.
	NextRunAt *time.Time `json:"next_run_at"`
}

// ComputeHealth fills Status, Healthy and LagSeconds from the recorded
// times, as of now.
func (h *ConnectorHealth) ComputeHealth(enabled bool, now time.Time) {
	h.LagSeconds = nil
	if h.LastSuccessAt != nil {
		lag := int64(now.Sub(*h.LastSuccessAt) / time.Second)
		h.LagSeconds = &lag
	}
	switch {
	case !enabled:
		h.Status, h.Healthy = "disabled", true
	case h.FailingSince != nil && now.Sub(*h.FailingSince) > ConnectorUnhealthyAfter:
		h.Status, h.Healthy = "unhealthy", false
	case h.FailingSince != nil:
		h.Status, h.Healthy = "failing", true
	case h.LastSuccessAt == nil:
		h.Status, h.Healthy = "pending", true
	default:
		h.Status, h.Healthy = "ok", true
	}
}

// ConnectorInput creates or changes a connector. Config and Secrets are
// checked by the kind (capture's registry); Secrets are write-only.
type ConnectorInput struct {
	Kind            Opt[ConnectorKind]   `json:"kind"`
	Name            Opt[string]          `json:"name"`
	UserID          Opt[string]          `json:"user_id"`
	Config          Opt[json.RawMessage] `json:"config"`
	Secrets         Opt[json.RawMessage] `json:"secrets"`
	Enabled         Opt[bool]            `json:"enabled"`
	IntervalSeconds Opt[int]             `json:"interval_seconds"`
}

// Connector interval bounds, in seconds.
const (
	MinConnectorInterval     = 30
	MaxConnectorInterval     = 86400
	DefaultConnectorInterval = 300
	MaxConnectorName         = 200
)

// Validate checks the generic fields; create requires kind and name.
func (in *ConnectorInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "kind", in.Kind.Set, in.Kind.Null)
	requireOrClear(&p, create, "name", in.Name.Set, in.Name.Null)
	if !create && in.Kind.Set {
		p.Add("kind", "cannot be changed; create another connector")
	}
	if v := in.Kind.Ptr(); v != nil && !v.Valid() {
		p.Add("kind", "must be one of %s", join(ConnectorKinds))
	}
	if v := in.Name.Ptr(); v != nil {
		CheckText(&p, "name", *v, MaxConnectorName, true)
	}
	if v := in.UserID.Ptr(); v != nil {
		CheckID(&p, "user_id", *v)
	}
	if in.Config.Set && in.Config.Null {
		p.Add("config", "must be an object")
	}
	if in.Enabled.Set && in.Enabled.Null {
		p.Add("enabled", "must be true or false")
	}
	if in.IntervalSeconds.Set {
		if in.IntervalSeconds.Null {
			p.Add("interval_seconds", "must be a number")
		} else if v := in.IntervalSeconds.V; v < MinConnectorInterval || v > MaxConnectorInterval {
			p.Add("interval_seconds", "must be between %d and %d", MinConnectorInterval, MaxConnectorInterval)
		}
	}
	return p.Err()
}

// Consent is a meeting participant's recording consent.
type Consent string

// Consent values.
const (
	ConsentGiven    Consent = "given"
	ConsentDeclined Consent = "declined"
	ConsentUnknown  Consent = "unknown"
)

// Consents lists every valid Consent.
var Consents = []Consent{ConsentGiven, ConsentDeclined, ConsentUnknown}

// Valid reports whether c is a known consent value.
func (c Consent) Valid() bool { return slices.Contains(Consents, c) }
