package mailmsg

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// maxHTMLText bounds the text one HTML body turns into.
const maxHTMLText = 1 << 20

// skipped are the elements whose content a reader never sees.
var skipped = map[string]bool{
	"head": true, "script": true, "style": true, "title": true, "template": true,
	"noscript": true, "iframe": true, "object": true, "svg": true, "math": true,
	"select": true, "button": true, "audio": true, "video": true, "canvas": true,
}

// void are the elements that have no end tag.
var void = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "param": true,
	"source": true, "track": true, "wbr": true,
}

// paragraphs end with a blank line; lines with a line break.
var (
	paragraphs = map[string]bool{
		"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"ul": true, "ol": true, "dl": true, "table": true, "blockquote": true, "pre": true,
		"hr": true, "figure": true, "address": true,
	}
	lines = map[string]bool{
		"div": true, "li": true, "tr": true, "dt": true, "dd": true, "section": true,
		"article": true, "header": true, "footer": true, "nav": true, "aside": true,
		"main": true, "center": true, "form": true, "fieldset": true, "caption": true,
		"tbody": true, "thead": true, "tfoot": true, "body": true, "html": true,
		"figcaption": true, "legend": true, "summary": true, "details": true,
	}
)

// list is an open ul or ol.
type list struct {
	ordered bool
	n       int
}

// link is an open a with an href worth showing.
type link struct {
	href  string
	start int // where its text starts in the output
}

// htmlWriter builds the text of an HTML body.
type htmlWriter struct {
	b         strings.Builder
	lineStart bool // nothing but the line's prefix written on this line
	breaks    int  // line breaks owed before the next text
	space     bool // a space owed before the next text
	quote     int  // blockquote depth: each line starts with "> " per level
	pre       int
	lists     []list
	links     []link
	full      bool
	wroteSome bool
}

// htmlToText turns an HTML body into readable text: paragraphs and line
// breaks kept, lists as "- item" or "1. item", blockquotes as "> " lines
// (so Trim sees quoted replies), links as "text (url)" when the URL says
// more than the text, entities decoded; scripts, styles, the head and
// hidden elements (hidden, display:none, visibility:hidden, mso-hide:all)
// left out.
func htmlToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	z.SetMaxBuf(MaxTextBytes)
	w := &htmlWriter{lineStart: true}
	skipTag, skipDepth := "", 0
	for !w.full {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skipDepth > 0 {
				continue
			}
			w.text(string(z.Text()))
		case html.StartTagToken, html.SelfClosingTagToken:
			nameB, hasAttr := z.TagName()
			name := string(nameB)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if len(attrs) < 64 {
					attrs[string(k)] = string(v)
				}
			}
			if skipDepth > 0 {
				if name == skipTag && tt == html.StartTagToken && !void[name] {
					skipDepth++
				}
				if skipTag == "head" && name == "body" {
					skipDepth = 0 // a head left open ends where the body starts
					w.start(name, attrs)
				}
				continue
			}
			if tt == html.StartTagToken && !void[name] && (skipped[name] || hidden(attrs)) {
				skipTag, skipDepth = name, 1
				continue
			}
			if void[name] && hidden(attrs) {
				continue
			}
			w.start(name, attrs)
			if tt == html.SelfClosingTagToken && !void[name] {
				w.end(name)
			}
		case html.EndTagToken:
			nameB, _ := z.TagName()
			name := string(nameB)
			if skipDepth > 0 {
				if name == skipTag {
					skipDepth--
				}
				continue
			}
			w.end(name)
		}
	}
	return w.String()
}

// hidden reports whether an element's attributes hide it from a reader.
func hidden(attrs map[string]string) bool {
	if _, ok := attrs["hidden"]; ok {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(attrs["style"]), ""))
	for _, s := range []string{"display:none", "visibility:hidden", "mso-hide:all", "max-height:0;overflow:hidden", "font-size:0;", "opacity:0;"} {
		if strings.Contains(style+";", s) {
			return true
		}
	}
	return false
}

