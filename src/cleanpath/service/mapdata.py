"""What the dashboard's map draws: every positioned site as compact parallel arrays.

80 thousand sites as GeoJSON with string properties would be tens of megabytes; as arrays of
rounded coordinates and small integer codes into lookup lists they are about two, and the page
builds its features in one loop. A site is *untrusted* when any element at it is from an untrusted
vendor, *trusted* when none is and at least one is from a known vendor, and *unknown* otherwise
(no elements, or only elements of unknown vendor).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from cleanpath.model.network import Network
from cleanpath.result import jsonable

#: Site status codes in the payload.
STATUS = ("trusted", "untrusted", "unknown")


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 for missing) and the sorted distinct values."""
    cat = pd.Categorical(values.astype(object).where(values.notna(), None))
    return cat.codes.astype(np.int32), [str(c) for c in cat.categories]


def site_vendors(net: Network, untrusted: frozenset[str] | set[str]) -> pd.DataFrame:
    """Per site: element count, untrusted element count, unknown-vendor count and dominant vendor.

    Returns
    -------
    DataFrame
        Indexed by ``site_id``: ``elements``, ``untrusted``, ``unknown``, ``vendor`` (the vendor
        with most elements at the site; ties go to the alphabetically first).
    """
    el = pd.DataFrame({"site_id": net.elements["site_id"].to_numpy(dtype=object),
                       "vendor": net.elements["vendor"].to_numpy(dtype=object, na_value=None)})
    vend = el["vendor"]
    el["untrusted"] = vend.isin(list(untrusted)).to_numpy(dtype=np.int64)
    el["unknown"] = (vend.isna() | (vend == "unknown")).to_numpy(dtype=np.int64)
    per_site = el.groupby("site_id", sort=False).agg(elements=("vendor", "size"), untrusted=("untrusted", "sum"),
                                                     unknown=("unknown", "sum"))
    counts = el.dropna(subset=["vendor"]).groupby(["site_id", "vendor"], sort=False).size().rename("n").reset_index()
    # most elements first, then vendor name: the first row per site is its dominant vendor
    top = counts.sort_values(["site_id", "n", "vendor"], ascending=[True, False, True]).drop_duplicates("site_id")
    per_site["vendor"] = top.set_index("site_id")["vendor"].reindex(per_site.index)
    return per_site


def map_payload(net: Network, *, untrusted: frozenset[str] | set[str], snapshot: str) -> dict[str, Any]:
    """The map's data for one snapshot and one untrusted-vendor set.

    Returns
    -------
    dict
        ``sites``: ``lon``, ``lat`` (5 decimals, about a metre), ``status`` (index into
        ``status``), ``vendor``, ``operator``, ``kind`` (indexes into the lists of the same names,
        -1 for none); ``sensitive``: one object per sensitive site; ``bounds``; ``vendors`` with
        element counts (for the switch-off picker); ``sites_without_position``.
    """
    sites = net.sites
    lat = sites["lat"].to_numpy(dtype=float, na_value=np.nan)
    lon = sites["lon"].to_numpy(dtype=float, na_value=np.nan)
    placed = np.isfinite(lat) & np.isfinite(lon)
    ids = sites["site_id"].to_numpy(dtype=object)
    per_site = site_vendors(net, untrusted).reindex(ids)
    n_el = per_site["elements"].fillna(0).to_numpy(dtype=np.int64)
    n_bad = per_site["untrusted"].fillna(0).to_numpy(dtype=np.int64)
    n_unknown = per_site["unknown"].fillna(0).to_numpy(dtype=np.int64)
    status = np.where(n_bad > 0, 1, np.where((n_el > 0) & (n_unknown < n_el), 0, 2)).astype(np.int8)
    vendor_code, vendors = _codes(per_site["vendor"].reset_index(drop=True))
    op_code, operators = _codes(sites["operator_id"])
    kind_code, kinds = _codes(sites["kind"])

    by_vendor = net.elements["vendor"].astype(object).fillna("unknown").value_counts()
    ss = net.sensitive_sites
    sensitive = []
    if len(ss):
        geoms = ss["geometry"].astype(object).where(ss["geometry"].notna(), None).tolist()
        for rec, geom in zip(ss[["sensitive_id", "name", "kind", "country", "lat", "lon", "radius_m"]]
                             .astype(object).itertuples(index=False), geoms):  # a few hundred rows at most
            sensitive.append({"id": rec[0], "name": rec[1], "kind": rec[2], "country": rec[3],
                              "lat": jsonable(rec[4]), "lon": jsonable(rec[5]), "radius_m": jsonable(rec[6]),
                              "geometry": json.loads(geom) if geom else None})
    lo, la = lon[placed], lat[placed]
    bounds = [float(lo.min()), float(la.min()), float(lo.max()), float(la.max())] if placed.any() else None
    return {
        "snapshot": snapshot,
        "status": list(STATUS),
        "untrusted": sorted(untrusted),
        "countries": sorted(net.operators["country"].dropna().astype(str).unique().tolist()),
        "vendors": [str(v) for v in vendors],
        "operators": operators,
        "kinds": kinds,
        "vendor_elements": {str(k): int(v) for k, v in by_vendor.items()},
        "sites": {
            "count": int(placed.sum()),
            "lon": np.round(lo, 5).tolist(),
            "lat": np.round(la, 5).tolist(),
            "status": status[placed].tolist(),
            "vendor": vendor_code[placed].tolist(),
            "operator": op_code[placed].tolist(),
            "kind": kind_code[placed].tolist(),
        },
        "sites_without_position": int((~placed).sum()),
        "sensitive": sensitive,
        "bounds": bounds,
    }
