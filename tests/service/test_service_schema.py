"""Schemathesis against the service's own OpenAPI schema, with a bounded number of examples.

Generated requests, valid and invalid, must never cause a server error, must get a status, content
type and body the schema documents, invalid ones must be refused, and requests without the token
must be refused with 401 (schemathesis's ignored_auth check). The workspace is a small generated
network named ``main`` (the parameters' default), so generated question requests run the real
questions rather than stopping at "no such snapshot".
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from cleanpath.demo import build_example
from cleanpath.service import ServiceConfig, create_app
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace

#: Examples per operation: enough to reach every parameter, few enough to keep the file quick.
EXAMPLES = 12


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "ws.duckdb"
    with open_workspace(path) as ws:
        ws.write_network("main", build_example(scale=0.002))
        token = TokenStore(ws.con).create(role="admin", name="schemathesis").token
    # schemathesis's ignored_auth check sends many bad tokens on purpose: a generous failed-auth limit
    # (the limit itself is tested in test_service_robust.py); short jobs, so none outlives the module
    app = create_app(config=ServiceConfig(workspace=path, max_upload_bytes=2**20, max_body_bytes=2**20, warm=False,
                                          auth_failures="100000/minute", job_time_limit=60, drain_seconds=0))
    yield app, {"Authorization": f"Bearer {token}"}
    app.state.service.close()


@pytest.fixture(scope="module")
def api_schema(service):
    app, headers = service
    return schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=headers)


def _operations() -> list[tuple[str, str]]:
    from cleanpath.service.routes import build_router

    return sorted({(m, r.path) for r in build_router().routes for m in r.methods}) + [("GET", "/health")]


# /health takes nothing, so no request to it can be invalid. Valid brief requests build whole countries'
# networks (minutes each, past the module's job time limit): the brief's valid inputs are exercised by
# tests/brief and tests/registry/test_equivalence.py; its invalid ones here.
CASES = [(m, p, mode) for m, p in _operations() for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if not (p == "/health" and mode is GenerationMode.NEGATIVE)
         and not (p == "/api/questions/brief" and mode is GenerationMode.POSITIVE)]


@pytest.mark.parametrize("method,path,mode", CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_api_conforms_to_its_schema(api_schema, service, method, path, mode):
    auth = service[1]
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        # positive_data_acceptance is left out on purpose: schema-valid requests may still name a
        # snapshot, vendor or pack that does not exist, which is a documented 404 or 422, not a bug.
        case.call_and_validate(headers=dict(auth), excluded_checks=[checks.positive_data_acceptance])

    check()
