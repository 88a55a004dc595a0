/**
 * Switchboard dashboard: a single-page client of the gateway's REST API
 * under /api, served from the same origin as the API.
 *
 * The login screen turns an API token or a Supabase access token into the
 * HttpOnly login cookie; after that every request is a same-origin fetch
 * through api(), which shows the API's error message in #toast. Pages are
 * chosen by the location hash (#/chat, #/skills, ...). Chat answers are
 * read as server-sent events from the POST response. Text from the server
 * is only ever rendered with textContent.
 */

// ---- Small DOM helpers ----

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

let uidCounter = 0;
/** uid returns a page-unique id with prefix, for label/input pairs. */
const uid = (prefix) => `${prefix}-${++uidCounter}`;

/**
 * el creates an element. attrs: "class", "text" (textContent), "data-*"
 * and "aria-*" as attributes, anything else as a property if the element
 * has it, else as an attribute. Children are nodes or strings.
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || !(key in node)) {
      node.setAttribute(key, value === true ? "" : String(value));
    } else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/**
 * rerender replaces container's children with nodes and keeps the
 * keyboard focus on the same control of the same item (data-id or
 * data-name), so that acting on a list does not lose the user's place.
 */
function rerender(container, nodes) {
  const active = document.activeElement;
  const item = active && container.contains(active) ? active.closest("[data-id],[data-name]") : null;
  container.replaceChildren(...nodes);
  const cls = active && active.classList[0];
  if (!item || !cls) return;
  const key = item.dataset.id !== undefined
    ? `[data-id="${CSS.escape(item.dataset.id)}"]`
    : `[data-name="${CSS.escape(item.dataset.name)}"]`;
  const target = container.querySelector(`${key} .${CSS.escape(cls)}`);
  if (target) target.focus();
}

/** labelled returns a <label> and a control joined by a fresh id. */
function labelled(labelText, control, labelClass) {
  control.id = control.id || uid("f");
  const label = el("label", { for: control.id, text: labelText, class: labelClass });
  return [label, control];
}

/** formatDate shows an ISO time in the browser's local time, or fallback. */
function formatDate(iso, fallback = "never") {
  if (!iso) return fallback;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? fallback : date.toLocaleString();
}

const usd = new Intl.NumberFormat(undefined, {
  style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4,
});
const integer = new Intl.NumberFormat();

// ---- Toast ----

let toastTimer = 0;

/** toast shows text in #toast for a while; kind is "error" or "info". */
function toast(text, kind = "error") {
  const node = $("#toast");
  node.textContent = text;
  node.dataset.kind = kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.textContent = ""; }, 8000);
}

// ---- The API ----

/** ApiError is an error answer of the API. */
class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    Object.assign(this, { status, code, field });
  }
  /** text is the message for people, with the field at fault. */
  get text() {
    return this.field ? `${this.message} (${this.field})` : this.message;
  }
}

/** errorFrom reads the {"error": {code, message, field}} body of res. */
async function errorFrom(res) {
  const body = await res.json().catch(() => null);
  const e = body && body.error;
  if (e && typeof e.message === "string") {
    return new ApiError(res.status, e.code, e.message, e.field);
  }
  return new ApiError(res.status, "", `The server answered ${res.status} ${res.statusText}`.trim());
}

/**
 * api sends a JSON request and returns the parsed answer (null for 204).
 * An error answer is shown in #toast and thrown as an ApiError; a 401
 * outside login returns to the login screen. opts.quiet skips the toast.
 */
async function api(method, path, body, opts = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    const err = new ApiError(0, "network", "The server cannot be reached. Check the connection.");
    if (!opts.quiet) toast(err.text);
    throw err;
  }
  if (res.ok) return res.status === 204 ? null : res.json().catch(() => null);
  const err = await errorFrom(res);
  if (!opts.quiet) toast(err.text);
  if (res.status === 401 && !path.startsWith("/api/auth/")) showLogin();
  throw err;
}

/**
 * guard wraps an event handler: errors already shown by api() are
 * swallowed, anything else is shown in #toast.
 */
