package brief

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// briefDescribe names an activity for a sentence: "inbound email on
// 2026-03-02" (the citation leads to the rest).
func briefDescribe(r store.BriefRef) string {
	return briefKind(r) + " on " + briefDate(r.OccurredAt)
}

// briefKind is an activity's type, with its direction when it has one that
// is not internal.
func briefKind(r store.BriefRef) string {
	if r.Direction != nil && *r.Direction != crm.DirectionInternal {
		return string(*r.Direction) + " " + string(r.Type)
	}
	return string(r.Type)
}

func briefDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func briefOverdue(due *crm.Date, today string) bool {
	return due != nil && due.String() < today
}

func briefSideWord(s store.BriefSide) string {
	switch s {
	case store.BriefOurs:
		return "ours"
	case store.BriefTheirs:
		return "theirs"
	}
	return "unclear"
}

func briefPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func briefCount(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, briefPlural(n, one, many))
}

// briefClip keeps the first n words of s (whitespace folded), marking a cut
// with "…".
func briefClip(s string, n int) string {
	w := strings.Fields(s)
	if len(w) <= n {
		return strings.Join(w, " ")
	}
	return strings.TrimRightFunc(strings.Join(w[:n], " "), unicode.IsPunct) + "…"
}

// briefSentence drops the final full stop of s so a statement can go on.
func briefSentence(s string) string {
	return strings.TrimRight(s, ". ")
}

// briefEnd ends a statement with a full stop unless it already ends with
// one, another end mark or a clipping "…".
func briefEnd(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "…") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

// briefAmount formats 120000.5 in USD as "USD 120,000.5".
func briefAmount(d crm.Decimal, currency *string) string {
	s := string(d)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := sign + b.String()
	if hasFrac {
		out += "." + frac
	}
	if currency != nil && *currency != "" {
		out = *currency + " " + out
	}
	return out
}

// briefIDs lists ids once each, in first-seen order, never nil.
func briefIDs(ids ...string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
