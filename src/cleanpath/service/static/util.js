// Small helpers shared by the dashboard's modules: DOM building, number formats, tables.
//
// Text from the API is always inserted as text nodes (el() never parses HTML).

export const $ = (id) => document.getElementById(id);
export const nf = new Intl.NumberFormat("en");

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.setAttribute("style", v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export function num(v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v !== "number") return String(v);
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? nf.format(Math.round(v)) : v.toPrecision(3);
}

export function money(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v), sign = v < 0 ? "-" : "";
  if (a >= 1e9) { // three decimals when the third is not 0: appropriations are enacted as e.g. US$1.895 bn
    const t = (a / 1e9).toFixed(3);
    return `${sign}US$${t.endsWith("0") ? t.slice(0, -1) : t} bn`;
  }
  if (a >= 1e6) return `${sign}US$${(a / 1e6).toFixed(1)} M`;
  return `${sign}US$${nf.format(Math.round(a))}`;
}

export const pct = (v) => (v === null || v === undefined ? "" : `${(100 * v).toFixed(1)} %`);
export const km = (m) => (m === null || m === undefined ? "" : `${(m / 1000).toFixed(1)} km`);
export const FORMATS = { num, money, pct, km, text: (v) => (v === null || v === undefined ? "" : String(v)) };

export function setText(id, ...parts) {
  $(id).replaceChildren(...parts.map((p) => (p instanceof Node ? p : String(p))));
}
export function today() { return new Date().toISOString().slice(0, 10); }
export function selected(select) { return [...select.selectedOptions].map((o) => o.value); }

export function rowsAsObjects(page) {
  return page.rows.map((r) => Object.fromEntries(page.columns.map((c, i) => [c, r[i]])));
}

/** Round axis ticks from 0 to at least max. */
export function ticks(max, n = 4, integer = false) {
  if (!(max > 0)) return [0];
  const step0 = max / n, mag = 10 ** Math.floor(Math.log10(step0));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  if (integer) step = Math.max(1, Math.round(step));
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(v);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

/**
 * Fill a <table> with rows. Numeric cells carry their exact value in data-value (the text is rounded).
 * @param {HTMLTableElement} table
 * @param {object[]} rows
 * @param {Array<{key: string, label: string, fmt?: string|Function, value?: Function, cls?: Function}>} cols
 * @param {{onclick?: Function, rowClass?: Function, title?: Function, key?: Function}} opts key: the row's data-key
 */
export function dataTable(table, rows, cols, opts = {}) {
  table.tHead.replaceChildren(el("tr", {}, ...cols.map((c) => el("th", { class: c.fmt && c.fmt !== "text" ? "num" : "" }, c.label))));
  table.tBodies[0].replaceChildren(...rows.map((row) => {
    const tr = el("tr", { class: opts.rowClass?.(row) || (opts.onclick ? "clickable" : ""), title: opts.title?.(row),
      "data-key": opts.key?.(row) });
    if (opts.onclick) tr.addEventListener("click", () => opts.onclick(row, tr));
    for (const c of cols) {
      const v = c.value ? c.value(row) : row[c.key];
      if (v instanceof Node) { tr.append(el("td", { "data-col": c.key }, v)); continue; }
      const fmt = typeof c.fmt === "function" ? c.fmt : FORMATS[c.fmt || (typeof v === "number" ? "num" : "text")];
      const numeric = typeof v === "number";
      tr.append(el("td", { class: [numeric ? "num" : "", c.cls?.(row) || ""].join(" ").trim() || null, "data-col": c.key,
        "data-value": numeric ? String(v) : null }, fmt(v)));
    }
    return tr;
  }));
}

/** Mark one row of a table as selected. */
export function selectRow(tr) {
  for (const o of tr.parentElement.children) o.classList.toggle("selected", o === tr);
}

/** A value card (big number, label); the value's exact number is in data-value. */
export function card(id, value, label, fmt = num) {
  return el("div", { class: "card" }, el("div", { class: "value", id, "data-value": typeof value === "number" ? String(value) : null },
    fmt(value)), el("div", { class: "label" }, label));
}
