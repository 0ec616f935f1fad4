"""Errors as JSON: one shape for every failure the service reports.

``{"error": <kind>, "message": <what to do>, "problems": [Problem...]}``, the same shape
:meth:`cleanpath.errors.ValidationError.to_dict` gives (so a 422 from a bad file and a 422 from a bad
parameter read alike). Kinds and statuses: ``unauthorized`` 401, ``forbidden`` 403, ``not_found``
404, ``conflict`` 409, ``too_large`` 413, ``validation`` 422, ``too_many_requests`` 429, ``cancelled``
499 (a question's job was cancelled), ``internal`` 500, ``unavailable`` 503 (stopping), ``timeout`` 504 (a
question ran past its time limit), ``out_of_memory`` 507.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cleanpath.errors import Problem, SnapshotNotFound, ValidationError, WorkspaceError

log = logging.getLogger("cleanpath.service")

_KINDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation",
          429: "too_many_requests", 499: "cancelled", 500: "internal", 503: "unavailable", 504: "timeout",
          507: "out_of_memory"}


class ApiError(Exception):
    """An error with an HTTP status and a message a user can act on."""

    def __init__(self, status: int, message: str, *, problems: list[Problem] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []
        self.headers = headers


def too_large_message(limit: int) -> str:
    return f"request body larger than the limit of {limit:,} bytes ({limit / 2**20:.0f} MiB)"


class TooLarge(HTTPException):
    """A request body exceeded its limit while it was being read.

    An HTTPException, so that FastAPI's body parsing passes it on instead of turning it into a 400.
    """

    def __init__(self, limit: int):
        super().__init__(413, too_large_message(limit), headers={"Connection": "close"})
        self.limit = limit


def body(status: int, message: str, problems: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON error body."""
    return {"error": _KINDS.get(status, "error"), "message": message, "problems": problems or [], **extra}


def _json(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=content, headers=headers)


def _request_problems(exc: RequestValidationError) -> list[Problem]:
    out = []
    for err in exc.errors()[:100]:
        loc = [str(x) for x in err.get("loc", ())]
        where = loc[0] if loc else None  # body / query / path / header
        column = ".".join(loc[1:]) or where
        value = err.get("input")
        out.append(Problem(str(err.get("msg", "invalid value")), file=where, column=column,
                           value=None if value is None or isinstance(value, (dict, list)) else str(value)))
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON shape above."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, body(exc.status, exc.message, [p.to_dict() for p in exc.problems]), exc.headers)

    @app.exception_handler(ValidationError)
    async def _validation(_request: Request, exc: ValidationError) -> JSONResponse:
        return _json(422, exc.to_dict())

    @app.exception_handler(SnapshotNotFound)
    async def _missing(_request: Request, exc: SnapshotNotFound) -> JSONResponse:
        return _json(404, body(404, str(exc)))

    @app.exception_handler(WorkspaceError)
    async def _workspace(_request: Request, exc: WorkspaceError) -> JSONResponse:
        return _json(409, body(409, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def _request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _request_problems(exc)
        first = problems[0] if problems else None
        message = f"{first.column}: {first.reason}" if first else "invalid request"
        return _json(422, {**body(422, message, [p.to_dict() for p in problems]), "truncated": len(exc.errors()) > 100})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400:  # an unreadable body (bad encoding, broken multipart) is bad input too
            return _json(422, body(422, f"could not read the request body: {message}",
                                   [Problem(message, file="request").to_dict()]))
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route; see /api/openapi.json"
        extra = {"limit_bytes": exc.limit} if isinstance(exc, TooLarge) else {}
        return _json(exc.status_code, body(exc.status_code, message, **extra), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json(500, body(500, "internal error: the server log has the details"))
