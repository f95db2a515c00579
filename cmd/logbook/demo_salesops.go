package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"logbook/internal/app"
	"logbook/internal/crm"
)

// demoSalesOps is the demo's second act, for the people who run the team:
// each account gets an open deal, a dialer posts a week of outbound calls
// with disposition codes and call lists on half of them (one batch, as a
// dialer would), and the demo reads connect rates by list, the deals that
// stalled (the other half: nothing since the meetings), and reassigns the
// largest stalled deal, printing the handoff note the new owner gets, every
// line citing its activities.
func demoSalesOps(c *demoClient, w io.Writer, accounts, users map[string]string) error {
	names := make([]string, 0, len(accounts))
	for n := range accounts {
		names = append(names, n)
	}
	slices.Sort(names)
	var reps []string
	for email, id := range users {
		if crm.EmailDomain(email) == sellerDomain {
			reps = append(reps, id)
		}
	}
	slices.Sort(reps)
	if len(names) == 0 || len(reps) < 2 {
		return nil
	}
	amounts := []string{"120000", "48000", "86000", "26000", "64000", "150000", "39000"}
	for i, n := range names {
		c.post("/v1/deals", map[string]any{"account_id": accounts[n], "name": n + " expansion", "stage": "proposal",
			"amount": amounts[i%len(amounts)], "currency": "USD", "owner_id": reps[i%len(reps)], "status": "open"})
	}
	// A dialer's week on the first half of the accounts: codes cycle
	// through the defaults, one call in eight carries none.
	codes := []string{"connected", "voicemail", "no_answer", "meeting_booked", "gatekeeper", "busy", "not_interested", ""}
	lists := []string{"Renewals", "Webinar follow-up", "Cold outbound"}
	now := time.Now().UTC().Truncate(time.Hour)
	var calls []map[string]any
	dialed := names[:(len(names)+1)/2]
	for i := 0; i < 36; i++ {
		call := map[string]any{"type": "call", "direction": "outbound", "account_id": accounts[dialed[i%len(dialed)]],
			"owner_id": reps[i%len(reps)], "occurred_at": now.Add(-time.Duration(3+i*4) * time.Hour).Format(time.RFC3339),
			"duration_seconds": 30 + (i*47)%600, "source": "dialer", "external_id": fmt.Sprintf("demo-dial-%d", i),
			"metadata": map[string]any{"list": lists[(i*7/3)%len(lists)]}}
		if code := codes[(i*5)%len(codes)]; code != "" {
			call["disposition"] = code
		}
		calls = append(calls, call)
	}
	c.post("/v1/activities", map[string]any{"activities": calls})
	if c.err != nil {
		return c.err
	}
	rule := strings.Repeat("═", 78)
	fmt.Fprintf(w, "\n%s\nSales operations: a dialer posted %d calls with disposition codes in one batch (POST /v1/activities)\n", rule, len(calls))

	var rates struct {
		Rows []struct {
			Label         string   `json:"label"`
			Dials         int64    `json:"dials"`
			Connected     int64    `json:"connected"`
			ConnectRate   *float64 `json:"connect_rate"`
			NoDisposition int64    `json:"no_disposition"`
		} `json:"rows"`
		Total struct {
			Dials       int64    `json:"dials"`
			Connected   int64    `json:"connected"`
			ConnectRate *float64 `json:"connect_rate"`
		} `json:"total"`
	}
	since := now.AddDate(0, 0, -7).Format(time.DateOnly)
	c.get("/v1/reports/connect-rates?group_by=list&since="+since, &rates)
	if c.err != nil {
		return c.err
	}
	pct := func(r *float64) string {
		if r == nil {
			return "—"
		}
		return fmt.Sprintf("%.0f%%", *r*100)
	}
	fmt.Fprintf(w, "\n  Connect rates by call list since %s (GET /v1/reports/connect-rates?group_by=list; CSV with Accept: text/csv):\n", since)
	fmt.Fprintf(w, "    %-20s %6s %10s %6s %15s\n", "list", "dials", "connected", "rate", "no disposition")
	for _, r := range rates.Rows {
		fmt.Fprintf(w, "    %-20s %6d %10d %6s %15d\n", r.Label, r.Dials, r.Connected, pct(r.ConnectRate), r.NoDisposition)
	}
	fmt.Fprintf(w, "    %-20s %6d %10d %6s\n", "all lists", rates.Total.Dials, rates.Total.Connected, pct(rates.Total.ConnectRate))

	var stalled struct {
		Days  int `json:"days"`
		Items []struct {
			Deal struct {
				ID       string       `json:"id"`
				Name     string       `json:"name"`
				Amount   *json.Number `json:"amount"`
				Currency *string      `json:"currency"`
				OwnerID  *string      `json:"owner_id"`
			} `json:"deal"`
			OwnerName    *string `json:"owner_name"`
			DaysInactive int     `json:"days_inactive"`
		} `json:"items"`
	}
	c.get("/v1/deals/stalled?limit=3", &stalled)
	if c.err != nil {
		return c.err
	}
	fmt.Fprintf(w, "\n  Stalled deals, no activity for %d+ days, largest first (GET /v1/deals/stalled):\n", stalled.Days)
	for _, it := range stalled.Items {
		owner := "no owner"
		if it.OwnerName != nil {
			owner = *it.OwnerName
		}
		amount := "no amount"
		if it.Deal.Amount != nil {
			amount = it.Deal.Amount.String()
			if it.Deal.Currency != nil {
				amount += " " + *it.Deal.Currency
			}
		}
		fmt.Fprintf(w, "    %-32s %14s  %-14s %d days quiet\n", it.Deal.Name, amount, owner, it.DaysInactive)
	}
	if len(stalled.Items) == 0 {
		return nil
	}
	top := stalled.Items[0].Deal
	to := reps[0]
	if top.OwnerID != nil && *top.OwnerID == to {
		to = reps[1]
	}
	var handed struct {
		Note struct {
			Headline string `json:"headline"`
			Sections []struct {
				Title      string `json:"title"`
				Statements []struct {
					Text        string   `json:"text"`
					ActivityIDs []string `json:"activity_ids"`
				} `json:"statements"`
			} `json:"sections"`
		} `json:"handoff_note"`
	}
	if err := app.PostJSON(c.ctx, c.http, c.base+"/v1/deals/"+url.PathEscape(top.ID)+"/reassign", c.key,
		map[string]any{"owner_id": to, "note": "Covering while the owner is out this week."}, &handed, 0); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  Reassigned %q (POST /v1/deals/{id}/reassign); the handoff note the new owner reads:\n", top.Name)
	fmt.Fprintf(w, "    %s\n", handed.Note.Headline)
	for _, s := range handed.Note.Sections {
		if len(s.Statements) == 0 {
			continue
		}
		fmt.Fprintf(w, "    %s\n", s.Title)
		for _, st := range s.Statements {
			fmt.Fprintf(w, "      - %s  [cites %d %s]\n", st.Text, len(st.ActivityIDs), plural(len(st.ActivityIDs), "activity", "activities"))
		}
	}
	fmt.Fprintf(w, "\n  Also: GET /v1/next-steps, /v1/action-items (who owes whom), /v1/digest (the weekly digest),\n"+
		"  /v1/reports/activity-volume, and the whole log out: GET /v1/activities (CSV, NDJSON) or `logbook export`.\n")
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
