package safety

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Code is the machine-readable kind of a finding.
type Code string

// The kinds of findings.
const (
	// CodePayment: payment or money-movement instructions (bank accounts,
	// IBANs, routing details, cards, crypto, gift cards, wires, transfers,
	// changed bank details).
	CodePayment Code = "payment_instructions"
	// CodeCredential: a password, one-time code, key or token, asked for or
	// given, or a login with given credentials.
	CodeCredential Code = "credentials"
	// CodeLink: a link or domain outside the trusted domains.
	CodeLink Code = "external_link"
)

// Finding is one thing a text says that needs a person's review.
type Finding struct {
	Code Code
	// Reason says it for people: "mentions a bank account number".
	Reason string
	// Value is the finding's canonical content ("acct:99112233",
	// "link:evil.example", "rule:wire"), for comparing two texts: a draft
	// may carry a finding only when its input carried the same Value.
	Value string
}

// String is "code: reason".
func (f Finding) String() string { return string(f.Code) + ": " + f.Reason }

// Checker finds what needs review in a text. Its zero value trusts no
// domain. It is safe for concurrent use.
type Checker struct {
	trusted []string
}

// New returns a Checker that accepts links to the given domains and their
// subdomains (the customer's and the org's own); any other link is a
// finding.
func New(trustedDomains []string) *Checker {
	c := &Checker{}
	for _, d := range trustedDomains {
		d = strings.Trim(strings.ToLower(strings.TrimSpace(d)), ".")
		d = strings.TrimPrefix(d, "www.")
		if d != "" && !slices.Contains(c.trusted, d) {
			c.trusted = append(c.trusted, d)
		}
	}
	return c
}

// Check returns the findings of text, each (Code, Value) once, in the
// order payment, credentials, links.
func (c *Checker) Check(text string) []Finding {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	cs := canon(text)
	low := strings.ToLower(cs)
	var fs findings
	if mayLink(low) {
		c.links(cs, &fs)
	}
	shapes(low, &fs)
	rules(tokenize(low), &fs)
	out := fs.list
	slices.SortStableFunc(out, func(a, b Finding) int { return codeRank(a.Code) - codeRank(b.Code) })
	return out
}

func codeRank(c Code) int {
	switch c {
	case CodePayment:
		return 0
	case CodeCredential:
		return 1
	}
	return 2
}

// Reason joins findings for people and machines: "code: reason; code:
// reason", each reason once.
func Reason(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		if s := f.String(); !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

type findings struct{ list []Finding }

func (fs *findings) add(code Code, reason, value string) {
	for _, f := range fs.list {
		if f.Code == code && f.Value == value {
			return
		}
	}
	fs.list = append(fs.list, Finding{Code: code, Reason: reason, Value: value})
}

// Links.

// tlds are the top-level domains a bare domain ("pay-acme.com") is
// recognised by; a URL with a scheme or "www." needs none of them. The
// list is the common generic ones, the country codes of the markets
// Logbook serves and the reserved example ones; file extensions are not
// among them, so "deck.pptx" is no link.
const tldAlt = `com|net|org|io|co|ai|app|dev|info|biz|xyz|online|site|link|me|us|uk|de|fr|es|pt|br|it|nl|eu|ru|cn|in|au|ca|mx|ar|ch|at|be|se|no|dk|fi|pl|cz|ie|top|club|shop|store|pay|bank|finance|money|support|help|tech|cloud|live|ly|to|gl|gg|sh|tk|ml|ga|cf|gq|cc|tv|ws|su|icu|vip|win|bid|loan|click|work|page|zip|mov|example|test|invalid|onion`

var (
	urlRe = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp|hxxps?)://|www\.)[^\s<>"'()\[\]{}]+` +
		`|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:` + tldAlt + `)\b(?::\d{1,5})?(?:/[^\s<>"'()\[\]{}]*)?`)
	schemeRe = regexp.MustCompile(`(?i)^[a-z]+://`)
)

// tldSet is tldAlt as a set.
var tldSet = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Split(tldAlt, "|") {
		m[t] = true
	}
	return m
}()

