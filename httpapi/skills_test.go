package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// weatherKey is a credential value the tests set and then look for in
// every answer.
const weatherKey = "wk-live-0123456789abcdefQRST"

// skillAnswer is a skill as the skill routes show it.
type skillAnswer struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Enabled     bool            `json:"enabled"`
	Parameters  json.RawMessage `json:"parameters"`
	Credentials map[string]struct {
		Set    bool    `json:"set"`
		Masked *string `json:"masked"`
	} `json:"credentials"`
}

// listSkills returns the skills as user sees them, by name, and the raw
// answer.
func listSkills(t *testing.T, ta *testAPI, user string) (map[string]skillAnswer, []byte) {
	t.Helper()

	code, b := ta.do("GET", "/api/agent/skills", user, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/agent/skills as %s: %d %s", user, code, b)
	}

	var out struct {
		Skills []skillAnswer `json:"skills"`
	}

	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}

	byName := make(map[string]skillAnswer, len(out.Skills))
	for _, s := range out.Skills {
		byName[s.Name] = s
	}

	return byName, b
}

// changeSkill sends a change as the owner, wants a 200 and returns the
// skill answered and the raw answer.
func changeSkill(t *testing.T, ta *testAPI, method, path string, body any,
) (skillAnswer, []byte) {
	t.Helper()

	code, b := ta.do(method, path, "owner", body)
	if code != http.StatusOK {
		t.Fatalf("%s %s %v: %d %s", method, path, body, code, b)
	}

	var s skillAnswer
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}

	return s, b
}

func TestSkillsListEverySkillWithParameters(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)

		off, _ := changeSkill(t, ta, "POST", "/api/agent/skills",
			map[string]any{"skill": "time", "enabled": false})
		if off.Name != "time" || off.Enabled {
			t.Fatalf("POST answered %+v, want time disabled", off)
		}

		var ordered struct {
			Skills []skillAnswer `json:"skills"`
		}

		code := ta.doJSON("GET", "/api/agent/skills", "anna", nil, &ordered)
		if code != http.StatusOK || len(ordered.Skills) != 4 {
			t.Fatalf("GET: %d %+v, want 4 skills", code, ordered)
		}

		for i, name := range []string{"calculator", "memory", "time", "weather"} {
			if ordered.Skills[i].Name != name {
				t.Fatalf("skill %d is %s, want %s: every skill, sorted by name", i,
					ordered.Skills[i].Name, name)
			}
		}

		for _, s := range ordered.Skills {
			var schema struct {
				Type string `json:"type"`
			}

			err := json.Unmarshal(s.Parameters, &schema)
			if err != nil || schema.Type != "object" {
				t.Errorf("%s: parameters %s, want its JSON schema", s.Name, s.Parameters)
			}

			if s.Description == "" || s.Credentials == nil {
				t.Errorf("%s: %+v, want a description and a credentials object", s.Name, s)
			}

			if s.Enabled != (s.Name != "time") {
				t.Errorf("%s: enabled = %v", s.Name, s.Enabled)
			}
		}

		weather := ordered.Skills[3].Credentials
		if len(weather) != 1 || weather["api_key"].Set || weather["api_key"].Masked != nil {
			t.Fatalf("weather credentials = %+v, want api_key not set", weather)
		}

		if on, _ := changeSkill(t, ta, "POST", "/api/agent/skills",
			map[string]any{"skill": "time", "enabled": true}); !on.Enabled {
			t.Fatalf("POST answered %+v, want time enabled", on)
		}
	})
}

func TestSkillToggleRefusesBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		before, _ := listSkills(t, ta, "owner")

		tests := []struct {
			body  any
			field string
		}{
			{map[string]any{"enabled": false}, "skill"},
			{map[string]any{"skill": "", "enabled": false}, "skill"},
			{map[string]any{"skill": "teleport", "enabled": false}, "skill"},
			{map[string]any{"skill": "time"}, "enabled"},
			{map[string]any{"skill": "time", "enabled": "no"}, "enabled"},
			{map[string]any{"skill": "time", "enabled": nil}, "enabled"},
			{map[string]any{"skill": "time", "enabled": false, "force": true}, "force"},
		}

		for _, tt := range tests {
			ta.wantError("POST", "/api/agent/skills", "owner", tt.body, http.StatusBadRequest,
				tt.field)
		}

		_, b := ta.do("POST", "/api/agent/skills", "owner",
			map[string]any{"skill": "teleport", "enabled": true})
		if e := decodeError(t, b); !strings.Contains(e.Error.Message, "calculator, memory, "+
			"time, weather") {
			t.Errorf("unknown skill: %q, want the known skills listed", e.Error.Message)
		}

		after, _ := listSkills(t, ta, "owner")
		for name, s := range before {
			if after[name].Enabled != s.Enabled {
				t.Errorf("%s: enabled %v after refused requests, was %v", name,
					after[name].Enabled, s.Enabled)
			}
		}
	})
}

