package when

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// triggerExample is the form shown when a trigger cannot be read.
const triggerExample = `/trigger when a message contains "invoice" then remind me in 1 hour`

// Trigger watches the messages of a chat for a word or phrase.
type Trigger struct {
	// Contains is the lower-cased word or phrase to look for.
	Contains string
	// Action is what to do when a message contains it.
	Action Action
}

// Action is what a trigger does for a message that matches. When Say is
// set, Say is sent to the chat at once. Otherwise the person who set the
// trigger is told: at once when RemindIn is 0 ("tell me"), or by a
// reminder RemindIn later. RemindText is what the reminder says; "" means
// the message that matched.
type Action struct {
	Say        string
	RemindIn   time.Duration
	RemindText string
}

// triggerVerbs are the words that introduce what to look for.
var triggerVerbs = []string{"contains", "contain", "containing", "mentions", "mention",
	"mentioning", "says", "say", "saying", "includes", "include", "including", "has",
	"with", "writes", "write"}

// triggerSubjects are the words that may come before the verb.
var triggerSubjects = map[string]bool{"a": true, "an": true, "any": true, "the": true,
	"message": true, "messages": true, "new": true, "someone": true, "somebody": true,
	"anyone": true, "anybody": true, "people": true, "person": true, "one": true}

// closingQuote maps each opening quote to its closing one.
var closingQuote = map[rune]rune{'"': '"', '\'': '\'', '`': '`', '“': '”', '‘': '’',
	'«': '»', '„': '“'}

// ParseTrigger reads the text after /trigger: "when a message contains
// "invoice" then remind me in 1 hour", "when someone mentions deploy in
// this chat then tell me", "when a message contains 'outage' then say
// "Paging the on-call"". The word or phrase may be quoted; unquoted, it
// runs to "then", "in this chat" or "here". The actions: say "...", tell
// me, and remind me in <duration> [to ...]. Refused, with an *Error: an
// empty trigger, no word to look for, no "then", and an action it does not
// know.
func ParseTrigger(text string) (Trigger, error) {
	s := strings.TrimSpace(text)

	toks := tokenize(s)
	if len(toks) > 0 && toks[0].is("when", "whenever", "if", "once") {
		toks = toks[1:]
	}

	if len(toks) == 0 {
		return Trigger{}, refuse(triggerExample, "what should I watch for, and what should I do?")
	}

	verb := -1
	for i, t := range toks {
		if t.is(triggerVerbs...) {
			verb = i
			break
		}

		if !triggerSubjects[t.text] {
			break
		}
	}

	if verb < 0 || verb == len(toks)-1 {
		return Trigger{}, refuse(triggerExample, "I could not tell what word to watch for")
	}

	term, rest := readWatched(s[toks[verb].end:])
	if term == "" {
		return Trigger{}, refuse(triggerExample, "what word or phrase should I watch for?")
	}

	action, err := readAction(rest)
	if err != nil {
		return Trigger{}, err
	}

	return Trigger{Contains: term, Action: action}, nil
}

// readWatched reads the word or phrase to watch for at the start of s, in
// quotes or up to "then", "in this chat", "here" or a comma, and returns
// it normalised with the rest of s.
func readWatched(s string) (string, string) {
	s = strings.TrimSpace(s)

	r, size := utf8.DecodeRuneInString(s)
	if closing, ok := closingQuote[r]; ok {
		end := strings.IndexRune(s[size:], closing)
		if end < 0 {
			return "", s
		}

		return normaliseText(s[size : size+end]), s[size+end+utf8.RuneLen(closing):]
	}

	toks := tokenize(s)

	n := 0
	for n < len(toks) && !atPlaceOrThen(toks[n:]) {
		n++
		if strings.HasSuffix(s[toks[n-1].start:toks[n-1].end], ",") {
			break
		}
	}

	if n == 0 {
		return "", s
	}

	term := strings.Trim(s[toks[0].start:toks[n-1].end], `.,;:!?"'`)

	return normaliseText(term), s[toks[n-1].end:]
}

// atPlaceOrThen reports whether toks start with "then" or with where to
// watch: "here", "in this chat".
func atPlaceOrThen(toks []token) bool {
	return toks[0].is("then", "here") ||
		(toks[0].is("in") && len(toks) > 1 && toks[1].is("this", "the", "here", "our"))
}

// places are the words that say where a trigger watches, all of which mean
// this chat.
var places = map[string]bool{"in": true, "this": true, "the": true, "our": true,
	"here": true, "chat": true, "channel": true, "group": true, "room": true,
	"conversation": true, "thread": true}

