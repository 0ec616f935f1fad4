"""The interchange format round-trips: export then import gives back exactly the same network.

The property test builds random valid networks (every table, every dtype, nulls, unicode, dates at
the ends of the calendar, the strings Arrow would take for nulls...), validates them once (that
is the network a user has), writes them as CSV and Parquet, into a directory and a zip, reads them
back and compares every table exactly.
"""

from __future__ import annotations

import json

import datetime as dt
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import cleanpath
from cleanpath.errors import ValidationError
from cleanpath.io.tables import read_tables, write_tables
from cleanpath.model.schema import GENERATIONS, LINK_KINDS, ROLES, SENSITIVE_KINDS, SITE_KINDS, TABLES

# Strings a CSV reader is tempted to read as something else, or that need quoting.
TRICKY = ["NA", "N/A", "null", "NULL", "NaN", "nan", "#N/A", "None", "true", "0", "1e5", "-",
          '"quoted"', 'say "hi"', "a,b", "line\nbreak", "two\n\nblank lines", "tab\there",
          "Île-de-France", "華為", "Zürich Süd", "'single'", "=SUM(A1)", "x" * 300]

ident = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.éß華",
                min_size=1, max_size=12)
# NUL is left out: a text file cannot carry it, and the reader refuses it as binary data.
text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40)
free_text = st.one_of(text, st.sampled_from(TRICKY))
name = st.one_of(free_text.map(lambda s: "N" + s), st.sampled_from(TRICKY))
country = st.from_regex(r"[A-Z]{2}", fullmatch=True)
dates = st.dates()  # 0001-01-01 .. 9999-12-31
# geometry is GeoJSON, validated at import: boxes, some across the antimeridian, spaced oddly
geometry = st.builds(
    lambda x, y, w, h, sp: json.dumps({"type": "Polygon", "coordinates": [[
        [x, y], [(x + w + 180) % 360 - 180, y], [(x + w + 180) % 360 - 180, y + h], [x, y + h], [x, y]]]},
        separators=(",", ":") if sp else (", ", ": ")),
    st.floats(-180, 179), st.floats(-89, 88), st.floats(0.01, 2), st.floats(0.01, 1), st.booleans())


def nullable(s):
    return st.one_of(st.none(), s)


def floats(lo=None, hi=None):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def ints(lo=0, hi=2**63 - 1):
    return st.integers(min_value=lo, max_value=hi)


def rows(draw, n_max, make):
    return [make(i) for i in range(draw(st.integers(0, n_max)))]