func TestSkillCredentialsAreMaskedAndCleared(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		ctx := context.Background()
		mask := secret.Mask(weatherKey)

		set, raw := changeSkill(t, ta, "PUT", "/api/agent/skills/credentials",
			map[string]any{"skill": "weather", "credentials": map[string]string{
				"api_key": weatherKey}})
		if c := set.Credentials["api_key"]; !c.Set || c.Masked == nil || *c.Masked != mask {
			t.Fatalf("PUT answered %s, want api_key set and masked as %q", raw, mask)
		}

		owner, ownerRaw := listSkills(t, ta, "owner")
		if c := owner["weather"].Credentials["api_key"]; !c.Set || c.Masked == nil ||
			*c.Masked != mask {
			t.Fatalf("owner's GET %s, want the mask %q", ownerRaw, mask)
		}

		var sealed []byte

		err := ta.DB.NewRaw("SELECT sealed FROM skill_credentials WHERE agent_id = ? "+
			"AND skill = ? AND name = ?", "default", "weather", "api_key").Scan(ctx, &sealed)
		if err != nil || len(sealed) == 0 || bytes.Contains(sealed, []byte(weatherKey)) {
			t.Fatalf("stored %q (%v), want the value sealed", sealed, err)
		}

		cleared, clearedRaw := changeSkill(t, ta, "DELETE",
			"/api/agent/skills/credentials?skill=weather", nil)
		if c := cleared.Credentials["api_key"]; c.Set || c.Masked != nil {
			t.Fatalf("DELETE ?skill= answered %s, want api_key not set", clearedRaw)
		}

		changeSkill(t, ta, "PUT", "/api/agent/skills/credentials", map[string]any{
			"skill": "weather", "credentials": map[string]string{"api_key": weatherKey}})

		cleared, _ = changeSkill(t, ta, "DELETE", "/api/agent/skills/credentials",
			map[string]string{"skill": "weather"})
		if cleared.Credentials["api_key"].Set {
			t.Fatalf("DELETE with a body answered %+v, want api_key not set", cleared)
		}

		after, afterRaw := listSkills(t, ta, "owner")
		if after["weather"].Credentials["api_key"].Set {
			t.Fatalf("GET after DELETE: %s", afterRaw)
		}

		for _, b := range [][]byte{raw, ownerRaw, clearedRaw, afterRaw} {
			if bytes.Contains(b, []byte(weatherKey)) || bytes.Contains(b, []byte("0123456789")) {
				t.Fatalf("an answer holds the credential: %s", b)
			}
		}
	})
}

func TestSkillCredentialsRefuseBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		changeSkill(t, ta, "PUT", "/api/agent/skills/credentials", map[string]any{
			"skill": "weather", "credentials": map[string]string{"api_key": weatherKey}})

		creds := func(values any) map[string]any {
			return map[string]any{"skill": "weather", "credentials": values}
		}

		const path = "/api/agent/skills/credentials"

		tests := []struct {
			body  any
			field string
		}{
			{map[string]any{"credentials": map[string]string{"api_key": "k-1234567890"}},
				"skill"},
			{map[string]any{"skill": "teleport", "credentials": map[string]string{
				"api_key": "k-1234567890"}}, "skill"},
			{map[string]any{"skill": "weather"}, "credentials"},
			{creds(map[string]string{}), "credentials"},
			{creds(map[string]string{"token": "k-1234567890"}), "credentials.token"},
			{map[string]any{"skill": "time", "credentials": map[string]string{
				"api_key": "k-1234567890"}}, "credentials.api_key"},
			{creds(map[string]string{"api_key": ""}), "credentials.api_key"},
			{creds(map[string]string{"api_key": "   "}), "credentials.api_key"},
			{creds(map[string]string{"api_key": "k-12345\n67890"}), "credentials.api_key"},
			{creds(map[string]string{"api_key": "k-12345\x0067890"}), "credentials.api_key"},
			{creds(map[string]string{"api_key": strings.Repeat("k", 4097)}),
				"credentials.api_key"},
			{creds(map[string]any{"api_key": 12345}), "credentials.api_key"},
			{creds(map[string]any{"api_key": nil}), "credentials.api_key"},
			{creds([]string{"api_key"}), "credentials"},
			// One good value does not pass with a bad one.
			{creds(map[string]string{"api_key": "k-new-1234567890", "zone": "eu"}),
				"credentials.zone"},
			{map[string]any{"skill": "weather", "credentials": map[string]string{
				"api_key": "k-1234567890"}, "overwrite": true}, "overwrite"},
		}

		for _, tt := range tests {
			ta.wantError("PUT", path, "owner", tt.body, http.StatusBadRequest, tt.field)
		}

		wantKeptKey(t, ta)

		// The longest value passes.
		longest := strings.Repeat("k", 4096)
		set, b := changeSkill(t, ta, "PUT", path, creds(map[string]string{"api_key": longest}))

		if !set.Credentials["api_key"].Set || bytes.Contains(b, []byte(longest[:100])) {
			t.Fatalf("PUT of 4096 bytes: %s", b)
		}
	})
}

func TestSkillCredentialsClearRefusesBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		changeSkill(t, ta, "PUT", "/api/agent/skills/credentials", map[string]any{
			"skill": "weather", "credentials": map[string]string{"api_key": weatherKey}})

		const path = "/api/agent/skills/credentials"

		tests := []struct {
			path  string
			body  any
			field string
		}{
			{path, nil, "skill"},
			{path + "?skill=", nil, "skill"},
			{path + "?skill=teleport", nil, "skill"},
			{path, map[string]string{"skill": "teleport"}, "skill"},
			{path, map[string]string{}, "skill"},
			{path + "?skill=weather", map[string]string{}, "skill"},
			{path + "?skill=time", map[string]string{"skill": "weather"}, "skill"},
			{path, map[string]any{"skill": 1}, "skill"},
			{path, map[string]any{"skill": "weather", "all": true}, "all"},
		}

		for _, tt := range tests {
			ta.wantError("DELETE", tt.path, "owner", tt.body, http.StatusBadRequest, tt.field)
		}

		wantKeptKey(t, ta)
	})
}

// wantKeptKey checks that weatherKey is still the weather skill's key.
func wantKeptKey(t *testing.T, ta *testAPI) {
	t.Helper()

	after, raw := listSkills(t, ta, "owner")
	if c := after["weather"].Credentials["api_key"]; !c.Set || c.Masked == nil ||
		*c.Masked != secret.Mask(weatherKey) {
		t.Fatalf("after refused requests: %s, want the first key still set", raw)
	}
}

func TestSkillChangesNeedAnAdministrator(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		changeSkill(t, ta, "PUT", "/api/agent/skills/credentials", map[string]any{
			"skill": "weather", "credentials": map[string]string{"api_key": weatherKey}})

		refused := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/agent/skills", map[string]any{"skill": "time", "enabled": false}},
			{"PUT", "/api/agent/skills/credentials", map[string]any{"skill": "weather",
				"credentials": map[string]string{"api_key": "k-anna-1234567890"}}},
			{"DELETE", "/api/agent/skills/credentials?skill=weather", nil},
			{"DELETE", "/api/agent/skills/credentials", map[string]string{"skill": "weather"}},
			// A bad request of a non-administrator is refused as forbidden too.
			{"POST", "/api/agent/skills", map[string]any{"skill": "teleport"}},
		}

		for _, r := range refused {
			for _, user := range []string{"anna", "bob"} {
				code, b := ta.do(r.method, r.path, user, r.body)
				if e := decodeError(t, b); code != http.StatusForbidden ||
					e.Error.Code != "forbidden" {
					t.Errorf("%s %s as %s: %d %s, want 403 forbidden", r.method, r.path, user,
						code, b)
				}
			}
		}

		anna, raw := listSkills(t, ta, "anna")
		if c := anna["weather"].Credentials["api_key"]; !c.Set || c.Masked != nil ||
			bytes.Contains(raw, []byte("masked")) {
			t.Fatalf("anna's GET %s, want api_key set without its mask", raw)
		}

		if !anna["time"].Enabled || anna["time"].Description == "" {
			t.Fatalf("anna's GET %s, want time enabled, with its description", raw)
		}

		owner, raw := listSkills(t, ta, "owner")
		if c := owner["weather"].Credentials["api_key"]; c.Masked == nil ||
			*c.Masked != secret.Mask(weatherKey) {
			t.Fatalf("owner's GET %s after refused changes, want the owner's key", raw)
		}

		ta.wantError("GET", "/api/agent/skills", "", nil, http.StatusUnauthorized, "")
	})
}

// decodeError decodes an error answer.
func decodeError(t *testing.T, b []byte) apiError {
	t.Helper()

	var e apiError
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decode error answer %s: %v", b, err)
	}

	return e
}
