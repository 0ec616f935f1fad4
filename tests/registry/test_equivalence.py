"""One question, three faces, one answer: the Python API, the CLI's JSON and the REST JSON agree.

Every registered question is asked with the same inputs through ``cleanpath.ask``, the ``cleanpath``
command (``--format json``) and ``POST /api/questions/<name>``; the three results must be equal, params
included. The inputs include vendor sets spelled the ways users write them (legal names with commas,
``;``-separated, packs, mixed case), derived defaults (policy packs from the snapshot's countries, the
plan's budget) and the older option names kept as aliases.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.demo import build_example
from cleanpath.model.network import Network, validate_tables
from cleanpath.registry import QUESTIONS
from cleanpath.service import ServiceConfig, create_app
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace

AS_OF = "2026-11-21"

#: (question, parameters) asked through every face; every registered question appears at least once.
CASES = [
    ("info", {}),
    ("audit", {"as_of": AS_OF}),  # packs: the default for DE (de-2024, eu-toolbox)
    ("audit", {"policy": "de-2024,us-clean-path", "as_of": AS_OF, "all_operators": True}),
    ("audit", {"policy": "de-2024", "timeline": ["2026-10", "2027-01"]}),
    # a generous solver time limit: the answer must not depend on how busy the machine is
    ("clean-path", {"untrusted": "Huawei Technologies Co., Ltd.; ZTE Corporation", "shared": False,
                    "time_limit": 600}),
    ("clean-path", {"untrusted": "us-clean-path", "sensitive": ["military"], "time_limit": 600}),
    ("outage", {"vendor": "HUAWEI", "mode": "fail"}),
    ("outage", {"vendor": "zte", "mode": "kill"}),
    ("outage", {"vendor": "huawei", "mode": "intercept"}),
    ("outage", {"random": 0.05, "samples": 20, "seed": 3}),
    ("exposure", {"radius_m": "20km", "by": ["vendor"], "untrusted": "us-clean-path"}),
    ("plan", {"horizon": 3, "budget": "40m", "start": 2027}),
    ("plan", {"horizon": 2, "start": 2027, "policy": "de-2024"}),  # budget: the derived default
    ("compare", {"a": "de", "b": "de-after", "policy": "de-2024", "as_of": AS_OF}),
    ("funding", {"as_of": "2022-07-15"}),
    ("funding", {"appropriation": "1.895bn", "as_of": "2022-07-15"}),
    ("incentive", {"untrusted": "Huawei", "as_of": AS_OF, "premium": 0.2}),
    ("explain", {}),
    ("brief", {"countries": "DE,IT", "draws": 2, "scale": 0.002, "untrusted": "huawei; zte"}),
]


def cli_args(question: str, params: dict) -> list[str]:
    """The command line that asks ``question`` with ``params``, from the registry's declarations."""
    spec = QUESTIONS[question]
    args: list[str] = []
    for p in spec.params:
        if p.name not in params:
            continue
        v = params[p.name]
        if p.argument:
            args.append(str(v))
        elif p.kind == "bool":
            args.append(p.option if v else "--no-" + p.option[2:])
        elif p.kind == "months":
            args += [p.option, *map(str, v)]
        elif isinstance(v, list):
            for item in v:
                args += [p.option, str(item)]
        else:
            args += [p.option, str(v)]
    return [question, *args, "--format", "json"]


def _plain(d: dict) -> dict:
    """JSON round trip, without what measures time or depends on it: elapsed seconds, and the
    time-limited exact remediation (a busy machine may stop it early in one face and not another;
    its answers are checked against brute force in tests/analysis/test_remediation.py)."""
    d = json.loads(json.dumps(d, default=str))
    timed = ("seconds", "notes", "shared_fix", "remediation", "per_country")
    d["summary"] = {k: v for k, v in d["summary"].items() if not any(t in k for t in timed)}
    cols = ("remediation", "fix", "lower_bound", "blocking")
    d["tables"] = {name: [{k: v for k, v in row.items() if not any(c in k for c in cols)} for row in rows]
                   for name, rows in d["tables"].items()}
    return d


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    de = build_example(scale=0.005)
    tables = de.tables()
    el = tables["elements"].copy()
    huawei = el.index[el["vendor"].astype(object) == "huawei"][:5]
    el.loc[huawei, "vendor"] = "ericsson"
    tables["elements"] = el
    nets = {"de": de, "de-after": Network(validate_tables(tables), name="de-after", validate=False)}
    path = tmp_path_factory.mktemp("faces") / "ws.duckdb"
    with open_workspace(path) as ws:
        for name, net in nets.items():
            ws.write_network(name, net)
        token = TokenStore(ws.con).create(role="analyst", name="faces").token
    loaded = {}
    with open_workspace(path, read_only=True) as ws:
        loaded = {n: ws.network(n) for n in nets}
    runner = CliRunner()
    cli_out = []
    for question, params in CASES:
        snap = {} if question in ("compare", "funding", "brief") else {"snapshot": "de"}
        res = runner.invoke(cli, ["-w", str(path), *cli_args(question, {**snap, **params})], catch_exceptions=False)
        cli_out.append((res.exit_code, res.stdout))
    app = create_app(config=ServiceConfig(workspace=path, warm=False, auth_failures="100000/minute"))
    rest_out = []
    with TestClient(app) as client:
        for question, params in CASES:
            snap = {} if question in ("compare", "funding", "brief") else {"snapshot": "de"}
            r = client.post(f"/api/questions/{question}?wait=300", json={**snap, **params},
                            headers={"Authorization": f"Bearer {token}"})
            rest_out.append((r.status_code, r.text))
    app.state.service.close()
    return {"nets": loaded, "cli": cli_out, "rest": rest_out}


def test_every_registered_question_is_asked_here():
    assert {q for q, _ in CASES} == set(QUESTIONS)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{q}-{i}" for i, (q, _) in enumerate(CASES)])
def test_python_cli_and_rest_give_the_same_answer(faces, i):
    question, params = CASES[i]
    snap = {} if question in ("compare", "funding", "brief") else {"snapshot": "de"}
    nets = faces["nets"] if question in ("compare", "brief") else (faces["nets"]["de"] if snap else None)
    py = _plain(cleanpath.ask(question, nets, **params).to_dict())
    code, out = faces["cli"][i]
    assert code == 0, out
    status, text = faces["rest"][i]
    assert status == 200, text
    cli_json, rest_json = _plain(json.loads(out)), _plain(json.loads(text))
    assert cli_json == py
    assert rest_json == py
    # what was asked is on record, defaults resolved
    for name, value in params.items():
        assert name in py["params"]
    if question in ("audit", "plan") and "policy" not in params:
        assert py["params"]["policy"] == ["de-2024", "eu-toolbox"]


def test_older_option_names_still_work_and_say_the_same(faces, tmp_path):
    """``--trust`` (before: clean-path, plan, incentive) is a hidden alias of ``--untrusted``."""
    runner = CliRunner()
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        ws.write_network("de", faces["nets"]["de"])
    a = runner.invoke(cli, ["-w", str(path), "incentive", "-s", "de", "--trust", "huawei", "--as-of", AS_OF,
                            "--format", "json"])
    b = runner.invoke(cli, ["-w", str(path), "incentive", "-s", "de", "--untrusted", "huawei", "--as-of", AS_OF,
                            "--format", "json"])
    assert a.exit_code == b.exit_code == 0, a.output
    assert _plain(json.loads(a.stdout)) == _plain(json.loads(b.stdout))
    assert "--trust" not in runner.invoke(cli, ["incentive", "--help"]).output
