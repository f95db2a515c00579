package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDigest: the signed-in user's digest by default (empty here: Dana
// owns nothing), everyone's or one owner's on request; per account the
// three sections, each line citing its activities as links; names
// escaped; a bad form is a 422 with its message.
func TestDigest(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	f := b.stalledFixture()

	res := b.get("/digest")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, `<option value="`+b.user.ID+`" selected>Dana Lee</option>`)
	require.Contains(t, res.Body, `id="digest-empty"`)
	require.Contains(t, res.Body, "for this owner")
	until := time.Now().UTC()
	require.Contains(t, res.Body, until.AddDate(0, 0, -7).Format(time.DateOnly)+" to "+until.Format(time.DateOnly)+" (UTC)")

	for _, owner := range []string{"all", f.ann.ID} {
		res = b.get("/digest?owner_id=" + owner)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		body := res.Body
		require.NotContains(t, body, `id="digest-empty"`, owner)
		require.Contains(t, body, `<option value="`+owner+`" selected>`)
		// The evil account: due (the next step) and stalled (the deal),
		// both citing the call 40 days ago.
		i := strings.Index(body, `<section class="digest-account" aria-labelledby="digest-`+f.acc.ID+`">`)
		require.GreaterOrEqual(t, i, 0, owner)
		acc := body[i:]
		acc = acc[:strings.Index(acc, "</section>")]
		require.Contains(t, acc, `<a href="/accounts/`+f.acc.ID+`">&lt;script&gt;alert(&#34;acct&#34;)&lt;/script&gt;</a>`)
		cite := `<a href="/activities/` + f.call.ID + `">[1]<span class="visually-hidden"> source activity</span></a>`
		parts := strings.Split(acc, "<h3>")
		require.Len(t, parts, 4)
		require.Contains(t, parts[1], "What happened</h3>\n  <p class=\"empty\">None.</p>")
		require.Contains(t, parts[2], "What is due")
		require.Contains(t, parts[2], "Send the contract")
		require.Contains(t, parts[2], cite)
		require.Contains(t, parts[3], "What stalled")
		require.Contains(t, parts[3], "&#34;&gt;&lt;svg onload=alert(1)&gt;")
		require.Contains(t, parts[3], cite)
		// The fresh account: what happened, citing its call.
		i = strings.Index(body, `aria-labelledby="digest-`+f.freshDeal.AccountID+`"`)
		require.GreaterOrEqual(t, i, 0)
		fresh := body[i:]
		fresh = fresh[:strings.Index(fresh, "</section>")]
		require.Contains(t, fresh, "1 activity: 1 call.")
		require.Contains(t, fresh, `<a href="/activities/`+f.freshCall.ID+`">[1]`)
		require.NotContains(t, body, evilAccount)
		require.NotContains(t, body, evilDeal)
	}

	res = b.get("/digest?owner_id=" + f.bob.ID)
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `id="digest-empty"`)

	for q, msg := range map[string]string{
		"since=yesterday":                   "From must be a date such as 2026-03-02.",
		"since=2026-03-08&until=2026-03-01": "From must be on or before Until.",
		"since=2026-01-01&until=2026-06-01": "The range must be at most 92 days.",
		"owner_id=nobody":                   "Choose an owner from the list.",
	} {
		res = b.get("/digest?" + q)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
		require.Contains(t, res.Body, msg, q)
		require.Contains(t, res.Body, `id="digest-filter"`)
	}

	// A range in the past: the stalled deal and the due step are still
	// reported (they are as of now), nothing happened.
	res = b.get("/digest?owner_id=all&since=2026-03-01&until=2026-03-07")
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "2026-03-01 to 2026-03-07 (UTC)")
	require.NotContains(t, res.Body, "1 activity: 1 call.")
}
