package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/session"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// maxTranscript bounds the turns GET /api/agent/sessions/{id} returns.
const maxTranscript = 500

// sessionJSON is a session as the API shows it.
type sessionJSON struct {
	ID            int64      `json:"id"`
	Title         string     `json:"title"`
	Category      string     `json:"category"`
	Status        string     `json:"status"`
	Icon          string     `json:"icon"`
	Pinned        bool       `json:"pinned"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastMessageAt *time.Time `json:"last_message_at"`
	Transcript    []turnJSON `json:"transcript,omitempty"`
}

// turnJSON is one turn of a transcript.
type turnJSON struct {
	Role        string    `json:"role"`
	Text        string    `json:"text"`
	Model       string    `json:"model,omitempty"`
	ToolsCalled []string  `json:"tools_called,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func toSessionJSON(s *session.Session) sessionJSON {
	out := sessionJSON{ID: s.ID, Title: s.Title, Category: s.Category, Status: s.Status,
		Icon: s.Icon, Pinned: s.Pinned, CreatedAt: s.CreatedAt.UTC(),
		UpdatedAt: s.UpdatedAt.UTC()}

	if !s.LastMessageAt.IsZero() {
		t := s.LastMessageAt.UTC()
		out.LastMessageAt = &t
	}

	return out
}

// sessionFields is the body that creates or changes a session.
type sessionFields struct {
	Title    *string `json:"title"`
	Category *string `json:"category"`
	Status   *string `json:"status"`
	Icon     *string `json:"icon"`
	Pinned   *bool   `json:"pinned"`
}

func (f sessionFields) fields() session.Fields {
	return session.Fields{Title: f.Title, Category: f.Category, Status: f.Status, Icon: f.Icon,
		Pinned: f.Pinned}
}

// handleListSessions lists the caller's sessions, filtered by status,
// category and pinned, and paged by limit and offset.
func (a *API) handleListSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := session.Filter{Channel: WebChannel, ChatID: core.ChatID(caller(r)),
		Status: q.Get("status"), Category: q.Get("category")}

	if f.Status != "" && !slices.Contains(session.Statuses, f.Status) {
		wire.Invalid(w, "status", "must be one of "+strings.Join(session.Statuses, ", "))
		return
	}

	if f.Category != "" && !slices.Contains(session.Categories, f.Category) {
		wire.Invalid(w, "category", "must be one of "+strings.Join(session.Categories, ", "))
		return
	}

	if v := q.Get("pinned"); v != "" {
		pinned, err := strconv.ParseBool(v)
		if err != nil {
			wire.Invalid(w, "pinned", "must be true or false")
			return
		}

		f.Pinned = &pinned
	}

	var ok bool
	if f.Limit, ok = queryInt(w, q.Get("limit"), "limit", 1, 200, 50); !ok {
		return
	}

	if f.Offset, ok = queryInt(w, q.Get("offset"), "offset", 0, 1<<31-1, 0); !ok {
		return
	}

	list, total, err := session.List(r.Context(), a.cfg.DB, a.cfg.AgentID, f)
	if err != nil {
		a.fail(w, "list sessions", err)
		return
	}

	out := make([]sessionJSON, len(list))
	for i := range list {
		out[i] = toSessionJSON(&list[i])
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out, "total": total,
		"limit": f.Limit, "offset": f.Offset})
}

// queryInt reads an integer query parameter within [lo, hi], or def when
// it is absent; it writes the 400 and returns false when it is bad.
func queryInt(w http.ResponseWriter, v, name string, lo, hi, def int) (int, bool) {
	if v == "" {
		return def, true
	}

	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		wire.Invalid(w, name, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
		return 0, false
	}

	return n, true
}

// handleCreateSession starts a session for the caller.
func (a *API) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	var body sessionFields
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	if body.Status != nil {
		wire.Invalid(w, "status", "cannot be set on a new session; it starts active")
		return
	}

	s, err := session.Create(r.Context(), a.cfg.DB, a.cfg.AgentID,
		a.newConversation(caller(r)), body.fields(), a.cfg.Clock.Now())
	if err != nil {
		a.fail(w, "create session", err)
		return
	}

	wire.WriteJSON(w, http.StatusCreated, toSessionJSON(s))
}

