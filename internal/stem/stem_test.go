package stem

import (
	"strings"
	"testing"
)

func TestWord(t *testing.T) {
	groups := [][]string{
		{"promise", "promised", "promises", "promising"},
		{"price", "prices", "pricing", "priced"},
		{"concern", "concerns", "concerned"},
		{"company", "companies"},
		{"stop", "stopped", "stopping"},
		{"renewal", "renewals"},
		{"integrate", "integrated", "integrates", "integrating"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			if Word(w) != Word(g[0]) {
				t.Errorf("Word(%q) = %q, Word(%q) = %q: want the same stem", w, Word(w), g[0], Word(g[0]))
			}
		}
	}
	for _, w := range []string{"sso", "api", "2026", "status", "process", "analysis", "bus"} {
		if got := Word(w); got != w {
			t.Errorf("Word(%q) = %q, want it unchanged", w, got)
		}
	}
}

func TestSubject(t *testing.T) {
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"what", "did", "we", "promise", "acme", "about", "sso"}, "sso"},
		{[]string{"anything", "about", "pricing", "regarding", "the", "renewal"}, "the renewal"},
		{[]string{"when", "is", "the", "renewal"}, ""},
		{[]string{"tell", "me", "about"}, ""},
	} {
		if got := strings.Join(Subject(c.words), " "); got != c.want {
			t.Errorf("Subject(%q) = %q, want %q", c.words, got, c.want)
		}
	}
}
