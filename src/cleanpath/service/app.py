"""The FastAPI application: routes, the dashboard's static files, authentication, limits, headers, audit.

``create_app`` opens the workspace and returns the app; ``cleanpath serve`` runs it with uvicorn.
Public without a token: ``/health`` and the dashboard's static shell (``/`` and ``/static/``,
which hold no data: the page asks for a token and then calls the API). Everything under ``/api``
needs a bearer token, the OpenAPI schema (``/api/openapi.json``) included. No route loads anything
from another origin: the Swagger UI (which FastAPI takes from a CDN) is switched off.

The :class:`Guard` middleware runs before any route and before a single byte of the body is read:
it refuses bodies over the route's limit, authenticates the token (so nobody without one can make
the server read, parse or spool a body), rate-limits failed authentications per client address,
adds the security headers and ``Cache-Control: no-store`` to every API response, and writes the
audit-log entry of every API request before its response goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

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
_QUESTION = re.compile(r"^/api/questions/[^/]+/?$")
# The dashboard needs its own scripts, a module worker (MapLibre), inline style attributes and
# data:/blob: images; nothing from another origin.
CSP = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
       "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode())]
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="cleanpath"', "Connection": "close"}
#: Seconds a response waits for its audit entry to be committed before going out regardless
#: (the entry is then in the server log and /health says the audit log is failing).
AUDIT_WAIT = 5.0


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v
    return None


def _content_length(scope: dict[str, Any]) -> int | None:
    v = _header(scope, b"content-length")
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return None


def body_limit(config: ServiceConfig, method: str, path: str) -> int:
    """The largest body a route takes: uploads, question parameters, or a small one for the rest."""
    if _UPLOAD.match(path):
        return config.max_upload_bytes
    if _QUESTION.match(path):
        return config.max_body_bytes
    return config.small_body_bytes


class Guard:
    """Pure ASGI middleware: body limits, authentication, rate limits, headers and the audit log.

    A body is refused with 413 before it is read when its Content-Length is over the route's limit,
    and while it streams in when it has none (chunked uploads). An ``/api`` request without a valid
    token gets 401 before its body is read; a client address with too many failed authentications
    gets 429 (``Retry-After``) without its token being checked at all.
    """

    def __init__(self, app, service: Service):
        self.app = app
        self.service = service
        self.fail_limit = parse_limit(service.config.auth_failures)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self._scrypt: anyio.CapacityLimiter | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        svc = self.service
        path = scope.get("path", "")
        api = path.startswith("/api")
        limit = body_limit(svc.config, scope.get("method", ""), path)
        state = scope.setdefault("state", {})
        t0 = time.perf_counter()
        status = 0
        logged = False

        async def send_with_headers(message):
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if api and not any(k.lower() == b"cache-control" for k, _v in headers):
                    headers.append((b"cache-control", b"no-store"))  # every API answer carries data
                message = {**message, "headers": headers}
                if api and not logged:
                    logged = True
                    await self._log(scope, state, status, t0)  # durable before the client sees it
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
            if api:
                refusal = await self._authenticate(scope, state)
                if refusal is not None:
                    await refusal(scope, receive, send_with_headers)
                    return
            await self.app(scope, limited_receive, send_with_headers)
        except BaseException as e:
            if api and not logged:  # a crashed or cancelled handler is recorded too
                logged = True
                code = 499 if isinstance(e, (asyncio.CancelledError, anyio.get_cancelled_exc_class())) else 500
                with contextlib.suppress(BaseException):
                    await self._log(scope, state, code, t0)
            raise
        finally:
            if api and not logged:  # the client went away before any response
                await self._log(scope, state, status or 499, t0)

    async def _authenticate(self, scope, state: dict[str, Any]) -> JSONResponse | None:
        """None with ``state['principal']`` set, or the refusal to send (401 or 429)."""
        svc = self.service
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        auth = (_header(scope, b"authorization") or b"").decode("latin-1").strip()
        scheme, _sp, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return JSONResponse(status_code=401, headers=_UNAUTHORIZED, content=errors.body(
                401, "missing bearer token: send 'Authorization: Bearer <token>' (create one with `cleanpath "
                     "token create --role viewer` while the service is stopped, or ask an admin)"))
        principal = svc.tokens.verify_cached(token)
        if principal is None:
            if not self.limiter.test(self.fail_limit, ip):
                reset = self.limiter.get_window_stats(self.fail_limit, ip).reset_time
                wait = max(1, int(reset - time.time()) + 1)
                return JSONResponse(status_code=429, headers={"Retry-After": str(wait), "Connection": "close"},
                                    content=errors.body(429, f"too many failed authentications from {ip}; "
                                                             f"try again in {wait} s", retry_after_s=wait))
            if self._scrypt is None:
                self._scrypt = anyio.CapacityLimiter(max(2, svc.config.jobs))
            # scrypt takes tens of milliseconds and 16 MiB: off the event loop, a few at a time
            principal = await anyio.to_thread.run_sync(svc.tokens.verify, token, limiter=self._scrypt)
        if principal is None:
            self.limiter.hit(self.fail_limit, ip)
            return JSONResponse(status_code=401, headers=_UNAUTHORIZED,
                                content=errors.body(401, "invalid or revoked token"))
        state["principal"] = principal
        return None

    async def _log(self, scope, state: dict[str, Any], status: int, t0: float) -> None:
        p = state.get("principal")
        a = state.get("audit") or {}
        client = scope.get("client")
        fut = self.service.audit.add(AuditEntry(
            at=datetime.now(timezone.utc).replace(tzinfo=None), token_id=getattr(p, "token_id", None),
            token_name=getattr(p, "name", None), role=getattr(p, "role", None), method=scope.get("method", ""),
            path=scope.get("path", ""), action=a.get("action"), snapshot=a.get("snapshot"), params=a.get("params"),
            result_id=a.get("result_id"), status=int(status), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
            client=client[0] if client else None))
        try:
            await asyncio.wait_for(asyncio.wrap_future(fut), AUDIT_WAIT)
        except asyncio.TimeoutError:
            log.error("audit entry for %s %s not committed within %s s; answering anyway",
                      scope.get("method"), scope.get("path"), AUDIT_WAIT)


def create_app(*, workspace: str | Path | None = None, config: ServiceConfig | None = None,
               close_on_shutdown: bool = False) -> FastAPI:
    """The cleanpath REST service and dashboard as a FastAPI app.

    Parameters
    ----------
    workspace
        The workspace file (default ``$CLEANPATH_WORKSPACE`` or ``./cleanpath.duckdb``); ignored when
        ``config`` is given.
    config
        Full settings (upload limit, cache size...).
    close_on_shutdown
        Release the workspace when the app shuts down (``cleanpath serve``: uvicorn ends the process
        by re-raising SIGTERM after the shutdown, so nothing after ``uvicorn.run`` would run).

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
            svc.close() if close_on_shutdown else svc.stop()

    app = FastAPI(
        title="cleanpath", version=__version__, lifespan=lifespan,
        openapi_url=None, docs_url=None, redoc_url=None,
        description="Where untrusted vendors sit in a telecom network, what they could see or switch off, which "
                    "laws that breaks, and the cheapest funded way out. Every /api route needs a bearer token "
                    "(roles: viewer reads, analyst runs questions, admin imports, deletes and manages tokens).")
    app.state.service = svc
    errors.install(app)
    app.include_router(build_router())

    @app.get("/health", summary="Liveness and state (no token needed): ok, or degraded with reasons.",
             tags=["public"])
    async def health() -> JSONResponse:
        return JSONResponse(svc.health(), headers={"Cache-Control": "no-store"})

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(Guard, service=svc)
    return app
