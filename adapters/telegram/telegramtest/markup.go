package telegramtest

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"
)

// parseText parses a text in a parse_mode as Telegram does and returns the
// plain text and its entities, or Telegram's 400 for markup it refuses.
// It follows Telegram's rules closely enough to catch what real bots get
// wrong: unsupported or unclosed HTML tags, a bare "<", unescaped reserved
// characters in MarkdownV2, unclosed entities.
func parseText(text, mode string) (string, []MessageEntity, *apiError) {
	var p markupParser

	var err error
	switch strings.ToLower(mode) {
	case "":
		return text, nil, nil
	case "html":
		err = p.html(text)
	case "markdownv2":
		err = p.markdownV2(text)
	case "markdown":
		err = p.markdown(text)
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}

	if err != nil {
		return "", nil, badRequest("can't parse entities: %v", err)
	}

	return p.out.String(), p.entities, nil
}

// markupError is a markup error in Telegram's words, which begin with a
// capital letter.
type markupError struct {
	msg string
}

// Error returns the message.
func (e *markupError) Error() string {
	return e.msg
}

// markupErr returns a markupError with a formatted message.
func markupErr(format string, args ...any) error {
	return &markupError{msg: fmt.Sprintf(format, args...)}
}

// markupParser collects the plain text and entities of a parsed text.
type markupParser struct {
	out      strings.Builder
	pos      int
	entities []MessageEntity
	open     []openEntity
}

// openEntity is an entity whose end is not parsed yet.
type openEntity struct {
	tag    string
	entity MessageEntity
	at     int
}

// write adds plain text, counting its UTF-16 length.
func (p *markupParser) write(s string) {
	p.out.WriteString(s)
	p.pos += utf16Len([]rune(s))
}

// push opens an entity whose markup started at byte offset at.
func (p *markupParser) push(tag string, e MessageEntity, at int) {
	e.Offset = p.pos
	p.open = append(p.open, openEntity{tag: tag, entity: e, at: at})
}

// pop closes the innermost entity, keeping it when it is not empty.
func (p *markupParser) pop() {
	top := p.open[len(p.open)-1]
	p.open = p.open[:len(p.open)-1]

	top.entity.Length = p.pos - top.entity.Offset
	if top.entity.Length > 0 && top.entity.Type != "" {
		p.entities = append(p.entities, top.entity)
	}
}

// top returns the tag of the innermost open entity, or "".
func (p *markupParser) top() string {
	if len(p.open) == 0 {
		return ""
	}

	return p.open[len(p.open)-1].tag
}

// htmlEntityTypes maps the HTML tags Telegram supports to entity types.
var htmlEntityTypes = map[string]string{
	"b": "bold", "strong": "bold", "i": "italic", "em": "italic",
	"u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
	"del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
	"code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}

// html parses Telegram's HTML: the supported tags, the entities &lt;
// &gt; &amp; &quot; and numeric ones, any other "&" as text.
func (p *markupParser) html(text string) error {
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			n, err := p.htmlTag(text, i)
			if err != nil {
				return err
			}
			i += n
		case '&':
			s, n := htmlEntity(text[i:])
			p.write(s)
			i += n
		default:
			_, n := utf8.DecodeRuneInString(text[i:])
			p.write(text[i : i+n])
			i += n
		}
	}

	if len(p.open) > 0 {
		return markupErr("Can't find end tag corresponding to start tag %q", p.top())
	}

	return nil
}

// htmlEntity decodes the character reference at the start of s, or
// returns "&" when there is none, and the bytes it used.
func htmlEntity(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return "&", 1
	}

	name := s[:end+1]
	switch decoded := html.UnescapeString(name); {
	case decoded == name:
		return "&", 1
	case name[1] == '#' || name == "&lt;" || name == "&gt;" || name == "&amp;" ||
		name == "&quot;":
		return decoded, len(name)
	default:
		return "&", 1
	}
}

