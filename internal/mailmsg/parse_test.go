package mailmsg

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crlf turns a readable test message into one with CRLF line ends.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n"))
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	raw := crlf(`
Message-ID: <CAF=abc.123@mail.acme.com>
In-Reply-To: <root-2@logbook.test>
References: <root-1@logbook.test>
 <root-2@logbook.test>
Date: Tue, 3 Mar 2026 09:15:00 +0100
From: "Dana Whitfield" <Dana@Acme.com>
To: rep@logbook.test, "Lee, Pat" <pat@acme.com>
Cc: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jurgen@acme.com>
Subject: =?UTF-8?B?UmU6IFByaWNpbmcg4oCUIG5leHQgc3RlcHM=?=
Content-Type: text/plain; charset=utf-8

Thanks, see you Friday.
`)
	m, err := Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "CAF=abc.123@mail.acme.com", m.MessageID)
	require.Equal(t, "root-2@logbook.test", m.InReplyTo)
	require.Equal(t, []string{"root-1@logbook.test", "root-2@logbook.test"}, m.References)
	require.Equal(t, "Re: Pricing — next steps", m.Subject)
	require.True(t, m.Date.Equal(time.Date(2026, 3, 3, 8, 15, 0, 0, time.UTC)), m.Date)
	require.Equal(t, Address{Name: "Dana Whitfield", Email: "dana@acme.com"}, m.From)
	require.Equal(t, []Address{{Email: "rep@logbook.test"}, {Name: "Lee, Pat", Email: "pat@acme.com"}}, m.To)
	require.Equal(t, []Address{{Name: "Jürgen Müller", Email: "jurgen@acme.com"}}, m.Cc)
	require.Equal(t, "Thanks, see you Friday.", m.Text)
	require.False(t, m.FromHTML)
	require.Empty(t, m.Attachments)
	require.False(t, m.Truncated)
}

func TestParseLenientAddresses(t *testing.T) {
	t.Parallel()
	// Unquoted dots and commas in display names break RFC 5322 parsers;
	// the addresses are still read.
	raw := crlf(`
From: John Q. Public <JQP@Example.com>
To: Smith, Ann <ann@acme.com>; bob@acme.com, <broken@@x>, Zoë <zoe@acme.com
Subject: hi

body
`)
	m, err := Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "jqp@example.com", m.From.Email)
	require.Equal(t, "John Q. Public", m.From.Name)
	emails := []string{}
	for _, a := range m.To {
		emails = append(emails, a.Email)
	}
	require.Contains(t, emails, "ann@acme.com")
	require.Contains(t, emails, "bob@acme.com")
	require.Contains(t, emails, "zoe@acme.com")
	require.Empty(t, m.MessageID, "no Message-ID header")
}

func TestParsePrefersPlainAlternative(t *testing.T) {
	t.Parallel()
	raw := crlf(`
From: a@acme.com
To: b@logbook.test
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 at 10?
--b1
Content-Type: text/html; charset=utf-8

<p>Café at <b>10</b>?</p>
--b1--
`)
	m, err := Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "Café at 10?", m.Text)
	require.False(t, m.FromHTML)
}

func TestParseHTMLOnlyWithAttachments(t *testing.T) {
	t.Parallel()
	raw := crlf(`
From: Dana <dana@acme.com>
To: rep@logbook.test
Subject: Proposal
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><head><title>ignored title</title><style>p{color:red}</style></head>
<body><p>Hi&nbsp;team,</p><p>Here is the <a href=3D"https://acme.com/p/42">proposal</a>=
 and <a href=3D"https://acme.com">acme.com</a>.</p>
<ul><li>Seats: 40</li><li>Term: 2 years</li></ul>
<div style=3D"display: none">secret preheader</div>
<script>alert(1)</script>
<p>Line one<br>Line two &amp; more</p>
<img src=3D"cid:logo" alt=3D"logo"></body></html>
--rel
Content-Type: image/png
Content-ID: <logo>
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--outer
Content-Type: application/pdf; name="proposal.pdf"
Content-Disposition: attachment; filename="proposal.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IK
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt

not the body
--outer--
`)
	m, err := Parse(raw)
	require.NoError(t, err)
	require.True(t, m.FromHTML)
	require.Equal(t, "Hi team,\n\nHere is the proposal (https://acme.com/p/42) and acme.com.\n\n- Seats: 40\n- Term: 2 years\n\nLine one\nLine two & more", m.Text)
	require.Equal(t, []Attachment{
		{Name: "proposal.pdf", Size: 15, ContentType: "application/pdf"},
		{Name: "résumé.txt", Size: 12, ContentType: "text/plain"},
	}, m.Attachments)
}

