// cleanpath dashboard: the map, findings, vendor switch-off and plan chart; the other questions'
// panels (clean path, exposure, timeline, compare, funding, incentive) are in panels.js, the admin's
// import screen in import.js.
//
// Talks only to this server's /api (bearer token from sessionStorage); every library and the country
// outlines are served from /static/vendor. Text from the API is inserted as text nodes, never as HTML.
import * as maplibregl from "./vendor/maplibre-gl/maplibre-gl.mjs";
import { installImport } from "./import.js";
import { installPanels } from "./panels.js";
import { applyRegistry, formParams } from "./registry.js";
import { PointLayer, mercator, rgb } from "./points.js";
import { $, el, money, nf, num, rowsAsObjects, selected, setText, svg, ticks, today } from "./util.js";

const TOKEN_KEY = "cleanpath.token";
const COLORS = { trusted: "#2b7bba", untrusted: "#e0452c", unknown: "#9a9a9a" };
const CP_COLORS = { clean: "#1a9850", blocked: "#d73027", uncovered: "#f0a30a", unknown: "#7b6fd0" };
// highlighted sites: a clean path's witness path, its blocking sites, a shared fix, the nearest untrusted site
const HL_COLORS = { path: "#ffffff", blocking: "#d73027", nearest: "#d73027", fix: "#f0a30a" };
const FINDING_COLUMNS = ["severity", "pack", "rule_id", "element_id", "operator_id", "vendor", "deadline",
  "days_to_deadline", "message"];
// shown as columns; the message is the row's tooltip, the operator a filter
const FINDING_SHOWN = [["severity", "severity"], ["rule", "rule"], ["element_id", "element"], ["vendor", "vendor"],
  ["deadline", "deadline"], ["days_to_deadline", "days left"]];
const PAGE = 50;
const PACK_SELECTS = ["audit-policy", "plan-policy", "tl-policy", "cmp-policy"];

// Exposed for tests and the benchmark (read-only use).
const state = {
  token: sessionStorage.getItem(TOKEN_KEY), role: null, snapshot: null, mapData: null,
  audit: null, outage: null, plan: null, cleanPath: null, exposure: null, timeline: null, compare: null, funding: null,
  incentive: null, highlighted: null, tab: "findings", findingsOffset: 0, facetsLoaded: false, sitesRenderedAt: null,
  renderedSites: 0, ready: false,
};
const zoomed = (stops) => (z) => {  // linear interpolation between [zoom, value] stops
  if (z <= stops[0][0]) return stops[0][1];
  for (let i = 1; i < stops.length; i++) {
    const [z1, v1] = stops[i], [z0, v0] = stops[i - 1];
    if (z <= z1) return v0 + ((v1 - v0) * (z - z0)) / (z1 - z0);
  }
  return stops[stops.length - 1][1];
};
const sitesLayer = new PointLayer("sites", { radius: zoomed([[3, 1.3], [7, 2.5], [11, 4.5], [14, 7]]) });
const lostLayer = new PointLayer("lost", { radius: zoomed([[3, 2], [7, 3.4], [11, 6], [14, 9]]), rim: 0.3, opacity: 0.9 });
window.cleanpath = { state, renderedSiteCount: () => sitesLayer.countInView(), renderedLostCount: () => lostLayer.countInView() };

// --- the API ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { Authorization: `Bearer ${state.token}` };
  const form = body instanceof FormData; // uploads: the browser writes the multipart body and its boundary
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined || form ? body : JSON.stringify(body) });
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401) {
    showLogin(data?.message || "Please sign in.");
    throw new ApiError(401, data?.message || "unauthorized", data);
  }
  if (!res.ok) throw new ApiError(res.status, data?.message || res.statusText, data);
  const tables = Object.fromEntries((res.headers.get("X-Result-Tables") || "").split(",").filter(Boolean)
    .map((t) => { const i = t.lastIndexOf(":"); return [t.slice(0, i), Number(t.slice(i + 1))]; }));
  return { data, status: res.status, resultId: res.headers.get("X-Result-Id"), cache: res.headers.get("X-Cache"), tables };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// An uncached question runs as a job on the server (202 + job): poll it until it is final, then
// fetch its result. Polls start quick and slow down (0.25 s to 2 s) so long jobs cost few requests.
async function awaitJob(job, query) {
  let delay = 250;
  while (job.status === "queued" || job.status === "running") {
    await sleep(delay);
    delay = Math.min(2000, delay * 1.5);
    job = (await api(`/api/jobs/${job.job_id}`)).data;
  }
  if (job.status !== "done") {
    const body = job.error || { message: `the question's job ended: ${job.status}`, problems: [] };
    throw new ApiError(job.http_status || 500, body.message, body);
  }
  const r = await api(job.result, { query });
  return { ...r, resultId: job.result_id, cache: "miss" };
}

function problemText(err) {
  const first = err?.body?.problems?.[0];
  const detail = first && first.reason !== err.message ? ` (${first.column ?? ""} ${first.value ?? ""}: ${first.reason})` : "";
  return `${err.message}${detail}`;
}

