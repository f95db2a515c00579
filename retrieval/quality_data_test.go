package retrieval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The retrieval quality dataset (testdata/quality/dataset.json, described in
// testdata/quality/README.md) is hand-labelled: a wrong segment index or a
// question pointing at another account's meeting silently corrupts every
// recall number computed from it. These tests check its integrity only; they
// measure nothing about retrieval itself.

const qdPath = "testdata/quality/dataset.json"

// Minimum sizes the dataset was written to (the issue asks for at least 20
// meetings and 60 questions across several accounts).
const (
	qdMinAccounts            = 5
	qdMinMeetings            = 20
	qdMinQuestions           = 60
	qdMinQuestionsPerAccount = 12
	qdMinTurns               = 30
	qdMaxTurns               = 60
)

// qdDataset mirrors dataset.json. The types are unexported and prefixed so
// they cannot collide with the package's own types.
type qdDataset struct {
	Vendor     string       `json:"vendor"`
	Accounts   []qdAccount  `json:"accounts"`
	Activities []qdActivity `json:"activities"`
	Questions  []qdQuestion `json:"questions"`
}

type qdAccount struct {
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// qdActivity is a meeting (Title and Segments) or an email or note (Subject
// and Body).
type qdActivity struct {
	ExternalID   string          `json:"external_id"`
	Account      string          `json:"account"`
	Type         string          `json:"type"`
	Title        string          `json:"title"`
	OccurredAt   time.Time       `json:"occurred_at"`
	Subject      string          `json:"subject"`
	Body         string          `json:"body"`
	Participants []qdParticipant `json:"participants"`
	Segments     []qdSegment     `json:"segments"`
}

type qdParticipant struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type qdSegment struct {
	Speaker string `json:"speaker"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
}

type qdQuestion struct {
	ID           string     `json:"id"`
	Account      string     `json:"account"`
	Question     string     `json:"question"`
	Answers      []qdAnswer `json:"answers"`
	Unanswerable bool       `json:"unanswerable"`
}

// qdAnswer points at the evidence for a question: segment indexes (0-based)
// of a meeting, or an empty list meaning the whole email or note.
type qdAnswer struct {
	Activity string `json:"activity"`
	Segments []int  `json:"segments"`
}

// qdLoad decodes the dataset strictly: unknown fields and trailing data fail.
func qdLoad(t *testing.T) *qdDataset {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(qdPath))
	if err != nil {
		t.Fatalf("error reading dataset: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ds qdDataset
	if err := dec.Decode(&ds); err != nil {
		t.Fatalf("error decoding %s: %v", qdPath, err)
	}
	if dec.More() {
		t.Fatalf("%s: trailing data after the dataset object", qdPath)
	}
	return &ds
}

func TestQualityDataCounts(t *testing.T) {
	t.Parallel()
	ds := qdLoad(t)

	if ds.Vendor == "" {
		t.Error("vendor is empty")
	}
	if len(ds.Accounts) < qdMinAccounts {
		t.Errorf("accounts: got %d, want at least %d", len(ds.Accounts), qdMinAccounts)
	}
	meetings := map[string]int{}
	total := 0
	for _, a := range ds.Activities {
		if a.Type == "meeting" {
			meetings[a.Account]++
			total++
		}
	}
	if total < qdMinMeetings {
		t.Errorf("meetings: got %d, want at least %d", total, qdMinMeetings)
	}
	if len(ds.Questions) < qdMinQuestions {
		t.Errorf("questions: got %d, want at least %d", len(ds.Questions), qdMinQuestions)
	}
	perAccount := map[string]int{}
	unanswerable := 0
	for _, q := range ds.Questions {
		perAccount[q.Account]++
		if q.Unanswerable {
			unanswerable++
		}
	}
	for _, acc := range ds.Accounts {
		if n := perAccount[acc.Key]; n < qdMinQuestionsPerAccount {
			t.Errorf("account %q: %d questions, want at least %d", acc.Key, n, qdMinQuestionsPerAccount)
		}
		if meetings[acc.Key] == 0 {
			t.Errorf("account %q has no meetings", acc.Key)
		}
	}
	if unanswerable == 0 {
		t.Error("no unanswerable questions: the set cannot test abstention")
	}
	if unanswerable == len(ds.Questions) {
		t.Error("every question is unanswerable")
	}
}

func TestQualityDataAccounts(t *testing.T) {
	t.Parallel()
	ds := qdLoad(t)

	keys := map[string]bool{}
	domains := map[string]string{}
	for _, acc := range ds.Accounts {
		if acc.Key == "" || strings.TrimSpace(acc.Name) == "" {
			t.Errorf("account %+v: empty key or name", acc)
		}
		if keys[acc.Key] {
			t.Errorf("account key %q is duplicated", acc.Key)
		}
		keys[acc.Key] = true
		if len(acc.Domains) == 0 {
			t.Errorf("account %q has no domains", acc.Key)
		}
		for _, d := range acc.Domains {
			if !strings.HasSuffix(d, ".example") {
				t.Errorf("account %q: domain %q is not under the reserved .example TLD", acc.Key, d)
			}
			if other, ok := domains[d]; ok {
				t.Errorf("domain %q belongs to both %q and %q", d, other, acc.Key)
			}
			domains[d] = acc.Key
		}
	}
}

func TestQualityDataActivities(t *testing.T) {
	t.Parallel()
	ds := qdLoad(t)

	accounts := map[string]qdAccount{}
	for _, acc := range ds.Accounts {
		accounts[acc.Key] = acc
	}
	// Vendor staff write from the vendor's own .example domain.
	vendorDomain := strings.ToLower(ds.Vendor) + ".example"

	ids := map[string]bool{}
	for _, a := range ds.Activities {
		where := fmt.Sprintf("activity %q", a.ExternalID)
		if a.ExternalID == "" {
			t.Errorf("activity with empty external_id (%s, %s)", a.Account, a.OccurredAt)
		}
		if ids[a.ExternalID] {
			t.Errorf("%s: duplicate external_id", where)
		}
		ids[a.ExternalID] = true

		acc, ok := accounts[a.Account]
		if !ok {
			t.Errorf("%s: unknown account %q", where, a.Account)
		}
		if a.OccurredAt.IsZero() {
			t.Errorf("%s: occurred_at is missing", where)
		}
		if len(a.Participants) == 0 {
			t.Errorf("%s: no participants", where)
		}

		names := map[string]bool{}
		emails := map[string]bool{}
		for _, p := range a.Participants {
			if strings.TrimSpace(p.Name) == "" {
				t.Errorf("%s: participant with empty name (%q)", where, p.Email)
			}
			if names[p.Name] || emails[p.Email] {
				t.Errorf("%s: participant %q listed twice", where, p.Name)
			}
			names[p.Name] = true
			emails[p.Email] = true
			local, domain, found := strings.Cut(p.Email, "@")
			if !found || local == "" {
				t.Errorf("%s: participant %q has invalid email %q", where, p.Name, p.Email)
				continue
			}
			if domain != vendorDomain && !slices.Contains(acc.Domains, domain) {
				t.Errorf("%s: participant %q email %q is neither %s nor the account's domain", where, p.Name, p.Email, vendorDomain)
			}
		}

		switch a.Type {
		case "meeting":
			if strings.TrimSpace(a.Title) == "" {
				t.Errorf("%s: meeting without title", where)
			}
			if a.Subject != "" || a.Body != "" {
				t.Errorf("%s: meeting has subject or body", where)
			}
			if n := len(a.Segments); n < qdMinTurns || n > qdMaxTurns {
				t.Errorf("%s: %d segments, want %d to %d", where, n, qdMinTurns, qdMaxTurns)
			}
			var prevEnd int64 = -1
			for i, s := range a.Segments {
				if strings.TrimSpace(s.Text) == "" {
					t.Errorf("%s segment %d: empty text", where, i)
				}
				if !names[s.Speaker] {
					t.Errorf("%s segment %d: speaker %q is not a participant", where, i, s.Speaker)
				}
				if s.StartMS < 0 || s.EndMS <= s.StartMS {
					t.Errorf("%s segment %d: bad interval [%d, %d]", where, i, s.StartMS, s.EndMS)
				}
				if s.StartMS < prevEnd {
					t.Errorf("%s segment %d: starts at %d, before the previous segment ends at %d", where, i, s.StartMS, prevEnd)
				}
				prevEnd = s.EndMS
			}
		case "email", "note":
			if strings.TrimSpace(a.Subject) == "" || strings.TrimSpace(a.Body) == "" {
				t.Errorf("%s: %s without subject or body", where, a.Type)
			}
			if len(a.Segments) != 0 || a.Title != "" {
				t.Errorf("%s: %s has meeting fields (title or segments)", where, a.Type)
			}
		default:
			t.Errorf("%s: unknown type %q", where, a.Type)
		}
	}
}

func TestQualityDataQuestions(t *testing.T) {
	t.Parallel()
	ds := qdLoad(t)

	accounts := map[string]bool{}
	for _, acc := range ds.Accounts {
		accounts[acc.Key] = true
	}
	activities := map[string]qdActivity{}
	for _, a := range ds.Activities {
		activities[a.ExternalID] = a
	}

	ids := map[string]bool{}
	texts := map[string]string{}
	for _, q := range ds.Questions {
		where := fmt.Sprintf("question %q", q.ID)
		if q.ID == "" {
			t.Errorf("question with empty id: %q", q.Question)
		}
		if ids[q.ID] {
			t.Errorf("%s: duplicate id", where)
		}
		ids[q.ID] = true
		if strings.TrimSpace(q.Question) == "" {
			t.Errorf("%s: empty question text", where)
		}
		if other, ok := texts[q.Question]; ok {
			t.Errorf("%s: same text as question %q", where, other)
		}
		texts[q.Question] = q.ID
		if !accounts[q.Account] {
			t.Errorf("%s: unknown account %q", where, q.Account)
		}

		if q.Unanswerable && len(q.Answers) != 0 {
			t.Errorf("%s: unanswerable but has %d answers", where, len(q.Answers))
		}
		if !q.Unanswerable && len(q.Answers) == 0 {
			t.Errorf("%s: answerable but has no answers", where)
		}

		seen := map[string]bool{}
		for _, ans := range q.Answers {
			a, ok := activities[ans.Activity]
			if !ok {
				t.Errorf("%s: answer cites unknown activity %q", where, ans.Activity)
				continue
			}
			if seen[ans.Activity] {
				t.Errorf("%s: activity %q cited twice; merge its segments", where, ans.Activity)
			}
			seen[ans.Activity] = true
			if a.Account != q.Account {
				t.Errorf("%s: answer %q belongs to account %q, not %q", where, ans.Activity, a.Account, q.Account)
			}
			if ans.Segments == nil {
				t.Errorf("%s: answer %q has no segments list (use [] for a whole email or note)", where, ans.Activity)
			}
			if a.Type != "meeting" {
				if len(ans.Segments) != 0 {
					t.Errorf("%s: answer %q is a %s; segments must be empty", where, ans.Activity, a.Type)
				}
				continue
			}
			if len(ans.Segments) == 0 {
				t.Errorf("%s: answer %q is a meeting but names no segments", where, ans.Activity)
			}
			prev := -1
			for _, i := range ans.Segments {
				if i < 0 || i >= len(a.Segments) {
					t.Errorf("%s: answer %q segment %d out of range [0, %d)", where, ans.Activity, i, len(a.Segments))
				}
				if i <= prev {
					t.Errorf("%s: answer %q segments %v not strictly increasing", where, ans.Activity, ans.Segments)
				}
				prev = i
			}
		}
	}
}
