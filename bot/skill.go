package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/skill"
)

// cmdSkill manages the agent's skills and their credentials beside a
// running gateway.
func cmdSkill(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer,
) error {
	path, rest, err := flags("skill", args, nil)
	if err != nil {
		return err
	}

	want := map[string]int{"list": 1, "enable": 2, "disable": 2, "set": 3, "clear": 2}
	if len(rest) == 0 || want[rest[0]] != len(rest) {
		return usageError{"skill: want 'list', 'enable NAME', 'disable NAME', " +
			"'set NAME CREDENTIAL' or 'clear NAME'"}
	}

	cfg, db, closeDB, err := openAdmin(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer closeDB()

	box, err := newBox(cfg, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}

	reg, creds, err := newSkills(cfg, db, box, &skill.Reminders{DB: db})
	if err != nil {
		return err
	}

	agentID, now := cfg.Agent.ID, time.Now().UTC()

	if rest[0] != "list" && !reg.Has(rest[1]) {
		return fmt.Errorf("skill %s: there is no skill named %q", rest[0], rest[1])
	}

	switch rest[0] {
	case "list":
		infos, err := reg.List(ctx, agentID)
		if err != nil {
			return err
		}

		for _, in := range infos {
			state := "off"
			if in.Enabled {
				state = "on"
			}

			fmt.Fprintf(stdout, "%-11s %-3s %s\n", in.Name, state, credentialList(in.Credentials))
		}

		return nil
	case "enable", "disable":
		if err := reg.SetEnabled(ctx, agentID, rest[1], rest[0] == "enable", now); err != nil {
			return fmt.Errorf("skill %s: %w", rest[0], err)
		}

		fmt.Fprintf(stdout, "%s %sd\n", rest[1], rest[0])

		return nil
	case "clear":
		if err := creds.Clear(ctx, agentID, rest[1]); err != nil {
			return err
		}

		fmt.Fprintf(stdout, "credentials of %s cleared\n", rest[1])

		return nil
	}

	value, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read the credential from standard input: %w", err)
	}

	err = creds.Set(ctx, agentID, rest[1], map[string]string{rest[2]: strings.TrimSpace(value)},
		now)
	if err != nil {
		return fmt.Errorf("skill set: %w", err)
	}

	fmt.Fprintf(stdout, "%s of %s set\n", rest[2], rest[1])

	return nil
}

// credentialList shows a skill's credentials as name=mask, or name=unset.
func credentialList(creds map[string]string) string {
	names := make([]string, 0, len(creds))
	for n := range creds {
		names = append(names, n)
	}

	slices.Sort(names)

	parts := make([]string, len(names))
	for i, n := range names {
		v := creds[n]
		if v == "" {
			v = "unset"
		}

		parts[i] = n + "=" + v
	}

	return strings.Join(parts, " ")
}
