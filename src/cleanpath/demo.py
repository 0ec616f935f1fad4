"""The main job: a German example network, the US installations in Germany, every question, a report.

Everything it uses ships inside the package; it needs no arguments and no network access.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Callable

from cleanpath.model.network import Network, validate_tables
from cleanpath.model.vendors import default_untrusted
from cleanpath.result import Result
from cleanpath.store.workspace import open_workspace
from cleanpath.suite import SuiteSettings, headlines, run_suite

#: The demo's fixed choices, so every run tells the same story.
COUNTRY = "DE"
SNAPSHOT = "de"
AFTER_SNAPSHOT = "de-after-plan"
DEFAULT_SCALE = 0.05
SEED = 7
AS_OF = dt.date(2026, 11, 21)
PACKS = ("de-2024", "eu-toolbox", "us-clean-path")


def build_example(*, scale: float = DEFAULT_SCALE, seed: int = SEED) -> Network:
    """Germany at reduced scale with the US installations in Germany as sensitive sites."""
    from cleanpath.build.generate import generate_network
    from cleanpath.io.sensitive import shipped_installations

    net = generate_network(country=COUNTRY, scale=scale, seed=seed)
    tables = validate_tables({"sensitive_sites": shipped_installations(COUNTRY)}, base=net)
    return Network(tables, name=SNAPSHOT, validate=False)


def run_demo(out: str | Path = "cleanpath-demo", *, scale: float = DEFAULT_SCALE, seed: int = SEED,
             on_step: Callable[[str], None] | None = None) -> Result:
    """Build the example, store it, run every question and write the HTML report.

    Parameters
    ----------
    out
        Directory for ``workspace.duckdb`` and ``report.html`` (replaced on every run).
    scale
        Share of Germany's real site count to build.
    seed
        Random seed of the generator.
    on_step
        Progress callback.

    Returns
    -------
    Result
        Summary (where the report is, headline figures) and a table with one row per question.
    """
    from cleanpath.report.charts import charts_for
    from cleanpath.report.html import write_report

    step = on_step or (lambda _s: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    step("building Germany")
    net = build_example(scale=scale, seed=seed)
    ws_path = out / "workspace.duckdb"
    for stale in (ws_path, ws_path.with_name(ws_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    step("storing")
    with open_workspace(ws_path) as ws:
        ws.write_network(SNAPSHOT, net, source=f"cleanpath demo: generate --country {COUNTRY} "
                                                f"--scale {scale} --seed {seed} + shipped installations")
        net = ws.network(SNAPSHOT)
    results = run_suite(net, SuiteSettings(as_of=AS_OF, policy=PACKS), on_step=step)
    plan = next((r for r in results if r.question == "plan"), None)
    if plan is not None and len(plan.tables.get("schedule", ())):
        # the network after the plan, so `cleanpath compare` and the dashboard's Compare have a pair
        from cleanpath.plan.apply import after_plan

        step("storing the network after the plan")
        with open_workspace(ws_path) as ws:
            ws.write_network(AFTER_SNAPSHOT, after_plan(net, plan, name=AFTER_SNAPSHOT),
                             source=f"cleanpath demo: {SNAPSHOT} after the plan's schedule")
    step("writing the report")
    report = write_report(
        out / "report.html", results=results, network=net, untrusted=default_untrusted(net.catalogue),
        charts=charts_for(results),
        title="cleanpath demo: Germany",
        intro=(f"A plausible German mobile network at {scale:.0%} of real scale, generated from real "
               "geography and reported vendor shares, with the US military installations in Germany as "
               f"sensitive sites. Questions asked as of {AS_OF.isoformat()}."))
    seconds = time.perf_counter() - t0
    table = headlines(results)
    return Result("demo", SNAPSHOT, params={"country": COUNTRY, "scale": scale, "seed": seed,
                                            "as_of": AS_OF.isoformat(), "policies": list(PACKS)},
                  summary={"report": str(report.resolve()), "workspace": str(ws_path.resolve()),
                           "snapshots": [SNAPSHOT] + ([AFTER_SNAPSHOT] if plan is not None else []),
                           "elements": int(len(net.elements)), "sites": int(len(net.sites)),
                           "sensitive_sites": int(len(net.sensitive_sites)), "seconds": round(seconds, 1)},
                  tables={"questions": table})