// mayLink is a quick test for what urlRe matches: a scheme, "www." or a
// dot between a letter or digit and a known top-level domain.
func mayLink(s string) bool {
	if strings.Contains(s, "://") || strings.Contains(s, "www.") {
		return true
	}
	for i := 1; i+2 < len(s); i++ {
		if s[i] != '.' || !isAlnum(s[i-1]) {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		if tldSet[s[i+1:j]] {
			return true
		}
	}
	return false
}

// links finds the URLs and bare domains of s (canon form: a look-alike or
// accented letter is upper case) whose host is not trusted.
func (c *Checker) links(s string, fs *findings) {
	for _, loc := range urlRe.FindAllStringIndex(s, -1) {
		if loc[0] > 0 && s[loc[0]-1] == '@' {
			continue // an email address
		}
		u := strings.TrimRight(s[loc[0]:loc[1]], `.,;:!?'"`)
		host := schemeRe.ReplaceAllString(u, "")
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		host = strings.Trim(host, ".")
		if host == "" {
			continue
		}
		lower := strings.ToLower(host)
		foreign := lower != host || strings.Contains(lower, "xn--")
		if !foreign && c.trustedHost(lower) {
			continue
		}
		reason := "links to " + lower
		if foreign {
			reason = "links to " + lower + ", a look-alike (non-ASCII or punycode) domain"
		}
		fs.add(CodeLink, reason, "link:"+lower)
	}
}

func (c *Checker) trustedHost(h string) bool {
	for _, d := range c.trusted {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// Shapes.

var (
	ibanRe   = regexp.MustCompile(`\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?\b`)
	walletRe = regexp.MustCompile(`\b(?:bc1[a-z0-9]{25,60}|0x[0-9a-f]{40}|[13][a-z0-9]{25,34})\b`)
	secretRe = regexp.MustCompile(`\b(?:(?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?[a-z0-9]{16,}` +
		`|gh[pousr]_[a-z0-9]{20,}|github_pat_[a-z0-9_]{20,}|xox[abprs]-[a-z0-9-]{10,}|akia[0-9a-z]{16}` +
		`|aiza[0-9a-z_-]{30,}|eyj[a-z0-9_-]{8,}\.[a-z0-9_-]{8,}\.[a-z0-9_-]{8,})` +
		`|-----begin [a-z ]*private key-----`)
)

// shapes finds the identifiers that prove themselves: IBANs (mod-97),
// wallet addresses and secret key formats (card numbers are found with
// the other numbers, in rules).
func shapes(s string, fs *findings) {
	if !strings.ContainsAny(s, "0123456789") && !strings.Contains(s, "-----begin") {
		return // every shape below has digits (a key almost always does)
	}
	for _, m := range ibanRe.FindAllString(s, -1) {
		if v := strings.ReplaceAll(m, " ", ""); ibanValid(v) {
			fs.add(CodePayment, "mentions an IBAN", "iban:"+v)
		}
	}
	for _, m := range walletRe.FindAllString(s, -1) {
		if strings.ContainsAny(m[1:], "0123456789") && strings.ContainsFunc(m[2:], unicode.IsLetter) {
			fs.add(CodePayment, "mentions a crypto wallet address", "wallet:"+m)
		}
	}
	for _, m := range secretRe.FindAllString(s, -1) {
		fs.add(CodeCredential, "contains what looks like a secret key or token", "secret:"+m)
	}
}

// ibanValid checks an IBAN's length and ISO 13616 mod-97 check digits.
func ibanValid(v string) bool {
	if len(v) < 15 || len(v) > 34 {
		return false
	}
	r := v[4:] + v[:4]
	mod := 0
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'a' && c <= 'z':
			mod = (mod*100 + int(c-'a') + 10) % 97
		default:
			return false
		}
	}
	return mod == 1
}

// luhn checks a card number's check digit.
func luhn(d string) bool {
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// Tokens.

type tokKind uint8

const (
	tokWord tokKind = iota
	tokNumber
	tokSym
)

// token is one word, number or symbol of a normalised text.
type token struct {
	w    string // the word, the number as written, or the symbol
	kind tokKind
	// digits are a number's digits; sep says they were grouped ("9911-2233");
	// masked says digits were hidden ("9911-…", "****1234"); date says the
	// number is written like a date.
	digits            string
	sep, masked, date bool
}

var dateRe = regexp.MustCompile(`^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$`)

// tokenize splits a normalised text into words (letters and digits;
// apostrophes and hyphens split), numbers (digit groups joined across
// single separators, with what masks them) and the symbols the rules read:
// currency signs, '#', ':', '=', '@'.
func tokenize(s string) []token {
	var out []token
	maskNext := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j, digits, sep := number(s, i)
			t := token{w: s[i:j], kind: tokNumber, digits: digits, sep: sep, masked: maskNext}
			maskNext = false
			if k, ok := maskAfter(s, j); ok {
				t.masked, j = true, k
			}
			t.date = dateRe.MatchString(t.w)
			out = append(out, t)
			i = j
		case unicode.IsLetter(r):
			j := i
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += n2
			}
			w := s[i:j]
			if len(w) >= 2 && strings.Trim(w, "x") == "" {
				maskNext = true // "xxxx-1234"
			} else {
				out = append(out, token{w: w, kind: tokWord})
				maskNext = false
			}
			i = j
		case r == '*':
			j := i
			for j < len(s) && s[j] == '*' {
				j++
			}
			maskNext = j-i >= 2
			i = j
		case strings.ContainsRune("$€£¥₹#:=@/", r):
			if r == '/' {
				// "a/c" is a word of its own.
				if l := len(out); l > 0 && out[l-1].w == "a" && strings.HasPrefix(s[i+1:], "c") {
					out[l-1].w = "a/c"
					i += 2
					continue
				}
			} else {
				out = append(out, token{w: string(r), kind: tokSym})
			}
			i += n
		default:
			if r != ' ' && r != '-' && r != '.' {
				maskNext = false
			}
			i += n
		}
	}
	return out
}