function guard(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        console.error(err);
        toast(err.message || String(err));
      }
    }
  };
}

/** on adds a guarded listener. */
function on(target, type, fn) {
  target.addEventListener(type, guard(fn));
}

/** onSubmit adds a guarded submit handler fn(form) that never navigates. */
function onSubmit(form, fn) {
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    await fn(form);
  }));
}

/** busy disables a form's buttons while fn runs. */
async function busy(form, fn) {
  const buttons = $$("button", form);
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await fn();
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---- Login and the app shell ----

const state = {
  user: null,
  sessions: [],
  session: null, // the open session's id
  streaming: false,
  image: null, // {name, dataUrl} of the attachment
  settings: null,
  settingsPoll: 0,
};

function showLogin() {
  state.user = null;
  stopSettingsPoll();
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-token").focus();
}

function showApp(user) {
  state.user = user;
  $("#whoami").textContent = user && user.user_id ? user.user_id : "";
  $("#login").hidden = true;
  $("#app").hidden = false;
  route();
}

/** login posts one credential and enters the app. */
async function login(form, body) {
  const answer = await busy(form, () => api("POST", "/api/auth/login", body));
  form.reset();
  showApp({ user_id: answer.user_id });
}

async function logout() {
  await api("POST", "/api/auth/logout", undefined, { quiet: true }).catch(() => {});
  state.session = null;
  state.sessions = [];
  clearAttachment();
  for (const id of ["#messages", "#sessions", "#memory-results", "#route-result", "#automations"]) {
    $(id).replaceChildren();
  }
  $("#memory-query").value = "";
  $("#automations-reply").hidden = true;
  showLogin();
}

async function start() {
  try {
    showApp(await api("GET", "/api/auth/me", undefined, { quiet: true }));
  } catch (err) {
    showLogin();
    if (err.status !== 401) toast(err.text);
  }
}

// ---- Routing ----

const pages = {
  chat: () => loadSessions(),
  skills: () => loadSkills(),
  memory: () => loadMemories(),
  budget: () => loadBudget(),
  automations: () => loadAutomations(),
  settings: () => loadSettings(),
  health: () => loadHealth(),
};

function currentPage() {
  const match = /^#\/([a-z]+)/.exec(location.hash);
  return match && match[1] in pages ? match[1] : "chat";
}

/** route shows the page of the hash and loads its data. */
function route(event) {
  if (!state.user) return;
  const page = currentPage();
  for (const name of Object.keys(pages)) $(`#page-${name}`).hidden = name !== page;
  for (const link of $$("#nav a")) {
    if (link.getAttribute("href") === `#/${page}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (page !== "settings") stopSettingsPoll();
  if (event) $(`#page-${page} h2`).focus();
  guard(pages[page])();
}

// ---- Chat: sessions ----

const sessionStatuses = ["active", "completed", "paused", "archived"];
const sessionCategories = ["general", "task", "research", "support", "automation", "creative", "debug"];

async function loadSessions() {
  const data = await api("GET", "/api/agent/sessions?limit=200");
  // Pinned first; the server's order (most recent first) otherwise.
  state.sessions = (data.sessions || []).sort((a, b) => Number(b.pinned) - Number(a.pinned));
  renderSessions();
}

function renderSessions() {
  rerender($("#sessions"), state.sessions.map(sessionItem));
  $("#sessions-empty").hidden = state.sessions.length > 0;
  const open = state.sessions.find((s) => s.id === state.session);
  $("#chat-title").textContent = open ? titleOf(open) : state.session ? `Session ${state.session}` : "New conversation";
}

const titleOf = (session) => session.title || "Untitled";

/** select builds a <select> of values with current selected. */
function select(className, values, current) {
  const node = el("select", { class: className });
  if (current && !values.includes(current)) values = [current, ...values];
  for (const value of values) node.append(el("option", { value, text: value, selected: value === current }));
  return node;
}

function sessionItem(session) {
  const title = titleOf(session);
  const current = session.id === state.session;
  const open = el("button", { type: "button", class: "session-open" },
    el("span", { class: "session-title", text: title }));
  on(open, "click", () => openSession(session.id));
  const pin = el("button", {
    type: "button", class: "pin", text: session.pinned ? "Pinned" : "Pin",
    "aria-pressed": String(Boolean(session.pinned)), "aria-label": `Pin “${title}”`,
  });
  on(pin, "click", () => patchSession(session.id, { pinned: !session.pinned }));
  const rename = el("button", { type: "button", class: "rename", text: "Rename", "aria-label": `Rename “${title}”` });
  on(rename, "click", () => renameSession(session));
  const category = select("category", sessionCategories, session.category);
  on(category, "change", () => patchSession(session.id, { category: category.value }));
  const status = select("status", sessionStatuses, session.status);
  on(status, "change", () => patchSession(session.id, { status: status.value }));
  const remove = el("button", { type: "button", class: "delete danger", text: "Delete", "aria-label": `Delete “${title}”` });
  on(remove, "click", () => deleteSession(session));
  return el("li", {
    class: session.pinned ? "session pinned" : "session",
    "data-id": session.id, "aria-current": current ? "true" : null,
  },
  open,
  el("div", { class: "session-actions" },
    pin, rename,
    ...labelled(`Category of “${title}”`, category, "visually-hidden"),
    ...labelled(`Status of “${title}”`, status, "visually-hidden"),
    remove));
}

async function patchSession(id, change) {
  await api("PATCH", `/api/agent/sessions/${id}`, change);
  await loadSessions();
}

async function renameSession(session) {
  const title = prompt("New title for the session", session.title);
  if (title === null || title.trim() === session.title) return;
  await patchSession(session.id, { title: title.trim() });
}

async function deleteSession(session) {
  if (!confirm(`Delete the session “${titleOf(session)}” and its transcript?`)) return;
  await api("DELETE", `/api/agent/sessions/${session.id}`);
  if (state.session === session.id) {
    state.session = null;
    $("#messages").replaceChildren();
  }
  await loadSessions();
}

async function createSession(form) {
  const input = $("#new-session-title");
  const title = input.value.trim();
  await busy(form, async () => {
    const session = await api("POST", "/api/agent/sessions", title ? { title } : {});
    input.value = "";
    await loadSessions();
    await openSession(session.id);
  });
}

/** openSession makes id the current session and shows its transcript. */
async function openSession(id) {
  state.session = id;
  renderSessions();
  $("#messages").replaceChildren();
  const detail = await api("GET", `/api/agent/sessions/${id}`);
  if (state.session !== id) return; // another session was opened meanwhile
  for (const turn of detail.transcript || []) {
    const node = addMessage(turn.role === "user" ? "user" : "agent", turn.text);
    node.title = turn.model ? `${formatDate(turn.created_at)} · ${turn.model}` : formatDate(turn.created_at);
  }
  $("#chat-title").textContent = titleOf(detail);
  $("#message").focus();
}

// ---- Chat: messages and streaming ----

/** addMessage appends a message of role "user" or "agent" and returns it. */
function addMessage(role, text) {
  const node = el("div", { class: `msg ${role}`, text });
  const box = $("#messages");
  box.append(node);
  box.scrollTop = box.scrollHeight;
  return node;
}

/** parseEvent reads one server-sent event block into {name, data}. */
function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const raw = data.join("\n");
  try {
    return { name, data: JSON.parse(raw) };
  } catch {
    return { name, data: raw };
  }
}

/** readEvents calls onEvent(name, data) for each event of a stream. */
async function readEvents(stream, onEvent) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    buffer = buffer.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event.name, event.data);
    }
    if (done) break;
  }
  const last = parseEvent(buffer);
  if (last) onEvent(last.name, last.data);
}

