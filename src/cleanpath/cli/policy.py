"""Commands for policy packs and the questions built on them: audit, policy, compare."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from cleanpath.analysis.audit import audit_network, audit_timeline, fails, rules_table
from cleanpath.analysis.compare import compare_snapshots
from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import render
from cleanpath.policy.language import PACK_KEYS, RULE_KEYS, SCOPE_KEYS, SEVERITIES, VENDOR_SET_KEYS
from cleanpath.policy.loader import load_policy, shipped_packs
from cleanpath.result import Result

_POLICY_HELP = ("Shipped packs, comma-separated (see `cleanpath policy list`), 'all', or a policy "
                "file (YAML).")


@click.command("audit")
@click.option("--policy", "-p", "policy", required=True, metavar="PACK[,PACK...]|FILE", help=_POLICY_HELP)
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Judge the network as of this date (YYYY-MM-DD; default today).")
@snapshot_option
@click.option("--fail-on", "fail_on", type=click.Choice(SEVERITIES), default=None,
              help="Exit with code 1 when a finding at or above this severity exists (for CI).")
@click.option("--timeline", nargs=2, default=None, metavar="FROM TO",
              help="Compliance month by month from FROM to TO (YYYY-MM), judged at each month's end.")
@click.option("--all-operators", is_flag=True,
              help="Apply every rule to every operator, not only those in the pack's countries.")
@format_options
@click.pass_obj
@handle_errors
def audit_cmd(ctx, policy, as_of, snapshot, fail_on, timeline, all_operators, fmt, table):
    """Which elements break which policy rule, as of a date.

    Each finding cites its rule, the rule's legal source, the element (or the operator, for a
    market-share cap), the vendor and the deadline with the days left. Before a removal deadline
    a finding is a warning with the days left; from the day after, a violation.

    Exit codes: 0 done; 1 with --fail-on LEVEL when a finding at or above LEVEL exists (with
    --timeline: in any month); 2 bad input.
    """
    with ctx.workspace(read_only=True) as ws:
        net = ws.network(snapshot)
        if timeline:
            result = audit_timeline(net, policies=policy, start=timeline[0], end=timeline[1],
                                    jurisdiction=not all_operators)
        else:
            result = audit_network(net, policies=policy, as_of=as_of, jurisdiction=not all_operators)
    render(result, fmt, table=table)
    if fail_on and _fails(result, fail_on):
        sys.exit(1)


def _fails(result: Result, level: str) -> bool:
    """--fail-on: a finding at or above ``level`` (in any month, for a timeline)."""
    if result.question == "audit-timeline":
        months = result.tables["by_month"]
        wanted = list(SEVERITIES[SEVERITIES.index(level):])  # by_month has one column per severity
        return bool(len(months) and months[wanted].to_numpy().sum() > 0)
    return fails(result, level)


@click.group("policy")
def policy_group():
    """Policy packs: list the shipped ones, show their rules, check your own."""


@policy_group.command("list")
@format_options
@handle_errors
def policy_list(fmt, table):
    """The policy packs shipped with cleanpath."""
    rows = []
    for name in shipped_packs():
        p = load_policy(name)
        rows.append({"pack": p.name, "title": p.title, "jurisdiction": ", ".join(p.jurisdiction) or "any",
                     "rules": len(p.rules), "library": p.library,
                     "facts": ", ".join(p.facts) or None})
    df = pd.DataFrame(rows, columns=["pack", "title", "jurisdiction", "rules", "library", "facts"])
    render(Result("policy-list", None, summary={"packs": int((~df["library"]).sum())},
                  tables={"packs": df}), fmt, table=table, limit=1000)


@policy_group.command("show")
@click.argument("pack", metavar="PACK|FILE")
@format_options
@handle_errors
def policy_show(pack, fmt, table):
    """The rules of a pack (or policy file), with their dates, sources and notes."""
    p = load_policy(pack)
    render(Result("policy-show", None, params={"pack": pack},
                  summary={"pack": p.name, "title": p.title, "jurisdiction": list(p.jurisdiction) or "any",
                           "includes": [i.name for i in p.includes], "description": p.description,
                           "notes": p.notes},
                  tables={"rules": rules_table([p])}), fmt, table=table, limit=1000)


@policy_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--snapshot", "-s", default=None,
              help="Resolve vendor names in this snapshot's catalogue too (its vendors table).")
@format_options
@click.pass_obj
@handle_errors
def policy_check(ctx, file, snapshot, fmt, table):
    """Check a policy file you wrote: every problem with file, line and reason (exit code 2)."""
    catalogue = None
    if snapshot is not None:
        with ctx.workspace(read_only=True) as ws:
            catalogue = ws.network(snapshot).catalogue
    p = load_policy(file, catalogue=catalogue)
    rules = rules_table([p])
    render(Result("policy-check", None, params={"file": str(file)},
                  summary={"ok": True, "pack": p.name, "rules": len(p.rules),
                           "rules_with_includes": len(rules), "includes": [i.name for i in p.includes]},
                  tables={"rules": rules}), fmt, table=table, limit=1000)


@policy_group.command("schema")
@format_options
def policy_schema(fmt, table):
    """The policy language: every key of a pack, a rule, a scope and a vendor set."""
    rows = [{"where": "pack", "key": k, "type": t, "applies_to": "", "required": req, "meaning": m}
            for k, (t, req, m) in PACK_KEYS.items()]
    rows += [{"where": "rule", "key": k, "type": t, "applies_to": kinds, "required": "required" in m,
              "meaning": m} for k, (t, kinds, m) in RULE_KEYS.items()]
    rows += [{"where": "scope", "key": k, "type": "", "applies_to": "", "required": False, "meaning": m}
             for k, m in SCOPE_KEYS.items()]
    rows += [{"where": "vendor set", "key": k, "type": "", "applies_to": "", "required": False, "meaning": m}
             for k, m in VENDOR_SET_KEYS.items()]
    render(Result("policy-schema", None, summary={"keys": len(rows)}, tables={"keys": pd.DataFrame(rows)}),
           fmt, table=table, limit=1000)


@click.command("compare")
@click.argument("snapshot_a")
@click.argument("snapshot_b")
@click.option("--policy", "-p", "policy", default=None, metavar="PACK[,PACK...]|FILE",
              help=_POLICY_HELP + " With it, the findings of both snapshots are compared too.")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Audit date for both snapshots (YYYY-MM-DD; default today).")
@click.option("--all-operators", is_flag=True,
              help="Apply every rule to every operator, not only those in the pack's countries.")
@format_options
@click.pass_obj
@handle_errors
def compare_cmd(ctx, snapshot_a, snapshot_b, policy, as_of, all_operators, fmt, table):
    """What changed from SNAPSHOT_A to SNAPSHOT_B: elements added, removed, re-vendored (by domain
    and operator) and, with --policy, which findings are new, resolved or unchanged."""
    with ctx.workspace(read_only=True) as ws:
        result = compare_snapshots(ws.network(snapshot_a), ws.network(snapshot_b),
                                   policies=policy,
                                   as_of=as_of, jurisdiction=not all_operators)
    render(result, fmt, table=table)


def register(group: click.Group) -> None:
    for cmd in (audit_cmd, policy_group, compare_cmd):
        group.add_command(cmd)
