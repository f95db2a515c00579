package quality

import "strings"

// PorterStem returns the stem of a word as NLTK's PorterStemmer() does in
// its default NLTK_EXTENSIONS mode (nltk/stem/porter.py): Porter's 1980
// algorithm with Martin Porter's later changes and NLTK's own (a table of
// irregular forms, "ies"/"ied" of four-letter words, y→i only after a
// consonant, "alli" and "logi" in step 2, words of one or two letters kept).
// The word is lowercased first. rouge.py stems with it, so ROUGE here
// matches rouge.py run with NLTK installed.
func PorterStem(word string) string {
	w := strings.ToLower(word)
	if s, ok := porterIrregular[word]; ok {
		return s
	}
	if len(word) <= 2 {
		return w
	}
	w = porterStep1a(w)
	w = porterStep1b(w)
	w = porterStep1c(w)
	w = porterStep2(w)
	w = porterStep3(w)
	w = porterStep4(w)
	w = porterStep5a(w)
	w = porterStep5b(w)
	return w
}

// porterIrregular is NLTK's pool of irregular forms (form → stem).
var porterIrregular = map[string]string{
	"sky": "sky", "skies": "sky",
	"dying": "die", "lying": "lie", "tying": "tie",
	"news":    "news",
	"innings": "inning", "inning": "inning",
	"outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning",
	"howe":    "howe",
	"proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
}

// isConsonant: a letter other than a, e, i, o, u, and other than a y
// preceded by a consonant (a y at the start is a consonant).
func isConsonant(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		if i == 0 {
			return true
		}
		return !isConsonant(w, i-1)
	}
	return true
}

// measure is m in [C](VC){m}[V]: the number of vowel-consonant changes.
func measure(stem string) int {
	m := 0
	for i := 1; i < len(stem); i++ {
		if !isConsonant(stem, i-1) && isConsonant(stem, i) {
			m++
		}
	}
	return m
}

func positiveMeasure(stem string) bool { return measure(stem) > 0 }

func containsVowel(stem string) bool {
	for i := range len(stem) {
		if !isConsonant(stem, i) {
			return true
		}
	}
	return false
}

// endsDoubleConsonant is *d.
func endsDoubleConsonant(w string) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && isConsonant(w, n-1)
}

// endsCVC is *o: consonant-vowel-consonant, the last not w, x or y; NLTK
// also counts a two-letter vowel-consonant word.
func endsCVC(w string) bool {
	n := len(w)
	if n >= 3 && isConsonant(w, n-3) && !isConsonant(w, n-2) && isConsonant(w, n-1) &&
		w[n-1] != 'w' && w[n-1] != 'x' && w[n-1] != 'y' {
		return true
	}
	return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
}

// porterRule replaces suffix with repl when cond (nil: always) holds for
// the stem before the suffix. The suffix "*d" stands for any double
// consonant at the end of the word.
type porterRule struct {
	suffix, repl string
	cond         func(stem string) bool
}

// applyRules applies the first rule whose suffix the word ends with; when
// that rule's condition fails no later rule is tried.
func applyRules(w string, rules []porterRule) string {
	for _, r := range rules {
		if r.suffix == "*d" && endsDoubleConsonant(w) {
			stem := w[:len(w)-2]
			if r.cond == nil || r.cond(stem) {
				return stem + r.repl
			}
			return w
		}
		if strings.HasSuffix(w, r.suffix) {
			stem := w[:len(w)-len(r.suffix)]
			if r.cond == nil || r.cond(stem) {
				return stem + r.repl
			}
			return w
		}
	}
	return w
}

func porterStep1a(w string) string {
	if strings.HasSuffix(w, "ies") && len(w) == 4 {
		return w[:len(w)-3] + "ie"
	}
	return applyRules(w, []porterRule{
		{"sses", "ss", nil},
		{"ies", "i", nil},
		{"ss", "ss", nil},
		{"s", "", nil},
	})
}

