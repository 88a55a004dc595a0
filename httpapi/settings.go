package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/settings"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// settingsBody is the body of PATCH /api/agent/settings.
type settingsBody struct {
	AIModel       *string `json:"aiModel"`
	MessengerType *string `json:"messengerType"`
	ServerTier    *string `json:"serverTier"`
	ServerRegion  *string `json:"serverRegion"`
	AIAPIKey      *string `json:"aiApiKey"`
}

// settingsView is the settings in effect, without the API key.
type settingsView struct {
	AIModel       string `json:"aiModel"`
	MessengerType string `json:"messengerType"`
	ServerTier    string `json:"serverTier"`
	ServerRegion  string `json:"serverRegion"`
	AIAPIKeySet   bool   `json:"aiApiKeySet"`
	MaxParallel   int    `json:"maxParallel"`
	MessagesLimit int    `json:"messagesLimit"`
	Status        string `json:"status"`
	StatusReason  string `json:"statusReason,omitempty"`
}

// parts returns what answers messages now.
func (a *API) parts() live.Parts { return a.cfg.Live.Parts() }

// router returns the router now, nil while no model is configured.
func (a *API) router() *routing.Router { return a.parts().Router }

// settings describes the settings in effect and the agent's state.
func (a *API) settings() settingsView {
	cfg := a.cfg.Live.Config()
	state, reason := a.cfg.Live.State()

	return settingsView{
		AIModel: cfg.AI.Model, MessengerType: cfg.Deployment.Messenger,
		ServerTier: cfg.Deployment.Tier, ServerRegion: cfg.Deployment.Region,
		AIAPIKeySet: cfg.AI.APIKey != "", MaxParallel: cfg.Agent.MaxParallel,
		MessagesLimit: cfg.Budget.MessagesLimit, Status: state, StatusReason: reason,
	}
}

// handleGetSettings shows the settings in effect and the agent's state.
func (a *API) handleGetSettings(w http.ResponseWriter, _ *http.Request) {
	wire.WriteJSON(w, http.StatusOK, a.settings())
}

// handlePatchSettings changes the model, messenger, tier, region or API
// key. The change is stored at once and applied in the background, in
// place: the answer is 202 with the status "provisioning", and the status
// route shows "running" once the new settings answer, or "error" with the
// reason, while the previous settings keep answering. Only administrators
// may change settings; the key is stored sealed and never shown.
func (a *API) handlePatchSettings(w http.ResponseWriter, r *http.Request) {
	if !a.adminOnly(w, r, "change settings") {
		return
	}

	var body settingsBody
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	p := settings.Patch{AIModel: body.AIModel, MessengerType: body.MessengerType,
		ServerTier: body.ServerTier, ServerRegion: body.ServerRegion, AIAPIKey: body.AIAPIKey}
	if p.Empty() {
		wire.Invalid(w, "aiModel", "at least one of aiModel, messengerType, serverTier, "+
			"serverRegion and aiApiKey is required")

		return
	}

	if err := a.cfg.Live.Change(r.Context(), p); err != nil {
		a.fail(w, "change settings", err)
		return
	}

	wire.WriteJSON(w, http.StatusAccepted, a.settings())
}
