"""The Topology Zoo importer: real networks, every quirk of the format, and broken files.

Oracles: node/edge counts from shared/data/topologyzoo/SOURCE.md and from counting the files' own
``node [``/``edge [`` blocks; coordinates read by hand from the files; networkx's independent GML
and GraphML readers where they can read the file (they cannot read parallel edges in a file that
does not declare ``multigraph 1``, which the Zoo has).
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from cleanpath.errors import ValidationError
from cleanpath.io.gml import read_graph, unescape
from cleanpath.io.guard import read_input
from cleanpath.io.topologyzoo import country_code, import_topologyzoo
from cleanpath.store.ingest import ingest
from conftest import TOPOLOGYZOO

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "topologyzoo" / "zoo"
SHARED = {"Dfn.gml": (58, 87, "DE"), "Garr201201.gml": (61, 89, "IT"),
          "DeutscheTelekom.gml": (39, 62, "ZZ"), "Geant2012.gml": (40, 61, "ZZ")}
# file -> nodes, edges, {site kind: count}, country; kinds counted from Internal 0 / hyperedge 1
# in each file by hand.
ZOO = {
    "Nordu.gml": (33, 45, {"exchange": 14, "gateway": 19}, "ZZ"),
    "Nordu.graphml": (33, 45, {"exchange": 14, "gateway": 19}, "ZZ"),
    "Marwan.gml": (16, 18, {"exchange": 14, "gateway": 2}, "MA"),
    "Marwan.graphml": (16, 18, {"exchange": 14, "gateway": 2}, "MA"),
    "Sunet.gml": (26, 49, {"exchange": 25, "aggregation": 1}, "SE"),
    "Fatman.gml": (17, 21, {"exchange": 14, "gateway": 2, "aggregation": 1}, "GB"),
    "Pacificwave.gml": (18, 27, {"exchange": 3, "gateway": 15}, "US"),
    "TLex.gml": (12, 16, {"exchange": 4, "gateway": 8}, "JP"),
    "Easynet.gml": (19, 29, {"exchange": 19}, "ZZ"),
    "Globalcenter.gml": (9, 36, {"exchange": 9}, "US"),
    "Abilene.graphml": (11, 14, {"exchange": 11}, "US"),
    "Cesnet2.graphml": (30, 42, {"exchange": 23, "gateway": 7}, "CZ"),
}


def write(tmp_path: Path, text: str | bytes, name: str = "net.gml") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def problems_of(exc: pytest.ExceptionInfo) -> list:
    return exc.value.problems


def gml(nodes: str, edges: str = "", head: str = 'Network "Test Net"\n  GeoLocation "Germany"') -> str:
    return f"graph [\n  {head}\n{nodes}{edges}]\n"


def node(i, extra: str = "", label: str | None = None) -> str:
    lab = f'    label "{label}"\n' if label is not None else ""
    return f"  node [\n    id {i}\n{lab}{extra}  ]\n"


def edge(s, t, extra: str = "") -> str:
    return f"  edge [\n    source {s}\n    target {t}\n{extra}  ]\n"


# --------------------------------------------------------------------------------------------
# the four real networks in shared/data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SHARED))
def test_shared_networks_have_the_documented_size(name, shared_data):
    nodes, edges, country = SHARED[name]
    imp = import_topologyzoo([TOPOLOGYZOO / name])
    t = imp.tables
    assert len(t["operators"]) == 1
    assert t["operators"]["country"].iloc[0] == country
    assert len(t["sites"]) == nodes and t["sites"]["site_id"].is_unique
    assert len(t["elements"]) == nodes and t["elements"]["element_id"].is_unique
    assert len(t["links"]) == edges
    assert set(t["links"]["a"]) | set(t["links"]["b"]) <= set(t["elements"]["element_id"])


def test_known_node_coordinates_and_lines(shared_data):
    # Checked by hand in Dfn.gml: node 0 "CHE" opens at line 31 (Latitude 50.83333, Longitude
    # 12.91667); node 57 "ZEU" (Zeuthen) has Latitude 52.36667, Longitude 13.61667.
    imp = import_topologyzoo([TOPOLOGYZOO / "Dfn.gml"])
    sites = imp.tables["sites"].set_index("site_id")
    assert sites.loc["dfn:0", ["lat", "lon"]].tolist() == [50.83333, 12.91667]
    assert sites.loc["dfn:0", "region"] == "CHE"
    assert sites.loc["dfn:57", ["lat", "lon"]].tolist() == [52.36667, 13.61667]
    assert sites.loc["dfn:57", "region"] == "ZEU"
    src = imp.sources["sites"]
    assert src.file.endswith("Dfn.gml")
    assert src.line_of(np.array([0, 1]))[0] == 31 and src.line_of(np.array([1]))[0] == 39
    assert imp.tables["operators"].to_dict("records") == [{"operator_id": "dfn", "name": "DFN",
                                                           "country": "DE"}]


def test_coordinates_match_networkx_on_every_file_it_can_read(shared_data):
    files = [TOPOLOGYZOO / n for n in SHARED] + sorted(FIXTURES.iterdir())
    compared = 0
    for f in files:
        try:
            g = nx.read_gml(f, label="id") if f.suffix == ".gml" else nx.read_graphml(f)
        except nx.NetworkXError:
            continue  # parallel edges without "multigraph 1": networkx refuses, we do not
        compared += 1
        t = import_topologyzoo([f]).tables
        assert len(t["sites"]) == g.number_of_nodes(), f.name
        assert len(t["links"]) == g.number_of_edges() - nx.number_of_selfloops(g), f.name
        op = t["operators"]["operator_id"].iloc[0]
        sites = t["sites"].set_index("site_id")
        for n, d in g.nodes(data=True):
            row = sites.loc[f"{op}:{n}"]
            if "Latitude" in d and "Longitude" in d:
                assert (row["lat"], row["lon"]) == (d["Latitude"], d["Longitude"]), (f.name, n)
            else:
                assert pd.isna(row["lat"]) and pd.isna(row["lon"]), (f.name, n)
            assert row["kind"] == ("gateway" if d.get("Internal") == 0 else
                                   "aggregation" if d.get("hyperedge") == 1 else "exchange")
    assert compared >= 12


def test_capacity_from_link_speed_raw_and_parallel_edges_kept(shared_data):
    # Garr201201.gml lines 579-594: two edges 9-58, each LinkSpeedRaw 1000000000.0 (1 Gbit/s).
    t = import_topologyzoo([TOPOLOGYZOO / "Garr201201.gml"]).tables
    links = t["links"]
    pair = links[links["a"].str.startswith("garr:9:") & links["b"].str.startswith("garr:58:")]
    assert len(pair) == 2
    assert pair["capacity_gbps"].tolist() == [1.0, 1.0]
    assert (links["kind"] == "transport").all()
    # Every edge with LinkSpeedRaw got a capacity; the file has 64 of them among 89 edges.
    raw_count = (TOPOLOGYZOO / "Garr201201.gml").read_text().count("LinkSpeedRaw")
    assert links["capacity_gbps"].notna().sum() == raw_count


def test_import_into_a_real_workspace(workspace, shared_data):
    files = [TOPOLOGYZOO / n for n in SHARED]
    rep = ingest(workspace, "topologyzoo", files, vendor="Huawei")
    assert rep.added == {"operators": 4, "sites": 198, "elements": 198, "links": 299}
    net = workspace.network("main")
    assert len(net.sites) == 198 and len(net.links) == 299
    assert set(net.elements["vendor"]) == {"huawei"}  # resolved through the catalogue
    assert set(net.operators["operator_id"]) == {"dfn", "garr", "deutsche-telekom", "geant"}
    roles = net.elements["role"].value_counts().to_dict()
    assert roles["gateway.interconnect"] == 7 + 13  # Internal 0 nodes of Dfn and Garr201201
    # A second import of the same file without the vendor clashes with the snapshot (a merge never
    # overwrites); the problem points at the node's line in the GML file and nothing is written.
    with pytest.raises(ValidationError) as exc:
        ingest(workspace, "topologyzoo", [TOPOLOGYZOO / "Dfn.gml"])
    site_problem = next(p for p in problems_of(exc) if p.value == "dfn:0:router")
    assert site_problem.file.endswith("Dfn.gml") and site_problem.line == 31
    assert "already in snapshot 'main' with other values (vendor: 'huawei' there" in site_problem.reason
    assert len(workspace.network("main").sites) == 198


# --------------------------------------------------------------------------------------------
# the fixture corpus: twelve of the Zoo's quirkiest files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_fixture_imports(name):
    nodes, edges, kinds, country = ZOO[name]
    text = (FIXTURES / name).read_text()
    assert text.count("<node ") + text.count("\n  node [") == nodes  # the oracle counts itself
    t = import_topologyzoo([FIXTURES / name]).tables
    assert len(t["sites"]) == nodes and len(t["links"]) == edges
    assert t["sites"]["kind"].value_counts().to_dict() == kinds
    assert t["operators"]["country"].iloc[0] == country
    role = dict(zip(t["elements"]["site_id"], t["elements"]["role"]))
    kind = dict(zip(t["sites"]["site_id"], t["sites"]["kind"]))
    expect = {"exchange": "transport.router", "aggregation": "transport.switch",
              "gateway": "gateway.interconnect"}
    assert all(role[s] == expect[k] for s, k in kind.items())


def test_every_fixture_in_one_import(workspace, shared_data):
    files = sorted(FIXTURES.iterdir()) + [TOPOLOGYZOO / n for n in SHARED]
    # Nordu and Marwan come in both formats; keep one of each pair in one snapshot.
    files = [f for f in files if f.name not in ("Nordu.graphml", "Marwan.graphml")]
    rep = ingest(workspace, "topologyzoo", files)
    assert rep.added["operators"] == len(files) == 14
    assert rep.added["sites"] == sum(v[0] for k, v in ZOO.items() if k not in
                                     ("Nordu.graphml", "Marwan.graphml")) + 198


@pytest.mark.parametrize("name", ["Nordu", "Marwan"])
def test_gml_and_graphml_of_one_network_give_the_same_tables(name):
    a = import_topologyzoo([FIXTURES / f"{name}.gml"]).tables
    b = import_topologyzoo([FIXTURES / f"{name}.graphml"]).tables
    for table, key in (("operators", ["operator_id"]), ("sites", ["site_id"]),
                       ("elements", ["element_id"]), ("links", ["a", "b", "capacity_gbps"])):
        x = a[table].sort_values(key).reset_index(drop=True)
        y = b[table].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_dtype=False)


def test_hyperedge_nodes_become_switches_without_position():
    t = import_topologyzoo([FIXTURES / "Sunet.gml"]).tables
    site = t["sites"].set_index("site_id").loc["optosunet:20"]  # label "None", hyperedge 1
    assert site["kind"] == "aggregation" and pd.isna(site["lat"]) and pd.isna(site["region"])
    el = t["elements"].set_index("element_id").loc["optosunet:20:switch"]
    assert el["role"] == "transport.switch"
    links = t["links"]
    touching = (links["a"] == "optosunet:20:switch") | (links["b"] == "optosunet:20:switch")
    assert touching.sum() == 3  # edges 19-20, 20-21, 20-22
    # Fatman's hyperedge has an empty label and follows a gap in the node ids (13, then 18).
    f = import_topologyzoo([FIXTURES / "Fatman.gml"]).tables["sites"].set_index("site_id")
    assert f.loc["fatman:18", "kind"] == "aggregation" and pd.isna(f.loc["fatman:18", "region"])
    assert "fatman:14" not in f.index


def test_parallel_edges_and_external_nodes_are_kept():
    t = import_topologyzoo([FIXTURES / "Nordu.gml"]).tables
    links = t["links"]
    assert ((links["a"] == "nordu:0:router") & (links["b"] == "nordu:1:router")).sum() == 3
    ext = t["sites"].set_index("site_id").loc["nordu:5"]  # NYIIX, Internal 0
    assert ext["kind"] == "gateway" and ext["region"] == "NYIIX"
    assert "nordu:5:interconnect" in set(t["elements"]["element_id"])


def test_repeated_labels_stay_distinct_sites():
    t = import_topologyzoo([FIXTURES / "Easynet.gml"]).tables
    ones = t["sites"][t["sites"]["region"] == "1"]
    assert len(ones) == 7 and ones["site_id"].is_unique
    assert t["operators"]["name"].iloc[0] == "EasyNet"  # trailing space trimmed


def test_country_from_geolocation_variants():
    assert country_code("Germany") == "DE" and country_code("de") == "DE"
    assert country_code("UK") == "GB" and country_code("Czech Republic") == "CZ"
    assert country_code("Côte d'Ivoire") == "CI" and country_code("U.S.A.") == "US"
    assert country_code("Europe") is None and country_code("Narnia") is None


def test_note_with_raw_ampersands_is_kept_verbatim():
    g = read_graph(read_input(FIXTURES / "Globalcenter.gml"))
    note = g.attrs["Note"].value
    assert "?id=kRsEAAAAMBAJ&pg=PA29&lpg=PA29&dq=GlobalCenter+ATM" in note
    assert note.endswith("&q=GlobalCenter%20ATM&f=false")
    assert g.attrs["Note"].line == 7  # "  Note ..." is the 7th line


# --------------------------------------------------------------------------------------------
# single quirks, hand-written
# --------------------------------------------------------------------------------------------


def test_entities_in_strings():
    assert unescape("AT&amp;T &quot;core&quot; M&#252;nchen &#xE9;") == 'AT&T "core" München é'
    assert unescape("a&b &notes &#0; &bogus;") == "a&b &notes &#0; &bogus;"


def test_nodes_without_coordinates_or_label_and_odd_types(tmp_path):
    text = gml(node(0, '    Latitude 52.5\n    Longitude 13.4\n', "Berlin")
               + node(1)  # no label, no coordinates
               + node(2, '    Latitude "48.1"\n    Longitude "11.6"\n', "M&#252;nchen")
               + node(3, '    Latitude "None"\n    Longitude "None"\n', "None")
               + node(4, '    Latitude 50.1\n', "half"),
               edge(0, 1) + edge(1, 2) + edge(2, 3) + edge(3, 4))
    imp = import_topologyzoo([write(tmp_path, text)])
    s = imp.tables["sites"].set_index("site_id")
    assert s.loc["test-net:0", ["lat", "lon"]].tolist() == [52.5, 13.4]
    assert s.loc["test-net:2", ["lat", "lon"]].tolist() == [48.1, 11.6]
    assert s.loc["test-net:2", "region"] == "München"
    for i in (1, 3, 4):
        assert pd.isna(s.loc[f"test-net:{i}", "lat"]) and pd.isna(s.loc[f"test-net:{i}", "lon"])
    assert pd.isna(s.loc["test-net:1", "region"]) and pd.isna(s.loc["test-net:3", "region"])
    assert any("Latitude 'None' read as missing" in w for w in imp.warnings)
    assert any("only one of Latitude/Longitude" in w and ":25:" in w for w in imp.warnings)


def test_latin1_file_is_read_with_a_warning(tmp_path):
    text = gml(node(0, "", "M\u00fcnchen") + node(1, "", "K\u00f6ln"), edge(0, 1)).encode("latin-1")
    imp = import_topologyzoo([write(tmp_path, text)])
    assert imp.tables["sites"]["region"].tolist() == ["München", "Köln"]
    assert any("ISO-8859-1" in w and "net.gml:6" in w for w in imp.warnings)


def test_irregular_link_attributes(tmp_path):
    edges = (edge(0, 1, '    LinkSpeedRaw 2500000000\n')                    # int, bit/s
             + edge(0, 1, '    LinkSpeed "10"\n    LinkSpeedUnits "G"\n')  # no Raw
             + edge(1, 2, '    LinkSpeed 155\n    LinkSpeedUnits "M"\n')   # number, not text
             + edge(1, 2, '    LinkSpeedRaw "fast"\n    LinkLabel "?"\n')  # not a number
             + edge(2, 0, '    LinkLabel "OC-192"\n    LinkNote "x"\n')     # no speed at all
             + edge(2, 0, '    LinkSpeedRaw 1e10\n    LinkType 7\n'))       # real with exponent
    imp = import_topologyzoo([write(tmp_path, gml(node(0) + node(1) + node(2), edges))])
    cap = imp.tables["links"]["capacity_gbps"].tolist()
    assert cap[:3] == [2.5, 10.0, 0.155]
    assert np.isnan(cap[3]) and np.isnan(cap[4]) and cap[5] == 10.0
    assert any("LinkSpeedRaw 'fast' is not a number" in w for w in imp.warnings)


def test_self_loops_are_dropped_with_a_warning(tmp_path):
    text = gml(node(0) + node(1), edge(0, 1) + edge(1, 1) + edge(0, 1))
    imp = import_topologyzoo([write(tmp_path, text)])
    assert len(imp.tables["links"]) == 2
    assert any("net.gml:14: self-loop on node 1 dropped" in w for w in imp.warnings)
    # Row lines still match the kept edges (opened at lines 10 and 18).
    assert imp.sources["links"].line_of(np.array([0, 1])).tolist() == [10, 18]


def test_gml_comments_repeated_keys_and_nested_lists(tmp_path):
    text = ("# exported by hand\ngraph [\n  Network \"Comments\"\n"
            "  node [ id 0 label \"a\" label \"b\" graphics [ x 1.0 y -2 ] ]\n"
            "  node [ id 1 Internal 0 ]  # a peer\n"
            "  edge [ source 0 target 1 ]\n]\n")
    imp = import_topologyzoo([write(tmp_path, text)], country="fr")
    s = imp.tables["sites"].set_index("site_id")
    assert s.loc["comments:0", "region"] == "a" and s.loc["comments:1", "kind"] == "gateway"
    assert imp.tables["operators"]["country"].tolist() == ["FR"]
    assert any("key 'label' repeated" in w and "net.gml:4" in w for w in imp.warnings)


def test_string_ids_and_real_ids(tmp_path):
    text = gml('  node [ id "pop-a" ]\n  node [ id 2.0 ]\n', '  edge [ source "pop-a" target 2 ]\n')
    t = import_topologyzoo([write(tmp_path, text)]).tables
    assert t["sites"]["site_id"].tolist() == ["test-net:pop-a", "test-net:2"]
    assert t["links"][["a", "b"]].values.tolist() == [["test-net:pop-a:router", "test-net:2:router"]]


def test_graphml_defaults_and_booleans(tmp_path):
    text = """<?xml version="1.0"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="k0" for="node" attr.name="Internal" attr.type="int"><default>1</default></key>
  <key id="k1" for="node" attr.name="Latitude" attr.type="double"/>
  <key id="k2" for="node" attr.name="Longitude" attr.type="double"/>
  <key id="k3" for="node" attr.name="hyperedge" attr.type="boolean"/>
  <key id="g0" for="graph" attr.name="Network" attr.type="string"/>
  <graph edgedefault="undirected">
    <data key="g0">Tiny</data>
    <node id="a"><data key="k1">45.5</data><data key="k2">9.2</data></node>
    <node id="b"><data key="k0">0</data></node>
    <node id="c"><data key="k3">true</data></node>
    <edge source="a" target="b"/>
    <edge source="a" target="c"/>
  </graph>
