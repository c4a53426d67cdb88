/* wengert playground — the browser page.
 *
 * The page holds no model: every number it shows comes from the wengert server (see
 * docs/playground.md, "Server API"). It creates one session on load, renders the snapshots the
 * server streams over Server-Sent Events, sends every control change as PUT config (the server
 * validates it and answers 400 {"error", "field"} for bad values, which the page shows), and
 * deletes the session when the page goes away.
 *
 * Stable element ids (tests and docs rely on them):
 *   transport   #play (aria-pressed="true" while training), #step (disabled while training),
 *               #reset
 *   read-outs   #epoch, #samples-per-s, #test-loss, #train-loss, #loss-chart (canvas)
 *   data        #datasets with one button #dataset-<name> per data set (aria-checked),
 *               #noise, #train-fraction (range, percent), #seed, #new-seed
 *   features    #feature-<name> (button, aria-pressed; "^" in the name becomes "-",
 *               e.g. #feature-x1-2 for x1^2)
 *   layers      #add-layer, #remove-layer, #layer-count; per hidden layer k (1-based)
 *               #layer-<k>-add, #layer-<k>-remove, #layer-<k>-count
 *   network     #network (neuron heat maps: .node[data-layer][data-index]), #network-edges (svg)
 *   hyper       #learning-rate, #activation, #optimizer, #regularization,
 *               #regularization-rate, #batch-size
 *   map         #boundary (canvas; click = pick the nearest data point), #show-test,
 *               #discretize, #selected-point
 *   inspector   #inspector (hidden until a point is picked), #inspector-point, #graph-panel,
 *               #graph-view, #graph-fit, #trace-panel, #trace-view (tabs #trace-tab-evaluation,
 *               #trace-tab-forward, #trace-tab-adjoint; tables in .trace-<that name>),
 *               #inspector-refresh, #inspector-close
 *   messages    #error (banner, hidden when empty) with #error-text and #error-close;
 *               .field-error[data-error-for=<config field>] next to each control;
 *               #notice (e.g. "Model reset")
 *   session     document.body.dataset.session holds the session id once created;
 *               document.body.dataset.ready = "true" once the first snapshot is drawn.
 */
"use strict";

// ---------------------------------------------------------------------------------------------
// Constants

const ORANGE = [245, 147, 34];   // class 0, negative values
const NEUTRAL = [232, 234, 235];
const BLUE = [8, 119, 189];      // class 1, positive values
const HEAT_ALPHA = 165;          // the heat map under the points is slightly transparent

const FEATURE_LABELS = {
  x1: "x1", x2: "x2", "x1^2": "x1²", "x2^2": "x2²", x1x2: "x1·x2",
  sin_x1: "sin x1", sin_x2: "sin x2",
};
const FEATURE_FUNCS = {
  x1: (x, y) => x, x2: (x, y) => y, "x1^2": (x, y) => x * x, "x2^2": (x, y) => y * y,
  x1x2: (x, y) => x * y, sin_x1: (x, y) => Math.sin(x), sin_x2: (x, y) => Math.sin(y),
};
const CHOICE_LABELS = {
  relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear", leaky_relu: "Leaky ReLU",
  elu: "ELU", sgd: "SGD", momentum: "Momentum", adam: "Adam", none: "None", l1: "L1", l2: "L2",
  circle: "Circle", xor: "XOR", gaussian: "Gaussian", spiral: "Spiral", moons: "Moons",
};
const LR_PRESETS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_PRESETS = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const NOTICE_MS = 4000;
const PICK_HINT = "Click a point on the map to see its computational graph and Wengert trace.";

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const label = (name) => CHOICE_LABELS[name] || name;
const featureLabel = (name) => FEATURE_LABELS[name] || name.replace("^2", "²");
const featureId = (name) => "feature-" + name.replace(/[^A-Za-z0-9_-]/g, "-");

function formatLoss(v) {
  if (v === null || v === undefined) return "–";
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(1);
  return v.toFixed(3);
}

function formatNumber(v) {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }
  if (Array.isArray(v)) {
    const flat = v.flat(Infinity);
    if (flat.length === 1) return formatNumber(flat[0]);
    const shown = flat.slice(0, 6).map(formatNumber).join(", ");
    return "[" + shown + (flat.length > 6 ? ", …" : "") + "]";
  }
  if (v === null || v === undefined) return "";
  return String(v);
}

/** Read a text or number input as the value to send: a number when it parses as one, else the
 * text itself, so the server (not the page) decides what is valid and says why. */
function readNumber(input) {
  const text = input.value.trim();
  const n = Number(text);
  return text === "" || Number.isNaN(n) ? text : n;
}

// Colour map: -1 (orange) … 0 (neutral) … 1 (blue), as a 256-entry lookup table.
const COLORS = (() => {
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * 2 - 1;
    const [a, b, f] = t < 0 ? [NEUTRAL, ORANGE, -t] : [NEUTRAL, BLUE, t];
    for (let c = 0; c < 3; c++) table[i * 3 + c] = a[c] + (b[c] - a[c]) * f;
  }
  return table;
})();

function colorIndex(t) {
  if (!Number.isFinite(t)) return 127;
  const c = Math.max(-1, Math.min(1, t));
  return Math.round((c + 1) * 127.5);
}

