// Package summarize turns a meeting's segments into crm.Notes: a summary,
// key points, decisions, risks, action items with their evidence, and a
// follow-up draft. It reaches the model only through llm.Completer and has
// no database access.
//
// It is token-budgeted. When the transcript fits Config.ContextTokens it
// makes one structured notes call; otherwise it splits the segments into
// windows on segment boundaries (Windows), makes one notes call per
// window, merges the windows' decisions, risks, key points and action items
// (near-identical items become one, keeping all their evidence) and writes
// the summary with one notes-reduce call over the segments the window
// summaries cited. A meeting with more than Config.MaxWindows windows is cut
// after MaxWindows of them, and Notes.Coverage says what share of the
// segments was read.
//
// Nothing uncited is invented: every claim the model makes must cite
// segments that exist in what it was given and quote words that occur in
// them (compared ignoring case, curly quotes and runs of white space), or it
// is dropped. Evidence is rebuilt from the real segments. An action item's
// owner is kept only when it names a speaker or participant, its due date
// only when the date phrase was said in the cited segments and resolves
// (internal/datephrase) against the meeting date; a hedged commitment is
// tentative. Stats reports what was dropped or cleared and why.
//
// The model's answer must be JSON of the right shape: a malformed answer is
// asked for once more at once, and a second malformed answer fails the call
// with ErrInvalidOutput (not llm.ErrPermanent; the worker fails the
// transcript on it at once). Before any call, Check refuses a transcript
// over the Config limits (too many turns, one turn of text without breaks,
// too many tokens, no words at all) with a *RejectedError whose Reason a
// user can read. When the notes succeed and only the follow-up draft
// fails, the notes are returned with a *FollowUpError. Errors from the
// Completer pass through wrapped, so errors.Is(err, llm.ErrPermanent) still
// tells a refused request.
package summarize
