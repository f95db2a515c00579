package crm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The *Input types are request bodies for create (POST) and update (PATCH).
// Each field is an Opt so that a PATCH can tell "absent" from "null"; a
// create requires some fields. Validate normalises values in place (emails
// lowercased, domains stripped) and returns a *ValidationError naming every
// bad field.

// UserInput creates or updates a user.
type UserInput struct {
	Email Opt[string] `json:"email"`
	Name  Opt[string] `json:"name"`
	Role  Opt[Role]   `json:"role"`
}

// Validate checks the input; create requires email and name (role defaults to rep).
func (in *UserInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "email", in.Email.Set, in.Email.Null)
	requireOrClear(&p, create, "name", in.Name.Set, in.Name.Null)
	if v := in.Email.Ptr(); v != nil {
		CheckEmail(&p, "email", *v)
		in.Email.V = NormalizeEmail(*v)
	}
	if v := in.Name.Ptr(); v != nil {
		CheckText(&p, "name", *v, MaxName, true)
	}
	if in.Role.Set && in.Role.Null {
		p.Add("role", "must not be null")
	}
	if v := in.Role.Ptr(); v != nil && !v.Valid() {
		p.Add("role", "must be one of %s", join(Roles))
	}
	return p.Err()
}

// AccountInput creates or updates an account.
type AccountInput struct {
	Name    Opt[string]   `json:"name"`
	Domains Opt[[]string] `json:"domains"`
	Segment Opt[string]   `json:"segment"`
	OwnerID Opt[string]   `json:"owner_id"`
}

// Validate checks the input; create requires name.
func (in *AccountInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "name", in.Name.Set, in.Name.Null)
	if v := in.Name.Ptr(); v != nil {
		CheckText(&p, "name", *v, MaxName, true)
	}
	if v := in.Domains.Ptr(); v != nil {
		in.Domains.V = CheckDomains(&p, "domains", *v)
	}
	if v := in.Segment.Ptr(); v != nil {
		CheckText(&p, "segment", *v, MaxShort, false)
	}
	if v := in.OwnerID.Ptr(); v != nil {
		CheckID(&p, "owner_id", *v)
	}
	return p.Err()
}

// ContactInput creates or updates a contact.
type ContactInput struct {
	AccountID Opt[string] `json:"account_id"`
	Name      Opt[string] `json:"name"`
	Email     Opt[string] `json:"email"`
	Phone     Opt[string] `json:"phone"`
	Title     Opt[string] `json:"title"`
}

// Validate checks the input; create requires account_id and name.
func (in *ContactInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "account_id", in.AccountID.Set, in.AccountID.Null)
	requireOrClear(&p, create, "name", in.Name.Set, in.Name.Null)
	if v := in.AccountID.Ptr(); v != nil {
		CheckID(&p, "account_id", *v)
	}
	if v := in.Name.Ptr(); v != nil {
		CheckText(&p, "name", *v, MaxName, true)
	}
	if v := in.Email.Ptr(); v != nil {
		CheckEmail(&p, "email", *v)
		in.Email.V = NormalizeEmail(*v)
	}
	if v := in.Phone.Ptr(); v != nil {
		CheckText(&p, "phone", *v, 50, false)
	}
	if v := in.Title.Ptr(); v != nil {
		CheckText(&p, "title", *v, MaxName, false)
	}
	return p.Err()
}

// DealInput creates or updates a deal.
type DealInput struct {
	AccountID Opt[string]      `json:"account_id"`
	Name      Opt[string]      `json:"name"`
	Stage     Opt[string]      `json:"stage"`
	Amount    Opt[json.Number] `json:"amount"`
	Currency  Opt[string]      `json:"currency"`
	CloseDate Opt[string]      `json:"close_date" openapi:"format=date"`
	OwnerID   Opt[string]      `json:"owner_id"`
	Status    Opt[DealStatus]  `json:"status"`

	// Parsed by Validate.
	AmountValue    *Decimal `json:"-"`
	CloseDateValue *Date    `json:"-"`
}