// number reads a digit group at s[i:]: digits, joined across one '-', '.',
// '/', ',' or (between groups of three or more) ' '.
func number(s string, i int) (end int, digits string, sep bool) {
	var b strings.Builder
	j := i
	group := 0
	for j < len(s) {
		c := s[j]
		if c >= '0' && c <= '9' {
			b.WriteByte(c)
			group++
			j++
			continue
		}
		if j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' && strings.IndexByte("-./,", c) >= 0 {
			sep = true
			group = 0
			j++
			continue
		}
		if c == ' ' && group >= 3 && j+3 < len(s) && isDigits(s[j+1:j+4]) {
			sep = true
			group = 0
			j++
			continue
		}
		break
	}
	return j, b.String(), sep
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maskAfter reports a mask right after a number: "-…", "-xxxx", "***".
func maskAfter(s string, j int) (int, bool) {
	k := j
	if k < len(s) && (s[k] == '-' || s[k] == ' ') {
		k++
	}
	for _, m := range []string{"...", "xx", "**", "##"} {
		if strings.HasPrefix(s[k:], m) {
			for k < len(s) && strings.IndexByte(".x*#", s[k]) >= 0 {
				k++
			}
			return k, true
		}
	}
	return j, false
}

// Rules.

// Window sizes, in tokens: how far apart two concepts may be to be read
// together.
const (
	near = 6
	wide = 12
)

// recipientPreps introduce who or what receives a payment.
var recipientPreps = newConcept("to", "into", "a", "al", "au", "aux", "an", "auf", "para", "ao", "sur", "en", "na", "no", "zu")

// rules applies the vocabulary rules to the tokens of a normalised text.
func rules(ws []token, fs *findings) {
	amounts := amountsAt(ws)
	amountNear := func(i, w int) bool {
		for _, a := range amounts {
			if a >= i-w && a <= i+w {
				return true
			}
		}
		return false
	}

	// Account numbers, cards.
	for i, t := range ws {
		if t.kind == tokNumber && len(t.digits) >= 13 && len(t.digits) <= 19 && !t.date &&
			strings.Trim(t.digits, t.digits[:1]) != "" && luhn(t.digits) {
			fs.add(CodePayment, "mentions a payment card number", "card:"+t.digits)
		}
		n, ok := accountNouns.at(ws, i)
		if !ok {
			continue
		}
		for k := i + n; k < len(ws) && k <= i+n+4; k++ {
			if id, ok := identifier(ws, k); ok {
				fs.add(CodePayment, "mentions a bank account number", "acct:"+id)
				break
			}
		}
	}
	if bankDetails.has(ws, 0, len(ws)) {
		i := bankDetails.find(ws, 0, len(ws))[0]
		if changeWords.has(ws, i-wide, i+wide) {
			fs.add(CodePayment, "says bank details changed", "rule:bank_details_changed")
		} else {
			fs.add(CodePayment, "mentions bank details", "rule:bank_details")
		}
	}
	if giftCards.has(ws, 0, len(ws)) {
		fs.add(CodePayment, "mentions gift cards", "rule:gift_cards")
	}
	if cryptoWords.has(ws, 0, len(ws)) {
		fs.add(CodePayment, "mentions cryptocurrency", "rule:crypto")
	}

	// Moving money.
	for _, i := range strongPayVerbs.find(ws, 0, len(ws)) {
		if amountNear(i, wide) || moneyNouns.has(ws, i-near, i+near) || destinations.has(ws, i, i+wide) {
			fs.add(CodePayment, "moves money (a wire or transfer)", "rule:wire")
		}
	}
	for _, i := range transferVerbs.find(ws, 0, len(ws)) {
		if moneyNouns.has(ws, i, i+near) || (amountNear(i, near) && recipientPreps.has(ws, i+1, i+wide)) {
			fs.add(CodePayment, "moves money (a wire or transfer)", "rule:transfer")
		}
	}
	payWords := append(payVerbs.find(ws, 0, len(ws)), payNouns.find(ws, 0, len(ws))...)
	payWords = append(payWords, transferVerbs.find(ws, 0, len(ws))...)
	for _, i := range payWords {
		if destinations.has(ws, i, i+wide) {
			fs.add(CodePayment, "directs a payment to a bank account or wallet", "rule:pay_destination")
		}
	}
	for _, i := range append(payWords, invoiceNouns.find(ws, 0, len(ws))...) {
		if !changeWords.has(ws, i-wide, i+wide) {
			continue
		}
		if destinations.has(ws, i-wide, i+wide) || accountNouns.has(ws, i-wide, i+wide) ||
			(payVerbs.has(ws, i, i+1) && recipientPreps.has(ws, i+1, i+near)) {
			fs.add(CodePayment, "redirects payments to a new destination", "rule:redirect")
		}
	}

	// Credentials.
	for i := 0; i < len(ws); i++ {
		n, ok := credentialNouns.at(ws, i)
		if !ok {
			continue
		}
		end := i + n
		if _, benign := benignHeads.at(ws, end); benign {
			i = end - 1
			continue
		}
		if sharedNear(ws, i, end) {
			fs.add(CodeCredential, "asks for or shares a credential", "rule:credential_shared")
		}
		if end < len(ws) {
			if _, ok := copulas.at(ws, end); ok && end+1 < len(ws) {
				fs.add(CodeCredential, "discloses a credential", "rule:credential_value")
			} else if valueLike(ws[end]) {
				fs.add(CodeCredential, "discloses a credential", "rule:credential_value")
			}
		}
		i = end - 1
	}
	// A login with given credentials: a value, an email address or "my /
	// these credentials" after the verb ("log in with a separate password"
	// only describes how people log in).
	for _, i := range loginVerbs.find(ws, 0, len(ws)) {
		for k := i + 1; k < len(ws) && k <= i+near; k++ {
			_, cred := credentialNouns.at(ws, k)
			_, given := possessives.at(ws, k-1)
			if valueLike(ws[k]) || ws[k].w == "@" || (cred && given && k-1 > i) {
				fs.add(CodeCredential, "says to log in with given credentials", "rule:login_with")
				break
			}
		}
	}
}

