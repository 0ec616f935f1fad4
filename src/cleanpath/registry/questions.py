"""Every question cleanpath answers, registered once.

Adding a question is one :class:`~cleanpath.registry.core.QuestionSpec` in :data:`QUESTIONS`: the
CLI command, the REST route and request model, the dashboard's form defaults, the demo and report
suite and docs/cli.md all follow from it (tests fail when a face lacks a registered question).

Defaults live here and nowhere else. Defaults that depend on the network are :class:`Auto` and are
resolved in the answer functions below, which record what they chose in ``Result.params``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from cleanpath.analysis.outage import MODE_ALIASES as OUTAGE_MODE_ALIASES
from cleanpath.analysis.outage import MODES as OUTAGE_MODES
from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.network import Network
from cleanpath.registry.core import Ask, ChartSpec, QuestionSpec, TableSpec
from cleanpath.registry.params import REQUIRED, Auto, Param
from cleanpath.result import Result

# --- shared parameter declarations -------------------------------------------------------------------------

SNAPSHOT = Param("snapshot", "snapshot", "Snapshot to ask.", default="main", cli="--snapshot", max_length=64,
                 metavar="NAME")
AS_OF = Param("as_of", "date", "Judge the network as of this date (YYYY-MM-DD).", default=Auto("today"),
              metavar="DATE")
POLICY = Param("policy", "packs",
               "Policy packs: shipped pack ids, comma-separated (`cleanpath policy list`), 'all', or (CLI only) "
               "a policy file.",
               default=Auto("the shipped packs whose jurisdiction covers the snapshot's countries "
                            "(DE: de-2024, eu-toolbox; GB: uk-tsa; ...)"),
               max_length=500, metavar="PACK[,PACK...]|FILE")
UNTRUSTED = Param("untrusted", "vendorset",
                  "Which vendors are untrusted: vendors (ids or any spelling; separate with ',' or ';', quote "
                  "names with commas), a policy pack (us-clean-path), country:CC, only:A+B (trust only these), "
                  "or 'default'.",
                  default=Auto("default: vendors headquartered in China or Russia, and their subsidiaries"),
                  cli_aliases=("--trust",), metavar="VENDORSET")
ALL_OPERATORS = Param("all_operators", "bool",
                      "Apply every rule to every operator, not only those in the pack's countries.", default=False)
PROGRAMME = Param("funding", "text", "Funding programme that reimburses part of the cost (e.g. fcc-scrp).",
                  default=None, max_length=100, metavar="PROGRAMME")


# --- defaults that depend on the network -------------------------------------------------------------------

def default_packs(net: Network) -> list[str]:
    """The shipped, non-library packs whose jurisdiction covers a country of the snapshot.

    Raises
    ------
    ValidationError
        When no shipped pack covers any of the snapshot's countries (name packs instead).
    """
    from cleanpath.policy.loader import packs_for_network

    packs = packs_for_network(net)
    if not packs:
        countries = set(net.operators["country"].dropna().astype(str)) if len(net.operators) else set()
        raise ValidationError(Problem(
            "no shipped policy pack covers this snapshot's countries "
            f"({', '.join(sorted(countries)) or 'none recorded'}); name packs with --policy "
            "(see `cleanpath policy list`)", column="policy"))
    return packs


def _packs(a: Ask, name: str = "policy", *, required: bool = True, net: Network | None = None):
    """The packs asked for: shipped names (any face), policy files (CLI only), or the default."""
    from cleanpath.policy.loader import load_policy, shipped_packs

    tokens = a.values.get(name)
    if tokens is None:
        if not required:
            return None
        tokens = a.resolved(name, default_packs(net or a.net))
    shipped = set(shipped_packs())
    out: list[Any] = []
    problems = ProblemCollector("request" if a.face == "rest" else None)
    for t in tokens:
        if t == "all" or t in shipped:
            out.append(t)
        elif a.face == "cli" and Path(t).is_file():
            out.append(load_policy(Path(t), catalogue=(net or a.net).catalogue if a.nets else None))
        else:
            import difflib

            close = difflib.get_close_matches(t, sorted(shipped), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            where = "a shipped policy pack" + (" or a policy file" if a.face == "cli" else
                                               " (the service reads no policy files)")
            column = a.spec.param(name).option if a.face == "cli" else name
            problems.add(f"unknown pack {t!r}: not {where} (shipped: {', '.join(_listed(shipped))}){hint}",
                         column=column, value=t)
    problems.raise_if_any()
    return out


def _listed(shipped: set[str]) -> list[str]:
    """Shipped packs a user names (library packs such as ``common`` are included by others)."""
    from cleanpath.policy.loader import load_policy

    return sorted(n for n in shipped if not load_policy(n).library)


def _as_of(a: Ask, name: str = "as_of") -> dt.date:
    v = a.values.get(name)
    return v if v is not None else a.resolved(name, dt.date.today())


def _untrusted(a: Ask, name: str = "untrusted", *, as_of: dt.date | None = None) -> frozenset[str]:
    """The untrusted vendor ids of a vendor set (the default set when none is given)."""
    from cleanpath.policy.vendorset import resolve_untrusted

    spec = a.values.get(name)
    packs = None
    if spec is not None and a.face == "cli":
        from cleanpath.policy.packfiles import load_pack_files

        packs = load_pack_files(spec, catalogue=a.net.catalogue)
    setting = a.spec.param(name).option if a.face == "cli" else name
    got = resolve_untrusted(a.net, spec, as_of=as_of, packs=packs, setting=setting)
    a.notes[f"{name}_vendors"] = sorted(got)
    return got


def _costs(a: Ask):
    """The cost model: the shipped one, or (CLI only) a YAML file read here, in the face."""
    path = a.values.get("costs")
    if path is None:
        return None
    from cleanpath.model.costs import load_costs

    if not Path(path).is_file():
        raise ValidationError(Problem("no such file", file=path, column="--costs"))
    return load_costs(path)


def _programme(a: Ask, name: str) -> str | None:
    from cleanpath.plan.funding import shipped_programmes

    v = a.values.get(name)
    if v is None:
        return None
    have = shipped_programmes()
    if v in have:
        return v
    if a.face == "cli" and Path(v).is_file():
        return v
    raise ValidationError(Problem(f"not a shipped funding programme (shipped: {', '.join(have)})"
                                  + ("" if a.face != "cli" else " or a programme YAML file"), column=name, value=v))


# --- the questions -----------------------------------------------------------------------------------------

def _info(a: Ask) -> Result:
    from cleanpath.analysis.info import run_info

    return run_info(a.net)


def _audit(a: Ask) -> Result:
    from cleanpath.analysis.audit import audit_network, audit_timeline

    packs = _packs(a)
    if a.values.get("timeline"):
        start, end = a.values["timeline"]
        r = audit_timeline(a.net, policies=packs, start=start, end=end, jurisdiction=not a["all_operators"])
    else:
        r = audit_network(a.net, policies=packs, as_of=_as_of(a), jurisdiction=not a["all_operators"])
    a.notes["policy"] = [p if isinstance(p, str) else p.name for p in packs]
    return r


def _audit_fails(result: Result, a: Ask) -> int | None:
    from cleanpath.analysis.audit import fails
    from cleanpath.policy.language import SEVERITIES

    level = a.values.get("fail_on")
    if not level:
        return None
    if result.question == "audit-timeline":
        months = result.tables["by_month"]
        wanted = list(SEVERITIES[SEVERITIES.index(level):])
        return 1 if len(months) and months[wanted].to_numpy().sum() > 0 else None
    return 1 if fails(result, level) else None


def _clean_path(a: Ask) -> Result:
    from cleanpath.analysis.clean_path import run_clean_path

    untrusted = _untrusted(a)
    r = run_clean_path(a.net, sensitive=a["sensitive"] or None, operator=a["operator"] or None,
                       shared=a["shared"], untrusted=untrusted, time_limit=a["time_limit"], gap=a["gap"],
                       costs=_costs(a))
    return r


def _outage(a: Ask) -> Result:
    from cleanpath.analysis.outage import run_outage

    vendors = None
    if a.values.get("vendor") is not None:
        vendors = sorted(_untrusted(a, "vendor"))
    ids = a.values.get("elements")
    r = run_outage(a.net, vendors=vendors, elements=ids, elements_source=a.inputs.get("elements_source"),
                   element_lines=a.inputs.get("element_lines"), region=a["region"], random_p=a["random"],
                   samples=a["samples"] if a["random"] is not None else None, mode=a["mode"], seed=a["seed"],
                   executor=a.executor, on_progress=a.on_progress)
    return r


def _outage_cli(result: Result, a: Ask) -> int | None:
    import json

    path = a.values.get("geojson")
    if path is None:
        return None
    from cleanpath.analysis.outage import lost_area_geojson

    if "lost_sites" not in result.tables:
        raise ValidationError(Problem("random failures have no single lost area", column="--geojson"))
    Path(path).write_text(json.dumps(lost_area_geojson(result.tables["lost_sites"])), encoding="utf-8")
    return None


def _exposure(a: Ask) -> Result:
    from cleanpath.analysis.exposure import run_exposure, select_sensitive
    from cleanpath.registry.files import read_sensitive_files

    net = a.nets.get(a.values["snapshot"]) if a.nets else None
    specs = a.values.get("sensitive") or []
    sens = select_sensitive(net, specs, files=read_sensitive_files(specs, face=a.face))
    if len(sens) == 0:
        raise ValidationError("no sensitive sites to look around: import some (`cleanpath import sensitive "
                              "FILE`) or name a file with --sensitive FILE")
    untrusted = _untrusted(a) if net is not None else None
    r = run_exposure(net, sensitive=sens, radius_m=a["radius_m"], by=a["by"], untrusted=untrusted,
                     cells=a.values.get("cells") or None, executor=a.executor,
                     memory_limit=a.values.get("memory_limit"))
    a.inputs["sensitive_rows"] = sens
    return r


def _exposure_cli(result: Result, a: Ask) -> int | None:
    import json

    from cleanpath.analysis.exposure import exposure_geojson

    path = a.values.get("geojson")
    if path is not None:
        Path(path).write_text(json.dumps(exposure_geojson(result, a.inputs.get("sensitive_rows")),
                                         ensure_ascii=False), encoding="utf-8")
    return None


def _plan_budget(a: Ask, untrusted) -> Any:
    budget = a.values.get("budget")
    if budget is not None:
        if isinstance(budget, list) and len(budget) not in (1, a["horizon"]):
            raise ValidationError(Problem(f"{len(budget)} yearly amounts for a {a['horizon']}-year horizon",
                                          column="budget"))
        return budget
    from cleanpath.plan.planner import replacement_units

    units = replacement_units(a.net, untrusted=untrusted)
    total = float(units["cost"].sum()) if len(units) else 0.0
    return a.resolved("budget", float(math.ceil(total / 3 / 1e6) * 1e6))


def _plan(a: Ask) -> Result:
    from cleanpath.plan.planner import run_plan

    save_after = a.values.get("save_after")
    if save_after is not None and save_after in a.inputs.get("snapshots", ()):
        raise ValidationError(Problem("a snapshot of this name exists; pick another name or delete it "
                                      "(`cleanpath snapshots delete NAME`)", column="--save-after", value=save_after))
    packs = _packs(a)
    start = a.values.get("start")
    if start is None:
        start = a.resolved("start", dt.date.today().year + 1)
    untrusted = _untrusted(a, as_of=dt.date(start, 1, 1))
    costs = _costs(a)
    r = run_plan(a.net, policies=packs, start_year=start, horizon=a["horizon"], budget=_plan_budget(a, untrusted),
                 crews=a["crews"], programme=_programme(a, "funding"), objective=a["objective"],
                 untrusted=sorted(untrusted), costs=costs, discount_rate=a["discount_rate"], gap=a["gap"],
                 time_limit=a["time_limit"], presolve=a["presolve"], explain=a["explain"], on_step=a.on_step,
                 verbose=bool(a.inputs.get("verbose")))
    a.notes["policy"] = [p if isinstance(p, str) else p.name for p in packs]
    return r


def _plan_save_after(result: Result, a: Ask) -> int | None:
    """``--save-after NAME``: store the network after the plan (refuses an existing snapshot)."""
    from cleanpath.plan.apply import after_plan

    name = a.values.get("save_after")
    if name is None:
        return None
    if result.summary.get("status") not in ("Optimal", "Feasible", "Time limit reached"):
        raise ValidationError(Problem(f"the plan is {result.summary.get('status')}: no after-network to save",
                                      column="--save-after", value=name))
    after = after_plan(a.net, result, name=name)
    workspace = a.inputs["open_workspace"]
    with workspace() as ws:
        if name in {s.name for s in ws.snapshots()}:
            raise ValidationError(Problem("a snapshot of this name exists; pick another name or delete it "
                                          "(`cleanpath snapshots delete NAME`)", column="--save-after", value=name))
        ws.write_network(name, after, source=f"cleanpath plan on {a.values['snapshot']}: the network after "
                                             f"{result.params.get('start')}-{int(result.params.get('start')) + int(result.params.get('horizon')) - 1}")
    a.inputs.setdefault("cli_notes", []).append(f"saved the network after the plan as snapshot {name!r}")
    return None


def _funding(a: Ask) -> Result:
    from importlib import resources

    from cleanpath.plan.funding import read_applications, read_applications_text, run_funding

    programme = _programme(a, "programme")
    if a.values.get("applications") is not None:
        apps = read_applications(a.values["applications"])
        label = str(a.values["applications"])
    elif a.values.get("applications_csv") is not None:
        apps, label = read_applications_text(a.values["applications_csv"], "applications_csv"), \
            "applications_csv (uploaded text)"
    else:
        path = resources.files("cleanpath.data").joinpath("programmes", f"{Path(programme).stem}-applications.csv")
        if not path.is_file():
            raise ValidationError(Problem(f"programme {programme!r} ships no application set: give applications",
                                          column="applications"))
        apps, label = read_applications(str(path)), "shipped synthetic set calibrated to the programme's aggregates"
    r = run_funding(apps, programme=programme, appropriation=a["appropriation"], as_of=_as_of(a))
    a.notes["applications"] = label
    return r


def _incentive(a: Ask) -> Result:
    from cleanpath.plan.incentive import run_incentive

    as_of = _as_of(a)
    untrusted = _untrusted(a, as_of=as_of)
    r = run_incentive(a.net, as_of=as_of, programme=_programme(a, "funding"), premium=a["premium"],
                      lifetime_years=a["lifetime"], untrusted=set(untrusted))
    return r


def _compare(a: Ask) -> Result:
    from cleanpath.analysis.compare import compare_snapshots

    net_a, net_b = a.nets[a["a"]], a.nets[a["b"]]
    packs = _packs(a, required=False, net=net_a)
    r = compare_snapshots(net_a, net_b, policies=packs, as_of=_as_of(a), jurisdiction=not a["all_operators"])
    return r


def _explain(a: Ask) -> Result:
    from cleanpath.analysis.explain import run_explain, serving_diagnosis

    target = a.values.get("target")
    if target is None:
        # No target: the first element that cannot serve (the most useful one to explain), else
        # the first cell site (a healthy chain end to end).
        examples = serving_diagnosis(a.net)["example"].dropna()
        if len(examples):
            target = str(examples.iloc[0])
        else:
            cells = a.net.sites.loc[a.net.sites["kind"].astype(str) == "cell", "site_id"]
            if not len(cells):
                raise ValidationError(Problem("the network has no element that cannot serve and no cell "
                                              "site: name an element or site to explain", column="target"))
            target = str(cells.iloc[0])
        a.resolved("target", target)
    return run_explain(a.net, target=target)


def _brief(a: Ask) -> Result:
    from cleanpath.brief import DEFAULT_COUNTRIES, run_brief

    networks: dict[str, Network] = {}
    problems = ProblemCollector("request" if a.face == "rest" else None)
    for name in a.values.get("snapshots") or []:
        net = a.nets[name]
        countries = sorted(set(net.operators["country"].dropna().astype(str)))
        if len(countries) != 1:
            problems.add(f"the brief takes one country per snapshot; {name!r} has "
                         f"{', '.join(countries) or 'no country'}", column="snapshots", value=name)
        elif countries[0] in networks:
            problems.add(f"two snapshots for {countries[0]}", column="snapshots", value=name)
        else:
            networks[countries[0]] = net
    problems.raise_if_any()
    countries = a.values.get("countries")
    if countries is None:
        countries = a.resolved("countries", sorted(networks) if networks else list(DEFAULT_COUNTRIES))
    spec = a.values.get("untrusted")
    return run_brief(countries=countries, draws=a["draws"], scale=a["scale"], seed=a["seed"],
                     networks=networks or None, untrusted=None if spec is None else str(spec),
                     executor=a.executor, on_progress=a.on_progress, as_of=_as_of(a), aid_years=a["aid_years"])


def _outage_by_domain(r: Result) -> pd.DataFrame | None:
    lost = r.summary.get("lost_by_domain") or {}
    return pd.DataFrame({"domain": list(lost), "lost": [float(v) for v in lost.values()]}) if lost else None


def _audit_by_rule(r: Result) -> pd.DataFrame | None:
    br = r.tables.get("by_rule")
    if br is None or not len(br) or "rule_id" not in br:
        return None
    counts = br[[k for k in ("violation", "warning", "info") if k in br]].sum(axis=1)
    return pd.DataFrame({"rule": br["pack"].astype(str) + "/" + br["rule_id"].astype(str),
                         "findings": counts.astype(float)})


def _funding_groups(r: Result) -> pd.DataFrame | None:
    g = r.tables.get("groups")
    if g is None or not len(g):
        return None
    return pd.DataFrame({"group": [f"group {v}" for v in g["group"]], "factor": g["factor"].astype(float)})


USD = "USD"

EXPLAIN = QuestionSpec(
    "explain", "Why an element or site serves, or not: the chain of dependencies and its first broken link.",
    "For an element: in service; control plane homed and serving; 5G-NSA anchor serving; managed-by; "
    "reaches a gateway via transport. The first requirement that fails is followed into the element it "
    "concerns, down to the root cause. For a site: every element of the site.",
    (Param("target", "text", "An element_id or a site_id.", argument=True, cli=None, max_length=200,
           default=Auto("the first element that cannot serve; else the first cell site")),
     SNAPSHOT),
    _explain,
    tables=(TableSpec("chain", "The chain of requirements, first broken link marked"),
            TableSpec("elements", "The site's elements and why each serves or not")),
    headline=("kind", "serves", "first_broken"),
    dashboard="explain")

BRIEF = QuestionSpec(
    "brief", "The allies brief: each country's US installations, what serves them, what it would cost.",
    "For each country (generated networks, K draws for uncertainty, or given snapshots) with the shipped "
    "US installations as sensitive sites, with 90 % intervals over the draws: the untrusted share of the "
    "RAN and core serving each installation; whether each has a clean path on each operator; what a "
    "hostile vendor could read of its traffic; the cost of cleaning the base-serving networks (exact "
    "remediation) against full compliance with the country's own policy pack; and the aid per year "
    "that makes removal break even for the operators. Countries and draws run on the executor "
    "(processes locally, or Dask), with the same results either way.",
    (Param("countries", "list", "Countries (ISO 3166-1 alpha-2), comma-separated.",
           default=Auto("AU,CA,DE,GB,IT,JP,KR (with --snapshots: their countries)"), max_items=30,
           metavar="CC[,CC...]"),
     Param("draws", "int", "Generated networks per country; the intervals are over them.", default=20, min=1,
           max=200, metavar="K"),
     Param("scale", "float", "Share of each country's real cell-site count to generate.", default=1.0, min=0,
           min_open=True, max=5),
     Param("seed", "int", "Base seed; each country and draw gets its own seed from it.", default=0, min=0,
           max=2**32 - 1),
     Param("snapshots", "snapshots", "Use these snapshots as countries' networks (one country each, one draw).",
           max_items=30, max_length=64, metavar="NAME[,NAME...]"),
     UNTRUSTED, AS_OF,
     Param("aid_years", "int", "Years over which the operators' break-even cost is spread as aid.", default=5,
           min=1, max=50, unit="years"),
     Param("executor", "choice", "Where countries and draws run: this process, worker processes, or Dask.",
           default="local", choices=("local", "processes", "dask"), faces=frozenset({"cli"})),
     Param("scheduler", "text", "Dask scheduler address (tcp://host:8786); without it --executor dask starts "
                                "a local cluster.", faces=frozenset({"cli"}), metavar="ADDRESS"),
     Param("workers", "int", "Processes for --executor processes, or a local Dask cluster.",
           default=Auto("one per core"), min=1, max=256, faces=frozenset({"cli"}))),
    _brief,
    tables=(TableSpec("countries", "Per country: medians and 90 % intervals"),
            TableSpec("installations", "Per US installation: what serves it, what could read it"),
            TableSpec("clean_paths", "Clean path of each installation per operator (share of draws)"),
            TableSpec("draws", "Every draw's figures (to audit the intervals)")),
    headline=("countries", "installations", "installations_without_clean_path"),
    charts=(ChartSpec("Aid per year to break even, by country (USD, median)", "bar", "country",
                      ("aid_per_year_median_usd",), table="countries"),
            ChartSpec("Untrusted share of the RAN serving the US installations (median)", "bar", "country",
                      ("base_ran_untrusted_median_share",), table="countries", colour="#d62828")),
    suite={"countries": ["DE", "IT"], "draws": 3, "scale": 0.005},
    dashboard="brief")

QUESTIONS: dict[str, QuestionSpec] = {q.name: q for q in (
    QuestionSpec(
        "info", "What is in a snapshot: counts by domain, vendor, generation, operator and country.",
        "Counts of operators, sites, elements, links, sensitive sites and demands; elements by domain, "
        "vendor (with the catalogue's name and HQ country), generation, operator and country; how many "
        "elements cannot serve and why (no gateway, no control plane, no transport, no anchor), each "
        "reason with an example to `cleanpath explain`. Warnings go to stderr.",
        (SNAPSHOT,), _info,
        tables=(TableSpec("by_vendor", "Elements by vendor"), TableSpec("by_domain", "Elements by domain"),
                TableSpec("by_generation", "Elements by generation"),
                TableSpec("by_operator", "Elements by operator"), TableSpec("by_country", "Elements by country"),
                TableSpec("by_site_kind", "Sites by kind"), TableSpec("tables", "Rows per model table"),
                TableSpec("not_serving", "Elements that cannot serve, by the first requirement they fail")),
        headline=("elements", "sites", "sensitive_sites", "non_serving_elements"),
        charts=(ChartSpec("Elements by vendor", "bar", "vendor", ("elements",), table="by_vendor"),
                ChartSpec("Elements by domain", "bar", "domain", ("elements",), table="by_domain")),
        dashboard="findings"),
    QuestionSpec(
        "audit", "Which elements break which policy rule, as of a date (or month by month).",
        "Each finding cites its rule, the rule's legal source, the element (or the operator, for a "
        "market-share cap), the vendor and the deadline with the days left. Before a removal deadline "
        "a finding is a warning with the days left; from the day after, a violation.\n\n"
        "Exit codes: 0 done; 1 with --fail-on LEVEL when a finding at or above LEVEL exists (with "
        "--timeline: in any month); 2 bad input.",
        (POLICY, AS_OF, SNAPSHOT,
         Param("timeline", "months", "Compliance month by month from FROM to TO (YYYY-MM), judged at each "
                                     "month's end, instead of one date.", metavar="FROM TO"),
         ALL_OPERATORS,
         Param("fail_on", "choice", "Exit with code 1 when a finding at or above this severity exists (for CI).",
               choices=("violation", "warning", "info"), faces=frozenset({"cli"}))),
        _audit,
        tables=(TableSpec("findings", "Findings: element, rule, legal source, deadline",
                          {"days_to_deadline": ("days to deadline", "days")}),
                TableSpec("by_pack", "Findings by policy pack"), TableSpec("by_rule", "Findings by rule"),
                TableSpec("by_operator", "Findings by operator")),
        headline=("violations", "warnings", "elements_in_violation"),
        charts=(ChartSpec("Findings by rule (violations, warnings and info)", "bar", "rule", ("findings",),
                          data=_audit_by_rule, colour="#d62828"),),
        dashboard="findings", cli_finish=_audit_fails),
    QuestionSpec(
        "clean-path", "Does each sensitive site have a path free of untrusted vendors, on each operator?",
        "For every sensitive site and operator: clean or not; a witness path (radio, transport, core "
        "user and control plane, gateway, and the management and anchor dependencies it relies on); "
        "the untrusted elements that block it; and the cheapest set of replacements that opens a clean "
        "path, with its cost and a lower bound. --shared adds one remediation for all sites at once.",
        (SNAPSHOT,
         Param("sensitive", "list", "Sensitive sites by kind (military, diplomatic, ...) or sensitive_id; "
                                    "repeat or comma-separate.", default=Auto("all"), metavar="KIND|ID"),
         UNTRUSTED,
         Param("operator", "list", "Only these operator ids.", default=Auto("every operator"), metavar="O[,O...]"),
         Param("shared", "bool", "Also compute one shared remediation for all sites.", default=True),
         Param("time_limit", "float", "Seconds for the exact remediation (HiGHS) of all pairs and the shared fix; "
                                      "past it a pair keeps the best known fix, with remediation_optimal false.",
               default=10.0, min=0, max=3600, unit="s"),
         Param("gap", "float", "Relative MIP gap at which the exact remediation stops (0: prove the optimum).",
               default=0.0, min=0, max=0.99),
         Param("costs", "text", "YAML of replacement costs per role (overrides the shipped defaults).",
               faces=frozenset({"cli"}), max_length=4096, metavar="FILE")),
        _clean_path,
        tables=(TableSpec("clean_path", "Clean path per sensitive site and operator",
                          {"remediation_cost": ("cheapest fix", USD), "lower_bound": ("no fix costs less than", USD),
                           "remediation_optimal": ("fix proved cheapest", None),
                           "remediation_gap": ("gap to the proven optimum", None)}),
                TableSpec("shared_fix", "One shared fix for all sites",
                          {"cost": ("cost", USD), "unit_cost": ("cost of its replacement unit", USD)})),
        headline=("pairs", "clean_pairs", "sites_without_clean_path", "shared_fix_cost"),
        dashboard="cleanpath"),
    QuestionSpec(
        "outage", "What is lost if a vendor's equipment fails, is switched off by a hostile vendor, or is read.",
        "Give one of --vendor, --elements, --region, or --random P (optionally within one of them).\n\n"
        "--mode fail: the scenario's elements stop forwarding; what their management systems managed "
        "becomes unmanaged but keeps forwarding. --mode kill: a hostile vendor switches off its own gear "
        "and everything its management and software-update channels reach. --mode intercept: what the "
        "vendor could read: traffic through its radios, basebands, unencrypted transport and core user "
        "plane, signalling through its control plane, subscriber keys in its HSS/UDM.\n\n"
        "Lost elements by domain, lost sites and subscribers, sensitive sites left without service, per "
        "operator. Random failures are Monte Carlo with 95 % confidence intervals.",
        (SNAPSHOT,
         Param("vendor", "vendorset", "The scenario's vendors (a vendor set: names in any spelling, packs, "
                                      "country:CC, only:A+B, default).", metavar="VENDORSET"),
         Param("elements", "ids", "Element ids (CLI: a file, one per line or a CSV with an element_id column).",
               max_items=1_000_000, max_length=200, metavar="FILE"),
         Param("region", "text", "Every element at sites of these regions (sites.region, comma-separated), "
                                 "within 'lat,lon,radius_km' of a point, or inside a GeoJSON Polygon/MultiPolygon "
                                 "(text).", max_length=100_000, metavar="R"),
         Param("random", "probability", "Monte Carlo: each element in scope fails with this probability.",
               metavar="P"),
         Param("samples", "int", "Monte Carlo samples.", default=1000, min=1, max=10_000, metavar="N"),
         Param("mode", "choice", "How the scenario's gear is a threat.",
               default="fail", choices=tuple(OUTAGE_MODES), value_aliases=dict(OUTAGE_MODE_ALIASES),
               choice_help=dict(OUTAGE_MODES)),
         Param("seed", "int", "Seed of the Monte Carlo draws.", default=0, min=0, max=2**32 - 1),
         Param("workers", "int", "Processes for the Monte Carlo samples.", default=1, min=1, max=256,
               faces=frozenset({"cli"})),
         Param("geojson", "text", "Also write the lost sites as a GeoJSON FeatureCollection to this file.",
               faces=frozenset({"cli"}), max_length=4096, metavar="FILE")),
        _outage,
        tables=(TableSpec("by_operator", "What each operator loses"), TableSpec("by_domain", "Lost elements by domain"),
                TableSpec("lost_sites", "Sites that lose service"),
                TableSpec("sensitive", "Sensitive sites and the operators that still serve them")),
        headline=("lost_elements", "lost_sites", "lost_subscribers", "sensitive_without_service",
                  "unmanaged_elements", "killable_elements", "intercept_traffic_share",
                  "intercept_subscriber_share", "intercept_signalling_share", "keys_exposed_subscribers"),
        charts=(ChartSpec("Elements lost by domain", "bar", "domain", ("lost",), data=_outage_by_domain,
                          colour="#d62828"),),
        suite=({"vendor": "huawei", "mode": "fail"}, {"vendor": "huawei", "mode": "kill"},
               {"vendor": "huawei", "mode": "intercept"}),
        dashboard="switchoff", cli_finish=_outage_cli),
    QuestionSpec(
        "exposure", "Equipment within reach of each sensitive site, by vendor, operator and generation.",
        "For every sensitive site (a circle of its radius, or its GeoJSON polygon): the sites and "
        "elements inside (inclusive: on the circle or the boundary counts), how many are from untrusted "
        "vendors, and the nearest site or cell with untrusted equipment and its distance. Distances are "
        "great-circle (haversine) on the sphere; areas across the antimeridian and around the poles are "
        "handled.\n\nThe equipment is the snapshot's sites and elements, or with --cells an OpenCelliD-style "
        "Parquet export at world scale. Sensitive sites come from the snapshot (--sensitive kinds or ids) "
        "or from files (--sensitive FILE).",
        (Param("sensitive", "list", "Sensitive sites to look around: a kind (military, diplomatic, ...), a "
                                    "sensitive_id, or (CLI only) a CSV/GeoJSON file of sites. Repeat or "
                                    "comma-separate.", default=Auto("every sensitive site of the snapshot"),
               metavar="KIND|ID|FILE"),
         Param("radius_m", "distance", "Radius around every point site (5km, 500m, 3mi), replacing each site's "
                                       "own radius_m. Sites with a GeoJSON polygon keep it.",
               unit="m", min=0, min_open=True, max=2_000_000, cli="--radius", cli_aliases=("--radius-m",),
               default=Auto("each site's own radius_m"), metavar="DISTANCE"),
         Param("by", "choices", "Breakdown tables ('none' for none).", default=["vendor", "operator", "generation"],
               choices=("vendor", "operator", "generation"), metavar="LIST"),
         UNTRUSTED,
         Param("cells", "list", "Count cells from Parquet files (OpenCelliD columns, plus vendor if present) "
                                "instead of the snapshot's sites; read in row groups. A file, a directory of "
                                "*.parquet, or a glob; repeat or comma-separate.",
               faces=frozenset({"cli"}), max_length=4096, metavar="PARQUET"),
         Param("executor", "choice", "Where the join runs: this process, worker processes, or a Dask cluster.",
               default="local", choices=("local", "processes", "dask"), faces=frozenset({"cli"})),
         Param("scheduler", "text", "Dask scheduler address (tcp://host:8786); without it --executor dask starts "
                                    "a local cluster.", faces=frozenset({"cli"}), metavar="ADDRESS"),
         Param("workers", "int", "Processes for --executor processes, or a local Dask cluster.",
               default=Auto("one per core"), min=1, max=256, faces=frozenset({"cli"})),
         Param("memory_limit", "text", "DuckDB memory limit per task (e.g. 2GB); the join spills to disk above it.",
               faces=frozenset({"cli"}), metavar="SIZE"),
         Param("geojson", "text", "Also write the sites' areas and nearest untrusted equipment as a GeoJSON map "
                                  "layer.", faces=frozenset({"cli"}), max_length=4096, metavar="FILE"),
         SNAPSHOT),
        _exposure,
        tables=(TableSpec("exposure", "Equipment around each sensitive site",
                          {"radius_m": ("radius", "m"), "nearest_untrusted_m": ("nearest untrusted", "m")}),
                TableSpec("by_vendor", "By vendor"), TableSpec("by_operator", "By operator"),
                TableSpec("by_generation", "By generation"), TableSpec("locations", "Positions for maps")),
        headline=("sensitive_sites", "with_untrusted_within", "median_nearest_untrusted_m"),
        charts=(ChartSpec("Untrusted elements near each sensitive site", "bar", "sensitive_id",
                          ("untrusted_elements_within",), table="exposure", colour="#d62828"),),
        dashboard="exposure", cli_finish=_exposure_cli),
    QuestionSpec(
        "plan", "A cost-optimal, deadline-meeting multi-year replacement schedule.",
        "Mixed-integer programme (HiGHS): replacement units follow the field's coupling rules (a site's "
        "RAN as one unit, a core data centre as one, a management system with what it manages, transport "
        "per site); budget per year net of funding and crews per region per year hold. An infeasible "
        "request says which deadline and budget collide and the least extra money or time.",
        (SNAPSHOT, POLICY,
         Param("start", "int", "First plan year.", default=Auto("the year after today"), min=1990, max=2200,
               metavar="YEAR"),
         Param("horizon", "int", "Number of years.", default=6, min=1, max=50, unit="years"),
         Param("budget", "amounts", "Money per year, net of funding: one amount (500m) or one per year "
                                    "(100m,200m,...).",
               default=Auto("a third of the total replacement cost per year"), unit=USD, min=0, metavar="AMOUNT"),
         Param("crews", "float", "Crew-jobs per region per year (a cell site is one job, a core data centre six).",
               min=0, min_open=True, max=1e9, default=Auto("unlimited")),
         PROGRAMME,
         Param("objective", "choice", "cost: cheapest way to meet the deadlines; risk: fastest exposure "
                                      "reduction the budget allows; balanced: also replaces a unit early when "
                                      "its share of exposure exceeds its share of cost.",
               default="balanced", choices=("cost", "risk", "balanced")),
         UNTRUSTED,
         Param("costs", "text", "YAML of replacement costs per role (overrides the shipped defaults).",
               faces=frozenset({"cli"}), max_length=4096, metavar="FILE"),
         Param("discount_rate", "float", "Yearly discount rate.", default=0.05, min=0, max=1),
         Param("gap", "float", "Relative MIP gap to stop at.", default=0.01, min=0, max=1),
         Param("time_limit", "float", "Solver time limit.", default=60.0, min=0, min_open=True, max=3600, unit="s"),
         Param("presolve", "choice", "HiGHS presolve; off is fastest on these models (see docs/benchmarks.md).",
               default="off", choices=("off", "on", "choose")),
         Param("explain", "bool", "Name the binding constraints, with shadow prices.", default=False),
         Param("save_after", "text", "Also store the network after the plan (its last year) as this snapshot, "
                                         "for `cleanpath compare` and the dashboard's Compare.",
               faces=frozenset({"cli"}), max_length=64, metavar="SNAPSHOT")),
        _plan,
        tables=(TableSpec("schedule", "Replacement schedule: unit, year, cost", {"cost": ("cost", USD)}),
                TableSpec("years", "Per year: cost, funding, what is left", {"cost": ("cost", USD)}),
                TableSpec("binding", "Binding constraints"),
                TableSpec("compliance", "Compliance at each year's end (audit engine)"),
                TableSpec("caps", "Share caps the plan holds, per operator and year"),
                TableSpec("unencoded_rules", "Rules the plan cannot encode (and why)")),
        headline=("status", "units_replaced", "total_cost", "violations_at_end"),
        charts=(ChartSpec("Replacement cost per year (USD)", "bar", "year", ("cost",), table="years"),
                ChartSpec("Untrusted elements left and elements past their deadline", "line", "year",
                          ("untrusted_elements_left", "elements_past_deadline"), table="years"),
                ChartSpec("Compliance curve (audit at year end)", "line", "year", ("violations", "warnings"),
                          table="compliance")),
        suite={"explain": True},
        dashboard="plan", cli_finish=_plan_save_after),
    QuestionSpec(
        "compare", "What changed between two snapshots, and how the findings changed.",
        "What changed from A to B: elements added, removed, re-vendored (by domain and operator) and, "
        "with --policy, which findings are new, resolved or unchanged.",
        (Param("a", "snapshot", "The 'before' snapshot.", default=REQUIRED, argument=True, cli=None, max_length=64),
         Param("b", "snapshot", "The 'after' snapshot.", default=REQUIRED, argument=True, cli=None, max_length=64),
         Param("policy", "packs", "Policy packs to audit both snapshots with (shipped ids, 'all', or CLI files); "
                                  "with it, the findings are compared too.", max_length=500,
               metavar="PACK[,PACK...]|FILE"),
         AS_OF, ALL_OPERATORS),
        _compare,
        tables=(TableSpec("changes", "Elements added, removed, re-vendored"),
                TableSpec("by_domain_operator", "Changes by domain and operator"),
                TableSpec("by_vendor", "Elements by vendor, before and after"),
                TableSpec("findings", "Findings new, resolved, unchanged"),
                TableSpec("findings_by_rule", "Finding changes by rule")),
        headline=("changed", "added", "removed", "revendored", "findings_new", "findings_resolved"),
        dashboard="compare"),
    QuestionSpec(
        "funding", "Allocate a funding programme's money to applications.",
        "Eligibility (customer limit, equipment date), priority groups filled in order, one pro-rata "
        "factor within the group where the money runs out, later appropriations topping up. Example: "
        "`cleanpath funding --as-of 2022-07-15` reproduces the FCC's 39.5 % factor of 2022.",
        (Param("programme", "text", "Shipped programme id (or, CLI only, a programme YAML file).",
               default="fcc-scrp", max_length=4096),
         Param("applications", "text", "Applications CSV file (applicant_id, customers, approved_amount [, group, "
                                       "category, obtained_on, name]).",
               default=Auto("the shipped synthetic set calibrated to the programme's aggregates"),
               faces=frozenset({"cli"}), max_length=4096, metavar="FILE"),
         Param("applications_csv", "text", "Applications as CSV text (same columns as the file).",
               faces=frozenset({"rest"}), max_length=20_000_000),
         Param("appropriation", "amount", "Money available for allocation (e.g. 1.895bn).",
               default=Auto("the programme's appropriations made by --as-of"), unit=USD, metavar="AMOUNT"),
         Param("as_of", "date", "Only count appropriations made on or before this date.", default=Auto("today"),
               metavar="DATE")),
        _funding,
        tables=(TableSpec("allocations", "Allocation per application",
                          {"approved_amount": ("approved", USD), "allocated_amount": ("allocated", USD)}),
                TableSpec("groups", "Per priority group"), TableSpec("tranches", "Appropriations over time")),
        headline=("allocatable", "approved_demand", "factor_by_group"),
        charts=(ChartSpec("Share of approved demand paid, by priority group", "bar", "group", ("factor",),
                          data=_funding_groups),),
        dashboard="funding"),
    QuestionSpec(
        "incentive", "Compliance cost per operator against what a programme pays; the break-even subsidy.",
        "Compliance cost = value stranded by replacing gear before the end of its life + the premium "
        "for trusted gear. The break-even subsidy is that cost as a share of the replacement cost.",
        (SNAPSHOT, AS_OF, PROGRAMME,
         Param("premium", "float", "Price premium of trusted replacement gear, as a share (an assumption: set it "
                                   "for your case).", default=0.15, min=0, max=10),
         Param("lifetime", "float", "Economic life of equipment (for the stranded value).", default=8.0, min=0,
               min_open=True, max=100, unit="years"),
         UNTRUSTED),
        _incentive,
        tables=(TableSpec("operators", "Per operator: cost of compliance and what the programme pays",
                          {"replacement_cost": ("replacement", USD), "compliance_cost": ("compliance", USD)}),),
        headline=("replacement_cost", "compliance_cost", "break_even_subsidy_share"),
        charts=(ChartSpec("Break-even subsidy share by operator", "bar", "operator_id", ("break_even_subsidy_share",),
                          table="operators"),),
        dashboard="incentive"),
    EXPLAIN,
    BRIEF,
)}


def question(name: str) -> QuestionSpec:
    """The registered question ``name``.

    Raises
    ------
    ValidationError
        No such question (with the registered names).
    """
    try:
        return QUESTIONS[name]
    except KeyError:
        raise ValidationError(Problem(f"no question {name!r}; registered: {', '.join(QUESTIONS)}",
                                      column="question", value=name)) from None