// Validate checks the input; create requires account_id and name (status
// defaults to open).
func (in *DealInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "account_id", in.AccountID.Set, in.AccountID.Null)
	requireOrClear(&p, create, "name", in.Name.Set, in.Name.Null)
	if v := in.AccountID.Ptr(); v != nil {
		CheckID(&p, "account_id", *v)
	}
	if v := in.Name.Ptr(); v != nil {
		CheckText(&p, "name", *v, MaxName, true)
	}
	if v := in.Stage.Ptr(); v != nil {
		CheckText(&p, "stage", *v, MaxShort, false)
	}
	if v := in.Amount.Ptr(); v != nil {
		var d Decimal
		if err := d.UnmarshalJSON([]byte(*v)); err != nil {
			p.Add("amount", "%v", err)
		} else if strings.HasPrefix(string(d), "-") {
			p.Add("amount", "must not be negative")
		} else {
			in.AmountValue = &d
		}
	}
	if v := in.Currency.Ptr(); v != nil {
		CheckCurrency(&p, "currency", *v)
	}
	if v := in.CloseDate.Ptr(); v != nil {
		if d, ok := CheckDate(&p, "close_date", *v); ok {
			in.CloseDateValue = &d
		}
	}
	if v := in.OwnerID.Ptr(); v != nil {
		CheckID(&p, "owner_id", *v)
	}
	if in.Status.Set && in.Status.Null {
		p.Add("status", "must not be null")
	}
	if v := in.Status.Ptr(); v != nil && !v.Valid() {
		p.Add("status", "must be one of %s", join(DealStatuses))
	}
	return p.Err()
}

// NextStepInput is the next_step object of an activity.
type NextStepInput struct {
	Text    string  `json:"text"`
	DueDate *string `json:"due_date" openapi:"format=date"`
}

// ActivityInput creates or updates an activity. OccurredAt and dates are
// strings so a bad value is reported against its field.
type ActivityInput struct {
	Type            Opt[ActivityType]    `json:"type"`
	Direction       Opt[Direction]       `json:"direction"`
	AccountID       Opt[string]          `json:"account_id"`
	ContactIDs      Opt[[]string]        `json:"contact_ids"`
	Participants    Opt[[]Participant]   `json:"participants"`
	DealID          Opt[string]          `json:"deal_id"`
	OwnerID         Opt[string]          `json:"owner_id"`
	OccurredAt      Opt[string]          `json:"occurred_at" openapi:"format=date-time"`
	DurationSeconds Opt[int]             `json:"duration_seconds"`
	Subject         Opt[string]          `json:"subject"`
	Body            Opt[string]          `json:"body"`
	Disposition     Opt[string]          `json:"disposition"`
	NextStep        Opt[NextStepInput]   `json:"next_step"`
	Source          Opt[Source]          `json:"source"`
	ExternalID      Opt[string]          `json:"external_id"`
	Metadata        Opt[json.RawMessage] `json:"metadata"`

	// Parsed by Validate.
	OccurredAtValue time.Time       `json:"-"`
	NextStepValue   *NextStep       `json:"-"`
	MetadataValue   json.RawMessage `json:"-"`
}

// Validate checks the fields on their own; the org's disposition rules are
// checked by CheckDisposition once the settings are known. create requires
// type and occurred_at, and one of account_id, contact_ids or participants.
func (in *ActivityInput) Validate(create bool) error {
	var p Problems
	requireOrClear(&p, create, "type", in.Type.Set, in.Type.Null)
	requireOrClear(&p, create, "occurred_at", in.OccurredAt.Set, in.OccurredAt.Null)
	if v := in.Type.Ptr(); v != nil && !v.Valid() {
		p.Add("type", "must be one of %s", join(ActivityTypes))
	}
	if v := in.Direction.Ptr(); v != nil && !v.Valid() {
		p.Add("direction", "must be one of %s", join(Directions))
	}
	if create && in.AccountID.Ptr() == nil && len(ptrOr(in.ContactIDs.Ptr())) == 0 && len(ptrOr(in.Participants.Ptr())) == 0 {
		p.Add("account_id", "is required unless contact_ids or participants identify the account")
	}
	if !create && in.AccountID.Set && in.AccountID.Null {
		p.Add("account_id", "must not be null")
	}
	if v := in.AccountID.Ptr(); v != nil {
		CheckID(&p, "account_id", *v)
	}
	if v := in.ContactIDs.Ptr(); v != nil {
		if len(*v) > MaxContactIDs {
			p.Add("contact_ids", "must list at most %d contacts", MaxContactIDs)
		}
		for i, id := range *v {
			CheckID(&p, fmt.Sprintf("contact_ids[%d]", i), id)
		}
	}
	if v := in.Participants.Ptr(); v != nil {
		if len(*v) > MaxContactIDs {
			p.Add("participants", "must list at most %d participants", MaxContactIDs)
		}
		for i := range *v {
			pt := &(*v)[i]
			CheckText(&p, fmt.Sprintf("participants[%d].name", i), pt.Name, MaxName, false)
			if pt.Email != "" {
				CheckEmail(&p, fmt.Sprintf("participants[%d].email", i), pt.Email)
				pt.Email = NormalizeEmail(pt.Email)
			} else if strings.TrimSpace(pt.Name) == "" {
				p.Add(fmt.Sprintf("participants[%d]", i), "needs a name or an email")
			}
			if pt.Consent != "" {
				p.Add(fmt.Sprintf("participants[%d].consent", i),
					"is recorded with a posted transcript or PUT /v1/activities/{id}/consents, not with an activity")
			}
		}
	}
	if v := in.DealID.Ptr(); v != nil {
		CheckID(&p, "deal_id", *v)
	}
	if v := in.OwnerID.Ptr(); v != nil {
		CheckID(&p, "owner_id", *v)
	}
	if v := in.OccurredAt.Ptr(); v != nil {
		in.OccurredAtValue = ParseTime(&p, "occurred_at", *v)
	}
	if v := in.DurationSeconds.Ptr(); v != nil && (*v < 0 || *v > MaxDuration) {
		p.Add("duration_seconds", "must be between 0 and %d", MaxDuration)
	}
	if v := in.Subject.Ptr(); v != nil {
		CheckText(&p, "subject", *v, MaxSubject, false)
	}
	if v := in.Body.Ptr(); v != nil {
		CheckText(&p, "body", *v, MaxBody, false)
	}
	if v := in.Disposition.Ptr(); v != nil {
		CheckCode(&p, "disposition", *v)
	}
	if v := in.NextStep.Ptr(); v != nil {
		ns := NextStep{Text: v.Text}
		CheckText(&p, "next_step.text", v.Text, MaxSubject, true)
		if v.DueDate != nil {
			if d, ok := CheckDate(&p, "next_step.due_date", *v.DueDate); ok {
				ns.DueDate = &d
			}
		}
		in.NextStepValue = &ns
	}
	if in.Source.Set && in.Source.Null {
		p.Add("source", "must not be null")
	}
	if v := in.Source.Ptr(); v != nil && !v.Valid() {
		p.Add("source", "must be one of %s", join(Sources))
	}
	if v := in.ExternalID.Ptr(); v != nil {
		CheckText(&p, "external_id", *v, MaxExternalID, true)
	}
	if in.Metadata.Set {
		in.MetadataValue = CheckMetadata(&p, "metadata", in.Metadata.V)
	}
	return p.Err()
}

