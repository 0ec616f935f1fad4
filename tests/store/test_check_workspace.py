"""Damaged workspaces and full disks give clean errors (issue 13, step 10).

* ``cleanpath check-workspace`` reads every block back (DuckDB verifies each block's checksum on
  read) and reports each snapshot ok or damaged: exit 0 when clean, 2 when damaged.
* Bytes flipped at random offsets of a copy of a real workspace (40 seeded trials): every command
  exits 0 or 2 with a message, never a traceback, and no import ever succeeds into a file that
  ``check-workspace`` calls damaged.
* A disk that fills during an import (a small tmpfs when this process may mount one, else a
  file-size limit, ``RLIMIT_FSIZE`` with SIGXFSZ ignored so that write() fails with EFBIG): a
  clean error saying nothing was written; the earlier snapshots read back unchanged and the next
  import succeeds once there is room.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cleanpath.build.synthetic import synthetic_network
from cleanpath.cli.main import cli
from cleanpath.errors import WorkspaceError
from cleanpath.io.tables import write_tables
from cleanpath.store.ingest import ingest
from cleanpath.store.integrity import is_storage_error, storage_error
from cleanpath.store.workspace import open_workspace


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, Path]:
    """A workspace with two snapshots, plus interchange files of a small and a larger network."""
    base = tmp_path_factory.mktemp("clean")
    small = base / "small"
    write_tables(synthetic_network(elements=900, seed=5), small, fmt="parquet")
    large = base / "large"
    write_tables(synthetic_network(elements=20_000, seed=6), large, fmt="parquet")
    ws_path = base / "ws.duckdb"
    with open_workspace(ws_path) as ws:
        ingest(ws, "tables", [small], snapshot="main")
        ingest(ws, "tables", [large], snapshot="big")
    return {"ws": ws_path, "small": small, "large": large}


def run(ws: Path, *args: str):
    """The CLI in this process; returns (exit code, stdout, stderr, unexpected exception)."""
    r = CliRunner().invoke(cli, ["-w", str(ws), *args], catch_exceptions=True)
    unexpected = r.exception if r.exception is not None and not isinstance(r.exception, SystemExit) else None
    return r.exit_code, r.stdout, r.stderr, unexpected


def test_clean_workspace_checks_ok(clean, tmp_path):
    ws = tmp_path / "ws.duckdb"
    shutil.copy(clean["ws"], ws)
    code, out, err, exc = run(ws, "check-workspace", "--format", "json")
    assert (code, exc) == (0, None), err
    doc = json.loads(out)
    rows = {r["snapshot"]: r for r in doc["tables"]["snapshots"]}
    assert set(rows) == {"(registry)", "main", "big"}
    assert all(r["status"] == "ok" for r in rows.values())
    with duckdb.connect(str(ws), read_only=True) as con:
        for name, r in rows.items():
            if name == "(registry)":
                continue
            storage = con.execute("SELECT storage FROM snapshots WHERE name = ?", [name]).fetchall()[0][0]
            assert r["storage"] == storage
            # Independent count of what the check claims to have read.
            n = sum(con.execute(f'SELECT count(*) FROM "{storage}"."{t}"').fetchall()[0][0]
                    for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = ?", [storage]).fetchall())
            assert r["rows"] == n


def _damage_block_of(ws: Path, snapshot: str) -> None:
    """Flip a byte inside a data block of ``snapshot`` (found from DuckDB's own storage map)."""
    with duckdb.connect(str(ws), read_only=True) as con:
        storage = con.execute("SELECT storage FROM snapshots WHERE name = ?", [snapshot]).fetchall()[0][0]
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
        blocks = con.execute(f"SELECT DISTINCT block_id FROM pragma_storage_info('{storage}.elements') "
                             "WHERE block_id >= 0").fetchall()
    assert blocks
    # The file: 3 header blocks of 4 KiB, then blocks of block_size with an 8-byte checksum first.
    offset = 3 * 4096 + blocks[0][0] * block_size + 100
    data = bytearray(ws.read_bytes())
    data[offset] ^= 0xFF
    ws.write_bytes(bytes(data))


def test_damaged_snapshot_is_named_and_others_still_read(clean, tmp_path):
    ws = tmp_path / "ws.duckdb"
    shutil.copy(clean["ws"], ws)
    _damage_block_of(ws, "big")
    code, out, err, exc = run(ws, "check-workspace")
    assert (code, exc) == (2, None), err
    assert "Traceback" not in err
    assert "snapshot 'big'" in err and "checksum" in err and "Still readable: main" in err
    # The damaged snapshot is a clean error, the other one still answers.
    code, _, err, exc = run(ws, "info", "-s", "big")
    assert (code, exc) == (2, None) and f"workspace {ws} is damaged" in err, err
    code, _, err, exc = run(ws, "info", "-s", "main")
    assert (code, exc) == (0, None), err
    # Nothing is written into a damaged file, even to a snapshot that has no damaged block.
    before = ws.read_bytes()
    code, _, err, exc = run(ws, "import", "tables", str(clean["small"]), "-s", "fresh")
    assert (code, exc) == (2, None), err
    assert "Nothing was written" in err and "snapshot 'big'" in err
    with open_workspace(ws, read_only=True) as w:
        assert w.snapshot_names() == ["big", "main"]
    assert ws.read_bytes() == before


_COMMANDS = (
    ("snapshots",),
    ("info", "-s", "main"),
    ("info", "-s", "big"),
    ("export", "-s", "main", "--out", "{tmp}/export"),
    ("snapshots", "delete", "main"),
)


def test_flipped_bytes_never_give_a_traceback(clean, tmp_path):
    """40 seeded trials of 1-3 flipped bytes at random offsets of a copy of a real workspace."""
    size = clean["ws"].stat().st_size
    damaged_trials = 0
    for seed in range(40):
        rng = random.Random(seed)
        ws = tmp_path / f"t{seed}.duckdb"
        shutil.copy(clean["ws"], ws)
        data = bytearray(ws.read_bytes())
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(size)] ^= 1 << rng.randrange(8)
        ws.write_bytes(bytes(data))
        pristine = bytes(data)

        def check(where: str) -> int:
            code, _, err, exc = run(ws, "check-workspace")
            assert exc is None, (seed, where, repr(exc))
            assert code in (0, 2), (seed, where, code, err)
            assert code == 0 or "error:" in err and "Traceback" not in err, (seed, where, err)
            return code

        damaged = check("before") == 2
        damaged_trials += damaged
        for args in _COMMANDS:
            ws.write_bytes(pristine)
            args = [a.replace("{tmp}", str(tmp_path / f"t{seed}")) for a in args]
            code, _, err, exc = run(ws, *args)
            assert exc is None, (seed, args, repr(exc))
            assert code in (0, 2), (seed, args, code)
            assert code == 0 or ("error:" in err and "Traceback" not in err), (seed, args, err)
        # An import either refuses (2, clean message) or succeeds into a file that checks clean.
        ws.write_bytes(pristine)
        code, _, err, exc = run(ws, "import", "tables", str(clean["small"]), "-s", "incoming")
        assert exc is None, (seed, repr(exc))
        assert code in (0, 2), (seed, code, err)
        if code == 2:
            assert "error:" in err and "Traceback" not in err, (seed, err)
        else:
            assert not damaged, f"seed {seed}: import succeeded into a damaged workspace"
            assert check("after import") == 0, f"seed {seed}: import left a damaged workspace"
    # The trials must exercise damage, not only flips into unused bytes.
    assert damaged_trials >= 10, damaged_trials


