package local

import (
	"strings"

	"logbook/internal/llm"
	"logbook/prompts"
)

// followUp drafts the follow-up email from validated notes only: a greeting
// to the recipients by first name, thanks, the decisions, the next steps
// with owner and due date where the notes have them, and a closing signed
// by the sender. Nothing is added that the notes do not say.
func followUp(in *prompts.FollowUpInput) llm.FollowUpOutput {
	var subject string
	switch {
	case strings.TrimSpace(in.Title) != "":
		subject = "Follow-up: " + strings.Join(strings.Fields(in.Title), " ")
	case !in.MeetingDate.IsZero():
		subject = "Recap of our call on " + in.MeetingDate.Format("January 2, 2006")
	default:
		subject = "Recap of our call"
	}

	var b strings.Builder
	b.WriteString(greeting(in))
	b.WriteString("\n\n")
	if !in.MeetingDate.IsZero() {
		b.WriteString("Thank you for your time on " + in.MeetingDate.Format("Monday, January 2") + ".")
	} else {
		b.WriteString("Thank you for your time today.")
	}
	if len(in.Decisions) == 0 && len(in.ActionItems) == 0 {
		if s := strings.Join(strings.Fields(in.Summary), " "); s != "" {
			b.WriteString(" A short recap:\n\n" + s)
		}
	}
	b.WriteString("\n")
	if len(in.Decisions) > 0 {
		b.WriteString("\nWhat we agreed:\n")
		for _, d := range in.Decisions {
			if t := bullet(d.Text); t != "" {
				b.WriteString("- " + t + "\n")
			}
		}
	}
	if len(in.ActionItems) > 0 {
		b.WriteString("\nNext steps:\n")
		for _, a := range in.ActionItems {
			t := bullet(a.Text)
			if t == "" {
				continue
			}
			line := "- "
			if a.Owner != nil && strings.TrimSpace(*a.Owner) != "" {
				line += strings.Join(strings.Fields(*a.Owner), " ") + ": "
			}
			line += t
			if a.DueDate != nil && !a.DueDate.IsZero() {
				line += " (by " + a.DueDate.Format("Mon Jan 2") + ")"
			}
			if a.Tentative {
				line += " (tentative)"
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\nPlease let me know if I missed anything.\n\nBest regards,")
	if from := strings.Join(strings.Fields(in.From), " "); from != "" {
		b.WriteString("\n" + from)
	}
	return llm.FollowUpOutput{Subject: subject, Body: b.String()}
}

// bullet is a claim's text as one line without its final period.
func bullet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimRight(s, ".")
}

// greeting is "Hi Tom," / "Hi Tom and Ana," / "Hi Tom, Ana and Raj," with
// the recipients' first names (the sender left out), or "Hi all,".
func greeting(in *prompts.FollowUpInput) string {
	from := strings.ToLower(strings.Join(strings.Fields(in.From), " "))
	var names []string
	seen := map[string]bool{}
	for _, p := range in.To {
		full := strings.Join(strings.Fields(p.Name), " ")
		if full == "" || strings.ToLower(full) == from {
			continue
		}
		first, _, _ := strings.Cut(full, " ")
		if k := strings.ToLower(first); !seen[k] {
			seen[k] = true
			names = append(names, first)
		}
	}
	switch len(names) {
	case 0:
		return "Hi all,"
	case 1:
		return "Hi " + names[0] + ","
	}
	return "Hi " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + ","
}
