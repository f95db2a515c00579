package brief

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The caps and clip lengths of the rules in the package doc.
const (
	briefMaxDeals       = 3
	briefMaxCommitments = 4
	briefMaxPerSide     = 2
	briefMaxUnknownSide = 1
	briefMaxRisks       = 2
	briefRiskMeetings   = 5
	briefRiskWindow     = 90 * 24 * time.Hour
	briefMaxTouches     = 3
	briefMaxMeetings    = 1
	// briefListLimit bounds the structured deals and open_action_items.
	briefListLimit = 50

	// Words kept of free text: names (accounts, deals, people, titles,
	// stages, segments), meeting subjects, action items, risks, summaries.
	// With the caps above the longest brief is under 250 words (the
	// composition test builds it): about a minute's reading.
	briefNameWords    = 3
	briefSubjectWords = 5
	briefItemWords    = 7
	briefRiskWords    = 8
	briefSummaryWords = 12
)

// Store is what a brief reads and keeps; *store.Store is one.
type Store interface {
	AccountBriefState(ctx context.Context, orgID, accountID string, day time.Time) (fingerprint string, kept *store.AccountBrief, err error)
	AccountBriefFacts(ctx context.Context, orgID, accountID string, o store.BriefOptions) (store.BriefFacts, error)
	AccountBriefSave(ctx context.Context, orgID, accountID string, b store.AccountBrief) error
}

// Service builds account briefs and keeps them for the next read. It holds
// no state of its own: making one per request is fine.
type Service struct {
	store Store
	log   *slog.Logger
}

// New returns a Service reading from and keeping in st. log gets the
// briefs that could not be kept; nil discards.
func New(st Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, log: log}
}

// Account returns the account's brief as of now: the kept one when the
// facts it was built from are unchanged (same fingerprint, same UTC day),
// else one composed afresh from the facts and kept for the next read. An
// account that is not the org's is crm.ErrNotFound.
func (s *Service) Account(ctx context.Context, orgID, accountID string, now time.Time) (AccountBriefJSON, error) {
	// account_briefs keeps microseconds: a kept answer shows the same
	// generated_at as the fresh one did.
	now = now.UTC().Truncate(time.Microsecond)
	fp, kept, err := s.store.AccountBriefState(ctx, orgID, accountID, now)
	if err != nil {
		return AccountBriefJSON{}, fmt.Errorf("brief: %w", err)
	}
	if kept != nil && kept.Fingerprint == fp {
		return AccountBriefJSON{Brief: kept.Brief, OpenActionItems: kept.OpenActionItems,
			Deals: kept.Deals, LastActivityAt: kept.LastActivityAt, GeneratedAt: kept.GeneratedAt}, nil
	}
	f, err := s.store.AccountBriefFacts(ctx, orgID, accountID, store.BriefOptions{Today: now,
		Deals: briefListLimit, ActionItems: briefListLimit, Meetings: briefRiskMeetings, Touches: briefListLimit})
	if err != nil {
		return AccountBriefJSON{}, fmt.Errorf("brief: %w", err)
	}
	ab := composeAccountBrief(f, now)
	kb := store.AccountBrief{LastActivityAt: ab.LastActivityAt, Fingerprint: fp, GeneratedAt: now}
	for _, part := range []struct {
		dst *json.RawMessage
		v   any
	}{{&kb.Brief, ab.Brief}, {&kb.OpenActionItems, ab.OpenActionItems}, {&kb.Deals, ab.Deals}} {
		if *part.dst, err = json.Marshal(part.v); err != nil {
			return AccountBriefJSON{}, fmt.Errorf("brief: marshal account brief: %w", err)
		}
	}
	// A brief that could not be kept is still the right answer; the next
	// read builds it again.
	if err := s.store.AccountBriefSave(ctx, orgID, accountID, kb); err != nil {
		s.log.WarnContext(ctx, "keep account brief", "account_id", accountID, "error", err)
	}
	return AccountBriefJSON{Brief: kb.Brief, OpenActionItems: kb.OpenActionItems,
		Deals: kb.Deals, LastActivityAt: kb.LastActivityAt, GeneratedAt: now}, nil
}

// AccountBrief is GET /v1/accounts/{id}/brief's answer.
type AccountBrief struct {
	Brief           BriefDoc          `json:"brief"`
	OpenActionItems []BriefActionItem `json:"open_action_items"`
	Deals           []BriefDeal       `json:"deals"`
	LastActivityAt  *time.Time        `json:"last_activity_at"`
	GeneratedAt     time.Time         `json:"generated_at"`
}

// AccountBriefJSON is AccountBrief as written: the parts as they are kept
// in account_briefs, so a kept answer and a fresh one are the same bytes.
type AccountBriefJSON struct {
	Brief           json.RawMessage `json:"brief"`
	OpenActionItems json.RawMessage `json:"open_action_items"`
	Deals           json.RawMessage `json:"deals"`
	LastActivityAt  *time.Time      `json:"last_activity_at"`
	GeneratedAt     time.Time       `json:"generated_at"`
}

// BriefDoc is the readable brief: a headline and sections of statements.
type BriefDoc struct {
	Headline string         `json:"headline"`
	Sections []BriefSection `json:"sections"`
}

// BriefSection is one part of the brief. More counts what the cap left
// out; the last statement then says "…and N more".
type BriefSection struct {
	Title      string           `json:"title"`
	Statements []BriefStatement `json:"statements"`
	More       int              `json:"more"`
}

// BriefStatement is one sentence and the activities it rests on.
type BriefStatement struct {
	Text        string   `json:"text"`
	ActivityIDs []string `json:"activity_ids"`
}

// BriefActionItem is an open action item of the account with its side and
// the meeting it was agreed in.
type BriefActionItem struct {
	ID             string          `json:"id"`
	ActivityID     string          `json:"activity_id"`
	Text           string          `json:"text"`
	Owner          *string         `json:"owner"`
	Side           store.BriefSide `json:"side"`
	DueDate        *crm.Date       `json:"due_date"`
	Overdue        bool            `json:"overdue"`
	Tentative      bool            `json:"tentative"`
	Evidence       []crm.Evidence  `json:"evidence"`
	MeetingAt      time.Time       `json:"meeting_at"`
	MeetingSubject *string         `json:"meeting_subject"`
	CreatedAt      time.Time       `json:"created_at"`
}

// BriefDeal is a deal of the account with its owner's name and its latest
// activity (null when none is logged on it).
type BriefDeal struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Stage          *string        `json:"stage"`
	Amount         *crm.Decimal   `json:"amount"`
	Currency       *string        `json:"currency"`
	CloseDate      *crm.Date      `json:"close_date"`
	Status         crm.DealStatus `json:"status"`
	OwnerID        *string        `json:"owner_id"`
	OwnerName      *string        `json:"owner_name"`
	LastActivityID *string        `json:"last_activity_id"`
	LastActivityAt *time.Time     `json:"last_activity_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}
