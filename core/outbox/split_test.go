package outbox_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/outbox"
)

func TestSplit(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		text  string
		limit int
		count func(string) int
		want  []string
	}{
		{"short text unchanged", "hello", 10, outbox.CountRunes, []string{"hello"}},
		{"exactly the limit", "hello", 5, outbox.CountRunes, []string{"hello"}},
		{"empty text", "", 5, outbox.CountRunes, []string{""}},
		{"no limit", "hello world", 0, outbox.CountRunes, []string{"hello world"}},
		{"nil count measures runes", "ééé", 2, nil, []string{"éé", "é"}},
		{
			"paragraph before line and space",
			"aaaa bbbb\ncccc\n\ndddd eeee", 20, outbox.CountRunes,
			[]string{"aaaa bbbb\ncccc", "dddd eeee"},
		},
		{
			"line before space",
			"aaaa bbbb\ncccc dddd", 15, outbox.CountRunes,
			[]string{"aaaa bbbb", "cccc dddd"},
		},
		{
			"space",
			"aaaa bbbb cccc", 12, outbox.CountRunes,
			[]string{"aaaa bbbb", "cccc"},
		},
		{
			"hard cut without separators",
			"abcdefghij", 4, outbox.CountRunes,
			[]string{"abcd", "efgh", "ij"},
		},
		{
			"hard cut when the only space is in the first quarter",
			"a bcdefghijklmnop", 8, outbox.CountRunes,
			[]string{"a bcdefg", "hijklmno", "p"},
		},
		{
			"two-byte runes are not cut",
			"ééééé", 2, outbox.CountRunes,
			[]string{"éé", "éé", "é"},
		},
		{
			"three-byte runes are not cut",
			"日本語のテキスト", 3, outbox.CountRunes,
			[]string{"日本語", "のテキ", "スト"},
		},
		{
			"an emoji is one rune",
			"😀😀", 2, outbox.CountRunes,
			[]string{"😀😀"},
		},
		{
			"an emoji is two UTF-16 units",
			"😀😀", 2, outbox.CountUTF16,
			[]string{"😀", "😀"},
		},
		{
			"an emoji that does not fit moves to the next part",
			"😀😀😀", 3, outbox.CountUTF16,
			[]string{"😀", "😀", "😀"},
		},
		{
			"emoji between letters",
			"ab😀cd", 3, outbox.CountUTF16,
			[]string{"ab", "😀c", "d"},
		},
		{
			"an invalid byte counts as one",
			"ab\xffcd", 2, outbox.CountRunes,
			[]string{"ab", "\xffc", "d"},
		},
		{
			"an invalid byte at the end",
			"ab\xff", 2, outbox.CountRunes,
			[]string{"ab", "\xff"},
		},
		{
			"an invalid byte before a multi-byte rune",
			"a\xffé日x", 2, outbox.CountRunes,
			[]string{"a\xff", "é日", "x"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := outbox.Split(tt.text, tt.limit, tt.count)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Split(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
			}
		})
	}
}

func TestSplitProperties(t *testing.T) {
	t.Parallel()

	counts := []struct {
		name  string
		count func(string) int
	}{
		{"runes", outbox.CountRunes},
		{"utf16", outbox.CountUTF16},
	}

	for _, c := range counts {
		for _, limit := range []int{2, 3, 5, 8, 16, 50, 300} {
			for seed := range uint64(20) {
				text := randomText(seed, 400)

				parts := outbox.Split(text, limit, c.count)
				checkParts(t, text, parts, limit, c.count)
			}
		}
	}
}

func TestSplitLargeText(t *testing.T) {
	t.Parallel()

	text := randomText(99, 64<<10)

	tests := []struct {
		name  string
		limit int
		count func(string) int
	}{
		{"telegram", 4096, outbox.CountUTF16},
		{"discord", 2000, outbox.CountRunes},
		{"small", 100, outbox.CountUTF16},
		{"tiny", 5, outbox.CountRunes},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			parts := outbox.Split(text, tt.limit, tt.count)
			checkParts(t, text, parts, tt.limit, tt.count)
		})
	}
}

