// The admin's import screen: upload files of one format (any CSV or Excel export with its YAML
// mapping, or a real format such as Topology Zoo or sensitive-site files), preview what would land
// (a dry run on the server: everything is read and validated, nothing is written) or every problem
// with its file, sheet, row and column, then import, all or nothing.
//
// The formats and their options come from GET /api/import-formats (the importers' own keyword
// arguments); the preview and the import are POST /api/snapshots/NAME/import with dry_run true or
// false. The Import button is enabled only by a clean preview of exactly the inputs on the screen:
// any change asks for a new preview. What the screen shows is kept on window.cleanpath.state.importer.
import { $, card, dataTable, el, nf, num, setText } from "./util.js";

const TABLE_WORDS = { operators: "operators", sites: "sites", elements: "elements", links: "links",
  sensitive_sites: "sensitive sites", demands: "demands", vendors: "vendors" };

/**
 * @param {object} ctx what app.js provides: state, api, problemText, afterImport(name) (refreshes the
 *   snapshot list, reloads the map if that snapshot is shown), openSnapshot(name)
 */
export function installImport(ctx) {
  const { state } = ctx;
  const my = { formats: null, preview: null, problems: null, imported: null, clean: false };
  state.importer = my;
  let version = 0; // bumped by every change of the inputs: a preview counts only for the inputs it saw
  let shown = false; // a preview, problems or an import's outcome is on the screen

  const format = () => my.formats?.find((f) => f.format === $("imp-format").value);
  const target = () => $("imp-snapshot").value.trim();
  const exists = (name) => (state.snapshots || []).some((s) => s.name === name);
  const error = (err) => setText("imp-summary", el("span", { class: "error" }, typeof err === "string" ? err : ctx.problemText(err)));

  async function opened() {
    if (my.formats) return;
    try {
      my.formats = (await ctx.api("/api/import-formats")).data.formats;
    } catch (err) { error(err); return; }
    $("imp-format").replaceChildren(...my.formats.map((f) => el("option", { value: f.format, title: f.help }, f.format)));
    fillSnapshots();
    showFormat();
  }

  function fillSnapshots() {
    $("imp-snapshots").replaceChildren(...(state.snapshots || []).map((s) =>
      el("option", { value: s.name }, `${s.name} · ${nf.format(s.elements)} elements`)));
    showMode();
  }

  function showMode() {
    const name = target(), there = exists(name);
    $("imp-mode-wrap").hidden = !there;
    $("imp-snapshot").title = !name ? "a new name, or an existing snapshot to add to or replace"
      : there ? `${name} exists: the import adds to it or replaces it` : `${name} is a new snapshot`;
  }

  // The chosen format's options as fields, from the server's description.
  function showFormat() {
    const f = format();
    setText("imp-format-help", f ? f.help : "");
    $("imp-options").replaceChildren(...(f?.options || []).map((o) => {
      const label = o.name === "mapping" ? "Mapping (YAML)" : o.name.replaceAll("_", " ") + (o.unit ? `, ${o.unit}` : "");
      let field;
      if (o.kind === "file") field = el("input", { type: "file", accept: o.accept || null });
      else if (o.kind === "choice") {
        field = el("select", {}, el("option", { value: "" }, "as the file says"), ...o.choices.map((c) => el("option", { value: c }, c)));
      } else if (o.kind === "number") field = el("input", { type: "number", min: o.min, max: o.max, step: "any" });
      else field = el("input", { type: "text", size: 12, pattern: o.pattern || null });
      field.dataset.option = o.name;
      field.id = `imp-opt-${o.name}`;
      field.title = o.help;
      return el("label", { title: o.help }, `${label}${o.required ? "" : " (optional)"}`, field);
    }));
  }

  function invalidate() {
    version++;
    my.clean = false;
    $("imp-run").disabled = true;
    $("imp-open").hidden = true;
  }

  for (const ev of ["input", "change"]) {
    $("tab-import").addEventListener(ev, (e) => {
      if (!e.target.matches("input, select") || e.target.id === "imp-first-table") return; // inputs only, not views
      if (e.target.id === "imp-format") showFormat();
      if (e.target.id === "imp-snapshot") showMode();
      invalidate();
      if (shown) { // what is on the screen no longer describes these inputs
        clear();
        setText("imp-summary", "The inputs changed: preview them before importing.");
      }
    });
  }

  // The request: every field that is set; an existing snapshot is added to unless "replace it".
  function request(dryRun) {
    const body = new FormData();
    body.append("format", $("imp-format").value);
    body.append("dry_run", dryRun ? "true" : "false");
    body.append("replace", exists(target()) && $("imp-mode").value === "replace" ? "true" : "false");
    for (const file of $("imp-files").files) body.append("files", file, file.name);
    for (const field of $("imp-options").querySelectorAll("[data-option]")) {
      if (field.type === "file") { if (field.files.length) body.append(field.dataset.option, field.files[0], field.files[0].name); }
      else if (field.value.trim() !== "") body.append(field.dataset.option, field.value.trim());
    }
    return body;
  }

  function missing() {
    if (!target()) return "Name the snapshot to import into (a new name, or an existing snapshot).";
    if (!$("imp-files").files.length) return "Choose one or more files.";
    const need = (format()?.options || []).filter((o) => o.required && !$(`imp-opt-${o.name}`).files?.length);
    if (need.length) return `The ${format().format} format needs: ${need.map((o) => o.name).join(", ")}.`;
    return null;
  }

  function clear() {
    shown = false;
    my.preview = my.problems = null;
    $("imp-cards").replaceChildren();
    $("imp-found").replaceChildren();
    $("imp-serving").replaceChildren();
    $("imp-warnings").replaceChildren();
    $("imp-tables-wrap").hidden = $("imp-problems-wrap").hidden = $("imp-first-wrap").hidden = true;
  }

  const send = (dryRun) => ctx.api(`/api/snapshots/${encodeURIComponent(target())}/import`, { method: "POST", body: request(dryRun) });

  $("imp-preview").addEventListener("click", preview);
  $("imp-run").addEventListener("click", runImport);
  $("imp-open").addEventListener("click", () => {
    $("imp-open").hidden = true;
    ctx.openSnapshot($("imp-open").dataset.snapshot);
  });

  async function preview() {
    const why = missing();
    if (why) { error(why); return; }
    invalidate();
    const seen = version;
    clear();
    setText("imp-summary", "Reading and checking the files (nothing is written)…");
    try {
      const r = await send(true);
      if (seen !== version) return; // the inputs changed while the server was checking them
      showPreview(r.data);
      my.clean = true;
      $("imp-run").disabled = false;
      $("imp-run").title = `Import into ${r.data.snapshot}, all or nothing`;
    } catch (err) {
      if (seen !== version) return;
      if (err.status === 422 && err.body?.problems?.length) showProblems(err.body, true);
      else error(err);
    }
  }

  const modeWords = (s) => (!s.existed ? "a new snapshot" : s.mode === "replace" ? "replacing it" : "added to it");

  function showPreview(result) {
    my.preview = result;
    const s = result.summary, name = result.snapshot;
    const added = Object.values(s.added).reduce((a, b) => a + b, 0);
    setText("imp-summary", el("span", { id: "imp-verdict" }, el("b", {}, "No problems"), `: ${nf.format(added)} rows would land in `,
      el("b", {}, name), ` (${modeWords(s)}). Nothing has been written yet.`));
    showCounts(result);
    // the first rows of each table as they would be stored (typed, vendor names resolved)
    const firsts = Object.keys(result.tables).filter((t) => t.startsWith("first_") && result.tables[t].length);
    $("imp-first-table").replaceChildren(...firsts.map((t) => el("option", { value: t }, TABLE_WORDS[t.slice(6)] || t.slice(6))));
    $("imp-first-wrap").hidden = !firsts.length;
    if (firsts.length) showFirst();
  }

  function showFirst() {
    const rows = my.preview?.tables[$("imp-first-table").value] || [];
    const cols = Object.keys(rows[0] || {}).filter((c) => rows.some((r) => r[c] !== null && r[c] !== ""));
    // values as stored, unrounded (a latitude read from "49,4443" shows as 49.4443)
    dataTable($("imp-first"), rows, cols.map((c) => ({ key: c, label: c.replaceAll("_", " "), fmt: "text" })));
  }
  $("imp-first-table").addEventListener("change", showFirst);

  function showCounts(result) {
    shown = true;
    const s = result.summary;
    $("imp-cards").replaceChildren(...Object.entries(s.added).map(([t, n]) =>
      card(`imp-added-${t}`, n, `${TABLE_WORDS[t] || t}${s.written ? " added" : " to add"}`
        + (s.skipped?.[t] ? ` (${nf.format(s.skipped[t])} already there)` : ""))));
    const rows = result.tables.tables.filter((r) => r.rows > 0 || r.added > 0 || r.skipped > 0);
    dataTable($("imp-tables"), rows, [{ key: "table", label: "table" },
      { key: "added", label: s.written ? "added" : "to add", fmt: "num" },
      { key: "skipped", label: "already there", fmt: "num" },
      { key: "rows", label: s.written ? "rows now" : "rows after", fmt: "num" }], { key: (r) => r.table });
    $("imp-tables-wrap").hidden = false;
    const found = [];
    if (s.operators?.length) found.push(el("div", { id: "imp-operators" }, el("b", {}, "Operators: "), s.operators.join(", ")));
    if (s.vendors && Object.keys(s.vendors).length) {
      found.push(el("div", { id: "imp-vendors" }, el("b", {}, "Vendors (elements): "),
        Object.entries(s.vendors).map(([v, n]) => `${v} ${nf.format(n)}`).join(" · ")));
    }
    const unknown = Object.entries(s.unknown_vendors || {});
    if (unknown.length) {
      found.push(el("div", { class: "sev-warning" }, "Not in the vendor catalogue, kept as given: ",
        unknown.map(([v, n]) => `${v} (${nf.format(n)})`).join(", ")));
    }
    $("imp-found").replaceChildren(...found);
    showServing(result);
    // the serving diagnosis has its own line: its sentences are not listed again among the notes
    const said = new Set(s.diagnosis || []);
    $("imp-warnings").replaceChildren(...(s.warnings || []).filter((w) => !said.has(w)).map((w) => el("li", {}, w)));
  }

  // How many elements of the snapshot as it would be (a preview; for a merge, with what is already
  // there) or as it is now (an import) cannot serve, per reason with its count and first element:
  // the server's one diagnosis, the same the CLI's import prints.
  function showServing(result) {
    const s = result.summary, would = !s.written, total = s.totals?.elements ?? 0;
    if (s.non_serving_elements === undefined) { $("imp-serving").replaceChildren(); return; }
    if (!s.non_serving_elements) {
      setText("imp-serving", total ? `Every element ${would ? "would serve" : "serves"} (${nf.format(total)}).` : "");
      return;
    }
    const rows = (result.tables.not_serving || []).filter((r) => r.elements > 0);
    setText("imp-serving", el("span", { class: "sev-warning" },
      `${nf.format(s.non_serving_elements)} of ${nf.format(total)} elements ${would ? "would not serve" : "cannot serve"}`),
    ": ", rows.map((r) => `${r.reason} (${nf.format(r.elements)}${r.example ? `, e.g. ${r.example}` : ""})`).join(" · "),
    `. ${would ? "Once imported, the" : "The"} Explain tab shows the chain of dependencies of any of them.`);
  }

  // Every problem as the server located it: the file (a workbook's sheet in its own column), the
  // row (line of a CSV, row of a sheet), their column, the value and the reason.
  function showProblems(body, dryRun) {
    shown = true;
    my.problems = body;
    const n = body.problems.length;
    setText("imp-summary", el("span", { id: "imp-verdict", class: "error" }, el("b", {}, `${n}${body.truncated ? "+" : ""} problem${n === 1 ? "" : "s"}`),
      dryRun ? ": nothing would land. Fix the files (or the mapping) and preview again."
        : ": nothing was imported; the workspace is as it was."));
    const rows = body.problems.map((p) => ({ ...p, file: p.sheet && p.file?.endsWith(`:${p.sheet}`) ? p.file.slice(0, -p.sheet.length - 1) : p.file }));
    dataTable($("imp-problems"), rows, [{ key: "file", label: "file" }, { key: "sheet", label: "sheet" },
      { key: "line", label: "row", fmt: "num" }, { key: "column", label: "column", fmt: "text" },
      { key: "value", label: "value" }, { key: "reason", label: "reason" }],
    { key: (p) => `${p.file ?? ""}:${p.sheet ?? ""}:${p.line ?? ""}:${p.column ?? ""}` });
    setText("imp-problems-note", body.truncated ? "(the first 100)" : "");
    $("imp-problems-wrap").hidden = false;
  }

  async function runImport() {
    if (!my.clean) return;
    const seen = version, name = target();
    $("imp-run").disabled = true;
    setText("imp-summary", `Importing into ${name}…`);
    try {
      const r = await send(false);
      my.imported = r.data;
      my.clean = false; // importing the same files again needs a new preview (a merge would skip every row)
      clear();
      const s = r.data.summary, added = Object.values(s.added).reduce((a, b) => a + b, 0);
      setText("imp-summary", el("span", { id: "imp-verdict" }, el("b", {}, "Imported"), `: ${nf.format(added)} rows into `,
        el("b", {}, r.data.snapshot), `, which now holds ${num(s.totals.sites)} sites and ${num(s.totals.elements)} elements.`));
      showCounts(r.data);
      await ctx.afterImport(r.data.snapshot);
      fillSnapshots();
      if (seen === version && r.data.snapshot !== state.snapshot) { // another snapshot is on the map
        $("imp-open").dataset.snapshot = r.data.snapshot;
        $("imp-open").textContent = `Show ${r.data.snapshot} on the map`;
        $("imp-open").hidden = false;
      }
    } catch (err) {
      if (err.status === 422 && err.body?.problems?.length) showProblems(err.body, false);
      else error(err);
    }
  }

  return { opened, fillSnapshots };
}
