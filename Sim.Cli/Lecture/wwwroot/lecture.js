// The lecture page (virtsim serve): it asks the server for what can be chosen and for one operation
// explained under the chosen architectures, and draws what comes back. It keeps no state of its
// own beyond the URL's fragment, which names the view, so that each slide can be bookmarked.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// A colour for each place the cycles go, the same in every chart (distinct in grey too).
const PLACE_COLOURS = {
  "guest user": "#8fd175", "guest kernel": "#3a923a", "user": "#8fd175", "kernel": "#3a923a",
  "VM transition": "#d62728", "hypervisor": "#1f5fa8", "device model": "#ff9f1c",
  "host (world switch)": "#8c564b", "translator": "#9467bd",
};
const CATEGORY_COLOURS = {
  User: "#8fd175", Kernel: "#3a923a", PageWalk: "#17becf", MemoryStall: "#7f7f7f", Idle: "#dddddd",
  VmTransition: "#d62728", Hypervisor: "#1f5fa8", DeviceEmulation: "#ff9f1c", WorldSwitch: "#8c564b", Translation: "#9467bd",
};
const colourOf = (map, key) => map[key] || "#bcbd22";

const state = { catalog: null, view: null, tab: "step", stepArch: 0, step: 0, custom: [], running: null, walks: null, walkKind: "uncached", walkStep: null, walkQuery: null };

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
const fmt = (n) => Number(n).toLocaleString("en-US");

// ---- the URL's fragment: the whole view ----
function readFragment() {
  const f = new URLSearchParams(location.hash.slice(1));
  return {
    workload: f.get("w"), profile: f.get("p"), arch: f.get("a") ? f.get("a").split(";") : null,
    tab: f.get("v"), stepArch: Number(f.get("sa") || 0), step: Number(f.get("s") || 0), lecture: f.get("L") === "1",
    size: f.get("n"), walkKind: f.get("wk"), walkStep: f.get("ws") === null ? null : Number(f.get("ws")),
  };
}
function writeFragment() {
  const f = new URLSearchParams();
  f.set("w", $("workload").value);
  if (isRun() && $("size").value) f.set("n", $("size").value);
  f.set("p", $("profile").value);
  f.set("a", chosenArchitectures().join(";"));
  f.set("v", state.tab);
  f.set("sa", String(state.stepArch));
  f.set("s", String(state.step));
  if (state.tab === "walk") {
    f.set("wk", state.walkKind);
    if (state.walkStep !== null) f.set("ws", String(state.walkStep));
  }
  if (document.documentElement.classList.contains("lecture")) f.set("L", "1");
  history.replaceState(null, "", "#" + f.toString());
}

// ---- choosing ----
function chosenArchitectures() {
  const boxes = [...document.querySelectorAll("input[name=arch]:checked")].map((b) => b.value);
  return boxes.concat(state.custom);
}

function fillChoices(catalog, fragment) {
  const workload = $("workload");
  const groups = {};
  for (const w of catalog.workloads) {
    groups[w.group] ??= workload.appendChild(el("optgroup", { label: w.group }));
    groups[w.group].append(el("option", { value: w.name, title: w.description }, w.name));
  }
  const runs = workload.appendChild(el("optgroup", { label: "workload runs (with progress)" }));
  for (const w of catalog.runs) runs.append(el("option", { value: w.name, title: w.description, "data-size": String(w.defaultSize) }, w.name));
  for (const p of catalog.profiles) $("profile").append(el("option", { value: p.name, title: p.description }, p.name));
  workload.value = fragment.workload || catalog.defaults.workload;
  workload.addEventListener("change", showSize);
  showSize();
  if (fragment.size) $("size").value = fragment.size;
  $("profile").value = fragment.profile || catalog.defaults.profile;
  const chosen = fragment.arch || catalog.defaults.architectures;
  for (const a of catalog.architectures) {
    const box = el("input", { type: "checkbox", name: "arch", value: a });
    box.checked = chosen.includes(a);
    $("architectures").append(el("label", {}, box, a));
  }
  state.custom = chosen.filter((a) => !catalog.architectures.includes(a));
  for (const p of catalog.architectures.filter((a) => !a.includes("-"))) $("custom-preset").append(el("option", { value: p }, p));
  for (const axis of ["cpu", "mmu", "io", "hosting"]) {
    $("custom-" + axis).append(el("option", { value: "" }, "(the preset's)"));
    for (const v of catalog.axes[axis]) $("custom-" + axis).append(el("option", { value: v }, v));
  }
  drawCustom();
}