/** failMessage marks a streamed message as failed and says why. */
function failMessage(node, text) {
  node.dataset.error = "true";
  node.removeAttribute("aria-busy");
  if (!node.textContent) node.textContent = text;
  toast(text);
}

/** chatEvents returns the handler of one streamed answer's events. */
function chatEvents(node) {
  return (name, data) => {
    if (name === "session") {
      if (node.isConnected && data.session_id !== state.session) {
        state.session = data.session_id;
        guard(loadSessions)();
      }
    } else if (name === "delta") {
      node.textContent += data.text || "";
      node.parentNode?.scrollTo({ top: node.parentNode.scrollHeight });
    } else if (name === "done") {
      node.textContent = data.answer ?? node.textContent;
      if (data.model) node.title = data.model;
      node.dataset.done = "true";
      node.removeAttribute("aria-busy");
    } else if (name === "error") {
      const e = data && data.error;
      failMessage(node, (e && e.message) || "The answer failed.");
    }
  };
}

/** sendMessage posts the composer's message and streams the answer. */
async function sendMessage() {
  const input = $("#message");
  const text = input.value;
  if (state.streaming || (!text.trim() && !state.image)) return;
  const body = text.trim() ? { message: text } : {};
  if (state.session) body.session_id = state.session;
  if (state.image) body.images = [state.image.dataUrl];
  const mine = addMessage("user", text);
  if (state.image) mine.append(el("img", { src: state.image.dataUrl, alt: `Attached image ${state.image.name}` }));
  input.value = "";
  clearAttachment();
  const answer = addMessage("agent", "");
  answer.setAttribute("aria-busy", "true");
  setStreaming(true);
  try {
    await streamChat(body, answer);
  } finally {
    setStreaming(false);
    guard(loadSessions)();
  }
}

