package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/store"
)

// The document's tests use kin-openapi, a dependency of the tests only:
// the gateway serves openapi.json as bytes and links no OpenAPI library.

// authRoutes are the routes the auth package registers itself, outside
// API.Patterns.
var authRoutes = []string{"POST /api/auth/login", "POST /api/auth/logout", "GET /api/auth/me"}

// catchAlls are the patterns of API.Patterns that answer unknown routes;
// they are not operations.
var catchAlls = []string{"/api/", "/api/gateway/v1/"}

func init() {
	// A server-sent event stream is validated as text; the walk checks
	// each event's data against its schema itself.
	openapi3filter.RegisterBodyDecoder("text/event-stream",
		func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn,
		) (any, error) {
			b, err := io.ReadAll(r)

			return string(b), err
		})
}

// loadOpenAPI loads and validates the document the API serves.
func loadOpenAPI(t *testing.T) (*openapi3.T, []byte) {
	t.Helper()

	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}

	loader := openapi3.NewLoader()

	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}

	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}

	return doc, raw
}

// documentedOps returns the document's operations as "METHOD /path".
func documentedOps(doc *openapi3.T) []string {
	var out []string

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}

	slices.Sort(out)

	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()

	doc, _ := loadOpenAPI(t)

	if doc.OpenAPI != "3.1.0" || doc.Info.Title != "Switchboard API" ||
		doc.Info.Version != "1.0.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Fatalf("openapi %s, info %+v, servers %v", doc.OpenAPI, doc.Info, doc.Servers)
	}

	if len(doc.Security) == 0 {
		t.Fatal("the document sets no global security")
	}

	ids := map[string]string{}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if other, ok := ids[op.OperationID]; ok || op.OperationID == "" {
				t.Errorf("%s: operationId %q is missing or also used by %s", name,
					op.OperationID, other)
			}

			ids[op.OperationID] = name

			login := name == "POST /api/auth/login"
			if public := op.Security != nil && len(*op.Security) == 0; public != login {
				t.Errorf("%s: needs no authentication = %v, want %v", name, public, login)
			}
		}
	}
}

// muxWildcard matches a wildcard of a ServeMux pattern: {id}, {rest...}
// or {$}.
var muxWildcard = regexp.MustCompile(`\{([^}.$]*)(\.\.\.)?\}`)

// operationOf turns a ServeMux pattern into "METHOD /path" as the
// document writes it.
func operationOf(pattern string) string {
	return muxWildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		if w == "{$}" {
			return ""
		}

		return "{" + muxWildcard.FindStringSubmatch(w)[1] + "}"
	})
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()

	doc, _ := loadOpenAPI(t)
	ta := newTestAPI(t, store.SQLite)

	var registered []string

	for _, p := range append(ta.API.Patterns(), authRoutes...) {
		if !slices.Contains(catchAlls, p) {
			registered = append(registered, operationOf(p))
		}
	}

	slices.Sort(registered)
	ops := documentedOps(doc)

	for _, op := range registered {
		if !slices.Contains(ops, op) {
			t.Errorf("%s is registered but not documented", op)
		}
	}

	for _, op := range ops {
		if !slices.Contains(registered, op) {
			t.Errorf("%s is documented but not registered", op)
		}
	}
}

// specWalk sends requests to the whole gateway and checks each request
// and each answer against the document.
type specWalk struct {
	t      *testing.T
	ta     *testAPI
	doc    *openapi3.T
	raw    []byte
	router routers.Router
	// answered holds the statuses each operation has answered with.
	answered map[string]map[int]bool
}

// specCall is one request of the walk and the status it must get.
type specCall struct {
	method, path string
	// user sends that user's API token; "" sends none.
	user   string
	body   any
	header http.Header
	status int
	// breaks is true for a request that breaks the document on purpose:
	// the document must refuse it as the server does.
	breaks bool
	// noBody sends the request without the body its operation takes; the
	// body is not checked then.
	noBody bool
}

