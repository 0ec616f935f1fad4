"""The REST routes: snapshots, questions and their jobs, results, policy packs, tokens and the audit log.

Every route here needs a bearer token (``/health`` and the dashboard's static page, which holds no
data, do not); the token is checked by the app's middleware before any body is read. Roles: viewer
reads, analyst also runs questions, admin also imports, deletes and manages tokens. Question routes
return the same JSON the CLI's ``--format json`` prints: at once (200) when cached, otherwise as a
job in a worker process (202 and ``Location: /api/jobs/{id}``; ``?wait=SECONDS`` waits for it),
polled with ``GET /api/jobs/{id}`` and cancelled with ``DELETE /api/jobs/{id}``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from cleanpath import __version__
from cleanpath.errors import Problem, ValidationError
from cleanpath.io.registry import IMPORTERS
from cleanpath.model.network import Network
from cleanpath.model.schema import SENSITIVE_KINDS
from cleanpath.result import Result, jsonable
from cleanpath.service import params as P
from cleanpath.service.core import GZIP_MIN_BYTES, Entry, Payload, Service, dumps, facets, page_table
from cleanpath.service.jobs import KEEP_FINISHED, Job
from cleanpath.service.errors import ApiError
from cleanpath.service.questions import QUESTIONS, policy_list, policy_show
from cleanpath.service.tokens import PERMISSIONS, ROLES, Principal
from cleanpath.store.workspace import check_snapshot_name

bearer = HTTPBearer(auto_error=False, description="A token from `cleanpath token create` or POST /api/tokens.")
_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="cleanpath"'}


# --- response documentation (the bodies are sent as pre-serialised bytes) ------------------------------

class ProblemModel(BaseModel):
    reason: str
    file: str | None = None
    line: int | None = None
    column: str | int | None = None
    value: str | None = None
    sheet: str | None = Field(None, description="Imports only: the workbook sheet of a problem in an Excel file "
                                                "(``file`` is then ``book.xlsx:Sheet``).")


class ErrorModel(BaseModel):
    error: str = Field(description="unauthorized, forbidden, not_found, conflict, too_large, validation, internal")
    message: str
    problems: list[ProblemModel] = []


class ResultModel(BaseModel):
    question: str
    snapshot: str | None
    params: dict[str, Any]
    summary: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]


class TablePage(BaseModel):
    table: str
    columns: list[str]
    total: int
    rows_in_table: int
    offset: int
    limit: int
    rows: list[list[Any]]
    facets: dict[str, dict[str, int]] | None = None


class JobProgress(BaseModel):
    stage: str = Field(description="queued, loading, computing, sending, or the final state")
    queue_position: int | None = None
    waited_s: float
    running_s: float | None = None
    time_limit_s: float


class JobModel(BaseModel):
    job_id: str
    question: str
    status: str = Field(description="queued, running, done, failed, cancelled, timeout")
    params: dict[str, Any]
    snapshots: list[str]
    created_by: str | None
    created_at: str
    finished_at: str | None
    progress: JobProgress
    result_id: str | None = Field(description="The answer's id (known from the start; readable once done).")
    result: str | None = Field(description="Once done: GET this for the result.")
    error: ErrorModel | None = None
    http_status: int | None = None


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {401: "No token, or an invalid or revoked one.", 403: "The token's role may not do this.",
            404: "No such snapshot, result, table, pack, job or token.", 409: "The workspace cannot do this now.",
            413: "The request body is too large.", 422: "Bad parameters or bad input data; problems listed.",
            429: "Too many failed authentications from this address; Retry-After says when to try again.",
            499: "The question's job was cancelled (with wait=).", 500: "The question failed (with wait=).",
            503: "The service is stopping.", 504: "The question ran past its time limit (with wait=).",
            507: "The question ran out of memory (with wait=)."}
    return {c: {"model": ErrorModel, "description": text[c]} for c in codes}


def _ok(model: type[BaseModel] | None = None, description: str = "OK") -> dict[int | str, dict[str, Any]]:
    return {200: ({"model": model} if model else {}) | {"description": description}}


# --- auth ---------------------------------------------------------------------------------------------

def service(request: Request) -> Service:
    return request.app.state.service


def require(role: str) -> Callable:
    """A dependency: the caller's principal, which must hold at least ``role``.

    The token itself was checked by :class:`cleanpath.service.app.Guard` before the body was read;
    ``bearer`` stays in the signature so that the OpenAPI schema documents the scheme.
    """

    async def dependency(request: Request,
                         _credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        principal = request.scope.get("state", {}).get("principal")
        if principal is None:  # only reachable if the app runs without its Guard
            raise ApiError(401, "missing or invalid bearer token", headers=_UNAUTHORIZED_HEADERS)
        request.state.principal = principal
        if not principal.may(role):
            raise ApiError(403, f"this needs the {role} role or higher; token {principal.token_id} has the "
                                f"{principal.role} role")
        _refuse_unknown_query(request)
        return principal

    return dependency


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant) -> list[str]:
    """Query parameter names of a route and its dependencies."""
    out = [p.alias for p in dependant.query_params]
    for sub in dependant.dependencies:
        out += _query_names(sub)
    return out


def _refuse_unknown_query(request: Request) -> None:
    """422 for query parameters the route does not take: a misspelt ``limt=5`` would otherwise be
    silently ignored and the caller would not know why the answer ignores it."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = frozenset(_query_names(route.dependant))
        _QUERY_NAMES[id(route)] = names
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in names]
    if unknown:
        raise ValidationError([Problem(f"unknown query parameter; this route takes "
                                       f"{', '.join(sorted(names)) or 'none'}", file="query", column=k)
                               for k in unknown])


