"""The CycloneDX 1.5/1.6 importer, on hand-written BOMs in tests/data/cyclonedx.

Expected values are read off the fixtures by eye (and line numbers by searching the text), not
computed by the code under test.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.errors import ValidationError
from cleanpath.io.cyclonedx import import_cyclonedx
from cleanpath.io.registry import importer

DATA = Path(__file__).resolve().parents[1] / "data" / "cyclonedx"
OPERATOR = DATA / "operator_1_6.json"
REGIONAL = DATA / "regional_1_5.json"


def line_of(path: Path, needle: str, *, offset: int = 0) -> int:
    """1-based line of the first line containing ``needle`` (plus ``offset``): the test's oracle."""
    for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return i + offset
    raise AssertionError(f"{needle!r} not in {path}")


def component_line(path: Path, ref: str) -> int:
    """Line of the "{" that opens the component with bom-ref ``ref``: the nearest one above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = line_of(path, f'"bom-ref": "{ref}"')
    return next(i for i in range(at, 0, -1) if lines[i - 1].lstrip().startswith("{"))


def problems(paths, **options):
    with pytest.raises(ValidationError) as ei:
        got = import_cyclonedx(paths if isinstance(paths, list) else [paths], **options)
        cleanpath.validate_tables(got.tables, sources=got.sources)
    return ei.value.problems


def write_bom(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def bom(*components, dependencies=None, meta=None, version="1.6") -> dict:
    doc = {"bomFormat": "CycloneDX", "specVersion": version, "version": 1,
           "metadata": meta if meta is not None else {
               "manufacturer": {"name": "Testnetz GmbH"},
               "properties": [{"name": "cleanpath:country", "value": "DE"}]},
           "components": list(components)}
    if dependencies is not None:
        doc["dependencies"] = dependencies
    return doc


def device(ref, role="ran.radio", vendor="Ericsson", site="S1", **props) -> dict:
    p = [] if role is None else [{"name": "cleanpath:role", "value": role}]
    if site:
        p.append({"name": "cleanpath:site", "value": site})
    p += [{"name": f"cleanpath:{k.replace('__', ':')}", "value": v} for k, v in props.items()]
    return {"type": "device", "bom-ref": ref, "manufacturer": {"name": vendor}, "name": f"model-{ref}",
            "properties": p}


# -- a realistic operator BOM ----------------------------------------------------------------------

def test_registered_as_cyclonedx():
    assert importer("cyclonedx") is import_cyclonedx


@pytest.fixture(scope="module")
def operator_tables():
    got = import_cyclonedx([OPERATOR])
    return got, cleanpath.validate_tables(got.tables, sources=got.sources)


def test_elements_with_messy_vendor_spellings_resolved(operator_tables):
    _, t = operator_tables
    el = t["elements"].set_index("element_id")
    assert dict(el["vendor"]) == {
        "rru-fra0417-s1": "huawei",      # HUAWEI TECHNOLOGIES CO., LTD. (manufacturer beats supplier)
        "aau-fra0417-n78": "huawei",     # Huawei Technologies Co., Ltd.
        "bbu-fra0417": "huawei",         # HUAWEI
        "csr-fra0417": "cisco",          # Cisco Systems, Inc.
        "agg-fra02": "ericsson",         # supplier only: Telefonaktiebolaget LM Ericsson
        "core-rtr-dc1": "cisco",
        "upf-dc1": "ericsson",           # an application, but it has a role
        "mme-dc1": "ericsson",
        "ems-u2020": "huawei",
    }
    assert el.loc["aau-fra0417-n78", "generation"] == "5G-NSA"
    assert el.loc["rru-fra0417-s1", "model"] == "AAU5613"
    assert el.loc["rru-fra0417-s1", "installed_on"].isoformat() == "2019-05-22"
    assert el.loc["bbu-fra0417", "unit_cost"] == 26000.0
    assert el.loc["ems-u2020", "funded_by"] == "own capex"
    assert el.loc["csr-fra0417", "generation"] == "none"  # the schema default
    assert bool(el.loc["agg-fra02", "in_service"]) is True
    assert dict(el["role"].value_counts()) == {"transport.router": 3, "ran.radio": 2, "ran.baseband": 1,
                                               "core.upf": 1, "core.mme": 1, "mgmt.ems": 1}


def test_sites_and_operator(operator_tables):
    _, t = operator_tables
    sites = t["sites"].set_index("site_id")
    assert list(sites.index) == ["FRA-0417", "FRA-AGG-02", "FRA-DC1"]
    assert list(sites["kind"]) == ["cell", "aggregation", "core_dc"]
    assert sites.loc["FRA-0417", ["lat", "lon"]].tolist() == [50.1143, 8.6794]
    assert sites.loc["FRA-DC1", "region"] is pd.NA or pd.isna(sites.loc["FRA-DC1", "region"])
    assert set(sites["operator_id"]) == {"rheinmain-funk-gmbh"}
    ops = t["operators"]
    assert ops[["operator_id", "name", "country"]].values.tolist() == [
        ["rheinmain-funk-gmbh", "Rheinmain Funk GmbH", "DE"]]


def test_dependencies_become_typed_links(operator_tables):
    _, t = operator_tables
    got = sorted(map(tuple, t["links"][["a", "b", "kind"]].astype(str).values.tolist()))
    assert got == sorted([
        ("rru-fra0417-s1", "bbu-fra0417", "transport"),
        ("aau-fra0417-n78", "bbu-fra0417", "transport"),
        ("aau-fra0417-n78", "bbu-fra0417", "anchor"),
        ("bbu-fra0417", "csr-fra0417", "transport"),
        ("bbu-fra0417", "ems-u2020", "management"),
        ("bbu-fra0417", "mme-dc1", "control"),
        ("csr-fra0417", "agg-fra02", "transport"),
        ("agg-fra02", "core-rtr-dc1", "transport"),
        ("upf-dc1", "core-rtr-dc1", "transport"),
        ("mme-dc1", "core-rtr-dc1", "transport"),
    ])  # not: the firmware, the BOM's subject, nor ems -> core (no link kind)


def test_warnings_count_what_was_left_out(operator_tables):
    got, _ = operator_tables
    assert got.warnings == [
        f"{OPERATOR}: 2 component(s) without cleanpath:role that are not devices (firmware, "
        "software...) ignored",
        f"{OPERATOR}: 2 device(s) nested in an element without cleanpath properties treated as its parts",
        f"{OPERATOR}: 1 dependsOn entry between elements without a cleanpath:link_kind are not links",
    ]


def test_rows_point_at_their_lines_in_the_file(operator_tables):
    got, _ = operator_tables
    el = got.tables["elements"]["element_id"].tolist()
    lines = got.sources["elements"].line_of(np.arange(len(el)))
    # Each component object opens with "{" on the line before its bom-ref.
    assert lines.tolist() == [component_line(OPERATOR, e) for e in el]
    links = got.tables["links"]
    link_lines = got.sources["links"].line_of(np.arange(len(links)))
    assert link_lines.tolist() == [line_of(OPERATOR, f'{{"ref": "{a}"') for a in links["a"]]
    assert got.sources["sites"].line_of(np.arange(3)).tolist() == [
        component_line(OPERATOR, e) for e in ("rru-fra0417-s1", "agg-fra02", "core-rtr-dc1")]


def test_minified_and_gzipped_bom_gives_the_same_tables(tmp_path, operator_tables):
    got, _ = operator_tables
    doc = json.loads(OPERATOR.read_text())
    packed = tmp_path / "bom.json.gz"
    packed.write_bytes(gzip.compress(("\ufeff" + json.dumps(doc, separators=(",", ":"))).encode()))
    again = import_cyclonedx([packed])
    for t in got.tables:
        pd.testing.assert_frame_equal(again.tables[t], got.tables[t])
    assert set(again.sources["elements"].line_of(np.arange(9)).tolist()) == {1}


def test_ingest_into_a_workspace(workspace):
    rep = cleanpath.ingest(workspace, "cyclonedx", [OPERATOR], snapshot="bom")
    assert rep.added == {"operators": 1, "sites": 3, "elements": 9, "links": 10}
    assert rep.unknown_vendors == {}
    net = workspace.network("bom")
    assert net.elements["vendor"].value_counts().to_dict() == {"huawei": 4, "cisco": 2, "ericsson": 3}


def test_cli_import(tmp_path):
    ws = tmp_path / "ws.duckdb"
    res = CliRunner().invoke(cli, ["-w", str(ws), "import", "cyclonedx", str(REGIONAL), "--country", "de",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["summary"]
    assert summary["added"] == {"operators": 1, "sites": 1, "elements": 4}
    with cleanpath.open_workspace(ws, read_only=True) as w:
        assert w.network("main").operators["country"].tolist() == ["DE"]


# -- CycloneDX 1.5: supplier only, an assembly, devices without bom-ref ------------------------------

def test_1_5_bom_with_supplier_assembly_and_hashed_ids():
    got = import_cyclonedx([REGIONAL], country="DE")
    t = cleanpath.validate_tables(got.tables, sources=got.sources)
    el = t["elements"]
    assert el["vendor"].tolist() == ["zte", "zte", "zte", "nokia"]
    assert el["site_id"].unique().tolist() == ["HB-0031"]  # inherited from the cabinet
    ids = el["element_id"].tolist()
    assert ids[0] == "hb0031-bbu" and ids[3] == "hb0031-airscale"
    assert ids[1].startswith("cdx-") and len(ids[1]) == 20 and ids[2] == ids[1] + "-2"
    assert ids == import_cyclonedx([REGIONAL], country="DE").tables["elements"]["element_id"].tolist()
    assert el["in_service"].tolist() == [False, True, True, True]
    site = t["sites"].iloc[0]
    assert (site["site_id"], site["operator_id"], site["kind"], site["subscribers"]) == (
        "HB-0031", "nordwest-mobilfunk-ag", "cell", 4200)
    assert t["operators"]["name"].tolist() == ["Nordwest Mobilfunk AG"]
    assert got.warnings == []  # the cabinet is an assembly, not an ignored component


def test_hashed_id_changes_with_the_device(tmp_path):
    a = device(None, vendor="ZTE")
    b = copy.deepcopy(a)
    b["name"] = "other model"
    for d in (a, b):
        del d["bom-ref"]
    got = import_cyclonedx([write_bom(tmp_path / "b.json", bom(a, b))])
    ids = got.tables["elements"]["element_id"].tolist()
    assert len(set(ids)) == 2 and all(i.startswith("cdx-") for i in ids)


# -- rejections -----------------------------------------------------------------------------------

def test_not_json():
    (p,) = problems(DATA / "truncated.json")
    assert (p.file, p.line) == (str(DATA / "truncated.json"), 34)
    assert p.reason.startswith("not valid JSON: Unterminated string")
    assert p.column == 18 and "cleanpath:link_kin" in p.value


def test_csv_is_not_json(tmp_path):
    f = tmp_path / "inventory.json"
    f.write_text("element_id,site_id\nrru-1,S1\n")
    (p,) = problems(f)
    assert (p.line, p.column, p.value) == (1, 1, "element_id,site_id")
    assert p.reason == "not valid JSON: Expecting value"


def test_json_that_is_not_a_bom():
    (p,) = problems(DATA / "not_a_bom.json")
    assert (p.file, p.line, p.column, p.value) == (str(DATA / "not_a_bom.json"), 1, "/", None)
    assert p.reason == "not a CycloneDX BOM: there is no bomFormat; it looks like an SPDX document"


def test_json_array_is_not_a_bom(tmp_path):
    (p,) = problems(write_bom(tmp_path / "a.json", [bom()]))
    assert p.reason == "not a CycloneDX BOM: the top level is a JSON list, not an object"


def test_spec_1_4_is_refused_with_advice():
    (p,) = problems(DATA / "spec_1_4.json")
    assert (p.line, p.column, p.value) == (3, "/specVersion", "1.4")
    assert p.reason.startswith("CycloneDX 1.4 is not supported: export the BOM as CycloneDX 1.5 or 1.6")


def test_spec_1_7_is_refused(tmp_path):
    (p,) = problems(write_bom(tmp_path / "b.json", bom(device("r1"), version="1.7")))
    assert (p.line, p.column, p.value) == (3, "/specVersion", "1.7")
    assert p.reason == "unsupported CycloneDX specVersion; supported: 1.5, 1.6"


def test_devices_without_a_role():
    f = DATA / "device_without_role.json"
    got = [(p.file, p.line, p.column, p.value) for p in problems(f)]
    assert got == [
        # mw-1 has properties (three lines below its bom-ref), sw-1 none: its own line then.
        (str(f), line_of(f, '"bom-ref": "mw-1"', offset=3), "/components/3/properties", "mw-1"),
        (str(f), line_of(f, '"bom-ref": "sw-1"'), "/components/4/properties", "sw-1"),
    ]
    assert all(p.reason.startswith("device has no cleanpath:role property") for p in problems(f))


def test_bad_role_value_points_at_the_component(tmp_path):
    doc = json.loads(OPERATOR.read_text())
    doc["components"][5]["properties"][0]["value"] = "transport.routr"
    f = write_bom(tmp_path / "bom.json", doc)
    (p,) = problems(f)
    assert (p.file, p.line, p.column, p.value) == (
        str(f), component_line(f, "core-rtr-dc1"), "role", "transport.routr")
    assert p.reason == "unknown value; did you mean 'transport.router'?"


def test_misspelt_property_is_an_error(tmp_path):
    d = device("r1", generation="4G")
    d["properties"].append({"name": "cleanpath:site:latitude", "value": "50.1"})
    f = write_bom(tmp_path / "b.json", bom(d))
    (p,) = problems(f)
    assert (p.line, p.column, p.value) == (line_of(f, "cleanpath:site:latitude") - 1,
                                           "/components/0/properties/3/name", "cleanpath:site:latitude")
    assert p.reason == "unknown cleanpath property; did you mean 'cleanpath:site:lat'?"


def test_conflicting_site_attributes(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(device("r1", site__kind="cell", site__lat="50.1"),
                                           device("r2", site__kind="cell", site__lat="50.2")))
    (p,) = problems(f)
    assert (p.line, p.column, p.value) == (component_line(f, "r2"),
                                           "/components/1/properties", "50.2")
    assert p.reason == ("site 'S1': cleanpath:site:lat is '50.2' here but '50.1' at "
                        f"b.json:{component_line(f, 'r1')}")


def test_bad_site_latitude_points_at_the_component(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(device("r1", site__kind="cell", site__lat="95")))
    (p,) = problems(f)
    assert (p.line, p.column, p.value, p.reason) == (
        component_line(f, "r1"), "lat", "95", "above the maximum 90 deg")


def test_at_most_100_problems(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(*[device(f"d{i}", role=None) for i in range(150)]))
    with pytest.raises(ValidationError) as ei:
        import_cyclonedx([f])
    assert len(ei.value.problems) == 100 and ei.value.truncated
    assert ei.value.problems[99].column == "/components/99/properties"


def test_deeply_nested_json_is_a_problem_not_a_crash(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
                 + "[" * 100_000 + "]" * 100_000 + "}")
    (p,) = problems(f)
    assert p.reason == "JSON is nested too deeply to be a BOM"


def test_deeply_nested_components_import(tmp_path):
    inner = device("leaf")
    for i in range(300):  # assemblies in assemblies: positions fall back, import still works
        inner = {"type": "device", "bom-ref": f"a{i}", "name": "shelf", "components": [inner]}
    inner["properties"] = [{"name": "cleanpath:site", "value": "S1"}]
    got = import_cyclonedx([write_bom(tmp_path / "b.json", bom(inner))])
    assert got.tables["elements"]["element_id"].tolist() == ["leaf"]


def test_failed_import_leaves_the_workspace_alone(workspace):
    cleanpath.ingest(workspace, "cyclonedx", [OPERATOR], snapshot="main")
    before = [(s.name, s.updated_at) for s in workspace.snapshots()]
    with pytest.raises(ValidationError):
        cleanpath.ingest(workspace, "cyclonedx", [DATA / "device_without_role.json"], snapshot="main")
    with pytest.raises(ValidationError):
        cleanpath.ingest(workspace, "cyclonedx", [DATA / "spec_1_4.json"], snapshot="new")
    assert [(s.name, s.updated_at) for s in workspace.snapshots()] == before


# -- operator and links ------------------------------------------------------------------------------

def test_operator_option_wins_over_the_bom():
    got = import_cyclonedx([OPERATOR], operator_id="op-rmf", country="de")
    assert got.tables["operators"][["operator_id", "name", "country"]].values.tolist() == [
        ["op-rmf", "Rheinmain Funk GmbH", "DE"]]
    assert set(got.tables["sites"]["operator_id"]) == {"op-rmf"}


def test_operator_property_and_site_operator(tmp_path):
    meta = {"supplier": {"name": "Integrator AG"},
            "properties": [{"name": "cleanpath:operator", "value": "op-x"},
                           {"name": "cleanpath:operator:name", "value": "Operator X"}]}
    f = write_bom(tmp_path / "b.json", bom(device("r1", site__kind="cell"),
                                           device("r2", site="S2", site__kind="hub", site__operator="op-y"),
                                           meta=meta))
    got = import_cyclonedx([f])
    assert "operators" not in got.tables  # no country: the operator must exist already
    assert got.warnings == [f"{f}: no country for operator 'op-x' (pass --country or set "
                            "cleanpath:country), so it is not created and must exist already"]
    assert got.tables["sites"][["site_id", "operator_id"]].values.tolist() == [["S1", "op-x"], ["S2", "op-y"]]
    got = import_cyclonedx([f], country="FR")
    assert got.tables["operators"].values.tolist() == [["op-x", "Operator X", "FR"]]


def test_sites_without_any_operator(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(device("r1", site__kind="cell"), meta={}))
    (p,) = problems(f)
    assert (p.line, p.column) == (component_line(f, "r1"), "/components/0/properties")
    assert p.reason.startswith("site 'S1' has no operator: pass --operator")


def test_bare_site_reference_needs_an_existing_site(tmp_path, workspace):
    f = write_bom(tmp_path / "b.json", bom(device("r9", site="FRA-DC1")))
    got = import_cyclonedx([f])
    assert "sites" not in got.tables
    cleanpath.ingest(workspace, "cyclonedx", [OPERATOR], snapshot="main")
    rep = cleanpath.ingest(workspace, "cyclonedx", [f], snapshot="main")
    assert rep.totals["elements"] == 10
    with pytest.raises(ValidationError) as ei:
        cleanpath.ingest(workspace, "cyclonedx", [f], snapshot="empty")
    assert [(p.column, p.value, p.reason) for p in ei.value.problems] == [
        ("site_id", "FRA-DC1", "refers to a missing site (sites.site_id)")]


def test_link_kind_errors(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(
        device("r1", site__kind="cell", link_kind="fronthaul"),
        device("r2", link_kind="control=amf-9"),
        dependencies=[{"ref": "r1", "dependsOn": ["r2"]}, {"ref": "r2", "dependsOn": ["r1"]}]))
    got = sorted((p.column, p.value, p.reason.split(";")[0].split(",")[0]) for p in problems(f))
    assert got == [
        ("/components/0/properties", "fronthaul", "unknown link kind 'fronthaul'"),
        ("/components/1/properties", "amf-9", "cleanpath:link_kind names 'amf-9'"),
    ]


def test_link_to_an_element_outside_the_bom_is_checked_on_import(tmp_path):
    f = write_bom(tmp_path / "b.json", bom(
        device("r1", site__kind="cell", link_kind="transport"),
        dependencies=[{"ref": "r1", "dependsOn": ["router-elsewhere"]}]))
    (p,) = problems(f)
    assert (p.line, p.column, p.value) == (line_of(f, '"ref": "r1"', offset=-1), "b", "router-elsewhere")
    assert p.reason == "refers to a missing element (elements.element_id)"


def test_two_boms_in_one_import():
    got = import_cyclonedx([OPERATOR, REGIONAL], country="DE")
    t = cleanpath.validate_tables(got.tables, sources=got.sources)
    assert t["operators"]["operator_id"].tolist() == ["rheinmain-funk-gmbh", "nordwest-mobilfunk-ag"]
    assert len(t["elements"]) == 13 and len(t["sites"]) == 4
    assert got.sources["elements"].file == f"{OPERATOR} | {REGIONAL}"
    # Each row keeps the line in its own file.
    lines = got.sources["elements"].line_of(np.arange(13))
    assert lines[0] == component_line(OPERATOR, "rru-fra0417-s1")
    assert lines[9] == component_line(REGIONAL, "hb0031-bbu")


def test_unknown_vendor_is_kept_and_reported(tmp_path, workspace):
    anonymous = {**device("r2", vendor="x", site__kind="cell"), "manufacturer": {}}
    f = write_bom(tmp_path / "b.json", bom(device("r1", vendor="Shenzhen Acme Telecom Co., Ltd.",
                                                  site__kind="cell"), anonymous))
    rep = cleanpath.ingest(workspace, "cyclonedx", [f], snapshot="main")
    assert rep.unknown_vendors == {"Shenzhen Acme Telecom Co., Ltd.": 1}
    # No manufacturer and no supplier: the catalogue's own "unknown" vendor.
    vendors = workspace.network("main").elements["vendor"].tolist()
    assert vendors == ["Shenzhen Acme Telecom Co., Ltd.", "unknown"]