// CheckDisposition applies an org's disposition rules to an activity: the
// code must be one of the org's, only calls and voicemails carry one, and
// when the org requires it, an outbound call must have one.
func CheckDisposition(s Settings, typ ActivityType, dir *Direction, disposition *string) error {
	var p Problems
	if disposition != nil {
		switch {
		case !typ.TakesDisposition():
			p.Add("disposition", "is only allowed on calls and voicemails")
		case !slices.Contains(s.Dispositions, *disposition) && s.retired(*disposition):
			p.Add("disposition", "%q is retired; use one of the org's codes: %s", *disposition, strings.Join(s.Dispositions, ", "))
		case !slices.Contains(s.Dispositions, *disposition):
			p.Add("disposition", "must be one of the org's codes: %s", strings.Join(s.Dispositions, ", "))
		}
	} else if s.RequireDisposition && typ == ActivityCall && dir != nil && *dir == DirectionOutbound {
		p.Add("disposition", "is required on outbound calls (org setting require_disposition)")
	}
	return p.Err()
}

// retired reports whether code is one of the org's retired codes.
func (s Settings) retired(code string) bool {
	return slices.ContainsFunc(s.DispositionCodes, func(d DispositionCode) bool { return d.Code == code && d.Retired })
}

// SettingsInput updates an org's settings.
type SettingsInput struct {
	// Dispositions sets the org's active codes, in order, by code alone: a
	// new code gets DispositionLabel and counts as a connect when it is one
	// of ConnectedDispositions; a listed code keeps its label and connect
	// flag; a code left out is retired (kept for history).
	Dispositions Opt[[]string] `json:"dispositions"`
	// DispositionCodes does the same with labels and connect flags: the
	// full list of active codes, in order; a code left out is retired. A
	// field left out keeps the code's current value (or the default for a
	// new code). At most one of the two may be sent.
	DispositionCodes   Opt[[]DispositionCodeInput] `json:"disposition_codes"`
	RequireDisposition Opt[bool]                   `json:"require_disposition"`
	StalledAfterDays   Opt[int]                    `json:"stalled_after_days"`
	// TranscriptRetentionDays: 1 to MaxRetentionDays, or null to keep
	// transcripts forever.
	TranscriptRetentionDays Opt[int]  `json:"transcript_retention_days"`
	KeepNotesAfterPurge     Opt[bool] `json:"keep_notes_after_purge"`
	// OwnDomains replaces the org's own mail domains.
	OwnDomains     Opt[[]string] `json:"own_domains"`
	RequireConsent Opt[bool]     `json:"require_consent"`
}

