// The dashboard page's script: it keeps one table row per session (keyed by id, updated in
// place), takes the state from server-sent events (falling back to polling), and ticks ages
// and idle times on its own clock between updates. No library, no other file.

const $ = (id) => document.getElementById(id);
const tokenMode = document.body.dataset.auth === "token";
const tbody = $("rows");

/** The last state received, and the server's clock minus ours. */
let state = null;
let skew = 0;
/** id → { tr, cells, parts, data, text }. */
const rows = new Map();
let sort = { key: "startedAt", dir: -1 };
let filter = "";
let failuresKey = "";
const failureTimes = [];

// Formatting

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < units.length - 1);
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

function duration(ms) {
  if (ms === null || ms === undefined || ms < 0) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function readyTime(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function clock(t) {
  return new Date(t).toLocaleString();
}

function shortId(id) {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

const now = () => Date.now() + skew;

function idleOf(s) {
  if (s.state !== "ready") return null;
  return s.connections > 0 ? 0 : Math.max(0, now() - s.lastActivityAt);
}

// Server calls

function api(path, init = {}) {
  return fetch(path, { credentials: "same-origin", cache: "no-store", ...init });
}

function toLogin() {
  if (tokenMode) location.assign("login");
}

async function errorOf(res) {
  try {
    return (await res.json()).error ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function toast(text, kind = "info") {
  const el = document.createElement("div");
  el.className = "toast";
  el.dataset.kind = kind;
  el.textContent = text;
  $("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

// The sessions table

const COLUMNS = [
  ["id", "Session"],
  ["application", "Application"],
  ["target", "Host:port"],
  ["pid", "PID"],
  ["age", "Age"],
  ["ready", "Ready in"],
  ["idle", "Idle"],
  ["connections", "Conns"],
  ["traffic", "In / out"],
  ["actions", ""],
];
const NUMERIC = new Set(["pid", "age", "ready", "idle", "connections", "traffic"]);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function makeRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.id = id;
  tr.tabIndex = 0;
  const cells = {};
  for (const [key, label] of COLUMNS) {
    const td = el("td", `c-${key}${NUMERIC.has(key) ? " num" : ""}`);
    if (label) td.dataset.label = label;
    tr.append(td);
    cells[key] = td;
  }
  const sid = el("span", "sid");
  const idText = el("span", "sid-text", shortId(id));
  idText.title = id;
  const badge = el("span", "state");
  const adopted = el("span", "tag", "adopted");
  adopted.title = "taken over from a previous launcher";
  adopted.hidden = true;
  sid.append(idText, badge, adopted);
  cells.id.append(sid);
  const stop = el("button", "btn btn-danger btn-sm", "Stop");
  stop.type = "button";
  stop.dataset.action = "stop";
  stop.setAttribute("aria-label", `Stop session ${id}`);
  cells.actions.append(stop);
  return { tr, cells, parts: { badge, adopted, stop }, data: null, text: {} };
}

/** Writes a cell's text (and title) only when it changed. */
function put(row, key, text, title) {
  if (row.text[key] === text) return;
  row.text[key] = text;
  row.cells[key].textContent = text;
  if (title !== undefined) row.cells[key].title = title;
}

/** Where a session runs: host:port, with its node for a batch job, or why it still waits. */
function targetOf(s) {
  const job = s.job;
  if (!job) return { text: `${s.host}:${s.port}` };
  if (job.phase === "queued") {
    const place = job.position ? `, #${job.position} in ${job.partition}` : "";
    return { text: `queued: ${job.reason}${place}`, title: `job ${job.id}, port ${s.port}` };
  }
  const where = s.host ? `${job.node} · ${s.host}:${s.port}` : `${job.node ?? "?"}:${s.port}`;
  const title = `job ${job.id}${job.partition ? ` in ${job.partition}` : ""}` +
    (job.phase === "ended" ? `: ${job.reason}` : "");
  return { text: where, title };
}

function updateRow(row, s) {
  row.data = s;
  const { badge, adopted, stop } = row.parts;
  const stage = s.stage ?? s.state;
  if (badge.dataset.state !== stage) {
    badge.dataset.state = stage;
    badge.textContent = stage;
    row.tr.dataset.state = stage;
  }
  adopted.hidden = !s.adopted;
  put(row, "application", s.application);
  const target = targetOf(s);
  put(row, "target", target.text, target.title ?? "");
  put(row, "pid", s.job ? `job ${s.job.id}` : s.pid === null ? "–" : String(s.pid));
  put(row, "ready", readyTime(s.readyMs));
  put(row, "connections", String(s.connections));
  put(
    row,
    "traffic",
    `${bytes(s.bytesToSession)} / ${bytes(s.bytesFromSession)}`,
    `${s.bytesToSession} bytes to the session, ${s.bytesFromSession} bytes from it`,
  );
  if (stop.dataset.busy !== "1") {
    stop.disabled = s.state !== "ready";
    const label = s.state === "stopping" ? "Stopping…" : "Stop";
    if (stop.textContent !== label && stop.dataset.armed !== "1") stop.textContent = label;
  }
  tickRow(row);
}

/** The cells that change with time alone. */
function tickRow(row) {
  const s = row.data;
  const lifetime = s.stops.lifetimeAt === null
    ? "started " + clock(s.startedAt)
    : `started ${clock(s.startedAt)}; max_lifetime stops it in ${
      duration(s.stops.lifetimeAt - now())
    }`;
  put(row, "age", duration(now() - s.startedAt), lifetime);
  const idle = idleOf(s);
  const idleTitle = s.stops.idleAt === null
    ? (s.connections > 0 ? "a client is connected" : "no idle_timeout")
    : `idle_timeout stops it in ${duration(s.stops.idleAt - now())}`;
  const idleText = idle === null ? "–" : s.connections > 0 ? "in use" : duration(idle);
  put(row, "idle", idleText, idleTitle);
}

const SORTERS = {
  id: (s) => s.id,
  application: (s) => s.application,
  target: (s) => `${s.host}:${String(s.port).padStart(5, "0")}`,
  pid: (s) => s.pid ?? Number(s.job?.id ?? -1),
  startedAt: (s) => s.startedAt,
  readyMs: (s) => s.readyMs ?? -1,
  idle: (s) => idleOf(s) ?? -1,
  connections: (s) => s.connections,
  bytes: (s) => s.bytesToSession + s.bytesFromSession,
};

function compare(a, b) {
  const key = SORTERS[sort.key];
  const x = key(a.data);
  const y = key(b.data);
  const order = x < y ? -1 : x > y ? 1 : 0;
  return order * sort.dir || (a.data.startedAt - b.data.startedAt) * -1;
}

/** Puts the rows in order, moving only those out of place. */
function order() {
  const sorted = [...rows.values()].sort(compare);
  let expected = tbody.firstChild;
  for (const row of sorted) {
    if (row.tr !== expected) tbody.insertBefore(row.tr, expected);
    else expected = expected.nextSibling;
  }
}

function matches(s) {
  if (!filter) return true;
  const job = s.job
    ? `job ${s.job.id} ${s.job.node ?? ""} ${s.job.partition ?? ""} ${s.job.reason ?? ""}`
    : "";
  const text = `${s.id} ${s.application} ${s.host}:${s.port} ${s.pid ?? ""} ${
    s.stage ?? s.state
  } ${job}`;
  return filter.split(/\s+/).every((word) => text.toLowerCase().includes(word));
}

function applyFilter() {
  let shown = 0;
  for (const row of rows.values()) {
    const visible = matches(row.data);
    if (row.tr.hidden === visible) row.tr.hidden = !visible;
    if (visible) shown++;
  }
  const total = rows.size;
  $("count").textContent = filter && total ? `${shown} of ${total}` : total ? String(total) : "";
  $("empty").hidden = total > 0;
  $("sessions").hidden = total === 0;
  $("no-match").hidden = total === 0 || shown > 0;
}

function renderSessions() {
  const seen = new Set();
  for (const s of state.sessions) {
    let row = rows.get(s.id);
    if (!row) {
      row = makeRow(s.id);
      rows.set(s.id, row);
    }
    seen.add(s.id);
    updateRow(row, s);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  order();
  applyFilter();
}

// Summary cards

function renderSummary() {
  const { sessions, capacity } = state;
  const counts = { ready: 0, queued: 0, starting: 0, stopping: 0 };
  let connections = 0;
  let toSessions = 0;
  let fromSessions = 0;
  for (const s of sessions) {
    counts[s.stage ?? s.state] = (counts[s.stage ?? s.state] ?? 0) + 1;
    connections += s.connections;
    toSessions += s.bytesToSession;
    fromSessions += s.bytesFromSession;
  }
  $("m-sessions").textContent = String(sessions.length);
  $("m-states").textContent = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`)
    .join(" · ") || "none running";
  renderCluster(sessions);
  const share = capacity.max > 0 ? capacity.used / capacity.max : 1;
  $("m-capacity").innerHTML = "";
  $("m-capacity").append(
    String(capacity.used),
    el("small", "", ` / ${capacity.max}  (${Math.round(share * 100)} %)`),
  );
  const meter = $("m-meter");
  meter.style.transform = `scaleX(${Math.min(1, share)})`;
  meter.dataset.level = share >= 1 ? "full" : share >= 0.8 ? "warn" : "ok";
  $("m-ports").textContent = String(capacity.freePorts);
  $("m-ports-sub").textContent = `of ${capacity.totalPorts} ports`;
  $("m-connections").textContent = String(connections);
  $("m-traffic").textContent = `${bytes(toSessions)} in · ${bytes(fromSessions)} out`;
  renderWarm();
}

// Warm processes: waiting to be handed out, not sessions yet

function renderWarm() {
  const warm = state.warm ?? [];
  $("warm-card").hidden = warm.length === 0;
  if (warm.length === 0) return;
  const waiting = warm.reduce((n, w) => n + w.waiting, 0);
  const target = warm.reduce((n, w) => n + w.target, 0);
  $("m-warm").innerHTML = "";
  $("m-warm").append(String(waiting), el("small", "", ` / ${target} waiting`));
  $("m-warm-sub").textContent = warm
    .map((w) =>
      `${w.application}: ${w.waiting} waiting` + (w.starting ? `, ${w.starting} starting` : "") +
      ` · ${w.hits} hits, ${w.misses} misses`
    )
    .join(" — ");
}

/** Batch jobs queued and running, per partition, and running per node. */
function renderCluster(sessions) {
  const partitions = new Map();
  const nodes = new Map();
  for (const { job } of sessions) {
    if (!job || job.phase === "ended") continue;
    const p = partitions.get(job.partition ?? "?") ?? { queued: 0, running: 0 };
    p[job.phase]++;
    partitions.set(job.partition ?? "?", p);
    if (job.phase === "running") nodes.set(job.node, (nodes.get(job.node) ?? 0) + 1);
  }
  const line = $("m-cluster");
  line.hidden = partitions.size === 0;
  line.textContent =
    [...partitions].map(([name, p]) => `${name}: ${p.running} running, ${p.queued} queued`).join(
      " · ",
    ) +
    (nodes.size ? ` — ${[...nodes].sort().map(([n, k]) => `${n} ${k}`).join(", ")}` : "");
}

// Recent failures

function renderFailures() {
  const key = JSON.stringify(state.failures);
  if (key === failuresKey) return;
  failuresKey = key;
  const list = $("failures");
  list.textContent = "";
  failureTimes.length = 0;
  for (const f of state.failures) {
    const li = el("li");
    const time = el("time", "f-time");
    time.dateTime = new Date(f.at).toISOString();
    time.title = clock(f.at);
    failureTimes.push({ node: time, at: f.at });
    const outcome = el("span", "f-outcome", f.outcome);
    outcome.dataset.outcome = f.outcome;
    li.append(
      time,
      el("span", "f-app", f.application || "(none)"),
      outcome,
      el("span", "f-error", f.error),
    );
    list.append(li);
  }
  tickFailures();
  $("no-failures").hidden = state.failures.length > 0;
  $("failures-count").textContent = state.failures.length ? String(state.failures.length) : "";
}

function tickFailures() {
  for (const { node, at } of failureTimes) {
    const text = `${duration(now() - at)} ago`;
    if (node.textContent !== text) node.textContent = text;
  }
}

// The log drawer

let openId = null;
let logTimer;
let logBusy = false;

function openLog(id) {
  openId = id;
  for (const row of rows.values()) {
    row.tr.setAttribute("aria-selected", String(row.data.id === id));
  }
  $("log").textContent = "";
  $("log-status").textContent = "Loading…";
  $("drawer").hidden = false;
  $("backdrop").hidden = false;
  renderDrawer();
  loadLog(true);
  clearInterval(logTimer);
  logTimer = setInterval(() => {
    if ($("follow").checked) loadLog(false);
  }, 2000);
  $("drawer-close").focus();
}

function closeLog() {
  const id = openId;
  openId = null;
  clearInterval(logTimer);
  $("drawer").hidden = true;
  $("backdrop").hidden = true;
  const row = rows.get(id);
  if (row) {
    row.tr.setAttribute("aria-selected", "false");
    row.tr.focus();
  }
}

function renderDrawer() {
  if (!openId) return;
  const s = rows.get(openId)?.data;
  $("drawer-title").textContent = s ? `${s.application} · ${shortId(s.id)}` : "Session log";
  const meta = $("drawer-meta");
  const stop = $("drawer-stop");
  if (!s) {
    meta.textContent = `${openId} · ended`;
    stop.disabled = true;
    stop.textContent = "Stop";
    return;
  }
  const where = targetOf(s).text;
  const process = s.job ? `job ${s.job.id}` : `pid ${s.pid ?? "–"}`;
  meta.textContent = `${s.id} · ${where} · ${process} · ${s.stage ?? s.state}`;
  if (stop.dataset.busy !== "1") {
    stop.disabled = s.state !== "ready";
    if (stop.dataset.armed !== "1") {
      stop.textContent = s.state === "stopping" ? "Stopping…" : "Stop";
    }
  }
}

async function loadLog(toEnd) {
  const id = openId;
  if (!id || logBusy) return;
  logBusy = true;
  try {
    const size = $("log-size").value;
    const res = await api(`api/sessions/${encodeURIComponent(id)}/log?bytes=${size}`);
    if (id !== openId) return;
    if (res.status === 401) return toLogin();
    if (res.status === 404) {
      $("log-status").textContent =
        "The session has ended; its log stays in the launcher's log folder.";
      return;
    }
    if (!res.ok) {
      $("log-status").textContent = await errorOf(res);
      return;
    }
    const text = await res.text();
    const pre = $("log");
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24;
    const shown = text || "(the log is empty)";
    if (pre.textContent !== shown) pre.textContent = shown;
    if (toEnd || atEnd) pre.scrollTop = pre.scrollHeight;
    const total = Number(res.headers.get("x-log-size") ?? 0);
    const cut = res.headers.get("x-log-truncated") === "true"
      ? ` · showing the last ${bytes(Number(size))}`
      : "";
    $("log-status").textContent = `${bytes(total)}${cut} · read ${new Date().toLocaleTimeString()}`;
  } catch {
    if (id === openId) $("log-status").textContent = "Cannot reach the launcher.";
  } finally {
    logBusy = false;
  }
}

// Stopping a session: a first click arms the button, a second one within 4 s stops.

async function stopClicked(button, id) {
  if (button.dataset.armed !== "1") {
    button.dataset.armed = "1";
    button.textContent = "Confirm stop";
    setTimeout(() => {
      if (button.dataset.armed !== "1") return;
      button.dataset.armed = "";
      button.textContent = "Stop";
    }, 4000);
    return;
  }
  button.dataset.armed = "";
  button.dataset.busy = "1";
  button.disabled = true;
  button.textContent = "Stopping…";
  try {
    const res = await api(`api/sessions/${encodeURIComponent(id)}/stop`, {
      method: "POST",
      headers: { "x-pvw-dashboard": "1" },
    });
    if (res.status === 401) return toLogin();
    if (res.ok) toast(`Session ${shortId(id)} stopped.`);
    else toast(`Cannot stop ${shortId(id)}: ${await errorOf(res)}`, "error");
  } catch {
    toast("Cannot reach the launcher.", "error");
  } finally {
    button.dataset.busy = "";
    button.disabled = false;
    button.textContent = "Stop";
    if (state) apply(state);
  }
}

// Receiving the state: server-sent events, else polling.

function apply(next) {
  state = next;
  skew = next.now - Date.now();
  renderSummary();
  renderSessions();
  renderFailures();
  renderDrawer();
}

function setStatus(status, text) {
  const conn = $("conn");
  conn.dataset.status = status;
  $("conn-text").textContent = text;
  if (status === "live" || status === "polling") {
    conn.title = `updated ${new Date().toLocaleTimeString()}`;
  }
}

let source = null;
let pollTimer;

function connect() {
  clearTimeout(pollTimer);
  let errors = 0;
  source = new EventSource("api/events");
  source.addEventListener("state", (event) => {
    errors = 0;
    setStatus("live", "Live");
    apply(JSON.parse(event.data));
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED || ++errors >= 3) {
      source.close();
      source = null;
      poll(0);
    } else {
      setStatus("reconnecting", "Reconnecting…");
    }
  });
}

async function poll(count) {
  try {
    const res = await api("api/state");
    if (res.status === 401) return toLogin();
    if (!res.ok) throw new Error(await errorOf(res));
    apply(await res.json());
    setStatus("polling", "Polling");
  } catch {
    setStatus("offline", "Offline");
  }
  // Every 30 s, try the event stream again.
  if (count >= 9) return connect();
  pollTimer = setTimeout(() => poll(count + 1), 3000);
}

// Wiring

tbody.addEventListener("click", (event) => {
  const tr = event.target.closest("tr[data-id]");
  if (!tr) return;
  const button = event.target.closest("button[data-action=stop]");
  if (button) {
    event.stopPropagation();
    stopClicked(button, tr.dataset.id);
  } else {
    openLog(tr.dataset.id);
  }
});

tbody.addEventListener("keydown", (event) => {
  const tr = event.target.closest("tr[data-id]");
  if (tr && event.target === tr && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    openLog(tr.dataset.id);
  }
});

document.querySelector(".sessions thead").addEventListener("click", (event) => {
  const th = event.target.closest("th[data-sort]");
  if (!th) return;
  const key = th.dataset.sort;
  sort = {
    key,
    dir: sort.key === key
      ? -sort.dir
      : key === "id" || key === "application" || key === "target"
      ? 1
      : -1,
  };
  for (const other of document.querySelectorAll(".sessions th[data-sort]")) {
    if (other === th) other.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
    else other.removeAttribute("aria-sort");
  }
  order();
});

$("filter").addEventListener("input", (event) => {
  filter = event.target.value.trim().toLowerCase();
  applyFilter();
});

$("drawer-close").addEventListener("click", closeLog);
$("backdrop").addEventListener("click", closeLog);
$("log-refresh").addEventListener("click", () => loadLog(true));
$("log-size").addEventListener("change", () => loadLog(true));
$("drawer-stop").addEventListener("click", (event) => {
  if (openId) stopClicked(event.currentTarget, openId);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && openId) closeLog();
});

setInterval(() => {
  if (!state) return;
  for (const row of rows.values()) if (!row.tr.hidden) tickRow(row);
  tickFailures();
}, 1000);

connect();
