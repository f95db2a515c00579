package quality

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Turn is one speaker turn of a dev-set meeting; I is its 0-based index,
// the number the labels and the retrieval gold refer to.
type Turn struct {
	I       int    `json:"i"`
	Speaker string `json:"speaker"`
	Content string `json:"content"`
}

// Meeting is one dev-set meeting as turns (qmsum-val/meetings.jsonl).
type Meeting struct {
	ID     string `json:"meeting_id"`
	Domain string `json:"domain"`
	Turns  []Turn `json:"turns"`
}

// TurnTime places turn I in the meeting's WebVTT: [StartMS, EndMS).
type TurnTime struct {
	I       int
	StartMS int64
	EndMS   int64
}

// UnmarshalJSON reads turn_index.jsonl's [i, start_ms, end_ms] triple.
func (t *TurnTime) UnmarshalJSON(b []byte) error {
	var a []int64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 3 {
		return fmt.Errorf("turn index entry %s: want [i, start_ms, end_ms]", b)
	}
	t.I, t.StartMS, t.EndMS = int(a[0]), a[1], a[2]
	return nil
}

// RetrievalQuery is one specific question of retrieval_gold.jsonl with the
// turns of its meeting that answer it.
type RetrievalQuery struct {
	QID             string `json:"qid"`
	MeetingID       string `json:"meeting_id"`
	Domain          string `json:"domain"`
	Query           string `json:"query"`
	RelevantTurns   []int  `json:"relevant_turns"`
	ReferenceAnswer string `json:"reference_answer"`
}

// SummaryQuery is one "summarize the whole meeting" query of
// summaries_gold.jsonl with its reference summary.
type SummaryQuery struct {
	QID       string `json:"qid"`
	MeetingID string `json:"meeting_id"`
	Domain    string `json:"domain"`
	Query     string `json:"query"`
	Reference string `json:"reference"`
}

// Label is one labelled commitment, decision or risk of ami-val-labels.json.
// Owner is "" when the label names no single owner. Strength ("core" or
// "soft") is set on commitments, Kind ("new" or "recap") on decisions; an
// empty value counts as "core" and "new", as a missing key does in
// score_notes.py (the file has no null strengths or kinds).
type Label struct {
	Owner    string `json:"owner"`
	Text     string `json:"text"`
	Turns    []int  `json:"turns"`
	Due      string `json:"due"`
	Strength string `json:"strength"`
	Kind     string `json:"kind"`
}

// MeetingLabels are one labelled meeting's commitments, decisions and risks.
type MeetingLabels struct {
	Commitments []Label `json:"commitments"`
	Decisions   []Label `json:"decisions"`
	Risks       []Label `json:"risks"`
}

// DevSet is the quality dev set loaded from its folder. Slices keep the
// files' order, which the scorers' outputs follow (and BM25's tie order
// depends on).
type DevSet struct {
	// Dir is the folder LoadDevSet read (holding qmsum-val/ and
	// ami-val-labels.json).
	Dir string
	// Accounts maps an account (one team, e.g. "ES2006") to its meetings.
	Accounts map[string][]string
	// Meetings are the meetings in meetings.jsonl order.
	Meetings []Meeting
	// TurnIndex maps a meeting to its turns' times in the VTT.
	TurnIndex map[string][]TurnTime
	// Retrieval are the specific questions in retrieval_gold.jsonl order.
	Retrieval []RetrievalQuery
	// Summaries are the whole-meeting summary queries in file order.
	Summaries []SummaryQuery
	// Labels maps a labelled meeting to its labels; LabelOrder lists the
	// labelled meetings in the file's order.
	Labels     map[string]MeetingLabels
	LabelOrder []string
	// VTT maps every meeting to the path of its WebVTT file.
	VTT map[string]string

	byID map[string]int
}

// Meeting returns the meeting with the given id.
func (ds *DevSet) Meeting(id string) (Meeting, bool) {
	i, ok := ds.byID[id]
	if !ok {
		return Meeting{}, false
	}
	return ds.Meetings[i], true
}

// index rebuilds the meeting lookup after Meetings changed.
func (ds *DevSet) index() {
	ds.byID = make(map[string]int, len(ds.Meetings))
	for i, m := range ds.Meetings {
		ds.byID[m.ID] = i
	}
}

