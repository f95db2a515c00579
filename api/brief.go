package api

import (
	"net/http"

	"logbook/brief"
	"logbook/internal/crm"
)

// briefRoutes is the account brief's route. Package brief composes and
// keeps the brief; the numbers in the summary are its caps (brief/brief.go)
// and must change with them.
func briefRoutes() []route {
	return []route{
		{Method: "GET", Path: "/v1/accounts/{id}/brief", Scope: crm.ScopeRead, Handle: (*handler).accountBrief, Tag: "accounts",
			Object: "account",
			Summary: "The account read in under a minute, composed from the record and the meeting notes (no model): " +
				"brief.headline, then brief.sections in this order when they have something to say: The account, Deals, " +
				"Open commitments, Risks raised, Last touch per contact, Recent meetings. Each statement cites the activities " +
				"it rests on in activity_ids; only a deal with no activity logged on it, or an account with none at all, " +
				"cites none. Lists are capped (3 deals; 4 open commitments, soonest due first, at most 2 ours, 2 theirs and 1 " +
				"with no clear owner; 2 risks; 3 contacts; 1 meeting), free text is clipped to a few words, and a capped " +
				"list ends with a statement \"…and N more\" (section.more = N): the longest brief is under 250 words. " +
				"Sides of a commitment (open_action_items[].side): ours when the owner is the name or email of a user of " +
				"the org; theirs when it is a contact of the account's; otherwise decided by the meeting participant of " +
				"that name: theirs when their email is at one of the account's domains, ours when it is a user's email or " +
				"at a user's email domain; else unknown (also when no owner was named). Risks come from the notes of the " +
				"5 newest processed meetings held in the last 90 days. open_action_items (at most 50, soonest due first, " +
				"undated last), deals (at most 50, open first by close date, then closed most recently changed first) and " +
				"last_activity_at are plain data from the database. The brief is cached and rebuilt when the account's " +
				"activities, action items, deals, contacts, meeting notes or the org's users change, and once a day " +
				"(overdue and the risk window move with the date); generated_at says when it was built.",
			Resp: errResps(map[int]any{200: brief.AccountBrief{}}, 404, 422)},
	}
}

// accountBrief answers GET /v1/accounts/{id}/brief with brief.AccountBrief
// (written as brief.AccountBriefJSON: a kept answer is the same bytes).
func (h *handler) accountBrief(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ab, err := brief.New(h.store, h.log).Account(r.Context(), p.OrgID, id, h.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ab)
	return nil
}
