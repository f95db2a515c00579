// Package mailmsg reads one email (RFC 5322 with MIME) into what Logbook
// keeps of it: the identifiers that thread it (Message-ID, In-Reply-To,
// References), subject, date, sender and recipients, a readable text body
// (the text/plain alternative when there is one, else the HTML turned into
// text: paragraphs, line breaks, lists, links as "text (url)", nothing a
// reader would not see) and the list of attachments (name, size, type;
// never their content). Trim removes quoted replies and signatures from a
// body, precision first.
//
// Everything is bounded: the input is read up to MaxMessageBytes, the
// header up to MaxHeaderBytes, multipart nesting up to MaxDepth and
// MaxParts parts, each text part up to MaxTextBytes; what is past a limit
// is left out and Message.Truncated says so. Malformed MIME is read as far
// as it makes sense; Parse fails only when there is no header to read.
// Parse and Trim are fuzzed and never panic.
package mailmsg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // every charset a mail may be written in
	"github.com/emersion/go-message/mail"
)

// Limits on the work one message may cause.
const (
	// MaxMessageBytes is how much of a raw message is read; the rest is
	// ignored (Truncated).
	MaxMessageBytes = 32 << 20
	// MaxHeaderBytes bounds the top-level header block.
	MaxHeaderBytes = 256 << 10
	// MaxDepth is how deep multiparts may nest.
	MaxDepth = 8
	// MaxParts is how many MIME parts are looked at.
	MaxParts = 500
	// MaxTextBytes is how much of one text part is read.
	MaxTextBytes = 2 << 20
	// MaxTextRunes bounds the readable body Parse returns.
	MaxTextRunes = 500_000
	// MaxAttachments is how many attachments are listed.
	MaxAttachments = 100
	// MaxAddresses is how many addresses each of To and Cc keeps.
	MaxAddresses = 200
	// MaxReferences is how many References are kept (the root and the
	// most recent ones).
	MaxReferences = 50
)

// Address is a sender or recipient.
type Address struct {
	Name string `json:"name"`
	// Email is lowercased.
	Email string `json:"email"`
}

// Attachment is an attachment as listed, never stored.
type Attachment struct {
	Name string `json:"name"`
	// Size is the decoded size in bytes.
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// Message is what Parse reads of an email.
type Message struct {
	// MessageID is the Message-ID without angle brackets ("" when the
	// header is missing).
	MessageID string
	// InReplyTo is the first identifier of In-Reply-To.
	InReplyTo string
	// References lists the References identifiers, oldest first (the
	// thread's root first).
	References []string
	Subject    string
	// Date is the Date header; zero when missing or unreadable.
	Date     time.Time
	From     Address
	To, Cc   []Address
	ReplyTo  []Address
	Text     string
	FromHTML bool
	// Attachments lists the attachments (not the images an HTML body
	// embeds).
	Attachments []Attachment
	// Truncated reports that a limit left part of the message unread.
	Truncated bool
}

// ErrNoHeader is returned for input with no readable header block.
var ErrNoHeader = errors.New("mailmsg: no message header")

// Parse reads raw as an email. It fails only when no header can be read;
// anything else malformed is read as far as it makes sense.
func Parse(raw []byte) (Message, error) {
	var m Message
	if len(raw) > MaxMessageBytes {
		raw, m.Truncated = raw[:MaxMessageBytes], true
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return Message{}, ErrNoHeader
	}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: MaxHeaderBytes})
	if e == nil {
		if err == nil {
			err = ErrNoHeader
		}
		return Message{}, fmt.Errorf("mailmsg: read header: %w", err)
	}
	if e.Header.Len() == 0 {
		return Message{}, ErrNoHeader
	}
	h := mail.Header{Header: e.Header}
	m.readHeader(&h)

	p := &parser{msg: &m}
	body := p.walk(e, 0, false)
	if text := joinParts(body.plain); strings.TrimSpace(text) != "" {
		m.Text = text
	} else if html := joinParts(body.html); html != "" {
		m.Text, m.FromHTML = htmlToText(html), true
	}
	m.Text = capRunes(cleanText(m.Text), MaxTextRunes, &m.Truncated)
	return m, nil
}

