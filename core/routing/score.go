// Package routing picks the model for each message: a complexity score of
// the message chooses the cheap, standard or premium tier, a budget that
// runs low steps down a tier, and a budget used up refuses the message
// before any model is called.
package routing

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Input is what the score reads of a message and its conversation.
type Input struct {
	// Text is the message.
	Text string
	// Images counts the pictures attached to it.
	Images int
	// Turns counts the turns already in the conversation.
	Turns int
	// UsedTools is true when the model ran tools in the conversation
	// recently.
	UsedTools bool
}

// MaxScore is the score of the most complex message.
const MaxScore = 100

// analysisWords mark a request for reasoning rather than a quick answer.
var analysisWords = regexp.MustCompile(`(?i)\b(analy[sz]e|analysis|compare|comparison|` +
	`explain why|step by step|prove|design|architect|debug|refactor|optimi[sz]e|` +
	`evaluate|trade-?offs?|pros and cons|in depth|thorough)`)

// codeLine matches a line that reads as code rather than prose.
var codeLine = regexp.MustCompile(`^\s*(func |def |class |import |package |#include|` +
	`return\b|const |let |var |public |private |SELECT |INSERT |UPDATE |` +
	`if \(|for \(|while \(|}|.*[;{]\s*$)`)

// Score rates how complex a message is, from 0 (a greeting) to MaxScore,
// and says why. It looks at the length, code, several questions, a request
// for analysis, attachments, recent tool use and the conversation's depth.
// The weights are chosen so that one strong sign alone lands in the
// standard tier and several together in the premium tier with the default
// thresholds (30 and 60).
func Score(in Input) (int, []string) {
	var (
		score   int
		reasons []string
	)

	add := func(points int, reason string, args ...any) {
		score += points
		reasons = append(reasons, fmt.Sprintf(reason, args...))
	}

	switch n := utf8.RuneCountInString(in.Text); {
	case n > 1500:
		add(35, "very long message (%d characters)", n)
	case n > 400:
		add(20, "long message (%d characters)", n)
	case n > 120:
		add(10, "a paragraph (%d characters)", n)
	}

	if hasCode(in.Text) {
		add(25, "contains code")
	}

	switch q := strings.Count(in.Text, "?"); {
	case q >= 4:
		add(20, "asks %d questions", q)
	case q >= 2:
		add(10, "asks %d questions", q)
	}

	if w := analysisWords.FindString(in.Text); w != "" {
		add(20, "asks for analysis (%q)", strings.ToLower(w))
	}

	if in.Images > 0 {
		add(min(30, 15*in.Images), "%d image(s) attached", in.Images)
	}

	if in.UsedTools {
		add(15, "tools were used in this conversation recently")
	}

	switch {
	case in.Turns >= 30:
		add(10, "long conversation (%d turns)", in.Turns)
	case in.Turns >= 10:
		add(5, "ongoing conversation (%d turns)", in.Turns)
	}

	if len(reasons) == 0 {
		reasons = append(reasons, "short and simple")
	}

	return min(score, MaxScore), reasons
}

// hasCode reports whether text holds a fenced block or at least two lines
// that read as code.
func hasCode(text string) bool {
	if strings.Contains(text, "```") {
		return true
	}

	lines := 0

	for line := range strings.SplitSeq(text, "\n") {
		if codeLine.MatchString(line) {
			lines++
			if lines >= 2 {
				return true
			}
		}
	}

	return false
}
