"""A real NetBox for the tests and the benchmark: PostgreSQL, Redis and NetBox's own WSGI app.

NetBox (PyPI ``netbox``) needs Python 3.12 or newer, so it lives in its own virtual environment
(``.netbox/venv``, made by ``scripts/ensure-netbox.sh``) and runs as a separate server process;
cleanpath only talks to it over HTTP, as it would to an operator's NetBox.

A fresh NetBox database takes minutes to migrate, so that is done once: :func:`prepare` builds a
migrated PostgreSQL cluster with one superuser and one API token (``.netbox/pgdata-<version>``,
the *template*), and every :class:`NetBoxServer` runs on a private copy of it in a temporary
directory, on loopback ports of its own, so test sessions (and xdist workers) never share state.

Run as a script: ``python tests/io/netbox_server.py prepare`` (what ensure-netbox.sh calls) or
``python tests/io/netbox_server.py serve`` (a server until Ctrl-C, for trying things by hand).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

#: The NetBox release the tests run against (ensure-netbox.sh installs exactly this one).
NETBOX_VERSION = "4.7.3"
REPO = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("CLEANPATH_NETBOX_HOME", REPO / ".netbox"))
VENV = HOME / "venv"
TEMPLATE = HOME / f"pgdata-{NETBOX_VERSION}"
#: The API token baked into the template (a v2 token: ``nbt_<key>.<secret>``). Test-only: the
#: server listens on loopback and its database is a throw-away copy.
TOKEN_KEY = "cleanpathtst"
TOKEN_SECRET = "cleanpathTestOnlyToken0123456789abcdefgh"
TOKEN = f"nbt_{TOKEN_KEY}.{TOKEN_SECRET}"
_SECRET_KEY = "cleanpath-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
_PEPPER = "cleanpath-test-only-pepper-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
DB_USER = "netbox"


def _log(msg: str) -> None:
    print(f"[netbox] {msg}", file=sys.stderr, flush=True)


def pg_bindir() -> Path | None:
    """Directory of PostgreSQL's server binaries (initdb, pg_ctl), or None."""
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def unavailable(*, need_template: bool = True) -> str | None:
    """Why a NetBox server cannot be started here, or None when it can."""
    if not (VENV / "bin" / "netbox").exists():
        return (f"NetBox is not installed in {VENV} (scripts/ensure-netbox.sh installs it; it needs "
                "python3.12 or newer)")
    if pg_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
    if shutil.which("redis-server") is None:
        return "redis-server not found; apt-get install redis-server"
    if need_template and not (TEMPLATE / "PG_VERSION").exists():
        return f"no migrated NetBox database at {TEMPLATE}; run scripts/ensure-netbox.sh"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _run(cmd: list[str], log: Path, **kw) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}); log {log}:\n{tail}")


def _wait_http(url: str, token: str | None, deadline: float, proc: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"NetBox exited with {proc.returncode} while starting:\n{tail}")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:  # not up yet
            last = e
        time.sleep(0.25)
    raise RuntimeError(f"NetBox did not answer {url} in time (last error: {last})")


