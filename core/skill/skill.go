// Package skill holds the tools the agent can use: a registry of built-in
// skills, each with a name, a description, JSON-schema parameters, the
// credentials it needs, and an enabled flag per agent.
package skill

import (
	"context"
	"encoding/json"

	"github.com/switchboardhq/switchboard/core"
)

// Call is one use of a skill by the model.
type Call struct {
	// AgentID is the agent using the skill.
	AgentID string
	// Conversation is the chat the agent is talking in.
	Conversation core.Conversation
	// User is the person the agent is talking to.
	Channel core.Channel
	UserID  core.UserID
	// TimeZone is the person's IANA time zone; empty means UTC.
	TimeZone string
	// Arguments is the JSON object the model sent.
	Arguments json.RawMessage
	// Credentials holds the values of the skill's credentials that are
	// set, by name.
	Credentials map[string]string
}

// Skill is one tool. Implementations must be safe for concurrent use.
type Skill interface {
	// Name is the tool's name: lower case letters, digits and underscores.
	Name() string
	// Description tells the model what the skill does and when to use it.
	Description() string
	// Parameters is the JSON Schema of the arguments object.
	Parameters() json.RawMessage
	// Credentials names the secrets the skill needs; none when empty.
	Credentials() []string
	// Run does the work and returns the result text for the model. It may
	// block up to ctx's deadline. An error is shown to the model as a
	// failed result.
	Run(ctx context.Context, call Call) (string, error)
}