// readAction reads "then <action>" after the watched phrase, past any
// words that say where to watch.
func readAction(rest string) (Action, error) {
	toks := tokenize(rest)

	i := 0
	for i < len(toks) && places[toks[i].text] {
		i++
	}

	if i == len(toks) || !toks[i].is("then") {
		return Action{}, refuse(triggerExample, "a trigger needs \"then\" and what to do: "+
			"then tell me, then say \"...\", or then remind me in 1 hour")
	}

	toks = toks[i+1:]
	if len(toks) == 0 {
		return Action{}, refuse(triggerExample, "then what should I do?")
	}

	switch first := toks[0]; {
	case first.is("say", "reply", "answer", "post", "write", "send", "respond"):
		return readSay(rest, toks)
	case first.is("tell", "notify", "ping", "alert", "message", "dm", "let"):
		return readTell(toks)
	case first.is("remind"):
		return readRemind(rest, toks)
	default:
		return Action{}, refuse(triggerExample, "I can say something, tell you, or remind "+
			"you later, but not %q", strings.TrimSpace(rest[first.start:]))
	}
}

// readSay reads `say "Paging the on-call"`.
func readSay(rest string, toks []token) (Action, error) {
	text := after(rest, toks[0])
	if len(toks) > 1 && toks[1].is("with") {
		text = after(rest, toks[1])
	}

	text = unquote(strings.TrimLeft(text, ": "))
	if text == "" {
		return Action{}, refuse(`/trigger when a message contains 'outage' then say `+
			`"Paging the on-call"`, "what should I say?")
	}

	return Action{Say: text}, nil
}

// tellWords are the words "tell me" may have with it.
var tellWords = map[string]bool{"me": true, "us": true, "know": true, "at": true,
	"once": true, "immediately": true, "right": true, "away": true, "now": true}

// readTell reads "tell me", "notify me", "let me know".
func readTell(toks []token) (Action, error) {
	for _, t := range toks[1:] {
		if !tellWords[t.text] {
			return Action{}, refuse("/trigger when someone mentions deploy then tell me",
				"I can tell you at once, but I don't know how to %q", t.text)
		}
	}

	return Action{}, nil
}

// readRemind reads "remind me in 1 hour [to ...]".
func readRemind(rest string, toks []token) (Action, error) {
	j := 1
	if j < len(toks) && toks[j].is("me", "us") {
		j++
	}

	if j == len(toks) || !toks[j].is("in", "after") {
		return Action{}, refuse(triggerExample, "remind you when? Say how long after the "+
			"message, as in \"remind me in 1 hour\"")
	}

	l, used := readDuration(toks[j+1:])
	d, ok := l.duration()
	if used == 0 || !ok || d <= 0 {
		return Action{}, refuse(triggerExample, "I could not read how long to wait in %q",
			strings.TrimSpace(rest[toks[j].start:]))
	}

	text := ""
	if k := j + 1 + used; k < len(toks) {
		text = cleanTask(rest[toks[k].start:])
	}

	return Action{RemindIn: d, RemindText: text}, nil
}

// unquote removes one pair of matching quotes around s.
func unquote(s string) string {
	s = strings.TrimSpace(s)

	r, size := utf8.DecodeRuneInString(s)
	if closing, ok := closingQuote[r]; ok && len(s) > size {
		last, lastSize := utf8.DecodeLastRuneInString(s)
		if last == closing {
			return strings.TrimSpace(s[size : len(s)-lastSize])
		}
	}

	return s
}

// normaliseText lower-cases s and makes each run of white space one space.
func normaliseText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// Matches reports whether message contains the trigger's word or phrase,
// ignoring case and runs of white space. The match must stand as a whole
// word at both ends: "deploy" matches "Deploy now!" and "deploy." but not
// "redeploy" or "deploys"; a phrase is matched the same way at its ends.
// An empty Contains matches nothing.
func (t Trigger) Matches(message string) bool {
	term := normaliseText(t.Contains)
	if term == "" {
		return false
	}

	msg := normaliseText(message)

	for from := 0; from < len(msg); {
		i := strings.Index(msg[from:], term)
		if i < 0 {
			return false
		}

		start := from + i
		if wholeAt(msg, start, start+len(term)) {
			return true
		}

		_, size := utf8.DecodeRuneInString(msg[start:])
		from = start + size
	}

	return false
}

// wholeAt reports whether msg[start:end] is not part of a longer word: a
// letter or digit at either end of it has none next to it outside.
func wholeAt(msg string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(msg[start:end])
	if before, _ := utf8.DecodeLastRuneInString(msg[:start]); start > 0 &&
		isWordRune(first) && isWordRune(before) {
		return false
	}

	last, _ := utf8.DecodeLastRuneInString(msg[start:end])
	if next, _ := utf8.DecodeRuneInString(msg[end:]); end < len(msg) &&
		isWordRune(last) && isWordRune(next) {
		return false
	}

	return true
}

// isWordRune reports whether r can be part of a word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}