@st.composite
def networks(draw) -> dict[str, pd.DataFrame]:
    """A random valid network as raw Python values (None for null)."""
    op_ids = draw(st.lists(ident, min_size=0, max_size=3, unique=True))
    operators = [dict(operator_id=o, name=draw(name), country=draw(country), mcc=draw(nullable(ints(1, 999))),
                      mnc=draw(nullable(ints(0, 999))), subscribers=draw(nullable(ints())))
                 for o in op_ids]
    site_ids = draw(st.lists(ident, max_size=6, unique=True)) if op_ids else []
    sites = [dict(site_id=s, operator_id=draw(st.sampled_from(op_ids)), kind=draw(st.sampled_from(SITE_KINDS)),
                  lat=draw(nullable(floats(-90, 90))), lon=draw(nullable(floats(-180, 180))),
                  region=draw(nullable(free_text)), subscribers=draw(nullable(ints())))
             for s in site_ids]
    el_ids = draw(st.lists(ident, max_size=8, unique=True)) if site_ids else []
    vendor = st.one_of(st.sampled_from(["huawei", "ZTE Corp", "Ericsson AB", "Cisco Systems, Inc."]), name)
    elements = [dict(element_id=e, site_id=draw(st.sampled_from(site_ids)), role=draw(st.sampled_from(ROLES)),
                     vendor=draw(vendor), model=draw(nullable(free_text)),
                     generation=draw(nullable(st.sampled_from(GENERATIONS))),
                     installed_on=draw(nullable(dates)), in_service=draw(nullable(st.booleans())),
                     unit_cost=draw(nullable(floats(0))), funded_by=draw(nullable(free_text)))
                for e in el_ids]
    links = [dict(a=draw(st.sampled_from(el_ids)), b=draw(st.sampled_from(el_ids)),
                  kind=draw(st.sampled_from(LINK_KINDS)), capacity_gbps=draw(nullable(floats(0))))
             for _ in range(draw(st.integers(0, 6)) if el_ids else 0)]
    sensitive = [dict(sensitive_id=s, name=draw(name), kind=draw(st.sampled_from(SENSITIVE_KINDS)),
                      country=draw(nullable(country)), lat=draw(floats(-90, 90)), lon=draw(floats(-180, 180)),
                      radius_m=draw(nullable(floats(0))), weight=draw(nullable(floats(0))),
                      geometry=draw(nullable(geometry)), source=draw(nullable(free_text)))
                 for s in draw(st.lists(ident, max_size=3, unique=True))]
    demands = [dict(a_site=draw(st.sampled_from(site_ids)),
                    b_site=draw(st.sampled_from([*site_ids, "gateway"])), volume=draw(floats(0)))
               for _ in range(draw(st.integers(0, 4)) if site_ids else 0)]
    vendors = [dict(vendor_id=f"vx{i}", name=draw(name),
                    aliases=draw(nullable(st.lists(ident, min_size=1, max_size=3).map("|".join))),
                    hq_country=draw(nullable(country)), parent=draw(nullable(ident)))
               for i in range(draw(st.integers(0, 2)))]
    raw = {"operators": operators, "sites": sites, "elements": elements, "links": links,
           "sensitive_sites": sensitive, "demands": demands, "vendors": vendors}
    # Object columns built directly: going through from_records would send whole numbers with a
    # missing value through float64 and lose the low bits of large ones.
    return {t: pd.DataFrame({c: pd.Series([row.get(c) for row in r], dtype=object)
                             for c in TABLES[t].column_names})
            for t, r in raw.items()}


def round_trip(tables: dict[str, pd.DataFrame], out: Path, fmt: str) -> dict[str, pd.DataFrame]:
    write_tables(tables, out, fmt=fmt)
    raw, sources = read_tables([out])
    return cleanpath.validate_tables(raw, sources=sources)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_export_then_import_is_the_identity(raw):
    original = cleanpath.validate_tables(raw)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "parquet"):
            for out in (Path(tmp) / f"dir-{fmt}", Path(tmp) / f"net-{fmt}.zip"):
                back = round_trip(original, out, fmt)
                assert list(back) == list(original)
                for t in original:
                    pd.testing.assert_frame_equal(back[t], original[t], check_exact=True,
                                                  obj=f"{fmt} {out.name} {t}")


def test_round_trip_keeps_values_a_csv_reader_would_mangle(tmp_path):
    # A fixed example of the nastiest cases, so they are always tried, not just when drawn.
    raw = {
        "operators": pd.DataFrame({"operator_id": ["NA"], "name": ["null"], "country": ["NA"]}),
        "sites": pd.DataFrame({"site_id": ["nan", "S,1"], "operator_id": ["NA", "NA"], "kind": ["cell", "hub"],
                               "lat": [-0.0, 5e-324], "lon": [179.99999999999997, -180.0],
                               "region": ['"quoted"\nline two', "Île-de-France"]}),
        "elements": pd.DataFrame({"element_id": ["e1"], "site_id": ["S,1"], "role": ["ran.radio"],
                                  "vendor": ["HUAWEI TECHNOLOGIES CO., LTD."],
                                  "installed_on": [dt.date(1, 1, 1)], "unit_cost": [0.1 + 0.2]}),
    }
    original = cleanpath.validate_tables(raw)
    assert original["elements"]["vendor"].tolist() == ["huawei"]
    for fmt in ("csv", "parquet"):
        back = round_trip(original, tmp_path / fmt, fmt)
        for t in original:
            pd.testing.assert_frame_equal(back[t], original[t], check_exact=True)