/** streamChat posts body to the chat route and fills node with the answer. */
async function streamChat(body, node) {
  let res;
  try {
    res = await fetch("/api/agent/chat", {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    });
  } catch {
    failMessage(node, "The server cannot be reached. Check the connection.");
    return;
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    failMessage(node, err.text);
    if (res.status === 401) showLogin();
    return;
  }
  try {
    await readEvents(res.body, chatEvents(node));
  } catch {
    // The connection broke; handled below.
  }
  if (node.dataset.done !== "true" && node.dataset.error !== "true") {
    failMessage(node, "The connection ended before the answer was complete; it will be in the session's transcript.");
  }
}

function setStreaming(on) {
  state.streaming = on;
  $("#send").disabled = on;
  $("#send").textContent = on ? "Answering…" : "Send";
}

/** readAttachment reads the chosen image as a data: URL. */
function readAttachment() {
  const file = $("#attach").files[0];
  if (!file) return clearAttachment();
  const reader = new FileReader();
  reader.onload = () => {
    state.image = { name: file.name, dataUrl: String(reader.result) };
    $("#attach-name").textContent = file.name;
    $("#attach-clear").hidden = false;
  };
  reader.onerror = () => {
    clearAttachment();
    toast(`The file ${file.name} cannot be read.`);
  };
  reader.readAsDataURL(file);
}

function clearAttachment() {
  state.image = null;
  $("#attach").value = "";
  $("#attach-name").textContent = "";
  $("#attach-clear").hidden = true;
}

// ---- Skills ----

async function loadSkills() {
  const data = await api("GET", "/api/agent/skills");
  const skills = data.skills || [];
  rerender($("#skills"), skills.map(skillCard));
  $("#skills-empty").hidden = skills.length > 0;
}

function skillCard(skill) {
  const toggle = el("input", {
    type: "checkbox", class: "skill-toggle", id: uid("skill"), checked: Boolean(skill.enabled),
  });
  on(toggle, "change", async () => {
    try {
      await api("POST", "/api/agent/skills", { skill: skill.name, enabled: toggle.checked });
    } finally {
      await loadSkills();
    }
  });
  const card = el("article", { class: "skill card", "data-name": skill.name },
    el("h3", { text: skill.name }),
    el("p", { class: "description", text: skill.description }),
    el("div", { class: "check" }, toggle, el("label", { for: toggle.id, text: "Enabled" })));
  const names = Object.keys(skill.credentials || {});
  if (names.length > 0) card.append(credentialsForm(skill, names));
  return card;
}

