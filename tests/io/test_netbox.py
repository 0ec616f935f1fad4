"""The NetBox importer against a real NetBox (PostgreSQL, Redis, NetBox's WSGI app; see netbox_server.py).

The inventory is populated through NetBox's REST API with pynetbox, then imported back through
the Python function and the CLI. Every expected table below is written out by hand from the
inventory (and the documented defaults), not computed by the code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cleanpath
from cleanpath.errors import ValidationError
from cleanpath.io.netbox import DEFAULT_ROLES, import_netbox, load_mapping, read_netbox
from cleanpath.io.registry import IMPORTERS, importer

pynetbox = pytest.importorskip("pynetbox")

pytestmark = pytest.mark.xdist_group("netbox")  # one server per worker: keep these tests together

CLI = [sys.executable, "-m", "cleanpath.cli.main"]

# -- the inventory, as NetBox holds it -----------------------------------------------------------------

MANUFACTURERS = {  # slug -> name as an operator's NetBox spells it
    "huawei": "Huawei Technologies Co., Ltd.", "zte": "ZTE Corporation", "ericsson": "Ericsson AB",
    "nokia": "Nokia", "cisco": "Cisco Systems, Inc.", "juniper": "Juniper Networks",
}
TYPES = {  # slug -> (manufacturer, model)
    "aau5613": ("huawei", "AAU5613"), "bbu5900": ("huawei", "BBU5900"), "ce12800": ("huawei", "CE12800"),
    "unc-amf": ("huawei", "UNC AMF"), "udg-upf": ("huawei", "UDG UPF"), "asr920": ("cisco", "ASR 920"),
    "7750-sr": ("nokia", "7750 SR"), "qfx5120": ("juniper", "QFX5120"), "mx204": ("juniper", "MX204"),
    "radio-4449": ("ericsson", "Radio 4449"), "bb6630": ("ericsson", "Baseband 6630"),
    "zxmw-nr8250": ("zte", "ZXMW NR8250"),
}
ROLES_NB = {  # slug -> name (all known to the defaults but one)
    "router": "Router", "switch": "Switch", "aau": "AAU", "bbu": "BBU", "amf": "AMF", "upf": "UPF",
    "microwave": "Microwave", "peering-router": "Peering Router",
}
SITES = {  # slug -> (tenant, region, lat, lon, site_kind custom field)
    "muc-core": ("testnetz", "Bayern", 48.137, 11.575, None),
    "muc-cell-1": ("testnetz", "Bayern", 48.15, 11.55, None),
    "ber-hub": ("testnetz", "Berlin", 52.52, 13.405, "aggregation"),
    "ber-cell-1": ("nordfunk", "Berlin", 52.5, 13.4, None),
    "gw-fra": ("nordfunk", None, 50.11, 8.68, None),
}
DEVICES = [  # name, site, role, type, status, generation, install_date
    ("muc-amf-1", "muc-core", "amf", "unc-amf", "active", None, "2020-01-15"),
    ("muc-upf-1", "muc-core", "upf", "udg-upf", "active", None, "2020-01-15"),
    ("muc-core-r1", "muc-core", "router", "7750-sr", "active", None, None),
    ("muc-c1-aau", "muc-cell-1", "aau", "aau5613", "active", "5G-NSA", "2019-03-01"),
    ("muc-c1-bbu", "muc-cell-1", "bbu", "bbu5900", "active", "4G", "2019-03-01"),
    ("muc-c1-csr", "muc-cell-1", "router", "asr920", "active", None, None),
    ("sw1", "muc-cell-1", "switch", "ce12800", "offline", None, None),
    ("ber-hub-r1", "ber-hub", "router", "7750-sr", "active", None, None),
    ("sw1", "ber-hub", "switch", "qfx5120", "active", None, None),
    ("ber-c1-radio", "ber-cell-1", "aau", "radio-4449", "active", "4G", "2021-06-30"),
    ("ber-c1-bb", "ber-cell-1", "bbu", "bb6630", "active", "4G", "2021-06-30"),
    ("ber-c1-mw", "ber-cell-1", "microwave", "zxmw-nr8250", "active", None, None),
    ("fra-peer-1", "gw-fra", "peering-router", "mx204", "active", None, None),
]
CABLES = [  # (device, device): one interface each end; the last one repeats a pair (parallel cable)
    ("muc-c1-aau", "muc-c1-bbu"), ("muc-c1-bbu", "muc-c1-csr"), ("muc-c1-csr", "muc-core-r1"),
    ("muc-core-r1", "muc-amf-1"), ("muc-core-r1", "muc-upf-1"), ("ber-hub-r1", "muc-core-r1"),
    (("sw1", "ber-hub"), "ber-hub-r1"), ("ber-c1-radio", "ber-c1-bb"), ("ber-c1-bb", "ber-c1-mw"),
    ("ber-c1-mw", "ber-hub-r1"), ("fra-peer-1", "muc-core-r1"), ("muc-core-r1", "ber-hub-r1"),
]
SPEEDS = {  # cable (index into CABLES) -> interface speed (kbit/s) at each end; None: not set
    1: (10_000_000, 1_000_000),      # 10G port, 1G port: the slower end
    2: (None, 10_000_000),           # one end known
    4: (100_000_000, 100_000_000),
    5: (10_000_000, 10_000_000),     # with cable 11, parallel: the two add up
    11: (10_000_000, 10_000_000),
    9: (1_000_000, 10_000_000),      # the ZTE microwave's 1G radio link
    10: (10_000_000, None),          # fra-peer-1 - muc-core-r1
}

# -- what cleanpath must make of it (by hand) ---------------------------------------------------------

WANT_OPERATORS = {"testnetz": ("Testnetz GmbH", "DE"), "nordfunk": ("Nordfunk AB", "SE")}
WANT_SITES = {  # site_id -> operator, kind, lat, lon, region
    "muc-core": ("testnetz", "core_dc", 48.137, 11.575, "Bayern"),     # AMF and UPF stand there
    "muc-cell-1": ("testnetz", "cell", 48.15, 11.55, "Bayern"),        # radios
    "ber-hub": ("testnetz", "aggregation", 52.52, 13.405, "Berlin"),   # its site_kind custom field
    "ber-cell-1": ("nordfunk", "cell", 52.5, 13.4, "Berlin"),
    "gw-fra": ("nordfunk", "gateway", 50.11, 8.68, None),             # a peering router
}
WANT_ELEMENTS = {  # element_id -> site, role, vendor, model, generation, installed_on, in_service
    "muc-amf-1": ("muc-core", "core.amf", "huawei", "UNC AMF", "none", "2020-01-15", True),
    "muc-upf-1": ("muc-core", "core.upf", "huawei", "UDG UPF", "none", "2020-01-15", True),
    "muc-core-r1": ("muc-core", "transport.router", "nokia", "7750 SR", "none", None, True),
    "muc-c1-aau": ("muc-cell-1", "ran.radio", "huawei", "AAU5613", "5G-NSA", "2019-03-01", True),
    "muc-c1-bbu": ("muc-cell-1", "ran.baseband", "huawei", "BBU5900", "4G", "2019-03-01", True),
    "muc-c1-csr": ("muc-cell-1", "transport.router", "cisco", "ASR 920", "none", None, True),
    "sw1@muc-cell-1": ("muc-cell-1", "transport.switch", "huawei", "CE12800", "none", None, False),
    "ber-hub-r1": ("ber-hub", "transport.router", "nokia", "7750 SR", "none", None, True),
    "sw1@ber-hub": ("ber-hub", "transport.switch", "juniper", "QFX5120", "none", None, True),
    "ber-c1-radio": ("ber-cell-1", "ran.radio", "ericsson", "Radio 4449", "4G", "2021-06-30", True),
    "ber-c1-bb": ("ber-cell-1", "ran.baseband", "ericsson", "Baseband 6630", "4G", "2021-06-30", True),
    "ber-c1-mw": ("ber-cell-1", "transport.microwave", "zte", "ZXMW NR8250", "none", None, True),
    "fra-peer-1": ("gw-fra", "gateway.internet", "juniper", "MX204", "none", None, True),
}
WANT_LINKS = {frozenset(p) for p in [
    ("muc-c1-aau", "muc-c1-bbu"), ("muc-c1-bbu", "muc-c1-csr"), ("muc-c1-csr", "muc-core-r1"),
    ("muc-core-r1", "muc-amf-1"), ("muc-core-r1", "muc-upf-1"), ("ber-hub-r1", "muc-core-r1"),
    ("sw1@ber-hub", "ber-hub-r1"), ("ber-c1-radio", "ber-c1-bb"), ("ber-c1-bb", "ber-c1-mw"),
    ("ber-c1-mw", "ber-hub-r1"), ("fra-peer-1", "muc-core-r1")]}  # the parallel cable is the same link
WANT_CAPACITY = {  # link -> Gbit/s from SPEEDS by hand; links without speeds at either end have none
    frozenset(("muc-c1-bbu", "muc-c1-csr")): 1.0, frozenset(("muc-c1-csr", "muc-core-r1")): 10.0,
    frozenset(("muc-core-r1", "muc-upf-1")): 100.0, frozenset(("ber-hub-r1", "muc-core-r1")): 20.0,
    frozenset(("ber-c1-mw", "ber-hub-r1")): 1.0, frozenset(("fra-peer-1", "muc-core-r1")): 10.0,
}
WANT_VENDOR_COUNTS = {"huawei": 5, "nokia": 2, "juniper": 2, "ericsson": 2, "cisco": 1, "zte": 1}


@pytest.fixture(scope="session")
def netbox_server():
    """A NetBox 4.x on loopback with a superuser token, on a private copy of the migrated database.

    Skips (with the reason) only where NetBox cannot run: no python3.12 for its venv, no
    PostgreSQL or Redis, or scripts/ensure-netbox.sh not run (`make test` runs it).
    """
    from netbox_server import NetBoxServer, unavailable

    why = unavailable()
    if why:
        pytest.skip(why)
    with NetBoxServer() as srv:
        print(f"[netbox] started at {srv.url}: " + ", ".join(f"{k} {v:.1f} s" for k, v in srv.timings.items()),
              file=sys.stderr)
        yield srv


@pytest.fixture(scope="session")
def inventory(netbox_server):
    """The inventory above, created through NetBox's REST API; returns the pynetbox API and ids."""
    nb = pynetbox.api(netbox_server.url, token=netbox_server.token)
    ids: dict[str, dict] = {}
    nb.extras.custom_fields.create([
        {"name": "generation", "type": "text", "object_types": ["dcim.device"]},
        {"name": "install_date", "type": "date", "object_types": ["dcim.device"]},
        {"name": "site_kind", "type": "text", "object_types": ["dcim.site"]},
        {"name": "country", "type": "text", "object_types": ["tenancy.tenant"]},
        {"name": "encrypted", "type": "boolean", "object_types": ["dcim.cable"]},
        {"name": "macsec", "type": "boolean", "object_types": ["dcim.cable"]},       # renamed through --map
        {"name": "crypto_note", "type": "text", "object_types": ["dcim.cable"]},    # not a Boolean field
    ])
    ids["tenant"] = {t.slug: t.id for t in nb.tenancy.tenants.create([
        {"name": "Testnetz GmbH", "slug": "testnetz", "custom_fields": {"country": "DE"}},
        {"name": "Nordfunk AB", "slug": "nordfunk"},           # country from the import's --country
        {"name": "Kunde ohne Standort", "slug": "kunde"},      # owns no site: not an operator
    ])}
    ids["region"] = {r.name: r.id for r in nb.dcim.regions.create(
        [{"name": n, "slug": n.lower()} for n in ("Bayern", "Berlin")])}
    ids["site"] = {s.slug: s.id for s in nb.dcim.sites.create([
        {"name": slug, "slug": slug, "tenant": ids["tenant"][t], "latitude": lat, "longitude": lon,
         **({"region": ids["region"][r]} if r else {}),
         **({"custom_fields": {"site_kind": k}} if k else {})}
        for slug, (t, r, lat, lon, k) in SITES.items()])}
    ids["manufacturer"] = {m.slug: m.id for m in nb.dcim.manufacturers.create(
        [{"name": n, "slug": s} for s, n in MANUFACTURERS.items()])}
    ids["type"] = {t.slug: t.id for t in nb.dcim.device_types.create(
        [{"manufacturer": ids["manufacturer"][m], "model": model, "slug": s} for s, (m, model) in TYPES.items()])}
    ids["role"] = {r.slug: r.id for r in nb.dcim.device_roles.create(
        [{"name": n, "slug": s, "color": "9e9e9e"} for s, n in ROLES_NB.items()])}
    made = nb.dcim.devices.create([
        {"name": n, "site": ids["site"][s], "role": ids["role"][r], "device_type": ids["type"][t], "status": st,
         "custom_fields": {"generation": g, "install_date": d}}
        for n, s, r, t, st, g, d in DEVICES])
    ids["device"] = {(d.name, d.site.slug): d.id for d in made}

    def dev(x):
        return ids["device"][x] if isinstance(x, tuple) else next(v for (n, _), v in ids["device"].items() if n == x)

    ifaces = nb.dcim.interfaces.create([
        {"device": dev(end), "name": f"eth{i}-{side}", "type": "10gbase-x-sfpp",
         **({"speed": SPEEDS[i][side]} if SPEEDS.get(i, (None, None))[side] else {})}
        for i, pair in enumerate(CABLES) for side, end in enumerate(pair)])
    ids["cable"] = [c.id for c in nb.dcim.cables.create([
        {"a_terminations": [{"object_type": "dcim.interface", "object_id": ifaces[2 * i].id}],
         "b_terminations": [{"object_type": "dcim.interface", "object_id": ifaces[2 * i + 1].id}]}
        for i in range(len(CABLES))])]
    return nb, ids