func porterStep1b(w string) string {
	if strings.HasSuffix(w, "ied") {
		if len(w) == 4 {
			return w[:len(w)-3] + "ie"
		}
		return w[:len(w)-3] + "i"
	}
	if strings.HasSuffix(w, "eed") {
		stem := w[:len(w)-3]
		if measure(stem) > 0 {
			return stem + "ee"
		}
		return w
	}
	var inter string
	ok := false
	for _, suf := range []string{"ed", "ing"} {
		if strings.HasSuffix(w, suf) {
			inter = w[:len(w)-len(suf)]
			if containsVowel(inter) {
				ok = true
				break
			}
		}
	}
	if !ok {
		return w
	}
	// inter is not empty: it contains a vowel.
	last := inter[len(inter)-1]
	return applyRules(inter, []porterRule{
		{"at", "ate", nil},
		{"bl", "ble", nil},
		{"iz", "ize", nil},
		{"*d", string(last), func(string) bool { return last != 'l' && last != 's' && last != 'z' }},
		{"", "e", func(stem string) bool { return measure(stem) == 1 && endsCVC(stem) }},
	})
}

func porterStep1c(w string) string {
	return applyRules(w, []porterRule{
		{"y", "i", func(stem string) bool { return len(stem) > 1 && isConsonant(stem, len(stem)-1) }},
	})
}

func porterStep2(w string) string {
	if strings.HasSuffix(w, "alli") && positiveMeasure(w[:len(w)-4]) {
		return porterStep2(w[:len(w)-4] + "al")
	}
	pm := positiveMeasure
	return applyRules(w, []porterRule{
		{"ational", "ate", pm},
		{"tional", "tion", pm},
		{"enci", "ence", pm},
		{"anci", "ance", pm},
		{"izer", "ize", pm},
		{"bli", "ble", pm},
		{"alli", "al", pm},
		{"entli", "ent", pm},
		{"eli", "e", pm},
		{"ousli", "ous", pm},
		{"ization", "ize", pm},
		{"ation", "ate", pm},
		{"ator", "ate", pm},
		{"alism", "al", pm},
		{"iveness", "ive", pm},
		{"fulness", "ful", pm},
		{"ousness", "ous", pm},
		{"aliti", "al", pm},
		{"iviti", "ive", pm},
		{"biliti", "ble", pm},
		{"fulli", "ful", pm},
		// The "l" of "logi" stays with the stem for the measure, so short
		// stems such as "geo" and "theo" work like "archaeo".
		{"logi", "log", func(string) bool { return pm(w[:len(w)-3]) }},
	})
}

func porterStep3(w string) string {
	pm := positiveMeasure
	return applyRules(w, []porterRule{
		{"icate", "ic", pm},
		{"ative", "", pm},
		{"alize", "al", pm},
		{"iciti", "ic", pm},
		{"ical", "ic", pm},
		{"ful", "", pm},
		{"ness", "", pm},
	})
}

func porterStep4(w string) string {
	gt1 := func(stem string) bool { return measure(stem) > 1 }
	return applyRules(w, []porterRule{
		{"al", "", gt1},
		{"ance", "", gt1},
		{"ence", "", gt1},
		{"er", "", gt1},
		{"ic", "", gt1},
		{"able", "", gt1},
		{"ible", "", gt1},
		{"ant", "", gt1},
		{"ement", "", gt1},
		{"ment", "", gt1},
		{"ent", "", gt1},
		{"ion", "", func(stem string) bool {
			return measure(stem) > 1 && (stem[len(stem)-1] == 's' || stem[len(stem)-1] == 't')
		}},
		{"ou", "", gt1},
		{"ism", "", gt1},
		{"ate", "", gt1},
		{"iti", "", gt1},
		{"ous", "", gt1},
		{"ive", "", gt1},
		{"ize", "", gt1},
	})
}

func porterStep5a(w string) string {
	if strings.HasSuffix(w, "e") {
		stem := w[:len(w)-1]
		if measure(stem) > 1 {
			return stem
		}
		if measure(stem) == 1 && !endsCVC(stem) {
			return stem
		}
	}
	return w
}

func porterStep5b(w string) string {
	return applyRules(w, []porterRule{
		{"ll", "l", func(string) bool { return measure(w[:len(w)-1]) > 1 }},
	})
}