func TestParseBounds(t *testing.T) {
	t.Parallel()

	t.Run("DeepNestingStops", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("From: a@acme.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
		for i := 0; i < 50; i++ {
			b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + strconv.Itoa(i+1) + "\"\r\n\r\n")
		}
		b.WriteString("--b50\r\nContent-Type: text/plain\r\n\r\ndeep text\r\n")
		m, err := Parse([]byte(b.String()))
		require.NoError(t, err)
		require.True(t, m.Truncated)
		require.Empty(t, m.Text)
	})

	t.Run("ManyPartsStop", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("From: a@acme.com\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n")
		for i := 0; i < MaxParts+50; i++ {
			b.WriteString("--x\r\nContent-Type: application/octet-stream\r\n\r\nab\r\n")
		}
		b.WriteString("--x--\r\n")
		m, err := Parse([]byte(b.String()))
		require.NoError(t, err)
		require.True(t, m.Truncated)
		require.Len(t, m.Attachments, MaxAttachments)
	})

	t.Run("NoHeaderFails", func(t *testing.T) {
		t.Parallel()
		_, err := Parse([]byte("   \r\n"))
		require.ErrorIs(t, err, ErrNoHeader)
	})

	t.Run("BrokenBoundaryKeepsWhatWasRead", func(t *testing.T) {
		t.Parallel()
		m, err := Parse(crlf(`
From: a@acme.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

first part
--b
Content-Type: text/plain
`))
		require.NoError(t, err)
		require.Equal(t, "first part", m.Text)
	})

	t.Run("UnknownCharsetAndEncodingStillRead", func(t *testing.T) {
		t.Parallel()
		m, err := Parse(crlf(`
From: a@acme.com
Content-Type: text/plain; charset=x-unknown-charset
Content-Transfer-Encoding: x-weird

plain words
`))
		require.NoError(t, err)
		require.Equal(t, "plain words", m.Text)
	})
}

func TestSyntheticIDIsStable(t *testing.T) {
	t.Parallel()
	raw := crlf(`
From: a@acme.com
To: b@logbook.test
Date: Tue, 3 Mar 2026 09:15:00 +0100
Subject: no id

hello
`)
	m1, err := Parse(raw)
	require.NoError(t, err)
	m2, err := Parse(raw)
	require.NoError(t, err)
	require.Equal(t, SyntheticID(m1), SyntheticID(m2))
	require.True(t, strings.HasSuffix(SyntheticID(m1), "@logbook.invalid"))
	m2.Subject = "other"
	require.NotEqual(t, SyntheticID(m1), SyntheticID(m2))
}

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Entities", `<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8212; done</p>`, "Fish & chips <3 été — done"},
		{"OrderedAndNestedLists", `<ol><li>one</li><li>two<ul><li>inner</li></ul></li></ol>`, "1. one\n2. two\n\n  - inner"},
		{"HiddenAttribute", `<p>shown</p><p hidden>not shown</p><span style="visibility:hidden">nor this</span>`, "shown"},
		{"BlockquoteQuoted", `<p>Yes.</p><div class="gmail_quote">On Mon, Dana wrote:<blockquote>Can we meet?</blockquote></div>`, "Yes.\n\nOn Mon, Dana wrote:\n\n> Can we meet?"},
		{"MailtoLink", `Write to <a href="mailto:dana@acme.com">dana@acme.com</a> or <a href="mailto:x@acme.com">Sales</a>`, "Write to dana@acme.com or Sales (mailto:x@acme.com)"},
		{"JavascriptLinkDropped", `<a href="javascript:evil()">click</a>`, "click"},
		{"Pre", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"UnclosedHead", `<head><title>t</title><body><p>body text</p>`, "body text"},
		{"TableCells", `<table><tr><td>Seats</td><td>40</td></tr><tr><td>Term</td><td>2y</td></tr></table>`, "Seats 40\nTerm 2y"},
		{"BreaksCollapse", `a<br><br><br><br>b`, "a\n\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cleanText(htmlToText(tc.in)))
		})
	}
}