/** credentialsForm lets an administrator store or clear a skill's credentials. */
function credentialsForm(skill, names) {
  const form = el("form", { class: "credentials stack" }, el("h4", { text: "Credentials" }));
  for (const name of names) {
    const cred = skill.credentials[name] || {};
    const input = el("input", { type: "password", name, autocomplete: "off" });
    const mask = el("span", {
      class: "credential-mask", "data-credential": name,
      text: cred.set ? cred.masked || "set" : "not set",
    });
    form.append(el("div", { class: "credential" }, ...labelled(name, input), el("span", { class: "muted", text: "Stored: " }, mask)));
  }
  const clear = el("button", { type: "button", class: "clear-credentials secondary", text: "Clear credentials" });
  form.append(el("div", { class: "row" }, el("button", { type: "submit", text: "Save credentials" }), clear));
  onSubmit(form, () => saveCredentials(form, skill.name, names));
  on(clear, "click", async () => {
    await api("DELETE", `/api/agent/skills/credentials?skill=${encodeURIComponent(skill.name)}`);
    toast(`The credentials of ${skill.name} were cleared.`, "info");
    await loadSkills();
  });
  return form;
}

async function saveCredentials(form, skillName, names) {
  const credentials = {};
  for (const name of names) {
    const value = form.elements.namedItem(name).value;
    if (value !== "") credentials[name] = value;
  }
  if (Object.keys(credentials).length === 0) {
    toast("Enter a credential to store.");
    return;
  }
  try {
    await busy(form, () => api("PUT", "/api/agent/skills/credentials", { skill: skillName, credentials }));
  } finally {
    form.reset(); // never keep a secret in the page
  }
  toast(`The credentials of ${skillName} were saved.`, "info");
  await loadSkills();
}

// ---- Memory ----

async function loadMemories() {
  const q = $("#memory-query").value.trim();
  const path = q ? `/api/agent/memory?limit=100&q=${encodeURIComponent(q)}` : "/api/agent/memory?limit=100";
  const data = await api("GET", path);
  const memories = data.memories || [];
  rerender($("#memory-results"), memories.map(memoryItem));
  const count = memories.length === 1 ? "1 memory" : `${memories.length} memories`;
  $("#memory-summary").textContent = q ? `${count} matching “${q}”` : `${count}, newest first`;
}

function memoryItem(memory) {
  const remove = el("button", {
    type: "button", class: "delete danger", text: "Delete",
    disabled: !memory.own, title: memory.own ? null : "Only its author can delete this memory",
  });
  on(remove, "click", async () => {
    await api("DELETE", `/api/agent/memory/${memory.id}`);
    await loadMemories();
  });
  const meta = `${memory.scope === "shared" ? "Shared" : "Private"} · ${formatDate(memory.created_at)}`;
  return el("li", { class: "memory", "data-id": memory.id },
    el("div", { class: "grow" },
      el("span", { class: "memory-text", text: memory.content }),
      el("span", { class: "memory-meta muted", text: meta })),
    remove);
}

async function addMemory(form) {
  const content = $("#memory-text").value.trim();
  if (!content) return;
  const scope = $("#memory-shared").checked ? "shared" : "private";
  await busy(form, () => api("POST", "/api/agent/memory", { content, scope }));
  form.reset();
  $("#memory-query").value = "";
  await loadMemories();
}

// ---- Budget ----

async function loadBudget() {
  renderBudget(await api("GET", "/api/agent/token-budget"));
}

function renderBudget(b) {
  const percent = Math.max(0, Number(b.used_percent) || 0);
  const bar = $("#budget-bar");
  bar.max = 100;
  bar.value = Math.min(percent, 100);
  $("#budget-percent").textContent = `${percent.toFixed(2)}%`;
  $("#budget-used").textContent = b.messages_limit > 0
    ? `${integer.format(b.messages_used)} of ${integer.format(b.messages_limit)} messages`
    : `${integer.format(b.messages_used)} messages (no limit)`;
  $("#budget-cost").textContent = b.cost_limit_usd > 0
    ? `${usd.format(b.cost_usd)} of ${usd.format(b.cost_limit_usd)}`
    : `${usd.format(b.cost_usd)} (no limit)`;
  $("#budget-tokens").textContent =
    `${integer.format(b.total_tokens)} (${integer.format(b.input_tokens)} in, ${integer.format(b.output_tokens)} out, ${integer.format(b.calls)} calls)`;
  $("#budget-period").textContent = `${formatDate(b.period_end)} (billing in ${b.time_zone})`;
  const flag = $("#budget-flag");
  flag.hidden = !(b.reached || b.low);
  flag.textContent = b.reached
    ? "A limit is reached: messages are refused until the period ends."
    : `The budget is low (over ${b.step_down_percent}% used): the router steps down a tier.`;
}