def _check_tables(net):
    ops = {r.operator_id: (r.name, r.country) for r in net.operators.itertuples()}
    assert ops == WANT_OPERATORS
    sites = {r.site_id: (r.operator_id, r.kind, r.lat, r.lon, None if pd.isna(r.region) else r.region)
             for r in net.sites.itertuples()}
    assert sites == WANT_SITES
    els = {r.element_id: (r.site_id, r.role, r.vendor, r.model, r.generation,
                          None if pd.isna(r.installed_on) else str(r.installed_on)[:10], bool(r.in_service))
           for r in net.elements.itertuples()}
    assert els == WANT_ELEMENTS
    assert set(net.links["kind"]) == {"transport"}
    got_links = [frozenset((a, b)) for a, b in zip(net.links["a"], net.links["b"])]
    assert len(got_links) == len(set(got_links)) and set(got_links) == WANT_LINKS
    cap = {k: float(v) for k, v in zip(got_links, net.links["capacity_gbps"]) if pd.notna(v)}
    assert cap == WANT_CAPACITY
    assert not net.links["encrypted"].any()  # no cable has the field set
    assert net.elements["vendor"].value_counts().to_dict() == WANT_VENDOR_COUNTS


# -- the round trip ----------------------------------------------------------------------------------

def test_not_a_file_format():
    """NetBox is a server source: the file importers' list (uploads, file guards) does not hold it."""
    assert "netbox" not in IMPORTERS and importer("netbox") is import_netbox