const canRun = () => state.role === "analyst" || state.role === "admin";

// A question's result: run it (analyst, admin) or take the newest matching one already run (viewer).
async function question(name, params, match = () => true) {
  if (canRun()) {
    // wait a little on the server first: quick questions then come back in one round trip
    let r = await api(`/api/questions/${name}`, { method: "POST", body: params, query: { tables: "none", wait: 2 } });
    if (r.status === 202) r = await awaitJob(r.data, { tables: "none" });
    return { id: r.resultId, result: r.data, cache: r.cache, tables: r.tables };
  }
  const list = (await api("/api/results", { query: { snapshot: params.snapshot, question: name } })).data.results;
  const hit = list.find(match);
  if (!hit) return null;
  const r = await api(`/api/results/${hit.result_id}`, { query: { tables: "none" } });
  return { id: hit.result_id, result: r.data, cache: "hit", tables: r.tables };
}

async function table(id, name, query = {}) {
  return (await api(`/api/results/${id}/tables/${name}`, { query })).data;
}

// Where elements are (their site's position), by id: for highlighting them on the map.
async function places(ids) {
  const d = (await api(`/api/snapshots/${encodeURIComponent(state.snapshot)}/map`, { query: { elements: ids.join(",") } })).data.elements;
  return new Map(d.element_id.map((id, i) => [id, { site_id: d.site_id[i], vendor: d.vendor[i], role: d.role[i], lon: d.lon[i], lat: d.lat[i] }]));
}

// --- sign-in ---------------------------------------------------------------------------------------

function showLogin(message) {
  const dlg = $("login");
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  if (!dlg.open) dlg.showModal();
  $("login-token").focus();
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  state.token = $("login-token").value.trim();
  try {
    await start();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $("login").close();
  } catch (err) {
    if (err.status !== 401) { $("login-error").hidden = false; $("login-error").textContent = problemText(err); }
  }
});

$("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  location.reload();
});

// --- the map ----------------------------------------------------------------------------------------

// Two workers: the country outlines and the sites are tiled in parallel rather than one after the other.
maplibregl.setWorkerCount(Math.max(2, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2))));
const map = new maplibregl.Map({
  container: "map",
  style: { version: 8, sources: {}, layers: [{ id: "sea", type: "background", paint: { "background-color": "#d9e7f2" } }] },
  center: [10.4, 51.1], zoom: 4.6, attributionControl: false, fadeDuration: 0,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
map.addControl(new maplibregl.AttributionControl({ compact: true,
  customAttribution: "Country outlines: Natural Earth (public domain) · MapLibre GL JS" }));
window.cleanpath.map = map;
const mapLoaded = new Promise((resolve) => map.on("load", resolve));
mapLoaded.then(() => performance.mark("cleanpath:map-style-loaded"));
performance.mark("cleanpath:module-start");

let countriesAdded = false;
function countriesOnce() {
  if (countriesAdded) return;
  countriesAdded = true;
  addCountries().catch((err) => console.error("country outlines:", err));
}

async function addCountries() {
  // URLs, not data: MapLibre's worker fetches and parses the outlines off the main thread
  await mapLoaded;
  map.addSource("land", { type: "geojson", data: "/static/vendor/world-atlas/countries-50m.geojson", maxzoom: 8 });
  map.addSource("borders", { type: "geojson", data: "/static/vendor/world-atlas/borders-50m.geojson", maxzoom: 8 });
  map.addLayer({ id: "land", type: "fill", source: "land", paint: { "fill-color": "#fbfaf5" } }, firstDataLayer());
  map.addLayer({ id: "borders", type: "line", source: "borders", paint: { "line-color": "#a4a4a4", "line-width": 0.7 } },
    firstDataLayer());
}

function firstDataLayer() {
  return ["sensitive-fill", "sites"].find((id) => map.getLayer(id));
}

// Sites as colours per point for the WebGL layer: four bytes each, from the status codes.
function siteColours(status) {
  const table = [COLORS.trusted, COLORS.untrusted, COLORS.unknown].map(rgb);
  const out = new Uint8Array(4 * status.length);
  for (let i = 0; i < status.length; i++) {
    const c = table[status[i]] || table[2];
    out.set(c, 4 * i);
    out[4 * i + 3] = 255;
  }
  return out;
}

function solid(n, hex) {
  const c = rgb(hex), out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) { out.set(c, 4 * i); out[4 * i + 3] = 255; }
  return out;
}

function circleRing(lon, lat, radius) {
  const R = 6371008.8, d = radius / R, la = (lat * Math.PI) / 180, lo = (lon * Math.PI) / 180, pts = [];
  for (let i = 0; i <= 64; i++) {
    const b = (2 * Math.PI * i) / 64;
    const la2 = Math.asin(Math.sin(la) * Math.cos(d) + Math.cos(la) * Math.sin(d) * Math.cos(b));
    const lo2 = lo + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(la), Math.cos(d) - Math.sin(la) * Math.sin(la2));
    pts.push([(lo2 * 180) / Math.PI, (la2 * 180) / Math.PI]);
  }
  return pts;
}

