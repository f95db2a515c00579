package crm

import (
	"crypto/sha256"
	"time"
)

// ChunkKind says where a chunk's text comes from.
type ChunkKind string

// Chunk kinds.
const (
	// ChunkTranscript is a window of a meeting's speaker turns.
	ChunkTranscript ChunkKind = "transcript"
	// ChunkNotes is part of a meeting's validated notes.
	ChunkNotes ChunkKind = "notes"
	// ChunkActivity is an activity's own text (an email, note or call).
	ChunkActivity ChunkKind = "activity"
)

// ChunkLine is where one line of a chunk starts in its text, and the
// speaker, moment and transcript segment it comes from, so a quote can be
// cited to the line it was taken from.
type ChunkLine struct {
	Offset  int     `json:"off"`
	Segment *int    `json:"segment,omitempty"`
	Speaker *string `json:"speaker,omitempty"`
	StartMS *int64  `json:"start_ms,omitempty"`
	// EndMS is when the line's segment ends (nil for lines that are not a
	// transcript's, and in chunks stored before it was recorded).
	EndMS *int64 `json:"end_ms,omitempty"`
}

// Chunk is one searchable piece of an account's history.
type Chunk struct {
	ID           string
	OrgID        string
	AccountID    string
	ActivityID   string
	ActivityType string
	OccurredAt   time.Time
	Kind         ChunkKind
	Position     int
	Text         string
	Speaker      *string
	StartMS      *int64
	EndMS        *int64
	SegFirst     *int
	SegLast      *int
	Lines        []ChunkLine
	ContentHash  []byte
	// Model made Embedding; both are empty until the chunk is embedded.
	Model     string
	Embedding []float32
}

// ChunkHash is a chunk's content hash (SHA-256 of its text): an embedding
// is reused while the hash and the model are unchanged.
func ChunkHash(text string) []byte {
	h := sha256.Sum256([]byte(text))
	return h[:]
}

// LineAt returns the line that holds byte offset off of the chunk's text
// (the zero ChunkLine when the chunk has no lines).
func (c *Chunk) LineAt(off int) ChunkLine {
	var l ChunkLine
	for _, cand := range c.Lines {
		if cand.Offset > off {
			break
		}
		l = cand
	}
	return l
}

// ChunkQuery says which chunks a search may return: always one org's,
// one account's when AccountID is set, within [Since, Until) and of the
// given activity types when those are set.
type ChunkQuery struct {
	OrgID     string
	AccountID string
	Since     time.Time
	Until     time.Time
	Types     []string
	// Model is the embedding model whose vectors a vector search compares
	// with (chunks embedded by another model are not comparable).
	Model string
	// Limit is how many hits to return.
	Limit int
}

// ChunkHit is a chunk a search found and its score in that search
// (cosine similarity for a vector search, BM25 for full text).
type ChunkHit struct {
	Chunk
	Score float64
}