// newSpecWalk starts the gateway with the fake model and loads the
// document.
func newSpecWalk(t *testing.T) *specWalk {
	t.Helper()

	doc, raw := loadOpenAPI(t)

	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	return &specWalk{t: t, ta: newTestAPI(t, store.SQLite, withModel()), doc: doc, raw: raw,
		router: router, answered: map[string]map[int]bool{}}
}

// filterOptions are the filter's options: every answer's status must be
// documented, and the credentials are the server's to check.
func filterOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error {
			return nil
		},
	}
}

// newRequest makes the HTTP request of c.
func (w *specWalk) newRequest(c specCall) *http.Request {
	w.t.Helper()

	var body []byte

	switch b := c.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}

		body = j
	}

	req, err := http.NewRequest(c.method, w.ta.URL+c.path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}

	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	if c.user != "" {
		req.Header.Set("Authorization", "Bearer "+w.ta.token(c.user))
	}

	for k, v := range c.header {
		req.Header[k] = v
	}

	return req
}

// do sends c, checks the request, the status and the answer against the
// document, and returns the answer's body.
func (w *specWalk) do(c specCall) []byte {
	w.t.Helper()

	_, body := w.send(c)

	return body
}

// send is do that returns the answer too, its body read.
func (w *specWalk) send(c specCall) (*http.Response, []byte) {
	w.t.Helper()

	name := c.method + " " + c.path
	opts := filterOptions()
	opts.ExcludeRequestBody = c.noBody

	// The document's server is "/": the router matches the path alone.
	check := w.newRequest(c)
	check.URL.Scheme, check.URL.Host = "", ""

	route, params, err := w.router.FindRoute(check)
	if err != nil {
		w.t.Fatalf("%s: not in the document: %v", name, err)
	}

	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params,
		Route: route, Options: opts}

	err = openapi3filter.ValidateRequest(context.Background(), in)

	switch {
	case c.breaks && err == nil:
		w.t.Errorf("%s %v: the document accepts a request the server refuses", name, c.body)
	case !c.breaks && err != nil:
		w.t.Errorf("%s: the request does not match the document: %v", name, err)
	}

	res, err := http.DefaultClient.Do(w.newRequest(c))
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()

	body, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}

	if res.StatusCode != c.status {
		w.t.Fatalf("%s: %d %s, want %d", name, res.StatusCode, body, c.status)
	}

	w.checkAnswer(in, res, body)

	op := route.Method + " " + route.Path
	if w.answered[op] == nil {
		w.answered[op] = map[int]bool{}
	}

	w.answered[op][res.StatusCode] = true

	return res, body
}

// checkAnswer validates an answer, its trailers included, against the
// document, and the events of a stream against their schemas.
func (w *specWalk) checkAnswer(in *openapi3filter.RequestValidationInput, res *http.Response,
	body []byte,
) {
	w.t.Helper()

	header := res.Header.Clone()
	for k, v := range res.Trailer {
		header[k] = v
	}

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
		Status: res.StatusCode, Header: header, Options: in.Options}
	out.SetBodyBytes(body)

	name := in.Request.Method + " " + in.Request.URL.RequestURI()
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		w.t.Errorf("%s: the answer %d %s does not match the document: %v", name,
			res.StatusCode, body, err)
	}

	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		w.checkEvents(name, body)
	}
}

// parseEvents splits a server-sent event stream into its events.
func parseEvents(body []byte) []sseEvent {
	var out []sseEvent

	for block := range strings.SplitSeq(strings.TrimSpace(string(body)), "\n\n") {
		var e sseEvent

		for line := range strings.SplitSeq(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				e.name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				e.data = v
			}
		}

		out = append(out, e)
	}

	return out
}

// eventSchemas name the schema of each event's data: the chat route's
// by event name, the gateway's ("" name) by their shape.
var eventSchemas = map[string]string{"session": "ChatEventSession",
	"delta": "ChatEventDelta", "done": "ChatAnswer", "error": "Error"}