def test_integers_beyond_2_53_survive_validation():
    # Integers must not pass through float64 on the way in (2**53 + 1 would become 2**53).
    big = [2**53 + 1, 2**63 - 1]
    raw = {"operators": pd.DataFrame({"operator_id": ["a", "b"], "name": ["A", "B"], "country": ["DE", "DE"],
                                      "subscribers": [str(v) for v in big]})}
    assert cleanpath.validate_tables(raw)["operators"]["subscribers"].tolist() == big


# -- line numbers after quoted fields --------------------------------------------------------------

def bad_after_quoted(newline: str) -> str:
    lines = [
        "site_id,operator_id,kind,lat,lon,region",                    # 1
        'S1,op,cell,50.1,8.6,"Rhein-Main,',                           # 2  a quoted field over
        "Frankfurt, Hessen",                                          # 3  three lines, with
        '""Innenstadt"""',                                            # 4  commas and quotes
        "",                                                           # 5  blank line: skipped
        "S2,op,hub,50.2,8.7,plain",                                   # 6
        'S3,op,cell,50.3,8.8,"two',                                   # 7
        "",                                                           # 8  blank line inside quotes
        'lines"',                                                     # 9
        "S4,op,cell,north,8.9,after the quoted fields",               # 10 <- the bad value
        'S5,op,cell,50.5,8.9,"x"',                                    # 11
        "S6,op,celll,50.6,9.0,last",                                  # 12 <- another
    ]
    return newline.join(lines) + newline


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_line_numbers_after_quoted_newlines_and_commas(tmp_path, newline, bom):
    d = tmp_path / "in"
    d.mkdir()
    (d / "operators.csv").write_text("operator_id,name,country\nop,Op,DE\n", encoding="utf-8")
    (d / "sites.csv").write_bytes((bom + bad_after_quoted(newline)).encode("utf-8"))
    raw, sources = read_tables([d])
    assert raw["sites"]["region"][0] == 'Rhein-Main,\nFrankfurt, Hessen\n"Innenstadt"'.replace("\n", newline)
    with pytest.raises(ValidationError) as ei:
        cleanpath.validate_tables(raw, sources=sources)
    got = sorted((Path(p.file).name, p.line, p.column, p.value) for p in ei.value.problems)
    assert got == [("sites.csv", 10, "lat", "north"), ("sites.csv", 12, "kind", "celll")]


def test_line_numbers_of_ragged_rows_after_quoted_newlines(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    text = bad_after_quoted("\n").replace("S4,op,cell,north,8.9,after the quoted fields", "S4,op,cell")
    (d / "sites.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as ei:
        read_tables([d])
    (p,) = ei.value.problems
    assert (p.line, p.column, p.value) == (10, "lat", "S4,op,cell")


def test_csv_line_numbers_match_a_reference_parser(tmp_path):
    # Independent oracle: Python's csv module reports the physical line each record ends on.
    import csv
    import io

    rng = np.random.default_rng(7)
    recs = []
    for i in range(400):
        region = rng.choice(["plain", "with, comma", 'say ""hi""', "multi\nline", "three\nline\nvalue"])
        lat = "bad" if i % 37 == 5 else f"{rng.uniform(-90, 90):.5f}"
        recs.append((f"S{i}", lat, region))
    text = "site_id,operator_id,kind,lat,region\n" + "".join(
        f'{s},op,cell,{lat},"{r}"\n' if any(c in r for c in ',\n"') else f"{s},op,cell,{lat},{r}\n"
        for s, lat, r in recs)
    d = tmp_path / "in"
    d.mkdir()
    (d / "operators.csv").write_text("operator_id,name,country\nop,Op,DE\n")
    (d / "sites.csv").write_text(text)
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, prev = {}, 1
    for row in reader:
        starts[row[0]] = prev
        prev = reader.line_num + 1
    expected = [starts[s] for s, lat, _ in recs if lat == "bad"]
    raw, sources = read_tables([d])
    with pytest.raises(ValidationError) as ei:
        cleanpath.validate_tables(raw, sources=sources)
    assert [p.line for p in ei.value.problems] == expected and len(expected) == 11
