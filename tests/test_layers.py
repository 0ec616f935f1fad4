"""The layers of docs/architecture.md, enforced: import-linter fails on any upward import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_point_downward():
    proc = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                                                 "lint_imports_command()"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "1 kept, 0 broken" in proc.stdout


def test_every_module_belongs_to_a_layer():
    config = (ROOT / ".importlinter").read_text(encoding="utf-8")
    listed = set(re.findall(r"cleanpath\.([a-z_]+)", config.split("layers =", 1)[1]))
    pkg = ROOT / "src" / "cleanpath"
    modules = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in pkg.glob("*/__init__.py") if p.parent.name != "data"}
    assert modules - listed == set(), "modules in no layer of .importlinter"


def test_architecture_doc_lists_the_enforced_layers_in_order():
    config = (ROOT / ".importlinter").read_text(encoding="utf-8")
    block = config.split("layers =", 1)[1]
    layers = [line.strip() for line in block.splitlines() if line.strip().startswith("cleanpath")]
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    positions = []
    for layer in layers:
        first = layer.split("|")[0].strip()
        m = re.search(rf"`{re.escape(first)}`", doc)
        assert m, f"docs/architecture.md does not name the layer {first}"
        positions.append(m.start())
    assert positions == sorted(positions), "docs/architecture.md lists the layers in another order"


def test_tests_mirror_the_package():
    """tests/ has one folder per folder of src/cleanpath/ (and only those), so a module's tests are
    where its path says."""
    pkg = ROOT / "src" / "cleanpath"
    src_folders = {p.parent.name for p in pkg.glob("*/__init__.py")} - {"data"}
    test_folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("data", "__pycache__")}
    assert test_folders <= src_folders, f"tests/ folders with no package: {sorted(test_folders - src_folders)}"
    loose = sorted(p.name for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_layers.py")
    assert loose == [], f"test modules outside a mirrored folder: {loose}"
