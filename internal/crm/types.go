package crm

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Org is a tenant. Every other record belongs to exactly one org.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a bearer credential of one org. Only the SHA-256 of the secret is
// stored; Key is filled once, in the response that creates it.
type APIKey struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"-"`
	Name       string     `json:"name"`
	Scopes     []Scope    `json:"scopes"`
	Key        string     `json:"key,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"-"`
}

// Principal is who is calling: the org and scopes of an authenticated key.
type Principal struct {
	OrgID  string
	KeyID  string
	Scopes []Scope
}

// User is a member of the team: a rep, manager, CSM or admin.
type User struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Account is a customer or prospect company. Domains are the email domains
// that resolve participants to this account; each belongs to one account.
type Account struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	Name      string    `json:"name"`
	Domains   []string  `json:"domains"`
	Segment   *string   `json:"segment"`
	OwnerID   *string   `json:"owner_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Contact is a person at an account. Email is unique within an org, so an
// activity's participants resolve to one contact.
type Contact struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	Email     *string   `json:"email"`
	Phone     *string   `json:"phone"`
	Title     *string   `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Deal is an opportunity on an account. Amount is a decimal kept as text so
// no precision is lost on the way to and from NUMERIC.
type Deal struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"-"`
	AccountID string     `json:"account_id"`
	Name      string     `json:"name"`
	Stage     *string    `json:"stage"`
	Amount    *Decimal   `json:"amount"`
	Currency  *string    `json:"currency"`
	CloseDate *Date      `json:"close_date"`
	OwnerID   *string    `json:"owner_id"`
	Status    DealStatus `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Participant is someone named on an activity, matched to contacts by email.
type Participant struct {
	Name  string `json:"name"`
	Email string `json:"email"`

	// Consent is the participant's recording consent, taken only with a
	// posted transcript (its meeting's consents; see MeetingConsent). An
	// activity's participants never carry it.
	Consent Consent `json:"consent,omitempty"`
}

// NextStep is what the rep intends to do next, optionally by a date.
type NextStep struct {
	Text    string `json:"text"`
	DueDate *Date  `json:"due_date"`
	// DoneAt is when the next step was marked done (POST
	// /v1/activities/{id}/next-step/done); nil while it is open. Writing a
	// different next step (text or due date) opens it again. It is not
	// part of what a client posts, nor of an activity's content hash.
	DoneAt *time.Time `json:"done_at"`
}

// Activity is one sales touch on an account's timeline.
type Activity struct {
	ID              string          `json:"id"`
	OrgID           string          `json:"-"`
	Type            ActivityType    `json:"type"`
	Direction       *Direction      `json:"direction"`
	AccountID       string          `json:"account_id"`
	DealID          *string         `json:"deal_id"`
	OwnerID         *string         `json:"owner_id"`
	ContactIDs      []string        `json:"contact_ids"`
	Participants    []Participant   `json:"participants"`
	OccurredAt      time.Time       `json:"occurred_at"`
	DurationSeconds *int            `json:"duration_seconds"`
	Subject         *string         `json:"subject"`
	Body            *string         `json:"body"`
	Disposition     *string         `json:"disposition"`
	NextStep        *NextStep       `json:"next_step"`
	Source          Source          `json:"source"`
	ExternalID      *string         `json:"external_id"`
	Metadata        json.RawMessage `json:"metadata"`
	Notes           json.RawMessage `json:"notes,omitempty" openapi:"schema=Notes"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`

	// Consents are a meeting's recorded participant consents, shown by
	// GET /v1/activities/{id} for a meeting (an empty list when none is
	// recorded) and left out elsewhere.
	Consents []MeetingConsent `json:"consents,omitzero"`
}

// Settings are an org's switches for capture and reports.
type Settings struct {
	// Dispositions are the org's active disposition codes in its order:
	// the codes a new call or voicemail may carry.
	Dispositions []string `json:"dispositions"`
	// DispositionCodes are all of the org's codes with their labels and
	// whether they count as a connect: the active ones in order, then the
	// retired ones (kept so history stays readable).
	DispositionCodes   []DispositionCode `json:"disposition_codes"`
	RequireDisposition bool              `json:"require_disposition"`
	StalledAfterDays   int               `json:"stalled_after_days"`
	// TranscriptRetentionDays is how many days raw transcripts (content
	// and segments) are kept after they are received; nil keeps them
	// forever. The worker purges older ones.
	TranscriptRetentionDays *int `json:"transcript_retention_days"`
	// KeepNotesAfterPurge keeps a purged transcript's meeting notes, action
	// items and follow-up draft (default true); false deletes them with it.
	KeepNotesAfterPurge bool `json:"keep_notes_after_purge"`
	// OwnDomains are the org's own mail domains: an email from one of
	// them is outbound, to one inbound; an address there is a colleague,
	// never a contact.
	OwnDomains []string `json:"own_domains"`
	// RequireConsent holds a meeting's transcript, unprocessed, until every
	// participant's recording consent is given (a declined one is held
	// whatever this says).
	RequireConsent bool `json:"require_consent"`
	// TwilioAuthTokenSet and AircallTokenSet say whether the dialer hooks'
	// secrets are stored; the secrets themselves are never shown.
	TwilioAuthTokenSet bool      `json:"twilio_auth_token_set"`
	AircallTokenSet    bool      `json:"aircall_token_set"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// DefaultSettings are an org's settings until it changes them.
func DefaultSettings() Settings {
	return Settings{
		Dispositions:        append([]string(nil), DefaultDispositions...),
		DispositionCodes:    DefaultDispositionCodes(),
		StalledAfterDays:    14,
		KeepNotesAfterPurge: true,
		OwnDomains:          []string{},
	}
}

// Page is one page of a keyset-paginated list.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// DispositionCode is one of an org's disposition codes.
type DispositionCode struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	// Connect says whether a call with this code counts as a connect (a
	// conversation) in connect-rate reports.
	Connect bool `json:"connect"`
	// Retired codes stay readable on the calls that carry them and in
	// reports, but no new activity may be given one.
	Retired bool `json:"retired"`
}

// DefaultDispositionCodes are the codes a new org starts with.
func DefaultDispositionCodes() []DispositionCode {
	out := make([]DispositionCode, len(DefaultDispositions))
	for i, c := range DefaultDispositions {
		out[i] = DispositionCode{Code: c, Label: DispositionLabel(c), Connect: slices.Contains(ConnectedDispositions, c)}
	}
	return out
}

// DispositionLabel is the label a code gets when none is given: the code
// read as words, capitalised ("no_answer" → "No answer").
func DispositionLabel(code string) string {
	s := strings.ReplaceAll(code, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
