package telegramtest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseText(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name     string
		mode     string
		text     string
		plain    string
		entities []MessageEntity
		err      string
	}{
		{name: "plain keeps markup", text: "<b>*x*</b>", plain: "<b>*x*</b>"},
		{name: "html", mode: "HTML",
			text:  "<b>bold</b> &amp; <a href=\"https://x.y/?a=1&amp;b=2\">link</a>",
			plain: "bold & link", entities: []MessageEntity{
				{Type: "bold", Offset: 0, Length: 4},
				{Type: "text_link", Offset: 7, Length: 4, URL: "https://x.y/?a=1&b=2"},
			}},
		{name: "html offsets in UTF-16", mode: "html", text: "🙂<i>é</i>", plain: "🙂é",
			entities: []MessageEntity{{Type: "italic", Offset: 2, Length: 1}}},
		{name: "html pre with language", mode: "HTML",
			text:  "<pre><code class=\"language-go\">x := 1</code></pre>",
			plain: "x := 1", entities: []MessageEntity{
				{Type: "pre", Offset: 0, Length: 6, Language: "go"},
			}},
		{name: "html bare ampersand", mode: "HTML", text: "a & b &c", plain: "a & b &c"},
		{name: "html unsupported tag", mode: "HTML", text: "<p>x</p>",
			err: `Unsupported start tag "p" at byte offset 0`},
		{name: "html bare <", mode: "HTML", text: "1 < 2",
			err: `Unsupported start tag "" at byte offset 2`},
		{name: "html unclosed", mode: "HTML", text: "<b>x",
			err: `Can't find end tag corresponding to start tag "b"`},
		{name: "html crossed", mode: "HTML", text: "<b><i>x</b></i>",
			err: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "markdownv2", mode: "MarkdownV2", text: `*bold* _it_ \. [l](https://x.y) ` + "`a.b`",
			plain: "bold it . l a.b", entities: []MessageEntity{
				{Type: "bold", Offset: 0, Length: 4},
				{Type: "italic", Offset: 5, Length: 2},
				{Type: "text_link", Offset: 10, Length: 1, URL: "https://x.y"},
				{Type: "code", Offset: 12, Length: 3},
			}},
		{name: "markdownv2 pre", mode: "MarkdownV2", text: "```go\nx - 1\n```", plain: "x - 1\n",
			entities: []MessageEntity{{Type: "pre", Offset: 0, Length: 6, Language: "go"}}},
		{name: "markdownv2 reserved", mode: "MarkdownV2", text: "Done!",
			err: `Character '!' is reserved and must be escaped with the preceding '\'`},
		{name: "markdownv2 unclosed", mode: "MarkdownV2", text: "a *b",
			err: "Can't find end of Bold entity at byte offset 2"},
		{name: "markdown", mode: "Markdown", text: "*b* a.b [l](u)", plain: "b a.b l",
			entities: []MessageEntity{
				{Type: "bold", Offset: 0, Length: 1},
				{Type: "text_link", Offset: 6, Length: 1, URL: "u"},
			}},
		{name: "markdown unclosed", mode: "Markdown", text: "snake_case",
			err: "Can't find end of the entity starting at byte offset 5"},
		{name: "unknown mode", mode: "BBCode", text: "x", err: "unsupported parse_mode"},
	}

	for _, tc := range cases {
		plain, entities, e := parseText(tc.text, tc.mode)
		if tc.err != "" {
			if e == nil || e.code != 400 || !strings.Contains(e.description, tc.err) {
				t.Errorf("%s: error %+v, want 400 with %q", tc.name, e, tc.err)
			}
			continue
		}

		if e != nil {
			t.Errorf("%s: unexpected error %q", tc.name, e.description)
			continue
		}
		if plain != tc.plain || !slices.Equal(entities, tc.entities) {
			t.Errorf("%s: got %q %+v, want %q %+v", tc.name, plain, entities, tc.plain, tc.entities)
		}
	}
}

func TestRateLimiterWindows(t *testing.T) {
	t.Parallel()

	var l rateLimiter
	l.init()
	start := time.Unix(1_700_000_000, 0)

	// A group takes one message a second and 20 a minute.
	for i := range 20 {
		if wait := l.admit(-5, start.Add(time.Duration(i)*1500*time.Millisecond)); wait != 0 {
			t.Fatalf("group message %d refused, wait %d", i, wait)
		}
	}

	at := start.Add(30 * time.Second)
	if wait := l.admit(-5, at); wait != 30 {
		t.Errorf("21st group message in a minute: wait %d, want 30", wait)
	}
	if wait := l.admit(-5, start.Add(61*time.Second)); wait != 0 {
		t.Errorf("group message after the window: wait %d, want 0", wait)
	}

	// A private chat has no minute limit, only the gap.
	for i := range 25 {
		if wait := l.admit(9, start.Add(time.Duration(i)*1100*time.Millisecond)); wait != 0 {
			t.Fatalf("private message %d refused, wait %d", i, wait)
		}
	}

	if l.violations != 1 {
		t.Errorf("violations = %d, want 1", l.violations)
	}
}