/** Paint values (already scaled to [-1, 1]) on a size x size canvas, row 0 at the top. */
function paintMap(canvas, values, size, alpha = 255) {
  if (canvas.width !== size) canvas.width = size;
  if (canvas.height !== size) canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const data = image.data;
  for (let k = 0, n = size * size; k < n; k++) {
    const i = colorIndex(values[k]) * 3;
    data[4 * k] = COLORS[i];
    data[4 * k + 1] = COLORS[i + 1];
    data[4 * k + 2] = COLORS[i + 2];
    data[4 * k + 3] = alpha;
  }
  ctx.putImageData(image, 0, 0);
}

function maxAbs(values) {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** Scale a neuron's map for colour: features to [-1, 1] by their largest size, activations as
 * they are unless they leave [-1, 1] (ReLU, ELU), outputs in [0, 1] as 2p - 1. A null (the
 * server's NaN) stays null, drawn neutral: in JavaScript null >= 0 and 2 * null - 1 is -1, which
 * would paint a diverged model as certain of class 0. */
function scaleMap(values, kind) {
  if (kind === "output") {
    let inUnit = true;
    for (const v of values) if (v !== null && !(v >= 0 && v <= 1)) { inUnit = false; break; }
    if (inUnit) return values.map((v) => v === null ? null : 2 * v - 1);
  }
  const m = maxAbs(values);
  if (kind === "feature" || m > 1) return m > 0 ? values.map((v) => v / m) : values;
  return values;
}

// Deterministic pseudo-random numbers for the little data-set icons.
function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A schematic of each data set (the real points come from the server). */
function iconPoints(name) {
  const rand = mulberry32(7);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const pts = [];
  const n = 80;
  for (let k = 0; k < n; k++) {
    const label = k < n / 2 ? 0 : 1;
    const u = label ? (k - n / 2) / (n / 2) : k / (n / 2);
    if (name === "circle") {
      const r = label ? 3.5 + 1.5 * rand() : 2.5 * rand();
      const a = 2 * Math.PI * rand();
      pts.push([r * Math.cos(a), r * Math.sin(a), label]);
    } else if (name === "xor") {
      const s = rand() < 0.5 ? -1 : 1;
      const x = s * (0.3 + 5 * rand()), y = (label ? -s : s) * (0.3 + 5 * rand());
      pts.push([x, y, label]);
    } else if (name === "gaussian") {
      const c = label ? -2 : 2;
      pts.push([c + normal(), c + normal(), label]);
    } else if (name === "spiral") {
      const a = 1.75 * 2 * Math.PI * u + Math.PI * label;
      pts.push([5 * u * Math.sin(a), 5 * u * Math.cos(a), label]);
    } else if (name === "moons") {
      const a = Math.PI * u;
      const p = label ? [1 - Math.cos(a), 0.5 - Math.sin(a)] : [Math.cos(a), Math.sin(a)];
      pts.push([2.5 * (p[0] - 0.5), 2.5 * (p[1] - 0.25), label]);
    } else {
      return [];
    }
  }
  return pts;
}

function drawIcon(canvas, name) {
  const size = canvas.width;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f4f5f6";
  ctx.fillRect(0, 0, size, size);
  for (const [x, y, lab] of iconPoints(name)) {
    ctx.fillStyle = lab ? `rgb(${BLUE})` : `rgb(${ORANGE})`;
    ctx.beginPath();
    ctx.arc((x + 6) / 12 * size, (6 - y) / 12 * size, size / 32, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// ---------------------------------------------------------------------------------------------
// Talking to the server

class ApiError extends Error {
  constructor(message, status, field) {
    super(message);
    this.status = status;
    this.field = field ?? null;
  }
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError("The playground server cannot be reached (is `wengert playground` still running?)", 0, null);
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  }
  if (!res.ok) {
    const msg = (data && data.error) || `${res.status} ${res.statusText}`;
    throw new ApiError(msg, res.status, data && data.field);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Application state

const app = {
  options: null,
  config: null,
  snapshot: null,
  session: null,
  events: null,
  queue: Promise.resolve(),  // server calls run one after another
  wantRunning: false,        // the latest state's running, or what the user just asked for
  selected: null,            // {x1, x2, label, split}
  hover: null,               // {layer, index} of the neuron whose map the big canvas shows
  layoutKey: "",
  traceTab: "evaluation",    // the trace table on show
  noticeTimer: 0,
  frame: 0,
  featureMaps: {},           // client-side maps of the inputs that are switched off
};

function enqueue(task) {
  const run = app.queue.then(task, task);
  app.queue = run.catch(() => {});
  return run;
}

async function start() {
  wireControls();
  window.addEventListener("pagehide", closeSession);
  window.addEventListener("pageshow", (e) => {  // back from the back-forward cache
    if (e.persisted && app.options && !app.session) enqueue(createSession);
  });
  try {
    app.options = await api("GET", "/api/options");
  } catch (err) {
    showError(err.message);
    return;
  }
  buildControls();
  app.config = structuredClone(app.options.defaults);
  syncControls();
  await enqueue(createSession);
}

async function createSession() {
  let data;
  try {
    data = await api("POST", "/api/sessions", { config: app.config });
  } catch (err) {
    if (err.status === 429) {
      showError(`The server is busy: ${err.message} Close another playground tab or try again later.`);
    } else {
      showError(err.message, err.field);
    }
    return false;
  }
  app.session = data.id;
  document.body.dataset.session = data.id;
  app.config = data.config;
  app.snapshot = null;  // a new session counts its state versions from 1
  syncControls();
  applySnapshot(data.state);
  openEvents();
  return true;
}

function openEvents() {
  if (app.events) app.events.close();
  const source = new EventSource(`/api/sessions/${encodeURIComponent(app.session)}/events`);
  source.addEventListener("state", (e) => {
    let snap;
    try { snap = JSON.parse(e.data); } catch { return; }
    applySnapshot(snap);
  });
  source.addEventListener("error", () => {
    // CONNECTING: the browser retries by itself. CLOSED: the server refused the stream,
    // typically because it no longer knows the session (restarted, or idle too long).
    if (source.readyState !== EventSource.CLOSED || app.events !== source) return;
    app.events = null;
    enqueue(async () => {
      if (!app.session) return;
      try {
        await api("GET", `/api/sessions/${encodeURIComponent(app.session)}`);
        openEvents();
      } catch (err) {
        if (err.status !== 404) { showError(err.message); return; }
        showNotice("The server had forgotten this page's session; started a new one.");
        await createSession();
      }
    });
  });
  app.events = source;
}

function closeSession() {
  if (app.events) { app.events.close(); app.events = null; }
  if (app.session) {
    fetch(`/api/sessions/${encodeURIComponent(app.session)}`, { method: "DELETE", keepalive: true })
      .catch(() => {});
    app.session = null;
  }
}

/** Run a session call; if the server no longer knows the session (restart, expiry), make a new
 * one with the current settings and try once more. */
async function sessionCall(method, suffix, body) {
  const path = () => `/api/sessions/${encodeURIComponent(app.session)}${suffix}`;
  if (!app.session && !(await createSession())) throw new ApiError("No session", 0, null);
  try {
    return await api(method, path(), body);
  } catch (err) {
    if (err.status !== 404) throw err;
    showNotice("The server had forgotten this page's session; started a new one.");
    if (!(await createSession())) throw err;
    return api(method, path(), body);
  }
}

/** Send part of the config. The server validates, rebuilds the model (epoch 0, paused) and
 * answers with the merged config, or 400 {"error", "field"} which is shown by the field. */
function sendConfig(partial) {
  return enqueue(async () => {
    let data;
    try {
      data = await sessionCall("PUT", "/config", { config: partial });
    } catch (err) {
      showError(err.message, err.field ?? Object.keys(partial)[0]);
      return;
    }
    clearErrors();
    const wasRunning = app.wantRunning;
    app.config = data.config;
    syncControls();
    applySnapshot(data.state);
    showNotice(wasRunning
      ? "Model reset: new settings, fresh weights, epoch 0. Training paused — press play to go on."
      : "Model reset: new settings, fresh weights, epoch 0.");
    if (app.selected && !findSelected()) closeInspector();
    refreshInspector();
  });
}

function action(name) {
  return enqueue(async () => {
    const before = app.wantRunning;
    if (name === "play") app.wantRunning = true;
    if (name === "pause" || name === "reset") app.wantRunning = false;
    let data;
    try {
      data = await sessionCall("POST", `/${name}`);
    } catch (err) {
      app.wantRunning = before;
      showError(err.message, err.field);
      return;
    }
    if (name === "reset") showNotice("Model reset: fresh weights, epoch 0.");
    if (data.config) app.config = data.config;
    applySnapshot(data.state);
    if (name === "step" || name === "reset") refreshInspector();
  });
}

// ---------------------------------------------------------------------------------------------
// Messages

function showError(message, field = null) {
  $("error-text").textContent = message;
  $("error").hidden = false;
  for (const node of document.querySelectorAll(".field-error")) {
    const mine = field && node.dataset.errorFor === field;
    node.textContent = mine ? message : "";
  }
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const input = field && document.querySelector(`[name="${CSS.escape(field)}"]`);
  if (input) input.setAttribute("aria-invalid", "true");
}

function clearErrors() {
  $("error").hidden = true;
  $("error-text").textContent = "";
  for (const node of document.querySelectorAll(".field-error")) {
    node.textContent = "";
  }
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showNotice(message) {
  const node = $("notice");
  node.textContent = message;
  node.hidden = false;
  clearTimeout(app.noticeTimer);
  app.noticeTimer = setTimeout(() => { node.hidden = true; }, NOTICE_MS);
}

// ---------------------------------------------------------------------------------------------
// Controls

function fillSelect(select, values) {
  select.replaceChildren(...values.map((v) => el("option", { value: v, text: label(v) })));
}

function buildControls() {
  const o = app.options;
  const datasets = $("datasets");
  datasets.replaceChildren(...o.datasets.map((name) => {
    const icon = el("canvas", { width: 48, height: 48, class: "dataset-icon", "aria-hidden": "true" });
    drawIcon(icon, name);
    const button = el("button", {
      id: `dataset-${name}`, type: "button", class: "dataset", role: "radio",
      "aria-checked": "false", "data-value": name, title: label(name),
    }, [icon, el("span", { text: label(name) })]);
    button.addEventListener("click", () => {
      if (app.config.dataset !== name) sendConfig({ dataset: name });
    });
    return button;
  }));
  fillSelect($("activation"), o.activations);
  fillSelect($("optimizer"), o.optimizers);
  fillSelect($("regularization"), o.regularizations);
  const lim = o.limits || {};
  const lr = lim.learning_rate || [1e-5, 10];
  $("learning-rate-presets").replaceChildren(
    ...LR_PRESETS.filter((v) => v >= lr[0] && v <= lr[1]).map((v) => el("option", { value: String(v) })));
  $("regularization-rate-presets").replaceChildren(
    ...REG_PRESETS.map((v) => el("option", { value: String(v) })));
  if (lim.batch_size) { $("batch-size").min = lim.batch_size[0]; $("batch-size").max = lim.batch_size[1]; }
  if (lim.noise) { $("noise").min = lim.noise[0]; $("noise").max = lim.noise[1]; }
  if (lim.train_fraction) {
    $("train-fraction").min = Math.round(lim.train_fraction[0] * 100);
    $("train-fraction").max = Math.round(lim.train_fraction[1] * 100);
  }
  if (lim.seed) { $("seed").min = lim.seed[0]; $("seed").max = lim.seed[1]; }
  // maps of every input feature over the grid, for the ones the model does not use
  const g = 24;
  for (const name of o.features) {
    const f = FEATURE_FUNCS[name];
    if (!f) continue;
    const vals = [];
    for (let r = 0; r < g; r++) {
      for (let c = 0; c < g; c++) vals.push(f(-6 + 12 * c / (g - 1), 6 - 12 * r / (g - 1)));
    }
    app.featureMaps[name] = { size: g, values: scaleMap(vals, "feature") };
  }
}

function wireControls() {
  $("play").addEventListener("click", () => action(app.wantRunning ? "pause" : "play"));
  $("step").addEventListener("click", () => action("step"));
  $("reset").addEventListener("click", () => action("reset"));
  $("error-close").addEventListener("click", () => { $("error").hidden = true; });

  for (const [id, field] of [["learning-rate", "learning_rate"],
    ["regularization-rate", "regularization_rate"], ["batch-size", "batch_size"], ["seed", "seed"]]) {
    $(id).addEventListener("change", (e) => sendConfig({ [field]: readNumber(e.target) }));
    $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") e.target.blur(); });
  }
  for (const [id, field] of [["activation", "activation"], ["optimizer", "optimizer"],
    ["regularization", "regularization"]]) {
    $(id).addEventListener("change", (e) => sendConfig({ [field]: e.target.value }));
  }
  $("noise").addEventListener("input", (e) => { $("noise-value").textContent = e.target.value; });
  $("noise").addEventListener("change", (e) => sendConfig({ noise: Number(e.target.value) }));
  $("train-fraction").addEventListener("input", (e) => {
    $("train-fraction-value").textContent = `${e.target.value}%`;
  });
  $("train-fraction").addEventListener("change", (e) => {
    sendConfig({ train_fraction: Number(e.target.value) / 100 });
  });
  $("new-seed").addEventListener("click", () => {
    const max = app.options?.limits?.seed?.[1] ?? 2147483647;
    sendConfig({ seed: Math.floor(Math.random() * Math.min(max, 999999)) });
  });
  $("add-layer").addEventListener("click", () => {
    const hidden = [...app.config.hidden];
    hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
    sendConfig({ hidden });
  });
  $("remove-layer").addEventListener("click", () => {
    sendConfig({ hidden: app.config.hidden.slice(0, -1) });
  });
  $("show-test").addEventListener("change", () => scheduleDraw());
  $("discretize").addEventListener("change", () => scheduleDraw());

  const board = $("boundary");
  board.addEventListener("click", (e) => pickPoint(e));
  $("inspector-close").addEventListener("click", closeInspector);
  $("inspector-refresh").addEventListener("click", () => refreshInspector());
  $("graph-fit").addEventListener("click", () => {
    const view = $("graph-view");
    const fit = !view.classList.contains("fit");
    view.classList.toggle("fit", fit);
    $("graph-fit").setAttribute("aria-pressed", String(fit));
    $("graph-fit").textContent = fit ? "Graph at actual size" : "Fit graph to panel";
  });
  document.addEventListener("keydown", (e) => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (e.key === " " && !["input", "select", "textarea", "button"].includes(tag)) {
      e.preventDefault();
      action(app.wantRunning ? "pause" : "play");
    }
  });
  // the layout key holds the network's width, so a resize redraws and, if needed, re-lays out
  new ResizeObserver(() => scheduleDraw()).observe($("network"));
}

/** Put the server's config into the controls. */
function syncControls() {
  const c = app.config;
  if (!c) return;
  for (const b of document.querySelectorAll("#datasets .dataset")) {
    b.setAttribute("aria-checked", String(b.dataset.value === c.dataset));
  }
  $("noise").value = c.noise;
  $("noise-value").textContent = String(c.noise);
  const pct = Math.round(c.train_fraction * 100);
  $("train-fraction").value = pct;
  $("train-fraction-value").textContent = `${pct}%`;
  $("seed").value = c.seed;
  $("learning-rate").value = String(c.learning_rate);
  $("activation").value = c.activation;
  $("optimizer").value = c.optimizer;
  $("regularization").value = c.regularization;
  $("regularization-rate").value = String(c.regularization_rate);
  $("batch-size").value = c.batch_size;
  const [minLayers, maxLayers] = app.options?.limits?.hidden_layers ?? [0, 6];
  $("add-layer").disabled = c.hidden.length >= maxLayers;
  $("remove-layer").disabled = c.hidden.length <= minLayers;
  $("layer-count").textContent = String(c.hidden.length);
  $("layer-count-word").textContent = c.hidden.length === 1 ? "hidden layer" : "hidden layers";
  app.layoutKey = "";
  scheduleDraw();
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/** Show a state of the session, unless a newer one is on show already: an action's answer and
 * the event stream arrive by separate connections, so an event published before a pause, a
 * reset or a new config can arrive after its answer (and the answer to "play" after the event
 * of a model that diverged at once). */
function applySnapshot(snap) {
  if (!snap || (app.snapshot && snap.version < app.snapshot.version)) return;
  app.snapshot = snap;
  const running = Boolean(snap.running);
  app.wantRunning = running;
  $("play").setAttribute("aria-pressed", String(running));
  $("play").setAttribute("aria-label", running ? "Pause" : "Play");
  $("step").disabled = running;  // the server steps only a paused session
  document.body.classList.toggle("running", running);
  $("epoch").textContent = Number(snap.epoch ?? 0).toLocaleString("en-US");
  $("samples-per-s").textContent = Math.round(snap.samples_per_s || 0).toLocaleString("en-US");
  $("test-loss").textContent = formatLoss(snap.test_loss);
  $("train-loss").textContent = formatLoss(snap.train_loss);
  scheduleDraw();
  document.body.dataset.ready = "true";
}

function scheduleDraw() {
  if (app.frame) return;
  app.frame = requestAnimationFrame(() => {
    app.frame = 0;
    drawNetwork();
    drawBoundary();
    drawLossChart();
  });
}

/** A canvas sized to its CSS box times the device pixel ratio; returns its 2-D context in CSS
 * pixels. */
function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

// The big map ---------------------------------------------------------------------------------

const MARGIN = { left: 26, bottom: 20, top: 6, right: 6 };
const offscreen = document.createElement("canvas");

function plotArea(w, h) {
  const size = Math.min(w - MARGIN.left - MARGIN.right, h - MARGIN.top - MARGIN.bottom);
  return { x: MARGIN.left, y: MARGIN.top, size };
}

function drawBoundary() {
  const canvas = $("boundary");
  const { ctx, w, h } = fitCanvas(canvas);
  ctx.clearRect(0, 0, w, h);
  const snap = app.snapshot;
  const area = plotArea(w, h);
  const grid = snap?.grid ?? { size: 0, x_range: [-6, 6], y_range: [-6, 6] };
  const [xmin, xmax] = grid.x_range;
  const [ymin, ymax] = grid.y_range;
  const toPx = (x, y) => [area.x + (x - xmin) / (xmax - xmin) * area.size,
    area.y + (ymax - y) / (ymax - ymin) * area.size];

  // heat map: the output, or the neuron under the mouse
  let values = null, size = 0;
  const hover = app.hover && neuronMap(app.hover.layer, app.hover.index);
  if (hover) {
    ({ values, size } = hover);
  } else if (snap?.boundary?.length) {
    size = grid.size;
    const disc = $("discretize").checked;
    values = snap.boundary.map((p) => p === null ? null : disc ? (p >= 0.5 ? 1 : -1) : 2 * p - 1);
  }
  ctx.fillStyle = "#f4f5f6";
  ctx.fillRect(area.x, area.y, area.size, area.size);
  if (values && size) {
    paintMap(offscreen, values, size, HEAT_ALPHA);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(offscreen, area.x, area.y, area.size, area.size);
  }

  // axes
  ctx.strokeStyle = "#c9cdd1";
  ctx.lineWidth = 1;
  ctx.strokeRect(area.x + 0.5, area.y + 0.5, area.size - 1, area.size - 1);
  ctx.fillStyle = "#6b7075";
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let v = Math.ceil(xmin); v <= xmax; v += 2) {
    const [px] = toPx(v, ymin);
    ctx.fillText(String(v), px, area.y + area.size + 4);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = Math.ceil(ymin); v <= ymax; v += 2) {
    const [, py] = toPx(xmin, v);
    ctx.fillText(String(v), area.x - 4, py);
  }

  // points
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.x, area.y, area.size, area.size);
  ctx.clip();
  const pts = snap?.points ?? { train: [], test: [] };
  const drawSet = (set, stroke) => {
    for (const [x, y, lab] of set) {
      const [px, py] = toPx(x, y);
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = lab ? `rgb(${BLUE})` : `rgb(${ORANGE})`;
      ctx.fill();
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 1;
      ctx.stroke();
    }
  };
  drawSet(pts.train, "#ffffff");
  if ($("show-test").checked) drawSet(pts.test, "#1f2328");
  if (app.selected) {
    const [px, py] = toPx(app.selected.x1, app.selected.x2);
    ctx.beginPath();
    ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  ctx.restore();
}

function pickPoint(event) {
  const snap = app.snapshot;
  if (!snap?.points) return;
  const canvas = $("boundary");
  const rect = canvas.getBoundingClientRect();
  const area = plotArea(canvas.clientWidth, canvas.clientHeight);
  const [xmin, xmax] = snap.grid.x_range;
  const [ymin, ymax] = snap.grid.y_range;
  const x = xmin + (event.clientX - rect.left - area.x) / area.size * (xmax - xmin);
  const y = ymax - (event.clientY - rect.top - area.y) / area.size * (ymax - ymin);
  let best = null, bestD = Infinity;
  const sets = [["train", snap.points.train]];
  if ($("show-test").checked) sets.push(["test", snap.points.test]);
  for (const [split, set] of sets) {
    for (const [px, py, lab] of set) {
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bestD) { bestD = d; best = { x1: px, x2: py, label: lab, split }; }
    }
  }
  if (!best) return;
  app.selected = best;
  $("selected-point").textContent =
    `Selected ${best.split} point x1 = ${formatNumber(best.x1)}, x2 = ${formatNumber(best.x2)}, ` +
    `label ${best.label} (${best.label ? "blue" : "orange"}).`;
  scheduleDraw();
  openInspector();
}

// The inspector: computational graph and Wengert trace for one point -------------------------

function openInspector() {
  const box = $("inspector");
  box.hidden = false;
  refreshInspector().then(() => box.scrollIntoView({ behavior: "smooth", block: "start" }));
}

function closeInspector() {
  $("inspector").hidden = true;
  app.selected = null;
  $("selected-point").textContent = PICK_HINT;
  scheduleDraw();
}

/** Whether the picked point is still one of the data points (updating its split): a new data
 * set, noise level, seed or split moves the points, and the panel would go on tracing a point
 * that is no longer on the map, with a label that is not its class. */
function findSelected() {
  const p = app.selected, pts = app.snapshot?.points ?? {};
  for (const split of ["train", "test"]) {
    if ((pts[split] ?? []).some(([x, y, lab]) => x === p.x1 && y === p.x2 && lab === p.label)) {
      p.split = split;
      return true;
    }
  }
  return false;
}

function refreshInspector() {
  const p = app.selected;
  if (!p || $("inspector").hidden || !app.session) return Promise.resolve();
  $("inspector-point").textContent =
    `x1 = ${formatNumber(p.x1)}, x2 = ${formatNumber(p.x2)} (label ${p.label})`;
  const q = `?x1=${encodeURIComponent(p.x1)}&x2=${encodeURIComponent(p.x2)}&label=${p.label}`;
  const graphView = $("graph-view"), traceView = $("trace-view");
  graphView.replaceChildren(el("p", { class: "muted", text: "Building the graph…" }));
  traceView.replaceChildren(el("p", { class: "muted", text: "Tracing…" }));
  const graph = enqueue(() => sessionCall("GET", `/graph${q}`)).then(showGraph, (err) => {
    graphView.replaceChildren(el("p", { class: "panel-error", text: err.message }));
  });
  const trace = enqueue(() => sessionCall("GET", `/trace${q}`)).then(showTrace, (err) => {
    traceView.replaceChildren(el("p", { class: "panel-error", text: err.message }));
  });
  return Promise.all([graph, trace]);
}

function showGraph(data) {
  const view = $("graph-view");
  if (data.svg) {
    const holder = el("div", { class: "graph-svg" });
    holder.innerHTML = data.svg.replace(/^[\s\S]*?(<svg[\s>])/i, "$1");
    const svg = holder.querySelector("svg");
    if (svg) {
      const w = parseFloat(svg.getAttribute("width")), h = parseFloat(svg.getAttribute("height"));
      if (!svg.getAttribute("viewBox") && w && h) svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    }
    view.replaceChildren(holder);
  } else {
    view.replaceChildren(
      el("p", { class: "muted", text: "Graphviz is not installed on the server, so here is the graph as DOT text (paste it into any Graphviz viewer)." }),
      el("pre", { class: "dot", text: data.dot || "" }));
  }
}

const TRACE_TITLES = {
  evaluation: ["Evaluation", "Evaluation trace: each value vᵢ of the forward pass and the expression that made it, from the inputs x1, x2 and the parameters W, b to the loss for this point's label."],
  forward: ["Forward tangents", "Forward tangent trace (forward mode): v̇ᵢ = ∂vᵢ/∂x1, carried along with the values, seeded with ẋ1 = 1."],
  adjoint: ["Adjoints", "Adjoint trace (reverse mode, backprop): v̄ᵢ = ∂loss/∂vᵢ, from the loss (seed 1) back to the inputs; the adjoints of W and b are the gradients the optimizer uses."],
};

function traceTable(rows) {
  const keys = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k);
  const order = ["name", "expr", "value"];
  keys.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  const head = el("tr", {}, keys.map((k) => el("th", { class: `col-${k}`, text: k === "expr" ? "expression" : k })));
  const body = rows.map((row) => el("tr", {}, keys.map((k) => el("td", {
    class: `col-${k}`, text: formatNumber(row[k]),
  }))));
  return el("table", { class: "trace-table" }, [el("thead", {}, [head]), el("tbody", {}, body)]);
}

function selectTraceTab(key) {
  app.traceTab = key;
  for (const tab of document.querySelectorAll("#trace-view [role=tab]")) {
    const on = tab.dataset.key === key;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  for (const section of document.querySelectorAll("#trace-view .trace-section")) {
    section.hidden = section.dataset.key !== key;
  }
}

function showTrace(data) {
  const view = $("trace-view");
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Trace tables" });
  const parts = [tabs];
  for (const key of ["evaluation", "forward", "adjoint"]) {
    const rows = data[key];
    if (!Array.isArray(rows)) continue;
    const [title, sub] = TRACE_TITLES[key];
    const tab = el("button", { id: `trace-tab-${key}`, type: "button", role: "tab", class: "tab",
      "data-key": key, "aria-controls": `trace-${key}` }, [title, el("span", { class: "count", text: String(rows.length) })]);
    tab.addEventListener("click", () => selectTraceTab(key));
    tabs.append(tab);
    parts.push(el("section", { id: `trace-${key}`, class: `trace-section trace-${key}`, role: "tabpanel", "data-key": key }, [
      el("p", { class: "trace-sub", text: sub }),
      el("div", { class: "table-scroll" }, [traceTable(rows)]),
    ]));
  }
  if (data.markdown) {
    parts.push(el("details", { class: "markdown" }, [
      el("summary", { text: "All three tables as Markdown" }),
      el("pre", { text: data.markdown }),
    ]));
  }
  view.replaceChildren(...parts);
  selectTraceTab(app.traceTab || "evaluation");
}

// The network ---------------------------------------------------------------------------------

const NODE = 36;       // neuron heat-map size in CSS pixels
const NODE_GAP = 10;
const HEAD = 44;       // room above the columns for the per-layer +/- buttons

/** The values of one neuron's map, scaled for colour, or null. layer 0 = features. */
function neuronMap(layer, index) {
  const snap = app.snapshot, cfg = app.config;
  const kind = layer === 0 ? "feature" : layer === cfg.hidden.length + 1 ? "output" : "hidden";
  const layers = snap?.neurons?.layers;
  if (layer === 0) {
    // index counts app.options.features; the server's maps cover the chosen features only
    const name = app.options.features[index];
    const k = cfg.features.indexOf(name);
    const values = k >= 0 && layers?.[0]?.[k];
    if (values?.length) return { values: scaleMap(values, "feature"), size: snap.neurons.size };
    return app.featureMaps[name] || null;
  }
  const values = layers?.[layer]?.[index];
  if (!values?.length) return null;
  return { values: scaleMap(values, kind), size: snap.neurons.size };
}

function layerSizes() {
  const cfg = app.config;
  const outputs = app.snapshot?.weights?.length
    ? app.snapshot.weights[app.snapshot.weights.length - 1].length : 1;
  return [app.options.features.length, ...cfg.hidden, outputs];
}

function buildNetwork() {
  const net = $("network");
  const cfg = app.config;
  const sizes = layerSizes();
  for (const node of [...net.children]) if (node.id !== "network-edges") node.remove();
  app.hover = null;
  const width = net.clientWidth;
  const maxNodes = Math.max(...sizes);
  const height = HEAD + maxNodes * (NODE + NODE_GAP) + 8;
  net.style.height = `${height}px`;
  const left = 58, right = width - NODE - 8;
  const columns = sizes.length;
  const xs = sizes.map((_, l) => left + (right - left) * (l / Math.max(1, columns - 1)));
  const [, maxNeurons] = app.options.limits?.neurons ?? [1, 8];
  const [minNeurons] = app.options.limits?.neurons ?? [1, 8];
  app.positions = [];

  sizes.forEach((n, l) => {
    const pos = [];
    const isFeature = l === 0, isOutput = l === columns - 1;
    const top = HEAD;
    for (let i = 0; i < n; i++) {
      const x = xs[l], y = top + i * (NODE + NODE_GAP);
      pos.push([x, y]);
      const canvas = el("canvas", { width: 24, height: 24, class: "node-map" });
      const node = el("div", {
        class: `node${isFeature ? " feature" : ""}${isOutput ? " output" : ""}`,
        "data-layer": String(l), "data-index": String(i),
      }, [canvas]);
      node.style.left = `${x}px`;
      node.style.top = `${y}px`;
      if (isFeature) {
        const name = app.options.features[i];
        const on = cfg.features.includes(name);
        const button = el("button", {
          id: featureId(name), type: "button", class: "feature-toggle",
          "aria-pressed": String(on), title: on ? `Stop using ${featureLabel(name)}` : `Use ${featureLabel(name)} as an input`,
        }, [el("span", { class: "feature-label", text: featureLabel(name) })]);
        button.addEventListener("click", () => {
          const chosen = app.options.features.filter((f) => f === name ? !on : cfg.features.includes(f));
          sendConfig({ features: chosen });
        });
        node.classList.toggle("off", !on);
        node.append(button);
        node.addEventListener("click", (e) => { if (!button.contains(e.target)) button.click(); });
      }
      node.addEventListener("mouseenter", () => { app.hover = { layer: l, index: i }; scheduleDraw(); });
      node.addEventListener("mouseleave", () => { app.hover = null; scheduleDraw(); });
      net.append(node);
    }
    app.positions.push(pos);

    // column headings
    const head = el("div", { class: "layer-head" });
    head.style.left = `${xs[l] + NODE / 2}px`;
    if (isFeature) {
      head.append(el("span", { class: "layer-title", text: "Features" }));
    } else if (isOutput) {
      head.append(el("span", { class: "layer-title", text: "Output" }));
    } else {
      const k = l;  // 1-based hidden layer number
      const plus = el("button", { id: `layer-${k}-add`, type: "button", class: "pm small-pm", text: "+",
        title: "Add a neuron", "aria-label": `Add a neuron to hidden layer ${k}` });
      const minus = el("button", { id: `layer-${k}-remove`, type: "button", class: "pm small-pm", text: "−",
        title: "Remove a neuron", "aria-label": `Remove a neuron from hidden layer ${k}` });
      plus.disabled = n >= maxNeurons;
      minus.disabled = n <= minNeurons;
      plus.addEventListener("click", () => {
        const hidden = [...app.config.hidden]; hidden[k - 1] += 1; sendConfig({ hidden });
      });
      minus.addEventListener("click", () => {
        const hidden = [...app.config.hidden]; hidden[k - 1] -= 1; sendConfig({ hidden });
      });
      head.append(el("span", { class: "pm-row" }, [plus, minus]),
        el("span", { id: `layer-${k}-count`, class: "layer-title", text: `${n} neuron${n === 1 ? "" : "s"}` }));
    }
    net.append(head);
  });

  // edges: one path per weight, coloured and sized in updateNetwork
  const svg = $("network-edges");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.replaceChildren();
  app.edges = [];
  for (let l = 1; l < columns; l++) {
    const ins = l === 1 ? cfg.features.map((f) => app.options.features.indexOf(f)) : [...Array(sizes[l - 1]).keys()];
    const layerEdges = [];
    for (let j = 0; j < sizes[l]; j++) {
      const row = [];
      ins.forEach((src, k) => {
        if (src < 0) return;
        const [x0, y0] = app.positions[l - 1][src];
        const [x1, y1] = app.positions[l][j];
        const sx = x0 + NODE, sy = y0 + NODE / 2, tx = x1, ty = y1 + NODE / 2;
        const mx = (sx + tx) / 2;
        const path = svgEl("path", { d: `M${sx},${sy} C${mx},${sy} ${mx},${ty} ${tx},${ty}`, class: "edge" });
        const title = svgEl("title");
        path.append(title);
        svg.append(path);
        row[k] = { path, title, from: l === 1 ? featureLabel(app.options.features[src]) : `h${l - 1}.${src + 1}`,
          to: l === columns - 1 ? "output" : `h${l}.${j + 1}` };
      });
      layerEdges.push(row);
    }
    app.edges.push(layerEdges);
  }
}

function drawNetwork() {
  if (!app.config || !app.options) return;
  const key = JSON.stringify([app.config.features, app.config.hidden, layerSizes(), $("network").clientWidth]);
  if (key !== app.layoutKey) {
    buildNetwork();
    app.layoutKey = key;
  }
  for (const node of $("network").querySelectorAll(".node")) {
    const map = neuronMap(Number(node.dataset.layer), Number(node.dataset.index));
    const canvas = node.querySelector("canvas");
    if (map) paintMap(canvas, map.values, map.size);
  }
  const weights = app.snapshot?.weights;
  app.edges.forEach((layerEdges, l) => {
    const w = weights?.[l];
    layerEdges.forEach((row, j) => {
      row.forEach((edge, k) => {
        if (!edge) return;
        const v = w?.[j]?.[k];
        if (v === undefined || !Number.isFinite(v)) {
          edge.path.setAttribute("stroke", "#d0d4d8");
          edge.path.setAttribute("stroke-width", "1");
          return;
        }
        edge.path.setAttribute("stroke", v >= 0 ? `rgb(${BLUE})` : `rgb(${ORANGE})`);
        const size = Math.abs(v) / (1 + Math.abs(v));  // 0..1, saturating for big weights
        edge.path.setAttribute("stroke-width", (0.3 + 4 * size).toFixed(2));
        edge.path.setAttribute("stroke-opacity", (0.3 + 0.7 * size).toFixed(2));
        edge.title.textContent = `${edge.from} → ${edge.to}: weight ${formatNumber(v)}`;
      });
    });
  });
  const biases = app.snapshot?.biases;
  for (const node of $("network").querySelectorAll(".node:not(.feature)")) {
    const l = Number(node.dataset.layer), i = Number(node.dataset.index);
    const b = biases?.[l - 1]?.[i];
    node.title = b === undefined ? "" : `bias ${formatNumber(b)} (hover: its map is shown on the right)`;
  }
}

// The loss curves -----------------------------------------------------------------------------

function drawLossChart() {
  const { ctx, w, h } = fitCanvas($("loss-chart"));
  ctx.clearRect(0, 0, w, h);
  const hist = app.snapshot?.history;
  const pad = { l: 34, r: 6, t: 6, b: 14 };
  ctx.strokeStyle = "#d6d9dc";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l + 0.5, pad.t);
  ctx.lineTo(pad.l + 0.5, h - pad.b + 0.5);
  ctx.lineTo(w - pad.r, h - pad.b + 0.5);
  ctx.stroke();
  ctx.fillStyle = "#6b7075";
  ctx.font = "10px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  if (!hist || !(hist.epoch?.length > 1)) {
    ctx.textAlign = "center";
    ctx.fillText("loss per epoch appears here while training", (w + pad.l) / 2, h / 2);
    return;
  }
  const series = [[hist.train_loss, "#9aa0a6", 1.5], [hist.test_loss, "#1f2328", 1.5]];
  let top = 0;
  for (const [ys] of series) for (const y of ys || []) if (Number.isFinite(y) && y > top) top = y;
  top = top > 0 ? top * 1.05 : 1;
  const e0 = hist.epoch[0], e1 = hist.epoch[hist.epoch.length - 1];
  const X = (e) => pad.l + (e1 > e0 ? (e - e0) / (e1 - e0) : 1) * (w - pad.l - pad.r);
  const Y = (v) => h - pad.b - Math.min(1, v / top) * (h - pad.t - pad.b);
  ctx.fillText(formatNumber(Number(top.toPrecision(2))), pad.l - 4, pad.t + 4);
  ctx.fillText("0", pad.l - 4, h - pad.b);
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillText(`epoch ${e0}`, pad.l + 2, h - 2);
  ctx.textAlign = "right";
  ctx.fillText(`${e1}`, w - pad.r, h - 2);
  for (const [ys, color, width] of series) {
    if (!ys?.length) continue;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    let started = false;
    ys.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const px = X(hist.epoch[i]), py = Y(v);
      if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
    });
    ctx.stroke();
  }
}

document.addEventListener("DOMContentLoaded", start);
