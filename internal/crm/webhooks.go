package crm

import (
	"slices"
	"time"
)

// Webhook is an endpoint that receives the org's events as signed POSTs
// (SignatureHeader, keyed by the endpoint's secret). The secret is stored
// but never shown again: Secret is filled only in the response that created
// the webhook, and only when Logbook generated it.
type Webhook struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookInput creates a webhook. URL must be an absolute http or https URL
// with a host and no user info; Events must name at least one event an
// endpoint can subscribe to (duplicates are dropped). Secret signs the
// deliveries and must be at least MinWebhookSecret characters; when it is
// absent (or null) Logbook generates one and shows it once.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret *string  `json:"secret"`
}

// Limits of a webhook's fields.
const (
	// MaxWebhookURL is the longest URL a webhook may have, in bytes.
	MaxWebhookURL = 2000
	// MinWebhookSecret is the shortest secret a client may choose, in
	// characters: shorter ones are guessable.
	MinWebhookSecret = 16
	// MaxWebhookSecret is the longest secret a client may choose, in
	// characters.
	MaxWebhookSecret = 256
)

// WebhookDeliveryStatus is where one delivery stands.
type WebhookDeliveryStatus string

// Delivery statuses: pending (not sent yet, or retrying), delivered (the
// endpoint answered 2xx) or failed (retries exhausted, or 410 Gone).
const (
	DeliveryPending   WebhookDeliveryStatus = "pending"
	DeliveryDelivered WebhookDeliveryStatus = "delivered"
	DeliveryFailed    WebhookDeliveryStatus = "failed"
)

// WebhookDeliveryStatuses lists every valid status.
var WebhookDeliveryStatuses = []WebhookDeliveryStatus{DeliveryPending, DeliveryDelivered, DeliveryFailed}

// Valid reports whether s is a known status.
func (s WebhookDeliveryStatus) Valid() bool { return slices.Contains(WebhookDeliveryStatuses, s) }

// WebhookDelivery is one event sent (or to be sent) to one webhook, with
// the outcome of its last attempt: LastStatusCode is nil when no answer
// came (or no attempt was made yet), LastError says what went wrong.
type WebhookDelivery struct {
	ID             string                `json:"id"`
	Event          string                `json:"event"`
	Status         WebhookDeliveryStatus `json:"status"`
	Attempts       int                   `json:"attempts"`
	LastStatusCode *int                  `json:"last_status_code"`
	LastError      *string               `json:"last_error"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
	DeliveredAt    *time.Time            `json:"delivered_at"`
}