function drawCustom() {
  const list = $("custom-list");
  list.replaceChildren(...state.custom.map((a, i) => {
    const remove = el("button", { type: "button", "aria-label": "remove " + a }, "remove");
    remove.addEventListener("click", () => { state.custom.splice(i, 1); drawCustom(); });
    return el("li", {}, el("code", {}, a), " ", remove);
  }));
  if (state.custom.length) $("custom").open = true;
}

$("custom-add").addEventListener("click", () => {
  const settings = ["cpu", "mmu", "io", "hosting"].filter((a) => $("custom-" + a).value).map((a) => `${a}=${$("custom-" + a).value}`);
  const arch = $("custom-preset").value + (settings.length ? ":" + settings.join(",") : "");
  if (!state.custom.includes(arch)) state.custom.push(arch);
  drawCustom();
});

// ---- a whole workload's run, or one operation explained ----
const isRun = () => Boolean($("workload").selectedOptions[0]?.dataset.size);
function showSize() {
  const option = $("workload").selectedOptions[0];
  $("size-label").hidden = !isRun();
  $("size").max = option?.dataset.size || "";
  $("size").placeholder = option?.dataset.size ? `${option.dataset.size} (default)` : "";
  if (!isRun()) $("size").value = "";
}

// ---- running ----
function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function run() {
  if (isRun()) return startRun();
  showError("");
  const arch = chosenArchitectures();
  const query = new URLSearchParams({ workload: $("workload").value, profile: $("profile").value });
  for (const a of arch) query.append("arch", a);
  state.running?.abort();
  const controller = new AbortController();
  state.running = controller;
  $("run").disabled = true;
  $("cancel").disabled = false;
  const started = performance.now();
  const tick = setInterval(() => { $("status").textContent = `Running ${arch.length} architecture(s) ... ${((performance.now() - started) / 1000).toFixed(1)} s`; }, 200);
  $("status").textContent = `Running ${arch.length} architecture(s) ...`;
  try {
    const response = await fetch("/api/explain?" + query.toString(), { signal: controller.signal });
    const body = await response.json();
    if (!response.ok) {
      showError(body.error || `The server answered ${response.status}.`);
      $("status").textContent = "";
      return;
    }
    state.view = body;
    state.stepArch = Math.min(state.stepArch, body.architectures.length - 1);
    state.step = Math.min(state.step, body.architectures[state.stepArch].phases.length - 1);
    $("status").textContent = `Done: ${body.architectures.length} architecture(s).`; // no time here: the screenshots stay the same from run to run
    draw();
  } catch (e) {
    if (e.name === "AbortError") {
      $("status").textContent = "Cancelled.";
    } else {
      showError("The server could not be reached: " + e.message);
      $("status").textContent = "";
    }
  } finally {
    clearInterval(tick);
    if (state.running === controller) state.running = null;
    $("run").disabled = false;
    $("cancel").disabled = true;
  }
}

$("choose").addEventListener("submit", (e) => { e.preventDefault(); state.step = 0; writeFragment(); run(); });
$("cancel").addEventListener("click", () => state.running?.abort());

