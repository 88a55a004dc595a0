package secret_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/secret"
)

func TestLoadKeyGeneratesFile(t *testing.T) {
	t.Parallel()

	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, secret.KeyFileName)

	var logs bytes.Buffer

	log := slog.New(slog.NewTextHandler(&logs, nil))

	key, err := secret.LoadKey("", dir, log)
	if err != nil {
		t.Fatalf("first LoadKey: %v", err)
	}

	if len(key) != secret.KeySize {
		t.Fatalf("key is %d bytes, want %d", len(key), secret.KeySize)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}

	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", perm)
	}

	text := logs.String()
	if strings.Count(text, "\n") != 1 || !strings.Contains(text, "back up") {
		t.Fatalf("log after generating = %q, want one line that says to back up", text)
	}

	if strings.Contains(text, base64.StdEncoding.EncodeToString(key)) {
		t.Fatalf("log %q shows the key", text)
	}

	logs.Reset()

	again, err := secret.LoadKey("", dir, log)
	if err != nil {
		t.Fatalf("second LoadKey: %v", err)
	}

	if !bytes.Equal(again, key) {
		t.Fatal("second LoadKey returned another key, want the one in the file")
	}

	if logs.Len() != 0 {
		t.Fatalf("second LoadKey logged %q, want nothing", logs.String())
	}
}

func TestLoadKeyConfigured(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	want := bytes.Repeat([]byte{7}, secret.KeySize)

	got, err := secret.LoadKey(base64.StdEncoding.EncodeToString(want), dir, nil)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}

	if !bytes.Equal(got, want) {
		t.Fatal("LoadKey did not return the configured key")
	}

	if _, err := os.Stat(filepath.Join(dir, secret.KeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("key file with a configured key: stat = %v, want none written", err)
	}
}

func TestLoadKeyMalformedConfigured(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		configured string
	}{
		{"not base64", "not-a-key-at-all!"},
		{"too short", base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"too long", base64.StdEncoding.EncodeToString(make([]byte, 33))},
		{"hex", strings.Repeat("ab", secret.KeySize)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := secret.LoadKey(tt.configured, t.TempDir(), nil)
			if err == nil {
				t.Fatal("LoadKey succeeded, want an error")
			}

			msg := err.Error()
			if !strings.Contains(msg, "secrets.key") || !strings.Contains(msg, "base64") {
				t.Fatalf("error %q, want it to name secrets.key and the rule", msg)
			}

			if strings.Contains(msg, tt.configured) {
				t.Fatalf("error %q shows the configured value", msg)
			}
		})
	}
}

func TestLoadKeyCorruptFile(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"not base64", "this is not a key\n"},
		{"wrong length", base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			dir := t.TempDir()
			path := filepath.Join(dir, secret.KeyFileName)

			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatalf("write key file: %v", err)
			}

			_, err := secret.LoadKey("", dir, nil)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadKey = %v, want an error naming %s", err, path)
			}

			data, err := os.ReadFile(path)
			if err != nil || string(data) != tt.content {
				t.Fatalf("key file now %q (%v), want it left as %q", data, err, tt.content)
			}
		})
	}
}
