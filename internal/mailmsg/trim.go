package mailmsg

import (
	"regexp"
	"strings"
)

// Trim removes from an email's text what the message only repeats or
// signs: the earlier messages of the thread and the signature. Precision
// first: a line is removed only on a clear structural cue, never because
// it merely looks like a quote or a sign-off.
//
// Removed, from the first cue to the end of the text:
//   - an "-----Original Message-----" separator (and variants);
//   - an Outlook header block of an earlier message: a "From:" line
//     followed, only header lines and blank lines between, by a "Sent:"
//     or "Date:" line and a "To:" or "Subject:" line (also in French,
//     German, Spanish, Dutch, Italian and Portuguese), with a line of
//     underscores or dashes just above it. A block whose subject is a
//     forward ("Fw:", "Fwd:") is kept: a forward is the content.
//
// Removed wherever they are:
//   - quoted lines (starting with ">"), and the attribution line(s) that
//     introduce a quoted run ("On … wrote:", also across two or three
//     wrapped lines, and the same in French, German, Spanish, Dutch,
//     Italian and Portuguese);
//   - the signature below a "-- " delimiter line (or a bare "--"), when
//     at most 15 lines follow it;
//   - trailing "Sent from my iPhone"-style lines.
//
// Text between quoted runs (an answer written inline) is kept. Lines are
// never re-wrapped; runs of blank lines left behind are folded into one.
func Trim(text string) string {
	text = cleanText(text)
	if text == "" {
		return ""
	}
	ls := strings.Split(text, "\n")
	ls = ls[:earlierMessage(ls)]
	ls = dropQuotes(ls)
	ls = dropSignature(ls)
	return cleanText(strings.Join(ls, "\n"))
}

var (
	originalRE = regexp.MustCompile(`(?i)^\s*[-_=*]{2,}\s*(original message|original-nachricht|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original)\s*[-_=*]{2,}\s*$`)
	// Header lines of an earlier message, as Outlook (and others) write
	// them above it; "*From:*" as some converters bold them.
	hdrFromRE    = regexp.MustCompile(`(?i)^\s*\*?(from|de|von|van|da|från|fra)\s*:\s*\*?\s*\S`)
	hdrSentRE    = regexp.MustCompile(`(?i)^\s*\*?(sent|date|envoyé|gesendet|datum|enviado|enviada|fecha|verzonden|inviato|data|skickat|sendt)\s*:\s*\*?`)
	hdrToRE      = regexp.MustCompile(`(?i)^\s*\*?(to|à|a|an|para|aan|till|til)\s*:\s*\*?`)
	hdrSubjectRE = regexp.MustCompile(`(?i)^\s*\*?(subject|objet|betreff|asunto|onderwerp|oggetto|assunto|ämne|emne)\s*:\s*\*?(.*)$`)
	hdrOtherRE   = regexp.MustCompile(`(?i)^\s*\*?(cc|bcc|reply-to|importance|priorité|wichtigkeit)\s*:`)
	forwardRE    = regexp.MustCompile(`(?i)^\s*(fw|fwd|wg|tr|rv|doorst)\s*:`)
	separatorRE  = regexp.MustCompile(`^\s*(_{5,}|-{5,})\s*$`)
	// Attribution lines that introduce a quote.
	wroteEndRE   = regexp.MustCompile(`(?i)(wrote|writes|a écrit|schrieb|escribió|schreef|ha scritto|escreveu|skrev)\s*:\s*$`)
	wroteStartRE = regexp.MustCompile(`(?i)^\s*(on|le|am|el|op|il|em|den|på)\s\S`)
	mobileRE     = regexp.MustCompile(`(?i)^\s*(sent from my \S.*|sent from (mail|outlook|yahoo mail|gmail)\b.*|get outlook for (ios|android).*|envoyé de mon \S.*|von meinem \S.* gesendet|enviado desde mi \S.*)$`)
)

// earlierMessage returns the index of the first line of an earlier message
// the text carries below its own (len(ls) when there is none).
func earlierMessage(ls []string) int {
	for i, l := range ls {
		if originalRE.MatchString(l) {
			return i
		}
		if hdrFromRE.MatchString(l) && headerBlock(ls, i) {
			// Take the separator line above along.
			j := i - 1
			for j >= 0 && strings.TrimSpace(ls[j]) == "" {
				j--
			}
			if j >= 0 && separatorRE.MatchString(ls[j]) {
				return j
			}
			return i
		}
	}
	return len(ls)
}

// headerBlock reports whether ls[i] (a From: line) starts the header
// block of an earlier message that is not a forward.
func headerBlock(ls []string, i int) bool {
	sent, to, n := false, false, 0
	for j := i + 1; j < len(ls) && n < 8; j++ {
		l := ls[j]
		if strings.TrimSpace(l) == "" {
			continue
		}
		n++
		switch {
		case hdrSentRE.MatchString(l):
			sent = true
		case hdrSubjectRE.MatchString(l):
			if m := hdrSubjectRE.FindStringSubmatch(l); m != nil && forwardRE.MatchString(m[2]) {
				return false
			}
			to = true
		case hdrToRE.MatchString(l):
			to = true
		case hdrOtherRE.MatchString(l):
		default:
			return sent && to
		}
	}
	return sent && to
}

// isQuoted reports whether a line is quoted.
func isQuoted(l string) bool { return strings.HasPrefix(l, ">") }

// dropQuotes removes quoted lines and the attributions that introduce
// them.
func dropQuotes(ls []string) []string {
	drop := make([]bool, len(ls))
	for i, l := range ls {
		if !isQuoted(l) {
			continue
		}
		drop[i] = true
		if i > 0 && isQuoted(ls[i-1]) {
			continue
		}
		// The start of a quoted run: the attribution above it, past
		// blank lines, goes too.
		j := i - 1
		for j >= 0 && strings.TrimSpace(ls[j]) == "" {
			j--
		}
		if j < 0 || !wroteEndRE.MatchString(ls[j]) {
			continue
		}
		// "On … wrote:" on one line, or wrapped over up to three.
		for k := j; k >= 0 && k >= j-2; k-- {
			if strings.TrimSpace(ls[k]) == "" {
				break
			}
			if wroteStartRE.MatchString(ls[k]) && len(strings.Join(ls[k:j+1], " ")) <= 400 {
				for m := k; m <= j; m++ {
					drop[m] = true
				}
				break
			}
		}
	}
	out := ls[:0:0]
	for i, l := range ls {
		if !drop[i] {
			out = append(out, l)
		}
	}
	return out
}

// dropSignature removes a signature below its delimiter, and mobile
// sign-off lines at the end.
func dropSignature(ls []string) []string {
	end := len(ls)
	for end > 0 && strings.TrimSpace(ls[end-1]) == "" {
		end--
	}
	for end > 0 && mobileRE.MatchString(ls[end-1]) {
		end--
		for end > 0 && strings.TrimSpace(ls[end-1]) == "" {
			end--
		}
	}
	ls = ls[:end]
	for i := len(ls) - 1; i >= 0 && i >= len(ls)-16; i-- {
		if ls[i] == "-- " || strings.TrimRight(ls[i], " ") == "--" {
			return ls[:i]
		}
	}
	return ls
}
