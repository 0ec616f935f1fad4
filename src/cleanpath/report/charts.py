"""Inline SVG charts for the report, one small set per question."""

from __future__ import annotations

import html

import pandas as pd

from cleanpath.report.html import bar_chart_svg
from cleanpath.result import Result


def line_chart_svg(x: list, series: dict[str, list[float]], *, width: int = 560, height: int = 220) -> str:
    """A line chart with one line per series, shared x axis labels."""
    if not x or not series:
        return ""
    colours = ["#d62828", "#457b9d", "#2a9d8f", "#f4a261", "#6d597a"]
    vmax = max(max(v) for v in series.values()) or 1.0
    left, bottom, top = 50, 30, 10
    w, h = width - left - 10, height - bottom - top
    step = w / max(len(x) - 1, 1)
    parts = [f"<line x1='{left}' y1='{top + h}' x2='{left + w}' y2='{top + h}' stroke='#999'/>",
             f"<text x='{left - 4}' y='{top + 8}' text-anchor='end' font-size='10'>{vmax:,.0f}</text>",
             f"<text x='{left - 4}' y='{top + h}' text-anchor='end' font-size='10'>0</text>"]
    for i, lab in enumerate(x):
        parts.append(f"<text x='{left + i * step:.1f}' y='{top + h + 14}' text-anchor='middle' "
                     f"font-size='10'>{html.escape(str(lab))}</text>")
    for k, (name, vals) in enumerate(series.items()):
        pts = " ".join(f"{left + i * step:.1f},{top + h - h * v / vmax:.1f}" for i, v in enumerate(vals))
        c = colours[k % len(colours)]
        parts.append(f"<polyline points='{pts}' fill='none' stroke='{c}' stroke-width='2'/>")
        parts.append(f"<text x='{left + 8 + 120 * k}' y='{height - 2}' font-size='11' fill='{c}'>"
                     f"{html.escape(name)}</text>")
    return f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>{''.join(parts)}</svg>"


def _bars(df: pd.DataFrame, label: str, value: str, *, top: int = 15, colour: str = "#457b9d") -> str:
    if df is None or len(df) == 0 or label not in df or value not in df:
        return ""
    d = df.sort_values(value, ascending=False).head(top)
    return bar_chart_svg(d[label].astype(str).tolist(), d[value].astype(float).tolist(), colour=colour)


def charts_for(results: list[Result]) -> dict[str, dict[str, str]]:
    """Charts per question name, for :func:`cleanpath.report.html.write_report`."""
    out: dict[str, dict[str, str]] = {}
    for r in results:
        t = r.tables
        c: dict[str, str] = {}
        if r.question == "info":
            c["elements by vendor"] = _bars(t.get("by_vendor"), "vendor", "elements")
            c["elements by domain"] = _bars(t.get("by_domain"), "domain", "elements")
        elif r.question == "audit":
            br = t.get("by_rule")
            if br is not None and len(br) and "rule_id" in br:
                counts = br[[k for k in ("violation", "warning", "info") if k in br]].sum(axis=1)
                d = pd.DataFrame({"rule": br["pack"].astype(str) + "/" + br["rule_id"].astype(str),
                                  "findings": counts.astype(float)})
                c["findings by rule (violations, warnings and info)"] = _bars(d, "rule", "findings",
                                                                              colour="#d62828")
        elif r.question == "outage":
            lost = r.summary.get("lost_by_domain") or {}
            if lost:
                c["elements lost by domain"] = bar_chart_svg(list(lost), [float(v) for v in lost.values()],
                                                             colour="#d62828")
        elif r.question == "exposure":
            c["untrusted elements near each sensitive site"] = _bars(t.get("exposure"), "sensitive_id",
                                                                     "untrusted_elements_within", colour="#d62828")
        elif r.question == "plan":
            y = t.get("years")
            if y is not None and len(y):
                c["replacement cost per year"] = bar_chart_svg(y["year"].astype(str).tolist(),
                                                               y["cost"].astype(float).tolist())
                c["untrusted elements left and elements past their deadline"] = line_chart_svg(
                    y["year"].tolist(), {"untrusted left": y["untrusted_elements_left"].astype(float).tolist(),
                                         "past deadline": y["elements_past_deadline"].astype(float).tolist()})
            comp = t.get("compliance")
            if comp is not None and len(comp):
                c["compliance curve (audit at year end)"] = line_chart_svg(
                    comp["year"].tolist(), {"violations": comp["violations"].astype(float).tolist(),
                                            "warnings": comp["warnings"].astype(float).tolist()})
        elif r.question == "funding":
            g = t.get("groups")
            if g is not None and len(g):
                c["share of approved demand paid, by priority group"] = bar_chart_svg(
                    [f"group {v}" for v in g["group"]], g["factor"].astype(float).tolist())
        elif r.question == "incentive":
            c["break-even subsidy share by operator"] = _bars(t.get("operators"), "operator_id",
                                                              "break_even_subsidy_share")
        out[r.question] = {k: v for k, v in c.items() if v}
    return out
