package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/memory"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// memoryAnswer is a memory as the memory routes show it.
type memoryAnswer struct {
	ID        int64     `json:"id"`
	Content   string    `json:"content"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	Own       bool      `json:"own"`
}

// saveMemory saves a memory as user and wants a 201.
func saveMemory(t *testing.T, ta *testAPI, user, content, scope string) memoryAnswer {
	t.Helper()

	body := map[string]string{"content": content}
	if scope != "" {
		body["scope"] = scope
	}

	var m memoryAnswer

	code := ta.doJSON("POST", "/api/agent/memory", user, body, &m)
	if code != http.StatusCreated {
		t.Fatalf("save %q as %s: %d", content, user, code)
	}

	return m
}

// searchMemory returns the contents of the memories user finds with the
// query string, and the memories.
func searchMemory(t *testing.T, ta *testAPI, user, query string) ([]string, []memoryAnswer) {
	t.Helper()

	var out struct {
		Memories []memoryAnswer `json:"memories"`
	}

	path := "/api/agent/memory" + query
	if code := ta.doJSON("GET", path, user, nil, &out); code != http.StatusOK {
		t.Fatalf("GET %s as %s: %d", path, user, code)
	}

	contents := make([]string, len(out.Memories))
	for i, m := range out.Memories {
		contents[i] = m.Content
	}

	slices.Sort(contents)

	return contents, out.Memories
}

// seedMemories saves anna's private memory and bob's private and shared
// ones, and checks what the saves answer.
func seedMemories(t *testing.T, ta *testAPI) (dog, cat, wifi memoryAnswer) {
	t.Helper()

	before := time.Now().Add(-time.Second)

	dog = saveMemory(t, ta, "anna", "  anna's dog is called Rex ", "")
	if dog.ID <= 0 || dog.Content != "anna's dog is called Rex" || dog.Scope != "private" ||
		!dog.Own || dog.CreatedAt.Before(before) {
		t.Fatalf("saved %+v, want anna's private memory, trimmed", dog)
	}

	cat = saveMemory(t, ta, "bob", "bob's cat is called Tom", "private")
	wifi = saveMemory(t, ta, "bob", "the office wifi password is on the fridge", "shared")

	if cat.Scope != "private" || wifi.Scope != "shared" || !wifi.Own {
		t.Fatalf("saved %+v and %+v, want bob's private and shared memories", cat, wifi)
	}

	return dog, cat, wifi
}

func TestMemorySearchShowsOwnAndSharedMemories(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		dog, _, _ := seedMemories(t, ta)

		anna, list := searchMemory(t, ta, "anna", "")
		want := []string{"anna's dog is called Rex", "the office wifi password is on the fridge"}

		if !slices.Equal(anna, want) {
			t.Fatalf("anna sees %q, want %q", anna, want)
		}

		for _, m := range list {
			if m.Own != (m.ID == dog.ID) {
				t.Errorf("anna sees %+v with own = %v", m, m.Own)
			}
		}

		tests := []struct {
			user, query string
			want        []string
		}{
			{"anna", "?q=cat", []string{}},
			{"bob", "?q=cat", []string{"bob's cat is called Tom"}},
			{"anna", "?q=WIFI+fridge", []string{"the office wifi password is on the fridge"}},
			{"anna", "?q=re&limit=1", []string{"anna's dog is called Rex"}},
			{"bob", "?q=dog", []string{}},
			{"bob", "?limit=1", []string{"the office wifi password is on the fridge"}},
		}

		for _, tt := range tests {
			if got, _ := searchMemory(t, ta, tt.user, tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("%s GET %s = %q, want %q", tt.user, tt.query, got, tt.want)
			}
		}
	})
}

func TestMemoryForgetsOnlyTheCallersOwn(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		dog, cat, wifi := seedMemories(t, ta)

		// Anna cannot forget bob's memories, private or shared, and learns
		// nothing from trying: the answer is that of a missing memory.
		missing := wifi.ID + 1000
		_, missingBody := ta.do("DELETE", fmt.Sprintf("/api/agent/memory/%d", missing),
			"anna", nil)

		for _, id := range []int64{cat.ID, wifi.ID, missing} {
			path := fmt.Sprintf("/api/agent/memory/%d", id)
			code, b := ta.do("DELETE", path, "anna", nil)

			e := decodeError(t, b)
			if code != http.StatusNotFound || e.Error.Code != "not_found" ||
				strings.ReplaceAll(string(b), fmt.Sprint(id), "N") !=
					strings.ReplaceAll(string(missingBody), fmt.Sprint(missing), "N") {
				t.Errorf("anna DELETE %s: %d %s, want the 404 of a missing memory", path, code, b)
			}
		}

		var deleted map[string]any

		path := fmt.Sprintf("/api/agent/memory/%d", dog.ID)
		if code := ta.doJSON("DELETE", path, "anna", nil, &deleted); code != http.StatusOK ||
			deleted["deleted"] != true {
			t.Fatalf("anna DELETE her memory: %d %v", code, deleted)
		}

		ta.wantError("DELETE", path, "anna", nil, http.StatusNotFound, "")

		anna, _ := searchMemory(t, ta, "anna", "")
		if want := []string{wifi.Content}; !slices.Equal(anna, want) {
			t.Fatalf("anna sees %q after forgetting, want %q", anna, want)
		}

		if bob, _ := searchMemory(t, ta, "bob", ""); len(bob) != 2 {
			t.Fatalf("bob sees %q, want both of his memories kept", bob)
		}
	})
}

func TestMemoryRefusesBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		kept := saveMemory(t, ta, "anna", "anna likes green tea", "")

		saves := []struct {
			body  any
			field string
		}{
			{map[string]any{}, "content"},
			{map[string]any{"content": ""}, "content"},
			{map[string]any{"content": " \n\t "}, "content"},
			{map[string]any{"content": strings.Repeat("é", memory.MaxContentChars+1)},
				"content"},
			{map[string]any{"content": 42}, "content"},
			{map[string]any{"content": "tea", "scope": "public"}, "scope"},
			{map[string]any{"content": "tea", "scope": "PRIVATE"}, "scope"},
			{map[string]any{"content": "tea", "scope": true}, "scope"},
			{map[string]any{"content": "tea", "owner": "bob"}, "owner"},
		}

		for _, tt := range saves {
			ta.wantError("POST", "/api/agent/memory", "anna", tt.body, http.StatusBadRequest,
				tt.field)
		}

		queries := []struct {
			query, field string
		}{
			{"?limit=0", "limit"},
			{"?limit=101", "limit"},
			{"?limit=ten", "limit"},
			{"?q=" + strings.Repeat("a", 1001), "q"},
		}

		for _, tt := range queries {
			ta.wantError("GET", "/api/agent/memory"+tt.query, "anna", nil,
				http.StatusBadRequest, tt.field)
		}

		for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
			ta.wantError("DELETE", "/api/agent/memory/"+id, "anna", nil,
				http.StatusBadRequest, "id")
		}

		got, list := searchMemory(t, ta, "anna", "?limit=100")
		if len(list) != 1 || list[0].ID != kept.ID {
			t.Fatalf("anna sees %q after refused requests, want only %q", got, kept.Content)
		}

		longest := strings.Repeat("é", memory.MaxContentChars)
		if m := saveMemory(t, ta, "anna", longest, "shared"); m.Content != longest {
			t.Fatalf("the longest memory was saved as %d characters", len(m.Content))
		}
	})
}

func TestMemoryFullIsAConflict(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		ctx := context.Background()
		now := time.Now().UTC()

		rows := make([]memory.Memory, memory.MaxPerAgent)
		for i := range rows {
			rows[i] = memory.Memory{AgentID: "default", Channel: "web", UserID: "bob",
				Scope: memory.ScopePrivate, Content: fmt.Sprintf("fact %d", i), CreatedAt: now}
		}

		if _, err := ta.DB.NewInsert().Model(&rows).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		code, b := ta.do("POST", "/api/agent/memory", "anna",
			map[string]string{"content": "one too many"})
		if e := decodeError(t, b); code != http.StatusConflict || e.Error.Code != "conflict" ||
			!strings.Contains(e.Error.Message, "forget") {
			t.Fatalf("save into a full memory: %d %s, want 409 saying to forget some", code, b)
		}

		n, err := ta.DB.NewSelect().Model((*memory.Memory)(nil)).Count(ctx)
		if err != nil || n != int64(memory.MaxPerAgent) {
			t.Fatalf("%d memories (%v) after a refused save, want %d", n, err,
				memory.MaxPerAgent)
		}

		if got, _ := searchMemory(t, ta, "anna", ""); len(got) != 0 {
			t.Fatalf("anna sees %q, want none", got)
		}
	})
}

func TestMemoryAnswerShowsOwnAlways(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		saveMemory(t, ta, "bob", "the team meets on Mondays", "shared")

		code, b := ta.do("GET", "/api/agent/memory", "anna", nil)

		var out struct {
			Memories []map[string]json.RawMessage `json:"memories"`
		}

		if err := json.Unmarshal(b, &out); err != nil || code != http.StatusOK ||
			len(out.Memories) != 1 || string(out.Memories[0]["own"]) != "false" {
			t.Fatalf("GET: %d %s, want one memory with own false", code, b)
		}
	})
}