// checkEvents checks that a stream is well formed and that each event's
// data matches its schema: the chat route's session, deltas and done or
// error, or the gateway's chunks and [DONE].
func (w *specWalk) checkEvents(name string, body []byte) {
	w.t.Helper()

	events := parseEvents(body)
	if len(events) == 0 {
		w.t.Errorf("%s: an empty stream", name)
		return
	}

	gateway := events[0].name == ""
	last := events[len(events)-1]

	switch {
	case gateway && last.data != "[DONE]":
		w.t.Errorf("%s: the stream ends with %q, want [DONE]", name, last.data)
	case !gateway && (events[0].name != "session" || (last.name != "done" &&
		last.name != "error")):
		w.t.Errorf("%s: events %+v, want session first and done or error last", name, events)
	}

	for _, e := range events {
		if e.data == "[DONE]" {
			continue
		}

		schema := eventSchemas[e.name]
		if gateway {
			schema = "CompletionChunk"
			if strings.HasPrefix(e.data, `{"error"`) {
				schema = "OpenAIError"
			}
		}

		w.checkValue(name+" event "+e.name, schema, e.data)
	}
}

// checkValue checks raw JSON against a schema of the components.
func (w *specWalk) checkValue(what, schema, raw string) {
	w.t.Helper()

	ref := w.doc.Components.Schemas[schema]
	if ref == nil {
		w.t.Fatalf("%s: no schema %s", what, schema)
	}

	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		w.t.Errorf("%s: %q is not JSON: %v", what, raw, err)
		return
	}

	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		w.t.Errorf("%s: %s does not match %s: %v", what, raw, schema, err)
	}
}

// decode reads a JSON answer into out.
func (w *specWalk) decode(b []byte, out any) {
	w.t.Helper()

	if err := json.Unmarshal(b, out); err != nil {
		w.t.Fatalf("decode %s: %v", b, err)
	}
}

// TestOpenAPIWalk calls every documented operation on its success path,
// and with a 400, a 401 and a 404 where it documents them, and checks
// every request and answer against the document.
func TestOpenAPIWalk(t *testing.T) {
	t.Parallel()

	w := newSpecWalk(t)

	w.walkAuth()
	w.walkChat()
	w.walkSessions()
	w.walkSkills()
	w.walkMemory()
	w.walkBudget()
	w.walkGateway()
	w.walkSettings()
	w.walkUnauthenticated()

	w.checkCoverage()
}

// walkAuth logs in and out, and reads the caller and the document.
func (w *specWalk) walkAuth() {
	w.t.Helper()

	served := w.do(specCall{method: "GET", path: "/api/openapi.json", user: "anna", status: 200})
	if !bytes.Equal(served, w.raw) {
		w.t.Error("GET /api/openapi.json does not serve openapi.json")
	}

	w.do(specCall{method: "GET", path: "/api/auth/me", user: "anna", status: 200})

	res, _ := w.send(specCall{method: "POST", path: "/api/auth/login", body: map[string]string{
		"token": w.ta.token("anna")}, status: 200})
	w.do(specCall{method: "POST", path: "/api/auth/login", body: map[string]string{},
		status: 400, breaks: true})
	w.do(specCall{method: "POST", path: "/api/auth/login", body: map[string]string{
		"token": "sbt_not-a-token"}, status: 401})

	var login *http.Cookie

	for _, c := range res.Cookies() {
		if c.Name == "bot_session" {
			login = c
		}
	}

	if login == nil {
		w.t.Fatal("login set no bot_session cookie")
	}

	cookie := http.Header{"Cookie": {login.String()}, "Origin": {w.ta.URL}}
	w.do(specCall{method: "POST", path: "/api/auth/logout", header: cookie, status: 204})
	w.do(specCall{method: "GET", path: "/api/auth/me", header: cookie, status: 401})
}