def test_storage_errors_are_translated_and_others_are_not():
    e = duckdb.IOException("IO Error: Corrupt database file: computed checksum 1 does not match "
                           "stored checksum 2 in block at location 4096")
    assert is_storage_error(e)
    msg = str(storage_error("w.duckdb", e, action="reading a snapshot"))
    assert "workspace w.duckdb is damaged (a damaged block at byte 4,096 of the file)" in msg
    full = duckdb.IOException('IO Error: Could not write file "w.duckdb": No space left on device')
    msg = str(storage_error("w.duckdb", full, action="writing snapshot 'x'", written=False))
    assert msg.startswith("disk full while writing snapshot 'x' in workspace w.duckdb")
    assert "nothing was written" in msg and "still usable" in msg
    # A query bug stays a bug (exit 1 with its traceback), not a "damaged workspace".
    assert not is_storage_error(duckdb.BinderException("Binder Error: column x not found"))


# -- disk full -------------------------------------------------------------------------------------


def _try_tmpfs(mount_point: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    mount_point.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                       capture_output=True, text=True)
    return p.returncode == 0


def _cli_child(ws: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        if fsize is not None:
            # Ignored SIGXFSZ: a write past the limit fails with EFBIG instead of killing us.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "cleanpath.cli.main", "-w", str(ws), *args],
                          capture_output=True, text=True, timeout=300, preexec_fn=limits)