// A workload run is a job on the server: started, polled for its progress, and cancelled there.
async function startRun() {
  showError("");
  const arch = chosenArchitectures();
  const query = new URLSearchParams({ workload: $("workload").value, profile: $("profile").value });
  if ($("size").value) query.set("size", $("size").value);
  for (const a of arch) query.append("arch", a);
  const started = await fetch("/api/runs?" + query.toString(), { method: "POST" });
  const body = await started.json();
  if (!started.ok) {
    showError(body.error || `The server answered ${started.status}.`);
    return;
  }
  const controller = new AbortController();
  state.running?.abort();
  state.running = controller;
  controller.signal.addEventListener("abort", () => fetch("/api/runs/" + body.id, { method: "DELETE" }));
  $("run").disabled = true;
  $("cancel").disabled = false;
  try {
    for (;;) {
      const job = await (await fetch("/api/runs/" + body.id)).json();
      if (job.state === "done") {
        state.view = viewOfRun(job.result);
        $("status").textContent = `Done: ${job.of} architecture(s).`;
        draw();
        return;
      }
      if (job.state === "failed") { showError(job.error); $("status").textContent = ""; return; }
      if (job.state === "cancelled") { $("status").textContent = "Cancelled."; return; }
      $("status").textContent = job.state === "waiting" ? `Waiting for the server (${job.elapsedSeconds} s) ...`
        : `Running architecture ${job.done + 1} of ${job.of}: simulated ${fmt(job.simulatedMs)} ms, ${fmt(job.events)} events, ${job.elapsedSeconds} s ...`;
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (controller.signal.aborted) { $("status").textContent = "Cancelled."; return; }
    }
  } finally {
    if (state.running === controller) state.running = null;
    $("run").disabled = false;
    $("cancel").disabled = true;
  }
}

// A run's summaries (virtsim run --json) in the shape the views draw.
function viewOfRun(result) {
  const description = $("workload").selectedOptions[0].title;
  return {
    mode: "run", workload: result.workload, profile: result.profile, description,
    architectures: result.architectures.map((a) => ({
      name: a.name, ...a.run.architecture, totalCycles: a.run.cycles, phases: [], scenario: a.scenario, figures: a.run.figures_of_merit, size: a.run.size,
      categories: Object.entries(a.run.cycles_by_category).filter(([, c]) => c > 0).map(([category, cycles]) => ({ category, cycles })),
      exits: Object.entries(a.run.vm_exits || {}).map(([reason, x]) => ({ reason, count: x.count, cyclesEach: Math.round(x.cycles / x.count), cycles: x.cycles })),
    })),
  };
}

// ---- drawing ----
function draw() {
  const v = state.view;
  $("results").hidden = false;
  const running = v.mode === "run";
  $("described").textContent = running
    ? `A run of '${v.workload}' (${v.description}), size ${fmt(v.architectures[0].size)}, on ${v.profile}: ${v.architectures.map((a) => `${a.name} ${a.figures.map((f) => `${f.name} ${Number(f.value.toPrecision(4))} ${f.unit}`).join(", ")}`).join("; ")}.`
    : `One iteration of '${v.workload}' (${v.description}) on ${v.profile}.`;
  for (const tab of ["step", "walk"]) $("tab-" + tab).hidden = running;
  if (running && (state.tab === "step" || state.tab === "walk")) state.tab = "categories";
  drawSummary(v);
  for (const select of [$("step-arch"), $("scenario-arch")]) {
    const keep = select === $("step-arch") ? state.stepArch : Number(select.value || 0);
    select.replaceChildren(...v.architectures.map((a, i) => el("option", { value: String(i) }, a.name)));
    select.value = String(Math.min(keep, v.architectures.length - 1));
  }
  if (!running) drawStep();
  drawCategories(v);
  drawExits(v);
  drawScenario();
  state.walks = null;
  showTab(state.tab);
  writeFragment();
}

// What each hole does at ring 3 that it does not at ring 0 (Intel SDM Vol. 2; Robin and Irvine, USENIX Security 2000).
const HOLES = {
  POPF: "POPF leaves the interrupt flag as it was",
  PUSHF: "PUSHF shows the real interrupt flag, not the guest's",
  IRET: "IRET does not restore the interrupt flag",
  SGDT: "SGDT reveals the host's descriptor table", SIDT: "SIDT reveals the host's interrupt table", SMSW: "SMSW reveals the real CR0 bits",
};