// sharedNear reports a share verb within near tokens of the credential
// noun ws[i:end], outside it.
func sharedNear(ws []token, i, end int) bool {
	for _, k := range shareVerbs.find(ws, i-near, end+near) {
		n, _ := shareVerbs.at(ws, k)
		if k+n <= i || k >= end {
			return true
		}
	}
	return false
}

// identifier reports whether ws[k] identifies an account: a masked number,
// six digits or more, or four or more grouped or after "number"/"#"; an
// IBAN-like word. It returns the digits (or the word).
func identifier(ws []token, k int) (string, bool) {
	t := ws[k]
	switch t.kind {
	case tokNumber:
		if t.masked && len(t.digits) >= 2 {
			return t.digits, true
		}
		if t.date {
			return "", false
		}
		if len(t.digits) >= 6 {
			return t.digits, true
		}
		if len(t.digits) >= 4 && (t.sep || (k > 0 && isNumberWord(ws, k-1))) {
			return t.digits, true
		}
	case tokWord:
		if len(t.w) >= 8 && strings.ContainsFunc(t.w, unicode.IsDigit) && strings.ContainsFunc(t.w, unicode.IsLetter) {
			return t.w, true
		}
	}
	return "", false
}

func isNumberWord(ws []token, k int) bool {
	for j := max(k-1, 0); j <= k; j++ {
		if n, ok := numberWords.at(ws, j); ok && j+n == k+1 {
			return true
		}
	}
	return false
}

// valueLike reports a token that looks like a secret's value: four digits
// or more, or letters and digits mixed in five characters or more.
func valueLike(t token) bool {
	switch t.kind {
	case tokNumber:
		return len(t.digits) >= 4
	case tokWord:
		return len(t.w) >= 5 && strings.ContainsFunc(t.w, unicode.IsDigit) && strings.ContainsFunc(t.w, unicode.IsLetter)
	}
	return false
}

// amountsAt returns the token positions of sums of money: a currency sign
// next to a number, a number or a magnitude followed by a currency word.
func amountsAt(ws []token) []int {
	var out []int
	for i, t := range ws {
		switch {
		case t.kind == tokSym && strings.ContainsAny(t.w, "$€£¥₹"):
			if (i+1 < len(ws) && ws[i+1].kind == tokNumber) || (i > 0 && ws[i-1].kind == tokNumber) {
				out = append(out, i)
			}
		case t.kind == tokNumber, t.kind == tokWord && magnitudeAt(ws, i):
			for k := i + 1; k < len(ws) && k <= i+3; k++ {
				if _, ok := currencies.at(ws, k); ok {
					out = append(out, i)
					break
				}
			}
		}
	}
	return out
}

func magnitudeAt(ws []token, i int) bool { _, ok := magnitudes.at(ws, i); return ok }