def _snapshot_rows(ws: Path) -> dict[str, dict[str, int]]:
    with open_workspace(ws, read_only=True) as w:
        return {s.name: s.counts for s in w.snapshots()}


@pytest.mark.parametrize("how", ["tmpfs", "rlimit"])
def test_disk_full_during_import(clean, tmp_path, how):
    mount_point = tmp_path / "small"
    mounted = False
    if how == "tmpfs":
        mounted = _try_tmpfs(mount_point, "2m")
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root); the rlimit case covers disk full")
    else:
        mount_point.mkdir()
    try:
        ws = mount_point / "ws.duckdb"
        p = _cli_child(ws, "import", "tables", str(clean["small"]))
        assert p.returncode == 0, p.stderr
        before = _snapshot_rows(ws)
        fsize = ws.stat().st_size + (256 << 10) if how == "rlimit" else None
        p = _cli_child(ws, "import", "tables", str(clean["large"]), "-s", "big", fsize=fsize)
        assert p.returncode == 2, p.stderr[-3000:]
        assert "Traceback" not in p.stderr and "During handling" not in p.stderr, p.stderr[-3000:]
        why = "No space left on device" if how == "tmpfs" else "File too large"
        assert "error: disk full while writing snapshot 'big'" in p.stderr and why in p.stderr, p.stderr
        assert "nothing was written" in p.stderr and "still usable" in p.stderr
        # Usable, unchanged, and undamaged.
        assert _snapshot_rows(ws) == before
        p = _cli_child(ws, "check-workspace")
        assert p.returncode == 0, p.stderr
        p = _cli_child(ws, "info", "--format", "json")
        assert p.returncode == 0, p.stderr
        # Once there is room, the same import goes through.
        if how == "tmpfs":
            subprocess.run(["mount", "-o", "remount,size=64m", str(mount_point)], check=True)
        p = _cli_child(ws, "import", "tables", str(clean["large"]), "-s", "big")
        assert p.returncode == 0, p.stderr[-3000:]
        after = _snapshot_rows(ws)
        assert after["main"] == before["main"] and after["big"]["elements"] == 20_000
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_workspace_path_that_is_a_directory(tmp_path):
    with pytest.raises(WorkspaceError, match="is a directory"):
        open_workspace(tmp_path)


def test_export_to_a_full_disk_is_a_clean_error(clean, tmp_path):
    out = tmp_path / "export"
    p = _cli_child(clean["ws"], "export", "-s", "big", "--out", str(out), fsize=100_000)
    assert p.returncode == 2, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    assert "cannot write the export: File too large" in p.stderr
    assert not list(out.glob("*.tmp"))  # no half-written file left behind
    p = _cli_child(clean["ws"], "export", "-s", "big", "--out", "/dev/null/export")
    assert p.returncode == 2 and "/dev/null/export: cannot write the export: Not a directory" in p.stderr, p.stderr