// walkChat chats as JSON and as a stream, and reads the status.
func (w *specWalk) walkChat() {
	w.t.Helper()

	w.ta.Model.Push(openaitest.TextReply("Hello, Anna."))

	var a chatAnswer
	w.decode(w.do(specCall{method: "POST", path: "/api/agent/chat", user: "anna",
		body: map[string]any{"message": "hello"}, header: http.Header{
			"Idempotency-Key": {"walk-1"}}, status: 200}), &a)

	w.ta.Model.Push(openaitest.TextReply("Streams arrive piece by piece."))
	w.do(specCall{method: "POST", path: "/api/agent/chat", user: "anna",
		body:   map[string]any{"message": "stream please", "session_id": a.SessionID},
		header: http.Header{"Accept": {"text/event-stream"}}, status: 200})

	w.do(specCall{method: "POST", path: "/api/agent/chat", user: "anna",
		body: map[string]any{"message": 42}, status: 400, breaks: true})
	w.do(specCall{method: "POST", path: "/api/agent/chat", user: "anna",
		body: map[string]any{"message": "hi", "session_id": 999999}, status: 404})

	w.do(specCall{method: "GET", path: "/api/agent/status?include=messages,skills,logs,health",
		user: "owner", status: 200})
	w.do(specCall{method: "GET", path: "/api/agent/status?include=logs", user: "anna",
		status: 403})
	w.do(specCall{method: "GET", path: "/api/agent/status", user: "anna", status: 200})
	w.do(specCall{method: "GET", path: "/api/agent/status?include=everything", user: "anna",
		status: 400, breaks: true})
}

// walkSessions lists, creates and reads sessions, then changes and
// deletes them.
func (w *specWalk) walkSessions() {
	w.t.Helper()

	const base = "/api/agent/sessions"

	w.do(specCall{method: "GET", path: base + "?status=active&category=general&" +
		"pinned=false&limit=10&offset=0", user: "anna", status: 200})
	w.do(specCall{method: "GET", path: base + "?limit=0", user: "anna", status: 400,
		breaks: true})

	var s struct{ ID int64 }
	w.decode(w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{
		"title": "Plans", "category": "task", "icon": "calendar", "pinned": true},
		status: 201}), &s)
	w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{
		"status": "active"}, status: 400, breaks: true})

	// The chat's session has a transcript, the new one none.
	var list struct{ Sessions []struct{ ID int64 } }
	w.decode(w.do(specCall{method: "GET", path: base, user: "anna", status: 200}), &list)

	for _, l := range list.Sessions {
		w.do(specCall{method: "GET", path: fmt.Sprintf("%s/%d", base, l.ID), user: "anna",
			status: 200})
	}

	w.do(specCall{method: "GET", path: base + "/0", user: "anna", status: 400, breaks: true})
	w.do(specCall{method: "GET", path: base + "/999999", user: "anna", status: 404})

	w.walkSessionChanges(s.ID)

	for _, l := range list.Sessions {
		if l.ID != s.ID {
			w.do(specCall{method: "DELETE", path: fmt.Sprintf("%s/%d", base, l.ID),
				user: "anna", status: 200})
		}
	}
}

// walkSessionChanges changes session id by path and by body, and deletes
// it by query.
func (w *specWalk) walkSessionChanges(id int64) {
	w.t.Helper()

	const base = "/api/agent/sessions"

	one := fmt.Sprintf("%s/%d", base, id)
	w.do(specCall{method: "PATCH", path: one, user: "anna", body: map[string]any{
		"status": "paused", "pinned": false, "title": nil}, status: 200})
	w.do(specCall{method: "PATCH", path: one, user: "anna", body: map[string]any{},
		status: 400, breaks: true})
	w.do(specCall{method: "PATCH", path: base + "/999999", user: "anna",
		body: map[string]any{"title": "x"}, status: 404})

	w.do(specCall{method: "PATCH", path: base, user: "anna", body: map[string]any{
		"sessionId": id, "title": "Renamed", "category": "research"}, status: 200})
	w.do(specCall{method: "PATCH", path: base, user: "anna",
		body: map[string]any{"title": "x"}, status: 400, breaks: true})
	w.do(specCall{method: "PATCH", path: base, user: "anna", body: map[string]any{
		"sessionId": 999999, "title": "x"}, status: 404})

	w.do(specCall{method: "DELETE", path: fmt.Sprintf("%s?sessionId=%d", base, id),
		user: "anna", status: 200})
	w.do(specCall{method: "DELETE", path: base, user: "anna", status: 400, breaks: true})
	w.do(specCall{method: "DELETE", path: base + "?sessionId=999999", user: "anna",
		status: 404})

	w.do(specCall{method: "DELETE", path: base + "/first", user: "anna", status: 400,
		breaks: true})
	w.do(specCall{method: "DELETE", path: one, user: "anna", status: 404})
}