function sensitiveGeoJSON(list, status) {
  const areas = [], points = [];
  for (const s of list) {
    const st = status?.get(s.id)?.status || "unknown";
    const props = { id: s.id, name: s.name || s.id, kind: s.kind, st };
    if (s.geometry) areas.push({ type: "Feature", geometry: s.geometry.geometry || s.geometry, properties: props });
    else if (s.lat !== null && s.radius_m) {
      areas.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [circleRing(s.lon, s.lat, s.radius_m)] }, properties: props });
    }
    if (s.lat !== null && s.lon !== null) points.push({ type: "Feature", geometry: { type: "Point", coordinates: [s.lon, s.lat] }, properties: props });
  }
  return { areas: { type: "FeatureCollection", features: areas }, points: { type: "FeatureCollection", features: points } };
}

const statusColor = ["match", ["get", "st"], "clean", CP_COLORS.clean, "blocked", CP_COLORS.blocked,
  "uncovered", CP_COLORS.uncovered, CP_COLORS.unknown];

function addDataLayers(sensitive) {
  map.addSource("sensitive-areas", { type: "geojson", data: sensitive.areas });
  map.addSource("sensitive-points", { type: "geojson", data: sensitive.points });
  map.addLayer({ id: "sensitive-fill", type: "fill", source: "sensitive-areas",
    paint: { "fill-color": statusColor, "fill-opacity": 0.16 } });
  map.addLayer(sitesLayer);
  map.addLayer(lostLayer);
  map.addLayer({ id: "sensitive-line", type: "line", source: "sensitive-areas",
    paint: { "line-color": statusColor, "line-width": 1.8 } });
  map.addSource("highlight", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  // a white casing keeps the line readable over tens of thousands of sites
  map.addLayer({ id: "hl-casing", type: "line", source: "highlight", filter: ["==", ["geometry-type"], "LineString"],
    paint: { "line-color": "#ffffff", "line-width": ["match", ["get", "kind"], "ring", 3.5, 5], "line-opacity": 0.85 } });
  map.addLayer({ id: "hl-line", type: "line", source: "highlight", filter: ["==", ["geometry-type"], "LineString"],
    paint: { "line-color": "#3b2a6b", "line-width": ["match", ["get", "kind"], "ring", 1.5, 2.5], "line-dasharray": [2, 1.2] } });
  map.addLayer({ id: "hl-points", type: "circle", source: "highlight", filter: ["==", ["geometry-type"], "Point"], paint: {
    "circle-radius": 7.5, "circle-color": ["match", ["get", "kind"], "blocking", HL_COLORS.blocking, "nearest", HL_COLORS.nearest,
      "fix", HL_COLORS.fix, HL_COLORS.path],
    "circle-stroke-color": "#3b2a6b", "circle-stroke-width": 2.5 } });
  map.addLayer({ id: "sensitive-points", type: "circle", source: "sensitive-points", paint: {
    "circle-radius": 5.5, "circle-color": statusColor, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
  map.on("click", (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: ["sensitive-points"] });
    if (hit.length) return sensitivePopup(hit[0]);
    const hl = map.queryRenderedFeatures(e.point, { layers: ["hl-points"] });
    if (hl.length) return highlightPopup(hl[0]);
    const i = sitesLayer.pick(e.point);
    if (i >= 0) sitePopup(i);
  });
  map.on("mouseenter", "sensitive-points", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "sensitive-points", () => { map.getCanvas().style.cursor = ""; });
}

function highlightPopup(feature) {
  const p = feature.properties;
  const title = { blocking: "Blocking site", nearest: "Nearest untrusted site", fix: "Site of the shared fix",
    path: "Site on the path" }[p.kind] || "Site";
  new maplibregl.Popup().setLngLat(feature.geometry.coordinates)
    .setDOMContent(el("div", {}, el("h3", {}, `${title}: ${p.site}`), p.elements ? el("div", { class: "muted" }, p.elements) : null)).addTo(map);
}

function sitePopup(i) {
  const d = state.mapData, s = d.sites;
  const status = d.status[s.status[i]];
  const body = el("div", {}, el("h3", {}, status === "untrusted" ? "Untrusted vendor present" : `Site: ${status}`),
    el("div", {}, `vendor: ${d.vendors[s.vendor[i]] ?? "none"}`), el("div", {}, `operator: ${d.operators[s.operator[i]] ?? ""}`),
    el("div", {}, `kind: ${d.kinds[s.kind[i]] ?? ""}`));
  new maplibregl.Popup({ closeButton: true }).setLngLat([s.lon[i], s.lat[i]]).setDOMContent(body).addTo(map);
}

function sensitivePopup(feature) {
  const p = feature.properties;
  const info = state.cleanPath?.byId?.get(p.id);
  const body = el("div", {}, el("h3", {}, p.name), el("div", {}, `${p.kind} · ${p.id}`),
    el("div", {}, "clean path: ", el("span", { class: `badge ${p.st}` }, labelFor(p.st))),
    ...(info?.rows || []).map((r) => el("div", { class: "muted" }, `${r.operator_id}: ${r.reason}`)));
  new maplibregl.Popup().setLngLat(feature.geometry.coordinates).setDOMContent(body).addTo(map);
}

function labelFor(st) {
  return { clean: "clean", blocked: "no clean path", uncovered: "no coverage", unknown: "not checked" }[st] || st;
}

async function showSites(d) {
  await mapLoaded;
  const xy = mercator(d.sites.lon, d.sites.lat), colours = siteColours(d.sites.status);
  performance.mark("cleanpath:points-built");
  const sens = sensitiveGeoJSON(d.sensitive, state.cleanPath?.byId);
  if (d.bounds) {
    const [w, s, e, n] = d.bounds;
    map.fitBounds([[w, s], [e, n]], { padding: 40, animate: false, maxZoom: 10 });
  }
  if (!map.getLayer("sites")) addDataLayers(sens);
  else {
    map.getSource("sensitive-areas").setData(sens.areas);
    map.getSource("sensitive-points").setData(sens.points);
  }
  lostLayer.setData(new Float32Array(0), new Uint8Array(0));
  sitesLayer.setOpacity(0.85);
  await sitesLayer.setData(xy, colours);
  performance.mark("cleanpath:sites-rendered");
  state.sitesRenderedAt = performance.now();
  state.renderedSites = sitesLayer.countInView();
  countriesOnce();
  const untrusted = d.sites.status.reduce((a, s) => a + (s === 1), 0);
  setText("map-status", `${nf.format(d.sites.count)} sites, ${nf.format(untrusted)} with untrusted vendors; `
    + `${d.sensitive.length} sensitive sites` + (d.sites_without_position ? `; ${d.sites_without_position} without position` : ""));
}

function updateSensitive() {
  if (!state.mapData || !map.getSource("sensitive-areas")) return;
  const sens = sensitiveGeoJSON(state.mapData.sensitive, state.cleanPath?.byId);
  map.getSource("sensitive-areas").setData(sens.areas);
  map.getSource("sensitive-points").setData(sens.points);
}

// --- snapshots -------------------------------------------------------------------------------------------

async function start() {
  const who = (await api("/api/whoami")).data; // first: a bad token stops here with one 401
  performance.mark("cleanpath:signed-in");
  state.role = who.role;
  setText("who", `${who.name || who.token_id} · ${who.role}`);
  $("signout").hidden = false;
  for (const b of document.querySelectorAll(".needs-analyst")) {
    b.disabled = !canRun();
    b.title = canRun() ? "" : "Needs the analyst role: showing results others have run";
  }
  $("tab-btn-import").hidden = state.role !== "admin"; // only admins import (the server refuses others too)
  const snaps = await refreshSnapshots();
  const sel = $("snapshot");
  if (!snaps.length) {
    setText("map-status", state.role === "admin" ? "The workspace has no snapshots: import one (Import tab)."
      : "The workspace has no snapshots: an administrator can import one.");
    if (state.role === "admin") $("tab-btn-import").click();
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get("snapshot");
  sel.value = snaps.some((s) => s.name === wanted) ? wanted : snaps[0].name;
  state.policies = loadPolicies(); // in parallel with the map; the questions wait for it
  await loadSnapshot(sel.value);
}

$("snapshot").addEventListener("change", (e) => loadSnapshot(e.target.value));

// The snapshot list, read again (after an import); the picker keeps its choice.
async function refreshSnapshots() {
  const snaps = (await api("/api/snapshots")).data.tables.snapshots;
  state.snapshots = snaps;
  const sel = $("snapshot"), was = sel.value;
  sel.replaceChildren(...snaps.map((s) => el("option", { value: s.name }, s.name)));
  if (snaps.some((s) => s.name === was)) sel.value = was;
  return snaps;
}

// After an import: the new snapshot joins the picker; a snapshot already on the map is shown anew.
async function afterImport(name) {
  await refreshSnapshots();
  if (name === state.snapshot || !state.snapshot) await openSnapshot(name);
}

async function openSnapshot(name) {
  $("snapshot").value = name;
  state.policies ||= loadPolicies(); // not loaded yet when the workspace started empty
  await loadSnapshot(name);
}

async function loadSnapshot(name) {
  state.snapshot = name;
  state.ready = false;
  state.audit = state.outage = state.plan = state.cleanPath = null;
  panels.reset();
  clearHighlight();
  history.replaceState(null, "", `#snapshot=${encodeURIComponent(name)}`);
  setText("map-status", `Loading ${name}…`);
  performance.mark("cleanpath:map-request");
  const d = (await api(`/api/snapshots/${encodeURIComponent(name)}/map`)).data;
  performance.mark("cleanpath:map-data");
  state.mapData = d;
  setText("snapshot-info", `${nf.format(d.sites.count)} sites · ${d.vendors.length} vendors`);
  fillVendors(d);
  clearOutage();
  await showSites(d);
  // questions after the map, so the map is never waiting for them
  await state.policies;
  selectPacks(d.countries || []);
  await Promise.allSettled([panels.loadCleanPath(false), loadAudit(false), loadPlan(false)]);
  state.ready = true;
  if (state.tab) panels.opened(state.tab); // the open tab shows the new snapshot
}

async function loadPolicies() {
  const packs = (await api("/api/policies")).data.tables.packs.filter((p) => !p.library);
  state.packs = packs;
  for (const id of PACK_SELECTS) {
    $(id).replaceChildren(...packs.map((p) => el("option", { value: p.pack, title: `${p.title} (${p.jurisdiction})` },
      `${p.pack} · ${p.jurisdiction.length > 14 ? "EU" : p.jurisdiction}`)));
  }
  state.registry = await applyRegistry(api); // defaults, bounds and choices as the CLI declares them
  $("audit-asof").value = today();
}

// Preselect the packs whose jurisdiction covers the snapshot's countries: the registry's default.
function selectPacks(countries) {
  const want = new Set((state.packs || []).filter((p) =>
    p.jurisdiction.split(",").some((c) => countries.includes(c.trim()))).map((p) => p.pack));
  for (const id of PACK_SELECTS) for (const o of $(id).options) o.selected = want.has(o.value);
}

// --- findings ---------------------------------------------------------------------------------------------

$("audit-form").addEventListener("submit", (e) => { e.preventDefault(); loadAudit(true); });

async function loadAudit(run) {
  const policy = selected($("audit-policy")).join(","); // none: the packs of the snapshot's countries
  const params = { snapshot: state.snapshot, ...(policy ? { policy } : {}), as_of: $("audit-asof").value || today(),
    all_operators: $("audit-allops").checked };
  setText("audit-summary", run ? "Running the audit…" : "Loading findings…");
  try {
    const r = await question("audit", params, (e) => "findings" in e.tables);
    if (!r) { setText("audit-summary", "No audit has been run on this snapshot yet (an analyst can run one)."); return; }
    state.audit = r;
    state.findingsOffset = 0;
    state.facetsLoaded = false;
    const s = r.result.summary;
    setText("audit-summary", el("span", {}, el("b", {}, num(s.findings)), " findings as of ", el("b", {}, s.as_of), ": ",
      el("span", { class: "sev-violation" }, `${num(s.violations)} violations`), ", ",
      el("span", { class: "sev-warning" }, `${num(s.warnings)} warnings`), `, ${num(s.info)} info · packs ${(s.packs || []).join(", ")}`));
    await renderFindings();
  } catch (err) { setText("audit-summary", el("span", { class: "error" }, problemText(err))); }
}

function findingFilters() {
  const eq = [];
  for (const [id, col] of [["f-severity", "severity"], ["f-pack", "pack"], ["f-operator", "operator_id"], ["f-vendor", "vendor"]]) {
    if ($(id).value) eq.push(`${col}:${$(id).value}`);
  }
  return eq;
}

async function renderFindings() {
  if (!state.audit) return;
  const query = { offset: state.findingsOffset, limit: PAGE, eq: findingFilters(), search: $("f-search").value.trim(),
    columns: FINDING_COLUMNS.join(","), sort: "days_to_deadline" };
  if (!state.facetsLoaded) query.facets = "severity,pack,operator_id,vendor";
  const page = await table(state.audit.id, "findings", query);
  if (page.facets) {
    for (const [id, col, label] of [["f-severity", "severity", "any severity"], ["f-pack", "pack", "any pack"],
      ["f-operator", "operator_id", "any operator"], ["f-vendor", "vendor", "any vendor"]]) {
      const opts = Object.entries(page.facets[col]).filter(([v]) => v !== "");
      $(id).replaceChildren(el("option", { value: "" }, label), ...opts.map(([v, n]) => el("option", { value: v }, `${v} (${nf.format(n)})`)));
    }
    state.facetsLoaded = true;
  }
  $("findings").tHead.replaceChildren(el("tr", {}, ...FINDING_SHOWN.map(([, label]) => el("th", {}, label))));
  $("findings").tBodies[0].replaceChildren(...rowsAsObjects(page).map((r) => {
    r.rule = `${r.pack} / ${r.rule_id}`;
    return el("tr", { title: `${r.message} (operator ${r.operator_id ?? "none"})` },
      ...FINDING_SHOWN.map(([c]) => el("td", { class: c === "severity" ? `sev-${r[c]}` : (typeof r[c] === "number" ? "num" : "") }, num(r[c]))));
  }));
  const end = Math.min(page.total, state.findingsOffset + PAGE);
  setText("f-page", page.total ? `${nf.format(state.findingsOffset + 1)}–${nf.format(end)} of ${nf.format(page.total)}` : "no findings match");
  $("f-prev").disabled = state.findingsOffset === 0;
  $("f-next").disabled = end >= page.total;
}

for (const id of ["f-severity", "f-pack", "f-operator", "f-vendor"]) {
  $(id).addEventListener("change", () => { state.findingsOffset = 0; renderFindings(); });
}
let searchTimer = null;
$("f-search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => { state.findingsOffset = 0; renderFindings(); }, 250);
});
$("f-prev").addEventListener("click", () => { state.findingsOffset = Math.max(0, state.findingsOffset - PAGE); renderFindings(); });
$("f-next").addEventListener("click", () => { state.findingsOffset += PAGE; renderFindings(); });

// --- vendor switch-off ----------------------------------------------------------------------------------------

function fillVendors(d) {
  const untrusted = new Set(d.untrusted);
  const vendors = Object.entries(d.vendor_elements).filter(([v]) => v !== "unknown").sort((a, b) => b[1] - a[1]);
  $("outage-vendor").replaceChildren(...vendors.map(([v, n]) =>
    el("option", { value: v }, `${v}${untrusted.has(v) ? " (untrusted)" : ""} · ${nf.format(n)} elements`)));
  const first = vendors.find(([v]) => untrusted.has(v));
  if (first) $("outage-vendor").value = first[0];
}

$("outage-form").addEventListener("submit", (e) => { e.preventDefault(); runOutage($("outage-vendor").value, $("outage-mode").value); });
$("outage-clear").addEventListener("click", clearOutage);

function clearOutage() {
  state.outage = null;
  lostLayer.setData(new Float32Array(0), new Uint8Array(0));
  sitesLayer.setOpacity(0.85);
  $("legend-lost").hidden = true;
  $("outage-cards").replaceChildren();
  $("outage-ops").tHead?.replaceChildren();
  $("outage-ops").tBodies[0]?.replaceChildren();
  setText("outage-status", "Pick a vendor to see what loses service.");
}

const OUTAGE_CARDS = [["lost_sites", "sites lose service"], ["lost_elements", "elements lose service"],
  ["lost_subscribers", "subscribers lose service"], ["sensitive_without_service", "sensitive sites without service"],
  ["unmanaged_elements", "elements left unmanaged (still forwarding)"],
  ["killable_elements", "elements its management could switch off"],
  ["intercept_traffic_share", "share of traffic it could read"],
  ["intercept_subscriber_share", "share of subscribers whose traffic it could read"],
  ["intercept_signalling_share", "share of signalling through its control plane"],
  ["keys_exposed_subscribers", "subscribers whose keys sit in its HSS/UDM"]];
const MODE_WORDS = { fail: "fails", kill: "turned hostile", intercept: "reading traffic" };

async function runOutage(vendor, mode) {
  if (!vendor) return;
  setText("outage-status", `Switching off ${vendor}…`);
  try {
    const r = await question("outage", { snapshot: state.snapshot, vendor, mode },
      (e) => e.params.vendor === vendor && e.params.mode === mode);
    if (!r) { setText("outage-status", `${vendor} (${mode}) has not been run yet; an analyst can run it.`); return; }
    const s = r.result.summary;
    const cards = OUTAGE_CARDS.filter(([k]) => k in s).map(([k, label]) => {
      const v = Array.isArray(s[k]) ? s[k].length : s[k];
      const shown = k.includes("share") ? `${(100 * v).toFixed(1)} %` : num(v);
      return el("div", { class: "card" }, el("div", { class: "value", id: `outage-${k.replaceAll("_", "-")}` }, shown),
        el("div", { class: "label" }, label));
    });
    $("outage-cards").replaceChildren(...cards);
    const ops = await table(r.id, "by_operator", { limit: 200 });
    const cols = ops.columns.filter((c) => !c.endsWith("_before") || c === "sites_before");
    $("outage-ops").tHead.replaceChildren(el("tr", {}, ...cols.map((c) => el("th", {}, c.replaceAll("_", " ")))));
    $("outage-ops").tBodies[0].replaceChildren(...rowsAsObjects(ops).map((row) =>
      el("tr", {}, ...cols.map((c) => el("td", { class: typeof row[c] === "number" ? "num" : "" }, num(row[c]))))));
    const lost = await lostSites(r);
    state.outage = { vendor, mode, id: r.id, summary: s, lostShown: lost };
    setText("outage-status", mode === "intercept"
      ? `${vendor} ${MODE_WORDS[mode]}: ${(100 * (s.intercept_traffic_share ?? 0)).toFixed(1)} % of traffic crosses its gear.`
      : `${vendor} ${MODE_WORDS[mode] || mode}: ${num(s.lost_sites)} of ${nf.format(state.mapData.sites.count)} sites lose service.`);
  } catch (err) { setText("outage-status", el("span", { class: "error" }, problemText(err))); }
}

async function lostSites(r) {
  if (!("lost_sites" in r.tables)) return 0;
  const lat = [], lon = [];
  for (let offset = 0; ; offset += 100000) {
    const page = await table(r.id, "lost_sites", { columns: "lon,lat", limit: 100000, offset });
    for (const [x, y] of page.rows) if (x !== null && y !== null) { lon.push(x); lat.push(y); }
    if (offset + page.rows.length >= page.total || !page.rows.length) break;
  }
  const shown = lostLayer.setData(mercator(lon, lat), solid(lon.length, "#111111"));
  sitesLayer.setOpacity(0.3);
  $("legend-lost").hidden = false;
  await shown;
  return lon.length;
}

// --- plan ---------------------------------------------------------------------------------------------------

$("plan-form").addEventListener("submit", (e) => { e.preventDefault(); loadPlan(true); });

async function loadPlan(run) {
  if (!run && canRun()) { // plans can take a while: analysts start them; everyone sees the newest one
    const list = (await api("/api/results", { query: { snapshot: state.snapshot, question: "plan" } })).data.results;
    if (!list.length) { setText("plan-summary", "No plan yet: set the budget and run one."); return; }
    const r = await api(`/api/results/${list[0].result_id}`, { query: { tables: "none" } });
    return showPlan({ id: list[0].result_id, result: r.data, tables: r.tables });
  }
  // Empty fields are not sent: the server applies the registry's defaults (as the CLI does).
  const params = { snapshot: state.snapshot, ...formParams($("plan-form")) };
  setText("plan-summary", run ? "Solving the plan…" : "Loading the plan…");
  try {
    const r = await question("plan", params);
    if (!r) { setText("plan-summary", "No plan has been run on this snapshot yet (an analyst can run one)."); return; }
    await showPlan(r);
  } catch (err) { setText("plan-summary", el("span", { class: "error" }, problemText(err))); }
}

async function showPlan(r) {
  state.plan = r;
  const s = r.result.summary, p = r.result.params;
  setText("plan-summary", el("span", {}, `${s.status}: `, el("b", {}, money(s.total_cost)), ` over ${p.horizon} years from ${p.start_year}; `,
    `${num(s.units_replaced)} units replaced, ${num(s.units_left)} left; violations at the end: `,
    el("b", {}, num(s.violations_at_end ?? "?"))));
  const [years, compliance] = await Promise.all([table(r.id, "years", { limit: 200 }),
    "compliance" in r.tables ? table(r.id, "compliance", { limit: 200 }) : null]);
  $("plan-chart").replaceChildren(planChart(rowsAsObjects(years), compliance ? rowsAsObjects(compliance) : []));
}

// Bars: money spent per year (net of funding, funding stacked on top) against the budget line;
// line: policy violations at the end of each year with the plan applied (right axis).
function planChart(years, compliance) {
  const W = 490, H = 270, L = 62, R = 46, T = 18, B = 48;
  const allYears = [...new Set([...years.map((y) => y.year), ...compliance.map((c) => c.year)])].sort((a, b) => a - b);
  if (!allYears.length) return el("p", { class: "muted" }, "The plan has no years.");
  const spend = years.map((y) => (y.net_cost || 0) + (y.funding || 0));
  const yMax = ticks(Math.max(...spend, ...years.map((y) => y.budget || 0), 1)).at(-1);
  const vMax = ticks(Math.max(...compliance.map((c) => c.violations || 0), 1), 4, true).at(-1);
  const band = (W - L - R) / allYears.length;
  const x = (yr) => L + band * allYears.indexOf(yr) + band / 2;
  const y = (v) => T + (H - T - B) * (1 - v / yMax);
  const yv = (v) => T + (H - T - B) * (1 - v / vMax);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Plan cost and compliance by year" });
  const axis = svg("g", { class: "axis" });
  for (const t of ticks(yMax)) {
    axis.append(svg("line", { x1: L, x2: W - R, y1: y(t), y2: y(t), "stroke-dasharray": "2 3" }),
      svg("text", { x: L - 6, y: y(t) + 3, "text-anchor": "end" }, money(t).replace("US$", "$")));
  }
  for (const t of ticks(vMax, 4, true)) axis.append(svg("text", { x: W - R + 6, y: yv(t) + 3 }, num(t)));
  for (const yr of allYears) axis.append(svg("text", { x: x(yr), y: H - B + 14, "text-anchor": "middle" }, yr));
  axis.append(svg("text", { x: L, y: 11 }, "spend per year"), svg("text", { x: W - 2, y: 11, fill: "#d73027", "text-anchor": "end" }, "violations"));
  root.append(axis);
  const bw = Math.min(34, band * 0.6);
  for (const row of years) {
    const net = row.net_cost || 0, fund = row.funding || 0;
    root.append(svg("rect", { class: "bar-net", x: x(row.year) - bw / 2, y: y(net), width: bw, height: y(0) - y(net), fill: "#1f5f99" },
      svg("title", {}, `${row.year}: ${money(net)} net, ${num(row.units)} units`)));
    if (fund > 0) {
      root.append(svg("rect", { class: "bar-funded", x: x(row.year) - bw / 2, y: y(net + fund), width: bw, height: y(net) - y(net + fund), fill: "#8fb8de" },
        svg("title", {}, `${row.year}: ${money(fund)} funded`)));
    }
  }
  const budget = years.filter((r) => r.budget !== null && r.budget !== undefined);
  if (budget.length) {
    root.append(svg("polyline", { fill: "none", stroke: "#444", "stroke-dasharray": "5 4", "stroke-width": 1.2,
      points: budget.map((r) => `${x(r.year) - band / 2},${y(r.budget)} ${x(r.year) + band / 2},${y(r.budget)}`).join(" ") }));
  }
  if (compliance.length) {
    root.append(svg("polyline", { fill: "none", stroke: "#d73027", "stroke-width": 2,
      points: compliance.map((c) => `${x(c.year)},${yv(c.violations || 0)}`).join(" ") }));
    for (const c of compliance) {
      root.append(svg("circle", { cx: x(c.year), cy: yv(c.violations || 0), r: 3.5, fill: "#d73027" },
        svg("title", {}, `${c.year}: ${num(c.violations)} violations, ${num(c.warnings)} warnings`)));
    }
  }
  const legend = svg("g", { class: "legend", transform: `translate(${L},${H - 14})` },
    svg("rect", { x: 0, y: -8, width: 10, height: 10, fill: "#1f5f99" }), svg("text", { x: 14, y: 1 }, "net cost"),
    svg("rect", { x: 70, y: -8, width: 10, height: 10, fill: "#8fb8de" }), svg("text", { x: 84, y: 1 }, "funded"),
    svg("line", { x1: 135, x2: 155, y1: -3, y2: -3, stroke: "#444", "stroke-dasharray": "5 4" }), svg("text", { x: 159, y: 1 }, "budget"),
    svg("line", { x1: 205, x2: 225, y1: -3, y2: -3, stroke: "#d73027", "stroke-width": 2 }), svg("text", { x: 229, y: 1 }, "violations at year end"));
  root.append(legend);
  return root;
}

// --- highlights on the map ----------------------------------------------------------------------------------

// Sites a panel points at (a clean path's witness and blocking sites, a shared fix, the nearest
// untrusted site), and a line through them; the map zooms to them and the sensitive site.
function highlight({ path = [], points = [], focus = null, ring = null }) {
  if (!map.getSource("highlight")) return;
  const features = [];
  if (path.length > 1) features.push({ type: "Feature", geometry: { type: "LineString", coordinates: path }, properties: { kind: "path" } });
  const around = ring ? circleRing(ring.lon, ring.lat, ring.radius) : [];
  if (ring) features.push({ type: "Feature", geometry: { type: "LineString", coordinates: around }, properties: { kind: "ring" } });
  for (const p of points) {
    features.push({ type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] },
      properties: { kind: p.role, site: p.site, elements: (p.elements || []).join(", ") } });
  }
  map.getSource("highlight").setData({ type: "FeatureCollection", features });
  state.highlighted = { path: path.length, points: points.length, roles: points.map((p) => p.role), ring: ring?.radius ?? null };
  $("legend-highlight").hidden = !points.length;
  const coords = [...path, ...around, ...points.map((p) => [p.lon, p.lat])];
  if (focus && focus.lat !== null) coords.push([focus.lon, focus.lat]);
  if (coords.length > 1) {
    const lons = coords.map((c) => c[0]), lats = coords.map((c) => c[1]);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 70, maxZoom: 11, duration: 600 });
  } else if (coords.length === 1) map.flyTo({ center: coords[0], zoom: 10 });
}

function clearHighlight() {
  map.getSource("highlight")?.setData({ type: "FeatureCollection", features: [] });
  state.highlighted = null;
  $("legend-highlight").hidden = true;
}

// --- tabs and start-up ---------------------------------------------------------------------------------------

const panels = installPanels({ state, api, question, table, places, canRun, problemText, highlight, clearHighlight,
  updateSensitive, labelFor });
const importer = installImport({ state, api, problemText, afterImport, openSnapshot });

for (const b of document.querySelectorAll(".tabs button")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll(".tabs button")) o.setAttribute("aria-selected", String(o === b));
    for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${b.dataset.tab}`;
    if (state.tab !== b.dataset.tab) clearHighlight(); // a highlight belongs to the panel that made it
    state.tab = b.dataset.tab;
    if (b.dataset.tab === "import") importer.opened();
    else panels.opened(b.dataset.tab);
  });
}
$("hl-clear").addEventListener("click", clearHighlight);

// The outlines are added once the sites are drawn (or at once without a token), so the data the
// page is about comes first.
if (state.token) {
  start().catch((err) => { if (err.status !== 401) setText("map-status", el("span", { class: "error" }, problemText(err))); })
    .finally(countriesOnce);
} else { showLogin(); countriesOnce(); }
