package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// maxCredentialBytes bounds one credential value.
const maxCredentialBytes = 4096

// agentSkill is a skill as the skill routes show it.
type agentSkill struct {
	Name        string                     `json:"name"`
	Description string                     `json:"description"`
	Enabled     bool                       `json:"enabled"`
	Parameters  json.RawMessage            `json:"parameters"`
	Credentials map[string]skillCredential `json:"credentials"`
}

// skillCredential is the state of one credential a skill needs. Masked
// is shown to administrators only, and only when the credential is set.
type skillCredential struct {
	Set    bool   `json:"set"`
	Masked string `json:"masked,omitempty"`
}

// skillToggle is the body of POST /api/agent/skills.
type skillToggle struct {
	Skill   string `json:"skill"`
	Enabled *bool  `json:"enabled"`
}

// skillCredentials is the body of PUT /api/agent/skills/credentials. The
// values are decoded one by one, so that a value that is not a string is
// refused naming its credential.
type skillCredentials struct {
	Skill       string                     `json:"skill"`
	Credentials map[string]json.RawMessage `json:"credentials"`
}

// skillName is the body of DELETE /api/agent/skills/credentials.
type skillName struct {
	Skill string `json:"skill"`
}

// skillRoutes registers the skill routes. Skills and their credentials
// belong to the agent, not to one user:
//
//   - GET /api/agent/skills lists every skill, enabled or not, with its
//     parameters and the credentials it needs. Everyone sees whether each
//     credential is set; only administrators (APIConfig.Admins) see the
//     masks.
//   - POST /api/agent/skills {"skill", "enabled"} turns a skill on or off.
//   - PUT /api/agent/skills/credentials {"skill", "credentials": {name:
//     value}} stores credentials, sealed.
//   - DELETE /api/agent/skills/credentials, with {"skill"} in the body or
//     ?skill=, clears a skill's credentials.
//
// The changes are for administrators only; anyone else gets a 403. Each
// answers the skill as GET shows it, never a credential's value.
func (a *API) skillRoutes(authed func(pattern string, h http.HandlerFunc)) {
	authed("GET /api/agent/skills", a.handleListSkills)
	authed("POST /api/agent/skills", a.handleToggleSkill)
	authed("PUT /api/agent/skills/credentials", a.handleSetSkillCredentials)
	authed("DELETE /api/agent/skills/credentials", a.handleClearSkillCredentials)
}

// isAdmin reports whether user may change the agent's skills and
// settings, and see the masks of its credentials.
func (a *API) isAdmin(user core.UserID) bool {
	return user != "" && slices.Contains(a.cfg.Admins, string(user))
}

// adminOnly writes a 403 and returns false when the caller is not an
// administrator; action says what was refused.
func (a *API) adminOnly(w http.ResponseWriter, r *http.Request, action string) bool {
	if a.isAdmin(caller(r)) {
		return true
	}

	wire.WriteError(w, http.StatusForbidden, wire.Error{Code: wire.CodeForbidden,
		Message: "only an administrator of the agent may " + action})

	return false
}

// handleListSkills lists every skill of the agent.
func (a *API) handleListSkills(w http.ResponseWriter, r *http.Request) {
	list, err := a.agentSkills(r, "")
	if err != nil {
		a.fail(w, "list skills", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"skills": list})
}

// handleToggleSkill turns a skill on or off.
func (a *API) handleToggleSkill(w http.ResponseWriter, r *http.Request) {
	if !a.adminOnly(w, r, "turn skills on or off") {
		return
	}

	var body skillToggle
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	if !a.knownSkill(w, r, body.Skill) {
		return
	}

	if body.Enabled == nil {
		wire.Invalid(w, "enabled", "is required: true or false")
		return
	}

	err := a.cfg.Skills.SetEnabled(r.Context(), a.cfg.AgentID, body.Skill, *body.Enabled,
		a.cfg.Clock.Now().UTC())
	if err != nil {
		a.fail(w, "turn skill on or off", err)
		return
	}

	a.writeSkill(w, r, body.Skill)
}

// handleSetSkillCredentials stores credentials of a skill.
func (a *API) handleSetSkillCredentials(w http.ResponseWriter, r *http.Request) {
	if !a.adminOnly(w, r, "set skill credentials") {
		return
	}

	var body skillCredentials
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	if !a.knownSkill(w, r, body.Skill) {
		return
	}

	needed, err := a.credentialNames(r, body.Skill)
	if err != nil {
		a.fail(w, "set skill credentials", err)
		return
	}

	values, err := validateCredentials(body.Skill, needed, body.Credentials)
	if err != nil {
		wire.Fail(w, err)
		return
	}

	err = a.cfg.Credentials.Set(r.Context(), a.cfg.AgentID, body.Skill, values,
		a.cfg.Clock.Now().UTC())
	if err != nil {
		a.fail(w, "set skill credentials", err)
		return
	}

	a.log.Info("skill credentials set", "skill", body.Skill, "user_id", caller(r),
		"names", slices.Sorted(maps.Keys(values)))

	a.writeSkill(w, r, body.Skill)
}