// walkSkills lists the skills, turns one off, and sets and clears its
// credentials, as the administrator and as someone else.
func (w *specWalk) walkSkills() {
	w.t.Helper()

	const base = "/api/agent/skills"

	w.do(specCall{method: "GET", path: base, user: "anna", status: 200})

	w.do(specCall{method: "POST", path: base, user: "owner", body: map[string]any{
		"skill": "weather", "enabled": false}, status: 200})
	w.do(specCall{method: "POST", path: base, user: "owner", body: map[string]any{
		"skill": "weather"}, status: 400, breaks: true})
	w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{
		"skill": "weather", "enabled": true}, status: 403})

	creds := map[string]any{"skill": "weather", "credentials": map[string]string{
		"api_key": "wk-0123456789abcdef"}}
	w.do(specCall{method: "PUT", path: base + "/credentials", user: "owner", body: creds,
		status: 200})
	w.do(specCall{method: "GET", path: base, user: "owner", status: 200})
	w.do(specCall{method: "PUT", path: base + "/credentials", user: "owner", body: map[string]any{
		"skill": "weather", "credentials": map[string]string{}}, status: 400, breaks: true})

	w.do(specCall{method: "DELETE", path: base + "/credentials?skill=weather", user: "owner",
		status: 200})
	w.do(specCall{method: "DELETE", path: base + "/credentials", user: "owner",
		body: map[string]any{"skill": "weather"}, status: 200})
	w.do(specCall{method: "DELETE", path: base + "/credentials", user: "owner",
		body: map[string]any{"skill": "weather", "all": true}, status: 400, breaks: true})
}

// walkMemory saves, searches and forgets a memory.
func (w *specWalk) walkMemory() {
	w.t.Helper()

	const base = "/api/agent/memory"

	var m struct{ ID int64 }
	w.decode(w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{
		"content": "Anna drinks green tea", "scope": "shared"}, status: 201}), &m)
	w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{"content": ""},
		status: 400, breaks: true})

	w.do(specCall{method: "GET", path: base + "?q=tea&limit=5", user: "anna", status: 200})
	w.do(specCall{method: "GET", path: base, user: "bob", status: 200})
	w.do(specCall{method: "GET", path: base + "?limit=500", user: "anna", status: 400,
		breaks: true})

	one := fmt.Sprintf("%s/%d", base, m.ID)
	w.do(specCall{method: "DELETE", path: one, user: "bob", status: 404})
	w.do(specCall{method: "DELETE", path: one, user: "anna", status: 200})
	w.do(specCall{method: "DELETE", path: base + "/0", user: "anna", status: 400, breaks: true})
}

// walkBudget reads the budget, asks for a recommendation and runs
// automation commands.
func (w *specWalk) walkBudget() {
	w.t.Helper()

	const base = "/api/agent/token-budget"

	w.do(specCall{method: "GET", path: base, user: "anna", status: 200})
	w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{
		"message": "What is 2 + 2?", "images": 1}, status: 200})
	w.do(specCall{method: "POST", path: base, user: "anna", body: map[string]any{"images": 1},
		status: 400, breaks: true})

	w.do(specCall{method: "POST", path: "/api/agent/automation", user: "anna",
		body:   map[string]any{"command": "remind", "text": "me in 20 minutes to stretch"},
		status: 200})
	w.do(specCall{method: "POST", path: "/api/agent/automation", user: "anna",
		body: map[string]any{"command": "status"}, status: 200})
	w.do(specCall{method: "GET", path: "/api/agent/automation", user: "anna", status: 200})
	w.do(specCall{method: "POST", path: "/api/agent/automation", user: "anna",
		body:   map[string]any{"command": "remind", "text": "me on 2020-01-01 to x"},
		status: 400})
	w.do(specCall{method: "POST", path: "/api/agent/automation", user: "anna",
		body: map[string]any{"command": "fly"}, status: 400, breaks: true})
}

