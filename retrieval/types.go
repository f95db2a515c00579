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

// Citation is one source an answer rests on: a quote, exactly as the
// record has it, and where it is. N is the source number the answer's
// "[n]" references use for it (several citations may share one number:
// quotes from the same passage). Quote is a passage of one line of the
// record, never its label: a transcript line's speaker is Speaker, not the
// quote's "Speaker: ". StartMS and EndMS are the span of the transcript
// segment the quote is from (null for records that are not transcripts;
// EndMS also for a meeting's notes, which point at the moment their
// evidence starts).
type Citation struct {
	N          int       `json:"n"`
	ActivityID string    `json:"activity_id"`
	AccountID  string    `json:"account_id,omitempty"`
	ChunkID    string    `json:"chunk_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Type       string    `json:"type" openapi:"schema=ActivityType"`
	Speaker    *string   `json:"speaker"`
	StartMS    *int      `json:"start_ms"`
	EndMS      *int      `json:"end_ms"`
	Quote      string    `json:"quote"`
}

// Answer is what a question gets back.
type Answer struct {
	Answer    string     `json:"answer"`
	Grounded  bool       `json:"grounded"`
	Citations []Citation `json:"citations"`
}
