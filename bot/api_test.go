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

// TestTokenRevokeEndsAccess: "bot token revoke" refuses the token from
// then on, beside a running gateway, and ends the dashboard login made
// with it.
func TestTokenRevokeEndsAccess(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	p := startServe(t, dir)

	stdout, stderr, code := runBot(t, dir, nil, "token", "create", "--name", "laptop")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}

	secret := strings.TrimSpace(stdout)

	res, err := http.Post("http://"+p.addr+"/api/auth/login", "application/json",
		strings.NewReader(`{"token": "`+secret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "bot_session" {
			cookie = c
		}
	}

	if res.StatusCode != http.StatusOK || cookie == nil {
		t.Fatalf("login: %d, cookie %v", res.StatusCode, cookie)
	}

	me := func(bearer string, c *http.Cookie) int {
		t.Helper()

		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/auth/me", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}

		if c != nil {
			req.AddCookie(c)
		}

		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()

		return res.StatusCode
	}

	if me(secret, nil) != 200 || me("", cookie) != 200 {
		t.Fatal("the token or its login does not work before the revocation")
	}

	stdout, _, code = runBot(t, dir, nil, "token", "list")
	if code != 0 || !strings.HasPrefix(stdout, "1\tlaptop\tuser owner\tcreated ") ||
		!strings.Contains(stdout, "last used ") {
		t.Fatalf("token list: exit %d, %q", code, stdout)
	}

	stdout, stderr, code = runBot(t, dir, nil, "token", "revoke", "1")
	if code != 0 || !strings.Contains(stdout, `revoked token 1 "laptop" of user owner; `+
		"ended 1 dashboard logins") {
		t.Fatalf("token revoke: exit %d, %q %q", code, stdout, stderr)
	}

	if a, b := me(secret, nil), me("", cookie); a != 401 || b != 401 {
		t.Fatalf("after the revocation the token gets %d and its login %d, want 401", a, b)
	}

	if _, stderr, code = runBot(t, dir, nil, "token", "revoke", "1"); code != 1 ||
		!strings.Contains(stderr, "no token 1") {
		t.Fatalf("revoking again: exit %d, %q", code, stderr)
	}

	if _, stderr, code = runBot(t, dir, nil, "token", "revoke", "first"); code != 2 ||
		!strings.Contains(stderr, "ID must be a positive number") {
		t.Fatalf("revoking by name: exit %d, %q", code, stderr)
	}

	if stdout, _, _ = runBot(t, dir, nil, "token", "list"); !strings.HasPrefix(stdout,
		"no API tokens") {
		t.Fatalf("token list after the revocation: %q", stdout)
	}
}
