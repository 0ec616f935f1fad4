"""The service under stress and attack (issue 13's reproductions), on loopback only.

Slow questions are real ones: an outage Monte Carlo with 10,000 samples at failure probability 0.5
on the 1 %-scale German network runs for tens of seconds in one process, long enough to cancel,
time out, or run two of while the service must keep answering. Every test is bounded in time
(the jobs it starts are cancelled or stopped by a short time limit).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanpath.demo import build_example
from cleanpath.io.tables import write_tables
from cleanpath.service import ServiceConfig, create_app
from cleanpath.service.cache import ByteLRU
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace

SLOW = {"snapshot": "de", "random": 0.5, "samples": 10_000}


@pytest.fixture(scope="module")
def net():
    return build_example(scale=0.01)


@pytest.fixture(scope="module")
def seed_ws(net, tmp_path_factory):
    """A workspace with snapshot 'de' and an admin and analyst token, copied by each test."""
    path = tmp_path_factory.mktemp("robust") / "seed.duckdb"
    with open_workspace(path) as ws:
        ws.write_network("de", net)
        store = TokenStore(ws.con)
        tokens = {r: store.create(role=r, name=f"t-{r}").token for r in ("analyst", "admin")}
    return path, tokens


def _copy(seed_ws, tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    path = tmp_path / "ws.duckdb"
    shutil.copy(seed_ws[0], path)
    return path, {r: {"Authorization": f"Bearer {t}"} for r, t in seed_ws[1].items()}


class Running:
    """A service on a copy of the seed workspace, in this process (TestClient)."""

    def __init__(self, seed_ws, tmp_path: Path, **config):
        self.path, self.h = _copy(seed_ws, tmp_path)
        self.app = create_app(config=ServiceConfig(workspace=self.path, warm=False, **config))
        self.client = TestClient(self.app)

    def __enter__(self):
        self.client.__enter__()
        return self

    def __exit__(self, *exc):
        self.client.__exit__(*exc)
        self.app.state.service.close()

    def wait_for(self, job_id: str, states, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            j = self.client.get(f"/api/jobs/{job_id}", headers=self.h["analyst"]).json()
            if j["status"] in states or (j["status"] == "running" and "computing" in states
                                         and j["progress"]["stage"] == "computing"):
                return j
            assert time.monotonic() < deadline, j
            time.sleep(0.1)


# --- jobs: cancel, time limit, reads while jobs run --------------------------------------------------

def test_a_running_job_is_cancelled_by_delete(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path, jobs=1) as s:
        c, h = s.client, s.h["analyst"]
        r = c.post("/api/questions/outage", json=SLOW, headers=h)
        assert r.status_code == 202 and r.headers["location"] == f"/api/jobs/{r.json()['job_id']}"
        job_id = r.json()["job_id"]
        s.wait_for(job_id, ("computing",))
        t0 = time.monotonic()
        d = c.delete(f"/api/jobs/{job_id}", headers=h)
        assert d.status_code == 200 and d.json()["status"] == "cancelled", d.text
        assert time.monotonic() - t0 < 5
        assert c.get("/health").json()["jobs"]["running"] == 0
        # the pool replaced the killed worker: the next question runs
        r = c.post("/api/questions/outage?wait=60", json={"snapshot": "de", "vendor": "zte"}, headers=h)
        assert r.status_code == 200, r.text
        # cancelling again is a conflict; another analyst's job is not ours to cancel
        assert c.delete(f"/api/jobs/{job_id}", headers=h).status_code == 409
        assert c.get("/api/jobs/job_nope", headers=h).status_code == 404


def test_the_time_limit_stops_a_job(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path, jobs=1, job_time_limits={"outage": 3.0}) as s:
        t0 = time.monotonic()
        r = s.client.post("/api/questions/outage?wait=30", json=SLOW, headers=s.h["analyst"])
        assert r.status_code == 504 and r.json()["error"] == "timeout", r.text
        assert time.monotonic() - t0 < 25
        job = s.client.get(f"/api/jobs/{r.json()['job_id']}", headers=s.h["analyst"]).json()
        assert job["status"] == "timeout" and job["progress"]["time_limit_s"] == 3.0
        audit = s.client.get("/api/audit", params={"action": "job:outage:timeout"}, headers=s.h["admin"]).json()
        assert [e["status"] for e in audit["entries"]] == [504]


def test_the_queue_of_waiting_questions_is_bounded(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path, jobs=1, max_queued_jobs=2) as s:
        c, h = s.client, s.h["analyst"]
        first = c.post("/api/questions/outage", json=SLOW, headers=h).json()["job_id"]
        s.wait_for(first, ("computing",))
        waiting = [c.post("/api/questions/outage", json={**SLOW, "seed": k}, headers=h) for k in (1, 2)]
        assert [r.status_code for r in waiting] == [202, 202]
        r = c.post("/api/questions/outage", json={**SLOW, "seed": 3}, headers=h)
        assert r.status_code == 503 and r.headers["retry-after"] == "30", r.text
        again = c.post("/api/questions/outage", json={**SLOW, "seed": 1}, headers=h)  # joins its job
        assert again.status_code == 202 and again.json()["job_id"] == waiting[0].json()["job_id"]
        for j in [first] + [w.json()["job_id"] for w in waiting]:
            assert c.delete(f"/api/jobs/{j}", headers=h).json()["status"] == "cancelled"


def test_health_and_cached_reads_stay_quick_while_two_jobs_run(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path, jobs=2) as s:
        c, h = s.client, s.h["analyst"]
        quick = c.post("/api/questions/outage?wait=60", json={"snapshot": "de", "vendor": "huawei"}, headers=h)
        assert quick.status_code == 200
        rid = quick.headers["x-result-id"]
        ids = [c.post("/api/questions/outage", json={**SLOW, "seed": k}, headers=h).json()["job_id"] for k in (1, 2)]
        for j in ids:
            s.wait_for(j, ("computing",))
        lat = {"health": [], "cached": [], "result": []}
        for _ in range(30):
            for key, call in (("health", lambda: c.get("/health")),
                              ("cached", lambda: c.post("/api/questions/outage", headers=h,
                                                        json={"snapshot": "de", "vendor": "huawei"})),
                              ("result", lambda: c.get(f"/api/results/{rid}", headers=h))):
                t0 = time.perf_counter()
                r = call()
                lat[key].append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
        assert c.get("/health").json()["jobs"]["running"] == 2
        for j in ids:
            assert c.delete(f"/api/jobs/{j}", headers=h).json()["status"] == "cancelled"
        # generous bounds (the machine is shared); bench/bench_service.py measures p99 properly
        for key, xs in lat.items():
            assert statistics.median(xs) < 0.25 and max(xs) < 2.0, (key, sorted(xs)[-5:])


# --- authentication ------------------------------------------------------------------------------------------

def test_failed_authentication_is_rate_limited_per_address(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path, auth_failures="20/minute") as s:
        c = s.client
        assert c.get("/api/whoami", headers=s.h["analyst"]).status_code == 200  # verified once, remembered
        codes = []
        for i in range(300):
            r = c.get("/api/whoami", headers={"Authorization": f"Bearer cpt_{i:012x}.{'A' * 43}"})
            codes.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["retry-after"]) >= 1 and r.json()["error"] == "too_many_requests"
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
        assert c.get("/api/whoami", headers=s.h["analyst"]).status_code == 200


def test_unknown_token_ids_cost_as_much_as_known_ones(seed_ws, tmp_path):
    """A guess with a made-up id runs scrypt like a guess at a real id's secret (no early exit that
    would tell which ids exist). A relative bound: without the dummy hash the unknown id is ~500x
    quicker."""
    with Running(seed_ws, tmp_path, auth_failures="1000/minute") as s:
        store = s.app.state.service.tokens
        real = s.h["analyst"]["Authorization"].split()[1]
        known_wrong = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
        unknown = "cpt_000000000000." + "A" * 43

        def median_time(tok: str) -> float:
            xs = []
            for _ in range(7):
                t0 = time.perf_counter()
                assert store.verify(tok) is None
                xs.append(time.perf_counter() - t0)
            return statistics.median(xs)

        assert median_time(unknown) > 0.3 * median_time(known_wrong)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(path: Path, log: Path, *options: str) -> tuple[subprocess.Popen, int]:
    """``cleanpath serve`` on ``path`` in a subprocess on loopback, once it answers /health."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from cleanpath.cli.main import main; main()", "serve",
                             "-w", str(path), "--port", str(port), "--jobs", "1", "--log-level", "warning", *options],
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"), env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


