"""Progress on a non-terminal stderr: plain timestamped lines, only for commands that run long.

The commands run as real subprocesses with stderr a pipe (not a terminal), as in CI or a log.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from cleanpath.cli.output import _Lines

LINE = re.compile(r"^\[(\d+\.\d)s\] (.+)$")
EXE = str(Path(sys.executable).parent / "cleanpath")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_slow_command_prints_lines_on_stderr_and_pure_json_on_stdout(tmp_path):
    # generate takes several seconds even at 5 %; the threshold is lowered only so that a fast
    # machine still crosses it (the default 2 s is tested below and in _Lines' own test).
    out = _run(["-w", str(tmp_path / "ws.duckdb"), "generate", "-c", "DE", "--scale", "0.05",
                "--format", "json"], CLEANPATH_PROGRESS_AFTER="0.5")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # stdout is exactly one JSON object, nothing else
    assert doc["question"] == "generate"
    lines = [ln for ln in out.stderr.splitlines() if LINE.match(ln)]
    assert lines, out.stderr
    times = [float(LINE.match(ln).group(1)) for ln in lines]
    assert times == sorted(times) and times[0] >= 0.5
    texts = [LINE.match(ln).group(2) for ln in lines]
    assert all(t.startswith("generating DE") for t in texts)
    assert texts[-1] == "generating DE: done"
    assert len(texts) == len(set(texts))  # at most one line per step
    assert "\x1b[" not in out.stderr  # no terminal control codes in a log


def test_quick_command_stays_silent(tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("name,country,lat,lon\nRamstein,DE,49.44,7.60\n")
    out = _run(["-w", str(tmp_path / "ws.duckdb"), "import", "sensitive", str(csv), "--format", "json"])
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)
    assert not [ln for ln in out.stderr.splitlines() if LINE.match(ln)], out.stderr


def test_lines_threshold_gap_and_one_line_per_step():
    buf = io.StringIO()
    with _Lines("job", buf, after=0.3) as lines:
        lines.step("a")          # before the threshold: not written now
        time.sleep(0.6)          # the ticker writes the step still running once past it
        lines.step("b")          # within the gap after "a": held back, written by the ticker
        time.sleep(1.3)
        lines.step("b")          # the same step again: no second line
        time.sleep(0.3)
    got = [LINE.match(ln).groups() for ln in buf.getvalue().splitlines()]
    assert [t for _, t in got] == ["job: a", "job: b", "job: done"]
    assert float(got[0][0]) >= 0.3
    assert float(got[1][0]) - float(got[0][0]) >= 0.9


def test_lines_silent_when_done_before_threshold():
    buf = io.StringIO()
    with _Lines("job", buf, after=2.0) as lines:
        lines.step("a")
        lines.step("b")
    assert buf.getvalue() == ""


def test_in_process_capture_gets_no_lines(tmp_path, monkeypatch):
    # click's test runner (and any embedding application) reads stderr as text: no log lines there
    from click.testing import CliRunner

    from cleanpath.cli.main import cli

    monkeypatch.setenv("CLEANPATH_PROGRESS_AFTER", "0")
    csv = tmp_path / "s.csv"
    csv.write_text("name,country,lat,lon\nRamstein,DE,49.44,7.60\n")
    out = CliRunner().invoke(cli, ["-w", str(tmp_path / "ws.duckdb"), "import", "sensitive", str(csv),
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    json.loads(out.output)