// walkGateway lists the gateway's models and asks for completions, as
// JSON and streamed.
func (w *specWalk) walkGateway() {
	w.t.Helper()

	const base = "/api/gateway/v1"

	w.do(specCall{method: "GET", path: base + "/models", user: "anna", status: 200})

	messages := []map[string]any{{"role": "system", "content": "Be brief."},
		{"role": "user", "content": []map[string]any{{"type": "text", "text": "hi"}}}}

	w.ta.Model.Push(openaitest.TextReply("Hi."))
	w.do(specCall{method: "POST", path: base + "/chat/completions", user: "anna",
		body:   map[string]any{"model": "auto", "messages": messages, "temperature": 0.2},
		status: 200})

	w.ta.Model.Push(openaitest.TextReply("Hi again, in pieces."))
	w.do(specCall{method: "POST", path: base + "/chat/completions", user: "anna",
		body: map[string]any{"model": "medium", "messages": messages, "stream": true,
			"stream_options": map[string]any{"include_usage": true}}, status: 200})

	w.do(specCall{method: "POST", path: base + "/chat/completions", user: "anna",
		body: map[string]any{"model": "auto", "messages": []any{}}, status: 400, breaks: true})
	w.do(specCall{method: "POST", path: base + "/chat/completions", user: "anna",
		body: map[string]any{"model": "gpt-nothing", "messages": messages}, status: 404})
}

// walkSettings reads and changes the settings, and waits for the change.
func (w *specWalk) walkSettings() {
	w.t.Helper()

	const base = "/api/agent/settings"

	w.do(specCall{method: "GET", path: base, user: "anna", status: 200})
	w.do(specCall{method: "PATCH", path: base, user: "owner", body: map[string]any{
		"serverRegion": "eu-north"}, status: 202})

	select {
	case <-w.ta.Live.Applied():
	case <-time.After(10 * time.Second):
		w.t.Fatal("the settings were not applied within 10 s")
	}

	w.do(specCall{method: "GET", path: base, user: "anna", status: 200})
	w.do(specCall{method: "PATCH", path: base, user: "owner", body: map[string]any{},
		status: 400, breaks: true})
	w.do(specCall{method: "PATCH", path: base, user: "anna", body: map[string]any{
		"serverTier": "starter"}, status: 403})
}

// walkUnauthenticated calls every operation that needs a credential
// without one, its path and required query parameters set to 1; each
// must answer 401.
func (w *specWalk) walkUnauthenticated() {
	w.t.Helper()

	for path, item := range w.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue
			}

			query := url.Values{}

			for _, p := range op.Parameters {
				if p.Value.In == "query" && p.Value.Required {
					query.Set(p.Value.Name, "1")
				}
			}

			target := strings.ReplaceAll(path, "{id}", "1")
			if len(query) > 0 {
				target += "?" + query.Encode()
			}

			w.do(specCall{method: method, path: target, status: 401, noBody: true})
		}
	}
}

// checkCoverage checks that every operation answered on its success path,
// and with each of 400, 401 and 404 that it documents.
func (w *specWalk) checkCoverage() {
	w.t.Helper()

	for path, item := range w.doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			seen := w.answered[name]

			var success []int

			for code := range op.Responses.Map() {
				var n int
				if _, err := fmt.Sscan(code, &n); err == nil && n < 300 {
					success = append(success, n)
				}
			}

			if !slices.ContainsFunc(success, func(n int) bool { return seen[n] }) {
				w.t.Errorf("%s was not called on its success path %v", name, success)
			}

			for _, n := range []int{400, 401, 404} {
				if op.Responses.Status(n) != nil && !seen[n] {
					w.t.Errorf("%s documents %d but the walk never got it", name, n)
				}
			}
		}
	}
}