// AccountIDs returns the accounts' ids, sorted.
func (ds *DevSet) AccountIDs() []string {
	ids := make([]string, 0, len(ds.Accounts))
	for id := range ds.Accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LoadDevSet reads the dev set in dir (the folder holding qmsum-val/ and
// ami-val-labels.json): accounts.json, meetings.jsonl, turn_index.jsonl,
// retrieval_gold.jsonl, summaries_gold.jsonl, ami-val-labels.json, and
// checks that every meeting has its vtt/<meeting>.vtt. A missing or
// malformed file is an error naming the file.
func LoadDevSet(dir string) (*DevSet, error) {
	qv := filepath.Join(dir, "qmsum-val")
	ds := &DevSet{Dir: dir, TurnIndex: map[string][]TurnTime{}, VTT: map[string]string{}, byID: map[string]int{}}

	var acc struct {
		Accounts map[string][]string `json:"accounts"`
	}
	if err := readJSON(filepath.Join(qv, "accounts.json"), &acc); err != nil {
		return nil, err
	}
	if len(acc.Accounts) == 0 {
		return nil, fmt.Errorf("quality: load dev set: %s: no accounts", filepath.Join(qv, "accounts.json"))
	}
	ds.Accounts = acc.Accounts

	mpath := filepath.Join(qv, "meetings.jsonl")
	if err := readJSONL(mpath, func(b []byte) error {
		var m Meeting
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if m.ID == "" {
			return errors.New("meeting without meeting_id")
		}
		if _, dup := ds.byID[m.ID]; dup {
			return fmt.Errorf("meeting %s listed twice", m.ID)
		}
		ds.byID[m.ID] = len(ds.Meetings)
		ds.Meetings = append(ds.Meetings, m)
		return nil
	}); err != nil {
		return nil, err
	}

	if err := readJSONL(filepath.Join(qv, "turn_index.jsonl"), func(b []byte) error {
		var r struct {
			MeetingID string     `json:"meeting_id"`
			Turns     []TurnTime `json:"turns"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		ds.TurnIndex[r.MeetingID] = r.Turns
		return nil
	}); err != nil {
		return nil, err
	}

	seen := map[string]bool{}
	if err := readJSONL(filepath.Join(qv, "retrieval_gold.jsonl"), func(b []byte) error {
		var q RetrievalQuery
		if err := json.Unmarshal(b, &q); err != nil {
			return err
		}
		if seen[q.QID] {
			return fmt.Errorf("query %s listed twice", q.QID)
		}
		if len(q.RelevantTurns) == 0 {
			return fmt.Errorf("query %s has no relevant_turns", q.QID)
		}
		if _, ok := ds.byID[q.MeetingID]; !ok {
			return fmt.Errorf("query %s: meeting %s is not in meetings.jsonl", q.QID, q.MeetingID)
		}
		seen[q.QID] = true
		ds.Retrieval = append(ds.Retrieval, q)
		return nil
	}); err != nil {
		return nil, err
	}

	clear(seen)
	if err := readJSONL(filepath.Join(qv, "summaries_gold.jsonl"), func(b []byte) error {
		var q SummaryQuery
		if err := json.Unmarshal(b, &q); err != nil {
			return err
		}
		if seen[q.QID] {
			return fmt.Errorf("summary query %s listed twice", q.QID)
		}
		seen[q.QID] = true
		ds.Summaries = append(ds.Summaries, q)
		return nil
	}); err != nil {
		return nil, err
	}

	lpath := filepath.Join(dir, "ami-val-labels.json")
	var labels struct {
		Meetings orderedLabels `json:"meetings"`
	}
	if err := readJSON(lpath, &labels); err != nil {
		return nil, err
	}
	ds.Labels, ds.LabelOrder = labels.Meetings.m, labels.Meetings.order

	for _, m := range ds.Meetings {
		p := filepath.Join(qv, "vtt", m.ID+".vtt")
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("quality: load dev set: meeting %s: %w", m.ID, err)
		}
		ds.VTT[m.ID] = p
	}
	return ds, nil
}

// orderedLabels decodes the labels' "meetings" object keeping its key
// order, which score_notes.py's list of false positives follows.
type orderedLabels struct {
	m     map[string]MeetingLabels
	order []string
}

func (o *orderedLabels) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &o.m); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
		key := k.(string)
		if !containsString(o.order, key) {
			o.order = append(o.order, key)
		}
	}
	return nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("quality: load dev set: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("quality: load dev set: %s: %w", path, err)
	}
	return nil
}

// readJSONL calls fn on each non-blank line of the file.
func readJSONL(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("quality: load dev set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("quality: load dev set: %s line %d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("quality: load dev set: %s: %w", path, err)
	}
	return nil
}
