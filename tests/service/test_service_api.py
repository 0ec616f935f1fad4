"""The REST service: every route, every role, bad input, uploads, caching, tokens, the audit log.

The workspace holds a generated German network at 1 % scale with the US installations as sensitive
sites ("de") and a copy in which five Huawei elements were re-vendored to Ericsson ("de-after").
Question routes are checked against the Python API called directly on the network as built (the
REST result must be the CLI's JSON); the map's site colours against a plain-Python oracle; uploads
against counts read from the files themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cleanpath.demo import build_example
from cleanpath.model.network import Network, validate_tables
from cleanpath.model.vendors import default_untrusted
from cleanpath.service import ServiceConfig, create_app
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace
from conftest import INSTALLATIONS, TOPOLOGYZOO

AS_OF = "2026-11-21"
UPLOAD_LIMIT = 2 * 2**20
BODY_LIMIT = 256 * 1024
REVENDORED = 5


@pytest.fixture(scope="module")
def nets():
    de = build_example(scale=0.01)
    tables = de.tables()
    el = tables["elements"].copy()
    huawei = el.index[el["vendor"].astype(object) == "huawei"][:REVENDORED]
    el.loc[huawei, "vendor"] = "ericsson"
    tables["elements"] = el
    after = Network(validate_tables(tables), name="de-after", validate=False)
    return {"de": de, "de-after": after}


@pytest.fixture(scope="module")
def env(nets, tmp_path_factory):
    path = tmp_path_factory.mktemp("service") / "ws.duckdb"
    with open_workspace(path) as ws:
        for name, net in nets.items():
            ws.write_network(name, net)
        store = TokenStore(ws.con)
        tokens = {role: store.create(role=role, name=f"test-{role}") for role in ("viewer", "analyst", "admin")}
    # a generous failed-authentication limit: the refusal tests send many bad tokens on purpose
    # (the limit itself is tested in test_service_robust.py)
    app = create_app(config=ServiceConfig(workspace=path, max_upload_bytes=UPLOAD_LIMIT, max_body_bytes=BODY_LIMIT,
                                          warm=False, auth_failures="100000/minute"))
    with TestClient(app) as client:
        yield {"client": client, "app": app, "tokens": tokens, "path": path,
               "h": {role: {"Authorization": f"Bearer {t.token}"} for role, t in tokens.items()}}
    app.state.service.close()


def error_shape(r, status: int, kind: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == kind and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["problems"], list)
    return body


# --- public and authenticated routes --------------------------------------------------------------

def test_health_needs_no_token(env):
    r = env["client"].get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_dashboard_shell_is_public_and_loads_nothing_from_elsewhere(env):
    c = env["client"]
    r = c.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/app.css", "/static/vendor/maplibre-gl/maplibre-gl.mjs",
                  "/static/vendor/maplibre-gl/maplibre-gl-worker.mjs", "/static/points.js",
                  "/static/vendor/world-atlas/countries-50m.geojson"):
        assert c.get(asset).status_code == 200, asset
    # no script, style or data from another origin (the SVG namespace is a name, not a request)
    for name in ("index.html", "app.js", "app.css"):
        text = c.get("/" if name == "index.html" else f"/static/{name}").text
        urls = [u for u in re.findall(r"https?://[^\s\"'`)]+", text) if not u.startswith("http://www.w3.org/")]
        assert urls == [], (name, urls)


def test_vendored_assets_carry_their_licences():
    vendor = Path(str(resources.files("cleanpath.service").joinpath("static", "vendor")))
    versions = json.loads((vendor / "VERSIONS.json").read_text())
    assert set(versions) == {"maplibre-gl", "world-atlas"}
    for pkg, meta in versions.items():
        assert any((vendor / pkg / f).exists() for f in ("LICENSE", "LICENSE.txt")), pkg
        for f in meta["files"]:
            assert (vendor / pkg / f).stat().st_size > 0, (pkg, f)
    borders = json.loads((vendor / "world-atlas" / "borders-50m.geojson").read_text())
    assert borders["type"] == "MultiLineString" and len(borders["coordinates"]) > 100


def api_routes() -> set[tuple[str, str]]:
    """Every (method, path) the API router defines (hidden ones included)."""
    from cleanpath.service.routes import build_router

    return {(m, r.path) for r in build_router().routes for m in r.methods}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_api_route_refuses_missing_or_bad_tokens(env):
    c = env["client"]
    routes = sorted(api_routes())
    assert len(routes) >= 20 and all(p.startswith("/api/") for _, p in routes)
    bad = {"none": {}, "malformed": {"Authorization": "Bearer not-a-token"},
           "unknown": {"Authorization": "Bearer cpt_000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
           "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
           "wrong secret": {"Authorization": env["h"]["admin"]["Authorization"][:-4] + "AAAA"}}
    for method, path in routes:
        for label, headers in bad.items():
            r = c.request(method, _concrete(path), headers=headers, json={} if method == "POST" else None)
            body = error_shape(r, 401, "unauthorized")
            assert r.headers["www-authenticate"].startswith("Bearer"), (method, path, label)
            assert "token" in body["message"]


# (method, path, minimum role, request kwargs): every /api route appears here
MATRIX = [
    ("GET", "/api/whoami", "viewer", {}),
    ("GET", "/api/openapi.json", "viewer", {}),
    ("GET", "/api/snapshots", "viewer", {}),
    ("GET", "/api/snapshots/{name}", "viewer", {"name": "de"}),
    ("GET", "/api/snapshots/{name}/map", "viewer", {"name": "de"}),
    ("DELETE", "/api/snapshots/{name}", "admin", {"name": "no-such"}),
    ("POST", "/api/snapshots/{name}/import", "admin", {"name": "no-such", "files": {"format": (None, "tables")}}),
    ("GET", "/api/import-formats", "admin", {}),
    ("GET", "/api/policies", "viewer", {}),
    ("GET", "/api/policies/{pack}", "viewer", {"pack": "uk-tsa"}),
    ("POST", "/api/questions/audit?wait=120", "analyst", {"json": {"snapshot": "de", "policy": "de-2024", "as_of": AS_OF}}),
    ("POST", "/api/questions/clean-path?wait=120", "analyst", {"json": {"snapshot": "de"}}),
    ("POST", "/api/questions/outage?wait=120", "analyst", {"json": {"snapshot": "de", "vendor": "zte"}}),
    ("POST", "/api/questions/exposure?wait=120", "analyst", {"json": {"snapshot": "de"}}),
    ("POST", "/api/questions/plan?wait=120", "analyst",
     {"json": {"snapshot": "de", "policy": "de-2024", "start": 2027, "horizon": 2, "budget": "50m"}}),
    ("POST", "/api/questions/funding?wait=120", "analyst", {"json": {"as_of": "2022-07-15"}}),
    ("POST", "/api/questions/brief?wait=120", "analyst",
     {"json": {"countries": "DE", "draws": 1, "scale": 0.002}}),
    ("POST", "/api/questions/incentive?wait=120", "analyst", {"json": {"snapshot": "de", "as_of": AS_OF}}),
    ("POST", "/api/questions/compare?wait=120", "analyst", {"json": {"a": "de", "b": "de-after"}}),
    ("POST", "/api/questions/info?wait=120", "analyst", {"json": {"snapshot": "de"}}),
    ("POST", "/api/questions/explain?wait=120", "analyst", {"json": {"snapshot": "de"}}),
    ("GET", "/api/questions", "viewer", {}),
    ("GET", "/api/jobs", "viewer", {}),
    ("GET", "/api/jobs/{job_id}", "viewer", {"job_id": "job_missing"}),
    ("DELETE", "/api/jobs/{job_id}", "analyst", {"job_id": "job_missing"}),
    ("GET", "/api/results", "viewer", {}),
    ("GET", "/api/results/{result_id}", "viewer", {"result_id": "missing"}),
    ("GET", "/api/results/{result_id}/tables/{table}", "viewer", {"result_id": "missing", "table": "x"}),
    ("GET", "/api/tokens", "admin", {}),
    ("POST", "/api/tokens", "admin", {"json": {"role": "viewer", "name": "matrix"}}),
    ("DELETE", "/api/tokens/{token_id}", "admin", {"token_id": "000000000000"}),
    ("GET", "/api/audit", "admin", {}),
]
ROLES = ("viewer", "analyst", "admin")


def test_role_matrix_covers_every_route(env):
    assert api_routes() == {(m, p.split("?")[0]) for m, p, _, _ in MATRIX}


@pytest.mark.parametrize("method,path,needed,kw", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_gets_what_it_may_and_no_more(env, method, path, needed, kw):
    c = env["client"]
    kw = dict(kw)
    url = path.format(**{k: kw.pop(k) for k in list(kw) if "{" + k + "}" in path})
    for role in ROLES:
        r = c.request(method, url, headers=env["h"][role], **kw)
        if ROLES.index(role) < ROLES.index(needed):
            body = error_shape(r, 403, "forbidden")
            assert needed in body["message"] and role in body["message"]
        else:
            assert r.status_code not in (401, 403), (role, r.text)


def test_whoami_reports_role_and_permissions(env):
    for role in ROLES:
        body = env["client"].get("/api/whoami", headers=env["h"][role]).json()
        assert body["role"] == role and body["token_id"] == env["tokens"][role].token_id
        assert ("run questions" in body["permissions"]) == (role != "viewer")
        assert ("manage tokens" in body["permissions"]) == (role == "admin")


# --- questions: the REST result is the Python API's result ---------------------------------------------

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


def _direct(nets):
    from cleanpath.analysis.audit import audit_network, audit_timeline
    from cleanpath.analysis.clean_path import run_clean_path
    from cleanpath.analysis.compare import compare_snapshots
    from cleanpath.analysis.exposure import run_exposure
    from cleanpath.analysis.outage import run_outage
    from cleanpath.plan.funding import read_applications, run_funding
    from cleanpath.plan.incentive import run_incentive
    from cleanpath.plan.planner import run_plan

    de, day = nets["de"], dt.date.fromisoformat(AS_OF)
    apps = str(resources.files("cleanpath.data").joinpath("programmes", "fcc-scrp-applications.csv"))
    return [
        ("audit", {"snapshot": "de", "policy": "de-2024,us-clean-path", "as_of": AS_OF},
         lambda: audit_network(de, policies="de-2024,us-clean-path", as_of=day)),
        ("audit", {"snapshot": "de", "policy": "de-2024", "timeline": ["2026-10", "2027-01"]},
         lambda: audit_timeline(de, policies="de-2024", start="2026-10", end="2027-01")),
        # a generous solver time limit: the answer must not depend on how busy the machine is
        ("clean-path", {"snapshot": "de", "time_limit": 600}, lambda: run_clean_path(de, time_limit=600)),
        ("clean-path", {"snapshot": "de", "sensitive": ["military"], "trust": "huawei", "shared": False,
                        "time_limit": 600},
         lambda: run_clean_path(de, sensitive=["military"], trust="huawei", shared=False, time_limit=600)),
        ("outage", {"snapshot": "de", "vendor": "huawei"}, lambda: run_outage(de, vendors="huawei")),
        ("outage", {"snapshot": "de", "vendor": "zte", "mode": "compromise"},
         lambda: run_outage(de, vendors="zte", mode="compromise")),
        ("outage", {"snapshot": "de", "random": 0.05, "samples": 50, "seed": 3},
         lambda: run_outage(de, random_p=0.05, samples=50, seed=3)),
        ("exposure", {"snapshot": "de", "radius_m": 20000, "by": ["vendor"]},
         lambda: run_exposure(de, radius_m=20000, by=["vendor"])),
        ("plan", {"snapshot": "de", "policy": "de-2024", "start": 2027, "horizon": 3, "budget": "40m"},
         lambda: run_plan(de, policies="de-2024", start_year=2027, horizon=3, budget=40e6)),
        ("funding", {"as_of": "2022-07-15"},
         lambda: run_funding(read_applications(apps), programme="fcc-scrp", as_of=dt.date(2022, 7, 15))),
        ("incentive", {"snapshot": "de", "as_of": AS_OF, "premium": 0.2},
         lambda: run_incentive(de, as_of=day, premium=0.2)),
        ("compare", {"a": "de", "b": "de-after", "policy": "de-2024", "as_of": AS_OF},
         lambda: compare_snapshots(de, nets["de-after"], policies="de-2024", as_of=day)),
    ]


def test_question_routes_return_what_the_python_api_returns(env, nets):
    c, h = env["client"], env["h"]["analyst"]
    for question, params, direct in _direct(nets):
        r = c.post(f"/api/questions/{question}?wait=120", json=params, headers=h)
        assert r.status_code == 200, (question, r.text)
        got, want = _plain(r.json()), _plain(direct().to_dict())
        # the question registry echoes the request's own parameter names (policy, snapshot, ...)
        # where the Python functions echo theirs (policies, jurisdiction): compare the answers
        got.pop("params"), want.pop("params")
        got["summary"].pop("notes", None), want["summary"].pop("notes", None)  # wording of the same notes
        assert got == want, question
        assert set(r.headers["x-result-tables"].split(",")) == {f"{k}:{len(v)}" for k, v in want["tables"].items()}


def test_compare_sees_exactly_the_revendored_elements(env):
    r = env["client"].post("/api/questions/compare?wait=120", json={"a": "de", "b": "de-after"}, headers=env["h"]["analyst"])
    s = r.json()["summary"]
    assert (s["revendored"], s["added"], s["removed"]) == (REVENDORED, 0, 0)
    changes = r.json()["tables"]["changes"]
    assert {(x["vendor_a"], x["vendor_b"]) for x in changes} == {("huawei", "ericsson")}


def test_results_are_cached_and_readable_by_viewers(env):
    c = env["client"]
    body = {"snapshot": "de", "vendor": "nokia,ericsson"}  # asked nowhere else: the first ask is a miss
    first = c.post("/api/questions/outage?wait=120", json=body, headers=env["h"]["analyst"])
    again = c.post("/api/questions/outage?wait=120", json=body, headers=env["h"]["admin"])
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    rid = first.headers["x-result-id"]
    assert again.headers["x-result-id"] == rid and again.content == first.content
    other = c.post("/api/questions/outage?wait=120", json={**body, "mode": "compromise"}, headers=env["h"]["analyst"])
    assert other.headers["x-result-id"] != rid
    # an older spelling is the same question: the same cached answer, stored under the current name
    same = c.post("/api/questions/outage?wait=120", json={**body, "mode": "kill"}, headers=env["h"]["analyst"])
    assert same.headers["x-cache"] == "hit" and same.headers["x-result-id"] == other.headers["x-result-id"]
    assert same.json()["params"]["mode"] == "kill" and "compromise" not in same.text
    listed = c.get("/api/results", params={"snapshot": "de", "question": "outage"}, headers=env["h"]["viewer"]).json()
    mine = [e for e in listed["results"] if e["result_id"] == rid]
    assert len(mine) == 1 and mine[0]["params"]["vendor"] == "nokia,ericsson" and mine[0]["ran_by"] == "test-analyst"
    read = c.get(f"/api/results/{rid}", headers=env["h"]["viewer"])
    assert read.status_code == 200 and read.json() == first.json()
    only = c.get(f"/api/results/{rid}", params={"tables": "by_operator"}, headers=env["h"]["viewer"]).json()
    assert list(only["tables"]) == ["by_operator"] and only["summary"] == first.json()["summary"]
    assert c.get(f"/api/results/{rid}", params={"tables": "none"}, headers=env["h"]["viewer"]).json()["tables"] == {}
    error_shape(c.get(f"/api/results/{rid}", params={"tables": "nope"}, headers=env["h"]["viewer"]), 422, "validation")


def test_large_results_are_gzipped_for_clients_that_accept_it(env):
    c = env["client"]
    r = c.post("/api/questions/audit?wait=120", json={"snapshot": "de", "policy": "all", "as_of": AS_OF},
               headers={**env["h"]["analyst"], "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.json()["summary"]["findings"] == len(r.json()["tables"]["findings"]) > 0
    plain = c.post("/api/questions/audit?wait=120", json={"snapshot": "de", "policy": "all", "as_of": AS_OF},
                   headers={**env["h"]["analyst"], "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == r.json()


def test_result_tables_page_filter_sort_and_facet_like_pandas(env):
    import pandas as pd

    c, h = env["client"], env["h"]["viewer"]
    r = c.post("/api/questions/audit?wait=120", json={"snapshot": "de", "policy": "all", "as_of": AS_OF},
               headers=env["h"]["analyst"])
    rid, df = r.headers["x-result-id"], pd.DataFrame(r.json()["tables"]["findings"])
    url = f"/api/results/{rid}/tables/findings"
    page = c.get(url, params={"eq": ["severity:warning"], "limit": 7, "offset": 2, "sort": "element_id",
                              "columns": "element_id,severity", "facets": "pack,severity"}, headers=h).json()
    want = df[df["severity"] == "warning"].sort_values("element_id", kind="stable")
    assert page["total"] == len(want) and page["rows_in_table"] == len(df)
    assert page["rows"] == want[["element_id", "severity"]].iloc[2:9].values.tolist()
    assert page["facets"]["pack"] == df["pack"].value_counts().to_dict()
    two = c.get(url, params={"eq": ["pack:de-2024", "pack:us-clean-path"], "limit": 1}, headers=h).json()
    assert two["total"] == int(df["pack"].isin(["de-2024", "us-clean-path"]).sum())
    word = "huawei"
    found = c.get(url, params={"search": word.upper(), "limit": 1}, headers=h).json()
    text = df.select_dtypes(exclude="number").astype(str)
    assert found["total"] == int(text.apply(lambda s: s.str.contains(word, case=False)).any(axis=1).sum()) > 0
    for params in ({"eq": ["nosuchcolumn:x"]}, {"eq": ["severity"]}, {"sort": "nope"}, {"columns": "a,b"},
                   {"facets": "nope"}, {"limit": 0}, {"offset": -1}):
        body = error_shape(c.get(url, params=params, headers=h), 422, "validation")
        assert body["problems"], params
    error_shape(c.get(f"/api/results/{rid}/tables/nope", headers=h), 404, "not_found")
    error_shape(c.get("/api/results/0000/tables/findings", headers=h), 404, "not_found")


def test_concurrent_requests_agree_with_sequential_ones(env):
    c, h = env["client"], env["h"]["analyst"]
    bodies = [("outage", {"snapshot": "de", "vendor": v}) for v in ("huawei", "zte", "ericsson", "nokia")]
    bodies += [("incentive", {"snapshot": "de", "as_of": AS_OF, "premium": p}) for p in (0.1, 0.3)]
    with ThreadPoolExecutor(6) as ex:
        together = list(ex.map(lambda qb: c.post(f"/api/questions/{qb[0]}?wait=120", json=qb[1], headers=h), bodies * 2))
    assert all(r.status_code == 200 for r in together)
    for (q, b), r in zip(bodies * 2, together):
        alone = c.post(f"/api/questions/{q}?wait=120", json=b, headers=h)
        assert alone.json() == r.json() and alone.headers["x-result-id"] == r.headers["x-result-id"]


# --- bad input ------------------------------------------------------------------------------------------

BAD_QUESTIONS = [
    ("audit", {"snapshot": "de", "policy": "/etc/passwd"}, "policy", "/etc/passwd"),
    ("audit", {"snapshot": "de", "policy": "de-2024,nonsense-pack"}, "policy", "nonsense-pack"),
    ("audit", {"snapshot": "de", "policy": "de-2024", "as_of": "yesterday"}, "as_of", "yesterday"),
    ("audit", {"snapshot": "de", "policy": "de-2024", "timeline": ["2026-01"]}, "timeline", None),
    ("clean-path", {"snapshot": "de", "trust": "../policies/mine.yaml"}, "trust", "../policies/mine.yaml"),
    ("clean-path", {"snapshot": "de", "sensitive": ["no-such-site"]}, None, "no-such-site"),
    ("outage", {"snapshot": "de", "vendor": "acme-telecom"}, None, "acme-telecom"),
    ("outage", {"snapshot": "de", "elements": ["no-such-element"]}, None, "no-such-element"),
    ("outage", {"snapshot": "de", "random": 1.5}, "random", "1.5"),
    ("outage", {"snapshot": "de", "mode": "explode"}, "mode", "explode"),
    ("exposure", {"snapshot": "de", "sensitive": ["/etc/hosts"]}, "sensitive", "/etc/hosts"),
    ("exposure", {"snapshot": "de", "radius_m": -5}, "radius_m", "-5"),
    ("plan", {"snapshot": "de", "policy": "de-2024", "start": 2027, "horizon": 3, "budget": "lots"}, "budget", "lots"),
    ("plan", {"snapshot": "de", "policy": "de-2024", "start": 2027, "horizon": 3, "budget": [1, 2]}, "budget", None),
    ("plan", {"snapshot": "de", "policy": "de-2024", "start": 2027, "budget": "1m", "funding": "/tmp/p.yaml"},
     "funding", "/tmp/p.yaml"),
    ("funding", {"programme": "nope"}, "programme", "nope"),
    ("funding", {"applications_csv": "applicant_id,customers,approved_amount\na,10,abc\n"}, None, "abc"),
    ("incentive", {"snapshot": "de", "premium": "cheap"}, "premium", "cheap"),
    ("compare", {"a": "de"}, "b", None),
    ("outage", {"snapshot": "de", "vendor": "zte", "colour": "red"}, "colour", "red"),
]


@pytest.mark.parametrize("question,body,column,value", BAD_QUESTIONS,
                         ids=[f"{q}-{i}" for i, (q, *_rest) in enumerate(BAD_QUESTIONS)])
def test_bad_parameters_are_422_with_problems(env, question, body, column, value):
    r = env["client"].post(f"/api/questions/{question}?wait=120", json=body, headers=env["h"]["analyst"])
    problems = error_shape(r, 422, "validation")["problems"]
    assert problems
    if column is not None:
        assert any(p["column"] is not None and column in str(p["column"]) for p in problems), problems
    if value is not None:
        assert any(p["value"] is not None and value in p["value"] for p in problems), problems


def test_bad_csv_problems_carry_file_line_and_column(env):
    text = "applicant_id,customers,approved_amount\nok,10,1000\nbad,many,2000\nworse,5,-3\n"
    r = env["client"].post("/api/questions/funding?wait=120", json={"applications_csv": text}, headers=env["h"]["analyst"])
    problems = error_shape(r, 422, "validation")["problems"]
    where = {(p["line"], p["column"]) for p in problems}
    assert (3, "customers") in where and (4, "approved_amount") in where
    assert all(p["file"] == "applications_csv" for p in problems)


def test_unknown_snapshots_routes_and_bodies(env):
    c, h = env["client"], env["h"]["admin"]
    body = error_shape(c.post("/api/questions/outage?wait=120", json={"snapshot": "atlantis", "vendor": "zte"}, headers=h),
                       404, "not_found")
    assert "atlantis" in body["message"] and "de" in body["message"]
    error_shape(c.get("/api/snapshots/atlantis", headers=h), 404, "not_found")
    error_shape(c.get("/api/snapshots/atlantis/map", headers=h), 404, "not_found")
    error_shape(c.delete("/api/snapshots/atlantis", headers=h), 404, "not_found")
    error_shape(c.get("/api/policies/atlantis", headers=h), 404, "not_found")
    error_shape(c.get("/api/nothing-here", headers=h), 404, "not_found")
    r = c.post("/api/questions/outage?wait=120", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    error_shape(r, 422, "validation")
    error_shape(c.post("/api/questions/outage?wait=120", json=["a list"], headers=h), 422, "validation")
    r = c.get("/api/snapshots/de/map", params={"trust": "/etc/passwd"}, headers=h)
    assert error_shape(r, 422, "validation")["problems"][0]["value"] == "/etc/passwd"
    r = c.get("/api/results", params={"limt": 5}, headers=h)  # misspelt: refused, not ignored
    assert error_shape(r, 422, "validation")["problems"][0]["column"] == "limt"
    r = c.post("/api/questions/outage?wait=120", content=b"\xff\xfe{", headers={**h, "Content-Type": "application/json"})
    error_shape(r, 422, "validation")


def test_oversized_json_bodies_are_413(env):
    big = {"snapshot": "de", "elements": ["e" * 100] * (BODY_LIMIT // 90)}
    r = env["client"].post("/api/questions/outage?wait=120", json=big, headers=env["h"]["analyst"])
    assert error_shape(r, 413, "too_large")["limit_bytes"] == BODY_LIMIT


# --- snapshots, uploads, deletes -------------------------------------------------------------------------------

def test_snapshot_list_and_info_match_the_workspace(env, nets):
    c, h = env["client"], env["h"]["viewer"]
    rows = {s["name"]: s for s in c.get("/api/snapshots", headers=h).json()["tables"]["snapshots"]}
    assert {"de", "de-after"} <= set(rows)
    assert rows["de"]["elements"] == len(nets["de"].elements) and rows["de"]["sites"] == len(nets["de"].sites)
    info = c.get("/api/snapshots/de", headers=h).json()
    assert info["question"] == "info" and info["summary"]["elements"] == len(nets["de"].elements)
    by_vendor = {r["vendor"]: r["elements"] for r in info["tables"]["by_vendor"]}
    assert by_vendor == nets["de"].elements["vendor"].astype(object).fillna("unknown").value_counts().to_dict()


def test_map_colours_sites_by_untrusted_vendors(env, nets):
    import pandas as pd

    net = nets["de"]
    body = env["client"].get("/api/snapshots/de/map", headers=env["h"]["viewer"]).json()
    bad = default_untrusted(net.catalogue)
    assert set(body["untrusted"]) == bad
    # oracle in plain Python: untrusted if any element is from an untrusted vendor; trusted if it has
    # equipment of some known vendor and none untrusted; unknown otherwise
    untrusted_sites, known = set(), set()
    for site, vendor in zip(net.elements["site_id"].astype(object), net.elements["vendor"].astype(object)):
        if vendor in bad:
            untrusted_sites.add(site)
        if isinstance(vendor, str) and vendor != "unknown":
            known.add(site)
    placed = [(site, float(lat), float(lon)) for site, lat, lon in
              zip(net.sites["site_id"].astype(object), net.sites["lat"].astype(object), net.sites["lon"].astype(object))
              if not (pd.isna(lat) or pd.isna(lon))]
    s = body["sites"]
    assert s["count"] == len(placed) == len(s["lon"]) == len(s["status"])
    want = [1 if site in untrusted_sites else (0 if site in known else 2) for site, _, _ in placed]
    assert s["status"] == want and 0 < sum(x == 1 for x in want) < len(want)
    assert [round(lon, 5) for _, _, lon in placed] == s["lon"]
    assert len(body["sensitive"]) == len(net.sensitive_sites)
    assert body["vendor_elements"]["huawei"] == int((net.elements["vendor"].astype(object) == "huawei").sum())
    lo, la = zip(*[(lon, lat) for _, lat, lon in placed])
    assert body["bounds"] == pytest.approx([min(lo), min(la), max(lo), max(la)])


def _dfn_nodes() -> int:
    return len(re.findall(r"^\s*node\s*\[", (TOPOLOGYZOO / "Dfn.gml").read_text(), flags=re.M))


def test_admin_uploads_import_atomically(env):
    c, h = env["client"], env["h"]["admin"]
    gml = (TOPOLOGYZOO / "Dfn.gml").read_bytes()
    r = c.post("/api/snapshots/zoo/import", headers=h, data={"format": "topologyzoo", "vendor": "huawei"},
               files={"files": ("Dfn.gml", gml, "application/octet-stream")})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["summary"]["totals"]["sites"] == _dfn_nodes() == 58 and out["params"]["paths"] == ["Dfn.gml"]
    info = c.get("/api/snapshots/zoo", headers=h).json()
    assert info["summary"]["sites"] == 58 and {v["vendor"] for v in info["tables"]["by_vendor"]} == {"huawei"}
    # a broken file: 422 with the problem's place, and the snapshot is unchanged
    broken = gml[: len(gml) // 2]
    r = c.post("/api/snapshots/zoo/import", headers=h, data={"format": "topologyzoo", "replace": "true"},
               files={"files": ("Dfn.gml", broken, "application/octet-stream")})
    problems = error_shape(r, 422, "validation")["problems"]
    assert any(p["file"] and "Dfn.gml" in p["file"] for p in problems)
    assert c.get("/api/snapshots/zoo", headers=h).json()["summary"]["sites"] == 58
    # sensitive sites added to the same snapshot: the file's rows, counted with the csv module
    with INSTALLATIONS.open(newline="") as f:
        n_rows = sum(1 for _ in csv.DictReader(f))
    r = c.post("/api/snapshots/zoo/import", headers=h, data={"format": "sensitive"},
               files={"files": ("installations.csv", INSTALLATIONS.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["totals"]["sensitive_sites"] == n_rows and r.json()["summary"]["totals"]["sites"] == 58


def test_uploads_over_the_limit_are_413_and_write_nothing(env):
    c, h = env["client"], env["h"]["admin"]
    payload = b"x" * (UPLOAD_LIMIT + 1000)
    r = c.post("/api/snapshots/toobig/import", headers=h, data={"format": "topologyzoo"},
               files={"files": ("big.gml", payload, "application/octet-stream")})
    assert error_shape(r, 413, "too_large")["limit_bytes"] == UPLOAD_LIMIT

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="format"\r\n\r\ntopologyzoo\r\n'
        yield boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="big.gml"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 2):
            yield b"y" * 65536
        yield b"\r\n" + boundary + b"--\r\n"

    r = c.post("/api/snapshots/toobig/import", content=chunks(),
               headers={**h, "Content-Type": "multipart/form-data; boundary=b0undary"})
    error_shape(r, 413, "too_large")
    names = {s["name"] for s in c.get("/api/snapshots", headers=h).json()["tables"]["snapshots"]}
    assert "toobig" not in names


def test_bad_uploads_are_422(env):
    c, h = env["client"], env["h"]["admin"]
    gml = ("Dfn.gml", (TOPOLOGYZOO / "Dfn.gml").read_bytes(), "application/octet-stream")
    cases = [({"format": "shapefile"}, {"files": gml}, "format"),
             ({"format": "topologyzoo"}, None, "files"),
             ({"format": "sensitive", "kind": "castle"}, {"files": gml}, "kind"),
             ({"format": "sensitive", "radius_m": "-1"}, {"files": gml}, "radius_m"),
             ({"format": "topologyzoo", "replace": "perhaps"}, {"files": gml}, "replace")]
    for data, files, column in cases:
        r = c.post("/api/snapshots/zoo2/import", headers=h, data=data, files=files or {"other": ("a", b"b")})
        assert any(p["column"] == column for p in error_shape(r, 422, "validation")["problems"]), (data, r.text)
    r = c.post("/api/snapshots/bad%20name!/import", headers=h, data={"format": "topologyzoo"}, files={"files": gml})
    error_shape(r, 422, "validation")


def test_delete_snapshot_forgets_its_results(env, nets):
    c, h = env["client"], env["h"]["admin"]
    with open_workspace(env["path"]) as ws:  # same process: DuckDB shares the open database
        ws.write_network("scratch", nets["de-after"])
    env["app"].state.service.refresh_versions()
    r = c.post("/api/questions/outage?wait=120", json={"snapshot": "scratch", "vendor": "huawei"}, headers=h)
    rid = r.headers["x-result-id"]
    assert c.get(f"/api/results/{rid}", headers=h).status_code == 200
    assert c.delete("/api/snapshots/scratch", headers=h).json() == {"deleted": "scratch"}
    error_shape(c.get(f"/api/results/{rid}", headers=h), 404, "not_found")
    error_shape(c.get("/api/snapshots/scratch", headers=h), 404, "not_found")
    assert rid not in {e["result_id"] for e in c.get("/api/results", headers=h).json()["results"]}


def test_policy_routes_list_and_show_shipped_packs(env):
    from cleanpath.policy.loader import load_policy, shipped_packs

    c, h = env["client"], env["h"]["viewer"]
    packs = c.get("/api/policies", headers=h).json()["tables"]["packs"]
    assert [p["pack"] for p in packs] == shipped_packs()
    shown = c.get("/api/policies/uk-tsa", headers=h).json()
    assert shown["summary"]["pack"] == "uk-tsa" and len(shown["tables"]["rules"]) >= len(load_policy("uk-tsa").rules)


def test_openapi_schema_documents_every_question_and_bearer_auth(env):
    schema = env["client"].get("/api/openapi.json", headers=env["h"]["viewer"]).json()
    for q in ("audit", "clean-path", "outage", "exposure", "plan", "funding", "incentive", "compare"):
        op = schema["paths"][f"/api/questions/{q}"]["post"]
        assert {"401", "403", "422"} <= set(op["responses"]) and op["security"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert env["client"].get("/openapi.json").status_code == 404  # not public
    assert env["client"].get("/docs").status_code == 404  # Swagger UI would load from a CDN


# --- tokens and the audit log ---------------------------------------------------------------------------------

def test_tokens_created_listed_and_revoked_through_the_api(env):
    c, h = env["client"], env["h"]["admin"]
    made = c.post("/api/tokens", json={"role": "analyst", "name": "ci"}, headers=h)
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["token_id"]
    mine = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/whoami", headers=mine).json()["role"] == "analyst"
    listed = c.get("/api/tokens", headers=h).json()["tokens"]
    row = next(t for t in listed if t["token_id"] == token_id)
    assert row["role"] == "analyst" and row["revoked_at"] is None and "token" not in row and "hash" not in row
    assert token not in json.dumps(listed)
    assert c.delete(f"/api/tokens/{token_id}", headers=h).json() == {"revoked": token_id}
    error_shape(c.get("/api/whoami", headers=mine), 401, "unauthorized")
    error_shape(c.delete(f"/api/tokens/{token_id}", headers=h), 404, "not_found")
    error_shape(c.post("/api/tokens", json={"role": "root"}, headers=h), 422, "validation")


def test_workspace_keeps_only_salted_hashes(env):
    svc = env["app"].state.service
    cur = svc.ws.con.cursor()
    rows = cur.execute("SELECT token_id, salt, hash, kdf FROM service_tokens").fetchall()
    secrets_ = {t.token.split(".", 1)[1] for t in env["tokens"].values()}
    dump = repr(rows) + repr(cur.execute("SELECT * FROM service_audit_log").fetchall())
    assert not any(s in dump for s in secrets_)
    salts = [bytes(r[1]) for r in rows]
    assert all(len(s) == 16 for s in salts) and len(set(salts)) == len(salts)
    assert all(len(bytes(r[2])) == 32 and r[3].startswith("scrypt") for r in rows)


def test_audit_log_records_who_ran_what_including_refusals(env):
    c = env["client"]
    c.post("/api/questions/outage?wait=120", json={"snapshot": "de", "vendor": "ericsson", "mode": "compromise"},
           headers=env["h"]["analyst"])
    c.get("/api/tokens", headers=env["h"]["viewer"])  # refused
    c.get("/api/snapshots")  # no token
    entries = c.get("/api/audit", params={"limit": 50}, headers=env["h"]["admin"]).json()["entries"]
    ran = next(e for e in entries if e["action"] == "question:outage" and e["params"]
               and json.loads(e["params"])["vendor"] == "ericsson")
    assert ran["token_id"] == env["tokens"]["analyst"].token_id and ran["role"] == "analyst"
    assert ran["status"] == 200 and ran["snapshot"] == "de" and ran["result_id"]
    assert any(e["path"] == "/api/tokens" and e["status"] == 403 and e["role"] == "viewer" for e in entries)
    assert any(e["path"] == "/api/snapshots" and e["status"] == 401 and e["token_id"] is None for e in entries)
    only = c.get("/api/audit", params={"token_id": env["tokens"]["viewer"].token_id},
                 headers=env["h"]["admin"]).json()["entries"]
    assert only and {e["token_id"] for e in only} == {env["tokens"]["viewer"].token_id}


# --- the CLI: token create|list|revoke, and serve ----------------------------------------------------------------

def _cli():
    from cleanpath.cli import serve
    from cleanpath.cli.main import cli

    serve.register(cli)  # harmless if cli/main.py already registers it
    return cli


def test_token_commands_work_on_the_file(tmp_path):
    cli, ws = _cli(), tmp_path / "t.duckdb"
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "--role", "analyst", "--name", "nightly", "-w", str(ws),
                               "--format", "json"])
    assert made.exit_code == 0, made.output
    got = json.loads(made.stdout.strip().splitlines()[-1])
    plain = runner.invoke(cli, ["token", "create", "--role", "viewer", "-w", str(ws)])
    viewer_token = plain.stdout.strip().splitlines()[-1]
    assert viewer_token.startswith("cpt_")
    with open_workspace(ws) as w:
        store = TokenStore(w.con)
        assert store.verify(got["token"]).role == "analyst" and store.verify(viewer_token).role == "viewer"
        assert store.verify(got["token"][:-1] + ("A" if got["token"][-1] != "A" else "B")) is None
    listed = runner.invoke(cli, ["token", "list", "-w", str(ws), "--format", "json"])
    rows = json.loads(listed.stdout)["tables"]["tokens"]
    assert {r["name"] for r in rows} == {"nightly", None} and got["token"] not in listed.stdout
    assert runner.invoke(cli, ["token", "revoke", got["token_id"], "-w", str(ws)]).exit_code == 0
    again = runner.invoke(cli, ["token", "revoke", got["token_id"], "-w", str(ws)])
    assert again.exit_code == 2
    with open_workspace(ws) as w:
        assert TokenStore(w.con).verify(got["token"]) is None


def test_token_command_explains_a_workspace_held_by_the_service(tmp_path):
    ws = tmp_path / "held.duckdb"
    open_workspace(ws).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from cleanpath.store.workspace import open_workspace
        w = open_workspace({str(ws)!r})
        print("ready", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = CliRunner().invoke(_cli(), ["token", "create", "--role", "viewer", "-w", str(ws)])
        assert r.exit_code == 2 and "/api/tokens" in r.output and "in use" in r.output
    finally:
        holder.communicate(input="", timeout=20)


def test_service_tables_live_in_the_workspace(env):
    svc = env["app"].state.service
    names = {r[0] for r in svc.ws.con.cursor().execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    assert {"service_tokens", "service_audit_log", "snapshots"} <= names
