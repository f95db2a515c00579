package web

import (
	"context"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// accountTools is what the account page's interactive sections render
// from: "Search this account" (template "account-search", section
// #search), "Ask about this account" ("account-ask", #ask) and the forms
// that log a call, a note or an email ("account-log", #log). Each template
// takes an *accountTools as its dot and carries its own CSRF token, so the
// account page includes them as
//
//	{{template "account-search" .Data.Tools}}
//	{{template "account-ask" .Data.Tools}}
//	{{template "account-log" .Data.Tools}}
//
// with Tools from h.accountTools. The standalone pages (/accounts/{id}/search,
// /ask, /log) render the same templates with the state of a search, an
// answer or a refused form filled in.
type accountTools struct {
	AccountID   string
	AccountName string
	// CSRF is the viewer's token, for the forms' hidden field.
	CSRF string
	// Dispositions are the org's active disposition codes, in its order,
	// with their labels: the only ones a new call may carry (retired codes
	// are never offered).
	Dispositions []crm.DispositionCode
	// RequireDisposition is the org's setting: an outbound call must
	// carry a disposition.
	RequireDisposition bool
	// Contacts and Deals are the account's, for the log forms' selects
	// (at most store.MaxLimit of each).
	Contacts []crm.Contact
	Deals    []crm.Deal

	// Search is the state of a search (the results page); nil before one.
	Search *searchView
	// Ask is the state of a question (the answer page); nil before one.
	Ask *askView
	// Log is the state of a refused log form (values kept, fields'
	// messages); the zero value is empty forms.
	Log logForm
}

// accountTools loads what the interactive sections of account accountID
// need. Another org's account, or an unknown one, is crm.ErrNotFound.
func (h *handler) accountTools(ctx context.Context, v *viewer, accountID string) (*accountTools, error) {
	if !crm.ValidID(accountID) {
		return nil, crm.ErrNotFound
	}
	acct, err := h.Store.AccountGet(ctx, v.OrgID, accountID)
	if err != nil {
		return nil, err
	}
	settings, err := h.Store.SettingsGet(ctx, v.OrgID)
	if err != nil {
		return nil, err
	}
	contacts, err := h.Store.ContactList(ctx, v.OrgID, store.ContactFilter{AccountID: acct.ID, Limit: store.MaxLimit})
	if err != nil {
		return nil, err
	}
	deals, err := h.Store.DealList(ctx, v.OrgID, store.DealFilter{AccountID: acct.ID, Limit: store.MaxLimit})
	if err != nil {
		return nil, err
	}
	t := &accountTools{AccountID: acct.ID, AccountName: acct.Name, CSRF: v.CSRF,
		RequireDisposition: settings.RequireDisposition, Contacts: contacts.Items, Deals: deals.Items}
	for _, c := range settings.DispositionCodes {
		if !c.Retired {
			t.Dispositions = append(t.Dispositions, c)
		}
	}
	return t, nil
}

// typeLabel is an activity type as a reader sees it ("meeting" →
// "Meeting").
func typeLabel(t string) string {
	if t == "" {
		return ""
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

// AskError is the sentence shown instead of an answer ("" for none).
func (t *accountTools) AskError() string {
	if t.Ask == nil {
		return ""
	}
	return t.Ask.Error
}

// Ungrounded reports whether the question was answered with nothing on
// record.
func (t *accountTools) Ungrounded() bool {
	return t.Ask != nil && t.Ask.Answer != nil && !t.Ask.Answer.Grounded
}

// AskCitations are the answer's citations (none before an answer).
func (t *accountTools) AskCitations() []citationView {
	if t.Ask == nil || t.Ask.Answer == nil {
		return nil
	}
	return t.Ask.Answer.Citations
}
