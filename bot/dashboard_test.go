package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

// modelAnswer is what the fake model answers the dashboard's chat; it
// streams it in several pieces.
const modelAnswer = "Hello from the model, written piece by piece for the dashboard."

// chromium returns the path of a Chromium or Chrome executable. Without
// one the browser tests skip, except in CI, where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()

	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}

	if os.Getenv("CI") != "" {
		t.Fatal("no chromium in CI; .ci/run installs Debian's chromium package")
	}

	t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium)")

	return ""
}

// artifactDir is where the browser tests save their screenshots:
// BOT_TEST_ARTIFACTS, else artifacts/screenshots in the repository.
func artifactDir(t *testing.T) string {
	t.Helper()

	dir := os.Getenv("BOT_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "screenshots")
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}

	return dir
}

// browser is a headless Chromium tab on the dashboard, recording every
// URL the page requests.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string

	mu       sync.Mutex
	requests []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)

	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})

	b := &browser{t: t, ctx: ctx, base: base, dir: artifactDir(t)}

	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	})

	b.run("enable the network domain", network.Enable())

	return b
}

// run runs actions and fails the test, naming the step, when one fails.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()

	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v", step, err)
	}
}

// awaited makes Evaluate wait for a promise and use its value.
func awaited(p *runtime.EvaluateParams) *runtime.EvaluateParams {
	return p.WithAwaitPromise(true)
}

// untilAsync waits for a JavaScript expression, which may be a promise,
// to come out true.
func (b *browser) untilAsync(step, expr string) {
	b.t.Helper()

	deadline := time.Now().Add(15 * time.Second)

	for {
		var ok bool
		b.run(step, chromedp.Evaluate(expr, &ok, awaited))

		if ok {
			return
		}

		if time.Now().After(deadline) {
			b.screenshot("failed")
			b.t.Fatalf("%s: timed out", step)
		}

		time.Sleep(100 * time.Millisecond)
	}
}

// until waits for a JavaScript expression to be true.
func (b *browser) until(step, expr string) {
	b.t.Helper()

	b.run(step, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(15*time.Second)))
}

// eval returns a JavaScript expression's value, awaited when it is a
// promise.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()

	b.run("evaluate "+expr, chromedp.Evaluate(expr, out, awaited))
}

// submit submits a form as a person does, through its submit event;
// chromedp.Submit calls form.submit(), which skips the page's handler.
func (b *browser) submit(form string) chromedp.Action {
	return chromedp.Evaluate(`document.querySelector(`+js(form)+`).requestSubmit(); true`,
		nil)
}

// open shows a page of the dashboard by its hash route.
func (b *browser) open(page string) {
	b.t.Helper()

	b.run("open "+page, chromedp.Evaluate(`location.hash = "#/`+page+`"`, nil),
		chromedp.WaitVisible("#page-"+page, chromedp.ByQuery))
}

// screenshot saves the whole page as NAME.png among the artifacts.
func (b *browser) screenshot(name string) {
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}

	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("save screenshot %s: %v", name, err)
	}
}

// foreign returns the requests to anything but the gateway.
func (b *browser) foreign() []string {
	b.mu.Lock()
	defer b.mu.Unlock()

	base, _ := url.Parse(b.base)

	var out []string

	for _, r := range b.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != base.Host) {
			out = append(out, r)
		}
	}

	return out
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestDashboard drives the dashboard in a real headless Chromium against
// "bot serve" with the fake model: log in, chat with a streamed answer,
// attach a picture that reaches the model, create and pin a session, set a reminder with /remind and find it
// listed, toggle a skill, set a credential and see only its mask, save
// and search a memory, visit every page, log out. It saves a screenshot
// of each page, and checks that the pages requested nothing from any
// other host, that every control has a label, and that nothing overflows
// at phone width.
func TestDashboard(t *testing.T) {
	t.Parallel()

	model := openaitest.NewServer(t, openaitest.WithAPIKey("model-key"))
	model.Push(openaitest.Reply{Text: modelAnswer, PieceDelay: 150 * time.Millisecond,
		Usage: openaitest.Usage{PromptTokens: 50, CompletionTokens: 12}},
		openaitest.Reply{Text: "A small picture.",
			Usage: openaitest.Usage{PromptTokens: 60, CompletionTokens: 4}})

	dir := t.TempDir()
	p := startServe(t, dir,
		"BOT_AGENT_RESPONDER=agent",
		"BOT_AI_PROVIDER=openai",
		"BOT_AI_BASE_URL="+model.URL(),
		"BOT_AI_API_KEY=model-key",
		"BOT_AI_MODEL=test-model",
		"BOT_AI_VISION_MODELS=test-model")

	stdout, stderr, code := runBot(t, dir, nil, "token", "create", "--name", "dashboard")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}

	b := newBrowser(t, "http://"+p.addr)

	b.run("load the login page", chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible("#login-token", chromedp.ByQuery))
	b.screenshot("login")

	b.run("log in", chromedp.SendKeys("#login-token", strings.TrimSpace(stdout),
		chromedp.ByQuery), b.submit("#login-form"),
		chromedp.WaitVisible("#nav", chromedp.ByQuery))

	dashboardChat(b)
	dashboardImage(b, model)
	dashboardSessions(b)
	dashboardRemind(b)
	dashboardSkills(b)
	dashboardMemory(b)

	for _, page := range []string{"budget", "settings", "health"} {
		b.open(page)
		b.screenshot(page)
	}

	b.until("the budget shows", `document.querySelector("#budget-bar") !== null`)
	b.until("the health shows the web adapter",
		`document.querySelector('#health-table tr[data-channel="web"]') !== null`)

	dashboardLabels(b)
	dashboardPhone(b)

	b.run("log out", chromedp.Click("#logout", chromedp.ByQuery),
		chromedp.WaitVisible("#login-token", chromedp.ByQuery))

	var status int
	b.eval(`fetch("/api/auth/me").then(r => r.status)`, &status)

	if status != 401 {
		t.Fatalf("after logging out /api/auth/me answers %d, want 401", status)
	}

	if foreign := b.foreign(); len(foreign) > 0 {
		t.Fatalf("the dashboard requested other hosts: %q", foreign)
	}
}

