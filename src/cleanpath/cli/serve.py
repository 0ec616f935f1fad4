"""``cleanpath serve`` (the REST service and dashboard) and ``cleanpath token`` (its bearer tokens)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors
from cleanpath.cli.output import render, stderr
from cleanpath.errors import WorkspaceError
from cleanpath.result import Result

_WORKSPACE_HELP = "Workspace file (overrides the group's --workspace and $CLEANPATH_WORKSPACE)."
_IN_USE_HINT = ("while `cleanpath serve` holds the workspace, manage tokens through the service instead "
                "(POST /api/tokens, GET /api/tokens, DELETE /api/tokens/ID with an admin token), or stop it first")


def _workspace_path(ctx, workspace: Path | None) -> Path:
    return workspace or ctx.workspace_path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--workspace", "-w", "workspace", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_WORKSPACE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (anything but loopback exposes the service to the network).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--max-upload-mb", type=click.IntRange(1, 1_000_000), default=200, show_default=True,
              help="Largest import upload; larger ones get HTTP 413.")
@click.option("--cache-mb", type=click.IntRange(1, 1_000_000), default=256, show_default=True,
              help="Memory for question results (least recently used dropped first); other reads get a quarter "
                   "of it again.")
@click.option("--cache-disk-mb", type=click.IntRange(0, 10_000_000), default=1024, show_default=True,
              help="Disk for question results kept across restarts (next to the workspace, in WORKSPACE.service/).")
@click.option("--jobs", type=click.IntRange(1, 1024), default=None,
              help="Questions computed at once, each in its own worker process [default: the number of cores].")
@click.option("--job-time-limit", type=click.FloatRange(1, 86_400), default=300, show_default=True,
              help="Seconds a question may run before its worker is stopped (HTTP 504 / job status timeout).")
@click.option("--question-time-limit", "question_limits", multiple=True, metavar="QUESTION=SECONDS",
              help="A time limit for one question, overriding --job-time-limit (repeatable), e.g. plan=900.")
@click.option("--max-queued", type=click.IntRange(1, 100_000), default=256, show_default=True,
              help="Questions that may wait for a worker; more get HTTP 503 with Retry-After.")
@click.option("--drain-seconds", type=click.FloatRange(0, 3600), default=10, show_default=True,
              help="On SIGTERM or Ctrl+C, how long running questions may finish before they are stopped.")
@click.option("--auth-failures", default="30/minute", show_default=True,
              help="Failed authentications allowed per client address (e.g. 30/minute, 100/hour); more get 429.")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Serve HTTPS with this certificate (PEM); needs --ssl-keyfile.")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Private key (PEM) of --ssl-certfile.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True, help="Server log level.")
@click.pass_obj
@handle_errors
def serve_cmd(ctx, workspace, host, port, max_upload_mb, cache_mb, cache_disk_mb, jobs, job_time_limit,
              question_limits, max_queued, drain_seconds, auth_failures, ssl_certfile, ssl_keyfile, log_level):
    """Serve the REST API and the map dashboard (http://HOST:PORT/).

    Every /api route needs a bearer token: create one first with `cleanpath token create --role
    admin` (viewer reads results, analyst also runs questions, admin also imports, deletes and
    manages tokens). The service holds the workspace open for writing, so other cleanpath commands
    cannot open it while it runs (DuckDB allows one writing process); manage tokens through
    /api/tokens meanwhile. The API schema is at /api/openapi.json; errors are JSON.

    Questions that are not cached run as jobs in worker processes: POST /api/questions/NAME answers
    202 with a job to poll (GET /api/jobs/ID) or cancel (DELETE /api/jobs/ID), or the result at once
    with ?wait=SECONDS if it is ready in time. SIGTERM lets running jobs finish for --drain-seconds,
    then stops them and exits.
    """
    import uvicorn

    from cleanpath.service import ServiceConfig, create_app

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    from limits import parse as parse_limit

    try:
        parse_limit(auth_failures)
    except ValueError:
        raise click.BadParameter(f"{auth_failures!r} is not a rate such as 30/minute", param_hint="--auth-failures")
    path = _workspace_path(ctx, workspace)
    extra = {"jobs": jobs} if jobs is not None else {}
    if question_limits:
        extra["job_time_limits"] = _question_limits(question_limits)
    app = create_app(config=ServiceConfig(workspace=path, max_upload_bytes=max_upload_mb * 2**20,
                                          cache_bytes=cache_mb * 2**20, cache_disk_bytes=cache_disk_mb * 2**20,
                                          job_time_limit=job_time_limit, drain_seconds=drain_seconds,
                                          max_queued_jobs=max_queued,
                                          auth_failures=auth_failures, **extra), close_on_shutdown=True)
    svc = app.state.service
    if svc.tokens.list()["revoked_at"].isna().sum() == 0:
        stderr.print("[yellow]note:[/yellow] this workspace has no active token; stop the service and run "
                     "`cleanpath token create --role admin` to make one", soft_wrap=True)
    if not _is_loopback(host) and ssl_certfile is None:
        stderr.print(f"[yellow]warning:[/yellow] listening on {host} without TLS: tokens cross the network in clear "
                     "text. Use --ssl-certfile/--ssl-keyfile or a TLS-terminating proxy.", soft_wrap=True)
    scheme = "https" if ssl_certfile else "http"
    stderr.print(f"cleanpath serving {path} at {scheme}://{host}:{port}/ (Ctrl+C stops)", soft_wrap=True)
    try:
        # requests still open after the drain (a client waiting with ?wait=) do not hold the exit up
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=drain_seconds + 2,
                    ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                    ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None)
    finally:
        svc.close()


def _question_limits(items: tuple[str, ...]) -> dict[str, float]:
    """``NAME=SECONDS`` pairs of --question-time-limit, checked against the service's questions."""
    from cleanpath.service.questions import QUESTIONS

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            seconds = float(value)
        except ValueError:
            seconds = float("nan")
        if not sep or name not in QUESTIONS or not (1 <= seconds <= 86_400):
            raise click.BadParameter(f"{item!r}: expected QUESTION=SECONDS with a question of "
                                     f"{', '.join(sorted(QUESTIONS))} and 1 to 86,400 seconds",
                                     param_hint="--question-time-limit")
        out[name] = seconds
    return out


@click.group("token")
def token_group():
    """Bearer tokens of `cleanpath serve`: create, list, revoke.

    These commands open the workspace file directly, so they work while the service is stopped.
    While it runs, use its /api/tokens routes with an admin token.
    """


def _tokens(path: Path):
    """The workspace (opened for writing) and its token store, with a hint when the service holds it."""
    from cleanpath.service.tokens import TokenStore
    from cleanpath.store.workspace import open_workspace

    try:
        ws = open_workspace(path)
    except WorkspaceError as e:
        raise WorkspaceError(f"{e}; {_IN_USE_HINT}") from None
    return ws, TokenStore(ws.con)


@token_group.command("create")
@click.option("--workspace", "-w", "workspace", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_WORKSPACE_HELP)
@click.option("--role", type=click.Choice(["viewer", "analyst", "admin"]), required=True,
              help="viewer: read results; analyst: also run questions; admin: also import, delete, manage tokens.")
@click.option("--name", default=None, help="Who or what the token is for (shown in lists and the audit log).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the token alone on stdout; json: an object with its id, role and name too.")
@click.pass_obj
@handle_errors
def token_create(ctx, workspace, role, name, fmt):
    """Create a token and print it. It is shown only now: the workspace keeps a salted hash."""
    ws, store = _tokens(_workspace_path(ctx, workspace))
    with ws:
        t = store.create(role=role, name=name, created_by="cli")
    if fmt == "json":
        click.echo(json.dumps({"token_id": t.token_id, "role": t.role, "name": t.name, "token": t.token}))
    else:
        click.echo(t.token)
    stderr.print(f"token {t.token_id} ({t.role}{', ' + t.name if t.name else ''}) created; it is shown only once. "
                 "Send it as 'Authorization: Bearer <token>'.", soft_wrap=True)


@token_group.command("list")
@click.option("--workspace", "-w", "workspace", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_WORKSPACE_HELP)
@format_options
@click.pass_obj
@handle_errors
def token_list(ctx, workspace, fmt, table):
    """Every token with its role, name and dates (never the secret)."""
    ws, store = _tokens(_workspace_path(ctx, workspace))
    with ws:
        df = store.list()
    render(Result("tokens", None, summary={"tokens": len(df), "active": int(df["revoked_at"].isna().sum())},
                  tables={"tokens": df}), fmt, table=table)


@token_group.command("revoke")
@click.argument("token_id")
@click.option("--workspace", "-w", "workspace", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_WORKSPACE_HELP)
@click.pass_obj
@handle_errors
def token_revoke(ctx, token_id, workspace):
    """Revoke the token TOKEN_ID (the part between 'cpt_' and the dot)."""
    ws, store = _tokens(_workspace_path(ctx, workspace))
    with ws:
        ok = store.revoke(token_id)
    if not ok:
        raise WorkspaceError(f"no active token {token_id!r} (see `cleanpath token list`)")
    stderr.print(f"revoked token {token_id}")


def register(group: click.Group) -> None:
    group.add_command(serve_cmd)
    group.add_command(token_group)
