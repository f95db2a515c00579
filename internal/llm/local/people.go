package local

import (
	"strings"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/llm/local/speech"
)

// person is someone in the meeting.
type person struct {
	name    string   // the speaker label, or the participant's name
	first   string   // lower-case first name
	parts   []string // lower-case words of the name
	speaker bool
}

// people are the meeting's speakers and participants, each once.
type people struct {
	list     []person
	speakers []string // distinct valid speaker labels, in order of first turn
}

// validLabel reports whether a speaker label names a person (not "",
// "Unknown" or "Speaker 2").
func validLabel(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" || l == "unknown" || l == "guest" || l == "unidentified" {
		return false
	}
	if rest, ok := strings.CutPrefix(l, "speaker"); ok {
		rest = strings.TrimSpace(strings.TrimLeft(rest, " _-#"))
		if rest == "" || strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsDigit(r) && !unicode.IsLetter(r) }) < 0 && len(rest) <= 2 {
			return false
		}
	}
	return strings.IndexFunc(l, unicode.IsLetter) >= 0
}

func firstName(name string) string {
	f, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(name)), " ")
	return strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
}

func newPeople(parts []crm.Participant, segs []crm.Segment) people {
	var p people
	has := func(full string) bool {
		for _, q := range p.list {
			if strings.EqualFold(q.name, full) {
				return true
			}
		}
		return false
	}
	for _, s := range segs {
		label := strings.Join(strings.Fields(s.Speaker), " ")
		if !validLabel(label) || has(label) {
			continue
		}
		p.list = append(p.list, person{name: label, first: firstName(label), parts: strings.Fields(strings.ToLower(label)), speaker: true})
		p.speakers = append(p.speakers, label)
	}
	for _, pt := range parts {
		name := strings.Join(strings.Fields(pt.Name), " ")
		if !validLabel(name) || has(name) {
			continue
		}
		f := firstName(name)
		merged := false
		for _, q := range p.list {
			// "Dana" speaking is "Dana Whitfield" on the invite
			if q.speaker && q.first == f && !strings.Contains(q.name, " ") {
				merged = true
			}
		}
		if !merged {
			p.list = append(p.list, person{name: name, first: f, parts: strings.Fields(strings.ToLower(name))})
		}
	}
	return p
}

// byFirst returns the one person with first name f (lower case).
func (p people) byFirst(f string) (string, bool) {
	hit := ""
	for _, q := range p.list {
		if q.first == f && f != "" {
			if hit != "" {
				return "", false
			}
			hit = q.name
		}
	}
	return hit, hit != ""
}

// nameAt returns the person word k of ws names ("Priya", "Priya's",
// "Priya'll"): capitalised, and a first name only one person has.
func (m *meeting) nameAt(ws []speech.Word, k int) (string, bool) {
	if k < 0 || k >= len(ws) || !ws[k].Upper {
		return "", false
	}
	w := ws[k].W
	w = strings.TrimSuffix(w, "'s")
	w = strings.TrimSuffix(w, "'ll")
	return m.ppl.byFirst(w)
}

// nameSpan returns the person whose name starts at word k of ws and the
// number of words it takes: a speaker label or participant name of several
// words said in full ("Support Lead"), or a first name only one person has
// (as nameAt), either followed by one more capitalised word, a surname or
// a title ("Dana Smith", "Support Lead Engineer").
func (m *meeting) nameSpan(ws []speech.Word, k int) (string, int, bool) {
	if k < 0 || k >= len(ws) || !ws[k].Upper {
		return "", 0, false
	}
	bare := func(w string) string { return strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'ll") }
	name, n := "", 0
	for _, p := range m.ppl.list {
		parts := p.parts
		if len(parts) < 2 || len(parts) <= n || k+len(parts) > len(ws) {
			continue
		}
		ok := true
		for i, part := range parts {
			w := ws[k+i].W
			if i == len(parts)-1 {
				w = bare(w)
			}
			if w != part || (i < len(parts)-1 && w != ws[k+i].W) {
				ok = false
				break
			}
		}
		if ok {
			name, n = p.name, len(parts)
		}
	}
	if n == 0 {
		var ok bool
		if name, ok = m.nameAt(ws, k); !ok {
			return "", 0, false
		}
		n = 1
	}
	last := ws[k+n-1].W
	if j := k + n; j < len(ws) && ws[j].Upper && ws[j].W != "i" && bare(last) == last && !strings.HasPrefix(ws[j].W, "i'") {
		n++
	}
	return name, n, true
}
