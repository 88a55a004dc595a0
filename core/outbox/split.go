package outbox

import (
	"strings"
	"unicode/utf8"
)

// CountRunes counts text in Unicode code points.
func CountRunes(text string) int {
	return utf8.RuneCountInString(text)
}

// CountUTF16 counts text in UTF-16 code units, as Telegram does.
func CountUTF16(text string) int {
	n := 0
	for _, r := range text {
		n++
		if r >= 0x10000 {
			n++
		}
	}

	return n
}

// Split cuts text into parts of at most limit units as measured by count.
// It cuts at the last paragraph break that fits, else the last line break,
// else the last space, else between two code points, so a part never ends
// inside a character. The separator at a cut is dropped; nothing else is.
func Split(text string, limit int, count func(string) int) []string {
	if count == nil {
		count = CountRunes
	}

	if limit <= 0 || count(text) <= limit {
		return []string{text}
	}

	var parts []string

	for {
		// fitPrefix reads only as far as the limit, so each part costs its
		// own length, not the length of the rest.
		end := fitPrefix(text, limit, count)
		if end == len(text) {
			break
		}

		cut, skip := breakPoint(text[:end])

		if cut == 0 {
			cut, skip = end, 0
		}

		parts = appendPart(parts, text[:cut])
		text = text[cut+skip:]
	}

	return appendPart(parts, text)
}

// appendPart adds part unless it is only white space, which platforms
// refuse as an empty message.
func appendPart(parts []string, part string) []string {
	if strings.TrimSpace(part) == "" {
		return parts
	}

	return append(parts, part)
}

// fitPrefix returns the byte length of the longest prefix of text that
// measures at most limit, ending on a code point boundary.
func fitPrefix(text string, limit int, count func(string) int) int {
	end, units := 0, 0
	for i := range text {
		_, size := utf8.DecodeRuneInString(text[i:]) // an invalid byte has size one
		next := i + size

		units += count(text[i:next])
		if units > limit {
			break
		}

		end = next
	}

	if end == 0 {
		_, size := utf8.DecodeRuneInString(text)
		end = size
	}

	return end
}

// breakPoint finds the best place to cut in prefix: the byte index of the
// cut and the length of the separator to drop there. It returns 0 when
// prefix has no separator past its first quarter.
func breakPoint(prefix string) (cut, skip int) {
	floor := len(prefix) / 4

	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(prefix, sep); i > floor {
			return i, len(sep)
		}
	}

	return 0, 0
}
