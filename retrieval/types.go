package retrieval

import "time"

// Question is one question about an org's history. AccountID restricts the
// search to one account; empty asks over the whole org.
type Question struct {
	OrgID     string
	AccountID string
	Text      string
	Since     time.Time // zero: no lower bound
	Until     time.Time // zero: no upper bound
	Types     []string  // activity types; empty: all
}

// Citation is one source an answer rests on.
type Citation struct {
	ActivityID string    `json:"activity_id"`
	AccountID  string    `json:"account_id,omitempty"`
	ChunkID    string    `json:"chunk_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Type       string    `json:"type"`
	Speaker    *string   `json:"speaker"`
	StartMS    *int      `json:"start_ms"`
	Quote      string    `json:"quote"`
}

// Answer is what a question gets back.
type Answer struct {
	Answer    string     `json:"answer"`
	Grounded  bool       `json:"grounded"`
	Citations []Citation `json:"citations"`
}
