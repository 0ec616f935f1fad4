"""Apply a replacement schedule to a network: the "after" snapshot that compare and audit judge."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cleanpath.model.network import Network


def replacement_vendors(net: Network, untrusted: set[str]) -> pd.Series:
    """For each (operator, domain), the trusted vendor it already uses most: who gets the contract.

    Falls back to the most common trusted vendor of the domain nationally, then to the most common
    trusted vendor overall.
    """
    el = net.elements
    op = el["site_id"].map(net.sites.set_index("site_id")["operator_id"]).astype(object)
    dom = net.element_domains().astype(object)
    vendor = el["vendor"].astype(object)
    ok = ~vendor.isin(list(untrusted) + ["unknown"])
    f = pd.DataFrame({"operator_id": op[ok], "domain": dom[ok], "vendor": vendor[ok]})
    by_op = f.groupby(["operator_id", "domain"])["vendor"].agg(lambda s: s.value_counts().index[0])
    by_dom = f.groupby("domain")["vendor"].agg(lambda s: s.value_counts().index[0])
    overall = f["vendor"].value_counts().index[0] if len(f) else "replacement"
    keys = pd.MultiIndex.from_arrays([op, dom])
    out = pd.Series(by_op.reindex(keys).to_numpy(), index=el.index, dtype=object)
    out = out.fillna(dom.map(by_dom)).fillna(overall)
    return out


def apply_schedule(net: Network, schedule: pd.DataFrame, units: pd.DataFrame, *, through_year: int,
                   untrusted: set[str], name: str | None = None) -> Network:
    """The network after every unit scheduled up to ``through_year`` has been replaced.

    Replaced elements keep their ids and links (the new box takes the old one's place) and take the
    trusted vendor the operator already uses most in that domain; their install date becomes the
    1 July of the replacement year and any funding tag is cleared.
    """
    year = schedule.set_index("unit_id")["year"]
    done = {}
    for uid, ids in zip(units["unit_id"], units["element_ids"]):
        y = year.get(uid)
        if y is not None and np.isfinite(y) and y <= through_year:
            for e in ids:
                done[e] = int(y)
    el = net.elements.copy()
    when = el["element_id"].map(done)
    mask = when.notna().to_numpy()
    new_vendor = replacement_vendors(net, untrusted)
    vendor = el["vendor"].astype(object).to_numpy(copy=True)
    vendor[mask] = new_vendor.to_numpy()[mask]
    el["vendor"] = pd.array(vendor, dtype=el["vendor"].dtype)
    installed = el["installed_on"].astype(object).to_numpy(copy=True)
    installed[mask] = [pd.Timestamp(int(y), 7, 1).date() for y in when[mask]]
    el["installed_on"] = pd.array(installed, dtype=el["installed_on"].dtype)
    funded = el["funded_by"].astype(object).to_numpy(copy=True)
    funded[mask] = None
    el["funded_by"] = pd.array(funded, dtype=el["funded_by"].dtype)
    tables = net.tables()
    tables["elements"] = el
    return Network(tables, name=name or f"{net.name}-after-{through_year}", validate=False)
