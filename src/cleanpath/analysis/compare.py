"""The ``compare`` question: what changed between two snapshots, and what that did to the findings.

Elements are matched by ``element_id``: an id only in B was *added*, only in A *removed*, in both
with a different vendor *re-vendored* (the swap a rip-and-replace makes). With policies, both
snapshots are audited at the same date and findings are matched by ``finding_id`` (pack, rule
and element, operator or sensitive site): *new* in B, *resolved* (only in A), or *unchanged*.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cleanpath.analysis.audit import PolicySpec, audit_network, parse_date
from cleanpath.model.network import Network
from cleanpath.result import Result

CHANGE_COLUMNS = ["element_id", "change", "domain", "operator_id", "site_id", "role", "generation",
                  "vendor_a", "vendor_b"]


def _obj(s: pd.Series) -> np.ndarray:
    """A column as an object array with None (not NaN) where a value is missing."""
    a = s.to_numpy(dtype=object, copy=True)
    a[pd.isna(a)] = None
    return a


def _element_frame(net: Network) -> pd.DataFrame:
    el = net.elements
    sites = net.sites[["site_id", "operator_id"]]
    df = pd.DataFrame({
        "element_id": el["element_id"].to_numpy(dtype=object),
        "site_id": el["site_id"].to_numpy(dtype=object),
        "role": el["role"].to_numpy(dtype=object),
        "generation": el["generation"].to_numpy(dtype=object, na_value=None),
        "vendor": el["vendor"].to_numpy(dtype=object, na_value=None),
    })
    df["domain"] = df["role"].str.split(".", n=1).str[0]
    op = pd.Series(sites["operator_id"].to_numpy(dtype=object), index=sites["site_id"].to_numpy(dtype=object))
    df["operator_id"] = df["site_id"].map(op)
    return df


def element_changes(net_a: Network, net_b: Network) -> pd.DataFrame:
    """Elements added, removed and re-vendored from ``net_a`` to ``net_b`` (one row each)."""
    a, b = _element_frame(net_a), _element_frame(net_b)
    m = a.merge(b, on="element_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    side = m["_merge"].to_numpy(dtype=object)
    va, vb = m["vendor_a"].to_numpy(dtype=object), m["vendor_b"].to_numpy(dtype=object)
    both = side == "both"
    revendored = both & (pd.Series(va).fillna("").to_numpy() != pd.Series(vb).fillna("").to_numpy())
    change = np.where(side == "right_only", "added", np.where(side == "left_only", "removed",
                                                               np.where(revendored, "revendored", "")))
    keep = change != ""
    m = m.loc[keep]
    change = change[keep]
    from_b = change != "removed"  # describe an element by its state in B unless it is gone

    def pick(col: str) -> np.ndarray:
        return np.where(from_b, _obj(m[f"{col}_b"]), _obj(m[f"{col}_a"]))

    out = pd.DataFrame({
        "element_id": m["element_id"].to_numpy(dtype=object), "change": change,
        "domain": pick("domain"), "operator_id": pick("operator_id"), "site_id": pick("site_id"),
        "role": pick("role"), "generation": pick("generation"),
        "vendor_a": _obj(m["vendor_a"]), "vendor_b": _obj(m["vendor_b"]),
    }, columns=CHANGE_COLUMNS)
    order = pd.Categorical(out["change"], categories=["removed", "revendored", "added"], ordered=True)
    return out.assign(_o=order).sort_values(["_o", "element_id"], ignore_index=True).drop(columns="_o")


def _by_domain_operator(net_a: Network, net_b: Network, changes: pd.DataFrame) -> pd.DataFrame:
    keys = ["domain", "operator_id"]
    cols = ["elements_a", "elements_b", "added", "removed", "revendored"]
    rows = pd.concat([_element_frame(net_a)[keys].assign(what="elements_a"),
                      _element_frame(net_b)[keys].assign(what="elements_b"),
                      changes[keys].assign(what=changes["change"].to_numpy())], ignore_index=True)
    if len(rows) == 0:
        return pd.DataFrame(columns=keys + cols)
    out = (rows.groupby(keys + ["what"], dropna=False).size().unstack("what", fill_value=0)
           .reindex(columns=cols, fill_value=0).astype("int64"))
    return out.reset_index().sort_values(keys, ignore_index=True)


def _by_vendor(net_a: Network, net_b: Network) -> pd.DataFrame:
    a = _element_frame(net_a)["vendor"].value_counts().rename("elements_a")
    b = _element_frame(net_b)["vendor"].value_counts().rename("elements_b")
    out = pd.concat([a, b], axis=1).fillna(0).astype("int64")
    out["delta"] = out["elements_b"] - out["elements_a"]
    out.index.name = "vendor"
    return out.reset_index().sort_values(["delta", "vendor"], ignore_index=True)


def findings_diff(findings_a: pd.DataFrame, findings_b: pd.DataFrame) -> pd.DataFrame:
    """Findings matched by ``finding_id``: status new, resolved or unchanged, with both severities."""
    cols = ["finding_id", "pack", "rule_id", "severity", "element_id", "operator_id", "vendor", "message"]
    a = findings_a[cols].astype(object)
    b = findings_b[cols].astype(object)
    m = a.merge(b, on="finding_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    side = m["_merge"].to_numpy(dtype=object)
    status = np.where(side == "both", "unchanged", np.where(side == "right_only", "new", "resolved"))
    from_b = status != "resolved"

    def pick(col: str) -> np.ndarray:
        return np.where(from_b, _obj(m[f"{col}_b"]), _obj(m[f"{col}_a"]))

    out = pd.DataFrame({
        "finding_id": m["finding_id"].to_numpy(dtype=object), "status": status,
        "pack": pick("pack"), "rule_id": pick("rule_id"),
        "severity_a": _obj(m["severity_a"]), "severity_b": _obj(m["severity_b"]),
        "element_id": pick("element_id"), "operator_id": pick("operator_id"), "vendor": pick("vendor"),
        "message": pick("message"),
    })
    order = pd.Categorical(out["status"], categories=["new", "resolved", "unchanged"], ordered=True)
    return out.assign(_o=order).sort_values(["_o", "finding_id"], ignore_index=True).drop(columns="_o")


def compare_snapshots(net_a: Network, net_b: Network, *, policies: PolicySpec | None = None,
                      as_of: str | dt.date | None = None, jurisdiction: bool = True) -> Result:
    """Compare two snapshots: element changes, and (with policies) how the findings changed.

    Parameters
    ----------
    net_a, net_b
        The "before" and "after" networks.
    policies
        Packs or policy files to audit both with (None: compare elements only).
    as_of
        Audit date for both (default today).
    jurisdiction
        As for :func:`~cleanpath.analysis.audit.audit_network`.

    Returns
    -------
    Result
        Tables ``changes`` (element_id, change, domain, operator_id, site_id, role, generation,
        vendor_a, vendor_b), ``by_domain_operator``, ``by_vendor``; with policies also
        ``findings`` (finding_id, status new|resolved|unchanged, severities in A and B, ...) and
        ``findings_by_rule``.
    """
    changes = element_changes(net_a, net_b)
    counts = changes["change"].value_counts()
    summary = {"snapshot_a": net_a.name, "snapshot_b": net_b.name,
               "elements_a": len(net_a.elements), "elements_b": len(net_b.elements),
               "added": int(counts.get("added", 0)), "removed": int(counts.get("removed", 0)),
               "revendored": int(counts.get("revendored", 0))}
    tables = {"changes": changes, "by_domain_operator": _by_domain_operator(net_a, net_b, changes),
              "by_vendor": _by_vendor(net_a, net_b)}
    params: dict = {"a": net_a.name, "b": net_b.name}
    if policies is not None:
        day = parse_date(as_of)
        ra = audit_network(net_a, policies=policies, as_of=day, jurisdiction=jurisdiction)
        rb = audit_network(net_b, policies=policies, as_of=day, jurisdiction=jurisdiction)
        diff = findings_diff(ra.tables["findings"], rb.tables["findings"])
        st = diff["status"].value_counts()
        by_rule = (diff.groupby(["pack", "rule_id", "status"]).size().unstack("status", fill_value=0)
                   .reindex(columns=["new", "resolved", "unchanged"], fill_value=0).reset_index())
        summary.update({"as_of": day, "policies": ra.params["policies"],
                        "findings_new": int(st.get("new", 0)), "findings_resolved": int(st.get("resolved", 0)),
                        "findings_unchanged": int(st.get("unchanged", 0)),
                        "violations_a": ra.summary["violations"], "violations_b": rb.summary["violations"]})
        params.update({"policies": ra.params["policies"], "as_of": day, "jurisdiction": jurisdiction})
        tables["findings"] = diff
        tables["findings_by_rule"] = by_rule
    return Result(question="compare", snapshot=f"{net_a.name}..{net_b.name}", params=params,
                  summary=summary, tables=tables)
