// weir's dashboard script: weir's own, no dependencies, no build step. Pages are rendered on the
// server and work without it for reading; it adds what needs a browser:
//
// - Actions. `button[data-action]` and `form[data-api]` call weir's API with the session cookie
//   and the page's CSRF token (`<meta name=csrf-token>`): `data-method`, `data-url`, `data-body`
//   (JSON text), `data-confirm` (asked in a dialog first), `data-then` (a page to go to after,
//   `{field}` filled from the answer), `data-aws-target` (an AWS JSON operation sent to `POST /`).
//   A form's named fields become the JSON body: `data-json` fields are parsed as JSON, empty
//   fields left out, a name `a.b` nests (unless `data-path` gives the path as a JSON list). `{field}` in a form's `data-url` (and `data-then`) is
//   filled from its field of that name, which then leaves the body.
// - Editors. In a form, Ctrl+Enter (⌘+Enter) in `textarea[data-submit-keys]` submits it, and a
//   change of a `[data-submit-on-change]` control submits it too (the SQL page's chart settings).
// - Bulk actions. In a `[data-bulk]` container, checked `input[data-select]` values go into the
//   body of a `button[data-bulk-action]` under its `data-key`; `input[data-select-all]` checks
//   them all; `[data-bulk-count]` says how many are selected.
//   (Extension for APIs without a bulk operation, e.g. AWSStepFunctions.StopExecution:)
//   `button[data-bulk-action][data-bulk-each]` sends one request per selected value instead,
//   its `data-body` with `{id}` replaced by the value.
// - `textarea[data-json-text]` in a form: checked to be JSON before sending, sent as text (the
//   AWS APIs' `input` members are JSON documents in a string).
// - Live pages. `<body data-live="TOPIC …">` listens on `/ui/live` (server-sent events) and
//   `data-refresh="SECONDS"` polls; either way the page is fetched again and every
//   `[data-live-region][id]` is replaced by its new version, keeping focus and checked boxes.
// - Logs. `pre[data-log-tail=URL]` appends what the server streams; `input[data-log-search]`
//   (with `data-target` naming the `pre`) shows only the lines that contain its text.
// - Grids. `[role=grid]` cells move focus with the arrow keys; Enter or a click on a cell with
//   `data-href` opens it.
// - Times. `time[datetime]` reads as "3 min ago"; its title keeps the exact UTC time.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "-";

  // ---- talking to the API ------------------------------------------------------------------
  async function call(method, url, body, awsTarget) {
    const headers = { "X-CSRF-Token": csrf() };
    let target = url;
    if (awsTarget) {
      headers["Content-Type"] = "application/x-amz-json-1.0";
      headers["X-Amz-Target"] = awsTarget;
      target = "/";
      method = "POST";
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(target, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const text = await response.text();
    let answer = null;
    try { answer = text ? JSON.parse(text) : null; } catch (_) { answer = null; }
    if (!response.ok) {
      const message = (answer && answer.error && answer.error.message) ||
        (answer && (answer.message || answer.Message)) || text || response.statusText;
      throw new Error(`${response.status}: ${message}`);
    }
    return answer;
  }

  function toast(text, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    const message = document.createElement("div");
    message.className = bad ? "msg bad" : "msg";
    message.textContent = text;
    box.appendChild(message);
    setTimeout(() => message.remove(), bad ? 12000 : 5000);
  }

  // A modal question; resolves true when confirmed. Focus returns where it was.
  function confirmDialog(question) {
    return new Promise((resolve) => {
      const before = document.activeElement;
      const dialog = document.createElement("dialog");
      dialog.setAttribute("aria-labelledby", "confirm-text");
      const text = document.createElement("p");
      text.id = "confirm-text";
      text.textContent = question;
      const buttons = document.createElement("div");
      buttons.className = "row";
      const ok = document.createElement("button");
      ok.className = "btn primary";
      ok.textContent = "Confirm";
      ok.dataset.confirmOk = "";
      const cancel = document.createElement("button");
      cancel.className = "btn";
      cancel.textContent = "Cancel";
      buttons.append(ok, cancel);
      dialog.append(text, buttons);
      document.body.appendChild(dialog);
      const finish = (answer) => {
        dialog.close();
        dialog.remove();
        if (before && before.focus) before.focus();
        resolve(answer);
      };
      ok.addEventListener("click", () => finish(true));
      cancel.addEventListener("click", () => finish(false));
      dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(false); });
      dialog.showModal();
      ok.focus();
    });
  }

  function fill(template, answer) {
    return template.replace(/\{([\w.]+)\}/g, (_, path) => {
      let value = answer;
      for (const part of path.split(".")) value = value == null ? undefined : value[part];
      return value == null ? "" : encodeURIComponent(String(value));
    });
  }

  function parseBody(text) {
    if (!text) return undefined;
    return JSON.parse(text);
  }

  async function run(element, body) {
    const d = element.dataset;
    // `{count}` in a bulk action's question is how many are selected.
    const selection = body && d.key && Array.isArray(body[d.key]) ? body[d.key].length : "";
    if (d.confirm && !(await confirmDialog(d.confirm.replace(/\{count\}/g, selection)))) return;
    element.disabled = true;
    try {
      const answer = await call(d.method || "POST", d.url, body, d.awsTarget);
      toast(d.done || `${element.textContent.trim() || "Done"}: done`);
      if (d.then) {
        location.href = fill(d.then, answer || {});
      } else {
        refresh();
      }
      return answer;
    } catch (error) {
      toast(error.message, true);
    } finally {
      element.disabled = false;
    }
  }

  // Sends one request per id (data-bulk-each), one after another; says how many failed.
  async function runEach(element, ids) {
    const d = element.dataset;
    if (d.confirm && !(await confirmDialog(`${d.confirm} (${ids.length})`))) return;
    element.disabled = true;
    const failed = [];
    for (const id of ids) {
      try {
        const text = (d.body || "").split("{id}").join(JSON.stringify(id).slice(1, -1));
        await call(d.method || "POST", d.url, parseBody(text), d.awsTarget);
      } catch (error) {
        failed.push(`${id}: ${error.message}`);
      }
    }
    element.disabled = false;
    if (failed.length) toast(`${failed.length} of ${ids.length} failed: ${failed.join("; ")}`, true);
    else toast(`${element.textContent.trim()}: ${ids.length} done`);
    refresh();
  }

  function formBody(form) {
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.type === "submit") continue;
      if ((field.type === "checkbox" || field.type === "radio") && !field.checked) continue;
      let value = field.value;
      if (value === "") continue;
      if (field.dataset.json !== undefined) value = JSON.parse(value);
      else if (field.dataset.jsonText !== undefined) {
        try { JSON.parse(value); } catch (error) { throw new Error(`${field.name} is not JSON: ${error.message}`); }
      }
      else if (field.type === "number") value = Number(value);
      else if (field.type === "checkbox" && field.value === "on") value = true;
      const path = field.dataset.path ? JSON.parse(field.dataset.path) : field.name.split(".");
      let into = body;
      for (const part of path.slice(0, -1)) into = into[part] = into[part] || {};
      into[path[path.length - 1]] = value;
    }
    return body;
  }

  // ---- bulk selection ----------------------------------------------------------------------
  function selected(container) {
    return [...container.querySelectorAll("input[data-select]:checked")].map((box) => box.value);
  }

  function updateBulk(container) {
    const count = selected(container).length;
    for (const label of container.querySelectorAll("[data-bulk-count]")) {
      label.textContent = count === 1 ? "1 selected" : `${count} selected`;
    }
    for (const button of container.querySelectorAll("[data-bulk-action]")) {
      button.disabled = count === 0;
    }
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    const container = box.closest && box.closest("[data-bulk]");
    if (!container) return;
    if (box.matches("[data-select-all]")) {
      for (const other of container.querySelectorAll("input[data-select]")) other.checked = box.checked;
    }
    updateBulk(container);
  });

  // ---- clicks and forms --------------------------------------------------------------------
  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button, td[data-href], [data-href]");
    if (!target) return;
    if (target.matches("[data-action]")) {
      event.preventDefault();
      let body;
      try { body = parseBody(target.dataset.body); } catch (error) { toast(`bad request body: ${error.message}`, true); return; }
      await run(target, body);
    } else if (target.matches("[data-bulk-action][data-bulk-each]")) {
      // Extension: one request per selected value (`{id}` in data-body), for APIs that act on
      // one item a call.
      event.preventDefault();
      const ids = selected(target.closest("[data-bulk]"));
      if (ids.length === 0) return;
      await runEach(target, ids);
    } else if (target.matches("[data-bulk-action]")) {
      event.preventDefault();
      const container = target.closest("[data-bulk]");
      const ids = selected(container);
      if (ids.length === 0) return;
      const body = parseBody(target.dataset.body) || {};
      body[target.dataset.key || "ids"] = ids;
      const answer = await run(target, body);
      if (answer && Array.isArray(answer.results)) {
        const failed = answer.results.filter((r) => r.ok === false);
        if (failed.length) {
          toast(`${failed.length} of ${answer.results.length} failed: ${failed.map((r) => `${r.run || r.id}: ${r.error && r.error.message}`).join("; ")}`, true);
        }
      }
    } else if (target.matches("[data-sign-out]")) {
      event.preventDefault();
      try { await call("POST", "/api/v1/logout", {}); } catch (_) { /* signed out anyway */ }
      location.href = "/login";
    } else if (target.dataset.href && !event.target.closest("a, button, input, label")) {
      location.href = target.dataset.href;
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form[data-api]")) return;
    event.preventDefault();
    let body;
    try { body = formBody(form); } catch (error) { toast(`${error.message}`, true); return; }
    const submit = form.querySelector("[type=submit]") || form;
    const d = form.dataset;
    for (const key of ["method", "url", "confirm", "then", "awsTarget", "done"]) {
      if (d[key] !== undefined) submit.dataset[key] = d[key];
    }
    // Fields named in the URL go into it (encoded), not into the body.
    const named = {};
    if (d.url) {
      submit.dataset.url = d.url.replace(/\{(\w+)\}/g, (_, name) => {
        named[name] = body[name] == null ? "" : String(body[name]);
        return encodeURIComponent(named[name]);
      });
      for (const name of Object.keys(named)) delete body[name];
    }
    if (d.then) {
      submit.dataset.then = d.then.replace(/\{(\w+)\}/g, (all, name) =>
        name in named ? encodeURIComponent(named[name]) : all);
    }
    await run(submit, body);
  });

  // ---- editors -----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    const area = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!area.matches || !area.matches("textarea[data-submit-keys]") || !area.form) return;
    event.preventDefault();
    area.form.requestSubmit();
  });

  document.addEventListener("change", (event) => {
    const control = event.target;
    if (control.matches && control.matches("[data-submit-on-change]") && control.form) {
      control.form.requestSubmit();
    }
  });

  // ---- live regions ------------------------------------------------------------------------
  let refreshing = false;
  // The HTML the server last sent for each live region, by id.
  const sent = new Map();
  let poller = null;

  function stopPolling() {
    if (poller !== null) { clearInterval(poller); poller = null; }
  }

  // Where `element` sits inside `root`, as child indices, to find its like after a re-render.
  function pathWithin(root, element) {
    const path = [];
    for (let at = element; at && at !== root; at = at.parentElement) {
      path.unshift([...at.parentElement.children].indexOf(at));
    }
    return path;
  }

  function atPath(root, path) {
    let at = root;
    for (const index of path) { at = at && at.children[index]; }
    return at;
  }
  let again = false;
  let timer = null;

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(doRefresh, 150);
  }

  async function doRefresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const response = await fetch(location.href, { headers: { "X-Weir-Partial": "1" }, credentials: "same-origin" });
      if (!response.ok || response.redirected) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      // A page that no longer asks to be polled (an execution that ended) stops polling.
      if (!next.body.dataset.refresh) stopPolling();
      for (const region of document.querySelectorAll("[data-live-region][id]")) {
        const fresh = next.getElementById(region.id);
        // Compared with what the server sent last, not with the page as scripts changed it
        // (relative times, a grid cell's tooltip), so an unchanged region is left alone.
        if (!fresh || fresh.innerHTML === (sent.get(region.id) ?? region.innerHTML)) continue;
        sent.set(region.id, fresh.innerHTML);
        const checked = new Set([...region.querySelectorAll("input[data-select]:checked")].map((b) => b.value));
        const allChecked = [...region.querySelectorAll("input[data-select-all]")].map((b) => b.checked);
        const focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement : null;
        const focusPath = focused && pathWithin(region, focused);
        const opened = [...region.querySelectorAll("details")].map((d) => d.open);
        const scroll = [...region.querySelectorAll(".scroll")].map((s) => s.scrollLeft);
        region.replaceWith(fresh);
        for (const box of fresh.querySelectorAll("input[data-select]")) box.checked = checked.has(box.value);
        fresh.querySelectorAll("input[data-select-all]").forEach((b, i) => { b.checked = !!allChecked[i]; });
        fresh.querySelectorAll("details").forEach((d, i) => { if (opened[i] !== undefined) d.open = opened[i]; });
        fresh.querySelectorAll(".scroll").forEach((s, i) => { if (scroll[i]) s.scrollLeft = scroll[i]; });
        if (focusPath) {
          // The same element by id, else the one at the same place (a grid's cell).
          const match = (focused.id && document.getElementById(focused.id)) || atPath(fresh, focusPath);
          if (match && match.focus) {
            if (match.matches("[role=grid] td, [role=grid] th")) match.tabIndex = 0;
            match.focus();
          }
        }
        const bulk = fresh.closest("[data-bulk]") || fresh.querySelector("[data-bulk]");
        if (bulk) updateBulk(bulk);
        relativeTimes(fresh);
        startTails(fresh);
      }
      document.dispatchEvent(new CustomEvent("weir:refreshed"));
    } catch (_) {
      // The next change or tick tries again.
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  }

  let live = null;

  function listen() {
    const topics = document.body.dataset.live;
    if (topics && window.EventSource && !live) {
      live = new EventSource(`/ui/live?topics=${encodeURIComponent(topics)}`);
      live.addEventListener("change", refresh);
      live.addEventListener("resync", refresh);
      // A refusal (the server's listeners are all taken: 503) closes an EventSource for good:
      // try again later, and catch up on what was missed meanwhile.
      live.addEventListener("error", () => {
        if (live && live.readyState === EventSource.CLOSED) {
          live = null;
          setTimeout(() => { listen(); refresh(); }, 10000);
        }
      });
    }
    const seconds = Math.min(Number(document.body.dataset.refresh), 86400);
    if (seconds > 0 && poller === null) {
      poller = setInterval(() => { if (!document.hidden) refresh(); }, seconds * 1000);
    }
  }

  window.addEventListener("pagehide", () => {
    if (live) { live.close(); live = null; }
    stopPolling();
  });
  // A page brought back from the browser's back/forward cache listens again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { listen(); refresh(); }
  });

  // ---- logs ----------------------------------------------------------------------------------
  const LOG_KEPT = 1 << 20;
  function startTails(root) {
    for (const pre of root.querySelectorAll("pre[data-log-tail]")) {
      if (pre.dataset.tailing) continue;
      pre.dataset.tailing = "1";
      pre.raw = pre.textContent;
      const source = new EventSource(pre.dataset.logTail);
      source.addEventListener("append", (event) => {
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.raw += JSON.parse(event.data);
        // The page keeps the last MiB; the whole log is a link away.
        if (pre.raw.length > LOG_KEPT) pre.raw = pre.raw.slice(pre.raw.length - LOG_KEPT);
        showLog(pre);
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      });
      source.addEventListener("end", () => {
        source.close();
        pre.dataset.ended = "1";
        for (const note of document.querySelectorAll("[data-live-note]")) note.textContent = "(the attempt has ended)";
      });
      source.onerror = () => { if (pre.dataset.ended) source.close(); };
      window.addEventListener("pagehide", () => source.close());
    }
  }

  function showLog(pre) {
    const raw = pre.raw === undefined ? pre.textContent : pre.raw;
    pre.raw = raw;
    const search = document.querySelector(`input[data-log-search][data-target="#${CSS.escape(pre.id)}"]`);
    const needle = search ? search.value : "";
    if (!needle) { pre.textContent = raw; return; }
    const lower = needle.toLowerCase();
    const lines = raw.split("\n").filter((line) => line.toLowerCase().includes(lower));
    pre.replaceChildren();
    for (const line of lines) {
      let rest = line;
      let at;
      while ((at = rest.toLowerCase().indexOf(lower)) >= 0) {
        pre.append(rest.slice(0, at));
        const mark = document.createElement("mark");
        mark.textContent = rest.slice(at, at + needle.length);
        pre.append(mark);
        rest = rest.slice(at + needle.length);
      }
      pre.append(rest + "\n");
    }
    const count = document.querySelector(`[data-log-count][data-target="#${CSS.escape(pre.id)}"]`);
    if (count) count.textContent = `${lines.length} matching line${lines.length === 1 ? "" : "s"}`;
  }

  document.addEventListener("input", (event) => {
    const search = event.target;
    if (!search.matches("input[data-log-search]")) return;
    const pre = document.querySelector(search.dataset.target);
    if (pre) showLog(pre);
  });

  // ---- grids -----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    const cell = event.target;
    if (!cell.matches || !cell.matches("[role=grid] td, [role=grid] th")) return;
    const row = cell.parentElement;
    const rows = [...cell.closest("[role=grid]").querySelectorAll("tr")];
    const r = rows.indexOf(row);
    const c = [...row.children].indexOf(cell);
    let next = null;
    switch (event.key) {
      case "ArrowRight": next = row.children[c + 1]; break;
      case "ArrowLeft": next = row.children[c - 1]; break;
      case "ArrowDown": next = rows[r + 1] && rows[r + 1].children[c]; break;
      case "ArrowUp": next = rows[r - 1] && rows[r - 1].children[c]; break;
      case "Home": next = row.children[0]; break;
      case "End": next = row.children[row.children.length - 1]; break;
      case "Enter":
        if (cell.dataset.href) { location.href = cell.dataset.href; event.preventDefault(); }
        return;
      default: return;
    }
    if (next) {
      event.preventDefault();
      cell.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  });

  // ---- pipeline grid (dashboard/pipeline.rs) ----------------------------------------------
  // A cell holds only its state (a one-letter class, a glyph) and `data-i="MS[,TRY]"` (or
  // `data-c`, counts by state of a mapped task's instances or a group's members); its run is its
  // column header's `data-run`, its task its row's `data-task` (or `data-group`). Its tooltip,
  // accessible name and link are made when it is pointed at or focused. The one-letter classes
  // are pipeline.rs `cell_class`'s; `data-s` names a state the letter does not.
  const gridStates = {
    s: "success", f: "failed", r: "running", q: "queued", u: "up for retry", x: "upstream failed",
    k: "skipped", c: "cancelled", t: "timed out", p: "paused", n: "no instance",
  };

  function describeCell(cell) {
    if (cell.dataset.href !== undefined || cell.tagName !== "TD") return;
    const table = cell.closest("table.grid[data-cell-href]");
    const row = cell.parentElement;
    const isTask = row.dataset.task !== undefined;
    if (!table || (!isTask && row.dataset.group === undefined)) return;
    const header = table.tHead && table.tHead.rows[0] && table.tHead.rows[0].children[[...row.children].indexOf(cell)];
    const run = header && header.dataset.run;
    if (!run) return;
    const task = isTask ? decodeURIComponent(row.dataset.task) : `group ${row.dataset.group}`;
    const state = cell.dataset.s || gridStates[cell.className] || cell.className;
    const parts = [task, decodeURIComponent(run), state.replace(/_/g, " ")];
    if (isTask && !cell.dataset.c && cell.className !== "n") {
      const [ms, tries] = (cell.dataset.i || "").split(",");
      parts.push(`try ${tries || 1}`);
      if (ms !== undefined && ms !== "") {
        const n = Number(ms);
        parts.push(n < 1000 ? `${n} ms` : n < 60000 ? `${(n / 1000).toFixed(1)} s` : `${Math.floor(n / 60000)} min ${Math.round(n / 1000) % 60} s`);
      }
    }
    if (cell.dataset.c) parts.push(cell.dataset.c);
    cell.title = parts.join(" · ");
    cell.setAttribute("aria-label", cell.title);
    if (isTask && cell.className !== "n") {
      cell.dataset.href = table.dataset.cellHref.replace("{run}", run).replace("{task}", row.dataset.task);
    }
  }

  for (const type of ["mouseover", "focusin"]) {
    document.addEventListener(type, (event) => {
      if (event.target.matches && event.target.matches("table.grid td")) describeCell(event.target);
    });
  }
  // Before the click handler above reads `data-href` (a touch may bring no mouseover first).
  document.addEventListener("click", (event) => {
    const cell = event.target.closest && event.target.closest("table.grid td");
    if (cell) describeCell(cell);
  }, true);

  function scrollToNewest(root) {
    for (const box of root.querySelectorAll(".scroll[data-scroll-end]")) box.scrollLeft = box.scrollWidth;
  }
  document.addEventListener("DOMContentLoaded", () => scrollToNewest(document));

  // ---- times -----------------------------------------------------------------------------
  function relativeTimes(root) {
    const now = Date.now();
    for (const time of root.querySelectorAll("time[datetime]")) {
      const at = Date.parse(time.getAttribute("datetime"));
      if (Number.isNaN(at)) continue;
      const seconds = Math.round((now - at) / 1000);
      const ahead = seconds < 0;
      const s = Math.abs(seconds);
      const text = s < 45 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
      time.textContent = ahead ? `in ${text}` : `${text} ago`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    relativeTimes(document);
    setInterval(() => relativeTimes(document), 30000);
    for (const bulk of document.querySelectorAll("[data-bulk]")) updateBulk(bulk);
    startTails(document);
    listen();
  });

  window.weir = { call, refresh, toast };
})();
