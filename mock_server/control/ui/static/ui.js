// The dashboard's one script: sends the pages' actions to the control API (with the session's
// CSRF token) and keeps the live panels fresh. It never builds markup from data: answers are
// shown with textContent, and live panels take HTML the server rendered (and escaped).
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const flash = document.getElementById("flash");
  const LIVE_EVERY_MS = 2000;
  const PAUSED = "paymock.ui.paused";

  function say(text, ok) {
    flash.textContent = text;
    flash.className = "flash " + (ok ? "ok" : "bad");
  }

  // A message for after the reload an action asks for.
  const pending = sessionStorage.getItem("paymock.ui.flash");
  if (pending) {
    sessionStorage.removeItem("paymock.ui.flash");
    const [ok, text] = JSON.parse(pending);
    say(text, ok);
  }

  async function send(method, path, body) {
    const init = {method, credentials: "same-origin", headers: {"X-Paymock-CSRF": csrf}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {ok: response.ok, status: response.status, data};
  }

  function put(body, name, value) {
    // "action.status" -> body.action.status
    const parts = name.split(".");
    let at = body;
    for (const part of parts.slice(0, -1)) at = at[part] = at[part] || {};
    at[parts[parts.length - 1]] = value;
  }

  function formBody(form) {
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.value === "") continue;
      const type = field.dataset.type;
      if (type === "number") put(body, field.name, Number(field.value));
      else if (type === "list") put(body, field.name, field.value.split(",").map((s) => s.trim()).filter(Boolean));
      else if (type === "merge-json") {
        const extra = JSON.parse(field.value);  // a SyntaxError is reported by the caller
        if (extra === null || typeof extra !== "object" || Array.isArray(extra)) throw new SyntaxError(field.name + " must be a JSON object");
        Object.assign(body, extra);
      } else put(body, field.name, field.value);
    }
    return body;
  }

  function describe(result, method, path) {
    if (result.ok) return method + " " + path + ": done (" + result.status + ")";
    const why = result.data && (result.data.error || result.data.message);
    return method + " " + path + " was refused (" + result.status + ")" + (why ? ": " + why : "");
  }

  function fellDue(result) {
    const box = document.getElementById("fell-due");
    if (!box) return;
    box.replaceChildren();
    const events = (result.data && result.data.fell_due) || [];
    const head = document.createElement("p");
    head.textContent = "Now " + result.data.now + ": " + (events.length ? events.length + " event(s) fell due." : "nothing fell due.");
    box.append(head);
    if (!events.length) return;
    const list = document.createElement("ol");
    for (const event of events) {
      const item = document.createElement("li");
      item.textContent = event.at + " " + event.type + " (" + event.namespace + ")";
      list.append(item);
    }
    box.append(list);
  }

  async function act(element, body) {
    const method = element.dataset.method || "POST";
    const path = element.dataset.api;
    element.setAttribute("aria-busy", "true");
    let result;
    try {
      result = await send(method, path, body);
    } catch (error) {
      say(method + " " + path + " failed: " + error.message, false);
      return;
    } finally {
      element.removeAttribute("aria-busy");
    }
    const after = element.dataset.after || "show";
    const text = describe(result, method, path);
    if (!result.ok) { say(text, false); return; }
    if (after === "reload" || after.startsWith("go:")) {
      sessionStorage.setItem("paymock.ui.flash", JSON.stringify([true, text]));
      if (after === "reload") location.reload(); else location.assign(after.slice(3));
      return;
    }
    if (after === "fell-due") { fellDue(result); refreshAll(); }
    say(after === "show" && result.data ? text + ": " + JSON.stringify(result.data) : text, true);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.api) return;
    event.preventDefault();
    let body;
    try { body = formBody(form); } catch (error) { say("Not sent: " + error.message, false); return; }
    act(form, body);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-api]");
    if (!button || button.form && button.form.dataset.api) return;
    act(button, button.dataset.body ? JSON.parse(button.dataset.body) : undefined);
  });

  // -- live panels ----------------------------------------------------------------------------
  const panels = [...document.querySelectorAll("[data-live]")];
  const pause = document.querySelector("[data-pause]");
  let paused = localStorage.getItem(PAUSED) === "1";
  let stopped = false;

  function showPaused() {
    if (!pause) return;
    pause.setAttribute("aria-pressed", paused ? "true" : "false");
    pause.textContent = paused ? "Resume live updates" : "Pause live updates";
  }

  async function refresh(panel) {
    let response;
    try {
      response = await fetch(panel.dataset.live, {credentials: "same-origin"});
    } catch (error) {
      return;  // the server may be restarting: the next round tries again
    }
    if (!response.ok) return;
    if (response.redirected || response.headers.get("X-Paymock-Fragment") !== "1") {
      // Signed out meanwhile (the server sent the sign-in page): stop, and say so.
      stopped = true;
      say("Live updates stopped: sign in again to resume them.", false);
      return;
    }
    const html = await response.text();
    if (html === panel.dataset.shown) return;
    // What the reader opened stays open; the focused control keeps its focus when it is still there.
    const open = [...panel.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key);
    const focused = panel.contains(document.activeElement) && document.activeElement.dataset.api;
    panel.innerHTML = html;
    panel.dataset.shown = html;
    for (const key of open) {
      const again = panel.querySelector('details[data-key="' + CSS.escape(key) + '"]');
      if (again) again.open = true;
    }
    if (focused) {
      const again = panel.querySelector('[data-api="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
  }

  function refreshAll() { panels.forEach(refresh); }

  if (pause) {
    showPaused();
    pause.addEventListener("click", () => {
      paused = !paused;
      localStorage.setItem(PAUSED, paused ? "1" : "0");
      showPaused();
      if (!paused) refreshAll();
    });
  }
  refreshAll();
  setInterval(() => { if (!paused && !stopped && !document.hidden) refreshAll(); }, LIVE_EVERY_MS);
})();