@pytest.fixture()
def server(seed_ws, tmp_path):
    """``cleanpath serve`` in a subprocess on loopback."""
    path, h = _copy(seed_ws, tmp_path)
    proc, port = _serve(path, tmp_path / "server.log", "--drain-seconds", "1", "--question-time-limit", "outage=120")
    yield {"port": port, "h": h, "proc": proc, "log": tmp_path / "server.log", "path": path}
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _request(port: int, method: str, path: str, headers=None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}


def test_an_unauthenticated_31_mb_body_is_refused_without_being_read(server):
    """Headers announce 31 MB; only 64 KB are sent. The answer must come without the rest."""
    for length, want in ((31 * 2**20, {401, 413}), (20 * 2**20, {401, 413})):
        sock = socket.create_connection(("127.0.0.1", server["port"]), timeout=10)
        sock.sendall(f"POST /api/questions/outage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode() + b"{" * 65536)
        t0 = time.monotonic()
        data = sock.recv(4096)
        sock.close()
        status = int(data.split(b" ", 2)[1])
        assert status in want and time.monotonic() - t0 < 5, data[:200]
    assert _request(server["port"], "GET", "/health")[0] == 200

    # four senders pushing 31 MB bodies without a token: the server answers 401 and closes each
    # connection instead of reading, so /health stays quick and the server's memory flat
    def push(result: list) -> None:
        sock = socket.create_connection(("127.0.0.1", server["port"]), timeout=10)
        sock.sendall(f"POST /api/questions/outage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {31 * 2**20}\r\n\r\n".encode())
        sent, chunk = 0, b"[" * 2**16
        try:
            while sent < 31 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed the connection: what we want
            pass
        result.append(sent)
        sock.close()

    rss0 = psutil.Process(server["proc"].pid).memory_info().rss
    sent: list[int] = []
    threads = [threading.Thread(target=push, args=(sent,)) for _ in range(4)]
    for t in threads:
        t.start()
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        assert _request(server["port"], "GET", "/health")[0] == 200
        lat.append(time.perf_counter() - t0)
    for t in threads:
        t.join(timeout=60)
    rss1 = psutil.Process(server["proc"].pid).memory_info().rss
    assert max(lat) < 2.0 and statistics.median(lat) < 0.3, lat
    assert rss1 - rss0 < 64 * 2**20, (rss0, rss1)
    assert len(sent) == 4 and all(n < 31 * 2**20 for n in sent), sent  # nobody got to send it all


def test_sigterm_stops_the_server_within_seconds_even_with_a_job_running(server):
    port, h = server["port"], server["h"]["analyst"]
    status, body, headers = _request(port, "POST", "/api/questions/outage",
                                     {**h, "Content-Type": "application/json"},
                                     b'{"snapshot": "de", "random": 0.5, "samples": 10000}')
    assert status == 202, body
    job = headers["location"]
    assert json.loads(body)["progress"]["time_limit_s"] == 120  # --question-time-limit outage=120
    deadline = time.monotonic() + 60
    while b'"computing"' not in _request(port, "GET", job, h)[1]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    t0 = time.monotonic()
    server["proc"].send_signal(signal.SIGTERM)
    server["proc"].wait(timeout=20)
    assert time.monotonic() - t0 < 10, server["log"].read_text()[-2000:]
    # the workspace was released cleanly, and the stopped job's end is in the audit log
    with open_workspace(server["path"]) as ws:
        got = ws.con.execute("SELECT method, action, status FROM service_audit_log").fetchall()
    assert ("POST", "question:outage", 202) in got and ("JOB", "job:outage:cancelled", 503) in got


def test_sigterm_lets_a_running_job_finish_within_the_drain_and_keeps_its_result(seed_ws, tmp_path):
    """A Monte Carlo of a few seconds is computing when SIGTERM comes; with a 60 s drain it finishes,
    its result is kept, and a restarted service answers it from the cache."""
    path, h = _copy(seed_ws, tmp_path)
    log = tmp_path / "server.log"
    body = json.dumps({"snapshot": "de", "random": 0.5, "samples": 600}).encode()
    hj = {**h["analyst"], "Content-Type": "application/json"}
    proc, port = _serve(path, log, "--drain-seconds", "60")
    try:
        status, out, headers = _request(port, "POST", "/api/questions/outage", hj, body)
        assert status == 202, out
        rid = json.loads(out)["result_id"]
        deadline = time.monotonic() + 60
        while b'"computing"' not in _request(port, "GET", headers["location"], h["analyst"])[1]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    with open_workspace(path) as ws:
        ends = ws.con.execute("SELECT action, status FROM service_audit_log WHERE method = 'JOB'").fetchall()
    assert ends == [("job:outage:done", 200)], log.read_text()[-2000:]
    proc, port = _serve(path, log)
    try:
        status, out, headers = _request(port, "POST", "/api/questions/outage", hj, body)
        assert status == 200 and headers["x-cache"] == "hit", out[:300]
        assert headers["x-result-id"] == rid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


# --- audit log -----------------------------------------------------------------------------------------------

def test_a_failing_audit_writer_shows_in_health_and_catches_up(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path) as s:
        svc, c = s.app.state.service, s.client
        assert c.get("/health").json()["status"] == "ok"
        svc.ws.con.execute("ALTER TABLE service_audit_log RENAME TO audit_moved")  # every write now fails
        assert c.get("/api/whoami", headers=s.h["analyst"]).status_code == 200  # the answer still comes
        health = c.get("/health").json()
        assert health["status"] == "degraded" and "audit log" in health["reasons"][0], health
        svc.ws.con.execute("ALTER TABLE audit_moved RENAME TO service_audit_log")
        c.get("/api/whoami", headers=s.h["admin"])  # the next write carries the failed ones along
        assert c.get("/health").json()["status"] == "ok"
        entries = c.get("/api/audit", params={"action": "whoami", "limit": 100}, headers=s.h["admin"]).json()["entries"]
        assert [e["role"] for e in entries] == ["admin", "analyst"]  # the one written while failing, caught up


def test_audit_entries_are_committed_before_the_answer(seed_ws, tmp_path):
    """What a client got an answer for is in the table already (no flush interval to lose)."""
    with Running(seed_ws, tmp_path) as s:
        svc, c = s.app.state.service, s.client
        for i in range(5):
            c.get("/api/snapshots", headers=s.h["analyst"])
            c.get("/api/nope", headers={"Authorization": "Bearer wrong"})
        n = svc.ws.con.cursor().execute("SELECT count(*) FROM service_audit_log").fetchall()[0][0]
        assert n == 10


# --- result cache ----------------------------------------------------------------------------------------------

def test_result_cache_respects_its_byte_bounds_and_survives_a_restart(seed_ws, tmp_path):
    mem, disk = 200_000, 120_000  # bytes: a few of these outage results (7 to 60 KB pickled each)
    bodies = [{"snapshot": "de", "vendor": v} for v in ("huawei", "zte", "ericsson", "nokia", "huawei,zte")]
    with Running(seed_ws, tmp_path, cache_bytes=mem, cache_disk_bytes=disk) as s:
        svc, c, h = s.app.state.service, s.client, s.h["analyst"]
        rids = []
        for b in bodies:
            r = c.post("/api/questions/outage?wait=60", json=b, headers=h)
            assert r.status_code == 200 and r.headers["x-cache"] == "miss", r.text
            rids.append(r.headers["x-result-id"])
            c.post("/api/questions/outage", json=b, headers={**h, "Accept-Encoding": "gzip"})
            assert svc.results.memory.bytes <= mem
            files = sum(p.stat().st_size for p in (svc.state_dir / "results").glob("*.pkl"))
            assert files <= disk and svc.results.disk_usage() == files
        kept = {p.stem for p in (svc.state_dir / "results").glob("*.pkl")}
        assert kept and kept < set(rids)  # the bound evicted some, the newest stayed
        assert rids[-1] in kept
    # a new service on the same workspace answers the kept results from disk, without a job
    app = create_app(config=ServiceConfig(workspace=s.path, warm=False, cache_bytes=mem, cache_disk_bytes=disk))
    with TestClient(app) as c2:
        r = c2.post("/api/questions/outage", json=bodies[-1], headers=h)
        assert r.status_code == 200 and r.headers["x-cache"] == "hit" and r.headers["x-result-id"] == rids[-1]
        listed = {e["result_id"] for e in c2.get("/api/results", headers=h).json()["results"]}
        assert listed == kept
    app.state.service.close()


def test_results_of_a_replaced_snapshot_are_not_served_after_a_restart(seed_ws, tmp_path, net):
    body = {"snapshot": "de", "vendor": "zte"}
    with Running(seed_ws, tmp_path) as s:
        h = s.h["analyst"]
        rid = s.client.post("/api/questions/outage?wait=60", json=body, headers=h).headers["x-result-id"]
        results = s.app.state.service.state_dir / "results"
        assert (results / f"{rid}.pkl").exists()
    with open_workspace(s.path) as ws:  # the service is stopped: someone re-imports the snapshot
        ws.write_network("de", net)
    exports = s.app.state.service.exports
    assert len(list(exports.iterdir())) == 1
    app = create_app(config=ServiceConfig(workspace=s.path, warm=False))
    with TestClient(app) as c:
        assert not (results / f"{rid}.pkl").exists()  # stale: deleted on start
        assert list(exports.iterdir()) == []  # so is the workers' copy of the old version
        r = c.post("/api/questions/outage", json=body, headers=h)
        assert r.status_code == 202  # computed again for the new version
        c.delete(r.headers["location"], headers=h)
    app.state.service.close()


# --- uploads ----------------------------------------------------------------------------------------------------

def test_plain_csv_and_parquet_files_import_over_rest(seed_ws, tmp_path, net):
    out = tmp_path / "tables"
    write_tables(net.tables(), out, fmt="csv")
    with Running(seed_ws, tmp_path, max_upload_bytes=64 * 2**20) as s:
        c, h = s.client, s.h["admin"]
        names = ["operators.csv", "sites.csv", "elements.csv", "links.csv"]
        files = [("files", (n, (out / n).read_bytes(), "text/csv")) for n in names]
        r = c.post("/api/snapshots/plain/import", headers=h, data={"format": "tables"}, files=files)
        assert r.status_code == 200, r.text
        assert r.json()["params"]["paths"] == names
        assert r.json()["summary"]["totals"]["elements"] == len(net.elements)
        # one Parquet file on its own, added to that snapshot
        ss = net.sensitive_sites
        buf = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(ss.astype(object).where(ss.notna(), None), preserve_index=False), buf)
        r = c.post("/api/snapshots/plain/import", headers=h, data={"format": "tables"},
                   files={"files": ("sensitive_sites.parquet", buf.getvalue().to_pybytes(), "application/octet-stream")})
        assert r.status_code == 200, r.text
        assert r.json()["summary"]["totals"]["sensitive_sites"] == len(ss)


# --- trust over REST -------------------------------------------------------------------------------------------

def test_map_trust_never_names_files_and_long_values_are_422(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path) as s:
        c, h = s.client, s.h["analyst"]
        for trust in ("x" * 300, "/etc/passwd", "../../secret.yaml", "a" * 255 + ".yml"):
            r = c.get("/api/snapshots/de/map", params={"trust": trust}, headers=h)
            assert r.status_code == 422, (trust[:20], r.status_code, r.text[:200])
        assert c.get("/api/snapshots/de/map", params={"trust": "huawei,zte"}, headers=h).status_code == 200
        r = c.post("/api/questions/clean-path?wait=60", json={"snapshot": "de", "trust": "y" * 300}, headers=h)
        assert r.status_code == 422, r.text[:300]


def test_secrets_and_the_audit_log_are_never_cached(seed_ws, tmp_path):
    with Running(seed_ws, tmp_path) as s:
        c, h = s.client, s.h["admin"]
        for r in (c.post("/api/tokens", json={"role": "viewer"}, headers=h), c.get("/api/tokens", headers=h),
                  c.get("/api/audit", headers=h), c.get("/api/whoami", headers=h),
                  c.get("/api/whoami", headers={"Authorization": "Bearer nope"}), c.get("/health")):
            assert r.headers["cache-control"] == "no-store", r.request.url


def test_kill_9_loses_no_acknowledged_audit_entry(server, tmp_path):
    port, h = server["port"], server["h"]["analyst"]
    n = 25
    for _ in range(n):
        assert _request(port, "GET", "/api/snapshots", h)[0] == 200
    assert _request(port, "GET", "/api/nope", {"Authorization": "Bearer wrong"})[0] == 401
    server["proc"].kill()  # SIGKILL: no shutdown, no flush
    server["proc"].wait(10)
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        got = ws.con.execute("SELECT path, status FROM service_audit_log").fetchall()
    assert sum(1 for p, s in got if p == "/api/snapshots" and s == 200) == n
    assert ("/api/nope", 401) in got


# --- the byte-bounded LRU against a plain-list oracle ------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(bound=st.integers(0, 100),
       ops=st.lists(st.tuples(st.sampled_from(["put", "get"]), st.integers(0, 6), st.integers(0, 60)), max_size=60))
def test_byte_lru_matches_an_oracle(bound, ops):
    lru = ByteLRU(bound, size=lambda v: v)
    oracle: list[tuple[int, int]] = []  # (key, size), least recently used first
    for op, key, size in ops:
        if op == "put":
            lru.put(key, size)
            oracle = [(k, s) for k, s in oracle if k != key]
            if size <= bound:
                oracle.append((key, size))
                while sum(s for _k, s in oracle) > bound:
                    oracle.pop(0)
        else:
            got = lru.get(key)
            hit = [s for k, s in oracle if k == key]
            assert got == (hit[0] if hit else None)
            if hit:
                oracle = [(k, s) for k, s in oracle if k != key] + [(key, hit[0])]
        assert lru.bytes == sum(s for _k, s in oracle) <= bound
        assert lru.values() == [s for _k, s in oracle]
