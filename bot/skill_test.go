package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestSkillCommands(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()

	stdout, stderr, code := runBot(t, dir, nil, "skill", "list")
	if code != 0 || !strings.Contains(stdout, "weather") ||
		!strings.Contains(stdout, "api_key=unset") {
		t.Fatalf("skill list: exit %d, %q %q", code, stdout, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	set := exec.CommandContext(ctx, binary, "skill", "set", "weather", "api_key")
	set.Dir, set.Env = dir, testEnv()
	set.Stdin = strings.NewReader("owm-secret-0123456789\n")

	if out, err := set.CombinedOutput(); err != nil || !strings.Contains(string(out), "set") {
		t.Fatalf("skill set: %v %s", err, out)
	}

	runBot(t, dir, nil, "skill", "disable", "calculator")

	stdout, _, _ = runBot(t, dir, nil, "skill", "list")
	if !strings.Contains(stdout, "api_key=••••6789") || strings.Contains(stdout, "owm-secret") {
		t.Fatalf("skill list after set = %q, want the mask only", stdout)
	}

	if !strings.Contains(stdout, "calculator  off") {
		t.Fatalf("skill list after disable = %q", stdout)
	}

	_, stderr, code = runBot(t, dir, nil, "skill", "enable", "teleport")
	if code != 1 || !strings.Contains(stderr, `no skill named "teleport"`) {
		t.Fatalf("unknown skill: exit %d, %q", code, stderr)
	}
}