def test_python_round_trip(inventory, netbox_server, workspace):
    got = read_netbox(url=netbox_server.url, token=netbox_server.token, country="SE")
    assert {t: len(df) for t, df in got.tables.items()} == {"operators": 2, "sites": 5, "elements": 13, "links": 11}
    rep = cleanpath.ingest(workspace, "netbox", [], snapshot="nb", url=netbox_server.url, token=netbox_server.token,
                           country="SE")
    assert rep.totals["elements"] == 13
    _check_tables(workspace.network("nb"))
    assert workspace.snapshots()[0].source == f"netbox: {netbox_server.url}"  # as the CLI records it
    assert any("not 'active'" in w for w in rep.warnings)


def test_cli_round_trip(inventory, netbox_server, tmp_path):
    ws = tmp_path / "ws.duckdb"
    env = {**os.environ, "NB_TOKEN": netbox_server.token}
    out = subprocess.run([*CLI, "-w", str(ws), "import", "netbox", "--url", netbox_server.url, "--token-env",
                          "NB_TOKEN", "--country", "SE", "--format", "json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["summary"]["totals"] == {"operators": 2, "sites": 5, "elements": 13, "links": 11,
                                        "sensitive_sites": 0, "demands": 0, "vendors": 0}
    assert netbox_server.token not in out.stdout + out.stderr  # the token is never echoed
    assert res["params"]["token_env"] == "NB_TOKEN"
    with cleanpath.open_workspace(ws) as w:
        _check_tables(w.network("main"))
        assert w.snapshots()[0].source == f"netbox: {netbox_server.url}"


def test_mapping_roles_types_vendors(inventory, netbox_server, tmp_path):
    """A role the defaults do not know, a device type mapped to a role, a manufacturer the catalogue
    does not know: each is an error until the mapping file names it."""
    nb, ids = inventory
    made = []
    try:
        role = nb.dcim.device_roles.create(name="Cell Site Gateway", slug="csg", color="9e9e9e")
        made.append(role)
        acme = nb.dcim.manufacturers.create(name="Acme Radio Systems", slug="acme")
        made.append(acme)
        t = nb.dcim.device_types.create(manufacturer=acme.id, model="AR-1", slug="ar-1")
        made.append(t)
        d = nb.dcim.devices.create(name="muc-c1-csg", site=ids["site"]["muc-cell-1"], role=role.id, device_type=t.id)
        made.append(d)
        with pytest.raises(ValidationError) as ei:
            read_netbox(url=netbox_server.url, token=netbox_server.token, country="SE")
        probs = {(p.file, p.line, p.column): p for p in ei.value.problems}
        assert set(probs) == {("netbox:dcim/manufacturers", acme.id, "name"),
                              ("netbox:dcim/device-roles", role.id, "name")}
        assert "Acme Radio Systems" in probs[("netbox:dcim/manufacturers", acme.id, "name")].reason
        assert "'vendors:'" in probs[("netbox:dcim/manufacturers", acme.id, "name")].reason
        mp = tmp_path / "map.yaml"
        mp.write_text("country: SE\nroles:\n  csg: transport.router\ndevice_types:\n  AR-1: ran.radio\n"
                      "vendors:\n  Acme Radio Systems: Nokia Solutions and Networks\n", encoding="utf-8")
        got = read_netbox(url=netbox_server.url, token=netbox_server.token, mapping=mp)
        el = got.tables["elements"].set_index("element_id")
        # the device type's mapping wins over its role's; the vendor resolves through the catalogue
        assert el.loc["muc-c1-csg", ["role", "vendor", "model"]].tolist() == ["ran.radio", "nokia", "AR-1"]
        assert len(el) == 14
    finally:
        for obj in reversed(made):
            obj.delete()


def test_unknown_manufacturer_lands_nothing(inventory, netbox_server, tmp_path):
    nb, ids = inventory
    made = []
    try:
        m = nb.dcim.manufacturers.create(name="Huawai Technologies", slug="huawai")
        made.append(m)
        t = nb.dcim.device_types.create(manufacturer=m.id, model="X1", slug="x1")
        made.append(t)
        made.append(nb.dcim.devices.create(name="typo-1", site=ids["site"]["muc-core"], role=ids["role"]["router"],
                                           device_type=t.id))
        ws = tmp_path / "ws.duckdb"
        env = {**os.environ, "NB_TOKEN": netbox_server.token}
        out = subprocess.run([*CLI, "-w", str(ws), "import", "netbox", "--url", netbox_server.url,
                              "--token-env", "NB_TOKEN", "--country", "SE"], capture_output=True, text=True, env=env)
        assert out.returncode == 2
        err = " ".join(out.stderr.split())
        assert f"netbox:dcim/manufacturers:{m.id}" in err and "Huawai Technologies" in err
        assert "did you mean" in err and "Huawei" in err
        assert "Traceback" not in out.stderr
        assert not ws.exists() or cleanpath.open_workspace(ws).snapshots() == []
    finally:
        for obj in reversed(made):
            obj.delete()


def test_site_without_coordinates(inventory, netbox_server, workspace):
    nb, ids = inventory
    site = nb.dcim.sites.create(name="no-coords", slug="no-coords", tenant=ids["tenant"]["testnetz"])
    try:
        with pytest.raises(ValidationError) as ei:
            cleanpath.ingest(workspace, "netbox", [], snapshot="nb", url=netbox_server.url,
                             token=netbox_server.token, country="SE")
        (p,) = ei.value.problems
        assert (p.file, p.line, p.column) == ("netbox:dcim/sites", site.id, "latitude")
        assert "'no-coords'" in p.reason
        assert workspace.snapshots() == []  # all or nothing
        # the mapping can let such sites in, without a location
        rep = cleanpath.ingest(workspace, "netbox", [], snapshot="nb", url=netbox_server.url, token=netbox_server.token,
                               country="SE", mapping={"sites_without_coordinates": "keep"})
        s = workspace.network("nb").sites.set_index("site_id")
        assert pd.isna(s.loc["no-coords", "lat"]) and s.loc["no-coords", "kind"] == "hub"
        assert any("no latitude/longitude" in w for w in rep.warnings)
    finally:
        site.delete()


def test_bad_generation_is_located_at_the_device(inventory, netbox_server):
    nb, ids = inventory
    d = nb.dcim.devices.create(name="bad-gen", site=ids["site"]["muc-cell-1"], role=ids["role"]["aau"],
                               device_type=ids["type"]["aau5613"], custom_fields={"generation": "6G"})
    try:
        got = read_netbox(url=netbox_server.url, token=netbox_server.token, country="SE")
        with pytest.raises(ValidationError) as ei:
            cleanpath.validate_tables(got.tables, sources=got.sources)
        (p,) = [got.locate(p) for p in ei.value.problems]
        assert (p.file, p.line, p.column, p.value) == ("netbox:dcim/devices", d.id, "custom_fields.generation", "6G")
    finally:
        d.delete()


# -- cables: encryption ------------------------------------------------------------------------------

def _mark(nb, ids, field: str, value, cables) -> None:
    """Set a cable custom field on the cables at these indexes into CABLES."""
    for i in cables:
        c = nb.dcim.cables.get(ids["cable"][i])
        c.custom_fields[field] = value
        c.save()


def _encrypted_links(net) -> set:
    return {frozenset((a, b)) for a, b, e in zip(net.links["a"], net.links["b"], net.links["encrypted"]) if e}


ZTE_MW_LINKS = {frozenset(("ber-c1-bb", "ber-c1-mw")), frozenset(("ber-c1-mw", "ber-hub-r1"))}


def test_encrypted_cables_take_transport_out_of_intercept(inventory, netbox_server, workspace):
    """ZTE's only gear is the microwave ber-c1-mw, transport on ber-cell-1's one route to the UPF
    (ber-c1-radio - ber-c1-bb - ber-c1-mw - ber-hub-r1 - muc-core-r1 - muc-upf-1). No site has
    subscribers, so the two sites with a serving radio (muc-cell-1, ber-cell-1; sw1 is offline)
    each send one unit: with clear cables ZTE reads ber-cell-1's unit, 1 of 2 = 0.5 (all of
    nordfunk's); with both of the microwave's cables encrypted it forwards ciphertext only: 0."""
    nb, ids = inventory

    def load(snapshot):
        rep = cleanpath.ingest(workspace, "netbox", [], snapshot=snapshot, url=netbox_server.url,
                               token=netbox_server.token, country="SE")
        net = workspace.network(snapshot)
        return rep, net, cleanpath.ask("outage", net, vendor="zte", mode="intercept")

    _, clear, before = load("clear")
    assert _encrypted_links(clear) == set()
    assert before.summary["intercept_traffic_share"] == pytest.approx(0.5)
    ops = before.tables["by_operator"].set_index("operator_id")["intercept_traffic_share"]
    assert ops.to_dict() == pytest.approx({"nordfunk": 1.0, "testnetz": 0.0})
    # cable 5 joins ber-hub-r1 and muc-core-r1 beside cable 11, which stays clear: that link stays clear
    _mark(nb, ids, "encrypted", True, (8, 9, 5))
    try:
        rep, enc, after = load("encrypted")
    finally:
        _mark(nb, ids, "encrypted", None, (8, 9, 5))
    assert _encrypted_links(enc) == ZTE_MW_LINKS
    assert any("only some" in w and ": 1 link(s)" in w for w in rep.warnings)
    assert after.summary["intercept_traffic_share"] == 0.0
    assert after.summary["traffic"] == before.summary["traffic"] == 2.0  # the same traffic, less of it read


def test_encrypted_field_renamed_through_map(inventory, netbox_server, tmp_path):
    nb, ids = inventory
    mp = tmp_path / "map.yaml"
    mp.write_text("country: SE\ncustom_fields:\n  encrypted: macsec\n", encoding="utf-8")
    env = {**os.environ, "NB_TOKEN": netbox_server.token}
    args = ["import", "netbox", "--url", netbox_server.url, "--token-env", "NB_TOKEN", "--country", "SE"]
    _mark(nb, ids, "macsec", True, (8, 9))
    try:
        out = subprocess.run([*CLI, "-w", str(tmp_path / "ws.duckdb"), *args, "--map", str(mp)],
                             capture_output=True, text=True, env=env)
        plain = subprocess.run([*CLI, "-w", str(tmp_path / "ws.duckdb"), *args, "--snapshot", "plain"],
                               capture_output=True, text=True, env=env)
    finally:
        _mark(nb, ids, "macsec", None, (8, 9))
    assert out.returncode == 0, out.stderr
    assert plain.returncode == 0, plain.stderr
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as w:
        assert _encrypted_links(w.network("main")) == ZTE_MW_LINKS
        assert _encrypted_links(w.network("plain")) == set()  # the default field 'encrypted' is unset


def test_non_boolean_encrypted_is_located_and_lands_nothing(inventory, netbox_server, workspace, tmp_path):
    """A text custom field named as the encryption field: 'yes' is not a boolean."""
    nb, ids = inventory
    cid = ids["cable"][8]
    _mark(nb, ids, "crypto_note", "yes", (8,))
    try:
        with pytest.raises(ValidationError) as ei:
            cleanpath.ingest(workspace, "netbox", [], snapshot="nb", url=netbox_server.url, token=netbox_server.token,
                             country="SE", mapping={"custom_fields": {"encrypted": "crypto_note"}})
        mp = tmp_path / "map.yaml"
        mp.write_text("custom_fields:\n  encrypted: crypto_note\n", encoding="utf-8")
        out = _cli(tmp_path / "cli.duckdb", "--url", netbox_server.url, "--token-env", "NB_TOKEN", "--country",
                   "SE", "--map", str(mp), env_extra={"NB_TOKEN": netbox_server.token})
    finally:
        _mark(nb, ids, "crypto_note", None, (8,))
    (p,) = ei.value.problems
    assert (p.file, p.line, p.column, p.value) == ("netbox:dcim/cables", cid, "custom_fields.crypto_note", "yes")
    assert "Boolean custom field" in p.reason
    assert workspace.snapshots() == []  # all or nothing
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"netbox:dcim/cables:{cid}, column 'custom_fields.crypto_note'" in " ".join(out.stderr.split())
    assert not (tmp_path / "cli.duckdb").exists() or cleanpath.open_workspace(tmp_path / "cli.duckdb").snapshots() == []


# -- connection and token problems -------------------------------------------------------------------

def _cli(ws: Path, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "NB_TOKEN"}
    env.update(env_extra or {})
    return subprocess.run([*CLI, "-w", str(ws), "import", "netbox", *args], capture_output=True, text=True, env=env)


def test_bad_token(netbox_server, tmp_path):
    out = _cli(tmp_path / "ws.duckdb", "--url", netbox_server.url, "--token-env", "NB_TOKEN",
               env_extra={"NB_TOKEN": "nbt_wrongkey1234.0123456789012345678901234567890123456789"})
    assert out.returncode == 2, out.stderr
    assert "refused the API token" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "ws.duckdb").exists() or cleanpath.open_workspace(tmp_path / "ws.duckdb").snapshots() == []


