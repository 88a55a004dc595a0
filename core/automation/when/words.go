package when

import (
	"strings"
	"unicode"
)

// token is a word of a phrase: its text lower-cased and stripped of the
// punctuation around it, and where it stands in the phrase.
type token struct {
	text       string
	start, end int
}

// tokenize splits s into words at white space.
func tokenize(s string) []token {
	var toks []token

	start := -1
	for i, r := range s + " " {
		switch {
		case unicode.IsSpace(r) && start >= 0:
			text := strings.ToLower(strings.Trim(s[start:i], `,;:!?"'`))
			toks = append(toks, token{strings.TrimSuffix(text, "."), start, i})
			start = -1
		case !unicode.IsSpace(r) && start < 0:
			start = i
		}
	}

	return toks
}

// is reports whether t is one of the words.
func (t token) is(words ...string) bool {
	for _, w := range words {
		if t.text == w {
			return true
		}
	}

	return false
}

// after returns what follows the token in s, trimmed.
func after(s string, t token) string {
	return strings.TrimSpace(s[t.end:])
}

// cleanTask trims the words that join a time to its task ("to", ",", ":")
// and the space around them.
func cleanTask(s string) string {
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), ",:;-–—"))

	for _, w := range []string{"to ", "that "} {
		if len(s) > len(w) && strings.EqualFold(s[:len(w)], w) {
			s = strings.TrimSpace(s[len(w):])
		}
	}

	return s
}