async function rateMessage(form) {
  const message = $("#route-message").value;
  if (!message.trim()) return;
  const r = await busy(form, () => api("POST", "/api/agent/token-budget", { message }));
  renderRoute(r);
  if (r.budget) renderBudget(r.budget);
}

function renderRoute(r) {
  const line = (label, value) => el("span", { class: "route-line" },
    el("span", { class: "muted", text: `${label}: ` }), el("strong", { text: value }));
  const lines = r.refused
    ? [line("Refused", r.refusal || "the budget would refuse this message")]
    : [line("Model", r.model), line("Tier", r.tier)];
  lines.push(line("Complexity score", `${r.complexity_score} of 100`));
  lines.push(line("Estimated cost", usd.format(r.estimated_cost_usd || 0)));
  for (const reason of r.reasons || []) lines.push(el("span", { class: "route-line reason", text: `• ${reason}` }));
  $("#route-result").replaceChildren(...lines);
}

// ---- Automations ----

async function loadAutomations() {
  const empty = $("#automations-empty");
  let data;
  try {
    data = await api("GET", "/api/agent/automation");
  } catch (err) {
    $("#automations").replaceChildren();
    empty.textContent = err.status === 501 ? "Automations are not available on this gateway." : err.text;
    empty.hidden = false;
    throw err;
  }
  const items = data.automations || [];
  $("#automations-zone").textContent = data.time_zone || "UTC";
  rerender($("#automations"), items.map(automationItem));
  empty.textContent = "No automations yet. Create one in chat, e.g. /remind me tomorrow at 9 to call Anna.";
  empty.hidden = items.length > 0;
}

function automationItem(a) {
  const paused = a.status === "paused";
  const button = (action, label, disabled) => {
    const b = el("button", {
      type: "button", class: `${action} secondary`, text: label, disabled,
      "aria-label": `${label} automation ${a.id}`,
    });
    on(b, "click", () => automationCommand(`${action} ${a.id}`));
    return b;
  };
  const details = [
    el("span", { class: "automation-text", text: a.description || a.text }),
    el("span", { class: "automation-meta" },
      el("span", { class: "muted", text: `#${a.id} · ${a.kind} · ${paused ? "paused" : "active"} · next run: ` }),
      el("span", { class: "automation-next", text: a.next_run || "none" })),
  ];
  if (a.last_result) details.push(el("span", { class: "muted", text: `Last run: ${a.last_result}` }));
  return el("li", { class: `automation${paused ? " paused" : ""}`, "data-id": a.id, "data-status": a.status },
    el("div", { class: "grow" }, ...details),
    el("div", { class: "row" },
      button("pause", "Pause", paused),
      button("resume", "Resume", !paused),
      button("cancel", "Cancel", false)));
}

/** automationCommand runs "/status <text>" and shows its reply. */
async function automationCommand(text) {
  const reply = $("#automations-reply");
  try {
    const data = await api("POST", "/api/agent/automation", { command: "status", text });
    reply.textContent = data.reply;
    reply.hidden = !data.reply;
  } finally {
    await loadAutomations();
  }
}

// ---- Settings ----

const settingsFields = {
  aiModel: "#settings-model",
  messengerType: "#settings-messenger",
  serverTier: "#settings-tier",
  serverRegion: "#settings-region",
};

async function loadSettings() {
  const s = await api("GET", "/api/agent/settings");
  fillSettingsForm(s);
  renderSettingsState(s);
}

