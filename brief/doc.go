// Package brief composes an account's brief: the account read in under a
// minute. It is composed from SQL facts (store.AccountBriefFacts) and the
// stored (already validated) meeting notes; no model is called, so every
// number, date, owner and stage is the database's. Every statement cites the
// activities it rests on. The API's GET /v1/accounts/{id}/brief encodes
// what Service.Account returns.
//
// Rules, also in the route's OpenAPI summary:
//   - Citations: a statement cites the activities it comes from. Only two
//     kinds may cite none: a deal with no activity logged on it, and an
//     account with no activity at all.
//   - Deals: open ones first (soonest close date first), then closed ones
//     (most recently changed first); the brief shows briefMaxDeals.
//   - Open commitments: sides as store.AccountBriefFacts decides them; the
//     brief shows briefMaxCommitments, soonest due first, at most
//     briefMaxPerSide ours and theirs and briefMaxUnknownSide with no clear
//     owner.
//   - Risks: meeting_notes.risks of the briefRiskMeetings newest processed
//     meetings that fall within briefRiskWindow, newest first, duplicates
//     dropped; the brief shows briefMaxRisks.
//   - Last touch per contact: the latest activity linked to each contact,
//     briefMaxTouches contacts, most recently touched first.
//   - Recent meetings: the briefMaxMeetings newest processed meetings with
//     their summary.
//   - A capped list ends with "…and N more" (the section's more), citing the
//     activities of what it leaves out. Free text is clipped to a few words.
//   - The brief is kept in account_briefs with a fingerprint of its facts
//     (store.AccountBriefState) and the UTC date; a read rebuilds it only when
//     the fingerprint changed.
//
// The store reads the facts (and decides the side of a commitment in SQL);
// this package only composes and keeps. Its exported types are the API's
// answer, and their names are the OpenAPI schema names (AccountBrief,
// BriefDoc, BriefSection, …), which is why they repeat the package's name.
package brief
