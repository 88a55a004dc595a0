package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// sessionList is the answer of GET /api/agent/sessions.
type sessionList struct {
	Sessions []sessionView `json:"sessions"`
	Total    int           `json:"total"`
	Limit    int           `json:"limit"`
	Offset   int           `json:"offset"`
}

func TestSessionsLifecycle(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)

		create := func(body map[string]any) sessionView {
			t.Helper()

			var s sessionView
			if code := ta.doJSON("POST", "/api/agent/sessions", "anna", body, &s); code != 201 {
				t.Fatalf("create %v: %d", body, code)
			}

			return s
		}

		plan := create(map[string]any{"title": "Trip plan", "category": "task", "icon": "🧳",
			"pinned": true})
		if plan.ID == 0 || plan.Title != "Trip plan" || plan.Category != "task" ||
			plan.Status != "active" || plan.Icon != "🧳" || !plan.Pinned {
			t.Fatalf("created %+v", plan)
		}

		plain := create(map[string]any{})
		if plain.Category != "general" || plain.Pinned {
			t.Fatalf("created with defaults %+v", plain)
		}

		research := create(map[string]any{"title": "Papers", "category": "research"})

		// Pinned first, then the newest.
		var all sessionList
		ta.doJSON("GET", "/api/agent/sessions", "anna", nil, &all)

		if ids(all) != fmt.Sprint(plan.ID, research.ID, plain.ID) || all.Total != 3 {
			t.Fatalf("list = %s (total %d)", ids(all), all.Total)
		}

		for query, want := range map[string]string{
			"?category=research":     fmt.Sprint(research.ID),
			"?pinned=true":           fmt.Sprint(plan.ID),
			"?pinned=false&limit=1":  fmt.Sprint(research.ID),
			"?limit=1&offset=2":      fmt.Sprint(plain.ID),
			"?status=archived":       "",
			"?status=active&limit=5": fmt.Sprint(plan.ID, research.ID, plain.ID),
		} {
			var l sessionList
			ta.doJSON("GET", "/api/agent/sessions"+query, "anna", nil, &l)

			if ids(l) != want {
				t.Errorf("list%s = %s, want %s", query, ids(l), want)
			}
		}

		// Change by body and by path.
		var changed sessionView
		ta.doJSON("PATCH", "/api/agent/sessions", "anna", map[string]any{
			"sessionId": research.ID, "status": "archived", "pinned": true}, &changed)

		if changed.Status != "archived" || !changed.Pinned || changed.Title != "Papers" {
			t.Fatalf("patched by body: %+v", changed)
		}

		ta.doJSON("PATCH", fmt.Sprintf("/api/agent/sessions/%d", plain.ID), "anna",
			map[string]any{"title": "Renamed", "category": "debug"}, &changed)

		if changed.Title != "Renamed" || changed.Category != "debug" {
			t.Fatalf("patched by path: %+v", changed)
		}

		// Bob sees none of it and can change none of it.
		var bobs sessionList
		ta.doJSON("GET", "/api/agent/sessions", "bob", nil, &bobs)

		if bobs.Total != 0 {
			t.Fatalf("bob lists %d of anna's sessions", bobs.Total)
		}

		ta.wantError("PATCH", "/api/agent/sessions", "bob",
			map[string]any{"sessionId": plan.ID, "title": "mine"}, http.StatusNotFound, "")
		ta.wantError("DELETE", fmt.Sprintf("/api/agent/sessions?sessionId=%d", plan.ID), "bob",
			nil, http.StatusNotFound, "")

		// Delete by query and by path.
		if code, _ := ta.do("DELETE", fmt.Sprintf("/api/agent/sessions?sessionId=%d",
			plan.ID), "anna", nil); code != 200 {
			t.Fatalf("delete by query: %d", code)
		}

		if code, _ := ta.do("DELETE", fmt.Sprintf("/api/agent/sessions/%d", plain.ID), "anna",
			nil); code != 200 {
			t.Fatalf("delete by path: %d", code)
		}

		ta.doJSON("GET", "/api/agent/sessions", "anna", nil, &all)

		if ids(all) != fmt.Sprint(research.ID) {
			t.Fatalf("after deleting two: %s", ids(all))
		}

		ta.wantError("GET", fmt.Sprintf("/api/agent/sessions/%d", plan.ID), "anna", nil,
			http.StatusNotFound, "")
	})
}

func TestSessionsRejectBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)

		var s sessionView
		ta.doJSON("POST", "/api/agent/sessions", "anna", map[string]any{"title": "Keep"}, &s)

		long := strings.Repeat("é", 101)
		byID := fmt.Sprintf("/api/agent/sessions/%d", s.ID)

		cases := []struct {
			method, path string
			body         any
			code         int
			field        string
		}{
			{"POST", "/api/agent/sessions", map[string]any{"title": long}, 400, "title"},
			{"POST", "/api/agent/sessions", map[string]any{"category": "chat"}, 400, "category"},
			{"POST", "/api/agent/sessions", map[string]any{"status": "paused"}, 400, "status"},
			{"POST", "/api/agent/sessions", map[string]any{"icon": strings.Repeat("x", 33)},
				400, "icon"},
			{"POST", "/api/agent/sessions", map[string]any{"pinned": "yes"}, 400, "pinned"},
			{"POST", "/api/agent/sessions", map[string]any{"colour": "red"}, 400, "colour"},
			{"PATCH", "/api/agent/sessions", map[string]any{"title": "x"}, 400, "sessionId"},
			{"PATCH", "/api/agent/sessions", map[string]any{"sessionId": s.ID}, 400, "title"},
			{"PATCH", "/api/agent/sessions", map[string]any{"sessionId": s.ID,
				"status": "done"}, 400, "status"},
			{"PATCH", "/api/agent/sessions", map[string]any{"sessionId": s.ID, "title": long},
				400, "title"},
			{"PATCH", byID, map[string]any{"category": "misc"}, 400, "category"},
			{"PATCH", "/api/agent/sessions/abc", map[string]any{"title": "x"}, 400, "id"},
			{"DELETE", "/api/agent/sessions", nil, 400, "sessionId"},
			{"DELETE", "/api/agent/sessions?sessionId=-1", nil, 400, "sessionId"},
			{"GET", "/api/agent/sessions?status=done", nil, 400, "status"},
			{"GET", "/api/agent/sessions?category=misc", nil, 400, "category"},
			{"GET", "/api/agent/sessions?pinned=maybe", nil, 400, "pinned"},
			{"GET", "/api/agent/sessions?limit=0", nil, 400, "limit"},
			{"GET", "/api/agent/sessions?offset=-3", nil, 400, "offset"},
		}

		for _, c := range cases {
			ta.wantError(c.method, c.path, "anna", c.body, c.code, c.field)
		}

		// Nothing changed.
		var after sessionView
		ta.doJSON("GET", byID, "anna", nil, &after)

		var list sessionList
		ta.doJSON("GET", "/api/agent/sessions", "anna", nil, &list)

		if after.Title != "Keep" || after.Category != "general" || after.Status != "active" ||
			list.Total != 1 {
			t.Fatalf("after refused requests: %+v, %d sessions", after, list.Total)
		}
	})
}

// ids lists the ids of a session list, space-separated.
func ids(l sessionList) string {
	out := make([]string, len(l.Sessions))
	for i, s := range l.Sessions {
		out[i] = fmt.Sprint(s.ID)
	}

	return strings.Join(out, " ")
}
