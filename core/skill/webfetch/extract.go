package webfetch

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// hiddenTags hold content that a reader never sees as text.
var hiddenTags = map[string]bool{
	"script": true, "style": true, "noscript": true, "template": true, "svg": true,
	"math": true, "iframe": true, "noembed": true, "noframes": true,
}

// lineTags end a line; paragraphTags end a paragraph.
var (
	lineTags = map[string]bool{
		"br": true, "li": true, "tr": true, "dt": true, "dd": true, "option": true,
	}
	paragraphTags = map[string]bool{
		"p": true, "div": true, "h1": true, "h2": true, "h3": true, "h4": true,
		"h5": true, "h6": true, "ul": true, "ol": true, "dl": true, "table": true,
		"section": true, "article": true, "header": true, "footer": true,
		"nav": true, "aside": true, "main": true, "blockquote": true, "pre": true,
		"hr": true, "form": true, "fieldset": true, "figure": true,
		"figcaption": true, "address": true, "details": true, "summary": true,
	}
)

// extractHTML returns the title and the visible text of an HTML page.
func extractHTML(page []byte) (title, text string) {
	z := html.NewTokenizer(bytes.NewReader(page))

	var (
		w        textWriter
		titleBuf strings.Builder
		hidden   int
		pre      int
		inTitle  bool
	)

	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.Join(strings.Fields(titleBuf.String()), " "), w.String()

		case html.TextToken:
			switch {
			case inTitle:
				titleBuf.Write(z.Text())
			case hidden > 0:
			case pre > 0:
				w.raw(string(z.Text()))
			default:
				w.text(string(z.Text()))
			}

		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			start := tt == html.StartTagToken

			switch {
			case tag == "title" && hidden == 0:
				inTitle = start
			case hiddenTags[tag] && tt != html.SelfClosingTagToken:
				hidden = step(hidden, start)
			case tag == "pre" && tt != html.SelfClosingTagToken:
				pre = step(pre, start)
			}

			switch {
			case lineTags[tag]:
				w.lineBreak(1)
			case paragraphTags[tag]:
				w.lineBreak(2)
			case tag == "td" || tag == "th":
				w.text(" ")
			}
		}
	}
}

// step counts an element's depth up on its start tag and down on its end.
func step(depth int, start bool) int {
	if start {
		return depth + 1
	}

	return max(depth-1, 0)
}

// textWriter builds text with white space collapsed: runs of spaces become
// one space, and requested line breaks replace the space between words.
type textWriter struct {
	b      strings.Builder
	space  bool
	breaks int
}

// text adds s with its white space collapsed.
func (w *textWriter) text(s string) {
	if s == "" {
		return
	}

	words := strings.Fields(s)
	if len(words) == 0 || isSpace(s[0]) {
		w.space = true
	}

	for i, word := range words {
		if i > 0 {
			w.space = true
		}

		w.flush()
		w.b.WriteString(word)
	}

	if len(words) > 0 && isSpace(s[len(s)-1]) {
		w.space = true
	}
}

// raw adds s as it is, for preformatted text.
func (w *textWriter) raw(s string) {
	w.flush()
	w.b.WriteString(s)
}

// lineBreak asks for n line breaks before the next text.
func (w *textWriter) lineBreak(n int) {
	w.breaks = max(w.breaks, n)
}

// flush writes the pending separator; none at the start of the text.
func (w *textWriter) flush() {
	switch {
	case w.b.Len() == 0:
	case w.breaks > 0:
		w.b.WriteString(strings.Repeat("\n", w.breaks))
	case w.space:
		w.b.WriteByte(' ')
	}

	w.space, w.breaks = false, 0
}

// String returns the text written so far.
func (w *textWriter) String() string {
	return w.b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