func (m *Message) readHeader(h *mail.Header) {
	m.MessageID = messageID(h)
	if ids := msgIDList(h, "In-Reply-To"); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	refs := msgIDList(h, "References")
	if len(refs) > MaxReferences {
		// The root and the most recent: what threading reads.
		refs = append(refs[:1:1], refs[len(refs)-MaxReferences+1:]...)
	}
	m.References = refs
	if s, err := h.Subject(); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	m.Subject = oneLine(m.Subject)
	if d, err := h.Date(); err == nil && !d.IsZero() {
		m.Date = d
	}
	if from := addresses(h, "From"); len(from) > 0 {
		m.From = from[0]
	} else if s := addresses(h, "Sender"); len(s) > 0 {
		m.From = s[0]
	}
	m.To = capAddrs(addresses(h, "To"), &m.Truncated)
	m.Cc = capAddrs(addresses(h, "Cc"), &m.Truncated)
	m.ReplyTo = capAddrs(addresses(h, "Reply-To"), &m.Truncated)
}

func capAddrs(a []Address, truncated *bool) []Address {
	if len(a) > MaxAddresses {
		*truncated = true
		return a[:MaxAddresses]
	}
	return a
}

var msgIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// messageID reads Message-ID, leniently: the identifier between angle
// brackets, else the field's text without space.
func messageID(h *mail.Header) string {
	if id, err := h.MessageID(); err == nil && id != "" {
		return NormalizeID(id)
	}
	v := h.Get("Message-Id")
	if m := msgIDRE.FindStringSubmatch(v); m != nil {
		return NormalizeID(m[1])
	}
	return NormalizeID(v)
}

func msgIDList(h *mail.Header, key string) []string {
	var ids []string
	if l, err := h.MsgIDList(key); err == nil {
		ids = l
	} else {
		for _, m := range msgIDRE.FindAllStringSubmatch(h.Get(key), -1) {
			ids = append(ids, m[1])
		}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = NormalizeID(id); id != "" && !containsStr(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// NormalizeID is a message identifier as Logbook compares them: without
// angle brackets, space or control characters, valid UTF-8.
func NormalizeID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	id = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(id, ""))
	return id
}

// SyntheticID is a stable identifier for a message without a Message-ID:
// a hash of the headers that identify it (date, from, to, cc, subject) and
// of its readable text, under the domain "logbook.invalid".
func SyntheticID(m Message) string {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	if !m.Date.IsZero() {
		w(m.Date.UTC().Format(time.RFC3339))
	} else {
		w("")
	}
	w(m.From.Email)
	for _, l := range [][]Address{m.To, m.Cc} {
		for _, a := range l {
			w(a.Email)
		}
		w("|")
	}
	w(m.Subject)
	w(m.Text)
	return "sha256-" + hex.EncodeToString(h.Sum(nil))[:40] + "@logbook.invalid"
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+`)

// addresses reads an address list leniently: the RFC 5322 parse when it
// succeeds, else each comma-separated item on its own, else whatever
// looks like an address in the field.
func addresses(h *mail.Header, key string) []Address {
	if !h.Has(key) {
		return nil
	}
	var out []Address
	add := func(name, email string) {
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" || !strings.Contains(email, "@") || !utf8.ValidString(email) {
			return
		}
		for _, a := range out {
			if a.Email == email {
				return
			}
		}
		out = append(out, Address{Name: oneLine(name), Email: email})
	}
	if l, err := h.AddressList(key); err == nil {
		for _, a := range l {
			add(a.Name, a.Address)
		}
		return out
	}
	raw := h.Get(key)
	if len(raw) > 64<<10 {
		raw = raw[:64<<10]
	}
	text := raw
	if dec, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(raw); err == nil {
		text = dec
	}
	for _, item := range splitAddressList(text) {
		if a, err := mail.ParseAddress(item); err == nil {
			add(a.Name, a.Address)
			continue
		}
		loc := emailRE.FindStringIndex(item)
		if loc == nil {
			continue
		}
		name := item[:loc[0]]
		name = strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(name), "<")), `"' `)
		add(name, item[loc[0]:loc[1]])
	}
	return out
}

