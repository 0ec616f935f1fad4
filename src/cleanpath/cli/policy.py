"""``cleanpath policy``: the shipped packs, their rules, checking your own (audit and compare are
registered questions: :mod:`cleanpath.cli.questions`)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from cleanpath.analysis.audit import rules_table
from cleanpath.cli.common import format_options, handle_errors
from cleanpath.cli.output import render
from cleanpath.policy.language import PACK_KEYS, RULE_KEYS, SCOPE_KEYS, VENDOR_SET_KEYS
from cleanpath.policy.loader import load_policy, shipped_packs
from cleanpath.result import Result

_POLICY_HELP = ("Shipped packs, comma-separated (see `cleanpath policy list`), 'all', or a policy "
                "file (YAML).")


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


def register(group: click.Group) -> None:
    for cmd in (policy_group,):
        group.add_command(cmd)
