package agent

import (
	"context"
	"sync/atomic"
)

// Switch is a responder whose responder can be replaced while messages are
// answered: a message keeps the responder it started with, the next one
// gets the new. It is how a change of model or key takes effect without a
// restart.
type Switch struct {
	cur atomic.Pointer[holder]
}

// holder boxes a Responder for the atomic pointer.
type holder struct{ Responder }

// NewSwitch returns a switch set to r.
func NewSwitch(r Responder) *Switch {
	s := &Switch{}
	s.Set(r)

	return s
}

// Set makes r answer the next messages.
func (s *Switch) Set(r Responder) { s.cur.Store(&holder{r}) }

// Current returns the responder that answers now.
func (s *Switch) Current() Responder { return s.cur.Load().Responder }

// Name returns the current responder's name.
func (s *Switch) Name() string { return s.Current().Name() }

// Respond answers with the current responder.
func (s *Switch) Respond(ctx context.Context, req Request) (Reply, error) {
	return s.Current().Respond(ctx, req)
}