def test_missing_token_variable(tmp_path):
    out = _cli(tmp_path / "ws.duckdb", "--url", "http://127.0.0.1:9", "--token-env", "NB_TOKEN")
    assert out.returncode == 2
    assert "NB_TOKEN is not set" in " ".join(out.stderr.split()) and "Traceback" not in out.stderr


def test_unreachable_url(tmp_path):
    from netbox_server import free_port

    out = _cli(tmp_path / "ws.duckdb", "--url", f"http://127.0.0.1:{free_port()}", "--token-env", "NB_TOKEN",
               env_extra={"NB_TOKEN": "nbt_x.y"})
    assert out.returncode == 2
    assert "cannot reach NetBox" in " ".join(out.stderr.split()) and "Traceback" not in out.stderr


def test_not_netbox(netbox_server, tmp_path):
    """A URL that answers, but is not NetBox's API root."""
    out = _cli(tmp_path / "ws.duckdb", "--url", f"{netbox_server.url}/static", "--token-env", "NB_TOKEN",
               env_extra={"NB_TOKEN": netbox_server.token})
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_usage_errors(tmp_path):
    assert _cli(tmp_path / "ws.duckdb", "some.csv", "--url", "http://x", "--token-env", "V").returncode == 2
    assert _cli(tmp_path / "ws.duckdb", "--url", "http://x").returncode == 2
    out = subprocess.run([*CLI, "-w", str(tmp_path / "ws.duckdb"), "import", "tables"], capture_output=True, text=True)
    assert out.returncode == 2 and "PATHS" in out.stderr


# -- the mapping file ----------------------------------------------------------------------------------

def test_mapping_file_problems_are_located(tmp_path):
    mp = tmp_path / "m.yaml"
    mp.write_text("country: DE\nroles:\n  csg: transport.routr\nsite_kind:\n  x: hub\n", encoding="utf-8")
    with pytest.raises(ValidationError) as ei:
        load_mapping(mp)
    got = {(p.line, p.column) for p in ei.value.problems}
    assert got == {(3, "roles.csg"), (4, "site_kind")}
    assert any("did you mean 'transport.router'" in p.reason for p in ei.value.problems)
    assert any("did you mean 'site_kinds'" in p.reason for p in ei.value.problems)


def test_default_roles_are_model_roles():
    assert set(DEFAULT_ROLES.values()) <= set(cleanpath.model.schema.ROLES)
