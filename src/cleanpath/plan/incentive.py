"""The operator's side of the ledger: what compliance costs it against what a programme pays.

The "very tough call" carriers face: the untrusted gear is often the cheap one and still has years
of life. Replacing it early throws away its remaining value (stranded value, straight-line over
its life) and buys trusted gear at a price premium. A programme that reimburses a share of the
replacement cost makes up some of that. The break-even subsidy is the share of the replacement
cost that leaves the operator no worse off than keeping its gear to the end of its life.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cleanpath.errors import ValidationError
from cleanpath.model.network import Network
from cleanpath.plan.costs import load_costs
from cleanpath.policy.vendorset import resolve_untrusted
from cleanpath.result import Result

#: Assumed economic life of network equipment (years) for the stranded-value estimate.
DEFAULT_LIFETIME_YEARS = 8.0
#: Assumed price premium of trusted gear over the untrusted gear it replaces. Not a sourced figure:
#: reporting says Chinese gear is cheaper but gives no consistent number; set it for your case.
DEFAULT_PREMIUM = 0.15


def run_incentive(net: Network, *, as_of: dt.date, untrusted=None,
                  programme: str | None = None, premium: float = DEFAULT_PREMIUM,
                  lifetime_years: float = DEFAULT_LIFETIME_YEARS, costs=None) -> Result:
    """Per operator: replacement cost, stranded value, premium, programme payment and break-even subsidy.

    Parameters
    ----------
    net
        The network.
    as_of
        Date of the decision (ages and the programme's money are taken as of then).
    untrusted
        Vendors to replace: a vendor set (text such as ``"Huawei, zte"`` or ``us-clean-path``, a
        list, a :class:`~cleanpath.policy.vendorset.VendorSet`, or a frozenset of resolved ids;
        grammar in :mod:`cleanpath.policy.vendorset`). Default: headquartered in China or Russia.
    programme
        Funding programme id; its covered vendors' gear installed by its cut-off is reimbursed at
        its pro-rata factor as of ``as_of``.
    premium
        Price premium of the trusted replacement (0.15 = 15 % dearer).
    lifetime_years
        Economic life of equipment; elements of unknown age count as half-way through it.

    Returns
    -------
    Result
        Table ``operators``: untrusted_elements, replacement_cost, stranded_value, premium_cost,
        compliance_cost (stranded + premium), programme_pays, net_cost_to_operator,
        break_even_subsidy_share (of the replacement cost); the summary gives the national totals.
    """
    if lifetime_years <= 0 or premium < -0.9:
        raise ValidationError("lifetime must be positive and the premium above -90 %")
    # one grammar for every question: "Huawei" resolves, unknown names are errors, not cost 0
    vendors = resolve_untrusted(net, untrusted, as_of=as_of)
    el = net.elements
    bad = el["vendor"].isin(list(vendors)).to_numpy(dtype=bool, na_value=False) & \
        el["in_service"].fillna(True).to_numpy(dtype=bool)
    e = el.loc[bad].copy()
    cost = (costs or load_costs()).element_costs(e)
    installed = pd.to_datetime(e["installed_on"].astype(object), errors="coerce")
    age = ((pd.Timestamp(as_of) - installed).dt.days / 365.25).to_numpy(dtype=float)
    age = np.where(np.isfinite(age), np.maximum(age, 0.0), lifetime_years / 2)
    stranded = cost * np.clip(1.0 - age / lifetime_years, 0.0, 1.0)
    share, funded = 0.0, np.zeros(len(e), dtype=bool)
    if programme:
        from cleanpath.plan.funding import load_programme, programme_factor

        prog = load_programme(programme)
        share = programme_factor(prog, as_of=as_of)
        funded = e["vendor"].isin(list(prog.covered_vendors)).to_numpy(dtype=bool, na_value=False)
        if prog.obtained_on_or_before is not None:
            funded = funded & ~(installed > pd.Timestamp(prog.obtained_on_or_before)).to_numpy()
    sites = net.sites.set_index("site_id")["operator_id"]
    frame = pd.DataFrame({
        "operator_id": e["site_id"].map(sites).astype(object).to_numpy(),
        "elements": 1, "replacement_cost": cost, "stranded_value": stranded,
        "premium_cost": cost * premium, "programme_pays": cost * share * funded,
        "fundable_cost": cost * funded,
    })
    ops = frame.groupby("operator_id", sort=True).sum().rename(columns={"elements": "untrusted_elements"})
    ops = ops.reindex(net.operators["operator_id"].astype(object), fill_value=0)
    ops["compliance_cost"] = ops["stranded_value"] + ops["premium_cost"]
    ops["net_cost_to_operator"] = ops["compliance_cost"] - ops["programme_pays"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ops["break_even_subsidy_share"] = np.where(ops["replacement_cost"] > 0,
                                                   ops["compliance_cost"] / ops["replacement_cost"], 0.0)
    ops = ops.reset_index()
    totals = ops.drop(columns=["operator_id", "break_even_subsidy_share"]).sum()
    return Result(
        "incentive", net.name,
        params={"as_of": as_of, "programme": programme, "premium": premium, "lifetime_years": lifetime_years,
                "untrusted": sorted(vendors)},
        summary={"replacement_cost": float(totals["replacement_cost"]),
                 "compliance_cost": float(totals["compliance_cost"]),
                 "programme_pays": float(totals["programme_pays"]),
                 "programme_share": share,
                 "net_cost_to_operators": float(totals["net_cost_to_operator"]),
                 "break_even_subsidy_share": float(totals["compliance_cost"] / totals["replacement_cost"])
                 if totals["replacement_cost"] > 0 else 0.0,
                 "operators_worse_off": int((ops["net_cost_to_operator"] > 0.5).sum())},
        tables={"operators": ops[["operator_id", "untrusted_elements", "replacement_cost", "stranded_value",
                                  "premium_cost", "compliance_cost", "programme_pays", "net_cost_to_operator",
                                  "break_even_subsidy_share"]]},
    )
