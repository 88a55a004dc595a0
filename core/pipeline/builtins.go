package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/core/command"
	"github.com/switchboardhq/switchboard/core/session"
)

// registerBuiltins adds the commands every gateway has.
func (p *Pipeline) registerBuiltins() error {
	for _, c := range []command.Command{
		{Name: "help", Description: "List the commands", Handle: p.cmdHelp},
		{Name: "new", Description: "Start a fresh session", Handle: p.cmdNew},
		{Name: "status", Description: "Show this session and the agent", Handle: p.cmdStatus},
	} {
		if err := p.commands.Register(c); err != nil {
			return err
		}
	}

	return nil
}

func (p *Pipeline) commandList() string {
	cmds := p.commands.List()
	names := make([]string, len(cmds))

	for i, c := range cmds {
		names[i] = "/" + c.Name
	}

	return strings.Join(names, ", ")
}

func (p *Pipeline) cmdHelp(context.Context, command.Call) (string, error) {
	var b strings.Builder

	b.WriteString("Commands:")

	for _, c := range p.commands.List() {
		fmt.Fprintf(&b, "\n/%s - %s", c.Name, c.Description)
	}

	b.WriteString("\nAnything else goes to the agent.")

	return b.String(), nil
}

func (p *Pipeline) cmdNew(ctx context.Context, call command.Call) (string, error) {
	s, err := session.Start(ctx, call.Tx, p.agentID, call.Message.Conversation(), call.Now)
	if err != nil {
		return "", err
	}

	return fmt.Sprintf("Started a fresh session (#%d). The earlier conversation is kept "+
		"but no longer part of what I remember here.", s.ID), nil
}

func (p *Pipeline) cmdStatus(ctx context.Context, call command.Call) (string, error) {
	s, err := session.Current(ctx, call.Tx, p.agentID, call.Message.Conversation(), call.Now)
	if err != nil {
		return "", err
	}

	n, err := session.CountTurns(ctx, call.Tx, s.ID)
	if err != nil {
		return "", err
	}

	title := s.Title
	if title == "" {
		title = "untitled"
	}

	return fmt.Sprintf("%s is running (responder: %s), up since %s UTC.\n"+
		"Session #%d \"%s\": %d messages, started %s UTC.",
		p.agentName, p.responder.Name(), p.started.Format("2 Jan 15:04"),
		s.ID, title, n, s.CreatedAt.Format("2 Jan 2006 15:04")), nil
}