// The virtualization holes an architecture's iteration met, each named once, in the order met.
const holesOf = (a) => [...new Set(a.phases.flatMap((p) => p.holes))];
const axesOf = (a) => `${a.cpu} / ${a.mmu} / ${a.io} / ${a.hosting}`;
const exitsOf = (a) => a.exits.reduce((n, x) => n + x.count, 0);
const perExit = (a) => {
  const n = exitsOf(a);
  return n ? Math.round(a.exits.reduce((s, x) => s + (x.cycles ?? x.count * x.cyclesEach), 0) / n) : null;
};

function drawSummary(v) {
  const first = v.architectures[0].totalCycles || 1;
  $("summary").querySelector("tbody").replaceChildren(...v.architectures.map((a) => el("tr", { "data-arch": a.name },
    el("th", { scope: "row" }, a.name),
    el("td", {}, axesOf(a)),
    el("td", { class: "n total" }, fmt(a.totalCycles)),
    el("td", { class: "n" }, (a.totalCycles / first).toFixed(2)),
    el("td", { class: "reason" }, a.exits.map((x) => x.reason).join("; ") || "none"),
    el("td", { class: "n exits" }, String(exitsOf(a))),
    el("td", { class: "n per-exit" }, perExit(a) === null ? "-" : fmt(perExit(a))),
    el("td", { class: holesOf(a).length ? "holes" : null }, v.mode === "run" ? "-" : holesOf(a).join(", ") || "none"))));
}

function drawStep() {
  const v = state.view;
  const arch = v.architectures[state.stepArch];
  const phase = arch.phases[state.step];
  $("step-position").textContent = `phase ${state.step + 1} of ${arch.phases.length}`;
  $("step-where").textContent = phase.where;
  $("step-event").hidden = !phase.isEvent;
  $("step-what").textContent = phase.what;
  $("step-hole").hidden = phase.holes.length === 0;
  $("step-hole").textContent = phase.holes.length === 0 ? "" :
    `A virtualization hole: ${phase.holes.join(" and ")} ran in the guest kernel, which trap-and-emulate runs at ring 3, without trapping, and did something other than at ring 0 (${phase.holes.map((h) => HOLES[h] || `${h} behaves differently at ring 3`).join("; ")}). The monitor never saw it: Popek and Goldberg's condition fails.`;
  $("step-offset").textContent = fmt(phase.offset);
  $("step-cycles").textContent = fmt(phase.cycles);
  $("step-prev").disabled = state.step === 0;
  $("step-next").disabled = state.step === arch.phases.length - 1;
  drawTimeline(v, arch, phase);
}

