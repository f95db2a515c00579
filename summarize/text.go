package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normText is a text normalised for quote matching (lower case, straight
// quotes, plain dashes, "..." for "…", runs of white space as one space,
// trimmed), with, for every byte of s, the byte range of the original rune
// it came from, so a match in s maps back to the original words.
type normText struct {
	s          string
	start, end []int
}

// foldRune maps one rune to its normalised form; ok is false for white
// space.
func foldRune(r rune) (string, bool) {
	switch r {
	case '\u2018', '\u2019', '\u201a', '\u201b', '\u2032', '`', '\u00b4':
		return "'", true
	case '\u201c', '\u201d', '\u201e', '\u201f', '\u2033', '\u00ab', '\u00bb':
		return `"`, true
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return "-", true
	case '\u2026':
		return "...", true
	}
	if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
		return "", false
	}
	return string(unicode.ToLower(r)), true
}

func normalize(orig string) normText {
	n := normText{
		start: make([]int, 0, len(orig)),
		end:   make([]int, 0, len(orig)),
	}
	var b strings.Builder
	b.Grow(len(orig))
	pendingSpace := -1 // original offset of a pending space run, or -1
	for i, r := range orig {
		_, size := utf8.DecodeRuneInString(orig[i:]) // 1 for an invalid byte
		f, ok := foldRune(r)
		if !ok {
			if b.Len() > 0 && pendingSpace < 0 {
				pendingSpace = i
			}
			continue
		}
		if pendingSpace >= 0 {
			b.WriteByte(' ')
			n.start = append(n.start, pendingSpace)
			n.end = append(n.end, i)
			pendingSpace = -1
		}
		b.WriteString(f)
		for range len(f) {
			n.start = append(n.start, i)
			n.end = append(n.end, i+size)
		}
	}
	n.s = b.String()
	return n
}

// normString is normalize(s).s.
func normString(s string) string { return normalize(s).s }

// quoteTrim is what is trimmed from both ends of a model's quote before it
// is looked up: white space, quotation marks and sentence punctuation. A
// shorter quote is still checked as a substring, so trimming never lets an
// invented quote through.
const quoteTrim = " \t\r\n\"'.,;:!?\u2018\u2019\u201c\u201d\u00ab\u00bb\u2026-\u2013\u2014"

// cleanQuote trims a model's quote and normalises it; "" when nothing
// quotable (no letter or digit) is left.
func cleanQuote(q string) string {
	n := normString(strings.Trim(q, quoteTrim))
	n = strings.Trim(n, quoteTrim)
	if !strings.ContainsFunc(n, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
		return ""
	}
	return n
}

// hedges are the words that make a commitment tentative, normalised.
var hedges = []string{
	"might", "maybe", "may be able", "possibly", "perhaps", "try to", "hopefully", "not sure",
}

// hedged reports whether the normalised text contains a hedge as whole
// words.
func hedged(norm string) bool {
	for _, h := range hedges {
		if containsWords(norm, h) {
			return true
		}
	}
	return false
}

// containsWords reports whether phrase occurs in s with word boundaries on
// both sides.
func containsWords(s, phrase string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], phrase)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(phrase)
		if !wordByteBefore(s, i) && !wordByteAt(s, j) {
			return true
		}
		off = i + 1
	}
}

func wordByteBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

func wordByteAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) })
}

// collapse trims s and turns every run of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
