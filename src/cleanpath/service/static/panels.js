// The dashboard's question panels: clean path, exposure, audit timeline, compare, funding, incentive, explain,
// brief.
//
// Each panel fetches when its tab is first opened for a snapshot (never at page load, so a national
// network's map is not kept waiting), and again when its form is submitted. Analysts run the
// question; viewers see the newest result someone has run. What a panel shows is kept on
// window.cleanpath.state (cleanPath, exposure, timeline, compare, funding, incentive).
import { groupedBars, hbars, monthLines } from "./charts.js";
import { formParams } from "./registry.js";
import { $, card, dataTable, el, km, money, nf, num, pct, rowsAsObjects, selectRow, selected, setText, today } from "./util.js";

const NO_COVERAGE = "no serving radio of this operator covers the site";
const BIG = 200000; // rows fetched at once from tables that are small by construction (per sensitive site, per operator)
const FINDINGS_SHOWN = 500;

/**
 * @param {object} ctx what app.js provides: state, api, question, table, places (element positions), canRun,
 *   problemText, highlight, clearHighlight, updateSensitive, labelFor
 */
export function installPanels(ctx) {
  const { state } = ctx;
  const loaded = new Set(); // tabs loaded for the current snapshot
  const error = (id, err) => setText(id, el("span", { class: "error" }, ctx.problemText(err)));
  const sensitive = () => new Map((state.mapData?.sensitive || []).map((s) => [s.id, s]));

  // The newest result of a question already run (for this snapshot), or null.
  async function latest(name, snapshot, match = () => true) {
    const list = (await ctx.api("/api/results", { query: { snapshot, question: name } })).data.results;
    const hit = list.find(match);
    if (!hit) return null;
    const r = await ctx.api(`/api/results/${hit.result_id}`, { query: { tables: "none" } });
    return { id: hit.result_id, result: r.data, cache: "hit", tables: r.tables };
  }

  // Run (analysts, when asked to) or show the newest result run by anyone.
  async function obtain(name, params, { run, snapshot = params.snapshot, match } = {}) {
    if (run && ctx.canRun()) return ctx.question(name, params);
    return latest(name, snapshot, match);
  }

  async function all(id, name, query = {}) {
    return rowsAsObjects(await ctx.table(id, name, { limit: BIG, ...query }));
  }

  const notRun = (what) => `${what} has not been run on this snapshot yet`
    + (ctx.canRun() ? ": set the options and run it." : " (an analyst can run it).");

  // --- clean path ---------------------------------------------------------------------------------------

  $("cp-run").addEventListener("click", () => loadCleanPath(true));
  $("cp-filter").addEventListener("change", () => renderPairs());
  $("cp-fix-map").addEventListener("click", () => showSharedFix());

  function pairStatus(row) {
    if (row.clean) return "clean";
    return row.reason === NO_COVERAGE ? "uncovered" : "blocked";
  }

  async function loadCleanPath(run) {
    if (!state.mapData?.sensitive.length) { setText("cp-summary", "This snapshot has no sensitive sites."); return; }
    setText("cp-summary", run ? "Checking clean paths…" : "Loading clean-path status…");
    try {
      const r = await ctx.question("clean-path", { snapshot: state.snapshot, ...formParams($("cp-form")) });
      if (!r) { setText("cp-summary", "Clean paths have not been checked on this snapshot yet (an analyst can)."); return; }
      const [pairs, fix] = await Promise.all([
        all(r.id, "clean_path", { columns: "sensitive_id,operator_id,clean,reason,blocking,remediation_cost,lower_bound" }),
        "shared_fix" in r.tables ? all(r.id, "shared_fix") : []]);
      const byId = new Map();
      for (const row of pairs) {
        row.status = pairStatus(row);
        row.blocking_count = (row.blocking || []).length;
        const e = byId.get(row.sensitive_id) || { rows: [], status: "uncovered", cost: null };
        e.rows.push(row);
        if (row.status === "clean") e.status = "clean";
        else if (e.status !== "clean" && row.status === "blocked") e.status = "blocked";
        if (!row.clean && row.remediation_cost !== null) e.cost = e.cost === null ? row.remediation_cost : Math.min(e.cost, row.remediation_cost);
        byId.set(row.sensitive_id, e);
      }
      state.cleanPath = { id: r.id, byId, pairs, fix, summary: r.result.summary };
      ctx.updateSensitive();
      renderCleanPath();
    } catch (err) { error("cp-summary", err); }
  }

  function renderCleanPath() {
    const { byId, summary: s, fix } = state.cleanPath;
    const counts = { clean: 0, blocked: 0, uncovered: 0 };
    for (const e of byId.values()) counts[e.status]++;
    setText("cp-summary", el("span", {}, el("b", {}, `${counts.clean} of ${byId.size}`),
      " sensitive sites have a clean path on some operator; ", `${counts.blocked} have none, ${counts.uncovered} no coverage.`));
    const cards = [card("cp-pairs-needing-fix", s.pairs_needing_fix ?? 0, "site–operator pairs needing a fix")];
    if (s.remediation_total_independent !== undefined) {
      cards.push(card("cp-independent", s.remediation_total_independent, "fixing each pair on its own", money));
    }
    if (s.shared_fix_cost !== undefined) {
      cards.push(card("cp-shared-cost", s.shared_fix_cost, `one shared fix (${num(s.shared_fix_elements)} elements)`, money),
        card("cp-lower-bound", s.shared_fix_lower_bound, "no fix can cost less than", money));
    }
    $("cp-cards").replaceChildren(...cards);
    const ratio = s.shared_fix_ratio_bound;
    const ratioText = typeof ratio === "number" ? [". Here the shared fix costs at most ",
      el("b", { id: "cp-ratio", "data-value": String(ratio) }, `${ratio.toFixed(2)} ×`), " the cheapest possible."] : [];
    $("cp-bound").replaceChildren(...(s.shared_fix_bound ? ["Bound: ", el("span", { id: "cp-bound-text" }, s.shared_fix_bound),
      ...ratioText] : []));
    renderPairs();
    $("cp-fix-wrap").hidden = !fix.length;
    $("cp-fix-map").hidden = !fix.length;
    dataTable($("cp-fix"), fix, [{ key: "element_id", label: "element" }, { key: "vendor", label: "vendor" },
      { key: "role", label: "role" }, { key: "site_id", label: "site" }, { key: "cost", label: "cost", fmt: money }],
    { key: (f) => f.element_id });
  }

  function renderPairs() {
    if (!state.cleanPath) return;
    const names = sensitive(), want = $("cp-filter").value;
    const order = { blocked: 0, clean: 1, uncovered: 2 };
    const rows = state.cleanPath.pairs.filter((r) => want === "all" || r.status === want)
      .sort((a, b) => order[a.status] - order[b.status] || a.sensitive_id.localeCompare(b.sensitive_id)
        || String(a.operator_id).localeCompare(String(b.operator_id)));
    setText("cp-count", `${nf.format(rows.length)} of ${nf.format(state.cleanPath.pairs.length)} pairs`);
    dataTable($("cp-table"), rows, [
      { key: "site", label: "sensitive site", value: (r) => names.get(r.sensitive_id)?.name || r.sensitive_id },
      { key: "operator_id", label: "operator" },
      { key: "status", label: "clean path",
        value: (r) => el("span", { class: `badge ${r.status}` }, r.status === "clean" ? "yes" : ctx.labelFor(r.status)) },
      { key: "blocking_count", label: "blocking", fmt: "num" },
      { key: "remediation_cost", label: "fix cost", fmt: money },
    ], { onclick: showPair, title: (r) => `${r.sensitive_id} · ${r.operator_id}: ${r.reason}`, key: (r) => `${r.sensitive_id}|${r.operator_id}`,
      rowClass: (r) => `clickable pair-${r.status}` });
  }

  async function showPair(row, tr) {
    selectRow(tr);
    const cp = state.cleanPath, s = sensitive().get(row.sensitive_id);
    setText("cp-detail", `Loading the path of ${row.operator_id} to ${s?.name || row.sensitive_id}…`);
    try {
      const page = await ctx.table(cp.id, "clean_path", { eq: [`sensitive_id:${row.sensitive_id}`, `operator_id:${row.operator_id}`],
        columns: "witness,blocking,remediation", limit: 1 });
      const [witness, blocking, remediation] = page.rows[0] || [[], [], []];
      const ids = [...new Set([...(witness || []), ...(blocking || [])])].slice(0, 1000);
      const places = ids.length ? await ctx.places(ids) : new Map();
      const bad = new Set(blocking || []);
      // the witness runs from the radio serving the site to the core: one map stop per site in that order
      const path = s && s.lat !== null ? [[s.lon, s.lat]] : [];
      const stops = new Map();
      for (const id of [...(witness || []), ...(blocking || [])]) {
        const p = places.get(id);
        if (!p || p.lat === null) continue;
        const stop = stops.get(p.site_id) || { lon: p.lon, lat: p.lat, site: p.site_id, elements: [], role: "path" };
        stop.elements.push(id);
        if (bad.has(id)) stop.role = "blocking";
        if (!stops.has(p.site_id) && (witness || []).includes(id)) path.push([p.lon, p.lat]);
        stops.set(p.site_id, stop);
      }
      ctx.highlight({ path, points: [...stops.values()], focus: s });
      state.cleanPath.shown = { sensitive_id: row.sensitive_id, operator_id: row.operator_id, sites: stops.size,
        blocking_sites: [...stops.values()].filter((p) => p.role === "blocking").length };
      const list = (label, xs) => el("div", {}, el("b", {}, `${label} (${xs.length}): `), xs.length ? xs.join(", ") : "none");
      $("cp-detail").replaceChildren(el("div", {}, el("b", {}, `${s?.name || row.sensitive_id} · ${row.operator_id}`), `: ${row.reason}`),
        list(row.clean ? "clean path" : "cheapest path (witness)", witness || []), list("blocking", blocking || []),
        list(`cheapest fix, ${money(row.remediation_cost) || "none needed"}`, remediation || []),
        el("div", { class: "muted" }, `On the map: ${stops.size} sites of the path, blocking ones in red.`));
    } catch (err) { error("cp-detail", err); }
  }

  async function showSharedFix() {
    const fix = state.cleanPath?.fix || [];
    const places = await ctx.places(fix.map((f) => f.element_id).slice(0, 1000));
    const sites = new Map();
    for (const f of fix) {
      const p = places.get(f.element_id);
      if (!p || p.lat === null) continue;
      const stop = sites.get(p.site_id) || { lon: p.lon, lat: p.lat, site: p.site_id, elements: [], role: "fix" };
      stop.elements.push(f.element_id);
      sites.set(p.site_id, stop);
    }
    ctx.highlight({ path: [], points: [...sites.values()] });
    setText("cp-detail", `The shared fix replaces ${nf.format(fix.length)} elements at ${nf.format(sites.size)} sites (orange on the map).`);
  }

  // --- exposure ----------------------------------------------------------------------------------------

  $("exp-form").addEventListener("submit", (e) => { e.preventDefault(); loadExposure(true); });

  function exposureParams() {
    const p = { snapshot: state.snapshot };
    const radius = $("exp-radius").value.trim();
    if (radius) p.radius_m = Number(radius);
    if ($("exp-kind").value) p.sensitive = [$("exp-kind").value];
    return p;
  }

  async function loadExposure(run) {
    if (!state.mapData?.sensitive.length) { setText("exp-summary", "This snapshot has no sensitive sites."); return; }
    setText("exp-summary", "Measuring what is within reach…");
    try {
      const r = await obtain("exposure", exposureParams(), { run });
      if (!r) { setText("exp-summary", notRun("Exposure")); return; }
      const [rows, vendors, places] = await Promise.all([all(r.id, "exposure"),
        "by_vendor" in r.tables ? all(r.id, "by_vendor") : [], "locations" in r.tables ? all(r.id, "locations") : []]);
      state.exposure = { id: r.id, snapshot: r.result.snapshot, summary: r.result.summary, params: r.result.params, rows, vendors,
        places: new Map(places.map((p) => [p.sensitive_id, p])) };
      renderExposure();
    } catch (err) { error("exp-summary", err); }
  }

  function renderExposure() {
    const { summary: s, params: p, rows } = state.exposure;
    setText("exp-summary", el("span", {}, `Within ${p.radius_m ? km(p.radius_m) : "each site's own radius"}: `,
      el("b", {}, `${num(s.with_untrusted_within)} of ${num(s.sensitive_sites)}`), " sensitive sites have untrusted equipment in reach."));
    $("exp-cards").replaceChildren(card("exp-sensitive", s.sensitive_sites, "sensitive sites"),
      card("exp-with-untrusted", s.with_untrusted_within, "with untrusted equipment within the radius"),
      card("exp-no-equipment", s.with_no_equipment_within, "with no equipment within the radius"),
      card("exp-median-nearest", s.median_nearest_untrusted_m, "median distance to the nearest untrusted site", km));
    const sorted = [...rows].sort((a, b) => (b.untrusted_elements_within - a.untrusted_elements_within)
      || ((a.nearest_untrusted_m ?? Infinity) - (b.nearest_untrusted_m ?? Infinity)));
    dataTable($("exp-table"), sorted, [
      { key: "name", label: "sensitive site", value: (r) => r.name || r.sensitive_id },
      { key: "radius_m", label: "radius", fmt: km },
      { key: "sites_within", label: "sites", fmt: "num" },
      { key: "elements_within", label: "elements", fmt: "num" },
      { key: "untrusted_elements_within", label: "untrusted", fmt: "num", cls: (r) => (r.untrusted_elements_within > 0 ? "sev-violation" : "") },
      { key: "untrusted_share", label: "share", fmt: pct },
      { key: "nearest_untrusted_m", label: "nearest untrusted", fmt: km },
    ], { onclick: showExposureSite, title: (r) => `${r.sensitive_id} (${r.kind})`, key: (r) => r.sensitive_id });
    vendorBars(null);
  }

  function vendorBars(sensitiveId) {
    const { vendors } = state.exposure;
    const per = new Map();
    for (const v of vendors) {
      if (sensitiveId && v.sensitive_id !== sensitiveId) continue;
      const e = per.get(v.vendor) || { vendor: v.vendor, untrusted: v.untrusted, elements: 0 };
      e.elements += v.elements;
      per.set(v.vendor, e);
    }
    const rows = [...per.values()].sort((a, b) => b.elements - a.elements || a.vendor.localeCompare(b.vendor));
    const name = sensitiveId ? sensitive().get(sensitiveId)?.name || sensitiveId : null;
    setText("exp-vendor-title", name ? `Vendors within reach of ${name}` : "Vendors within reach (elements, summed over the sensitive sites)");
    $("exp-vendors").replaceChildren(hbars(rows.map((r) => ({ label: r.vendor, value: r.elements,
      color: r.untrusted ? "#e0452c" : "#2b7bba", title: `${r.vendor}${r.untrusted ? " (untrusted)" : ""}: ${num(r.elements)} elements` })),
    { ariaLabel: "Elements within reach by vendor", labelWidth: 120 }));
    state.exposure.vendorShown = Object.fromEntries(rows.map((r) => [r.vendor, r.elements]));
  }

  function showExposureSite(row, tr) {
    selectRow(tr);
    vendorBars(row.sensitive_id);
    const s = sensitive().get(row.sensitive_id), loc = state.exposure.places.get(row.sensitive_id);
    const near = loc && loc.nearest_untrusted_lat !== null ? [{ lon: loc.nearest_untrusted_lon, lat: loc.nearest_untrusted_lat,
      site: row.nearest_untrusted_id, elements: [], role: "nearest" }] : [];
    const from = loc && loc.lat !== null ? [loc.lon, loc.lat] : (s && s.lat !== null ? [s.lon, s.lat] : null);
    // the radius the exposure was measured in, as a ring: the map zooms to it
    const ring = from && row.radius_m ? { lon: from[0], lat: from[1], radius: row.radius_m } : null;
    ctx.highlight({ path: from && near.length ? [from, [near[0].lon, near[0].lat]] : [], points: near, focus: s, ring });
  }

  // --- audit timeline --------------------------------------------------------------------------------------

  $("tl-form").addEventListener("submit", (e) => { e.preventDefault(); loadTimeline(true); });

  async function loadTimeline(run) {
    const params = { snapshot: state.snapshot, policy: selected($("tl-policy")).join(",") || "all",
      timeline: [$("tl-from").value, $("tl-to").value], all_operators: $("tl-allops").checked };
    setText("tl-summary", run ? "Judging the network month by month…" : "Loading the timeline…");
    try {
      const r = await obtain("audit", params, { run, match: (e) => "by_month" in e.tables });
      if (!r) { setText("tl-summary", notRun("A compliance timeline")); return; }
      const months = await all(r.id, "by_month");
      state.timeline = { id: r.id, summary: r.result.summary, params: r.result.params, months };
      renderTimeline();
    } catch (err) { error("tl-summary", err); }
  }

  function renderTimeline() {
    const { summary: s, params: p, months } = state.timeline;
    setText("tl-summary", el("span", {}, `${p.from} to ${p.to}, packs ${(s.packs || []).join(", ")}: `,
      el("b", { id: "tl-compliant" }, `${num(s.months_compliant)} of ${num(s.months)}`), " months without violations; ",
      "peak ", el("b", { id: "tl-peak", class: "sev-violation" }, num(s.peak_violations)), " violations",
      s.first_compliant_month ? `; first compliant month ${s.first_compliant_month}` : "; never compliant", "."));
    $("tl-chart").replaceChildren(monthLines(months.map((m) => m.month), [
      { key: "violation", label: "violations", color: "#d73027", values: months.map((m) => m.violation) },
      { key: "warning", label: "warnings", color: "#e08a00", values: months.map((m) => m.warning) }],
    { shade: months.map((m) => !m.compliant), shadeLabel: "not compliant", ariaLabel: "Violations and warnings per month" }));
    // only the months where something changes: the chart shows the rest
    const changes = months.filter((m, i) => i === 0 || ["violation", "warning", "info", "elements_in_violation"]
      .some((k) => m[k] !== months[i - 1][k]));
    dataTable($("tl-table"), changes, [{ key: "month", label: "from month" }, { key: "violation", label: "violations", fmt: "num" },
      { key: "warning", label: "warnings", fmt: "num" }, { key: "elements_in_violation", label: "elements in violation", fmt: "num" },
      { key: "compliant", label: "compliant",
        value: (m) => el("span", { class: `badge ${m.compliant ? "clean" : "blocked"}` }, m.compliant ? "yes" : "no") }],
    { key: (m) => m.month });
  }

  // --- compare -----------------------------------------------------------------------------------------

  $("cmp-form").addEventListener("submit", (e) => { e.preventDefault(); loadCompare(true); });

  function fillCompare() {
    const names = (state.snapshots || []).map((s) => s.name);
    for (const id of ["cmp-a", "cmp-b"]) $(id).replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    $("cmp-a").value = state.snapshot;
    $("cmp-b").value = names.find((n) => n !== state.snapshot) || state.snapshot;
    if (!$("cmp-asof").value) $("cmp-asof").value = today();
  }

  async function loadCompare(run) {
    const a = $("cmp-a").value, b = $("cmp-b").value;
    if (!a || !b || a === b) { setText("cmp-summary", "Pick two different snapshots (the workspace needs at least two)."); return; }
    const packs = selected($("cmp-policy"));
    const params = { a, b, as_of: $("cmp-asof").value || today(), ...(packs.length ? { policy: packs.join(",") } : {}) };
    setText("cmp-summary", run ? `Comparing ${a} with ${b}…` : "Loading the comparison…");
    try {
      const r = await obtain("compare", params, { run, snapshot: run ? a : state.snapshot });
      if (!r) { setText("cmp-summary", notRun("A comparison")); return; }
      const t = r.tables;
      // the changed findings only (unchanged ones are most of them), new first, at most FINDINGS_SHOWN
      const changedFindings = "findings" in t ? ctx.table(r.id, "findings", { eq: ["status:new", "status:resolved"],
        limit: FINDINGS_SHOWN, sort: "status" }) : null;
      const [domops, vendors, fpage] = await Promise.all([all(r.id, "by_domain_operator"), all(r.id, "by_vendor"), changedFindings]);
      state.compare = { id: r.id, summary: r.result.summary, params: r.result.params, domops, vendors,
        findings: fpage ? rowsAsObjects(fpage) : null, findingsTotal: fpage?.total ?? 0 };
      renderCompare();
    } catch (err) { error("cmp-summary", err); }
  }

  function renderCompare() {
    const { summary: s, domops, vendors, findings } = state.compare;
    setText("cmp-summary", el("span", {}, "From ", el("b", {}, s.snapshot_a), ` (${num(s.elements_a)} elements) to `, el("b", {}, s.snapshot_b),
      ` (${num(s.elements_b)} elements)`, s.as_of ? `, findings as of ${s.as_of} (${(s.policies || []).join(", ")})` : "", "."));
    const cards = [card("cmp-added", s.added, "elements added"), card("cmp-removed", s.removed, "elements removed"),
      card("cmp-revendored", s.revendored, "elements re-vendored")];
    if ("findings_new" in s) {
      cards.push(card("cmp-new", s.findings_new, "findings new"), card("cmp-resolved", s.findings_resolved, "findings resolved"),
        card("cmp-violations", s.violations_b, `violations after (${num(s.violations_a)} before)`));
    }
    $("cmp-cards").replaceChildren(...cards);
    const changed = domops.filter((r) => r.added || r.removed || r.revendored);
    setText("cmp-domops-note", changed.length ? `${changed.length} of ${domops.length} domain/operator rows changed` : "no element changed");
    dataTable($("cmp-domops"), changed, [{ key: "domain", label: "domain" }, { key: "operator_id", label: "operator" },
      { key: "elements_a", label: "before", fmt: "num" }, { key: "elements_b", label: "after", fmt: "num" },
      { key: "added", label: "added", fmt: "num" }, { key: "removed", label: "removed", fmt: "num" },
      { key: "revendored", label: "re-vendored", fmt: "num" }], { key: (r) => `${r.domain}|${r.operator_id}` });
    dataTable($("cmp-vendors"), [...vendors].sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.vendor.localeCompare(b.vendor)),
      [{ key: "vendor", label: "vendor" }, { key: "elements_a", label: "before", fmt: "num" }, { key: "elements_b", label: "after", fmt: "num" },
        { key: "delta", label: "change", fmt: (v) => (v > 0 ? `+${num(v)}` : num(v)) }], { key: (r) => r.vendor });
    $("cmp-findings-wrap").hidden = findings === null;
    setText("cmp-findings-note", findings && state.compare.findingsTotal > findings.length
      ? `the first ${nf.format(findings.length)} of ${nf.format(state.compare.findingsTotal)}` : "");
    if (findings !== null) {
      dataTable($("cmp-findings"), findings, [
        { key: "status", label: "status", value: (f) => el("span", { class: `badge ${f.status === "new" ? "blocked" : "clean"}` }, f.status) },
        { key: "rule", label: "rule", value: (f) => `${f.pack} / ${f.rule_id}` },
        { key: "element_id", label: "element", value: (f) => f.element_id ?? "" },
        { key: "severity", label: "severity", value: (f) => (f.status === "new" ? f.severity_b : f.severity_a) ?? "" }],
      { title: (f) => f.message || "", key: (f) => f.finding_id });
    }
  }

  // --- funding -------------------------------------------------------------------------------------------

  $("fund-form").addEventListener("submit", (e) => { e.preventDefault(); loadFunding(true); });

  async function loadFunding(run) {
    const params = { programme: $("fund-programme").value };
    if ($("fund-asof").value) params.as_of = $("fund-asof").value;
    if ($("fund-appropriation").value.trim()) params.appropriation = $("fund-appropriation").value.trim();
    setText("fund-summary", "Allocating the programme's money…");
    try {
      const r = await obtain("funding", params, { run, snapshot: undefined });
      if (!r) { setText("fund-summary", "No funding allocation has been run yet (an analyst can run one)."); return; }
      const [groups, tranches] = await Promise.all([all(r.id, "groups"), "tranches" in r.tables ? all(r.id, "tranches") : []]);
      state.funding = { id: r.id, summary: r.result.summary, params: r.result.params, groups, tranches };
      renderFunding();
    } catch (err) { error("fund-summary", err); }
  }

  function renderFunding() {
    const { summary: s, params: p, groups, tranches } = state.funding;
    setText("fund-summary", el("span", {}, el("b", {}, s.programme), p.as_of ? ` as of ${p.as_of}` : " (every appropriation)",
      `: ${money(s.allocatable)} for ${num(s.eligible_applications)} eligible applications`,
      s.ineligible_applications ? ` (${num(s.ineligible_applications)} ineligible)` : "", "."));
    $("fund-cards").replaceChildren(card("fund-allocatable", s.allocatable, "money available", money),
      card("fund-demand", s.approved_demand, "approved cost claimed", money),
      card("fund-allocated", s.allocated, "allocated", money), card("fund-shortfall", s.shortfall, "shortfall", money));
    $("fund-factors").replaceChildren(hbars(groups.map((g) => ({ label: `group ${g.group}`, value: g.factor,
      color: g.factor >= 1 ? "#1a9850" : (g.factor > 0 ? "#f0a30a" : "#d73027"),
      title: `group ${g.group} (${g.label}): ${pct(g.factor)} of approved cost` })),
    { max: 1, fmt: pct, labelWidth: 70, ariaLabel: "Share of approved cost paid by priority group" }));
    const short = (text) => el("span", { title: text }, text.length > 44 ? `${text.slice(0, 43)}…` : text);
    dataTable($("fund-groups"), groups, [{ key: "group", label: "group" }, { key: "label", label: "who", value: (g) => short(g.label) },
      { key: "applications", label: "applications", fmt: "num" }, { key: "approved_demand", label: "approved", fmt: money },
      { key: "allocated", label: "allocated", fmt: money }, { key: "factor", label: "paid", fmt: pct }], { key: (g) => String(g.group) });
    const fcols = Object.keys(tranches[0] || {}).filter((k) => k.startsWith("factor_group_"));
    dataTable($("fund-tranches"), tranches, [{ key: "date", label: "date" }, { key: "label", label: "appropriation" },
      { key: "amount", label: "amount", fmt: money }, { key: "allocatable_total", label: "available so far", fmt: money },
      ...fcols.map((k) => ({ key: k, label: `group ${k.slice(13)}`, fmt: pct }))], { key: (t) => t.date });
    setText("fund-citation", s.citation ? `Legal basis: ${s.citation}. Applications: ${p.applications || "uploaded"}.` : "");
  }

  // --- incentive -----------------------------------------------------------------------------------------

  $("inc-form").addEventListener("submit", (e) => { e.preventDefault(); loadIncentive(true); });

  function fillIncentive() {
    if (!$("inc-asof").value) $("inc-asof").value = today();
    // the FCC programme pays US operators only: offer it by default where the network is American
    $("inc-funding").value = (state.mapData?.countries || []).includes("US") ? "fcc-scrp" : "";
  }

  async function loadIncentive(run) {
    const params = { snapshot: state.snapshot, as_of: $("inc-asof").value || today(), premium: Number($("inc-premium").value),
      lifetime: Number($("inc-lifetime").value) };
    if ($("inc-funding").value) params.funding = $("inc-funding").value;
    setText("inc-summary", "Costing compliance per operator…");
    try {
      const r = await obtain("incentive", params, { run });
      if (!r) { setText("inc-summary", notRun("The incentive question")); return; }
      const ops = await all(r.id, "operators");
      state.incentive = { id: r.id, summary: r.result.summary, params: r.result.params, ops };
      renderIncentive();
    } catch (err) { error("inc-summary", err); }
  }

  function renderIncentive() {
    const { summary: s, params: p, ops } = state.incentive;
    const programme = p.programme ? `with ${p.programme}` : "with no programme";
    setText("inc-summary", el("span", {}, `As of ${p.as_of}, ${programme}, premium ${pct(p.premium)}, `,
      `${num(p.lifetime_years)}-year lifetime: operators `, el("b", {}, s.net_cost_to_operators > 0 ? "lose" : "gain"),
      ` ${money(Math.abs(s.net_cost_to_operators))} in total by complying; ${num(s.operators_worse_off)} of ${ops.length} are worse off.`));
    $("inc-cards").replaceChildren(card("inc-replacement", s.replacement_cost, "replacement cost", money),
      card("inc-compliance", s.compliance_cost, "compliance cost (early retirement)", money),
      card("inc-pays", s.programme_pays, "the programme pays", money),
      card("inc-break-even", s.break_even_subsidy_share, "break-even subsidy share", pct));
    $("inc-chart").replaceChildren(groupedBars(ops.map((o) => o.operator_id), [
      { key: "compliance", label: "compliance cost", color: "#d73027", values: ops.map((o) => o.compliance_cost) },
      { key: "pays", label: "programme pays", color: "#1a9850", values: ops.map((o) => o.programme_pays) },
      { key: "net", label: "net cost to operator", color: "#1f5f99", values: ops.map((o) => o.net_cost_to_operator) }],
    { fmt: (v) => money(v).replace("US$", "$"), ariaLabel: "Compliance cost against what the programme pays, per operator" }));
    dataTable($("inc-table"), ops, [{ key: "operator_id", label: "operator" },
      { key: "replacement_cost", label: "replacement", fmt: money }, { key: "compliance_cost", label: "compliance", fmt: money },
      { key: "programme_pays", label: "programme pays", fmt: money }, { key: "net_cost_to_operator", label: "net cost", fmt: money },
      { key: "break_even_subsidy_share", label: "break-even subsidy", fmt: pct }],
    { key: (o) => o.operator_id, title: (o) => `${o.operator_id}: ${num(o.untrusted_elements)} untrusted elements, `
      + `${money(o.stranded_value)} of them not yet written off, ${money(o.premium_cost)} premium for early replacement` });
  }

  // --- tabs ------------------------------------------------------------------------------------------------

  function fillKinds() {
    const kinds = [...new Set((state.mapData?.sensitive || []).map((x) => x.kind).filter(Boolean))].sort();
    $("exp-kind").replaceChildren(el("option", { value: "" }, "all sensitive sites"), ...kinds.map((k) => el("option", { value: k }, k)));
  }

  const onOpen = {
    exposure: () => { fillKinds(); return loadExposure(true); },
    timeline: () => {
      const y = new Date().getFullYear();
      if (!$("tl-from").value) $("tl-from").value = `${y - 2}-01`;
      if (!$("tl-to").value) $("tl-to").value = `${y + 5}-12`;
      return loadTimeline(false);
    },
    compare: () => { fillCompare(); return loadCompare(false); },
    funding: () => loadFunding(true),
    incentive: () => { fillIncentive(); return loadIncentive(true); },
  };

  // --- explain -------------------------------------------------------------------------------------------

  $("exp-why-form").addEventListener("submit", (e) => { e.preventDefault(); loadExplain(true); });

  async function loadExplain(run) {
    const target = $("why-target").value.trim();
    const params = { snapshot: state.snapshot, ...(target ? { target } : {}) };
    setText("why-summary", "Following the chain of dependencies…");
    try {
      const r = await obtain("explain", params, { run, match: (e) => !target || e.params.target === target });
      if (!r) { setText("why-summary", notRun("Explain")); return; }
      const s = r.result.summary, p = r.result.params;
      if (!target) $("why-target").value = p.target;
      const broken = s.first_broken;
      setText("why-summary", el("span", {}, el("b", { id: "why-target-shown" }, p.target), ` (${s.kind}) `,
        el("b", { id: "why-serves" }, s.serves ? "serves" : "does not serve"),
        broken ? `: first broken link: ${broken.requirement} (${broken.element_id || broken.for_element})` : "."));
      const rows = await all(r.id, "chain");
      state.explain = { id: r.id, summary: s, rows };
      dataTable($("why-table"), rows, [{ key: "step", label: "step" }, { key: "for_element", label: "for" },
        { key: "requirement", label: "requirement" }, { key: "element_id", label: "element" },
        { key: "ok", label: "ok", value: (x) => (x.ok ? "yes" : "no") }, { key: "detail", label: "detail" }],
      { key: (x) => `${x.step}` });
    } catch (err) { error("why-summary", err); }
  }

  onOpen.explain = () => loadExplain(true);

  // --- brief (several countries; not tied to the open snapshot) --------------------------------------------

  $("brief-form").addEventListener("submit", (e) => { e.preventDefault(); loadBrief(true); });

  // "median (p05–p95)" of a countries row, for a metric stem and unit
  const interval = (row, stem, unit, fmt) => {
    const [lo, mid, hi] = ["p05", "median", "p95"].map((q) => row[`${stem}_${q}_${unit}`]);
    if (mid === null || mid === undefined) return "–";
    return lo === hi ? fmt(mid) : `${fmt(mid)} (${fmt(lo)}–${fmt(hi)})`;
  };

  async function loadBrief(run) {
    const params = formParams($("brief-form"));
    setText("brief-summary", run ? "Building each country's networks and asking them (this can take minutes)…" : "Loading the brief…");
    try {
      const r = await obtain("brief", params, { run, snapshot: undefined });
      if (!r) { setText("brief-summary", "No brief has been run yet (an analyst can run one)."); return; }
      const s = r.result.summary;
      const rows = await all(r.id, "countries");
      state.brief = { id: r.id, summary: s, rows };
      setText("brief-summary", el("span", {}, el("b", { id: "brief-installations" }, num(s.installations)),
        ` US installations in ${s.countries.join(", ")}; `, el("b", { id: "brief-unclean" }, num(s.installations_without_clean_path)),
        " without a clean path on any operator in most draws. Intervals: ", s.interval, "."));
      $("brief-chart").replaceChildren(hbars(rows.map((c) => ({ label: c.country, value: c.aid_per_year_median_usd ?? 0,
        title: `${c.country}: ${money(c.aid_per_year_median_usd)} a year` })),
      { fmt: money, labelWidth: 40, ariaLabel: "Aid per year to break even, by country (median)" }));
      dataTable($("brief-table"), rows, [{ key: "country", label: "country" }, { key: "draws", label: "draws", fmt: "num" },
        { key: "ran", label: "untrusted RAN serving the bases", value: (c) => interval(c, "base_ran_untrusted", "share", pct) },
        { key: "core", label: "untrusted core", value: (c) => interval(c, "base_core_untrusted", "share", pct) },
        { key: "read", label: "base traffic a hostile vendor could read", value: (c) => interval(c, "base_intercept", "share", pct) },
        { key: "fix", label: "clean the bases' networks", value: (c) => interval(c, "base_fix_cost", "usd", money) },
        { key: "national", label: "full national compliance", value: (c) => interval(c, "national_compliance_cost", "usd", money) },
        { key: "aid", label: "aid per year", value: (c) => interval(c, "aid_per_year", "usd", money) }],
      { key: (c) => c.country });
    } catch (err) { error("brief-summary", err); }
  }

  onOpen.brief = () => loadBrief(false);

  return {
    loadCleanPath,
    /** A tab was opened: load its panel once per snapshot. */
    opened(tab) {
      if (!onOpen[tab] || loaded.has(tab) || !state.snapshot) return;
      loaded.add(tab);
      onOpen[tab]();
    },
    /** A new snapshot: forget what the panels showed. */
    reset() {
      loaded.clear();
      state.exposure = state.timeline = state.compare = state.incentive = state.explain = state.brief = null;
      for (const id of ["exp-cards", "exp-vendors", "tl-chart", "cmp-cards", "inc-cards", "inc-chart", "cp-cards", "cp-bound",
        "cp-detail", "fund-cards", "fund-factors"]) $(id).replaceChildren();
      for (const id of ["exp-table", "tl-table", "cmp-domops", "cmp-vendors", "cmp-findings", "inc-table", "cp-table", "cp-fix", "why-table", "brief-table"]) {
        $(id).tHead.replaceChildren();
        $(id).tBodies[0].replaceChildren();
      }
    },
  };
}
