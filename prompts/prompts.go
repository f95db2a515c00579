package prompts

import (
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode"

	"logbook/internal/crm"
)

// Prompt is one rendered prompt: the system and user text and the name and
// version of the template it came from.
type Prompt struct {
	// Name is the prompt's name ("notes", "notes-reduce", "followup",
	// "answer").
	Name string
	// Version is the template version ("v2").
	Version string
	// System is the system prompt.
	System string
	// User is the single user message.
	User string
}

// Purposes name each prompt version as "name.version": the template a
// render function executes, the Purpose an llm.CompletionRequest made from
// it carries (the local provider switches on it), and the version stored
// with what it generated. Each is written here once.
const (
	PurposeNotes    = "notes.v2"
	PurposeReduce   = "notes-reduce.v2"
	PurposeFollowUp = "followup.v1"
	PurposeAnswer   = "answer.v4"
)

// Purpose is Name+"."+Version, the Purpose… constant a request made from
// the prompt carries and the version stored with what it generated.
func (p Prompt) Purpose() string { return p.Name + "." + p.Version }

// Input is the structured input a prompt is rendered from: a NotesInput,
// FollowUpInput or AnswerInput, by value or by pointer. An
// llm.CompletionRequest carries it in Data, so the local provider works from
// it instead of re-reading the prompt text. Only this package's input types
// implement it.
type Input interface{ promptInput() }

// NotesInput is what the notes and notes-reduce prompts are rendered from:
// the meeting and the segments to read (all of them, or one window in
// map-reduce).
type NotesInput struct {
	Title        string
	MeetingDate  time.Time
	Participants []crm.Participant
	Segments     []crm.Segment
	// Window and Windows say which part of a long meeting this is (1 of 1
	// when the whole transcript fits).
	Window, Windows int
}

// FollowUpInput is what the follow-up prompt is rendered from: validated
// notes only, so the draft cannot promise what nobody said.
type FollowUpInput struct {
	Title       string
	MeetingDate time.Time
	From        string
	To          []crm.Participant
	Summary     string
	Decisions   []crm.Point
	ActionItems []crm.ActionItem
}

// Source is one numbered source of an answer prompt.
type Source struct {
	N          int
	Text       string
	Speaker    string
	OccurredAt time.Time
	Type       string
}

// AnswerInput is what the answer prompt is rendered from: the question and
// the numbered sources it may cite.
type AnswerInput struct {
	Question string
	Sources  []Source
}

func (NotesInput) promptInput()    {}
func (FollowUpInput) promptInput() {}
func (AnswerInput) promptInput()   {}

//go:embed *.tmpl
var files embed.FS

var templates = template.Must(template.New("prompts").
	Option("missingkey=error").
	Funcs(template.FuncMap{
		"data":    Data,
		"speaker": speaker,
		"clock":   Clock,
		"day":     day,
		"owner":   owner,
		"due":     due,
	}).
	ParseFS(files, "*.tmpl"))

// Notes renders PurposeNotes for one transcript window (or the whole
// transcript: window 1 of 1).
func Notes(in NotesInput) (Prompt, error) {
	in.Window, in.Windows = max(in.Window, 1), max(in.Windows, 1)
	return render(PurposeNotes, in)
}

// NotesReduce renders PurposeReduce: the summary of a long meeting from
// the segments its window summaries cited. Windows is the number of windows
// that were read.
func NotesReduce(in NotesInput) (Prompt, error) {
	in.Window, in.Windows = max(in.Window, 1), max(in.Windows, 1)
	return render(PurposeReduce, in)
}

// FollowUp renders PurposeFollowUp from validated notes.
func FollowUp(in FollowUpInput) (Prompt, error) {
	return render(PurposeFollowUp, in)
}

// Answer renders PurposeAnswer: a question and the numbered sources it may
// cite.
func Answer(in AnswerInput) (Prompt, error) {
	return render(PurposeAnswer, in)
}

// render executes the system and user templates of purpose ("name.version").
func render(purpose string, data Input) (Prompt, error) {
	name, version, _ := strings.Cut(purpose, ".")
	p := Prompt{Name: name, Version: version}
	var b strings.Builder
	for _, part := range []struct {
		suffix string
		out    *string
	}{{"system", &p.System}, {"user", &p.User}} {
		b.Reset()
		id := name + "." + version + "/" + part.suffix
		if err := templates.ExecuteTemplate(&b, id, data); err != nil {
			return Prompt{}, fmt.Errorf("prompts: render %s: %w", id, err)
		}
		*part.out = b.String()
	}
	return p, nil
}

// Data makes untrusted text safe to place on one line inside the prompts'
// delimiters: line breaks, tabs and other control or format characters
// become single spaces (so a segment cannot forge a new numbered line),
// surrounding space is trimmed, and no run of three '<' or '>' survives (so
// no text can open or close a <<<DELIMITER … DELIMITER>>> block: "<<<" is
// written "<< <"). Everything else, instructions included, is kept as it was
// said: the system prompts tell the model to ignore them.
func Data(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var last rune
	run, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			space = b.Len() > 0
			last, run = 0, 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
			last, run = 0, 0
		}
		if r == '<' || r == '>' {
			if r == last {
				run++
			} else {
				last, run = r, 1
			}
			if run == 3 {
				b.WriteByte(' ')
				run = 1
			}
		} else {
			last, run = 0, 0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Clock formats a segment's start as m:ss, or h:mm:ss from an hour on.
func Clock(ms int64) string {
	if ms < 0 {
		ms = 0
	}
	s := ms / 1000
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}

func speaker(s string) string {
	if s = Data(s); s == "" {
		return "(unknown speaker)"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "(unknown)"
	}
	return t.Format("2006-01-02 (Monday)")
}

func owner(s *string) string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "not named"
	}
	return Data(*s)
}

func due(d *crm.Date) string {
	if d == nil || d.IsZero() {
		return "none given"
	}
	return d.Format("2006-01-02 (Monday)")
}
