package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// statusIncludes are the parts GET /api/agent/status adds on request.
var statusIncludes = []string{"messages", "skills", "logs", "health"}

// recentMessages and recentLogs bound the included lists.
const (
	recentMessages = 20
	recentLogs     = 100
)

// agentStatus is the agent object of the status route.
type agentStatus struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	StatusReason  string `json:"status_reason,omitempty"`
	ServerIP      string `json:"server_ip"`
	ServerTier    string `json:"server_tier"`
	ServerRegion  string `json:"server_region"`
	AIModel       string `json:"ai_model"`
	MessagesUsed  int64  `json:"messages_used"`
	MessagesLimit int64  `json:"messages_limit"`
	PlanTier      string `json:"plan_tier"`
}

// healthJSON is one adapter's state.
type healthJSON struct {
	Connected     bool       `json:"connected"`
	LastMessageAt *time.Time `json:"last_message_at"`
	LastError     string     `json:"last_error,omitempty"`
}

// messageJSON is one recent message of the caller's.
type messageJSON struct {
	SessionID int64     `json:"session_id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// skillJSON is one enabled skill.
type skillJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// handleStatus reports the agent's state and this period's use, and on
// request (include=messages,skills,logs,health) the caller's recent
// messages, the enabled skills, recent log lines (administrators only:
// they concern every user) and each messenger's health. messages_limit is
// 0 when messages are not limited.
func (a *API) handleStatus(w http.ResponseWriter, r *http.Request) {
	include, ok := parseIncludes(w, r.URL.Query().Get("include"))
	if !ok {
		return
	}

	if slices.Contains(include, "logs") && !a.adminOnly(w, r, "read the logs") {
		return
	}

	ctx := r.Context()

	budget, err := a.cfg.Ledger.Status(ctx)
	if err != nil {
		a.fail(w, "status: budget", err)
		return
	}

	cfg := a.cfg.Live.Config()
	st := agentStatus{
		ID: a.cfg.AgentID, Name: a.cfg.AgentName, ServerIP: a.cfg.ServerIP,
		ServerTier: cfg.Deployment.Tier, ServerRegion: cfg.Deployment.Region,
		AIModel: cfg.AI.Model, MessagesUsed: budget.Usage.Messages,
		MessagesLimit: budget.Limits.Messages, PlanTier: cfg.Deployment.Tier,
	}
	st.Status, st.StatusReason = a.cfg.Live.State()

	out := map[string]any{"agent": st}

	if slices.Contains(include, "messages") {
		msgs, err := a.recentMessages(r)
		if err != nil {
			a.fail(w, "status: messages", err)
			return
		}

		out["messages"] = msgs
	}

	if slices.Contains(include, "skills") {
		skills, err := a.cfg.Skills.Enabled(ctx, a.cfg.AgentID)
		if err != nil {
			a.fail(w, "status: skills", err)
			return
		}

		list := make([]skillJSON, len(skills))
		for i, s := range skills {
			list[i] = skillJSON{Name: s.Name(), Description: s.Description()}
		}

		out["skills"] = list
	}

	if slices.Contains(include, "logs") {
		logs := []string{}
		if a.cfg.Logs != nil {
			logs = a.cfg.Logs(recentLogs)
		}

		out["logs"] = logs
	}

	if slices.Contains(include, "health") {
		out["health"] = a.health()
	}

	wire.WriteJSON(w, http.StatusOK, out)
}

// parseIncludes reads the include parameter; it writes a 400 naming an
// unknown part and returns false then.
func parseIncludes(w http.ResponseWriter, v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}

	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if !slices.Contains(statusIncludes, parts[i]) {
			wire.Invalid(w, "include", "must list some of "+strings.Join(statusIncludes, ", ")+
				", separated by commas (got "+parts[i]+")")

			return nil, false
		}
	}

	return parts, true
}

// recentMessages returns the caller's newest turns across their sessions,
// oldest first.
func (a *API) recentMessages(r *http.Request) ([]messageJSON, error) {
	var rows []struct {
		SessionID int64     `bun:"session_id"`
		Role      string    `bun:"role"`
		Text      string    `bun:"text"`
		CreatedAt time.Time `bun:"created_at"`
	}

	err := a.cfg.DB.NewRaw(`SELECT t.session_id, t.role, t.text, t.created_at
		FROM turns t JOIN sessions s ON s.id = t.session_id
		WHERE s.agent_id = ? AND s.channel = ? AND s.chat_id = ?
		ORDER BY t.id DESC LIMIT ?`,
		a.cfg.AgentID, WebChannel, caller(r), recentMessages).Scan(r.Context(), &rows)
	if err != nil {
		return nil, err
	}

	out := make([]messageJSON, len(rows))
	for i, row := range rows {
		out[len(rows)-1-i] = messageJSON{SessionID: row.SessionID, Role: row.Role,
			Text: row.Text, CreatedAt: row.CreatedAt.UTC()}
	}

	return out, nil
}

// health reports each messenger adapter by channel.
func (a *API) health() map[string]healthJSON {
	out := map[string]healthJSON{}
	if a.cfg.Health == nil {
		return out
	}

	for ch, h := range a.cfg.Health() {
		j := healthJSON{Connected: h.Connected, LastError: h.LastError}
		if !h.LastMessageAt.IsZero() {
			t := h.LastMessageAt.UTC()
			j.LastMessageAt = &t
		}

		out[string(ch)] = j
	}

	return out
}