// validateCredentials checks the credentials to set for a skill that
// needs the credentials named in needed, and returns their values: at
// least one, each one the skill needs, each value a string of 1 to
// maxCredentialBytes bytes of UTF-8 without control characters and not
// only spaces. A failure is a *core.InputError.
func validateCredentials(name string, needed []string, raw map[string]json.RawMessage,
) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, &core.InputError{Field: "credentials",
			Rule: "is required: an object of credential names to values"}
	}

	values := make(map[string]string, len(raw))

	for _, n := range slices.Sorted(maps.Keys(raw)) {
		field := "credentials." + n
		if !slices.Contains(needed, n) {
			want := "needs no credentials"
			if len(needed) > 0 {
				want = "needs only " + strings.Join(needed, ", ")
			}

			return nil, &core.InputError{Field: field, Rule: fmt.Sprintf(
				"is not a credential of the %s skill, which %s", name, want)}
		}

		var v *string
		if err := json.Unmarshal(raw[n], &v); err != nil || v == nil {
			return nil, &core.InputError{Field: field, Rule: "must be a string"}
		}

		if rule := credentialRule(*v); rule != "" {
			return nil, &core.InputError{Field: field, Rule: rule}
		}

		values[n] = *v
	}

	return values, nil
}

// credentialRule returns the rule a credential value breaks, or "" when it
// breaks none.
func credentialRule(value string) string {
	switch {
	case value == "":
		return "must not be empty"
	case len(value) > maxCredentialBytes:
		return fmt.Sprintf("must be at most %d bytes (got %d)", maxCredentialBytes,
			len(value))
	case !utf8.ValidString(value):
		return "must be valid UTF-8"
	case strings.ContainsFunc(value, unicode.IsControl):
		return "must not contain control characters such as line breaks or tabs"
	case strings.TrimSpace(value) == "":
		return "must not be only spaces"
	}

	return ""
}

// handleClearSkillCredentials clears the credentials of a skill named in
// the body or by the skill query parameter.
func (a *API) handleClearSkillCredentials(w http.ResponseWriter, r *http.Request) {
	if !a.adminOnly(w, r, "clear skill credentials") {
		return
	}

	name := r.URL.Query().Get("skill")

	if r.ContentLength != 0 {
		var body skillName
		if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
			reject(w, rerr)
			return
		}

		if name != "" && body.Skill != name {
			wire.Invalid(w, "skill", fmt.Sprintf("is given twice, as %q in the body and "+
				"%q in the query; give it once", body.Skill, name))

			return
		}

		name = body.Skill
	}

	if !a.knownSkill(w, r, name) {
		return
	}

	// Without a credential store no skill needs credentials: there is
	// nothing to clear.
	if a.cfg.Credentials != nil {
		if err := a.cfg.Credentials.Clear(r.Context(), a.cfg.AgentID, name); err != nil {
			a.fail(w, "clear skill credentials", err)
			return
		}
	}

	a.log.Info("skill credentials cleared", "skill", name, "user_id", caller(r))

	a.writeSkill(w, r, name)
}

// knownSkill writes a 400 on the skill field and returns false when name
// is missing or not a registered skill.
func (a *API) knownSkill(w http.ResponseWriter, r *http.Request, name string) bool {
	if name != "" && a.cfg.Skills.Has(name) {
		return true
	}

	skills := a.cfg.Skills.All()

	names := make([]string, len(skills))
	for i, s := range skills {
		names[i] = s.Name()
	}

	known := strings.Join(names, ", ")
	if name == "" {
		wire.Invalid(w, "skill", "is required: one of "+known)
		return false
	}

	wire.Invalid(w, "skill", fmt.Sprintf("must be one of %s, got %q", known, name))

	return false
}

// agentSkills describes the agent's skills as the caller may see them:
// every skill, or the one named only when only is not empty.
func (a *API) agentSkills(r *http.Request, only string) ([]agentSkill, error) {
	ctx := r.Context()

	skills := a.cfg.Skills.All()

	infos, err := a.cfg.Skills.List(ctx, a.cfg.AgentID)
	if err != nil {
		return nil, fmt.Errorf("list skills of agent %s: %w", a.cfg.AgentID, err)
	}

	admin := a.isAdmin(caller(r))
	out := []agentSkill{}

	for _, in := range infos {
		if only != "" && in.Name != only {
			continue
		}

		out = append(out, toAgentSkill(in, skills, admin))
	}

	return out, nil
}

// toAgentSkill shows info, with the parameters of its skill among skills
// and the masks of its credentials when admin is true.
func toAgentSkill(info skill.Info, skills []skill.Skill, admin bool) agentSkill {
	out := agentSkill{Name: info.Name, Description: info.Description, Enabled: info.Enabled,
		Parameters: json.RawMessage(`{}`), Credentials: map[string]skillCredential{}}

	i := slices.IndexFunc(skills, func(s skill.Skill) bool { return s.Name() == info.Name })
	if i >= 0 && len(skills[i].Parameters()) > 0 {
		out.Parameters = skills[i].Parameters()
	}

	for name, mask := range info.Credentials {
		c := skillCredential{Set: mask != ""}
		if admin {
			c.Masked = mask
		}

		out.Credentials[name] = c
	}

	return out
}

// credentialNames returns the names of the credentials the skill needs.
func (a *API) credentialNames(r *http.Request, name string) ([]string, error) {
	for _, s := range a.cfg.Skills.All() {
		if s.Name() == name {
			return s.Credentials(), nil
		}
	}

	return nil, nil
}

// writeSkill answers with the skill as GET /api/agent/skills shows it.
func (a *API) writeSkill(w http.ResponseWriter, r *http.Request, name string) {
	list, err := a.agentSkills(r, name)
	if err != nil {
		a.fail(w, "read skill "+name, err)
		return
	}

	if len(list) != 1 {
		a.fail(w, "read skill "+name, fmt.Errorf("skill %s is not listed", name))
		return
	}

	wire.WriteJSON(w, http.StatusOK, list[0])
}
