// Package stem reduces English words to a common stem, lightly: enough
// that "promised", "promises" and "promise" match, and "pricing" matches
// "price", without a dictionary; and it finds a question's subject (the
// words after "about"). The offline embedder, the extractive answerer and
// retrieval's relevance check share it, so they agree on what counts as the
// same word and on what a question asks about.
package stem

import "strings"

// Word returns the stem of a lower-case word. Words of three letters or
// fewer, and numbers, are their own stem.
func Word(w string) string {
	if len(w) <= 3 || !hasLetter(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "es") && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") ||
		strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "zes")):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ingly", "edly", "ing", "ed"} {
		if strings.HasSuffix(w, suf) && hasVowel(w[:len(w)-len(suf)]) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			if n := len(w); n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) && !isVowel(w[n-1]) {
				w = w[:n-1] // stopped → stop
			}
			break
		}
	}
	if strings.HasSuffix(w, "ly") && len(w) > 5 {
		w = w[:len(w)-2]
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 {
		w = w[:len(w)-1]
	}
	return w
}

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }

func hasVowel(s string) bool {
	for i := 0; i < len(s); i++ {
		if isVowel(s[i]) {
			return true
		}
	}
	return false
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return true
		}
	}
	return false
}

// subjectMarkers introduce what a question is about: "what did we promise
// Acme about SSO?", "anything regarding the renewal", "concerning pricing".
var subjectMarkers = map[string]bool{"about": true, "regarding": true, "concerning": true}

// Subject returns the words of a question (lower-case, in order) after its
// last subject marker: the subject an answer must be about. Without a
// marker it returns nil.
func Subject(words []string) []string {
	for i := len(words) - 1; i >= 0; i-- {
		if subjectMarkers[words[i]] {
			return words[i+1:]
		}
	}
	return nil
}
