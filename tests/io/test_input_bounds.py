"""Importers bound their work before materialising anything (issue 13, reproductions of step 10).

Each bomb runs ``cleanpath import`` in a child process that measures its own peak resident set
(``getrusage(RUSAGE_SELF).ru_maxrss``) and has an address-space limit as a safety net, so a
regression fails the test instead of taking the machine's memory. Files are generated in
``tmp_path`` and stay small on disk where the format allows (Parquet's run-length encoding
packs 150 million rows into 400 KB).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleanpath.errors import ValidationError
from cleanpath.io.guard import MAX_LINE_BYTES, json_tree_estimate, open_regular, read_input
from cleanpath.io.tables import read_tables

#: The budget the issue sets for every bomb.
MEMORY_BUDGET = 1 << 30

_WRAPPER = textwrap.dedent("""
    import atexit, resource, sys
    atexit.register(lambda: sys.stderr.write(
        "\\nPEAK_RSS_KB=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    from cleanpath.cli.main import main
    sys.argv = ["cleanpath"] + sys.argv[1:]
    main()
""")


def _limit_memory() -> None:
    # Safety net only (the assertion is on the measured peak): a regression dies here instead
    # of swapping the machine. Virtual size runs well above the resident set (thread arenas).
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_cli(tmp_path: Path, *args: str, timeout: float = 120) -> tuple[int, str, int]:
    """Run the CLI in a child; returns (exit code, stderr without the probe, peak RSS in bytes)."""
    wrapper = tmp_path / "_peak_wrapper.py"
    wrapper.write_text(_WRAPPER)
    p = subprocess.run([sys.executable, str(wrapper), "-w", str(tmp_path / "ws.duckdb"), *args],
                       capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory)
    m = re.search(r"PEAK_RSS_KB=(\d+)", p.stderr)
    assert m, p.stderr[-2000:]
    return p.returncode, p.stderr[:m.start()], int(m.group(1)) * 1024


def assert_clean_refusal(code: int, err: str, *needles: str) -> None:
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    for n in needles:
        assert n in err, (n, err[-2000:])


# -- Parquet ------------------------------------------------------------------------------------


def _rle_parquet(path: Path, rows: int, value: str = "x") -> Path:
    """A Parquet file of ``rows`` copies of one string: dictionary + RLE keep it tiny on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    idx = pa.array(np.zeros(rows, dtype=np.int32))
    col = pa.DictionaryArray.from_arrays(idx, pa.array([value]))
    pq.write_table(pa.table({"site_id": col}), path, compression="zstd", row_group_size=1 << 26)
    return path


def test_parquet_of_150_million_rows_is_refused_from_its_metadata(tmp_path):
    f = _rle_parquet(tmp_path / "in" / "sites.parquet", 150_000_000)
    assert f.stat().st_size < 600_000  # the 390 KB file
    code, err, peak = run_cli(tmp_path, "import", "tables", str(f))
    assert_clean_refusal(code, err, str(f), "150,000,000 rows", "decompression bomb")
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_parquet_whose_few_values_are_long_is_stopped_while_decoding(tmp_path):
    # 2 million rows of one 1000-character string: the metadata's lower bound (4 bytes a row)
    # passes, the decoded size (2 GB) does not; the batch-wise count must stop it.
    f = _rle_parquet(tmp_path / "in" / "sites.parquet", 2_000_000, "y" * 1000)
    assert f.stat().st_size < 1_000_000
    code, err, peak = run_cli(tmp_path, "import", "tables", str(f))
    assert_clean_refusal(code, err, str(f), "decodes to more than", "decompression bomb")
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_parquet_refusal_in_process_names_the_limit(tmp_path):
    f = _rle_parquet(tmp_path / "sites.parquet", 5_000_000)
    with pytest.raises(ValidationError) as e:
        read_tables([f])
    p = e.value.problems[0]
    assert p.file == str(f)
    assert "5,000,000 rows" in p.reason and "CLEANPATH_MAX_RATIO" in p.reason


def test_ordinary_parquet_with_repeated_values_still_reads(tmp_path):
    # Real inventories repeat vendors and roles a lot; 20,000 rows with three distinct vendors
    # compress well but nowhere near a bomb's ratio.
    n = 20_000
    vendor = pa.DictionaryArray.from_arrays(pa.array(np.arange(n, dtype=np.int32) % 3),
                                            pa.array(["huawei", "ericsson", "nokia"]))
    tbl = pa.table({"element_id": pa.array([f"e{i:06d}" for i in range(n)]), "vendor": vendor})
    pq.write_table(tbl, tmp_path / "elements.parquet", compression="zstd")
    raw, _ = read_tables([tmp_path / "elements.parquet"])
    df = raw["elements"]
    assert len(df) == n
    assert df["vendor"].iloc[:4].tolist() == ["huawei", "ericsson", "nokia", "huawei"]
    assert str(df["vendor"].dtype).startswith("string")  # decoded, not dictionary


# -- CSV -----------------------------------------------------------------------------------------


def test_200_megabyte_csv_without_newline(tmp_path):
    f = tmp_path / "in" / "sites.csv"
    f.parent.mkdir()
    chunk = b"x" * (1 << 20)
    with f.open("wb") as out:
        for _ in range(200):
            out.write(chunk)
    code, err, peak = run_cli(tmp_path, "import", "tables", str(f))
    assert_clean_refusal(code, err, f"{f}:1", "209,715,200 bytes long",
                         f"{MAX_LINE_BYTES:,}-byte limit")
    # The bytes themselves (200 MiB) plus the interpreter; no decoded copies of the line.
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_long_first_line_found_without_scanning_the_rest(tmp_path):
    # A NUL after the first megabyte is not reached: the first line alone decides.
    f = tmp_path / "sites.csv"
    f.write_bytes(b"a" * (MAX_LINE_BYTES + 10) + b"\x00\n")
    with pytest.raises(ValidationError) as e:
        read_tables([f])
    p = e.value.problems[0]
    assert (p.file, p.line) == (str(f), 1)
    assert p.reason.startswith(f"line is {MAX_LINE_BYTES + 11:,} bytes long")  # NUL included


def test_binary_first_line_is_called_binary(tmp_path):
    f = tmp_path / "sites.csv"
    f.write_bytes(b"site_id\x00" + b"z" * (MAX_LINE_BYTES + 10))
    with pytest.raises(ValidationError) as e:
        read_tables([f])
    assert "binary data" in e.value.problems[0].reason


# -- only regular files --------------------------------------------------------------------------

#: A file name each importer reads, so the special file is taken for real input.
_NAMES = {"tables": "sites.csv", "opencellid": "cells.csv", "cyclonedx": "bom.json",
          "topologyzoo": "net.gml", "sensitive": "sites.csv"}

_SPECIAL_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from cleanpath.errors import ValidationError
    from cleanpath.io.registry import importer
    base = Path(sys.argv[1])
    names = json.loads(sys.argv[2])
    out = {}
    for fmt, name in names.items():
        for kind in ("fifo", "zero", "dangling", "dir"):
            d = base / fmt / kind
            d.mkdir(parents=True)
            p = d / name
            if kind == "fifo":
                os.mkfifo(p)
            elif kind == "zero":
                p.symlink_to("/dev/zero")
            elif kind == "dangling":
                p.symlink_to(d / "missing.csv")
            else:
                p.mkdir()
            for target in ((p, d) if kind != "dir" else (p,)):
                try:
                    importer(fmt)([target])
                    out[f"{fmt}/{kind}/{target.name}"] = "accepted"
                except ValidationError as e:
                    out[f"{fmt}/{kind}/{target.name}"] = [[q.file, q.reason] for q in e.problems]
    print(json.dumps(out))
""")


def test_special_files_are_refused_by_name_by_every_importer(tmp_path):
    """FIFOs, devices (through a symlink), dangling links and directories named as files."""
    script = tmp_path / "special.py"
    script.write_text(_SPECIAL_SCRIPT)
    # A FIFO opened for reading blocks until a writer comes: a regression hangs, so bound it.
    p = subprocess.run([sys.executable, str(script), str(tmp_path / "cases"), json.dumps(_NAMES)],
                       capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory)
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(p.stdout)
    expect = {"fifo": "named pipe (FIFO)", "zero": "is a device", "dangling": "dangling symbolic link"}
    for fmt, name in _NAMES.items():
        for kind, words in expect.items():
            # Named directly, and found in a directory (CycloneDX takes files only).
            for target in (name,) if fmt == "cyclonedx" else (name, kind):
                problems = got[f"{fmt}/{kind}/{target}"]
                assert problems != "accepted", (fmt, kind, target)
                file = str(tmp_path / "cases" / fmt / kind / name)
                assert [file, problems[0][1]] == problems[0] and words in problems[0][1], \
                    (fmt, kind, target, problems)
        # A directory where a file was named: refused with a clear problem, never a traceback.
        assert got[f"{fmt}/dir/{name}"] != "accepted", fmt


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="named pipe"):
        open_regular(fifo)
    link = tmp_path / "link.csv"
    link.symlink_to(fifo)
    with pytest.raises(ValidationError, match="named pipe"):
        read_input(link)


def test_symlink_to_a_regular_file_is_followed(tmp_path):
    real = tmp_path / "real.csv"
    real.write_bytes(b"a,b\n1,2\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert read_input(link).data == b"a,b\n1,2\n"


_DROP_DAC = ["--bounding-set=-dac_override,-dac_read_search",
             "--inh-caps=-dac_override,-dac_read_search"]


def test_unreadable_file_is_a_clean_error(tmp_path):
    """Permission denied names the file; no traceback.

    Root reads any file whatever its mode (the DAC-override capabilities), so as root the child
    runs under ``setpriv`` with those two capabilities dropped; as an ordinary user ``chmod
    000`` is enough. Without setpriv, as root, the case cannot be made and is skipped (the
    directory-as-file and dangling-link cases above still run).
    """
    f = tmp_path / "sites.csv"
    f.write_text("site_id\nS1\n")
    f.chmod(0o000)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: root reads a chmod-000 file")
        prefix = [setpriv, *_DROP_DAC]
    code = ("from cleanpath.errors import ValidationError\n"
            "from cleanpath.io.tables import read_tables\n"
            "try:\n    read_tables([%r])\n"
            "except ValidationError as e:\n    print(e.problems[0].file, '|', e.problems[0].reason)\n"
            % str(f))
    try:
        p = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=60, preexec_fn=_limit_memory)
    finally:
        f.chmod(0o600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == f"{f} | permission denied: this user may not read the file " \
                               "(check its permissions and those of its directories)"


# -- parsed trees (JSON, GML) and blank-line floods --------------------------------------------


def test_json_bom_of_empty_objects_is_refused_before_parsing(tmp_path):
    # 60 MB of "{}," parses to ~1.5 GB of dicts; its estimate refuses it before json.loads.
    f = tmp_path / "bom.json"
    with f.open("wb") as out:
        out.write(b'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[')
        chunk = b"{}," * (1 << 20)
        for _ in range(20):
            out.write(chunk)
        out.write(b"{}]}")
    code, err, peak = run_cli(tmp_path, "import", "cyclonedx", str(f))
    assert_clean_refusal(code, err, str(f), "once parsed", "CLEANPATH_MAX_TREE_BYTES")
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_gml_of_millions_of_tokens_is_refused_before_parsing(tmp_path):
    # ~5 M tokens (about 35 MB): parsed into located attributes it would take well over 1 GB.
    f = tmp_path / "net.gml"
    node = "".join(f"  node [\n    id {i}\n    label \"n{i}\"\n  ]\n" for i in range(1000)).encode()
    with f.open("wb") as out:
        out.write(b"graph [\n")
        for _ in range(800):
            out.write(node)
        out.write(b"]\n")
    code, err, peak = run_cli(tmp_path, "import", "topologyzoo", str(f))
    assert_clean_refusal(code, err, str(f), "GML of", "once parsed")
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_geojson_refused_by_its_tree_estimate(tmp_path, monkeypatch):
    from cleanpath.io import guard
    from cleanpath.io.registry import importer

    f = tmp_path / "sites.geojson"
    f.write_text('{"type":"FeatureCollection","features":[' + ",".join(["{}"] * 5000) + "]}")
    est = guard.json_tree_estimate(f.read_bytes())
    # The estimate is an upper bound of what json.loads builds: 5,000 dicts of 64 bytes at least.
    assert est >= 5000 * 64
    monkeypatch.setattr(guard, "MAX_TREE_BYTES", est - 1)
    with pytest.raises(ValidationError, match="GeoJSON of .* once parsed") as e:
        importer("sensitive")([f])
    assert e.value.problems[0].file == str(f)


def test_tree_estimates_are_upper_bounds_of_real_parses():
    """Independent oracle: tracemalloc's count of what json.loads really allocates."""
    import tracemalloc

    docs = [b"[" + b",".join([b"{}"] * 20000) + b"]",
            b"[" + b",".join([b'{"a":"xx","b":1.5}'] * 20000) + b"]",
            b'{"components":[' + b",".join(b'{"type":"device","name":"ran-%d","properties":'
                                            b'[{"name":"cleanpath:role","value":"ran.bbu"}]}' % i
                                            for i in range(5000)) + b"]}"]
    for doc in docs:
        tracemalloc.start()
        obj = json.loads(doc)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del obj
        assert json_tree_estimate(doc) >= peak, (doc[:40], json_tree_estimate(doc), peak)


def test_opencellid_leading_blank_lines_are_skipped(tmp_path):
    from cleanpath.io.registry import importer

    src = Path(__file__).resolve().parents[1] / "data" / "opencellid" / "cells_de.csv"
    f = tmp_path / "cells.csv"
    f.write_bytes(b"\n" * 1_000_000 + b" \r\n" + src.read_bytes())
    got = importer("opencellid")([f])
    want = importer("opencellid")([src])
    assert len(got.tables["elements"]) == len(want.tables["elements"]) > 0


def test_csv_of_twenty_million_tiny_rows_is_refused_by_its_line_count(tmp_path):
    # 40 MB (200 KB gzipped) of one-letter rows took 2.4 GB before the row limit.
    f = tmp_path / "in" / "sites.csv"
    f.parent.mkdir()
    f.write_bytes(b"site_id\n" + b"a\n" * 20_000_000)
    code, err, peak = run_cli(tmp_path, "import", "tables", str(f))
    assert_clean_refusal(code, err, str(f), "20,000,000 lines after the header", "CLEANPATH_MAX_ROWS")
    assert peak < MEMORY_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"


def test_row_limit_counts_parquet_metadata_and_csv_lines(tmp_path, monkeypatch):
    from cleanpath.io import guard

    monkeypatch.setattr(guard, "MAX_ROWS", 1000)
    pq.write_table(pa.table({"site_id": [f"s{i}" for i in range(1001)]}), tmp_path / "sites.parquet")
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "sites.csv").write_text("site_id\n" + "".join(f"s{i}\n" for i in range(1001)))
    for path, how in ((tmp_path / "sites.parquet", "1,001 rows declared in its metadata"),
                      (tmp_path / "csv" / "sites.csv", "1,001 lines after the header")):
        with pytest.raises(ValidationError) as e:
            read_tables([path])
        assert e.value.problems[0].file == str(path) and how in e.value.problems[0].reason
    # At the limit: read.
    (tmp_path / "csv" / "sites.csv").write_text("site_id\n" + "".join(f"s{i}\n" for i in range(1000)))
    raw, _ = read_tables([tmp_path / "csv" / "sites.csv"])
    assert len(raw["sites"]) == 1000