// splitAddressList splits at commas outside quotes and angle brackets.
func splitAddressList(s string) []string {
	var out []string
	var quoted bool
	angle, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			angle++
		case c == '>' && !quoted && angle > 0:
			angle--
		case (c == ',' || c == ';') && !quoted && angle == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// oneLine folds a header value onto one line of valid UTF-8.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// parts is what a subtree of the body offers as text.
type parts struct {
	plain, html []string
}

type parser struct {
	msg   *Message
	count int
}

// walk reads entity e at depth, returning its text parts and listing its
// attachments. related says e is a part of a multipart/related (where
// inline parts with a Content-ID are the HTML's images, not attachments).
func (p *parser) walk(e *message.Entity, depth int, related bool) parts {
	p.count++
	if p.count > MaxParts {
		p.msg.Truncated = true
		return parts{}
	}
	mt, params, ctErr := e.Header.ContentType()
	mt = strings.ToLower(mt)
	if ctErr != nil || mt == "" || !strings.Contains(mt, "/") {
		// RFC 2045 5.2: a missing or unreadable type is text/plain.
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		return p.walkMultipart(e, mt, depth)
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	disp = strings.ToLower(disp)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = oneLine(decodeWords(name))
	isText := mt == "text/plain" || mt == "text/html"
	if isText && disp != "attachment" && name == "" {
		text := p.readText(e.Body)
		if mt == "text/html" {
			return parts{html: []string{text}}
		}
		return parts{plain: []string{text}}
	}
	size, _ := io.Copy(io.Discard, e.Body)
	if related && disp != "attachment" && e.Header.Get("Content-Id") != "" {
		return parts{} // an image the HTML shows
	}
	if len(p.msg.Attachments) >= MaxAttachments {
		p.msg.Truncated = true
		return parts{}
	}
	if name == "" {
		name = defaultName(mt)
	}
	p.msg.Attachments = append(p.msg.Attachments, Attachment{Name: capRunes(name, 255, nil), Size: size, ContentType: mt})
	return parts{}
}

func (p *parser) walkMultipart(e *message.Entity, mt string, depth int) parts {
	if depth >= MaxDepth {
		p.msg.Truncated = true
		return parts{}
	}
	mr := e.MultipartReader()
	if mr == nil {
		return parts{}
	}
	var children []parts
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if part == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			// A broken boundary or a part cut short: keep what was read.
			p.msg.Truncated = true
			break
		}
		children = append(children, p.walk(part, depth+1, mt == "multipart/related"))
		if p.count > MaxParts {
			break
		}
	}
	if mt != "multipart/alternative" {
		var out parts
		for _, c := range children {
			out.plain = append(out.plain, c.plain...)
			out.html = append(out.html, c.html...)
		}
		return out
	}
	// An alternative: the plain text when one is offered, else the last
	// (richest) HTML.
	for _, c := range children {
		if strings.TrimSpace(joinParts(c.plain)) != "" {
			return parts{plain: c.plain}
		}
	}
	for i := len(children) - 1; i >= 0; i-- {
		if len(children[i].html) > 0 {
			return parts{html: children[i].html}
		}
	}
	return parts{}
}

func (p *parser) readText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, MaxTextBytes+1))
	if len(b) > MaxTextBytes {
		b = b[:MaxTextBytes]
		p.msg.Truncated = true
		_, _ = io.Copy(io.Discard, r)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func joinParts(l []string) string {
	var nonEmpty []string
	for _, s := range l {
		if strings.TrimSpace(s) != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return strings.Join(nonEmpty, "\n\n")
}

func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func defaultName(mt string) string {
	switch {
	case mt == "message/rfc822":
		return "message.eml"
	case strings.HasPrefix(mt, "image/"):
		return "image"
	case mt == "text/calendar":
		return "invite.ics"
	}
	return "attachment"
}

// cleanText makes text readable and storable: LF line ends, no control
// characters but tab and newline, no zero-width characters, no space at
// line ends, at most one blank line in a row, no blank lines around.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\u00a0':
			return ' '
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff' || r == '\u034f' || r == '\u00ad':
			return -1
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// capRunes cuts s to at most n runes, setting *truncated when it does.
func capRunes(s string, n int, truncated *bool) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	if truncated != nil {
		*truncated = true
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
