// Command bot is the gateway between a person's AI agent and their
// messengers. "bot serve" runs it; the other subcommands manage the
// database, pairing requests and API tokens of the same configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: bot <command> [--config FILE] [arguments]

commands:
  serve                     run the gateway
  migrate up|down|status    apply, roll back (last group) or list migrations
  pair list                 list pairing requests waiting for approval
  pair approve CODE         allow the person behind a pairing code
  token create --name NAME [--user USER]
                            create an API token of USER (default owner) and print it
  token list                list the API tokens: id, name, user, creation, last use
  token revoke ID           delete a token and end its user's dashboard logins
  skill list                list the skills, on or off, with masked credentials
  skill enable|disable NAME turn a skill on or off
  skill set NAME CREDENTIAL store a credential, read from standard input
  skill clear NAME          remove a skill's credentials

Every command reads the same configuration: --config FILE (YAML), then
BOT_<SECTION>_<KEY> environment variables. With neither, the gateway uses
SQLite at ./data/bot.db and listens on 127.0.0.1:8080.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)

	var ue usageError

	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "bot: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "bot: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run dispatches one command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}

	cmd, rest := args[0], args[1:]

	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "pair":
		return cmdPair(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "skill":
		return cmdSkill(ctx, rest, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// flags parses the common --config flag and any extra flags of a command.
func flags(name string, args []string, extra func(*flag.FlagSet)) (string, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	configPath := fs.String("config", "", "YAML configuration file")
	if extra != nil {
		extra(fs)
	}

	if err := fs.Parse(args); err != nil {
		return "", nil, usageError{fmt.Sprintf("%s: %v", name, err)}
	}

	return *configPath, fs.Args(), nil
}