function drawTimeline(v, stepped, phase) {
  const width = 1100, left = 170, right = 20, row = 44, top = 10;
  const most = Math.max(...v.architectures.map((a) => a.totalCycles), 1);
  const x = (c) => left + (c / most) * (width - left - right);
  const height = top + v.architectures.length * row + 50;
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "phases on one cycle axis" });
  v.architectures.forEach((a, i) => {
    const y = top + i * row;
    svg.append(el("svg:text", { x: left - 10, y: y + row / 2 + 5, "text-anchor": "end" }, a.name));
    a.phases.forEach((p, k) => {
      const w = Math.max(x(p.offset + p.cycles) - x(p.offset), p.cycles > 0 ? 1 : 0);
      const current = a === stepped && k === state.step;
      const rect = el("svg:rect", { x: x(p.offset), y: y + 6, width: Math.max(w, current ? 3 : 0), height: row - 12,
        fill: colourOf(PLACE_COLOURS, p.where), class: current ? "current" : null, "data-phase": String(k) });
      rect.append(el("svg:title", {}, `${a.name}: ${p.where}, ${fmt(p.cycles)} cycles: ${p.what}`));
      svg.append(rect);
      if (p.holes.length) {
        const mark = el("svg:polygon", { class: "hole-mark", points: `${x(p.offset)},${y + 6} ${x(p.offset) + 9},${y - 6} ${x(p.offset) - 9},${y - 6}` });
        mark.append(el("svg:title", {}, `a virtualization hole: ${p.holes.join(", ")}`));
        svg.append(mark);
      }
    });
  });
  svg.append(el("svg:line", { class: "cursor", x1: x(phase.offset), x2: x(phase.offset), y1: top, y2: top + v.architectures.length * row }));
  const axisY = top + v.architectures.length * row + 4;
  svg.append(el("svg:line", { x1: left, x2: width - right, y1: axisY, y2: axisY, stroke: "#555" }));
  for (let t = 0; t <= 4; t++) {
    const c = Math.round((most * t) / 4);
    svg.append(el("svg:text", { x: x(c), y: axisY + 22, "text-anchor": t === 0 ? "start" : t === 4 ? "end" : "middle" }, fmt(c)));
  }
  svg.append(el("svg:text", { x: (left + width) / 2, y: axisY + 44, "text-anchor": "middle" }, "cycles"));
  const places = [...new Set(v.architectures.flatMap((a) => a.phases.map((p) => p.where)))];
  $("timeline").replaceChildren(svg, legend(places, PLACE_COLOURS));
}

function legend(keys, colours) {
  return el("p", { class: "legend" }, ...keys.map((k) => el("span", { style: "margin-right:1.2em;white-space:nowrap" },
    el("span", { style: `display:inline-block;width:0.9em;height:0.9em;background:${colourOf(colours, k)};margin-right:0.3em;vertical-align:middle` }), k)));
}

