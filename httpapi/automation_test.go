package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// automationListAnswer is GET /api/agent/automation's answer.
type automationListAnswer struct {
	TimeZone    string `json:"time_zone"`
	Automations []struct {
		ID          int64      `json:"id"`
		Kind        string     `json:"kind"`
		Text        string     `json:"text"`
		Description string     `json:"description"`
		Status      string     `json:"status"`
		NextRunAt   *time.Time `json:"next_run_at"`
		NextRun     string     `json:"next_run"`
	} `json:"automations"`
}

// TestAutomationList lists, on SQLite and PostgreSQL, what the caller made through the API, with
// the next run in their zone; pausing shows, cancelling removes, and
// another user sees none of it.
func TestAutomationList(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		testAutomationList(t, newTestAPI(t, kind))
	})
}

func testAutomationList(t *testing.T, ta *testAPI) {

	run := func(user, command, text string) string {
		t.Helper()

		var out struct {
			Reply string `json:"reply"`
		}

		code := ta.doJSON("POST", "/api/agent/automation", user,
			map[string]string{"command": command, "text": text}, &out)
		if code != http.StatusOK {
			t.Fatalf("/%s %s: %d", command, text, code)
		}

		return out.Reply
	}

	list := func(user string) automationListAnswer {
		t.Helper()

		var out automationListAnswer
		if code := ta.doJSON("GET", "/api/agent/automation", user, nil, &out); code != 200 {
			t.Fatalf("GET automations as %s: %d", user, code)
		}

		return out
	}

	run("anna", "timezone", "Asia/Tokyo")
	run("anna", "remind", "me tomorrow at 9:00 to call Anna")
	run("anna", "schedule", "every day at 8:00 summarise the news")

	got := list("anna")
	if got.TimeZone != "Asia/Tokyo" || len(got.Automations) != 2 {
		t.Fatalf("list = %+v, want 2 automations in Asia/Tokyo", got)
	}

	remind := got.Automations[0]
	tokyo, _ := time.LoadLocation("Asia/Tokyo")

	if remind.Kind != "remind" || remind.Text != "call Anna" || remind.Status != "active" ||
		remind.NextRunAt == nil || remind.NextRunAt.In(tokyo).Hour() != 9 ||
		!strings.HasSuffix(remind.NextRun, "09:00") ||
		!strings.Contains(remind.Description, "call Anna") {
		t.Fatalf("reminder = %+v, want call Anna at 09:00 Tokyo time", remind)
	}

	id := strconv.FormatInt(got.Automations[1].ID, 10)
	run("anna", "status", "pause "+id)

	if a := list("anna").Automations[1]; a.Status != "paused" {
		t.Fatalf("after pause: %+v", a)
	}

	run("anna", "status", "cancel "+id)

	if n := len(list("anna").Automations); n != 1 {
		t.Fatalf("after cancel: %d automations, want 1", n)
	}

	if other := list("bob"); len(other.Automations) != 0 {
		t.Fatalf("bob sees %+v", other.Automations)
	}
}
