"""The FastAPI application: routes, the dashboard's static files, limits, security headers, audit.

``create_app`` opens the workspace and returns the app; ``cleanpath serve`` runs it with uvicorn.
Public without a token: ``/health`` and the dashboard's static shell (``/`` and ``/static/``,
which hold no data: the page asks for a token and then calls the API). Everything under ``/api``
needs a bearer token, the OpenAPI schema (``/api/openapi.json``) included. No route loads anything
from another origin: the Swagger UI (which FastAPI takes from a CDN) is switched off.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from cleanpath import __version__
from cleanpath.service import errors
from cleanpath.service.auditlog import Entry as AuditEntry
from cleanpath.service.core import Service, ServiceConfig
from cleanpath.service.errors import TooLarge, too_large_message
from cleanpath.service.routes import build_router
from cleanpath.store.workspace import default_workspace_path

log = logging.getLogger("cleanpath.service")

STATIC_DIR = Path(str(resources.files("cleanpath.service").joinpath("static")))
_UPLOAD = re.compile(r"^/api/snapshots/[^/]+/import/?$")
# The dashboard needs its own scripts, a module worker (MapLibre), inline style attributes and
# data:/blob: images; nothing from another origin.
CSP = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
       "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode())]


def _content_length(scope: dict[str, Any]) -> int | None:
    for k, v in scope.get("headers", ()):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


class Guard:
    """Pure ASGI middleware: body size limits, security headers and the audit log.

    A body is refused with 413 before it is read when its Content-Length is over the limit, and
    while it streams in when it has none (chunked uploads).
    """

    def __init__(self, app, service: Service):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        svc = self.service
        path = scope.get("path", "")
        limit = svc.config.max_upload_bytes if _UPLOAD.match(path) else svc.config.max_body_bytes
        state = scope.setdefault("state", {})
        t0 = time.perf_counter()
        status = 500

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": list(message.get("headers", [])) + SECURITY_HEADERS}
            await send(message)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        try:
            length = _content_length(scope)
            if length is not None and length > limit:
                response = JSONResponse(status_code=413, headers={"Connection": "close"},
                                        content=errors.body(413, too_large_message(limit), limit_bytes=limit))
                await response(scope, receive, send_with_headers)
                return
            await self.app(scope, limited_receive, send_with_headers)
        finally:
            if path.startswith("/api"):
                self._log(scope, state, status, t0)

    def _log(self, scope, state: dict[str, Any], status: int, t0: float) -> None:
        p = state.get("principal")
        a = state.get("audit") or {}
        client = scope.get("client")
        self.service.audit.add(AuditEntry(
            at=datetime.now(timezone.utc).replace(tzinfo=None), token_id=getattr(p, "token_id", None),
            token_name=getattr(p, "name", None), role=getattr(p, "role", None), method=scope.get("method", ""),
            path=scope.get("path", ""), action=a.get("action"), snapshot=a.get("snapshot"), params=a.get("params"),
            result_id=a.get("result_id"), status=int(status), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
            client=client[0] if client else None))


def create_app(*, workspace: str | Path | None = None, config: ServiceConfig | None = None) -> FastAPI:
    """The cleanpath REST service and dashboard as a FastAPI app.

    Parameters
    ----------
    workspace
        The workspace file (default ``$CLEANPATH_WORKSPACE`` or ``./cleanpath.duckdb``); ignored when
        ``config`` is given.
    config
        Full settings (upload limit, cache size...).

    Returns
    -------
    FastAPI
        ``app.state.service`` is the open :class:`~cleanpath.service.core.Service`. The app's
        lifespan starts and stops its background work (the audit-log writer); whoever created the
        app releases the workspace with ``app.state.service.close()`` (``cleanpath serve`` does).

    Raises
    ------
    WorkspaceError
        The workspace is in use by another process, or is not a cleanpath workspace.
    """
    cfg = config or ServiceConfig(workspace=Path(workspace) if workspace is not None else default_workspace_path())
    svc = Service(cfg)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        svc.start()
        try:
            yield
        finally:
            svc.stop()

    app = FastAPI(
        title="cleanpath", version=__version__, lifespan=lifespan,
        openapi_url=None, docs_url=None, redoc_url=None,
        description="Where untrusted vendors sit in a telecom network, what they could see or switch off, which "
                    "laws that breaks, and the cheapest funded way out. Every /api route needs a bearer token "
                    "(roles: viewer reads, analyst runs questions, admin imports, deletes and manages tokens).")
    app.state.service = svc
    errors.install(app)
    app.include_router(build_router())

    @app.get("/health", summary="Liveness (no token needed).", tags=["public"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(Guard, service=svc)
    return app
