package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/memory"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// maxMemoryQuery bounds the q parameter of GET /api/agent/memory, in
// characters; a search uses only its first words anyway.
const maxMemoryQuery = 1000

// agentMemory is a memory as the memory routes show it.
type agentMemory struct {
	ID        int64     `json:"id"`
	Content   string    `json:"content"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	// Own is true when the memory is the caller's.
	Own bool `json:"own"`
}

// memoryBody is the body of POST /api/agent/memory.
type memoryBody struct {
	Content string `json:"content"`
	Scope   string `json:"scope"`
}

// memoryRoutes registers the memory routes. The caller is the memory
// owner {web, user id}: they see their own private memories and everyone's
// shared ones, and delete only their own.
//
//   - GET /api/agent/memory?q=&limit= searches (or lists, without q).
//   - POST /api/agent/memory {"content", "scope"} saves a memory.
//   - DELETE /api/agent/memory/{id} forgets one of the caller's memories.
func (a *API) memoryRoutes(authed func(pattern string, h http.HandlerFunc)) {
	authed("GET /api/agent/memory", a.handleSearchMemory)
	authed("POST /api/agent/memory", a.handleSaveMemory)
	authed("DELETE /api/agent/memory/{id}", a.handleForgetMemory)
}

// memoryOwner returns the caller as a memory owner.
func memoryOwner(r *http.Request) memory.Owner {
	return memory.Owner{Channel: WebChannel, UserID: caller(r)}
}

// toAgentMemory shows m to viewer.
func toAgentMemory(m *memory.Memory, viewer memory.Owner) agentMemory {
	return agentMemory{ID: m.ID, Content: m.Content, Scope: string(m.Scope),
		CreatedAt: m.CreatedAt.UTC(), Own: m.Owner() == viewer}
}

// handleSearchMemory answers the memories the caller may see that match
// q, best match first, or the newest without q; at most limit (1 to 100,
// default 20).
func (a *API) handleSearchMemory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("q")

	if n := utf8.RuneCountInString(query); n > maxMemoryQuery {
		wire.Invalid(w, "q", fmt.Sprintf("must be at most %d characters (got %d)",
			maxMemoryQuery, n))

		return
	}

	limit, ok := queryInt(w, q.Get("limit"), "limit", 1, 100, memory.DefaultLimit)
	if !ok {
		return
	}

	viewer := memoryOwner(r)

	list, err := memory.Search(r.Context(), a.cfg.DB, a.cfg.AgentID, viewer, query, limit)
	if err != nil {
		a.fail(w, "search memories", err)
		return
	}

	out := make([]agentMemory, len(list))
	for i := range list {
		out[i] = toAgentMemory(&list[i], viewer)
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"memories": out, "limit": limit})
}

// handleSaveMemory saves a memory of the caller's, private unless the
// scope says shared. A full memory is a 409.
func (a *API) handleSaveMemory(w http.ResponseWriter, r *http.Request) {
	var body memoryBody
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	scope := memory.Scope(body.Scope)
	if scope == "" {
		scope = memory.ScopePrivate
	}

	viewer := memoryOwner(r)

	m, err := memory.Save(r.Context(), a.cfg.DB, a.cfg.AgentID, viewer, scope, body.Content,
		a.cfg.Clock.Now().UTC())
	if errors.Is(err, memory.ErrFull) {
		wire.WriteError(w, http.StatusConflict, wire.Error{Code: wire.CodeConflict,
			Message: fmt.Sprintf("the agent's memory is full (%d memories); forget some "+
				"before saving more", memory.MaxPerAgent)})

		return
	}

	if err != nil {
		a.fail(w, "save memory", err)
		return
	}

	wire.WriteJSON(w, http.StatusCreated, toAgentMemory(m, viewer))
}

// handleForgetMemory deletes one of the caller's memories. Another
// person's memory is a 404 like a missing one, so that nobody learns
// which ids exist.
func (a *API) handleForgetMemory(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		wire.Invalid(w, "id", "must be a memory id, a positive whole number")
		return
	}

	err = memory.Forget(r.Context(), a.cfg.DB, a.cfg.AgentID, memoryOwner(r), id)
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, fmt.Sprintf("you have no memory %d", id))
		return
	}

	if err != nil {
		a.fail(w, "forget memory", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
}
