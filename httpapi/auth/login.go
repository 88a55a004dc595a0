package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// loginValueLen is the length of a login cookie's value: 32 random bytes
// in unpadded base64url.
const loginValueLen = 43

// seenEvery is how often a login's last_seen_at is written at most.
const seenEvery = time.Minute

// webLogin is a login of the dashboard. Only the SHA-256 of the cookie's
// value is stored.
type webLogin struct {
	bun.BaseModel `bun:"table:web_logins"`

	ID         int64     `bun:"id,pk,autoincrement"`
	AgentID    string    `bun:"agent_id"`
	UserID     string    `bun:"user_id"`
	Hash       string    `bun:"token_hash"`
	CreatedAt  time.Time `bun:"created_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
}

// loginRequest is the body of POST /api/auth/login: one of the two
// credentials.
type loginRequest struct {
	Token               string `json:"token"`
	SupabaseAccessToken string `json:"supabase_access_token"`
}

// loginResponse is the answer to a login.
type loginResponse struct {
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Routes registers the login routes on mux:
//
//   - POST /api/auth/login takes {"token": "<API token>"} or
//     {"supabase_access_token": "<JWT>"}, sets the login cookie and answers
//     {"user_id": ..., "expires_at": ...}; a refused credential counts as a
//     failed attempt;
//   - POST /api/auth/logout ends the login of the request's cookie and
//     clears the cookie; it needs authentication;
//   - GET /api/auth/me answers the request's Principal.
func (a *Authenticator) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/auth/login", a.handleLogin)
	mux.Handle("POST /api/auth/logout", a.Middleware(http.HandlerFunc(a.handleLogout)))
	mux.Handle("GET /api/auth/me", a.Middleware(http.HandlerFunc(a.handleMe)))
}

// handleLogin checks a credential and turns it into a login cookie. A
// request from a page of another site is refused, so that no site can log
// a browser in to its own account; a program without Origin is let
// through.
func (a *Authenticator) handleLogin(w http.ResponseWriter, r *http.Request) {
	client := clientKey(r.RemoteAddr)
	if a.refuseLimited(w, client) {
		return
	}

	if err := a.checkOrigin(r, false); err != nil {
		a.forbid(w, r, err)
		return
	}

	var req loginRequest
	if rerr := wire.Decode(r, wire.MaxBody, &req); rerr != nil {
		wire.WriteError(w, rerr.Status, rerr.Body)
		return
	}

	userID, err := a.loginUser(r.Context(), req)
	if err != nil {
		var bad *wire.RequestError
		if errors.As(err, &bad) {
			wire.WriteError(w, bad.Status, bad.Body)
		} else {
			a.refuse(w, r, client, err)
		}
		return
	}

	value, expires, err := a.createLogin(r.Context(), userID)
	if err != nil {
		a.fail(w, r, err)
		return
	}

	http.SetCookie(w, a.loginCookie(value, int(a.loginTTL.Seconds())))
	a.log.Info("logged in", "user_id", userID, "client", client)
	wire.WriteJSON(w, http.StatusOK, loginResponse{UserID: userID, ExpiresAt: expires})
}

// loginUser checks the credential of a login request and returns its user.
// A request with both or neither credential is a *wire.RequestError.
func (a *Authenticator) loginUser(ctx context.Context, req loginRequest) (string, error) {
	switch {
	case req.Token != "" && req.SupabaseAccessToken != "":
		return "", invalid("token", "send either token or supabase_access_token, not both")
	case req.Token == "" && req.SupabaseAccessToken == "":
		return "", invalid("token", "is required (or supabase_access_token)")
	case len(req.Token) > maxCredential || len(req.SupabaseAccessToken) > maxCredential:
		return "", &denial{reason: "the credential is too long"}
	case req.Token != "":
		p, err := a.tokenPrincipal(ctx, req.Token)
		return p.UserID, err
	}

	return a.supabaseUser(ctx, req.SupabaseAccessToken)
}

// invalid returns a 400 answer for a login request that names field.
func invalid(field, rule string) error {
	return &wire.RequestError{Status: http.StatusBadRequest, Body: wire.Error{
		Code: wire.CodeInvalid, Field: field, Message: field + ": " + rule}}
}

// createLogin stores a new login of userID and returns the cookie's value
// and when the login ends. It first deletes the agent's expired logins, so
// that the table holds no more than the live ones and those seen since.
func (a *Authenticator) createLogin(ctx context.Context, userID string,
) (string, time.Time, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("read random bytes: %w", err)
	}

	value := base64.RawURLEncoding.EncodeToString(b)
	now := a.clock.Now()
	l := &webLogin{AgentID: a.agentID, UserID: userID, Hash: token.Hash(value),
		CreatedAt: now, ExpiresAt: now.Add(a.loginTTL), LastSeenAt: now}

	_, err := a.db.NewDelete().Model((*webLogin)(nil)).
		Where("agent_id = ?", a.agentID).
		Where("expires_at <= ?", now).
		Exec(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("delete expired logins: %w", err)
	}

	if _, err := a.db.NewInsert().Model(l).Exec(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("store login of %s: %w", userID, err)
	}

	return value, l.ExpiresAt, nil
}

// EndLogins ends every dashboard login of a user of the agent and returns
// how many there were. Revoking an API token calls it, so that a login
// made with the token does not outlive it.
func EndLogins(ctx context.Context, db bun.IDB, agentID, userID string) (int, error) {
	res, err := db.NewDelete().Model((*webLogin)(nil)).
		Where("agent_id = ?", agentID).
		Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end the logins of %s: %w", userID, err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("count the ended logins of %s: %w", userID, err)
	}

	return int(n), nil
}

// loginPrincipal looks up the login of a cookie's value. An expired login
// is deleted and refused; a refused cookie is cleared in the browser.
func (a *Authenticator) loginPrincipal(ctx context.Context, value string) (Principal, error) {
	if len(value) != loginValueLen {
		return Principal{}, &denial{reason: "malformed login cookie; log in again",
			clearLogin: true}
	}

	var l webLogin
	err := a.db.NewSelect().Model(&l).
		Where("agent_id = ?", a.agentID).
		Where("token_hash = ?", token.Hash(value)).
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Principal{}, &denial{reason: "unknown or ended login; log in again",
			clearLogin: true}
	case err != nil:
		return Principal{}, fmt.Errorf("look up login: %w", err)
	}

	now := a.clock.Now()
	if !now.Before(l.ExpiresAt) {
		if err := a.deleteLogin(ctx, l.ID); err != nil {
			return Principal{}, err
		}
		return Principal{}, &denial{reason: "the login has expired; log in again",
			clearLogin: true, expired: true}
	}

	if now.Sub(l.LastSeenAt) >= seenEvery {
		_, err := a.db.NewUpdate().Model((*webLogin)(nil)).
			Set("last_seen_at = ?", now).
			Where("id = ?", l.ID).
			Exec(ctx)
		if err != nil {
			return Principal{}, fmt.Errorf("record use of login %d: %w", l.ID, err)
		}
	}

	return Principal{UserID: l.UserID, Method: MethodCookie}, nil
}

// deleteLogin deletes the login id.
func (a *Authenticator) deleteLogin(ctx context.Context, id int64) error {
	_, err := a.db.NewDelete().Model((*webLogin)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete login %d: %w", id, err)
	}

	return nil
}

// handleLogout ends the login of the request's cookie, if it has one, and
// clears the cookie. A caller authenticated otherwise gets 204 too.
func (a *Authenticator) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(LoginCookie); err == nil && c.Value != "" {
		_, err := a.db.NewDelete().Model((*webLogin)(nil)).
			Where("agent_id = ?", a.agentID).
			Where("token_hash = ?", token.Hash(c.Value)).
			Exec(r.Context())
		if err != nil {
			a.fail(w, r, fmt.Errorf("delete login: %w", err))
			return
		}
	}

	p, _ := FromContext(r.Context())
	a.log.Info("logged out", "user_id", p.UserID)

	http.SetCookie(w, a.loginCookie("", -1))
	w.WriteHeader(http.StatusNoContent)
}

// handleMe answers the request's Principal.
func (a *Authenticator) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := FromContext(r.Context())

	wire.WriteJSON(w, http.StatusOK, p)
}

// loginCookie returns the login cookie with value, kept for maxAge seconds;
// a negative maxAge deletes it.
func (a *Authenticator) loginCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     LoginCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   a.cookieSecure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
}
