package summarize

import (
	"errors"
	"slices"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/safety"
)

// DropUnsupportedDetail: the claim's text carries an account number, IBAN,
// card, wallet, secret or link that its cited segments do not say: a
// detail the model added (or an attacker's forged citation).
const DropUnsupportedDetail DropReason = "detail not in the cited segments"

// valued reports whether a finding names a concrete detail (an account
// number, a link…) rather than a rule that fired.
func valued(f safety.Finding) bool { return !strings.HasPrefix(f.Value, "rule:") }

// unsupported reports whether text carries a concrete detail that none of
// the cited segments says.
func unsupported(chk *safety.Checker, text string, cited []crm.Segment) bool {
	var said []string
	var read bool
	for _, f := range chk.Check(text) {
		if !valued(f) {
			continue
		}
		if !read {
			var b strings.Builder
			for _, s := range cited {
				b.WriteString(s.Text)
				b.WriteByte('\n')
			}
			for _, g := range chk.Check(b.String()) {
				said = append(said, g.Value)
			}
			read = true
		}
		if !slices.Contains(said, f.Value) {
			return true
		}
	}
	return false
}

// itemFindings are the findings of a claim's text and of its evidence
// quotes.
func itemFindings(chk *safety.Checker, text string, ev []crm.Evidence) []safety.Finding {
	fs := chk.Check(text)
	for _, e := range ev {
		if e.Quote != text {
			fs = append(fs, chk.Check(e.Quote)...)
		}
	}
	return fs
}

// flag marks every item of n that carries payment instructions,
// credentials or an outside link as needing review, with the reason, and
// returns how many it marked. Summary is rebuilt from the sentences that
// are not held.
func flag(chk *safety.Checker, n *crm.Notes) int {
	count := 0
	mark := func(text string, ev []crm.Evidence) (bool, *string) {
		fs := itemFindings(chk, text, ev)
		if len(fs) == 0 {
			return false, nil
		}
		count++
		r := safety.Reason(fs)
		return true, &r
	}
	for _, l := range [][]crm.Point{n.SummarySentences, n.KeyPoints, n.Decisions, n.Risks} {
		for i := range l {
			l[i].NeedsReview, l[i].ReviewReason = mark(l[i].Text, l[i].Evidence)
		}
	}
	for i := range n.ActionItems {
		a := &n.ActionItems[i]
		a.NeedsReview, a.ReviewReason = mark(a.Text, a.Evidence)
	}
	n.Summary = crm.SummaryText(n.SummarySentences)
	n.SummaryEvidence = nil
	for _, p := range n.SummarySentences {
		if !p.Held() {
			n.SummaryEvidence = mergeEvidence(n.SummaryEvidence, p.Evidence)
		}
	}
	return count
}

// licensed is what a draft written from r may carry: the values of the
// findings of r's items (confirmed items may name an account or a link).
func licensed(chk *safety.Checker, r crm.Notes) map[string]bool {
	lic := map[string]bool{}
	add := func(text string, ev []crm.Evidence) {
		for _, f := range itemFindings(chk, text, ev) {
			lic[f.Value] = true
		}
	}
	add(r.Summary, nil)
	for _, l := range [][]crm.Point{r.SummarySentences, r.KeyPoints, r.Decisions, r.Risks} {
		for _, p := range l {
			add(p.Text, p.Evidence)
		}
	}
	for _, a := range r.ActionItems {
		add(a.Text, a.Evidence)
	}
	return lic
}

// errDraftCarriesFlagged rejects a draft whose flagged content could not
// be cut out line by line.
var errDraftCarriesFlagged = errors.New("the draft carries payment instructions, credentials or links that no released item says")

// cleanDraft removes from a draft body the sentences (or, when no single
// sentence carries it, the lines) with findings that lic does not allow,
// and returns the body and how many pieces it removed. A body that still
// carries an unlicensed finding across lines is an error.
func cleanDraft(chk *safety.Checker, body string, lic map[string]bool) (string, int, error) {
	bad := func(s string) bool { return unlicensed(chk, s, lic) }
	if !bad(body) {
		return body, 0, nil
	}
	removed := 0
	var lines []string
	for _, line := range strings.Split(body, "\n") {
		if !bad(line) {
			lines = append(lines, line)
			continue
		}
		var kept []string
		for _, s := range splitSentences(line) {
			if bad(s) {
				removed++
				continue
			}
			kept = append(kept, s)
		}
		l := strings.TrimSpace(strings.Join(kept, " "))
		if l == "" || l == "-" || l == "*" || bad(l) {
			if len(kept) > 0 {
				removed++
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "- ") && !strings.HasPrefix(l, "- ") {
			l = "- " + l
		}
		lines = append(lines, l)
	}
	out := strings.TrimSpace(strings.Join(lines, "\n"))
	if bad(out) {
		return "", removed, errDraftCarriesFlagged
	}
	return out, removed, nil
}

// unlicensed reports whether s carries a finding that lic does not allow.
func unlicensed(chk *safety.Checker, s string, lic map[string]bool) bool {
	for _, f := range chk.Check(s) {
		if !lic[f.Value] {
			return true
		}
	}
	return false
}

// splitSentences cuts a line after '.', '!' or '?' followed by a space.
func splitSentences(line string) []string {
	var out []string
	start := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		if (c == '.' || c == '!' || c == '?') && (i+1 == len(line) || line[i+1] == ' ') {
			out = append(out, strings.TrimSpace(line[start:i+1]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(line[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
