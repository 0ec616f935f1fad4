"""The ``info`` question: what is in a snapshot, counted every useful way."""

from __future__ import annotations

import pandas as pd

from cleanpath.analysis.explain import serving_diagnosis, serving_warnings
from cleanpath.model.network import Network
from cleanpath.model.schema import TABLES
from cleanpath.result import Result


def _count(df: pd.DataFrame, by: list[str], name: str = "elements") -> pd.DataFrame:
    if len(df) == 0:
        return pd.DataFrame(columns=by + [name])
    out = df.groupby(by, dropna=False, observed=True).size().rename(name).reset_index()
    return out.sort_values([name] + by, ascending=[False] + [True] * len(by), ignore_index=True)


def run_info(net: Network) -> Result:
    """Summarise a network: table sizes, and elements by domain, vendor, generation, operator, country.

    Parameters
    ----------
    net
        The network.

    Returns
    -------
    Result
        Tables ``tables``, ``by_domain``, ``by_vendor``, ``by_generation``, ``by_operator``,
        ``by_country``, ``by_site_kind`` and ``not_serving`` (non-serving elements by reason, see
        :func:`cleanpath.analysis.explain.serving_diagnosis`); the summary holds the headline
        counts, unknown vendor names, ``non_serving_elements``, ``non_serving_by_reason`` (only
        reasons that occur) and ``warnings`` (sentences saying how many elements cannot serve and
        why; empty when all serve).
    """
    el = net.elements
    sites = net.sites[["site_id", "operator_id"]]
    ops = net.operators[["operator_id", "country"]]
    frame = pd.DataFrame({
        "domain": net.element_domains(),
        "vendor": el["vendor"],
        "generation": el["generation"],
        "site_id": el["site_id"],
    })
    frame = frame.merge(sites, on="site_id", how="left").merge(ops, on="operator_id", how="left")
    cat = net.catalogue.table[["vendor_id", "name", "hq_country"]].rename(
        columns={"vendor_id": "vendor", "name": "vendor_name"})
    by_vendor = _count(frame, ["vendor"]).merge(cat.astype(object), on="vendor", how="left")
    by_vendor["in_catalogue"] = by_vendor["vendor_name"].notna()
    counts = {t: int(len(getattr(net, t))) for t in TABLES}
    unknown = net.unknown_vendors()
    by_site_kind = _count(net.sites, ["kind"], "sites")
    diagnosis = serving_diagnosis(net)
    occurring = diagnosis[diagnosis["elements"] > 0]
    return Result(
        question="info",
        snapshot=net.name,
        summary={
            **counts,
            "countries": sorted(ops["country"].dropna().unique().tolist()),
            "distinct_vendors": int(el["vendor"].nunique()),
            "unknown_vendors": {str(k): int(v) for k, v in unknown.items()},
            "elements_out_of_service": int((~el["in_service"].fillna(True).astype(bool)).sum()),
            "non_serving_elements": int(diagnosis["elements"].sum()),
            "non_serving_by_reason": {str(r): int(c) for r, c in zip(occurring["reason"], occurring["elements"])},
            "warnings": serving_warnings(net),
        },
        tables={
            "by_domain": _count(frame, ["domain"]),
            "by_vendor": by_vendor,
            "by_generation": _count(frame, ["generation"]),
            "by_operator": _count(frame, ["operator_id", "country"]),
            "by_country": _count(frame, ["country"]),
            "by_site_kind": by_site_kind,
            "not_serving": diagnosis,
            "tables": pd.DataFrame({"table": list(counts), "rows": list(counts.values())}),
        },
    )
