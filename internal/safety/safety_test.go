package safety

import (
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"Pay\u200b to\u00a0ACCOUNT", "pay to account"},
		{"\uff19\uff19\uff11\uff11", "9911"},                               // fullwidth
		{"\u0669\u0669\u0661\u0661", "9911"},                               // Arabic-Indic
		{"\U0001D7D7\U0001D7CF", "91"},                                     // mathematical bold
		{"\u00b2\u2075\u2083", "253"},                                      // super- and subscript
		{"Überweisung, contraseña, e\u0301", "uberweisung, contrasena, e"}, // accents, combining mark
		{"p\u0430y\u0440\u0430l", "paypal"},                                // Cyrillic look-alikes
		{"w i r e the m.o.n.e.y", "wire the money"},
		{`<a href="https://x.example/p">deck</a>`, "https://x.example/p deck"},
		{"[deck](https://x.example/p)", "deck https://x.example/p"},
		{"&lt;b&gt;bold&lt;/b&gt; &amp;amp;", "bold &"},
		{"acme pay dot com slash invoices", "acme pay.com/invoices"},
	} {
		require.Equal(t, c.want, Normalize(c.in), "Normalize(%q)", c.in)
	}
}

// TestDigitRuns: every decimal digit of every script folds to its value,
// which rests on Unicode encoding each script's digits as runs of ten from
// zero.
func TestDigitRuns(t *testing.T) {
	t.Parallel()
	for _, tab := range []*unicode.RangeTable{unicode.Nd} {
		for _, r := range tab.R16 {
			require.Equal(t, uint16(1), r.Stride)
			require.Zero(t, (r.Hi-r.Lo+1)%10, "range %x-%x", r.Lo, r.Hi)
		}
		for _, r := range tab.R32 {
			require.Equal(t, uint32(1), r.Stride)
			require.Zero(t, (r.Hi-r.Lo+1)%10, "range %x-%x", r.Lo, r.Hi)
		}
	}
	d, ok := digitValue('\u096f') // Devanagari nine
	require.True(t, ok)
	require.Equal(t, 9, d)
}

func TestChecksums(t *testing.T) {
	t.Parallel()
	require.True(t, ibanValid("gb82west12345698765432"))
	require.False(t, ibanValid("gb83west12345698765432"))
	require.True(t, luhn("4111111111111111"))
	require.False(t, luhn("4111111111111112"))
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := New([]string{"acme.com", "www.Seller.io"})
	codes := func(s string) []Code {
		var out []Code
		for _, f := range c.Check(s) {
			if len(out) == 0 || out[len(out)-1] != f.Code {
				out = append(out, f.Code)
			}
		}
		return out
	}
	for _, s := range []string{
		"From now on, invoices are paid into account 4410-2290.",
		"I'll wire 250,000 USD to the supplier tomorrow.",
		"Our banking details changed last week.",
		"Please buy gift cards for the team and send the codes.",
		"Pay to IBAN GB82 WEST 1234 5698 7654 32.",
		"Ab sofort bitte auf das neue Konto überweisen.",
		"Désormais, le virement se fait sur un autre compte.",
	} {
		require.Equal(t, []Code{CodePayment}, codes(s), "%q", s)
	}
	for _, s := range []string{
		"Can you share your password with me?",
		"The verification code is 123456.",
		"Log in with admin and the password Winter2026.",
		"Key: sk-proj-abcdefghijklmnop1234",
	} {
		require.Equal(t, []Code{CodeCredential}, codes(s), "%q", s)
	}
	for _, s := range []string{
		"See https://evil.example/x",
		"See https://acme.com.evil.example/x",
		"See https://xn--acme-9qa.com",
		"See https://\u0430cme.com/x", // Cyrillic a
		"See www.other-site.io",
	} {
		require.Equal(t, []Code{CodeLink}, codes(s), "%q", s)
	}
	for _, s := range []string{
		"The link to the deck is https://docs.acme.com/q3.",
		"Guide: https://help.seller.io/sso and www.acme.com.",
		"Email dana@partner.com for the contract.",
		"Pricing is $40 per seat; the invoice is due in 30 days.",
		"Our password policy needs twelve characters.",
		"Let's meet on 2026-03-02 to review the account.",
		"We'll transfer the licenses to the new team.",
		"Open the deck.pptx and the notes.pdf.",
	} {
		require.Empty(t, c.Check(s), "%q", s)
	}
	f := c.Check("Pay to account 9911-…")
	require.Equal(t, "acct:9911", f[0].Value)
	require.Equal(t, "payment_instructions: mentions a bank account number", f[0].String())
	other := Finding{Code: CodeLink, Reason: "links to x.example", Value: "link:x.example"}
	require.Equal(t, "payment_instructions: mentions a bank account number; external_link: links to x.example",
		Reason([]Finding{f[0], other, f[0]}))
}

func FuzzCheck(f *testing.F) {
	f.Add("pay to account 9911-2233 at https://x.example")
	f.Add("<a href='x'>\u200b\uff19")
	c := New([]string{"acme.com"})
	f.Fuzz(func(t *testing.T, s string) {
		for _, x := range c.Check(s) {
			if x.Code == "" || x.Reason == "" || x.Value == "" {
				t.Fatalf("incomplete finding %+v for %q", x, s)
			}
		}
	})
}
