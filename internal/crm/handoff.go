package crm

import (
	"fmt"
	"strings"
)

// MaxReassignBatch is how many deals one batch reassignment may move.
const MaxReassignBatch = 100

// ReassignBatchInput moves several deals to one new owner, all or nothing.
type ReassignBatchInput struct {
	OwnerID string   `json:"owner_id"`
	DealIDs []string `json:"deal_ids"`
	Note    string   `json:"note"`
}

// Validate checks the input: an owner ID, 1 to MaxReassignBatch deal IDs,
// each an ID and none repeated (compared case-insensitively; the repeat is
// named "deal_ids[i]"), and a note within MaxBody.
func (in *ReassignBatchInput) Validate() error {
	var p Problems
	CheckID(&p, "owner_id", in.OwnerID)
	switch n := len(in.DealIDs); {
	case n == 0:
		p.Add("deal_ids", "is required: 1 to %d deal IDs", MaxReassignBatch)
	case n > MaxReassignBatch:
		p.Add("deal_ids", "has %d deal IDs; at most %d", n, MaxReassignBatch)
	default:
		first := make(map[string]int, n)
		for i, id := range in.DealIDs {
			field := fmt.Sprintf("deal_ids[%d]", i)
			if !ValidID(id) {
				p.Add(field, "must be an ID (UUID)")
				continue
			}
			key := strings.ToLower(id)
			if j, ok := first[key]; ok {
				p.Add(field, "repeats deal_ids[%d]", j)
				continue
			}
			first[key] = i
		}
	}
	CheckText(&p, "note", in.Note, MaxBody, false)
	return p.Err()
}