viewer = Depends(require("viewer"))
analyst = Depends(require("analyst"))
admin = Depends(require("admin"))


def note(request: Request, action: str, *, snapshot: str | None = None, params: dict[str, Any] | None = None,
         result_id: str | None = None) -> None:
    """What the audit log records for this request."""
    request.state.audit = {"action": action, "snapshot": snapshot, "params": _loggable(params),
                           "result_id": result_id}


def _loggable(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Parameters for the log, long texts (an uploaded CSV) replaced by their size and hash."""
    from cleanpath.service.jobs import summarise_params

    return None if params is None else jsonable(summarise_params(params))


def send(request: Request, payload: Payload, headers: dict[str, str] | None = None) -> Response:
    """JSON bytes, gzip-compressed when large and the client accepts it."""
    h = {"Cache-Control": "no-store", **(headers or {})}
    if len(payload.raw) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(payload.gz(), media_type="application/json",
                        headers={**h, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(payload.raw, media_type="application/json", headers=h)


def _tables(spec: str, result: Result) -> tuple[str, ...] | None:
    """``all`` (None), ``none`` (no tables) or comma-separated table names."""
    if spec == "all":
        return None
    if spec == "none":
        return ()
    names = tuple(dict.fromkeys(t.strip() for t in spec.split(",") if t.strip()))
    bad = [t for t in names if t not in result.tables]
    if bad:
        raise ValidationError([Problem(f"no table {t!r} in this result ({', '.join(result.tables)})", file="request",
                                       column="tables", value=t) for t in bad])
    return names


TablesQuery = Query("all", max_length=1000, description="'all', 'none', or comma-separated table names.")


async def _send_entry(request: Request, entry: Entry, tables: str, cached: bool) -> Response:
    # the tables' names and sizes travel in a header too, so a client asking for tables=none
    # still knows what it can page through
    names = ",".join(f"{k}:{len(v)}" for k, v in entry.result.tables.items())
    chosen = _tables(tables, entry.result)
    key = "*" if chosen is None else ",".join(chosen)
    # serialising a large result (and gzipping it) takes a while: not on the event loop
    payload = entry._payloads.get(key) or await run_in_threadpool(entry.payload, chosen)
    if len(payload.raw) >= GZIP_MIN_BYTES and payload._gz is None and "gzip" in request.headers.get(
            "accept-encoding", ""):
        await run_in_threadpool(payload.gz)
    return send(request, payload,
                {"X-Result-Id": entry.result_id, "X-Cache": "hit" if cached else "miss", "X-Result-Tables": names})


async def _entry(svc: Service, result_id: str) -> Entry:
    e = svc.results.memory.get(result_id) or await run_in_threadpool(svc.result, result_id)
    if e is None:
        raise ApiError(404, f"no result {result_id!r}: results are kept until their snapshot changes or the cache "
                            "needs the room; run the question again (POST /api/questions/...)")
    return e


# --- the router -----------------------------------------------------------------------------------------

def build_router() -> APIRouter:
    r = APIRouter(prefix="/api")

    @r.get("/whoami", summary="The calling token's id, name, role and permissions.",
           responses=_errors(401))
    async def whoami(request: Request, p: Principal = viewer) -> dict[str, Any]:
        note(request, "whoami")
        allowed = [perm for role in ROLES[: ROLES.index(p.role) + 1] for perm in PERMISSIONS[role]]
        return {"token_id": p.token_id, "name": p.name, "role": p.role, "permissions": allowed,
                "version": __version__}

    @r.get("/openapi.json", summary="This API's OpenAPI schema.", responses=_errors(401))
    async def openapi(request: Request, _p: Principal = viewer) -> dict[str, Any]:
        note(request, "openapi")
        return request.app.openapi()

    # -- snapshots -----------------------------------------------------------------------------------
    @r.get("/snapshots", summary="List snapshots (cleanpath snapshots).", responses=_ok(ResultModel) | _errors(401))
    async def snapshots(request: Request, _p: Principal = viewer) -> Response:
        note(request, "snapshots")
        svc = service(request)
        rows = svc.snapshot_list()  # no lock: a long question must not hold up the list
        df = pd.DataFrame([{"name": s.name, "created_at": s.created_at, "updated_at": s.updated_at,
                            **{t: s.counts.get(t, 0) for t in ("sites", "elements", "links", "sensitive_sites")},
                            "source": s.source} for s in rows],
                          columns=["name", "created_at", "updated_at", "sites", "elements", "links",
                                   "sensitive_sites", "source"])
        res = Result("snapshots", None, summary={"workspace": str(svc.ws.path), "snapshots": len(df)},
                     tables={"snapshots": df})
        return send(request, Payload(dumps(res.to_dict())))

    @r.get("/snapshots/{name}", summary="Summarise a snapshot (cleanpath info).",
           responses=_ok(ResultModel) | _errors(401, 404))
    async def snapshot_info(request: Request, name: str, _p: Principal = viewer) -> Response:
        note(request, "info", snapshot=name)
        svc = service(request)
        payload = svc.reads.get(svc.info_key(name)) or await run_in_threadpool(svc.info_read, name)
        return send(request, payload)

    @r.delete("/snapshots/{name}", summary="Delete a snapshot (admin).", responses=_errors(401, 403, 404, 409))
    def delete_snapshot(request: Request, name: str, _p: Principal = admin) -> dict[str, Any]:
        note(request, "delete-snapshot", snapshot=name)
        svc = service(request)
        svc.version(name)
        with svc.lock:
            svc.ws.delete_snapshot(name)
            svc.forget(name)
        return {"deleted": name}

    @r.get("/snapshots/{name}/map", summary="Sites and sensitive sites for the dashboard's map.",
           responses=_errors(401, 404, 422))
    async def snapshot_map(request: Request, name: str,
                           trust: str | None = Query(None, max_length=500, description="Trust setting (default: HQ "
                                                     "in China or Russia are untrusted)."),
                           elements: str | None = Query(None, max_length=10_000,
                                                        description="Comma-separated element ids (at most 1,000): "
                                                                    "answer only where they are (element_id, site_id, "
                                                                    "vendor, role, lon, lat) instead of the whole map."),
                           _p: Principal = viewer) -> Response:
        note(request, "map", snapshot=name, params={"trust": trust, "elements": elements})
        svc = service(request)
        trust = check_map_trust(trust)
        if elements is not None:
            ids = list(dict.fromkeys(t.strip() for t in elements.split(",") if t.strip()))
            if not ids or len(ids) > 1000:
                raise ValidationError(Problem(f"give 1 to 1,000 element ids ({len(ids):,} given)", file="query",
                                              column="elements", value=elements[:200]))
            svc.version(name)  # 404 for an unknown snapshot
            return send(request, Payload(dumps(await run_in_threadpool(_element_places, svc, name, ids))))
        payload = svc.reads.get(svc.map_key(name, trust)) or await run_in_threadpool(svc.map_read, name, trust)
        return send(request, payload)

    @r.get("/import-formats", summary="The import formats, what each reads and the options it takes, as the "
                                      "dashboard's import screen offers them (admin).", responses=_errors(401, 403))
    async def import_formats(request: Request, _p: Principal = admin) -> dict[str, Any]:
        note(request, "import-formats")
        return {"formats": describe_import_formats()}

    @r.post("/snapshots/{name}/import", summary="Import uploaded files into a snapshot, all or nothing, or check "
                                                "them (dry_run) (admin).",
            description="Multipart form. `files`: one or more files of the `format`. `mapping`: for the `mapped` "
                        "format (any CSV or Excel export), the YAML mapping that reads them onto the model tables "
                        "(docs/mapping.md); its `file:` entries name the uploads by file name. `replace`: start "
                        "the snapshot afresh (default: add to it; rows already there with the same values are "
                        "skipped, the same id with other values is a problem). `dry_run`: read and validate "
                        "everything exactly as the import would, write nothing, and answer what would land: rows "
                        "per table, operators and vendors found, the first rows of each table. Both answers say "
                        "how many elements of the snapshot as it is (would be) afterwards cannot serve, and why "
                        "(`non_serving_by_reason`, the table `not_serving` with an example per reason). Problems are a "
                        "422 listing each with its file (and `sheet`), line (row), column and value; then "
                        "nothing was written.",
            responses=_ok(ResultModel, "What landed, or with dry_run what would land (nothing is written).")
            | _errors(401, 403, 409, 413, 422),
            openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["format", "files"],
                "properties": {
                    "format": {"type": "string", "enum": list(IMPORTERS)},
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "replace": {"type": "boolean", "default": False},
                    "dry_run": {"type": "boolean", "default": False},
                    "vendor": {"type": "string"}, "operator_id": {"type": "string"},
                    "country": {"type": "string"},
                    "kind": {"type": "string", "enum": list(SENSITIVE_KINDS)},
                    "radius_m": {"type": "number"},
                    "vendor_map": {"type": "string", "format": "binary"},
                    "mapping": {"type": "string", "format": "binary"}}}}}}})
    async def import_files(request: Request, name: str, _p: Principal = admin) -> Response:
        # The body is read here, after the token check, so nobody without an admin token can make
        # the server spool an upload to disk; the size limit is enforced while it streams in.
        svc = service(request)
        note(request, "import", snapshot=name)
        check_snapshot_name(name)
        async with request.form(max_files=200, max_fields=50) as form:
            fields = _import_fields(form)
            uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            vendor_map, mapping = form.get("vendor_map"), form.get("mapping")
            note(request, "import-check" if fields["dry_run"] else "import", snapshot=name,
                 params={**fields, "files": [f.filename for f in uploads]})
            _check_parts(fields["format"], uploads, mapping)
            with tempfile.TemporaryDirectory(prefix="cleanpath-upload-") as tmp:
                folder = Path(tmp)
                paths = [await run_in_threadpool(_save, f, folder, i) for i, f in enumerate(uploads)]
                options = {k: v for k, v in fields.items()
                           if k not in ("format", "replace", "dry_run") and v is not None}
                for i, (key, part) in enumerate((("vendor_map", vendor_map), ("mapping", mapping))):
                    if isinstance(part, UploadFile):
                        options[key] = await run_in_threadpool(_save, part, folder, len(paths) + i)
                try:
                    res = await run_in_threadpool(_ingest, svc, name, fields["format"], paths, fields["replace"],
                                                  options, fields["dry_run"])
                except ValidationError as e:
                    # in the uploader's terms: the upload's own name, never the server's temporary path
                    return _problems_response(e, folder)
                res.summary["warnings"] = [_unspool(w, folder) for w in res.summary["warnings"]]
        return send(request, Payload(dumps(res.to_dict())))

    # -- policy packs ------------------------------------------------------------------------------------
    @r.get("/policies", summary="The shipped policy packs (cleanpath policy list).",
           responses=_ok(ResultModel) | _errors(401))
    async def policies(request: Request, _p: Principal = viewer) -> Response:
        note(request, "policy-list")
        svc = service(request)
        return send(request, svc.reads.get(("policies",))
                    or await run_in_threadpool(svc.read, ("policies",), policy_list, workspace=False))

    @r.get("/policies/{pack}", summary="The rules of a shipped pack (cleanpath policy show).",
           responses=_ok(ResultModel) | _errors(401, 404))
    async def policy(request: Request, pack: str, _p: Principal = viewer) -> Response:
        note(request, "policy-show", params={"pack": pack})
        from cleanpath.policy.loader import shipped_packs

        if pack not in shipped_packs():
            raise ApiError(404, f"no shipped policy pack {pack!r}; GET /api/policies lists them")
        svc, key = service(request), ("policy", None, pack)
        return send(request, svc.reads.get(key)
                    or await run_in_threadpool(svc.read, key, lambda: policy_show(pack), workspace=False))

    # -- questions -------------------------------------------------------------------------------------
    @r.get("/questions", summary="Every registered question: parameters (kind, default, unit, bounds, choices, "
                                 "help), tables and headline figures, as the CLI and the dashboard's forms use them.",
           responses=_errors(401))
    async def questions(request: Request, _p: Principal = viewer) -> dict[str, Any]:
        note(request, "questions")
        return {"questions": [q.spec.describe() for q in QUESTIONS.values() if q.spec is not None]}

    for q in QUESTIONS.values():
        r.add_api_route(f"/questions/{q.name}", _question_route(q.name, q.model), methods=["POST"],
                        summary=f"{q.summary} (analyst)", response_class=Response,
                        responses=_ok(ResultModel, "The result (X-Result-Id names it for GET /api/results/{id}).")
                        | {202: {"model": JobModel, "description": "Not cached: the question runs as a job; poll "
                                                                   "the Location (GET /api/jobs/{id})."}}
                        | _errors(401, 403, 404, 409, 413, 422, 429, 499, 500, 503, 504, 507),
                        name=f"question_{q.name}")

    # -- jobs ------------------------------------------------------------------------------------------
    def _job(svc: Service, job_id: str) -> Job:
        job = svc.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id!r}: jobs are remembered for the last {KEEP_FINISHED:,} finished "
                                "ones, until the service restarts; a finished job's result stays in /api/results")
        return job

    @r.get("/jobs", summary="Question jobs, newest first: yours, or everyone's for an admin.",
           responses=_errors(401, 422))
    async def jobs(request: Request, status: str | None = Query(None, pattern="^(queued|running|done|failed|"
                                                                         "cancelled|timeout)$"),
                   limit: int = Query(100, ge=1, le=1000), p: Principal = viewer) -> dict[str, Any]:
        note(request, "jobs", params={"status": status})
        svc = service(request)
        mine = [j for j in reversed(svc.jobs.jobs())
                if (p.role == "admin" or j.created_by_id == p.token_id) and (status is None or j.status == status)]
        return {"jobs": [jsonable(j.view(svc.jobs.position(j))) for j in mine[:limit]]}

    @r.get("/jobs/{job_id}", summary="A job's state and progress; once done, where its result is.",
           responses={200: {"model": JobModel, "description": "The job."}} | _errors(401, 404, 422))
    async def job_state(request: Request, job_id: str, _p: Principal = viewer) -> Response:
        note(request, "job", params={"job_id": job_id})
        svc = service(request)
        job = _job(svc, job_id)
        request.state.audit["result_id"] = job.result_id
        return _job_response(request, svc, job, status=200)

    @r.delete("/jobs/{job_id}", summary="Cancel a queued or running job; a running job's worker is stopped "
                                        "(analyst: own jobs; admin: any).",
              responses={200: {"model": JobModel, "description": "The job, cancelled."}}
              | _errors(401, 403, 404, 409, 422))
    async def cancel_job(request: Request, job_id: str, p: Principal = analyst) -> Response:
        note(request, "job-cancel", params={"job_id": job_id})
        svc = service(request)
        job = _job(svc, job_id)
        if p.role != "admin" and job.created_by_id != p.token_id:
            raise ApiError(403, f"job {job_id} was started by another token; only it or an admin may cancel it")
        if not svc.jobs.cancel(job):
            raise ApiError(409, f"job {job_id} has already finished ({job.status})")
        try:  # the worker is terminated; wait a moment so the answer says so
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.outcome)), 5.0)
        except asyncio.TimeoutError:
            pass
        return _job_response(request, svc, job, status=200)

    # -- results ----------------------------------------------------------------------------------------
    @r.get("/results", summary="Results computed so far, newest first.", responses=_errors(401, 422))
    async def results(request: Request, snapshot: str | None = Query(None, max_length=64),
                      question: str | None = Query(None, max_length=64),
                      limit: int = Query(50, ge=1, le=1000), _p: Principal = viewer) -> dict[str, Any]:
        note(request, "results", snapshot=snapshot, params={"question": question})
        return {"results": service(request).list_results(snapshot=snapshot, question=question)[:limit]}

    @r.get("/results/{result_id}", summary="A computed result (the CLI's JSON).",
           responses=_ok(ResultModel) | _errors(401, 404, 422), response_class=Response)
    async def result(request: Request, result_id: str, tables: str = TablesQuery,
                     _p: Principal = viewer) -> Response:
        e = await _entry(service(request), result_id)
        note(request, "read-result", snapshot=e.result.snapshot, result_id=result_id, params={"tables": tables})
        return await _send_entry(request, e, tables, True)

    @r.get("/results/{result_id}/tables/{table}", summary="One table of a result, filtered, sorted, a page at a time.",
           responses=_ok(TablePage) | _errors(401, 404, 422), response_class=Response)
    async def result_table(request: Request, result_id: str, table: str,
                           offset: int = Query(0, ge=0, le=100_000_000),
                           limit: int = Query(100, ge=1, le=200_000),
                           eq: list[str] = Query([], max_length=50, description="column:value filters."),
                           search: str | None = Query(None, max_length=200),
                           sort: str | None = Query(None, max_length=100),
                           desc: bool = False,
                           columns: str | None = Query(None, max_length=2000, description="Comma-separated."),
                           facets_: str | None = Query(None, alias="facets", max_length=2000,
                                                       description="Columns to count distinct values of."),
                           _p: Principal = viewer) -> Response:
        svc = service(request)
        e = await _entry(svc, result_id)
        note(request, "read-table", snapshot=e.result.snapshot, result_id=result_id, params={"table": table})
        if table not in e.result.tables:
            raise ApiError(404, f"no table {table!r} in result {result_id} ({', '.join(e.result.tables)})")
        df = e.result.tables[table]
        cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None

        def compute() -> dict[str, Any]:
            out = page_table(df, offset=offset, limit=limit, eq=eq, search=search, sort=sort, desc=desc,
                             columns=cols, table=table)
            if facets_:
                out["facets"] = facets(df, [c.strip() for c in facets_.split(",") if c.strip()], table=table)
            return out

        small = len(df) <= 5000
        out = compute() if small else await run_in_threadpool(compute)
        return send(request, Payload(dumps(out)), {"X-Result-Id": result_id})

    # -- tokens and the audit log (admin) ------------------------------------------------------------------
    @r.get("/tokens", summary="Every token (never its secret) (admin).", responses=_errors(401, 403))
    def tokens(request: Request, _p: Principal = admin) -> dict[str, Any]:
        note(request, "token-list")
        df = service(request).tokens.list()
        return {"tokens": [{k: jsonable(v) for k, v in row.items()} for row in df.astype(object).to_dict("records")]}

    @r.post("/tokens", status_code=201, summary="Create a token; its secret is shown only in this response (admin).",
            responses=_errors(401, 403, 422))
    def create_token(request: Request, body: P.TokenRequest, p: Principal = admin) -> dict[str, Any]:
        t = service(request).tokens.create(role=body.role, name=body.name, created_by=p.token_id)
        note(request, "token-create", params={"role": body.role, "name": body.name, "token_id": t.token_id})
        return {"token_id": t.token_id, "name": t.name, "role": t.role, "token": t.token,
                "created_at": t.created_at.isoformat(timespec="seconds") + "Z"}

    @r.delete("/tokens/{token_id}", summary="Revoke a token (admin).", responses=_errors(401, 403, 404))
    def revoke_token(request: Request, token_id: str, _p: Principal = admin) -> dict[str, Any]:
        note(request, "token-revoke", params={"token_id": token_id})
        if not service(request).tokens.revoke(token_id):
            raise ApiError(404, f"no active token {token_id!r}")
        return {"revoked": token_id}

    @r.get("/audit", summary="The audit log, newest first (admin).", responses=_errors(401, 403, 422))
    def audit(request: Request, limit: int = Query(100, ge=1, le=10_000),
              token_id: str | None = Query(None, max_length=64), action: str | None = Query(None, max_length=64),
              _p: Principal = admin) -> dict[str, Any]:
        note(request, "audit-read")
        df = service(request).audit.read(limit=limit, token_id=token_id, action=action)
        return {"entries": [{k: jsonable(v) for k, v in row.items()} for row in df.astype(object).to_dict("records")]}

    return r


WaitQuery = Query(0.0, ge=0, le=600, description="Seconds to wait for an uncached question's job: if it "
                  "finishes in time the result comes back inline (200) as for a cached one, else 202.")


def _job_response(request: Request, svc: Service, job: Job, status: int = 202) -> Response:
    view = job.view(svc.jobs.position(job))
    return Response(dumps(jsonable(view)), status_code=status, media_type="application/json",
                    headers={"Location": f"/api/jobs/{job.job_id}", "X-Job-Id": job.job_id,
                             "Retry-After": "1", "Cache-Control": "no-store"})


def _job_error(job: Job) -> Response:
    """A failed, cancelled or timed-out job as the error response its question would have given."""
    body_ = {**(job.error or {}), "job_id": job.job_id}
    return Response(dumps(jsonable(body_)), status_code=int(job.http_status or 500), media_type="application/json",
                    headers={"X-Job-Id": job.job_id})


def _question_route(name: str, model: type[BaseModel]) -> Callable:
    """A POST handler for one question, typed with its parameter model (for validation and OpenAPI).

    A cached result comes back at once (200). Otherwise the question becomes a job in a worker
    process: 202 with the job (``Location: /api/jobs/{id}``), or, with ``wait=SECONDS``, the
    result inline if the job finishes within that time.
    """

    async def handler(request: Request, body: model, tables: str = TablesQuery,  # type: ignore[valid-type]
                      wait: float = WaitQuery, p: Principal = analyst) -> Response:
        svc = service(request)
        snapshot = getattr(body, "snapshot", None) or getattr(body, "a", None)
        note(request, f"question:{name}", snapshot=snapshot, params=body.model_dump(mode="json"))
        entry = svc.cached(name, body, memory_only=True)  # no thread, no lock, no file: cached answers are quick
        job = None
        if entry is None:
            entry, job = await run_in_threadpool(svc.submit, name, body, p)
        if job is not None:
            request.state.audit["result_id"] = job.result_id
            request.state.audit["params"] = {**(request.state.audit.get("params") or {}), "job_id": job.job_id}
            if wait > 0 and not job.final:
                try:
                    await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.outcome)), wait)
                except asyncio.TimeoutError:
                    pass
            if not job.final:
                return _job_response(request, svc, job)
            if job.status != "done":
                return _job_error(job)
            entry = await _entry(svc, job.result_id)
            return await _send_entry(request, entry, tables, False)
        request.state.audit["result_id"] = entry.result_id
        return await _send_entry(request, entry, tables, True)

    handler.__name__ = f"question_{name.replace('-', '_')}"
    # the module's annotations are strings; FastAPI resolves them in module globals, where this
    # question's model is not: give it the class itself
    handler.__annotations__["body"] = model
    return handler


def check_map_trust(text: str | None) -> str | None:
    """A trust setting for the map, refused (422) if any token is written like a file path.

    Parsing is pure text (:func:`cleanpath.policy.vendorset.parse_vendor_set`): nothing here or in
    resolving the setting touches the server's filesystem, whatever the text.
    """
    if text is None:
        return None
    from cleanpath.policy.vendorset import looks_like_file, parse_vendor_set

    vs = parse_vendor_set(text, setting="trust")
    bad = [t for t in vs.names() if looks_like_file(t)]
    if bad:
        raise ValidationError([Problem("the service reads no policy files: name shipped packs, vendors, "
                                       "country:CC, only:A+B or default", file="query", column="trust", value=t)
                               for t in bad])
    return text


# --- import helpers ----------------------------------------------------------------------------------------

#: What each import format reads, in a user's words (the dashboard's format picker shows it).
IMPORT_FORMAT_HELP = {
    "tables": "cleanpath's interchange files: one CSV or Parquet file per table, named after it "
              "(sites.csv, elements.csv...), or a zip of them",
    "mapped": "any CSV (any delimiter, decimal comma) or Excel export, read onto the model through a "
              "YAML mapping (docs/mapping.md); the mapping names the files by file name",
    "topologyzoo": "a Topology Zoo backbone: GML or GraphML",
    "opencellid": "an OpenCelliD cell export: CSV, gzip or not",
    "cyclonedx": "a CycloneDX 1.5/1.6 JSON bill of materials",
    "sensitive": "sensitive sites: CSV, GeoJSON, GeoPackage, Shapefile or KML",
}

#: The form fields of the import route an importer's keyword arguments become: kind, help, and
#: per format a different help where the option means something else there.
IMPORT_OPTIONS: dict[str, dict[str, Any]] = {
    "mapping": {"kind": "file", "accept": ".yaml,.yml", "required": True,
                "help": "the YAML mapping: per model table its file or sheet, columns and values"},
    "vendor": {"kind": "text", "help": "vendor for every element (default unknown)"},
    "vendor_map": {"kind": "file", "accept": ".csv",
                   "help": "CSV of node label or id -> vendor (columns: node, vendor)"},
    "operator_id": {"kind": "text", "help": "operator id for the imported sites (default from the file)"},
    "country": {"kind": "text", "pattern": "[A-Za-z]{2}", "help": "ISO 3166-1 alpha-2 country of the operator",
                "help_by_format": {"opencellid": "keep only this country's cells (ISO 3166-1 alpha-2, by MCC)",
                                   "sensitive": "country for rows that do not say (ISO 3166-1 alpha-2)"}},
    "kind": {"kind": "choice", "choices": list(SENSITIVE_KINDS), "help": "kind for rows that do not say "
                                                                          "(default military)"},
    "radius_m": {"kind": "number", "unit": "m", "min": 0, "max": 2_000_000,
                 "help": "radius for points that do not say (default 5000)"},
}


def describe_import_formats() -> list[dict[str, Any]]:
    """Every import format with its help and options.

    The options are the importer's own keyword arguments (read from its signature) that the import
    route takes as form fields (:data:`IMPORT_OPTIONS`); others are for the CLI only.
    """
    import inspect

    from cleanpath.io.registry import importer

    out = []
    for fmt in IMPORTERS:
        func = importer(fmt)
        sig = inspect.signature(func)
        options = []
        for n, prm in sig.parameters.items():
            if prm.kind is not inspect.Parameter.KEYWORD_ONLY or n not in IMPORT_OPTIONS:
                continue
            spec = dict(IMPORT_OPTIONS[n])
            spec["help"] = spec.pop("help_by_format", {}).get(fmt, spec["help"])
            options.append({"name": n, **spec})
        text = IMPORT_FORMAT_HELP.get(fmt) or (func.__doc__ or fmt).strip().splitlines()[0]
        out.append({"format": fmt, "help": text, "options": options})
    return out


#: What an upload's name may not keep: control characters, path separators, and ``:`` (problems name
#: ``book.xlsx:Sheet`` and ``archive.zip:member``). Letters of any script, spaces and punctuation
#: stay, so a mapping's ``file: Export März 2024.csv`` finds the upload of that name.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]+")


def _import_fields(form) -> dict[str, Any]:
    """The form's scalar fields, checked."""
    def text(key: str) -> str | None:
        v = form.get(key)
        if v is None or isinstance(v, UploadFile):
            return None
        v = str(v).strip()
        return v or None

    problems = []
    fmt = text("format")
    if fmt not in IMPORTERS:
        problems.append(Problem(f"format must be one of {', '.join(IMPORTERS)}", file="request", column="format",
                                value=fmt))
    flags = {}
    for key in ("replace", "dry_run"):
        flag = (text(key) or "false").lower()
        if flag not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            problems.append(Problem(f"{key} must be true or false", file="request", column=key, value=flag))
        flags[key] = flag in ("true", "1", "yes", "on")
    kind = text("kind")
    if kind is not None and kind not in SENSITIVE_KINDS:
        problems.append(Problem(f"kind must be one of {', '.join(SENSITIVE_KINDS)}", file="request", column="kind",
                                value=kind))
    radius = text("radius_m")
    radius_m = None
    if radius is not None:
        try:
            radius_m = float(radius)
            if not (0 < radius_m <= 2_000_000):
                raise ValueError
        except ValueError:
            problems.append(Problem("radius_m must be a number of metres above 0 and at most 2,000,000",
                                    file="request", column="radius_m", value=radius))
    if problems:
        raise ValidationError(problems)
    return {"format": fmt, "replace": flags["replace"], "dry_run": flags["dry_run"], "vendor": text("vendor"),
            "operator_id": text("operator_id"), "country": text("country"), "kind": kind, "radius_m": radius_m}


def _check_parts(fmt: str, uploads: list, mapping) -> None:
    """422 unless the files are there and a mapping comes exactly with the ``mapped`` format."""
    problems = []
    if not uploads:
        problems.append(Problem("no files uploaded: send one or more 'files' parts", file="request", column="files"))
    has_mapping = isinstance(mapping, UploadFile)
    if fmt == "mapped" and not has_mapping:
        problems.append(Problem("the mapped format needs a 'mapping' part: the YAML file that reads the uploads "
                                "onto the model tables (docs/mapping.md)", file="request", column="mapping"))
    elif fmt != "mapped" and (has_mapping or mapping is not None):
        problems.append(Problem(f"a mapping goes with the mapped format only, not {fmt}", file="request",
                                column="mapping"))
    if problems:
        raise ValidationError(problems)


def _upload_name(text: str | None, folder: Path) -> str | None:
    """``/tmp/cleanpath-upload-x/003/sites.csv:Sheet`` -> ``sites.csv:Sheet`` (the name as uploaded)."""
    if text is None:
        return None
    return re.sub(re.escape(str(folder)) + r"/\d{3}/", "", text)


def _unspool(text: str, folder: Path) -> str:
    return _upload_name(text, folder) or ""


def _problems_response(e: ValidationError, folder: Path) -> Response:
    """The 422 of an import: every problem with the uploaded file's name (never the server's temporary
    path) and, for a workbook, its sheet (``file`` stays ``book.xlsx:Sheet``, as elsewhere)."""
    from cleanpath.io.mapped import EXCEL_SUFFIXES

    problems = []
    for p in e.problems:
        d = p.to_dict()
        d["file"] = _upload_name(p.file, folder)
        d["reason"] = _unspool(p.reason, folder)
        head, _, tail = (d["file"] or "").rpartition(":")
        d["sheet"] = tail if head.lower().endswith(EXCEL_SUFFIXES) else None
        problems.append(d)
    body_ = {"error": "validation", "message": problems[0]["reason"] if problems else "invalid input",
             "problems": problems, "truncated": e.truncated}
    return Response(dumps(jsonable(body_)), status_code=422, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _save(upload: UploadFile, folder: Path, index: int) -> Path:
    """Copy an upload into its own subfolder of ``folder`` under a safe version of its name.

    The name is kept (not prefixed): the interchange importer reads table names from file names
    (``sites.csv``) and a mapping names its files, so an upload must arrive under its own name.
    Each upload gets a numbered subfolder so that two uploads of the same name cannot collide.
    """
    base = re.split(r"[/\\]", upload.filename or "")[-1]  # a browser may send a Windows path
    name = _UNSAFE.sub("_", base).strip().lstrip(".")[:120].strip() or f"upload-{index}"
    sub = folder / f"{index:03d}"
    sub.mkdir()
    path = sub / name
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, length=1 << 20)
    return path


def _element_places(svc: Service, name: str, ids: list[str]) -> dict[str, Any]:
    """Where some elements are: their site and its position (the dashboard highlights a clean path's
    witness and blocking elements with it); ids not in the snapshot are listed as ``missing``."""
    with svc.lock:  # the network's tables are shared with running questions
        net = svc.ws.network(name)
        el = net.elements
        part = el.loc[el["element_id"].isin(ids).to_numpy(dtype=bool), ["element_id", "site_id", "vendor", "role"]]
        pos = net.sites.drop_duplicates("site_id").set_index("site_id")[["lon", "lat"]].reindex(part["site_id"])
    out = pd.DataFrame({"element_id": part["element_id"].to_numpy(dtype=object),
                        "site_id": part["site_id"].to_numpy(dtype=object),
                        "vendor": part["vendor"].to_numpy(dtype=object, na_value=None),
                        "role": part["role"].to_numpy(dtype=object, na_value=None),
                        "lon": pos["lon"].to_numpy(dtype=float, na_value=np.nan),
                        "lat": pos["lat"].to_numpy(dtype=float, na_value=np.nan)})
    found = set(out["element_id"])
    return jsonable({"snapshot": name, "elements": out.to_dict("list"), "missing": [i for i in ids if i not in found]})


def _ingest(svc: Service, name: str, fmt: str, paths: list[Path], replace: bool, options: dict[str, Any],
            dry_run: bool = False) -> Result:
    """Import under the workspace lock, then forget what was computed from the old snapshot.

    The summary says whether the snapshot ``existed`` before (then ``mode`` says whether the files
    were added to it, ``merge``, or replaced it). With ``dry_run`` nothing is written (and nothing
    forgotten): the result says what would land,
    per table (``tables``: rows, rows skipped as already there, rows after), which operators and
    vendors the files bring, and the first rows of each table (``first_<table>``).

    Both say how many elements of the snapshot as it is afterwards (or would be: for a merge, the
    merged network) cannot serve, and why, from one diagnosis (``ingest``'s ``diagnose`` hook, as
    the CLI's import): ``non_serving_elements``, ``non_serving_by_reason`` and ``diagnosis`` (the
    sentences, also among the ``warnings``) in the summary, and the table ``not_serving`` (per
    reason: elements, the first such element), as ``info`` answers them.
    """
    from cleanpath.analysis.explain import serving_diagnosis, serving_warnings
    from cleanpath.store.ingest import ingest

    seen: dict[str, pd.DataFrame] = {}

    def diagnose(net: Network) -> list[str]:
        seen["not_serving"] = serving_diagnosis(net)
        return serving_warnings(net)  # the same index (cached on the network): the sentences of that table

    with svc.lock:
        existed = svc.ws.has_snapshot(name)
        try:
            # as the CLI's import says it: how many elements cannot serve, and why
            rep = ingest(svc.ws, fmt, paths, snapshot=name, replace=replace, dry_run=dry_run,
                         diagnose=diagnose, source=f"{fmt} upload: {', '.join(p.name for p in paths)}",
                         **options)
        finally:
            if not dry_run:
                svc.forget(name)
    shown = {k: (v.name if isinstance(v, Path) else v) for k, v in options.items()}
    params = {"format": fmt, "paths": [p.name for p in paths], "replace": replace, "dry_run": dry_run, **shown}
    summary = {"dry_run": dry_run, "written": rep.written, "existed": existed, "mode": rep.mode, "added": rep.added,
               "skipped": rep.skipped, "totals": rep.totals, "unknown_vendors": rep.unknown_vendors,
               "warnings": rep.warnings}
    tables = {"tables": pd.DataFrame({"table": list(rep.totals),
                                      "added": [rep.added.get(t, 0) for t in rep.totals],
                                      "skipped": [rep.skipped.get(t, 0) for t in rep.totals],
                                      "rows": list(rep.totals.values())})}
    diagnosis = seen["not_serving"]
    occurring = diagnosis[diagnosis["elements"] > 0]
    summary |= {"non_serving_elements": int(diagnosis["elements"].sum()),
                "non_serving_by_reason": {str(r): int(c) for r, c in zip(occurring["reason"], occurring["elements"])},
                "diagnosis": rep.diagnosis}
    tables["not_serving"] = diagnosis
    if dry_run:
        summary |= _found(rep.incoming)
        tables |= {f"first_{t}": df for t, df in rep.preview.items()}
    return Result("import", rep.snapshot, params=params, summary=summary, tables=tables)


def _found(incoming: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Operators and vendors the incoming rows bring: operator ids (from the operators and sites
    tables) and elements per vendor (catalogue names), most elements first."""
    ids = [incoming[t]["operator_id"].astype(object) for t in ("operators", "sites") if t in incoming]
    ops = pd.concat(ids, ignore_index=True) if ids else pd.Series([], dtype=object)
    vendors = (incoming["elements"]["vendor"].astype(object).fillna("unknown").value_counts()
               if "elements" in incoming else pd.Series([], dtype="int64"))
    return {"operators": sorted(str(o) for o in ops.dropna().unique()),
            "vendors": {str(k): int(v) for k, v in vendors.items()}}
