package mailmsg

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrim(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{
			name: "GmailBottomQuote",
			in: `Sounds good, Thursday works.

On Tue, Mar 3, 2026 at 9:15 AM Dana Whitfield <dana@acme.com>
wrote:

> Can we move the call to Thursday?
>
> Dana
`,
			want: "Sounds good, Thursday works.",
		},
		{
			name: "AppleQuotedAttribution",
			in: `Confirmed.

Sent from my iPhone

> On Mar 3, 2026, at 09:15, Dana <dana@acme.com> wrote:
>
> Is 40 seats right?`,
			want: "Confirmed.",
		},
		{
			name: "InlineAnswersKept",
			in: `On Tue, Dana wrote:
> How many seats?
40 to start.
> Which term?
Two years.`,
			want: "40 to start.\nTwo years.",
		},
		{
			name: "OutlookHeaderBlock",
			in: `Attached is the signed order form.

Regards,
Pat

________________________________
From: Dana Whitfield <dana@acme.com>
Sent: Tuesday, March 3, 2026 9:15 AM
To: Pat Lee <pat@logbook.test>
Subject: RE: Order form

Please send the order form.`,
			want: "Attached is the signed order form.\n\nRegards,\nPat",
		},
		{
			name: "OriginalMessageSeparator",
			in: `Thanks!

-----Original Message-----
From: dana@acme.com
Please confirm.`,
			want: "Thanks!",
		},
		{
			name: "GermanHeaderBlock",
			in: `Danke.

Von: Dana <dana@acme.de>
Gesendet: Dienstag, 3. März 2026 09:15
An: Pat <pat@logbook.test>
Betreff: Angebot

Bitte schicken Sie das Angebot.`,
			want: "Danke.",
		},
		{
			name: "SignatureDelimiter",
			in:   "See you then.\n\n-- \nPat Lee\nAccount Executive\n+1 555 0100",
			want: "See you then.",
		},
		{
			name: "ForwardIsKept",
			in: `FYI, see below.

From: Dana <dana@acme.com>
Sent: Tuesday, March 3, 2026 9:15 AM
To: Pat <pat@logbook.test>
Subject: Fwd: Budget approved

The budget is approved.`,
			want: "FYI, see below.\n\nFrom: Dana <dana@acme.com>\nSent: Tuesday, March 3, 2026 9:15 AM\nTo: Pat <pat@logbook.test>\nSubject: Fwd: Budget approved\n\nThe budget is approved.",
		},
		{
			name: "FromLineInProseKept",
			in:   "From: the desk of Dana.\nWe agreed on 40 seats.\nTo: be confirmed Friday.",
			want: "From: the desk of Dana.\nWe agreed on 40 seats.\nTo: be confirmed Friday.",
		},
		{
			name: "WroteWithoutQuoteKept",
			in:   "On Monday the CFO wrote:\nthe budget is approved.",
			want: "On Monday the CFO wrote:\nthe budget is approved.",
		},
		{
			name: "DashesInBodyKept",
			in:   "Agenda\n--\n1. Pricing\n2. Legal\n3. Security\n4. Rollout\n5. Training\n6. Support\n7. Billing\n8. Renewal\n9. Expansion\n10. Reference\n11. Case study\n12. QBR\n13. Exec sponsor\n14. Timeline\n15. Owners\n16. Risks",
			want: "Agenda\n--\n1. Pricing\n2. Legal\n3. Security\n4. Rollout\n5. Training\n6. Support\n7. Billing\n8. Renewal\n9. Expansion\n10. Reference\n11. Case study\n12. QBR\n13. Exec sponsor\n14. Timeline\n15. Owners\n16. Risks",
		},
		{
			name: "AllQuoted",
			in:   "> only a quote\n> here",
			want: "",
		},
		{
			name: "CRLFAndBlankRuns",
			in:   "one\r\n\r\n\r\n\r\ntwo\r\n",
			want: "one\n\ntwo",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Trim(tc.in))
		})
	}
}

func TestTrimHTMLReply(t *testing.T) {
	t.Parallel()
	// A Gmail HTML reply: the quote is a blockquote, which the HTML text
	// shows as "> " lines, so Trim removes it with its attribution.
	raw := crlf(`
From: Dana <dana@acme.com>
To: rep@logbook.test
Subject: Re: Pricing
Content-Type: text/html; charset=utf-8

<div dir="ltr">Yes, 40 seats.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Mar 3, 2026 at 9:15 AM Pat &lt;pat@logbook.test&gt; wrote:<br></div><blockquote class="gmail_quote">How many seats do you need?<br>Pat</blockquote></div>
`)
	m, err := Parse(raw)
	require.NoError(t, err)
	require.True(t, strings.Contains(m.Text, "> How many seats"), m.Text)
	require.Equal(t, "Yes, 40 seats.", Trim(m.Text))
}

func TestTrimOutlookHTMLReply(t *testing.T) {
	t.Parallel()
	html := `<html><body><div class="WordSection1"><p class="MsoNormal">Signed copy attached.<o:p></o:p></p>
<p class="MsoNormal">Pat<o:p></o:p></p>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">
<p class="MsoNormal"><b>From:</b> Dana Whitfield &lt;dana@acme.com&gt; <br><b>Sent:</b> Tuesday, March 3, 2026 9:15 AM<br><b>To:</b> Pat Lee &lt;pat@logbook.test&gt;<br><b>Subject:</b> RE: Order form<o:p></o:p></p></div>
<p class="MsoNormal">Please send the signed order form.<o:p></o:p></p></div></body></html>`
	require.Equal(t, "Signed copy attached.\n\nPat", Trim(htmlToText(html)))
}
