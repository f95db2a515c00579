package crm

import (
	"fmt"
	"strings"
	"time"
)

// MeetingConsent is one meeting participant's recording consent as stored
// (issue #14, consent as data): who (a name, an email or both), what they
// said, where it was recorded from and when.
type MeetingConsent struct {
	Name    string  `json:"name"`
	Email   *string `json:"email"`
	Consent Consent `json:"consent"`
	// Source says where the consent was recorded: "api" (PUT
	// /v1/activities/{id}/consents), "web" (the web UI) or the posted
	// transcript's source (the note-taker that asked).
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Who is how a person reads the consent's participant: the name, else the
// email.
func (c MeetingConsent) Who() string {
	if c.Name != "" {
		return c.Name
	}
	if c.Email != nil {
		return *c.Email
	}
	return ""
}

// ConsentKey is the key one participant's consent is stored under:
// lower(email), else lower(trimmed name). Empty when there is neither.
func ConsentKey(name, email string) string {
	if e := strings.TrimSpace(email); e != "" {
		return strings.ToLower(e)
	}
	return strings.ToLower(strings.TrimSpace(name))
}

// ConsentInput is one participant's consent as a client sends it: an email
// or a name (or both; the email identifies them) and the consent.
type ConsentInput struct {
	Name    string  `json:"name"`
	Email   string  `json:"email"`
	Consent Consent `json:"consent"`
}

// ConsentsInput is the body of PUT /v1/activities/{id}/consents: the
// meeting's consents, replacing those recorded before.
type ConsentsInput struct {
	Consents []ConsentInput `json:"consents"`
}

// MaxConsents bounds the consents of one meeting (its participants).
const MaxConsents = MaxContactIDs

// ValidateConsents checks every consent (field paths under prefix, such as
// "consents" or "participants"): a valid value, an email or a name, and
// no participant twice. Emails are normalised (trimmed, lower-cased) and
// names trimmed in place.
func ValidateConsents(p *Problems, prefix string, cs []ConsentInput) {
	if len(cs) > MaxConsents {
		p.Add(prefix, "must list at most %d participants", MaxConsents)
		return
	}
	seen := map[string]int{}
	for i := range cs {
		c := &cs[i]
		field := fmt.Sprintf("%s[%d]", prefix, i)
		c.Name = strings.TrimSpace(c.Name)
		CheckText(p, field+".name", c.Name, MaxName, false)
		if c.Email != "" {
			c.Email = strings.ToLower(strings.TrimSpace(c.Email))
			CheckEmail(p, field+".email", c.Email)
		}
		if c.Name == "" && c.Email == "" {
			p.Add(field, "needs a name or an email")
		}
		if !c.Consent.Valid() {
			p.Add(field+".consent", "must be one of %s", join(Consents))
		}
		if k := ConsentKey(c.Name, c.Email); k != "" {
			if j, dup := seen[k]; dup {
				p.Add(field, "names the same participant as %s[%d]", prefix, j)
			} else {
				seen[k] = i
			}
		}
	}
}

// Validate checks the body: consents is required (an empty list clears
// them) and each entry as ValidateConsents says.
func (in *ConsentsInput) Validate() error {
	var p Problems
	if in.Consents == nil {
		p.Add("consents", "is required (an empty list clears the meeting's consents)")
	}
	ValidateConsents(&p, "consents", in.Consents)
	return p.Err()
}

// ConsentGate decides whether a meeting's transcript may be processed, from
// the consents recorded for it, its participants (a participant with no
// consent recorded is unknown) and the org's require_consent setting: it
// is held when anyone declined, or when consent is required and someone's
// is not given (or nobody's is recorded). reason says why, in words an
// admin reads ("Dana Lee declined recording"); empty when it may go on.
func ConsentGate(consents []MeetingConsent, participants []Participant, require bool) (hold bool, reason string) {
	var declined, missing []string
	known := map[string]bool{}
	for _, c := range consents {
		email := ""
		if c.Email != nil {
			email = *c.Email
		}
		known[ConsentKey(c.Name, email)] = true
		switch c.Consent {
		case ConsentDeclined:
			declined = append(declined, c.Who())
		case ConsentGiven:
		default:
			missing = append(missing, c.Who())
		}
	}
	for _, pt := range participants {
		k := ConsentKey(pt.Name, pt.Email)
		if k == "" || known[k] {
			continue
		}
		known[k] = true
		who := strings.TrimSpace(pt.Name)
		if who == "" {
			who = pt.Email
		}
		missing = append(missing, who)
	}
	switch {
	case len(declined) > 0:
		return true, andList(declined) + " declined recording"
	case require && len(consents) == 0 && len(missing) == 0:
		return true, "The org requires recording consent, and none is recorded for this meeting"
	case require && len(missing) > 0:
		verb := " has"
		if len(missing) > 1 {
			verb = " have"
		}
		return true, "The org requires recording consent, and " + andList(missing) + verb + " not given it"
	}
	return false, ""
}

// andList joins names as a sentence does: "A", "A and B", "A, B and C".
func andList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// ConsentDecisionKind is what an admin decided about a held transcript.
type ConsentDecisionKind string

// Consent decisions: released (processed anyway) or discarded (its content
// deleted, the meeting kept).
const (
	ConsentReleased  ConsentDecisionKind = "released"
	ConsentDiscarded ConsentDecisionKind = "discarded"
)

// ConsentDecision is an admin's decision on a transcript held for consent.
type ConsentDecision struct {
	Decision ConsentDecisionKind `json:"decision"`
	// By is the ID of the API key (API) or of the user (web UI) that
	// decided.
	By string    `json:"by"`
	At time.Time `json:"at"`
}