// dashboardChat sends a message and watches the answer arrive in pieces.
func dashboardChat(b *browser) {
	b.t.Helper()

	b.open("chat")

	// Record every text the answer shows while it streams: each text node
	// put into it keeps the text it was made with, even when the page
	// handles several pieces before the observer runs.
	b.eval(`window.seen = new Set();
		new MutationObserver(records => {
			for (const r of records) {
				if (!r.target.closest || !r.target.closest(".msg.agent")) continue;
				for (const n of r.addedNodes) window.seen.add(n.textContent);
				if (r.type === "characterData") window.seen.add(r.target.textContent);
			}
		}).observe(document.querySelector("#messages"),
			{subtree: true, childList: true, characterData: true}); true`, nil)

	b.run("send a message", chromedp.SendKeys("#message", "Hello, agent", chromedp.ByQuery),
		chromedp.Click("#send", chromedp.ByQuery))
	b.until("the streamed answer is done",
		`document.querySelector('#messages .msg.agent[data-done="true"]') !== null`)

	var answer string
	var partial int

	b.eval(`document.querySelector('#messages .msg.agent[data-done="true"]').textContent`,
		&answer)
	b.eval(`[...window.seen].filter(s => s.length > 0 && `+js(modelAnswer)+`.startsWith(s) && s !== `+
		js(modelAnswer)+`).length`, &partial)

	if !strings.Contains(answer, modelAnswer) {
		b.t.Fatalf("the answer shows %q, want %q", answer, modelAnswer)
	}

	if partial == 0 {
		b.t.Fatalf("the answer appeared at once, not streamed")
	}

	b.until("the new session is in the sidebar",
		`document.querySelectorAll("#sessions li.session").length === 1`)
	b.screenshot("chat")
}

// dashboardImage attaches a picture to a message: the model gets it.
func dashboardImage(b *browser, model *openaitest.Server) {
	b.t.Helper()

	path := filepath.Join(b.t.TempDir(), "picture.png")
	if err := os.WriteFile(path, telegramtest.PNG(16, 12), 0o644); err != nil {
		b.t.Fatal(err)
	}

	b.run("attach a picture",
		chromedp.SetUploadFiles("#attach", []string{path}, chromedp.ByQuery),
		chromedp.SendKeys("#message", "What is in this picture?", chromedp.ByQuery))
	b.until("the attachment is read",
		`document.querySelector("#attach-name").textContent === "picture.png"`)
	b.run("send the picture", chromedp.Click("#send", chromedp.ByQuery))
	b.until("the picture is shown and answered", `[...document.querySelectorAll(
		"#messages .msg.user img")].length === 1 && [...document.querySelectorAll(
		'#messages .msg.agent[data-done="true"]')].some(m => m.textContent === "A small picture.")`)

	reqs := model.Requests()
	last := reqs[len(reqs)-1].Messages
	images := 0

	for _, part := range last[len(last)-1].Parts {
		if part.ImageURL != nil && strings.HasPrefix(part.ImageURL.URL, "data:image/png;base64,") {
			images++
		}
	}

	if images != 1 {
		b.t.Fatalf("the model got %d images with the message, want 1: %+v", images,
			last[len(last)-1])
	}
}

// dashboardSessions creates a session and pins it.
func dashboardSessions(b *browser) {
	b.t.Helper()

	b.run("create a session",
		chromedp.SendKeys("#new-session-title", "Trip planning", chromedp.ByQuery),
		b.submit("#new-session-form"))

	trip := `[...document.querySelectorAll("#sessions li.session")]
		.find(li => li.textContent.includes("Trip planning"))`
	b.until("the session is listed", trip+` !== undefined`)

	b.eval(trip+`.querySelector("button.pin").click(); true`, nil)
	b.until("the session is pinned", trip+`?.classList.contains("pinned") && `+trip+
		`.querySelector("button.pin").getAttribute("aria-pressed") === "true"`)
	b.until("pinned sessions come first",
		`document.querySelector("#sessions li.session").textContent.includes("Trip planning")`)

	var pinned bool
	b.eval(`fetch("/api/agent/sessions").then(r => r.json()).then(j =>
		j.sessions.some(s => s.title === "Trip planning" && s.pinned))`, &pinned)

	if !pinned {
		b.t.Fatal("the API does not list the session as pinned")
	}
}