func (w *htmlWriter) start(name string, attrs map[string]string) {
	switch {
	case name == "br":
		w.lineBreak()
		return
	case name == "blockquote":
		w.block(2)
		w.quote++
		return
	case name == "pre":
		w.block(2)
		w.pre++
		return
	case name == "ul" || name == "ol":
		w.block(2)
		w.lists = append(w.lists, list{ordered: name == "ol"})
		return
	case name == "li":
		w.block(1)
		indent := ""
		if n := len(w.lists); n > 1 {
			indent = strings.Repeat("  ", n-1)
		}
		marker := "- "
		if n := len(w.lists); n > 0 && w.lists[n-1].ordered {
			w.lists[n-1].n++
			marker = strconv.Itoa(w.lists[n-1].n) + ". "
		}
		w.raw(indent + marker)
		return
	case name == "a":
		href := strings.TrimSpace(attrs["href"])
		lower := strings.ToLower(href)
		if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "mailto:") {
			w.links = append(w.links, link{href: href, start: w.b.Len()})
		} else {
			w.links = append(w.links, link{start: -1})
		}
		return
	case name == "td" || name == "th":
		w.space = true
		return
	case name == "img":
		return
	case paragraphs[name]:
		w.block(2)
	case lines[name]:
		w.block(1)
	}
}

func (w *htmlWriter) end(name string) {
	switch {
	case name == "blockquote":
		if w.quote > 0 {
			w.quote--
		}
		w.block(2)
	case name == "pre":
		if w.pre > 0 {
			w.pre--
		}
		w.block(2)
	case name == "ul" || name == "ol":
		if n := len(w.lists); n > 0 {
			w.lists = w.lists[:n-1]
		}
		w.block(2)
	case name == "a":
		n := len(w.links)
		if n == 0 {
			return
		}
		l := w.links[n-1]
		w.links = w.links[:n-1]
		if l.start < 0 || l.start > w.b.Len() {
			return
		}
		// The link's text, without the line prefix of a blockquote.
		text := strings.TrimSpace(strings.TrimLeft(w.b.String()[l.start:], "> \n"))
		if !linkSaysIt(text, l.href) {
			if text == "" {
				w.text(l.href)
			} else {
				w.text(" (" + l.href + ")")
			}
		}
	case name == "td" || name == "th":
		w.space = true
	case paragraphs[name]:
		w.block(2)
	case lines[name]:
		w.block(1)
	}
}

// linkSaysIt reports whether a link's text already shows its URL.
func linkSaysIt(text, href string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"mailto:", "https://", "http://", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimSuffix(s, "/")
	}
	return text != "" && norm(text) == norm(href)
}

// block asks for n line breaks (1: a new line, 2: a blank line) before
// the next text.
func (w *htmlWriter) block(n int) {
	if n > w.breaks {
		w.breaks = n
	}
	w.space = false
}

// lineBreak is a br: one more line break, up to a blank line.
func (w *htmlWriter) lineBreak() {
	if w.breaks < 2 {
		w.breaks++
	}
	if !w.wroteSome {
		w.breaks = 0
	}
	w.space = false
}

func (w *htmlWriter) flushBreaks() {
	if w.wroteSome {
		for i := 0; i < w.breaks; i++ {
			w.newline()
		}
	}
	w.breaks = 0
	if w.lineStart {
		if w.quote > 0 {
			w.b.WriteString(strings.Repeat("> ", w.quote))
		}
	}
}

func (w *htmlWriter) newline() {
	w.b.WriteByte('\n')
	w.lineStart = true
}

// raw writes s as is (after any breaks owed).
func (w *htmlWriter) raw(s string) {
	w.flushBreaks()
	w.b.WriteString(s)
	w.lineStart = false
	w.wroteSome = true
	w.space = false
	w.checkFull()
}

// text writes a text node: whitespace collapsed (but in pre).
func (w *htmlWriter) text(s string) {
	if w.pre > 0 {
		for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			if i > 0 {
				w.breaks = 1
				if !w.wroteSome {
					w.wroteSome = true
				}
			}
			if line != "" {
				w.raw(line)
			}
		}
		return
	}
	words := strings.FieldsFunc(s, unicode.IsSpace)
	if len(words) == 0 {
		if s != "" && !w.lineStart {
			w.space = true
		}
		return
	}
	lead := unicode.IsSpace(firstRune(s))
	trail := unicode.IsSpace(lastRune(s))
	if w.breaks > 0 || w.lineStart {
		w.flushBreaks()
	} else if w.space || lead {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(strings.Join(words, " "))
	w.lineStart = false
	w.wroteSome = true
	w.space = trail
	w.checkFull()
}

func (w *htmlWriter) checkFull() {
	if w.b.Len() > maxHTMLText {
		w.full = true
	}
}

func (w *htmlWriter) String() string { return w.b.String() }

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}