function drawCategories(v) {
  const width = 1100, left = 170, right = 120, row = 46, top = 10;
  const most = Math.max(...v.architectures.map((a) => a.totalCycles), 1);
  const x = (c) => (c / most) * (width - left - right);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${top + v.architectures.length * row + 10}`, role: "img", "aria-label": "cycles by category" });
  v.architectures.forEach((a, i) => {
    const y = top + i * row;
    svg.append(el("svg:text", { x: left - 10, y: y + row / 2 + 5, "text-anchor": "end" }, a.name));
    let at = left;
    for (const c of a.categories) {
      const rect = el("svg:rect", { x: at, y: y + 6, width: x(c.cycles), height: row - 12, fill: colourOf(CATEGORY_COLOURS, c.category), "data-category": c.category });
      rect.append(el("svg:title", {}, `${a.name}: ${c.category} ${fmt(c.cycles)} cycles`));
      svg.append(rect);
      at += x(c.cycles);
    }
    svg.append(el("svg:text", { x: at + 8, y: y + row / 2 + 5, class: "bar-total" }, fmt(a.totalCycles)));
  });
  const categories = [...new Set(v.architectures.flatMap((a) => a.categories.map((c) => c.category)))];
  $("categories-chart").replaceChildren(svg, legend(categories, CATEGORY_COLOURS));
}

function drawExits(v) {
  const rows = v.architectures.flatMap((a) => a.exits.length
    ? a.exits.map((x) => el("tr", { "data-arch": a.name }, el("th", { scope: "row" }, a.name), el("td", {}, x.reason), el("td", { class: "n" }, String(x.count)), el("td", { class: "n" }, fmt(x.cyclesEach))))
    : [el("tr", { "data-arch": a.name }, el("th", { scope: "row" }, a.name), el("td", {}, v.mode === "run" ? "no VM exit" : "no exit: the operation runs on the hardware"), el("td", { class: "n" }, "0"), el("td", { class: "n" }, "-"))]);
  $("exits-table").querySelector("tbody").replaceChildren(...rows);
}

// A link that downloads an architecture's scenario file (the view's every number comes from these).
function scenarioLink(link, v, a) {
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  link.dataset.url = URL.createObjectURL(new Blob([a.scenario], { type: "application/yaml" }));
  link.href = link.dataset.url;
  link.download = `${v.workload}-${a.name}-${v.profile}.yaml`;
  return link;
}

function drawScenario() {
  const v = state.view;
  const a = v.architectures[Number($("scenario-arch").value || 0)];
  $("scenario-yaml").textContent = a.scenario;
  scenarioLink($("scenario-download"), v, a);
  const holder = $("scenario-links").querySelector("span");
  for (const old of holder.querySelectorAll("a")) URL.revokeObjectURL(old.dataset.url);
  holder.replaceChildren(...v.architectures.flatMap((x, i) => [i ? ", " : "", scenarioLink(el("a", { class: "scenario-link", title: x.scenario }, `${x.name}.yaml`), v, x)]));
  $("explain-command").textContent = `virtsim ${v.mode === "run" ? "run" : "explain"} ${v.workload}-${a.name}-${v.profile}.yaml --json`;
}

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll("#tabs button")) {
    const on = b.dataset.view === tab;
    b.setAttribute("aria-selected", String(on));
    $("view-" + b.dataset.view).hidden = !on;
  }
  if (tab === "walk" && state.view && !state.walks) loadWalks();
}

// ---- the two-dimensional page walk ----
const GUEST_ROWS = [[3, "PML4E"], [2, "PDPTE"], [1, "PDE"], [0, "PTE"], [-1, "the page"]];
const EPT_COLUMNS = [[3, "EPT PML4E"], [2, "EPT PDPTE"], [1, "EPT PDE"], [0, "EPT PTE"], [-1, "entry"]];

async function loadWalks() {
  const query = new URLSearchParams({ profile: state.view.profile });
  for (const a of chosenArchitectures()) query.append("arch", a);
  $("walk-error").hidden = true;
  $("walk-position").textContent = "Walking ...";
  const response = await fetch("/api/walk?" + query.toString());
  const body = await response.json();
  if (!response.ok) {
    $("walk-error").textContent = body.error || `The server answered ${response.status}.`;
    $("walk-error").hidden = false;
    $("walk-position").textContent = "";
    return;
  }
  state.walks = body;
  $("walk-address").textContent = "0x" + body.address.toString(16);
  $("walk-kind").value = state.walkKind;
  drawWalks();
}

function walkLength() {
  return Math.max(0, ...state.walks.architectures.map((a) => a[state.walkKind].references.length));
}

function drawWalks() {
  if (!state.walks) return;
  const most = walkLength();
  const shown = state.walkStep === null ? most : Math.min(state.walkStep, most);
  $("walk-position").textContent = `reference ${shown} of ${most}`;
  $("walk-prev").disabled = shown === 0;
  $("walk-next").disabled = shown === most;
  $("walk-grids").replaceChildren(...state.walks.architectures.map((a) => walkGrid(a, a[state.walkKind], shown)));
}

function walkGrid(a, walk, shown) {
  const nested = a.mmu === "nested";
  const columns = nested ? EPT_COLUMNS : EPT_COLUMNS.filter(([e]) => e === -1);
  const rows = nested ? GUEST_ROWS : GUEST_ROWS.filter(([g]) => g !== -1);
  const at = new Map(walk.references.map((r) => [`${r.guest},${r.ept}`, r]));
  const table = el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "guest"), ...columns.map(([, name]) => el("th", { scope: "col" }, name)))),
    el("tbody", {}, ...rows.map(([g, name]) => el("tr", {}, el("th", { scope: "row" }, name), ...columns.map(([e]) => {
      if (g === -1 && e === -1) return el("td", { class: "none", title: "the page itself is not read by the walk" });
      const r = at.get(`${g},${e}`);
      if (r) {
        const lit = r.order <= shown;
        return el("td", { class: (lit ? "read" : "pending") + (e === -1 ? " guest" : ""), title: `reference ${r.order}: ${r.cycles} cycles at 0x${r.address.toString(16)}`, "data-order": String(r.order) }, lit ? String(r.order) : "");
      }
      const guestSkipped = g > 3 - walk.skippedGuest; // the walk started below this level
      const eptSkip = walk.skippedEpt[String(g)];
      const skipped = e === -1 ? guestSkipped : !guestSkipped && eptSkip !== undefined && e > 3 - eptSkip;
      return el("td", { class: skipped ? "skipped" : "none", title: skipped ? "held by the paging-structure caches: not read" : "" }, skipped ? "cached" : "");
    })))));
  const cycles = walk.references.reduce((s, r) => s + r.cycles, 0);
  return el("div", { class: "walk", "data-arch": a.name },
    el("h3", {}, `${a.name}: ${a.tables}`),
    el("p", {}, el("span", { class: "count" }, `${walk.references.length} reference${walk.references.length === 1 ? "" : "s"}`), `, ${fmt(cycles)} cycles`),
    table);
}

function walkBy(delta) {
  if (!state.walks) return;
  const most = walkLength();
  const current = state.walkStep === null ? most : state.walkStep;
  state.walkStep = Math.max(0, Math.min(most, current + delta));
  drawWalks();
  writeFragment();
}
$("walk-prev").addEventListener("click", () => walkBy(-1));
$("walk-next").addEventListener("click", () => walkBy(1));
$("walk-all").addEventListener("click", () => { state.walkStep = null; drawWalks(); writeFragment(); });
$("walk-kind").addEventListener("change", () => { state.walkKind = $("walk-kind").value; state.walkStep = null; drawWalks(); writeFragment(); });

function stepBy(delta) {
  if (!state.view || state.view.mode === "run") return;
  const phases = state.view.architectures[state.stepArch].phases;
  const next = Math.max(0, Math.min(phases.length - 1, state.step + delta));
  if (next !== state.step) {
    state.step = next;
    drawStep();
    writeFragment();
  }
}

for (const b of document.querySelectorAll("#tabs button")) {
  b.addEventListener("click", () => { showTab(b.dataset.view); writeFragment(); });
}
$("step-prev").addEventListener("click", () => stepBy(-1));
$("step-next").addEventListener("click", () => stepBy(1));
$("step-arch").addEventListener("change", () => { state.stepArch = Number($("step-arch").value); state.step = 0; drawStep(); writeFragment(); });
$("scenario-arch").addEventListener("change", drawScenario);
document.addEventListener("keydown", (e) => {
  if (e.target.closest("select, input, textarea")) return;
  const by = state.tab === "walk" ? walkBy : stepBy;
  if (e.key === "ArrowRight") { by(1); e.preventDefault(); }
  if (e.key === "ArrowLeft") { by(-1); e.preventDefault(); }
  if (e.key === "l" || e.key === "L") toggleLecture();
});

function toggleLecture(on) {
  const lecture = on ?? !document.documentElement.classList.contains("lecture");
  document.documentElement.classList.toggle("lecture", lecture);
  $("lecture-mode").setAttribute("aria-pressed", String(lecture));
  writeFragment();
}
$("lecture-mode").addEventListener("click", () => toggleLecture());

// ---- start: the catalog, then the fragment's view if it names one ----
(async () => {
  try {
    const response = await fetch("/api/catalog");
    state.catalog = await response.json();
  } catch (e) {
    showError("The server could not be reached: " + e.message);
    return;
  }
  const fragment = readFragment();
  fillChoices(state.catalog, fragment);
  if (fragment.tab) state.tab = fragment.tab;
  state.stepArch = fragment.stepArch;
  state.step = fragment.step;
  if (fragment.walkKind) state.walkKind = fragment.walkKind;
  state.walkStep = fragment.walkStep;
  toggleLecture(fragment.lecture);
  document.body.dataset.ready = "true";
  if (fragment.arch) run();
})();