/** fillSettingsForm shows the settings in effect in the form. */
function fillSettingsForm(s) {
  state.settings = s;
  for (const [key, selector] of Object.entries(settingsFields)) {
    const control = $(selector);
    const value = s[key] || "";
    if (control.tagName === "SELECT" && value && ![...control.options].some((o) => o.value === value)) {
      control.append(el("option", { value, text: value }));
    }
    control.value = value;
  }
  $("#settings-api-key").value = "";
}

/** renderSettingsState shows the agent's state and polls while provisioning. */
function renderSettingsState(s) {
  const node = $("#settings-state");
  node.dataset.state = s.status;
  node.textContent = {
    provisioning: "Provisioning: the change is being applied…",
    running: "Running: the settings are in effect.",
    error: `Error: ${s.statusReason || "the last change could not be applied"}. The previous settings keep answering.`,
  }[s.status] || `State: ${s.status}`;
  $("#settings-key-state").textContent = s.aiApiKeySet
    ? "A key is stored; it is never shown. Enter a new one to replace it."
    : "No key is stored.";
  $("#settings-limits").textContent =
    `${s.maxParallel} sessions at once · ${s.messagesLimit > 0 ? `${integer.format(s.messagesLimit)} messages a month` : "no message limit"}`;
  stopSettingsPoll();
  if (s.status === "provisioning" && currentPage() === "settings" && state.user) {
    state.settingsPoll = setTimeout(guard(pollSettings), 2000);
  }
}

async function pollSettings() {
  state.settingsPoll = 0;
  const s = await api("GET", "/api/agent/settings");
  state.settings = s;
  renderSettingsState(s);
}

function stopSettingsPoll() {
  clearTimeout(state.settingsPoll);
  state.settingsPoll = 0;
}

async function saveSettings(form) {
  const change = {};
  for (const [key, selector] of Object.entries(settingsFields)) {
    const value = $(selector).value.trim();
    if (!state.settings || value !== (state.settings[key] || "")) change[key] = value;
  }
  const key = $("#settings-api-key").value;
  if (key) change.aiApiKey = key;
  if (Object.keys(change).length === 0) {
    toast("Nothing to change.", "info");
    return;
  }
  try {
    const s = await busy(form, () => api("PATCH", "/api/agent/settings", change));
    fillSettingsForm(s);
    renderSettingsState(s);
  } finally {
    $("#settings-api-key").value = "";
  }
}

// ---- Health ----

async function loadHealth() {
  const status = await api("GET", "/api/agent/status?include=health");
  const health = status.health || {};
  const channels = Object.keys(health).sort();
  $("#health-table tbody").replaceChildren(...channels.map((c) => healthRow(c, health[c] || {})));
  $("#health-empty").hidden = channels.length > 0;
  const agent = status.agent || {};
  $("#health-agent").textContent = agent.name ? `${agent.name}: ${agent.status}` : "";
}

function healthRow(channel, h) {
  return el("tr", { "data-channel": channel },
    el("th", { scope: "row", text: channel }),
    el("td", { class: h.connected ? "ok" : "bad", text: h.connected ? "yes" : "no" }),
    el("td", { text: formatDate(h.last_message_at) }),
    el("td", { class: "error-text", text: h.last_error || "—" }));
}

// ---- Wiring ----

function wire() {
  onSubmit($("#login-form"), (form) => login(form, { token: $("#login-token").value.trim() }));
  onSubmit($("#login-supabase-form"), (form) =>
    login(form, { supabase_access_token: $("#login-supabase").value.trim() }));
  on($("#logout"), "click", logout);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("#toast").textContent = ""; });
  window.addEventListener("hashchange", route);

  onSubmit($("#new-session-form"), createSession);
  onSubmit($("#composer"), () => sendMessage());
  $("#message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  $("#attach").addEventListener("change", readAttachment);
  $("#attach-clear").addEventListener("click", clearAttachment);

  onSubmit($("#memory-search-form"), () => loadMemories());
  onSubmit($("#memory-add-form"), addMemory);
  onSubmit($("#route-form"), rateMessage);
  onSubmit($("#settings-form"), saveSettings);
  on($("#health-refresh"), "click", loadHealth);
}

wire();
start();
