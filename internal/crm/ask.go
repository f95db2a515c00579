package crm

import "time"

// MaxQuestion is the longest question, in characters.
const MaxQuestion = 2000

// AskInput is a question about an account's (or the org's) history.
type AskInput struct {
	Question string         `json:"question"`
	Since    *string        `json:"since,omitempty" openapi:"format=date-time"`
	Until    *string        `json:"until,omitempty" openapi:"format=date-time"`
	Types    []ActivityType `json:"types,omitempty"`
}

// AskQuery is a validated AskInput.
type AskQuery struct {
	Question     string
	Since, Until time.Time
	Types        []string
}

// Validate checks the input and returns it parsed.
func (in *AskInput) Validate() (AskQuery, error) {
	var p Problems
	q := AskQuery{Question: in.Question}
	CheckText(&p, "question", in.Question, MaxQuestion, true)
	if in.Since != nil {
		q.Since = ParseTime(&p, "since", *in.Since)
	}
	if in.Until != nil {
		q.Until = ParseTime(&p, "until", *in.Until)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		p.Add("until", "must not be before since")
	}
	for _, t := range in.Types {
		if !t.Valid() {
			p.Add("types", "must each be one of %s", join(ActivityTypes))
			break
		}
		q.Types = append(q.Types, string(t))
	}
	return q, p.Err()
}