// htmlTag parses the tag at text[at] and returns its length in bytes.
func (p *markupParser) htmlTag(text string, at int) (int, error) {
	end := strings.IndexByte(text[at:], '>')
	if strings.HasPrefix(text[at:], "</") {
		if end < 0 {
			return 0, markupErr("Unclosed end tag at byte offset %d", at)
		}
		return end + 1, p.htmlEndTag(strings.TrimSpace(text[at+2:at+end]), at)
	}

	name := tagName(text[at+1:])
	if _, ok := htmlEntityTypes[name]; !ok {
		return 0, markupErr("Unsupported start tag %q at byte offset %d", name, at)
	}
	if end < 0 {
		return 0, markupErr("Unclosed start tag at byte offset %d", at)
	}

	e, err := htmlStartEntity(name, text[at+1+len(name):at+end], at)
	if err != nil {
		return 0, err
	}

	if name == "code" && p.top() == "pre" && e.Language != "" {
		p.open[len(p.open)-1].entity.Language = e.Language
		e.Type = ""
	}
	p.push(name, e, at)

	return end + 1, nil
}

// htmlEndTag closes the innermost open tag, which must be name.
func (p *markupParser) htmlEndTag(name string, at int) error {
	switch top := p.top(); {
	case top == "":
		return markupErr("Unexpected end tag at byte offset %d", at)
	case !strings.EqualFold(name, top):
		return markupErr("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"",
			at, top, name)
	}

	p.pop()

	return nil
}

// tagName returns the lower-cased tag name at the start of s.
func tagName(s string) string {
	n := 0
	for n < len(s) && (isNameRune(rune(s[n])) || s[n] == '-') {
		n++
	}

	return strings.ToLower(s[:n])
}

// htmlStartEntity returns the entity a start tag opens, reading the
// attributes it needs.
func htmlStartEntity(name, attrs string, at int) (MessageEntity, error) {
	e := MessageEntity{Type: htmlEntityTypes[name]}
	attr := func(key string) string {
		_, rest, ok := strings.Cut(attrs, key+"=")
		if !ok {
			return ""
		}
		rest = strings.TrimLeft(rest, `"'`)
		return html.UnescapeString(rest[:strings.IndexAny(rest+`"' `, `"' `)])
	}

	switch name {
	case "a":
		e.URL = attr("href")
		switch {
		case e.URL == "":
			e.Type = ""
		case strings.HasPrefix(e.URL, "tg://user?id="):
			e.Type, e.URL = "text_mention", ""
		}
	case "span":
		if attr("class") != "tg-spoiler" {
			return e, markupErr("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", at)
		}
	case "code":
		e.Language, _ = strings.CutPrefix(attr("class"), "language-")
	case "blockquote":
		if strings.Contains(attrs, "expandable") {
			e.Type = "expandable_blockquote"
		}
	}

	return e, nil
}

// markdownV2Reserved are the characters MarkdownV2 wants escaped with a
// backslash wherever they are not markup.
const markdownV2Reserved = "_*[]()~`>#+-=|{}.!"

// markdownV2Names are the entity names Telegram uses in MarkdownV2 errors.
var markdownV2Names = map[string]string{
	"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler",
	"[": "TextUrl", "`": "Code", "```": "Pre",
}

// markdownV2 parses Telegram's MarkdownV2.
func (p *markupParser) markdownV2(text string) error {
	for i := 0; i < len(text); {
		c := text[i]
		code := p.top() == "`" || p.top() == "```"

		switch {
		case c == '\\' && i+1 < len(text) && text[i+1] > 0 && text[i+1] < 127:
			p.write(text[i+1 : i+2])
			i += 2
		case c == '`':
			n, err := p.markdownCode(text, i)
			if err != nil {
				return err
			}
			i += n
		case code || !strings.ContainsRune(markdownV2Reserved, rune(c)):
			_, n := utf8.DecodeRuneInString(text[i:])
			p.write(text[i : i+n])
			i += n
		default:
			n, err := p.markdownV2Mark(text, i)
			if err != nil {
				return err
			}
			i += n
		}
	}

	if len(p.open) > 0 {
		top := p.open[len(p.open)-1]
		return markupErr("Can't find end of %s entity at byte offset %d",
			markdownV2Names[top.tag], top.at)
	}

	return nil
}

// markdownCode opens or closes code (`) or a pre block (```) at text[i]
// and returns the bytes it used. Inside a pre block a lone ` must be
// escaped.
func (p *markupParser) markdownCode(text string, i int) (int, error) {
	block := strings.HasPrefix(text[i:], "```")
	switch {
	case p.top() == "```" && block:
		p.pop()
		return 3, nil
	case p.top() == "```":
		return 0, reservedError('`')
	case p.top() == "`":
		p.pop()
		return 1, nil
	case !block:
		p.push("`", MessageEntity{Type: "code"}, i)
		return 1, nil
	}

	return p.markdownPre(text, i), nil
}

