// Package command routes slash commands to their handlers. The pipeline
// owns the registry; concept packages (automations, later) register their
// commands at start. A handler runs inside the transaction that records the
// message, so what it changes and the reply it gives commit together.
package command

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Call is one invocation of a command.
type Call struct {
	// Tx is the transaction that records the message.
	Tx bun.IDB
	// Message is the message that carried the command.
	Message core.Inbound
	// InboundID is the stored message's id.
	InboundID int64
	// Name is the command without the slash, lower-cased.
	Name string
	// Args is the text after the command, trimmed.
	Args string
	// Now is the pipeline's clock reading for this message.
	Now time.Time
	// Prepared is what the command's Prepare returned, if it has one.
	Prepared string
}

// Handler runs a command and returns the reply text. An error aborts the
// transaction; the message is then answered with an apology.
type Handler func(ctx context.Context, call Call) (string, error)

// Command is a registered slash command.
type Command struct {
	// Name is the command without the slash, lower-case letters, digits and
	// underscores, at most 32 characters (the strictest platform's rule).
	Name string
	// Description is one line for /help and the platforms' command menus.
	Description string
	// Handle runs it.
	Handle Handler
	// Prepare, when not nil, runs before the transaction, for slow work
	// that must not hold it, such as a model call; Handle finds its result
	// in Call.Prepared. Call.Tx is the database then, not a transaction.
	// It runs only for senders who may use commands, and may run again
	// for the same message after a restart.
	Prepare Handler
}

// Registry maps names to commands. It is safe for concurrent use.
type Registry struct {
	mu   sync.RWMutex
	cmds map[string]Command
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{cmds: make(map[string]Command)}
}

// Register adds a command; a second command with the same name is an
// error.
func (r *Registry) Register(c Command) error {
	if !validName(c.Name) {
		return fmt.Errorf("register command %q: name must be 1-32 of a-z, 0-9 and _", c.Name)
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	if _, dup := r.cmds[c.Name]; dup {
		return fmt.Errorf("register command %q: already registered", c.Name)
	}

	r.cmds[c.Name] = c

	return nil
}

// Replace puts c in place of the registered command of the same name and
// returns the one it replaced, so that c can build on it; a name that is
// not registered is an error.
func (r *Registry) Replace(c Command) (Command, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	old, ok := r.cmds[c.Name]
	if !ok {
		return Command{}, fmt.Errorf("replace command %q: not registered", c.Name)
	}

	r.cmds[c.Name] = c

	return old, nil
}

// Lookup returns the command with the name.
func (r *Registry) Lookup(name string) (Command, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()

	c, ok := r.cmds[name]

	return c, ok
}

// List returns every command sorted by name.
func (r *Registry) List() []Command {
	r.mu.RLock()
	defer r.mu.RUnlock()

	out := make([]Command, 0, len(r.cmds))
	for _, c := range r.cmds {
		out = append(out, c)
	}

	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })

	return out
}

// Infos returns the commands in the form adapters publish.
func (r *Registry) Infos() []core.CommandInfo {
	cmds := r.List()
	out := make([]core.CommandInfo, len(cmds))

	for i, c := range cmds {
		out[i] = core.CommandInfo{Name: c.Name, Description: c.Description}
	}

	return out
}

// Parse splits a message into a command name and its arguments. A command
// is a slash at the very start followed by a name, optionally addressed as
// /name@agent_name as in Telegram groups (the suffix is dropped). ok is
// false for text that is not a command.
func Parse(text string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}

	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}

	head, _, _ = strings.Cut(head, "@")
	head = strings.ToLower(head)

	if !validName(head) {
		return "", "", false
	}

	return head, strings.TrimSpace(rest), true
}

func validName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}

	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}

	return true
}
