package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeAPI drives the REST API of a real gateway process with a token
// made by "bot token create" beside it.
func TestServeAPI(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	p := startServe(t, dir)

	stdout, stderr, code := runBot(t, dir, nil, "token", "create", "--name", "script")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}

	secret := strings.TrimSpace(stdout)

	call := func(method, path, bearer, body string) (int, map[string]any) {
		t.Helper()

		req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}

		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}

		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()

		b, _ := io.ReadAll(res.Body)

		var out map[string]any
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&out); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON", method, path, res.StatusCode, b)
		}

		return res.StatusCode, out
	}

	if code, _ := call("GET", "/api/agent/status", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("status without a token: %d", code)
	}

	code, answer := call("POST", "/api/agent/chat", secret, `{"message": "hello gateway"}`)
	if code != http.StatusOK || answer["answer"] != "hello gateway" {
		t.Fatalf("chat: %d %v", code, answer)
	}

	code, status := call("GET", "/api/agent/status?include=health,logs", secret, "")
	agent, _ := status["agent"].(map[string]any)
	health, _ := status["health"].(map[string]any)

	if code != http.StatusOK || agent["status"] != "running" || agent["id"] != "default" ||
		health["web"] == nil || len(status["logs"].([]any)) == 0 {
		t.Fatalf("status: %d %v", code, status)
	}
}