// handleGetSession returns one of the caller's sessions with its
// transcript.
func (a *API) handleGetSession(w http.ResponseWriter, r *http.Request) {
	s, ok := a.ownSession(w, r, r.PathValue("id"), "id")
	if !ok {
		return
	}

	turns, err := session.Transcript(r.Context(), a.cfg.DB, s.ID, maxTranscript)
	if err != nil {
		a.fail(w, "read transcript", err)
		return
	}

	out := toSessionJSON(s)
	out.Transcript = make([]turnJSON, len(turns))

	for i, t := range turns {
		out.Transcript[i] = turnJSON{Role: string(t.Role), Text: t.Text, Model: t.Model,
			CreatedAt: t.CreatedAt.UTC()}
		if t.Tools != "" {
			out.Transcript[i].ToolsCalled = strings.Split(t.Tools, ",")
		}
	}

	wire.WriteJSON(w, http.StatusOK, out)
}

// handlePatchSession changes one of the caller's sessions, named in the
// path.
func (a *API) handlePatchSession(w http.ResponseWriter, r *http.Request) {
	var body sessionFields
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	a.patchSession(w, r, r.PathValue("id"), "id", body)
}

// patchBody is the body of PATCH /api/agent/sessions.
type patchBody struct {
	SessionID *int64 `json:"sessionId"`
	sessionFields
}

// handlePatchSessionByBody changes one of the caller's sessions, named by
// sessionId in the body.
func (a *API) handlePatchSessionByBody(w http.ResponseWriter, r *http.Request) {
	var body patchBody
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	if body.SessionID == nil {
		wire.Invalid(w, "sessionId", "is required")
		return
	}

	a.patchSession(w, r, strconv.FormatInt(*body.SessionID, 10), "sessionId",
		body.sessionFields)
}

func (a *API) patchSession(w http.ResponseWriter, r *http.Request, id, field string,
	body sessionFields,
) {
	f := body.fields()
	if f.Empty() {
		wire.Invalid(w, "title", "at least one of title, category, status, icon and pinned "+
			"is required")

		return
	}

	if err := f.Validate(); err != nil {
		wire.Fail(w, err)
		return
	}

	s, ok := a.ownSession(w, r, id, field)
	if !ok {
		return
	}

	if err := session.Update(r.Context(), a.cfg.DB, s, f, a.cfg.Clock.Now()); err != nil {
		a.fail(w, "update session", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, toSessionJSON(s))
}

// handleDeleteSession deletes one of the caller's sessions, named in the
// path.
func (a *API) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	a.deleteSession(w, r, r.PathValue("id"), "id")
}

// handleDeleteSessionByQuery deletes one of the caller's sessions, named by
// the sessionId query parameter.
func (a *API) handleDeleteSessionByQuery(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("sessionId")
	if id == "" {
		wire.Invalid(w, "sessionId", "is required")
		return
	}

	a.deleteSession(w, r, id, "sessionId")
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, id, field string) {
	s, ok := a.ownSession(w, r, id, field)
	if !ok {
		return
	}

	if err := session.Delete(r.Context(), a.cfg.DB, s); err != nil {
		a.fail(w, "delete session", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": s.ID})
}

// ownSession reads the caller's session by its id as text; it writes a
// 400 for a malformed id and a 404 for a session that is not the
// caller's, and returns false then.
func (a *API) ownSession(w http.ResponseWriter, r *http.Request, raw, field string,
) (*session.Session, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		wire.Invalid(w, field, "must be a session id, a positive whole number")
		return nil, false
	}

	s, err := session.Get(r.Context(), a.cfg.DB, a.cfg.AgentID, WebChannel,
		core.ChatID(caller(r)), id)
	if errors.Is(err, session.ErrNotFound) {
		notFound(w, fmt.Sprintf("you have no session %d", id))
		return nil, false
	}

	if err != nil {
		a.fail(w, "read session", err)
		return nil, false
	}

	return s, true
}