</graphml>
"""
    t = import_topologyzoo([write(tmp_path, text, "tiny.graphml")], country="Italy").tables
    s = t["sites"].set_index("site_id")
    assert s["kind"].to_dict() == {"tiny:a": "exchange", "tiny:b": "gateway", "tiny:c": "aggregation"}
    assert s.loc["tiny:a", ["lat", "lon"]].tolist() == [45.5, 9.2]
    assert t["operators"]["country"].tolist() == ["IT"]


def test_directories_gzip_and_zip_inputs(tmp_path, shared_data):
    d = tmp_path / "nets"
    d.mkdir()
    shutil.copy(FIXTURES / "TLex.gml", d / "TLex.gml")
    with open(FIXTURES / "Abilene.graphml", "rb") as src, gzip.open(d / "Abilene.graphml.gz", "wb") as dst:
        dst.write(src.read())
    (d / "README.txt").write_text("not a network")
    t = import_topologyzoo([d]).tables
    assert sorted(t["operators"]["operator_id"]) == ["abilene", "t-lex"]
    z = tmp_path / "nets.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(FIXTURES / "Sunet.gml", "zoo/Sunet.gml")
        zf.writestr("zoo/notes.md", "ignored")
    t = import_topologyzoo([z]).tables
    assert t["operators"]["operator_id"].tolist() == ["optosunet"] and len(t["links"]) == 49


def test_one_operator_per_file_and_shared_network_names(tmp_path):
    a = write(tmp_path, gml(node(0), head='Network "GARR"\n  label "Garr201110"'), "a.gml")
    b = write(tmp_path, gml(node(0), head='Network "GARR"\n  label "Garr201201"'), "b.gml")
    imp = import_topologyzoo([a, b], country="IT")
    assert imp.tables["operators"]["operator_id"].tolist() == ["garr201110", "garr201201"]
    assert imp.tables["sites"]["site_id"].tolist() == ["garr201110:0", "garr201201:0"]
    with pytest.raises(ValidationError, match="names one operator but 2 files"):
        import_topologyzoo([a, b], operator_id="mine")
    one = import_topologyzoo([a], operator_id="telecom-italia").tables
    assert one["sites"]["site_id"].tolist() == ["telecom-italia:0"]
    with pytest.raises(ValidationError, match="--country"):
        import_topologyzoo([a], country="Atlantis")


def test_country_falls_back_to_zz_with_a_warning(tmp_path):
    p = write(tmp_path, gml(node(0), head='Network "X"\n  GeoLocation "Europe"'))
    imp = import_topologyzoo([p])
    assert imp.tables["operators"]["country"].tolist() == ["ZZ"]
    assert any("set to ZZ" in w for w in imp.warnings)
    # Every node naming the same country settles it.
    p = write(tmp_path, gml(node(0, '    Country "Sweden"\n'), head='Network "X"\n  GeoLocation "Nordics"'))
    assert import_topologyzoo([p]).tables["operators"]["country"].tolist() == ["SE"]
    # A region and its country: "Tokyo, Japan".
    p = write(tmp_path, gml(node(0), head='Network "X"\n  GeoLocation "Tokyo, Japan"'))
    assert import_topologyzoo([p]).tables["operators"]["country"].tolist() == ["JP"]


# --------------------------------------------------------------------------------------------
# vendors
# --------------------------------------------------------------------------------------------


def test_vendor_map_by_label_and_id(tmp_path):
    p = write(tmp_path, gml(node(0, "", "Berlin") + node(1, "", "Hamburg") + node(2, "", "Berlin")
                            + node(3, "", "Köln"), edge(0, 1)))
    vm = write(tmp_path, "node,vendor\nberlin,Huawei\n2,Nokia\nKÖLN,ZTE\nNowhere,Cisco\n", "vendors.csv")
    imp = import_topologyzoo([p], vendor_map=vm, vendor="Ericsson")
    v = dict(zip(imp.tables["elements"]["site_id"], imp.tables["elements"]["vendor"]))
    # The id row beats the label row for node 2; unmatched nodes get --vendor.
    assert v == {"test-net:0": "Huawei", "test-net:1": "Ericsson", "test-net:2": "Nokia",
                 "test-net:3": "ZTE"}
    assert any("'Nowhere' (line 5)" in w for w in imp.warnings)
    # Without either option the vendor is "unknown".
    assert set(import_topologyzoo([p]).tables["elements"]["vendor"]) == {"unknown"}


def test_vendor_map_operator_column_and_conflicts(tmp_path):
    a = write(tmp_path, gml(node(0), head='Network "A"'), "a.gml")
    b = write(tmp_path, gml(node(0), head='Network "B"'), "b.gml")
    # The generic row comes first; the row naming operator b must still win for b's node.
    vm = write(tmp_path, "operator,node,vendor\n,0,Nokia\nb,0,Huawei\n", "vm.csv")
    imp = import_topologyzoo([a, b], vendor_map=vm, country="DE")
    v = dict(zip(imp.tables["elements"]["site_id"], imp.tables["elements"]["vendor"]))
    assert v == {"a:0": "Nokia", "b:0": "Huawei"}
    bad = write(tmp_path, "node,vendor\n0,Huawei\n0,Nokia\n", "bad.csv")
    with pytest.raises(ValidationError) as exc:
        import_topologyzoo([a], vendor_map=bad)
    p = problems_of(exc)[0]
    assert p.file.endswith("bad.csv") and p.line == 3 and "another vendor (first at line 2)" in p.reason
    nocol = write(tmp_path, "name,maker\n0,Huawei\n", "nocol.csv")
    with pytest.raises(ValidationError, match="needs a 'node' column"):
        import_topologyzoo([a], vendor_map=nocol)


# --------------------------------------------------------------------------------------------
# broken input: every problem names file, line and reason
# --------------------------------------------------------------------------------------------


def one_problem(path: Path, **kw):
    with pytest.raises(ValidationError) as exc:
        import_topologyzoo([path], **kw)
    probs = problems_of(exc)
    assert probs and all(p.file == str(path) for p in probs), probs
    return probs[0]


def test_json_renamed_gml(tmp_path):
    p = one_problem(write(tmp_path, '{"nodes": [{"id": 0}], "links": []}\n'))
    assert (p.line, p.column) == (1, 1) and "JSON" in p.reason and "not GML" in p.reason


def test_html_renamed_gml(tmp_path):
    p = one_problem(write(tmp_path, "<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n"))
    assert p.line == 1 and "HTML page" in p.reason


def test_binary_renamed_gml(tmp_path):
    p = one_problem(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert p.line == 2 and "binary" in p.reason
    p = one_problem(write(tmp_path, b"graph [\n  label \"x\x01y\"\n]\n"))
    assert (p.line, p.column) == (2, 11) and "binary" in p.reason


def test_empty_and_not_a_graph(tmp_path):
    assert "empty" in one_problem(write(tmp_path, "\n  \n")).reason
    p = one_problem(write(tmp_path, 'Creator "me"\nversion 2\n'))
    assert p.line == 1 and "no 'graph [ ... ]' list" in p.reason


def test_truncated_file(tmp_path, shared_data):
    lines = (TOPOLOGYZOO / "Dfn.gml").read_text().splitlines(keepends=True)
    cut = write(tmp_path, "".join(lines[:35]))  # stops inside node 0, opened at line 31
    p = one_problem(cut)
    assert p.line == 35 and "expected ']' to close 'node' opened at line 31" in p.reason
    assert "truncated" in p.reason
    p = one_problem(write(tmp_path, 'graph [\n  node [\n    id 0\n    label "CH'))
    assert p.line == 4 and p.column == 11 and "never closed" in p.reason
    p = one_problem(write(tmp_path, "graph [\n  node [\n    id\n"))
    assert (p.line, p.column) == (3, 7) and "key 'id' without its value" in p.reason


def test_unbalanced_brackets(tmp_path):
    p = one_problem(write(tmp_path, gml(node(0)) + "]\n"))
    assert (p.line, p.column) == (8, 1) and "unexpected ']'" in p.reason
    # A node left open swallows the next edge: the edge is where the ']' is missing.
    text = "graph [\n  node [\n    id 0\n  node [\n    id 1\n  ]\n  edge [ source 0 target 1 ]\n]\n"
    p = one_problem(write(tmp_path, text))
    assert p.line == 4 and "expected ']' to close 'node' opened at line 2 before this 'node'" in p.reason


def test_syntax_errors_name_the_token(tmp_path):
    p = one_problem(write(tmp_path, "graph [\n  node [ id 1abc ]\n]\n"))
    assert (p.line, p.column) == (2, 13) and p.value == "1abc" and "unexpected character" in p.reason
    p = one_problem(write(tmp_path, "graph [\n  42 \"x\"\n]\n"))
    assert (p.line, p.column) == (2, 3) and "expected a key" in p.reason and p.value == "42"
    p = one_problem(write(tmp_path, "graph [\n  label ]\n"))
    assert p.line == 2 and "expected a value for key 'label'" in p.reason


def test_edge_to_a_missing_node(tmp_path):
    p = one_problem(write(tmp_path, gml(node(0) + node(1), edge(0, 1) + edge(1, 99))))
    assert (p.line, p.column) == (16, 12) and p.value == "99"  # 3 header + 2x3 node + 4 edge lines
    assert "edge target 99 is not the id of any node" in p.reason


def test_latitude_95_and_friends_all_reported(tmp_path):
    text = gml(node(0, "    Latitude 95\n    Longitude 10\n")
               + node(1, "    Latitude 50\n    Longitude 200.5\n")
               + node(1, '    Latitude "north"\n    Longitude 1\n'),
               edge(0, 7))
    with pytest.raises(ValidationError) as exc:
        import_topologyzoo([write(tmp_path, text)])
    got = {(p.line, p.reason) for p in problems_of(exc)}
    # Lines: 1-3 graph head; node 0 at 4-8 (Latitude on 6); node 1 at 9-13 (Longitude on 12);
    # the second node 1 at 14-18 (id on 15, Latitude on 16); the edge at 19-22 (target on 21).
    assert (6, "latitude 95 is outside -90..90 degrees") in got
    assert (12, "longitude 200.5 is outside -180..180 degrees") in got
    assert (15, "node id repeated (first at line 9)") in got
    assert (16, "Latitude is not a number") in got
    assert (21, "edge target 7 is not the id of any node in this graph") in got
    assert len(got) == 5
    lat = next(p for p in problems_of(exc) if p.line == 6)
    assert lat.value == "95" and lat.column == 14


def test_node_and_edge_without_ids(tmp_path):
    text = gml('  node [\n    label "x"\n  ]\n', '  edge [\n    target 0\n  ]\n')
    with pytest.raises(ValidationError) as exc:
        import_topologyzoo([write(tmp_path, text)])
    reasons = {(p.line, p.reason) for p in problems_of(exc)}
    assert (4, "node has no id (the key edges refer to)") in reasons
    assert (7, "edge has no source") in reasons


def test_problems_collected_across_files(tmp_path):
    a = write(tmp_path, gml(node(0), edge(0, 5)), "a.gml")
    b = write(tmp_path, "graph [\n", "b.gml")
    vm = write(tmp_path, "node,vendor\n0,\n", "vm.csv")
    with pytest.raises(ValidationError) as exc:
        import_topologyzoo([a, tmp_path / "gone.gml", b], vendor_map=vm)
    got = sorted((Path(p.file).name, p.line) for p in problems_of(exc))
    assert got == [("a.gml", 9), ("b.gml", 1), ("gone.gml", None), ("vm.csv", 2)]


def test_graph_without_nodes(tmp_path, workspace):
    p = write(tmp_path, 'graph [\n  Network "Empty"\n]\n')
    rep = ingest(workspace, "topologyzoo", [p], country="DE")
    assert rep.added == {"operators": 1, "sites": 0, "elements": 0, "links": 0}
    assert any("no nodes" in w for w in rep.warnings)


def test_broken_graphml(tmp_path):
    unclosed = '<?xml version="1.0"?>\n<graphml>\n  <graph>\n    <node id="a">\n  </graph>\n'
    p = one_problem(write(tmp_path, unclosed, "x.graphml"))
    assert p.line == 5 and "not well-formed XML" in p.reason
    p = one_problem(write(tmp_path, '<?xml version="1.0"?>\n<svg><g/></svg>\n', "x.graphml"))
    assert "root element is <svg>" in p.reason
    p = one_problem(write(tmp_path, '<graphml><graph><node id="a"><data key="nope">1</data></node>'
                                    '</graph></graphml>\n', "x.graphml"))
    assert p.line == 1 and "undeclared key 'nope'" in p.reason
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
            '<graphml><graph><node id="&lol2;"/></graph></graphml>\n')
    p = one_problem(write(tmp_path, bomb, "x.graphml"))
    assert p.line == 2 and "not allowed" in p.reason
    typed = ('<graphml><key id="k" for="node" attr.name="Latitude" attr.type="double"/><graph>\n'
             '<node id="a"><data key="k">north</data></node></graph></graphml>\n')
    p = one_problem(write(tmp_path, typed, "x.graphml"))
    assert p.line == 2 and p.value == "north" and "declared double" in p.reason


def test_missing_file_and_no_graph_files(tmp_path):
    p = one_problem(tmp_path / "absent.gml")
    assert "file not found" in p.reason
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="no GML or GraphML files"):
        import_topologyzoo([tmp_path / "empty"])


def test_graphml_declared_latin1(tmp_path):
    text = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<graphml>\n'
            '  <key id="l" for="node" attr.name="label" attr.type="string"/>\n'
            '  <graph><node id="0"><data key="l">M\u00fcnchen</data></node></graph>\n</graphml>\n')
    imp = import_topologyzoo([write(tmp_path, text.encode("latin-1"), "x.graphml")], country="DE")
    assert imp.tables["sites"]["region"].tolist() == ["München"]
    assert not any("UTF-8" in w for w in imp.warnings)


@pytest.mark.parametrize("name", ["Sunet.gml", "Marwan.graphml"])
def test_damaged_files_give_validation_errors_never_tracebacks(name, tmp_path_factory):
    """Cut, delete or insert bytes anywhere in a real file: the importer either reads the result
    or raises ValidationError whose problems name the file and a line."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    data = (FIXTURES / name).read_bytes()
    target = tmp_path_factory.mktemp("fuzz") / name

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(pos=st.integers(0, len(data) - 1), op=st.sampled_from(["cut", "delete", "insert"]),
           byte=st.binary(min_size=1, max_size=3))
    def check(pos, op, byte):
        damaged = {"cut": data[:pos], "delete": data[:pos] + data[pos + len(byte):],
                   "insert": data[:pos] + byte + data[pos:]}[op]
        target.write_bytes(damaged)
        try:
            import_topologyzoo([target], country="SE")
        except ValidationError as e:
            assert e.problems and all(p.file for p in e.problems)
            assert all(p.line is not None for p in e.problems if "file is empty" not in p.reason)

    check()
