package command_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/command"
)

func TestParse(t *testing.T) {
	t.Parallel()

	name32 := strings.Repeat("a", 32)

	tests := []struct {
		name     string
		text     string
		wantName string
		wantArgs string
		wantOK   bool
	}{
		{"plain command", "/help", "help", "", true},
		{"with arguments", "/remind me at 9", "remind", "me at 9", true},
		{"arguments trimmed", "/remind   me  ", "remind", "me", true},
		{"digits and underscore", "/set_model2 fast", "set_model2", "fast", true},
		{"addressed to the agent", "/start@MyAgentBot", "start", "", true},
		{"addressed with arguments", "/start@MyAgentBot hi there", "start", "hi there", true},
		{"empty address", "/start@", "start", "", true},
		{"upper case lowered", "/HeLP", "help", "", true},
		{"upper case addressed", "/NEW@Bot x", "new", "x", true},
		{"newline after name", "/note\nbuy milk", "note", "buy milk", true},
		{"newline and space", "/note\nbuy milk today", "note", "buy milk today", true},
		{"blank line after name", "/note\n\none\ntwo", "note", "one\ntwo", true},
		{"trailing newline", "/help\n", "help", "", true},
		{"tab after name", "/note\tbuy milk", "note", "buy milk", true},
		{"unicode arguments", "/say grüße 日本 😀", "say", "grüße 日本 😀", true},
		{"32 characters", "/" + name32, name32, "", true},
		{"33 characters", "/" + name32 + "a", "", "", false},
		{"33 characters with address", "/" + name32 + "a@bot", "", "", false},
		{"space after slash", "/ not a command", "", "", false},
		{"slash later in text", "hello /help", "", "", false},
		{"leading space", " /help", "", "", false},
		{"slash alone", "/", "", "", false},
		{"empty text", "", "", "", false},
		{"only an address", "/@bot", "", "", false},
		{"double slash", "//help", "", "", false},
		{"path", "/usr/bin", "", "", false},
		{"dash in name", "/set-model", "", "", false},
		{"unicode name", "/grüße", "", "", false},
		{"cyrillic name", "/помощь", "", "", false},
		{"emoji name", "/😀", "", "", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			name, args, ok := command.Parse(tt.text)
			if name != tt.wantName || args != tt.wantArgs || ok != tt.wantOK {
				t.Fatalf("Parse(%q) = %q, %q, %v; want %q, %q, %v", tt.text,
					name, args, ok, tt.wantName, tt.wantArgs, tt.wantOK)
			}
		})
	}
}

func TestRegisterRejectsInvalidNames(t *testing.T) {
	t.Parallel()

	names := []string{
		"", "Help", "HELP", "set-model", "two words", "/help", "help@bot", "grüße",
		"😀", "tab\there", strings.Repeat("a", 33),
	}

	for _, name := range names {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			t.Parallel()

			r := command.NewRegistry()
			if err := r.Register(command.Command{Name: name, Handle: echo}); err == nil {
				t.Fatalf("Register(%q) succeeded, want an error", name)
			}

			if got := r.List(); len(got) != 0 {
				t.Fatalf("List after a refused Register = %v, want none", got)
			}
		})
	}
}

func TestRegisterAcceptsValidNames(t *testing.T) {
	t.Parallel()

	for _, name := range []string{"a", "help", "set_model", "v2", "_", strings.Repeat("z", 32)} {
		r := command.NewRegistry()
		if err := r.Register(command.Command{Name: name, Handle: echo}); err != nil {
			t.Fatalf("Register(%q) = %v, want nil", name, err)
		}

		if _, ok := r.Lookup(name); !ok {
			t.Fatalf("Lookup(%q) found nothing after Register", name)
		}
	}
}

func TestRegisterDuplicate(t *testing.T) {
	t.Parallel()

	r := command.NewRegistry()

	first := command.Command{Name: "help", Description: "first", Handle: echo}
	if err := r.Register(first); err != nil {
		t.Fatalf("Register: %v", err)
	}

	second := command.Command{Name: "help", Description: "second", Handle: echo}
	if err := r.Register(second); err == nil {
		t.Fatal("second Register of help succeeded, want an error")
	}

	c, ok := r.Lookup("help")
	if !ok || c.Description != "first" {
		t.Fatalf("Lookup(help) = %+v, %v; want the first command kept", c, ok)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()

	r := command.NewRegistry()
	mustRegister(t, r, "help", "Show the commands")

	tests := []struct {
		name string
		want bool
	}{
		{"help", true},
		{"HELP", false},
		{"hel", false},
		{"", false},
	}

	for _, tt := range tests {
		if _, ok := r.Lookup(tt.name); ok != tt.want {
			t.Fatalf("Lookup(%q) found = %v, want %v", tt.name, ok, tt.want)
		}
	}

	c, _ := r.Lookup("help")

	reply, err := c.Handle(context.Background(), command.Call{Name: "help", Args: "x"})
	if err != nil || reply != "help x" {
		t.Fatalf("Handle = %q, %v; want %q", reply, err, "help x")
	}
}

func TestListAndInfos(t *testing.T) {
	t.Parallel()

	r := command.NewRegistry()

	if got := r.List(); got == nil || len(got) != 0 {
		t.Fatalf("List of an empty registry = %#v, want an empty slice", got)
	}

	for _, name := range []string{"status", "help", "new", "a_b", "a", "b2"} {
		mustRegister(t, r, name, "about "+name)
	}

	var names []string
	for _, c := range r.List() {
		names = append(names, c.Name)
	}

	want := []string{"a", "a_b", "b2", "help", "new", "status"}
	if !slices.Equal(names, want) {
		t.Fatalf("List names = %v, want %v", names, want)
	}

	infos := r.Infos()

	wantInfos := make([]core.CommandInfo, len(want))
	for i, name := range want {
		wantInfos[i] = core.CommandInfo{Name: name, Description: "about " + name}
	}

	if !slices.Equal(infos, wantInfos) {
		t.Fatalf("Infos = %+v, want %+v", infos, wantInfos)
	}
}

func TestRegistryConcurrentUse(t *testing.T) {
	t.Parallel()

	r := command.NewRegistry()

	var wg sync.WaitGroup

	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				_ = r.Register(command.Command{Name: fmt.Sprintf("c%d_%d", i, j), Handle: echo})
				_ = r.List()
				_, _ = r.Lookup("c0_0")
			}
		})
	}

	wg.Wait()

	if n := len(r.Infos()); n != 8*20 {
		t.Fatalf("registered %d commands, want %d", n, 8*20)
	}
}

func mustRegister(t *testing.T, r *command.Registry, name, desc string) {
	t.Helper()

	err := r.Register(command.Command{Name: name, Description: desc, Handle: echo})
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
}

func echo(_ context.Context, call command.Call) (string, error) {
	return strings.TrimSpace(call.Name + " " + call.Args), nil
}

func TestReplace(t *testing.T) {
	t.Parallel()

	r := command.NewRegistry()
	mustRegister(t, r, "status", "old")

	old, err := r.Replace(command.Command{Name: "status", Description: "new", Handle: echo})
	if err != nil || old.Description != "old" {
		t.Fatalf("Replace = %+v, %v; want the old command", old, err)
	}

	if c, _ := r.Lookup("status"); c.Description != "new" {
		t.Fatalf("after Replace the command is %+v", c)
	}

	if _, err := r.Replace(command.Command{Name: "nope", Handle: echo}); err == nil {
		t.Fatal("Replace of an unregistered command succeeded")
	}
}
