package safety

import (
	"html"
	"regexp"
	"strings"
	"unicode"
)

// Normalize returns text in the canonical form the detector reads: HTML
// entities decoded; tags and markdown links reduced to their text and
// their targets; format characters (zero-width spaces and joiners, the
// soft hyphen, the byte-order mark) and combining marks removed; every
// kind of white space one space; fullwidth forms, mathematical letters and
// digits, superscript, subscript and circled digits and the decimal digits
// of every script folded to ASCII (the compatibility folding of NFKC, for
// the characters that matter here); Latin letters without their accents;
// Cyrillic and Greek letters that look like Latin ones made Latin; lower
// case; letter-spaced runs ("w i r e", "9 9 1 1") joined; spoken domains
// ("acme dot com slash pay") written as domains.
func Normalize(text string) string { return strings.ToLower(canon(text)) }

// canon is Normalize except that a letter that was a look-alike or an
// accented letter before folding is written in upper case (every other
// letter is lower case), so a host spelled with one can be told apart from
// the ASCII host it imitates.
func canon(text string) string {
	s := text
	for range 2 {
		if !strings.Contains(s, "&") {
			break
		}
		s = html.UnescapeString(s)
	}
	s = fold(s)
	// Each rewrite runs only when the text has what it rewrites: the
	// regular expressions are the costly part, and most sentences need none.
	if strings.Contains(s, "](") {
		s = mdLink.ReplaceAllString(s, " $1 $2 ")
	}
	if strings.Contains(s, "<") {
		s = tag.ReplaceAllStringFunc(s, untag)
	}
	s = collapseSpaces(s)
	if hasSpacedRun(s) {
		s = spaced.ReplaceAllStringFunc(s, func(m string) string {
			return strings.Map(func(r rune) rune {
				if r == ' ' || r == '.' || r == '_' || r == '-' {
					return -1
				}
				return r
			}, m)
		})
	}
	low := strings.ToLower(s)
	if containsAny(low, " dot ", " punto ", " point ", " punkt ", " ponto ") {
		for range 3 {
			t := spokenDot.ReplaceAllString(s, "$1.$2$3")
			if t == s {
				break
			}
			s = t
		}
	}
	if containsAny(low, " slash ", " barra ", " schragstrich ") {
		s = spokenSlash.ReplaceAllString(s, "$1/$2")
	}
	return s
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// hasSpacedRun is a quick test for what spaced matches: a single letter or
// digit, a separator, a single letter or digit, a separator, and a third.
func hasSpacedRun(s string) bool {
	single := func(i int) bool {
		return i >= 0 && i < len(s) && isAlnum(s[i]) && (i == 0 || !isAlnum(s[i-1])) && (i+1 == len(s) || !isAlnum(s[i+1]))
	}
	for i := 0; i+4 < len(s); i++ {
		if single(i) && isSep(s[i+1]) && single(i+2) && isSep(s[i+3]) && single(i+4) {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isSep(c byte) bool { return c == ' ' || c == '.' || c == '_' || c == '-' }

var (
	// mdLink is a markdown link or image: [text](target "title").
	mdLink = regexp.MustCompile(`!?\[([^\]\n]{0,500})\]\(\s*<?([^()\s<>]{1,1000})>?(?:\s+"[^"\n]*")?\s*\)`)
	// tag is anything between < and >: an HTML tag, an autolink, or text.
	tag = regexp.MustCompile(`<[^<>]{1,1000}>`)
	// tagName opens an HTML tag (or closes one).
	tagName = regexp.MustCompile(`(?i)^/?[a-z][a-z0-9-]*(?:\s|/?$)`)
	// attrURL is an attribute of a tag that holds a link.
	attrURL = regexp.MustCompile(`(?i)\b(?:href|src|action|formaction|data-href|xlink:href|poster|cite)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	// spaced is a run of three or more single letters or digits, each
	// apart by one separator: "w i r e", "p.a.y", "9 9 1 1".
	spaced = regexp.MustCompile(`(?:^|\b)[\pL\pN](?:[ ._-][\pL\pN]){2,}\b`)
	// spokenDot is a domain said aloud: "pay-acme dot com".
	spokenDot = regexp.MustCompile(`(?i)\b([a-z0-9][a-z0-9-]{0,62}) (?:dot|punto|point|punkt|ponto) (` + spokenTLDs + `)(\b|$)`)
	// spokenSlash continues a domain said aloud: "acme.com slash pay".
	spokenSlash = regexp.MustCompile(`(?i)(\.(?:` + spokenTLDs + `)(?:/[a-z0-9._~-]+)*) (?:slash|barra|schragstrich) ([a-z0-9._~-]+)`)
)

// spokenTLDs are the top-level domains a spoken domain is joined on: those
// that are not also short words of the five languages ("the right point to
// start", "press and point it").
const spokenTLDs = `com|net|org|io|info|biz|xyz|app|dev|online|site|link|de|fr|es|pt|br|uk|eu|nl|ru|cn|mx|ar|ch|pl|cz|shop|store|example|test`

// untag reduces a tag to the links its attributes hold; an autolink or a
// stray pair of angle brackets keeps its text.
func untag(t string) string {
	inner := t[1 : len(t)-1]
	if !tagName.MatchString(inner) {
		return " " + inner + " "
	}
	var b strings.Builder
	b.WriteByte(' ')
	for _, m := range attrURL.FindAllStringSubmatch(inner, -1) {
		b.WriteString(m[1] + m[2] + m[3])
		b.WriteByte(' ')
	}
	return b.String()
}

func collapseSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// fold maps every rune of s to its canonical form (see Normalize), writing
// look-alike and accented letters in upper case.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			if r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' {
				b.WriteByte(' ')
			} else if r < 0x20 || r == 0x7f {
				b.WriteByte(' ')
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			continue
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
			continue // zero-width, soft hyphen, BOM, combining marks, variation selectors
		case unicode.IsSpace(r), unicode.Is(unicode.Zs, r), unicode.IsControl(r):
			b.WriteByte(' ')
			continue
		}
		if d, ok := digitValue(r); ok {
			b.WriteByte('0' + byte(d))
			continue
		}
		if r >= 0xFF01 && r <= 0xFF5E { // fullwidth ASCII
			b.WriteRune(unicode.ToLower(r - 0xFEE0))
			continue
		}
		if r >= 0x1D400 && r <= 0x1D6A3 { // mathematical letters
			k := (r - 0x1D400) % 52
			if k >= 26 {
				k -= 26
			}
			b.WriteByte('a' + byte(k))
			continue
		}
		if p, ok := punct[r]; ok {
			b.WriteString(p)
			continue
		}
		l := unicode.ToLower(r)
		if f := latinBase(l); f != "" {
			b.WriteString(strings.ToUpper(f))
			continue
		}
		if f, ok := lookalike[l]; ok {
			b.WriteRune(unicode.ToUpper(f))
			continue
		}
		b.WriteRune(l)
	}
	return b.String()
}

// digitValue is the value of a decimal digit of any script (Unicode Nd:
// every script's digits are encoded as runs of ten from zero, so the
// value is the offset in its run) or of a superscript, subscript or
// circled digit.
func digitValue(r rune) (int, bool) {
	switch {
	case r == 0xB9:
		return 1, true
	case r == 0xB2 || r == 0xB3:
		return int(r - 0xB0), true
	case r == 0x2070:
		return 0, true
	case r >= 0x2074 && r <= 0x2079:
		return int(r - 0x2070), true
	case r >= 0x2080 && r <= 0x2089:
		return int(r - 0x2080), true
	case r >= 0x2460 && r <= 0x2468:
		return int(r - 0x245F), true
	case r == 0x24EA:
		return 0, true
	}
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// punct folds typographic punctuation to ASCII.
var punct = map[rune]string{
	'\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '\u00b4': "'",
	'\u201c': `"`, '\u201d': `"`, '\u201e': `"`, '\u201f': `"`, '\u2033': `"`, '\u00ab': `"`, '\u00bb': `"`,
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-", '\u2212': "-",
	'\u2026': "...", '\u2024': ".", '\u3002': ".", '\uff61': ".", '\u2215': "/", '\u2044': "/",
	'\u00b7': ".", '\u2027': ".", '\u02d0': ":", '\u0589': ":", '\u2236': ":", '\ua789': ":",
	'\u3000': " ",
}

// latinBase strips the accent of a lower-case Latin-1 or Latin
// Extended-A letter ("é" → "e", "ß" → "ss"); "" for any other rune.
func latinBase(r rune) string {
	switch {
	case r >= 0xE0 && r <= 0xE5:
		return "a"
	case r == 0xE6:
		return "ae"
	case r == 0xE7:
		return "c"
	case r >= 0xE8 && r <= 0xEB:
		return "e"
	case r >= 0xEC && r <= 0xEF:
		return "i"
	case r == 0xF0:
		return "d"
	case r == 0xF1:
		return "n"
	case r >= 0xF2 && r <= 0xF6, r == 0xF8:
		return "o"
	case r >= 0xF9 && r <= 0xFC:
		return "u"
	case r == 0xFD || r == 0xFF:
		return "y"
	case r == 0xFE:
		return "th"
	case r == 0xDF:
		return "ss"
	}
	if r < 0x100 || r > 0x17F {
		return ""
	}
	for _, g := range latinA {
		if r <= g.hi {
			return g.base
		}
	}
	return ""
}

// latinA are the Latin Extended-A letters by block, upper and lower case
// alike, each with the letter it carries an accent on.
var latinA = []struct {
	hi   rune
	base string
}{
	{0x105, "a"}, {0x10D, "c"}, {0x111, "d"}, {0x11B, "e"}, {0x123, "g"}, {0x127, "h"}, {0x131, "i"},
	{0x133, "ij"}, {0x135, "j"}, {0x138, "k"}, {0x142, "l"}, {0x14B, "n"}, {0x151, "o"}, {0x153, "oe"},
	{0x159, "r"}, {0x161, "s"}, {0x167, "t"}, {0x173, "u"}, {0x175, "w"}, {0x178, "y"}, {0x17E, "z"},
	{0x17F, "s"},
}

// lookalike maps lower-case Cyrillic and Greek letters (and a few Latin
// variants) to the ASCII letter they are drawn like, in either case.
var lookalike = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q',
	'ԝ': 'w', 'ɡ': 'g', 'ɑ': 'a', 'ӏ': 'l',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'i', 'κ': 'k', 'μ': 'm', 'ν': 'v', 'ο': 'o',
	'ρ': 'p', 'τ': 't', 'υ': 'y', 'χ': 'x', 'ϲ': 'c',
}