class NetBoxServer:
    """PostgreSQL + Redis + NetBox (gunicorn) on loopback, on a copy of the template database.

    Parameters
    ----------
    workers, threads
        gunicorn worker processes and threads per worker.
    data_dir
        An existing migrated cluster to copy instead of :data:`TEMPLATE` (:func:`prepare` passes
        a fresh one and ``copy=False``).
    copy
        Run on a private copy of ``data_dir`` (the default) rather than on it.

    Attributes
    ----------
    url, token
        Where the API is (``http://127.0.0.1:<port>``) and a superuser's API token.
    """

    def __init__(self, *, workers: int = 2, threads: int = 4, data_dir: Path | None = None,
                 copy: bool = True, start_web: bool = True):
        self.workers, self.threads = workers, threads
        self.source = data_dir or TEMPLATE
        self.copy = copy
        self.start_web = start_web
        self.token = TOKEN
        self.dir: Path | None = None
        self.url = ""
        self._procs: list[subprocess.Popen] = []
        self._pg_data: Path | None = None
        self.timings: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "NetBoxServer":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        t0 = time.monotonic()
        self.dir = Path(tempfile.mkdtemp(prefix="cleanpath-netbox-"))
        self.dir.chmod(0o755)  # the postgres user must reach its data directory
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        if self.copy:
            self._pg_data = self.dir / "pgdata"
            # cp -a keeps the postgres user's ownership and the 0700 mode PostgreSQL insists on
            _run(["cp", "-a", str(self.source), str(self._pg_data)], self.logs / "copy.log")
        else:
            self._pg_data = self.source
        self.pg_port, self.redis_port, self.port = free_port(), free_port(), free_port()
        pg_log = self.dir / "pglog"  # written by the postgres user
        pg_log.mkdir()
        _pg_owner(pg_log)
        _run(_as_pg_user([str(pg_bindir() / "pg_ctl"), "-D", str(self._pg_data), "-w", "-t", "60",
                          "-l", str(pg_log / "postgres.log"),
                          "-o", f"-p {self.pg_port} -h 127.0.0.1 -k '' -F -c synchronous_commit=off "
                                "-c full_page_writes=off", "start"]),
             self.logs / "pg_ctl.log")
        self._pg_started = True
        self.timings["postgres"] = time.monotonic() - t0
        redis_log = open(self.logs / "redis.log", "ab")
        self._procs.append(subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=redis_log, stderr=subprocess.STDOUT, start_new_session=True))
        self._write_configuration()
        if self.start_web:
            self._start_gunicorn()
        self.timings["total"] = time.monotonic() - t0

    def _write_configuration(self) -> None:
        conf = self.dir / "root" / "conf"
        conf.mkdir(parents=True)
        redis = {"HOST": "127.0.0.1", "PORT": self.redis_port, "USERNAME": "", "PASSWORD": "", "SSL": False}
        (conf / "configuration.py").write_text(
            "# Written by cleanpath's tests/io/netbox_server.py: a throw-away NetBox on loopback.\n"
            "ALLOWED_HOSTS = ['*']\n"
            f"DATABASES = {{'default': {{'NAME': 'netbox', 'USER': {DB_USER!r}, 'PASSWORD': '', "
            f"'HOST': '127.0.0.1', 'PORT': '{self.pg_port}', 'CONN_MAX_AGE': 300}}}}\n"
            f"REDIS = {{'tasks': {{**{redis!r}, 'DATABASE': 0}}, 'caching': {{**{redis!r}, 'DATABASE': 1}}}}\n"
            f"SECRET_KEY = {_SECRET_KEY!r}\n"
            f"API_TOKEN_PEPPERS = {{1: {_PEPPER!r}}}\n"
            "CENSUS_REPORTING_ENABLED = False\n"
            "RELEASE_CHECK_URL = None\n"
            "MAX_PAGE_SIZE = 1000\n"
            "LOGGING = {'version': 1, 'disable_existing_loggers': True}\n",
            encoding="utf-8")

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "NETBOX_ROOT": str(self.dir / "root"), "DJANGO_SETTINGS_MODULE": "netbox.settings"}

    def manage(self, *args: str, stdin: str | None = None, timeout: float | None = None) -> str:
        """Run a NetBox management command against this server's database; its stdout."""
        proc = subprocess.run([str(VENV / "bin" / "netbox"), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"netbox {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return proc.stdout

    def _start_gunicorn(self) -> None:
        t0 = time.monotonic()
        site = next((VENV / "lib").glob("python3*/site-packages"))
        log = self.logs / "gunicorn.log"
        out = open(log, "ab")
        # --preload imports Django once and forks the workers: much faster on a busy machine
        proc = subprocess.Popen(
            [str(VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers",
             str(self.workers), "--threads", str(self.threads), "--timeout", "300", "--preload",
             "--chdir", str(site), "netbox.wsgi"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self._procs.append(proc)
        self.url = f"http://127.0.0.1:{self.port}"
        _wait_http(f"{self.url}/api/status/", self.token, time.monotonic() + 180, proc, log)
        self.timings["web"] = time.monotonic() - t0

    def stop(self) -> None:
        """Stop NetBox, Redis and PostgreSQL (in that order) and remove the private copy."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's workers are in its session
                except ProcessLookupError:
                    pass
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
        if getattr(self, "_pg_started", False):
            subprocess.run(_as_pg_user([str(pg_bindir() / "pg_ctl"), "-D", str(self._pg_data), "-w",
                                        "-m", "fast", "stop"]), capture_output=True)
            self._pg_started = False
        if self.dir is not None:  # with copy=False the cluster lies elsewhere and is kept
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


_MAKE_TOKEN = f"""
from users.models import Token, User
user, _ = User.objects.get_or_create(username="cleanpath")
user.is_superuser = True
user.is_active = True
user.save()
Token.objects.filter(key={TOKEN_KEY!r}).delete()
Token(user=user, version=2, key={TOKEN_KEY!r}, token={TOKEN_SECRET!r}, write_enabled=True,
      description="cleanpath tests").save()
print("token ready")
"""


def prepare(*, force: bool = False) -> Path:
    """Build :data:`TEMPLATE` once: initdb, create the database, migrate NetBox, add the token.

    Idempotent: returns at once when the template exists (unless ``force``). The cluster is
    built in a temporary directory and moved into place only when complete, so an interrupted
    run leaves no half-built template behind.
    """
    if (TEMPLATE / "PG_VERSION").exists() and not force:
        return TEMPLATE
    why = unavailable(need_template=False)
    if why:
        raise RuntimeError(why)
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cleanpath-netbox-prepare-"))
    work.chmod(0o755)
    data = work / "pgdata"
    try:
        data.mkdir()
        _pg_owner(data)
        _run(_as_pg_user([str(pg_bindir() / "initdb"), "-D", str(data), "-A", "trust", "-U", DB_USER,
                          "-E", "UTF8", "--no-sync"]), work / "initdb.log")
        with NetBoxServer(data_dir=data, copy=False, start_web=False) as srv:
            _run(_as_pg_user([str(pg_bindir() / "createdb"), "-h", "127.0.0.1", "-p", str(srv.pg_port),
                              "-U", DB_USER, "netbox"]), work / "createdb.log")
            _log(f"migrating a fresh NetBox {NETBOX_VERSION} database (takes minutes, done once)...")
            t1 = time.monotonic()
            srv.manage("migrate", "--no-input")
            _log(f"migrated in {time.monotonic() - t1:.0f} s")
            srv.manage("shell", "-c", _MAKE_TOKEN)
        HOME.mkdir(parents=True, exist_ok=True)
        partial = HOME / f"{TEMPLATE.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _run(["cp", "-a", str(data), str(partial)], work / "copy.log")
        shutil.rmtree(TEMPLATE, ignore_errors=True)
        partial.rename(TEMPLATE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _log(f"template ready at {TEMPLATE} in {time.monotonic() - t0:.0f} s")
    return TEMPLATE


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:
        prepare(force="--force" in argv)
        return 0
    if argv[:1] == ["serve"]:
        with NetBoxServer() as srv:
            print(f"NetBox at {srv.url}, token {srv.token} (Ctrl-C stops it)", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
        return 0
    print("usage: netbox_server.py prepare [--force] | serve", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
