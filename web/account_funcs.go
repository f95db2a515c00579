package web

import "time"

// reviewFlag is what the "review-flag" partial needs of one notes item: its
// place in the notes (kind, index, an action item's ID), its text as shown
// and its review state.
type reviewFlag struct {
	CSRF, ActivityID, Kind string
	Index                  int
	ID, Text               string
	NeedsReview            bool
	Reason                 string
	ConfirmedAt            *time.Time
}

// reviewArgs builds a reviewFlag in a template (templates take one value).
func reviewArgs(csrf, activityID, kind string, index int, id, text string, needs bool, reason *string, confirmedAt *time.Time) reviewFlag {
	f := reviewFlag{CSRF: csrf, ActivityID: activityID, Kind: kind, Index: index, ID: id, Text: text,
		NeedsReview: needs, ConfirmedAt: confirmedAt}
	if reason != nil {
		f.Reason = *reason
	}
	return f
}
