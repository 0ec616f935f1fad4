// Small charts as inline SVG: lines over months, horizontal bars, grouped bars.
//
// Every mark carries its exact value in data-value (and a <title> tooltip), so what a chart shows
// can be checked against the numbers it was drawn from.
import { el, num, svg, ticks } from "./util.js";

const W = 490;

function yAxis(root, { L, R, T, y, max, fmt, integer }) {
  const axis = svg("g", { class: "axis" });
  for (const t of ticks(max, 4, integer)) {
    axis.append(svg("line", { x1: L, x2: W - R, y1: y(t), y2: y(t), "stroke-dasharray": "2 3" }),
      svg("text", { x: L - 6, y: y(t) + 3, "text-anchor": "end" }, fmt(t)));
  }
  root.append(axis);
  return axis;
}

function legend(root, x0, y0, items) {
  const g = svg("g", { class: "legend", transform: `translate(${x0},${y0})` });
  let x = 0;
  for (const it of items) {
    g.append(it.line ? svg("line", { x1: x, x2: x + 16, y1: -3, y2: -3, stroke: it.color, "stroke-width": 2 })
      : svg("rect", { x, y: -8, width: 10, height: 10, fill: it.color }));
    const label = svg("text", { x: x + (it.line ? 20 : 14), y: 1 }, it.label);
    g.append(label);
    x += (it.line ? 26 : 20) + 6 * it.label.length;
  }
  root.append(g);
}

/**
 * Lines over months.
 * @param {string[]} months "YYYY-MM", in order
 * @param {Array<{key: string, label: string, color: string, values: number[]}>} series
 * @param {{shade?: boolean[], shadeLabel?: string, ariaLabel: string}} opts shade: months to tint
 */
export function monthLines(months, series, opts) {
  if (!months.length) return el("p", { class: "muted" }, "No months.");
  const H = 250, L = 46, R = 12, T = 16, B = 46;
  const max = ticks(Math.max(1, ...series.flatMap((s) => s.values)), 4, true).at(-1);
  const step = months.length > 1 ? (W - L - R) / (months.length - 1) : 0;
  const x = (i) => L + (months.length > 1 ? step * i : (W - L - R) / 2);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.ariaLabel });
  if (opts.shade) {
    const band = Math.max(step, 2);
    opts.shade.forEach((on, i) => {
      if (on) root.append(svg("rect", { class: "shade", x: x(i) - band / 2, y: T, width: band, height: H - T - B, fill: "#fbe3df" }));
    });
  }
  const axis = yAxis(root, { L, R, T, y, max, fmt: num, integer: true });
  // a tick per year (per quarter when the range is short)
  const every = months.length <= 18 ? ["01", "04", "07", "10"] : ["01"];
  months.forEach((m, i) => {
    if (!every.includes(m.slice(5)) && i !== 0) return;
    axis.append(svg("line", { x1: x(i), x2: x(i), y1: H - B, y2: H - B + 4 }),
      svg("text", { x: x(i), y: H - B + 15, "text-anchor": "middle" }, months.length <= 18 ? m : m.slice(0, 4)));
  });
  for (const s of series) {
    root.append(svg("polyline", { class: `line-${s.key}`, fill: "none", stroke: s.color, "stroke-width": 2,
      points: s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
    const dots = svg("g", { class: `dots-${s.key}` });
    s.values.forEach((v, i) => dots.append(svg("circle", { cx: x(i), cy: y(v), r: months.length > 60 ? 1.8 : 3, fill: s.color,
      "data-month": months[i], "data-value": v }, svg("title", {}, `${months[i]}: ${num(v)} ${s.label}`))));
    root.append(dots);
  }
  const items = series.map((s) => ({ label: s.label, color: s.color, line: true }));
  if (opts.shade?.some(Boolean)) items.push({ label: opts.shadeLabel || "shaded", color: "#fbe3df" });
  legend(root, L, H - 10, items);
  return root;
}

/**
 * Horizontal bars, one per row.
 * @param {Array<{label: string, value: number, color?: string, title?: string}>} rows
 * @param {{fmt?: Function, max?: number, ariaLabel: string, labelWidth?: number}} opts
 */
export function hbars(rows, opts) {
  if (!rows.length) return el("p", { class: "muted" }, "Nothing to show.");
  const fmt = opts.fmt || num, LW = opts.labelWidth || 150, RW = 70, rowH = 20, T = 4;
  const H = T + rows.length * rowH + 4;
  const max = opts.max ?? Math.max(...rows.map((r) => r.value), 1e-12);
  const w = (v) => ((W - LW - RW) * Math.max(0, v)) / max;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.ariaLabel });
  rows.forEach((r, i) => {
    const y0 = T + i * rowH;
    const label = r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label;
    root.append(svg("text", { class: "bar-label", x: LW - 6, y: y0 + 13, "text-anchor": "end" }, label),
      svg("rect", { class: "bar", x: LW, y: y0 + 3, width: w(r.value), height: rowH - 7, fill: r.color || "#1f5f99",
        "data-label": r.label, "data-value": r.value }, svg("title", {}, r.title || `${r.label}: ${fmt(r.value)}`)),
      svg("text", { class: "bar-value", x: LW + w(r.value) + 4, y: y0 + 13 }, fmt(r.value)));
  });
  return root;
}

