package local

import (
	"strings"

	"logbook/internal/stem"
)

// conceptGroups are words that sales and customer-success conversations use
// for the same thing. The embedder adds a shared concept feature for each
// member it sees, so "single sign-on" and "SSO", or "cost" and "price",
// are close without a neural model. Written from the trade's vocabulary,
// not from any test set; each line is one concept.
const conceptGroups = `
sso saml okta sign-on signon login logins single-sign-on entra azuread idp scim provisioning
price prices pricing cost costs costly expensive cheaper discount discounts uplift quote quotes rate rates fee fees budget spend invoice invoices billing
contract contracts renewal renew renewing term agreement msa order-form paperwork signature sign signed
legal dpa gdpr privacy compliance counsel lawyer lawyers redlines redline
security soc2 soc pentest penetration audit audits questionnaire encryption vulnerability
churn cancel cancellation leave leaving switch competitor competitors alternative alternatives
layoff layoffs laid fired let-go restructuring reorg headcount
champion sponsor advocate executive decision-maker
integration integrations api apis webhook webhooks endpoint endpoints connector connectors sync
limit limits throttle throttling quota quotas 429 rate-limit
outage outages downtime incident incidents bug bugs error errors broken crash latency slow slowness
onboarding kickoff rollout launch go-live golive implementation training enablement
deadline due date deadlines timeline eta schedule
promise promised commit committed commitment guarantee guaranteed pledge
hire hired hiring new-hire joined replacement replaced successor
roadmap feature features request requests ask beta release ship shipped shipping
procurement purchasing vendor-management po purchase-order approval approvals approve approved
report reports reporting dashboard dashboards analytics export exports
support ticket tickets escalation escalate escalated sla response
`

// conceptHash is the feature hash of the concept a line of conceptGroups
// stands for, named by its first word. Even, like a unigram's.
func conceptHash(name string) uint64 {
	return fnvString(fnvByte(fnvOffset, 'c'), name) &^ 1
}

// concepts maps a stemmed word to its concept feature's hash.
var concepts = func() map[string]uint64 {
	m := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(conceptGroups), "\n") {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		h := conceptHash(words[0])
		for _, w := range words {
			for _, part := range strings.Split(w, "-") {
				// "sign-on" is said as "sign on": each part stands for the concept
				// only when it is not a common word on its own.
				if len(strings.Split(w, "-")) > 1 && (stopwords[part] || len(part) < 4) {
					continue
				}
				if _, ok := m[stem.Word(part)]; !ok {
					m[stem.Word(part)] = h
				}
			}
		}
	}
	return m
}()

// conceptCoord maps a concept feature's hash to the coordinate Embed gives
// it (at conceptMinDim and above): 1 for the first line of conceptGroups, 2
// for the second, and so on. Reordering the lines changes every vector, so
// it needs a new EmbedModel.
var conceptCoord = func() map[uint64]int {
	m := map[uint64]int{}
	for _, line := range strings.Split(strings.TrimSpace(conceptGroups), "\n") {
		if words := strings.Fields(line); len(words) > 0 {
			m[conceptHash(words[0])] = 1 + len(m)
		}
	}
	return m
}()
