package main

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/switchboardhq/switchboard/core/config"
)

// newLogger logs as text on a terminal and as JSON otherwise (a service
// manager, a container, a file), at the configured level.
func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	return newLoggerTo(cfg, w, w)
}

// newLoggerTo is newLogger writing to out, with the format chosen for the
// terminal or file w that out ends in.
func newLoggerTo(cfg config.Log, w, out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}

	text := cfg.Format == "text"
	if cfg.Format == "auto" {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			text = true
		}
	}

	if text {
		return slog.New(slog.NewTextHandler(out, opts))
	}

	return slog.New(slog.NewJSONHandler(out, opts))
}