// dashboardRemind sets a reminder in the chat and finds it listed.
func dashboardRemind(b *browser) {
	b.t.Helper()

	b.open("chat")
	b.run("send /remind",
		chromedp.SendKeys("#message", "/remind me in 20 minutes to stretch", chromedp.ByQuery),
		chromedp.Click("#send", chromedp.ByQuery))
	b.until("the reminder is confirmed", `[...document.querySelectorAll(
		'#messages .msg.agent[data-done="true"]')].some(m => m.textContent.includes("stretch"))`)

	b.open("automations")
	b.until("the reminder is listed", `[...document.querySelectorAll("#automations li.automation")]
		.some(li => li.querySelector(".automation-text").textContent.includes("stretch") &&
			li.querySelector(".automation-next").textContent.trim() !== "")`)
	b.screenshot("automations")
}

// dashboardSkills turns a skill off and on and sets a credential.
func dashboardSkills(b *browser) {
	b.t.Helper()

	const secret = "weather-key-0123456789abcdef"

	skill := func(name string) string {
		return `fetch("/api/agent/skills").then(r => r.json()).then(j =>
			j.skills.find(s => s.name === "` + name + `"))`
	}

	b.open("skills")
	b.until("the skills are listed",
		`document.querySelector('article.skill[data-name="calculator"]') !== null`)

	var before, after bool
	b.eval(skill("calculator")+`.then(s => s.enabled)`, &before)
	b.run("toggle the calculator", chromedp.Click(
		`article.skill[data-name="calculator"] input.skill-toggle`, chromedp.ByQuery))
	b.untilAsync("the toggle is stored", skill("calculator")+`.then(s => s.enabled === `+
		fmt.Sprint(!before)+`)`)
	b.eval(skill("calculator")+`.then(s => s.enabled)`, &after)

	if after == before {
		b.t.Fatal("toggling the calculator did not change it")
	}

	form := `article.skill[data-name="weather"] form.credentials`
	b.run("set the weather key",
		chromedp.SendKeys(form+` input[name="api_key"]`, secret, chromedp.ByQuery),
		b.submit(form))
	b.until("the key shows masked", `(() => {
		const m = document.querySelector(
			'article.skill[data-name="weather"] .credential-mask[data-credential="api_key"]');
		return m && m.textContent.trim() !== "" && !/not set/i.test(m.textContent);
	})()`)

	var html string
	b.eval(`document.documentElement.outerHTML + [...document.querySelectorAll("input")]
		.map(i => i.value).join(" ")`, &html)

	if strings.Contains(html, secret) || strings.Contains(html, secret[4:]) {
		b.t.Fatal("the page shows the stored credential")
	}

	b.screenshot("skills")
}

// dashboardMemory saves a memory and finds it by search.
func dashboardMemory(b *browser) {
	b.t.Helper()

	b.open("memory")
	b.run("save a memory",
		chromedp.SendKeys("#memory-text", "Anna's birthday is on 12 March", chromedp.ByQuery),
		b.submit("#memory-add-form"))
	b.untilAsync("the memory is saved", `fetch("/api/agent/memory?q=birthday").then(r => r.json())
		.then(j => j.memories.length === 1)`)

	b.run("search memory", chromedp.SendKeys("#memory-query", "birthday", chromedp.ByQuery),
		b.submit("#memory-search-form"))
	b.until("the search finds it", `[...document.querySelectorAll("#memory-results li.memory")]
		.some(li => li.querySelector(".memory-text").textContent.includes("12 March"))`)
	b.screenshot("memory")
}

// dashboardLabels checks, on every page, that each visible control has a
// label a screen reader can announce.
func dashboardLabels(b *browser) {
	b.t.Helper()

	for _, page := range []string{"chat", "skills", "memory", "budget", "automations",
		"settings", "health"} {
		b.open(page)

		var unlabelled []string
		b.eval(`[...document.querySelectorAll("input, select, textarea, button")]
			.filter(e => e.offsetParent !== null && e.type !== "hidden")
			.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") &&
				!e.getAttribute("aria-labelledby") && !(e.tagName === "BUTTON" &&
				e.textContent.trim()))
			.map(e => e.outerHTML.slice(0, 80))`, &unlabelled)

		if len(unlabelled) > 0 {
			b.t.Errorf("controls without a label on %s: %q", page, unlabelled)
		}
	}
}

// dashboardPhone shows the chat at phone width: nothing may overflow.
func dashboardPhone(b *browser) {
	b.t.Helper()

	b.run("phone width", chromedp.EmulateViewport(375, 800))
	b.open("chat")

	var width int
	b.eval(`document.documentElement.scrollWidth`, &width)

	b.screenshot("chat-phone")

	if width > 375 {
		b.t.Fatalf("at 375 px the page is %d px wide", width)
	}

	b.run("desktop width", chromedp.EmulateViewport(1280, 900))
}