// DispositionCodeInput is one entry of SettingsInput.DispositionCodes.
type DispositionCodeInput struct {
	Code    string      `json:"code"`
	Label   Opt[string] `json:"label"`
	Connect Opt[bool]   `json:"connect"`
}

// MaxDispositionLabel is the longest disposition label, in bytes.
const MaxDispositionLabel = 100

// MaxRetentionDays is the longest transcript retention an org can set
// (100 years; null keeps them forever).
const MaxRetentionDays = 36_500

// Validate checks the input.
func (in *SettingsInput) Validate() error {
	var p Problems
	if in.Dispositions.Set {
		if in.Dispositions.Null || len(in.Dispositions.V) == 0 {
			p.Add("dispositions", "must list at least one code")
		}
		if len(in.Dispositions.V) > MaxDispositons {
			p.Add("dispositions", "must list at most %d codes", MaxDispositons)
		}
		seen := map[string]bool{}
		for i, c := range in.Dispositions.V {
			CheckCode(&p, fmt.Sprintf("dispositions[%d]", i), c)
			if seen[c] {
				p.Add(fmt.Sprintf("dispositions[%d]", i), "is listed twice")
			}
			seen[c] = true
		}
	}
	if c := in.DispositionCodes; c.Set {
		if in.Dispositions.Set {
			p.Add("disposition_codes", "must not be sent with dispositions: send one list of the active codes")
		}
		if c.Null || len(c.V) == 0 {
			p.Add("disposition_codes", "must list at least one code")
		}
		if len(c.V) > MaxDispositons {
			p.Add("disposition_codes", "must list at most %d codes", MaxDispositons)
		}
		seen := map[string]bool{}
		for i, d := range c.V {
			f := fmt.Sprintf("disposition_codes[%d]", i)
			CheckCode(&p, f+".code", d.Code)
			if seen[d.Code] {
				p.Add(f+".code", "is listed twice")
			}
			seen[d.Code] = true
			if d.Label.Set {
				if l := strings.TrimSpace(d.Label.V); d.Label.Null || l == "" || len(l) > MaxDispositionLabel {
					p.Add(f+".label", "must be 1 to %d characters", MaxDispositionLabel)
				}
			}
			if d.Connect.Set && d.Connect.Null {
				p.Add(f+".connect", "must not be null")
			}
		}
	}
	if in.RequireDisposition.Set && in.RequireDisposition.Null {
		p.Add("require_disposition", "must not be null")
	}
	if in.StalledAfterDays.Set && (in.StalledAfterDays.Null || in.StalledAfterDays.V < 1 || in.StalledAfterDays.V > 365) {
		p.Add("stalled_after_days", "must be between 1 and 365")
	}
	if r := in.TranscriptRetentionDays; r.Set && !r.Null && (r.V < 1 || r.V > MaxRetentionDays) {
		p.Add("transcript_retention_days", "must be between 1 and %d, or null to keep transcripts forever", MaxRetentionDays)
	}
	if in.KeepNotesAfterPurge.Set && in.KeepNotesAfterPurge.Null {
		p.Add("keep_notes_after_purge", "must not be null")
	}
	if in.OwnDomains.Set && in.OwnDomains.Null {
		p.Add("own_domains", "must be a list of domains ([] for none)")
	} else if in.OwnDomains.Set {
		in.OwnDomains.V = CheckDomains(&p, "own_domains", in.OwnDomains.V)
	}
	if in.RequireConsent.Set && in.RequireConsent.Null {
		p.Add("require_consent", "must not be null")
	}
	return p.Err()
}

// APIKeyInput creates an API key.
type APIKeyInput struct {
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
}

// Validate checks the input.
func (in *APIKeyInput) Validate() error {
	var p Problems
	CheckText(&p, "name", in.Name, MaxName, true)
	if len(in.Scopes) == 0 {
		p.Add("scopes", "must list at least one of %s", join(Scopes))
	}
	for i, s := range in.Scopes {
		if !s.Valid() {
			p.Add(fmt.Sprintf("scopes[%d]", i), "must be one of %s", join(Scopes))
		}
	}
	return p.Err()
}

// ReassignInput moves a deal to a new owner.
type ReassignInput struct {
	OwnerID string `json:"owner_id"`
	Note    string `json:"note"`
}

// Validate checks the input.
func (in *ReassignInput) Validate() error {
	var p Problems
	CheckID(&p, "owner_id", in.OwnerID)
	CheckText(&p, "note", in.Note, MaxBody, false)
	return p.Err()
}

func requireOrClear(p *Problems, create bool, field string, set, null bool) {
	switch {
	case create && (!set || null):
		p.Add(field, "is required")
	case !create && set && null:
		p.Add(field, "must not be null")
	}
}

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func ptrOr[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