/**
 * Vertical bars grouped by category, one bar per series.
 * @param {string[]} categories
 * @param {Array<{key: string, label: string, color: string, values: number[]}>} series
 * @param {{fmt?: Function, ariaLabel: string}} opts
 */
export function groupedBars(categories, series, opts) {
  if (!categories.length) return el("p", { class: "muted" }, "Nothing to show.");
  const fmt = opts.fmt || num, H = 250, L = 62, R = 10, T = 14, B = 48;
  // one tick step for both sides of zero (values can be negative: a net gain)
  const vals = series.flatMap((s) => s.values), lo = Math.min(0, ...vals), top = Math.max(0, ...vals);
  const t0 = ticks(Math.max(top, -lo, 1)), step = t0.length > 1 ? t0[1] - t0[0] : 1;
  const hi = Math.max(step, Math.ceil(top / step - 1e-9) * step), low = -Math.ceil(-lo / step - 1e-9) * step;
  const y = (v) => T + (H - T - B) * (1 - (v - low) / (hi - low));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.ariaLabel });
  const axis = svg("g", { class: "axis" });
  const tickValues = [];
  for (let t = low; t <= hi + step * 1e-9; t += step) tickValues.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  for (const t of tickValues) {
    axis.append(svg("line", { x1: L, x2: W - R, y1: y(t), y2: y(t), "stroke-dasharray": t === 0 ? null : "2 3" }),
      svg("text", { x: L - 6, y: y(t) + 3, "text-anchor": "end" }, fmt(t)));
  }
  const band = (W - L - R) / categories.length, bw = Math.min(28, (band * 0.8) / series.length);
  categories.forEach((c, i) => axis.append(svg("text", { x: L + band * (i + 0.5), y: H - B + 14, "text-anchor": "middle" },
    c.length > 18 ? `${c.slice(0, 17)}…` : c)));
  root.append(axis);
  categories.forEach((c, i) => series.forEach((s, j) => {
    const v = s.values[i] ?? 0, x0 = L + band * (i + 0.5) + (j - series.length / 2) * bw;
    root.append(svg("rect", { class: `bar bar-${s.key}`, x: x0, y: Math.min(y(v), y(0)), width: bw - 2, height: Math.abs(y(v) - y(0)),
      fill: s.color, "data-category": c, "data-value": v }, svg("title", {}, `${c}: ${fmt(v)} ${s.label}`)));
  }));
  legend(root, L, H - 10, series.map((s) => ({ label: s.label, color: s.color })));
  return root;
}
