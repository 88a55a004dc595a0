package when

import "fmt"

// Error is a phrase that cannot be read. Reason says, for the person who
// typed it, what was not understood; Example shows a form that works. The
// parsers return it for every refusal, so a caller can answer the person
// with both and store nothing.
type Error struct {
	Reason  string
	Example string
}

// Error returns the reason and, when there is one, the example.
func (e *Error) Error() string {
	if e.Example == "" {
		return e.Reason
	}

	return e.Reason + "; for example: " + e.Example
}

// refuse returns an *Error with a formatted reason.
func refuse(example, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Example: example}
}