// markdownPre opens a pre block at text[i], with the language named on
// its first line, and returns the bytes it used.
func (p *markupParser) markdownPre(text string, i int) int {
	line := text[i+3:]
	lang, _, found := strings.Cut(line, "\n")
	if !found || strings.ContainsAny(lang, " `") {
		lang = ""
	}

	p.push("```", MessageEntity{Type: "pre", Language: lang}, i)
	if lang != "" || found && strings.HasPrefix(line, "\n") {
		return 3 + len(lang) + 1
	}

	return 3
}

// markdownV2Mark handles the reserved character at text[i] outside code:
// markup, or an error when it should have been escaped.
func (p *markupParser) markdownV2Mark(text string, i int) (int, error) {
	mark := text[i : i+1]
	switch {
	case strings.HasPrefix(text[i:], "__"), strings.HasPrefix(text[i:], "||"):
		mark = text[i : i+2]
	case mark == "|":
		return 0, reservedError('|')
	case mark == ">" && (i == 0 || text[i-1] == '\n'):
		return 1, nil
	case mark == "]" && p.top() == "[":
		return p.markdownURL(text, i)
	}

	if _, ok := markdownV2Names[mark]; !ok {
		return 0, reservedError(text[i])
	}

	if p.top() == mark {
		p.pop()
		return len(mark), nil
	}

	types := map[string]string{
		"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler",
		"[": "text_link",
	}
	p.push(mark, MessageEntity{Type: types[mark]}, i)

	return len(mark), nil
}

// markdownURL closes a link at the "]" at text[i], reading its "(url)".
func (p *markupParser) markdownURL(text string, i int) (int, error) {
	if !strings.HasPrefix(text[i+1:], "(") {
		return 0, reservedError(']')
	}

	end := strings.IndexByte(text[i+2:], ')')
	if end < 0 {
		return 0, markupErr("Can't find end of a URL at byte offset %d", i+1)
	}

	p.open[len(p.open)-1].entity.URL = strings.ReplaceAll(text[i+2:i+2+end], `\`, "")
	p.pop()

	return end + 3, nil
}

// reservedError is Telegram's error for an unescaped reserved character.
func reservedError(c byte) error {
	return markupErr("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

// markdown parses Telegram's legacy Markdown, whose entities do not nest.
func (p *markupParser) markdown(text string) error {
	types := map[byte]string{'*': "bold", '_': "italic", '`': "code", '[': "text_link"}

	for i := 0; i < len(text); {
		c := text[i]
		kind, mark := types[c]

		switch {
		case c == '\\' && i+1 < len(text) && strings.IndexByte("_*`[", text[i+1]) >= 0:
			p.write(text[i+1 : i+2])
			i += 2
		case mark:
			n, err := p.markdownEntity(text, i, kind)
			if err != nil {
				return err
			}
			i += n
		default:
			_, n := utf8.DecodeRuneInString(text[i:])
			p.write(text[i : i+n])
			i += n
		}
	}

	return nil
}

// markdownEntity parses one legacy Markdown entity at text[i] and returns
// the bytes it used.
func (p *markupParser) markdownEntity(text string, i int, kind string) (int, error) {
	open, closer := text[i:i+1], text[i:i+1]
	switch {
	case strings.HasPrefix(text[i:], "```"):
		open, closer, kind = "```", "```", "pre"
	case open == "[":
		closer = "]"
	}

	end := strings.Index(text[i+len(open):], closer)
	if end < 0 {
		return 0, markupErr("Can't find end of the entity starting at byte offset %d", i)
	}

	inner := text[i+len(open) : i+len(open)+end]
	used := len(open) + end + len(closer)

	e := MessageEntity{Type: kind, Offset: p.pos}
	if kind == "text_link" {
		rest := text[i+used:]
		paren := strings.IndexByte(rest, ')')
		if !strings.HasPrefix(rest, "(") || paren < 0 {
			return 0, markupErr("Can't find end of the entity starting at byte offset %d", i)
		}
		e.URL = rest[1:paren]
		used += paren + 1
	}

	p.write(inner)
	if e.Length = p.pos - e.Offset; e.Length > 0 {
		p.entities = append(p.entities, e)
	}

	return used, nil
}
