"""Every registered question reaches every face: CLI, REST, dashboard, docs, demo and report.

Adding a question is one registration in ``cleanpath.registry.questions``; these tests fail when a face
lacks one, when a declaration is incomplete, or when a command prints anything but its result on stdout.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanpath.cli.main import cli
from cleanpath.registry import KINDS, QUESTIONS, Auto, Param
from cleanpath.suite import suite_questions

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "cleanpath" / "service" / "static"


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_cli_command_has_every_declared_option(name):
    spec = QUESTIONS[name]
    cmd = cli.commands[name]
    options = {o for p in cmd.params for o in getattr(p, "opts", [])}
    for p in spec.params_for("cli"):
        if p.argument:
            assert p.name in {q.name for q in cmd.params}
        else:
            assert p.option in options, (name, p.option)
            for alias in p.cli_aliases:
                assert alias in options
    help_text = CliRunner().invoke(cli, [name, "--help"]).output
    assert spec.title.split(":")[0][:40] in " ".join(help_text.split())


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_rest_route_and_request_model_follow_the_declaration(name):
    from cleanpath.service.questions import QUESTIONS as ROUTES

    spec = QUESTIONS[name]
    model = ROUTES[name].model
    assert set(model.model_fields) == {p.name for p in spec.params_for("rest")}
    for p in spec.params_for("rest"):
        assert model.model_fields[p.name].is_required() == p.required


def test_openapi_lists_every_question_route():
    from cleanpath.service import ServiceConfig, create_app

    app = create_app(config=ServiceConfig(workspace=Path("/nonexistent/never-opened.duckdb"), warm=False))
    paths = set(app.openapi()["paths"])
    assert {f"/api/questions/{n}" for n in QUESTIONS} <= paths
    assert "/api/questions" in paths


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_dashboard_has_a_tab_and_a_form_for_each_question(name):
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    spec = QUESTIONS[name]
    assert spec.dashboard, f"{name} declares no dashboard tab"
    assert f'data-tab="{spec.dashboard}"' in html and f'id="tab-{spec.dashboard}"' in html
    if [p for p in spec.params_for("rest") if p.kind != "snapshot"]:
        assert f'data-question="{name}"' in html, f"{name} has parameters but no dashboard form"
    # every field a form declares is a parameter of its question
    for q, body in re.findall(r'data-question="([a-z-]+)"(.*?)</form>', html, flags=re.S):
        declared = {p.name for p in QUESTIONS[q].params}
        for field in re.findall(r'data-param="([a-z_]+)"', body):
            assert field in declared, (q, field)


def test_docs_reference_every_question():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, spec in QUESTIONS.items():
        assert re.search(rf"^#+ `?cleanpath {re.escape(name)}`?", text, flags=re.M), name
        for p in spec.params_for("cli"):
            if not p.argument:
                assert p.option in text, (name, p.option)


def test_suite_asks_every_question():
    assert set(suite_questions()) == set(QUESTIONS)


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_declarations_are_complete(name):
    spec = QUESTIONS[name]
    assert spec.title and spec.doc and spec.tables and spec.headline
    for p in spec.params:
        assert p.kind in KINDS and p.help.strip()
        if p.kind in ("int", "float"):
            assert p.min is not None and p.max is not None, (name, p.name, "numbers are bounded where declared")
        if p.default not in (None,) and not isinstance(p.default, Auto) and not p.required:
            assert p.convert(p.default) is not None or p.default is None


def test_bad_values_are_errors_with_the_parameter_named():
    from cleanpath.errors import ValidationError

    cases = [(Param("x", "amount", "."), "-5bn"), (Param("x", "amount", "."), "inf"),
             (Param("x", "amount", "."), "nan"), (Param("x", "amount", "."), "1e400"),
             (Param("x", "probability", "."), "1e-300"), (Param("x", "probability", "."), 5e-324),
             (Param("x", "int", ".", min=1, max=5), "6"), (Param("x", "distance", "."), "5 furlongs"),
             (Param("x", "date", "."), "2026-13-01"), (Param("x", "choice", ".", choices=("a",)), "b"),
             (Param("x", "text", ".", max_length=255), "v" * 256)]
    for p, value in cases:
        with pytest.raises(ValidationError) as e:
            p.convert(value)
        assert e.value.problems[0].column == "x", (p.kind, value)


@pytest.fixture(scope="module")
def small_workspace(tmp_path_factory):
    from cleanpath.demo import build_example
    from cleanpath.store.workspace import open_workspace

    path = tmp_path_factory.mktemp("stdout") / "ws.duckdb"
    net = build_example(scale=0.003)
    with open_workspace(path) as ws:
        ws.write_network("main", net)
        ws.write_network("other", net)
    return path


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_json_on_stdout_parses_for_every_question(small_workspace, name):
    """stdout carries the result only: no solver banner, no progress, no warnings (a real process)."""
    args = {"compare": ["main", "other"], "outage": ["--vendor", "huawei"],
            "brief": ["--countries", "DE", "--draws", "1", "--scale", "0.002"]}.get(name, [])
    proc = subprocess.run([sys.executable, "-m", "cleanpath.cli.main", "-w", str(small_workspace), name, *args,
                           "--format", "json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["question"].split("-")[0] == name.split("-")[0]
