package activity

import (
	"fmt"
	"slices"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// needsSettings reports whether the org's disposition rules can change the
// verdict on an activity: only calls and voicemails carry a disposition, and
// only an outbound call can be required to. A disposition on another type is
// refused whatever the settings say.
func needsSettings(typ crm.ActivityType, dir *crm.Direction, disposition *string) bool {
	if !typ.TakesDisposition() {
		return false
	}
	return disposition != nil || (typ == crm.ActivityCall && dir != nil && *dir == crm.DirectionOutbound)
}

// addRefs records in q what one create input refers to.
func addRefs(q *store.ActivityRefsQuery, in *crm.ActivityInput) {
	if needsSettings(in.Type.V, in.Direction.Ptr(), in.Disposition.Ptr()) {
		q.Settings = true
	}
	ids := ptrSlice(in.ContactIDs.Ptr())
	for _, id := range ids {
		q.ContactIDs = append(q.ContactIDs, strings.ToLower(id))
	}
	byDomain := in.AccountID.Ptr() == nil && len(ids) == 0
	for _, p := range ptrSlice(in.Participants.Ptr()) {
		if p.Email == "" {
			continue
		}
		q.Emails = append(q.Emails, p.Email)
		if byDomain {
			q.Domains = append(q.Domains, crm.EmailDomain(p.Email))
		}
	}
}

// resolve finds the account of a create input and the contacts to link,
// adding a problem for what cannot be resolved:
//   - account_id, when given, is the account (its existence is the foreign
//     key's business);
//   - else contact_ids must all be contacts of the org, of one account;
//   - else participants' emails are matched to contacts, and only when none
//     matches, their domains to account domains; the account with the most
//     matches wins, and a tie is ambiguous.
//
// Linked are the contacts named in contact_ids and those whose email matches
// a participant, limited to the resolved account.
func resolve(lk *store.ActivityRefs, in *crm.ActivityInput, p *crm.Problems) (string, []string) {
	before := p.Len()
	ids := ptrSlice(in.ContactIDs.Ptr())
	named := namedContacts(lk, ids, p)
	matched := matchedContacts(lk, ptrSlice(in.Participants.Ptr()))
	var account string
	switch {
	case in.AccountID.Ptr() != nil:
		account = strings.ToLower(*in.AccountID.Ptr())
	case len(ids) > 0:
		if p.Len() > before {
			return "", nil
		}
		var accounts []string
		for _, c := range named {
			if !slices.Contains(accounts, c.AccountID) {
				accounts = append(accounts, c.AccountID)
			}
		}
		if len(accounts) > 1 {
			p.Add("contact_ids", "contacts belong to different accounts; pass account_id")
			return "", nil
		}
		account = accounts[0]
	case len(matched) > 0:
		counts := map[string]int{}
		for _, c := range matched {
			counts[c.AccountID]++
		}
		var ok bool
		if account, ok = mostCounted(counts); !ok {
			p.Add("participants", "match contacts of different accounts equally often; pass account_id")
			return "", nil
		}
	default:
		counts := map[string]int{}
		seen := map[string]bool{}
		for _, pt := range ptrSlice(in.Participants.Ptr()) {
			if pt.Email == "" || seen[pt.Email] {
				continue
			}
			seen[pt.Email] = true
			if acc, ok := lk.AccountByDomain[crm.EmailDomain(pt.Email)]; ok {
				counts[acc]++
			}
		}
		if len(counts) == 0 {
			p.Add("participants", "no contact or account domain matches these participants; pass account_id")
			return "", nil
		}
		var ok bool
		if account, ok = mostCounted(counts); !ok {
			p.Add("participants", "match the domains of different accounts equally often; pass account_id")
			return "", nil
		}
	}
	return account, linkable(account, named, matched)
}

// namedContacts looks up contact_ids; one that is not a contact of the org is
// a problem on its index.
func namedContacts(lk *store.ActivityRefs, ids []string, p *crm.Problems) []store.ContactRef {
	var out []store.ContactRef
	for i, id := range ids {
		c, ok := lk.ContactsByID[strings.ToLower(id)]
		if !ok {
			p.Add(fmt.Sprintf("contact_ids[%d]", i), "is not a contact of this org")
			continue
		}
		out = append(out, c)
	}
	return out
}

// matchedContacts are the contacts whose email a participant carries.
func matchedContacts(lk *store.ActivityRefs, ps []crm.Participant) []store.ContactRef {
	var out []store.ContactRef
	seen := map[string]bool{}
	for _, pt := range ps {
		c, ok := lk.ContactsByEmail[pt.Email]
		if pt.Email == "" || !ok || seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out
}

// linkable returns the distinct IDs, sorted, of the contacts of account.
func linkable(account string, lists ...[]store.ContactRef) []string {
	out := []string{}
	for _, l := range lists {
		for _, c := range l {
			if c.AccountID == account && !slices.Contains(out, c.ID) {
				out = append(out, c.ID)
			}
		}
	}
	slices.Sort(out)
	return out
}

// mostCounted returns the key with the highest count; false when several
// share it.
func mostCounted(counts map[string]int) (string, bool) {
	best, n, tie := "", 0, false
	for k, c := range counts {
		switch {
		case c > n:
			best, n, tie = k, c, false
		case c == n:
			tie = true
		}
	}
	return best, !tie
}

func ptrSlice[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
