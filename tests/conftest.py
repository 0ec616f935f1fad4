"""Shared fixtures: paths to real data in ../shared/data and small hand-built networks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The browser tests' fixtures (``browser``, ``page``) live with the other shared helpers.
pytest_plugins = ["oracles"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CLEANPATH_SHARED_DATA", ROOT.parent / "shared" / "data"))
TOPOLOGYZOO = SHARED_DATA / "topologyzoo"
INSTALLATIONS = SHARED_DATA / "sensitive" / "us_military_installations.csv"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"shared data not found at {SHARED_DATA}; set CLEANPATH_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path):
    import cleanpath

    ws = cleanpath.open_workspace(tmp_path / "ws.duckdb")
    yield ws
    ws.close()