// checkParts verifies that parts are text in order, each within limit and
// valid UTF-8, with nothing but one separator dropped between two parts.
func checkParts(t *testing.T, text string, parts []string, limit int,
	count func(string) int,
) {
	t.Helper()

	for i, p := range parts {
		if n := count(p); n > limit || p == "" {
			t.Fatalf("part %d of %q is %q (%d units), want 1 to %d units", i, text, p, n, limit)
		}

		if !utf8.ValidString(p) {
			t.Fatalf("part %d of %q is %q: cut inside a character", i, text, p)
		}
	}

	// A part may itself start with a separator, so follow every way the
	// parts can sit in text; reach holds the offsets where one may end.
	// Between two parts lies only white space: a dropped separator, or a
	// dropped part that was nothing but white space.
	reach := map[int]bool{0: true}

	for i, p := range parts {
		next := make(map[int]bool)

		for at := range reach {
			for k := at; ; k++ {
				if strings.HasPrefix(text[k:], p) {
					next[k+len(p)] = true
				}

				if k >= len(text) || !unicode.IsSpace(rune(text[k])) {
					break
				}
			}
		}

		if len(next) == 0 {
			t.Fatalf("part %d %q does not follow part %d after white space in %q",
				i, p, i-1, text)
		}

		reach = next
	}

	ends := false
	for at := range reach {
		ends = ends || strings.TrimSpace(text[at:]) == ""
	}

	if !ends {
		t.Fatalf("parts %q of %q do not reach the end of the text", parts, text)
	}

	total := 0
	for _, p := range parts {
		total += len(p)
	}

	if dropped := len(text) - total; dropped > 2*(len(parts)-1) {
		t.Fatalf("split of %q dropped %d bytes at %d cuts", text, dropped, len(parts)-1)
	}
}

// randomText returns about n bytes of words in several scripts, with
// spaces, line breaks and paragraph breaks between them.
func randomText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{
		"hello", "a", "Grüße", "naïve", "日本語", "テキスト", "😀", "👍🏽", "🇩🇪",
		"x😀y", "supercalifragilistic", "ok", "ё", "𝄞",
	}
	seps := []string{" ", " ", " ", " ", "\n", "\n\n", ""}

	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteString(seps[r.IntN(len(seps))])
	}

	return b.String()
}

func TestBackoff(t *testing.T) {
	t.Parallel()

	tests := []struct {
		attempts int
		ceiling  time.Duration
		base     time.Duration
	}{
		{-1, time.Minute, time.Second},
		{0, time.Minute, time.Second},
		{1, time.Minute, time.Second},
		{2, time.Minute, 2 * time.Second},
		{3, time.Minute, 4 * time.Second},
		{6, time.Minute, 32 * time.Second},
		{7, time.Minute, time.Minute},
		{20, 5 * time.Minute, 5 * time.Minute},
		{31, 5 * time.Minute, 5 * time.Minute},
		{64, 5 * time.Minute, 5 * time.Minute},
		{1000, time.Hour, time.Hour},
	}

	for _, tt := range tests {
		lo := time.Duration(float64(tt.base) * 0.8)
		hi := time.Duration(float64(tt.base) * 1.2)

		for range 200 {
			if d := outbox.Backoff(tt.attempts, tt.ceiling); d < lo || d > hi {
				t.Fatalf("Backoff(%d, %v) = %v, want %v to %v",
					tt.attempts, tt.ceiling, d, lo, hi)
			}
		}
	}
}

func TestBackoffGrows(t *testing.T) {
	t.Parallel()

	// Doubling beats the jitter: 0.8 * 2 > 1.2, so every sample of the next
	// attempt is longer than every sample of this one until the cap.
	for attempts := 1; attempts < 8; attempts++ {
		for range 50 {
			this := outbox.Backoff(attempts, time.Hour)
			next := outbox.Backoff(attempts+1, time.Hour)

			if next <= this {
				t.Fatalf("Backoff(%d) = %v, not longer than Backoff(%d) = %v",
					attempts+1, next, attempts, this)
			}
		}
	}
}
