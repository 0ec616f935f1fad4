"""Benchmark of the NetBox importer (``cleanpath import netbox``) against a real NetBox.

Run from the repository root (after ``bash scripts/ensure-netbox.sh``)::

    .venv/bin/python bench/bench_netbox.py [--devices 50000] [--per-site 10]

A throw-away NetBox (tests/io/netbox_server.py: PostgreSQL, Redis, gunicorn on loopback) is
populated through its REST API with pynetbox bulk creates (1,000 objects per request): tenants,
``devices / per_site`` sites, six manufacturers, device types and roles, ``devices`` devices with
custom fields, and per site a chain of cables (radio - baseband - router, router - the next
site's router), so about one connected interface pair per device. Then, timed separately:

``populate``
    The bulk creates (NetBox's own write path; not cleanpath's cost).
``read_netbox``
    cleanpath's reader: parallel pages of 1,000 with ``?fields=``, plain dicts, frames at once.
``import``
    ``ingest(ws, "netbox", ...)``: read, validate, store in a new workspace.
``baseline``
    The straightforward pynetbox way: ``nb.dcim.devices.all()`` (and sites, interfaces) with the
    default page size, no threads, full objects, one ``Record`` per object, reading attributes
    row by row into the same columns (no validation, no storage).

This is a measurement, never a timed unit test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "io"))
sys.path.insert(0, str(ROOT / "bench"))

import pynetbox  # noqa: E402

from _measure import machine, peak_rss_mb  # noqa: E402
from netbox_server import NetBoxServer, unavailable  # noqa: E402

MANUFACTURERS = {"huawei": "Huawei Technologies Co., Ltd.", "zte": "ZTE Corporation", "ericsson": "Ericsson AB",
                 "nokia": "Nokia", "cisco": "Cisco Systems, Inc.", "juniper": "Juniper Networks"}
#: per site: the devices' (role, manufacturer) in order; the first three are cabled in a chain
LAYOUT = [("aau", "huawei"), ("bbu", "huawei"), ("router", "cisco"), ("aau", "ericsson"), ("bbu", "ericsson"),
          ("microwave", "zte"), ("switch", "juniper"), ("router", "nokia"), ("aau", "nokia"), ("bbu", "nokia")]
CHUNK = 1000


def _bulk(endpoint, rows: list[dict]) -> list:
    out = []
    for i in range(0, len(rows), CHUNK):
        out += endpoint.create(rows[i:i + CHUNK])
    return out


def _catalogue(nb, devices: int, per_site: int) -> tuple:
    """Custom fields, ten tenants, the sites (spread over Germany), manufacturers, device types and
    roles, through the REST API (both populate paths start from these)."""
    nb.extras.custom_fields.create([
        {"name": "generation", "type": "text", "object_types": ["dcim.device"]},
        {"name": "install_date", "type": "date", "object_types": ["dcim.device"]},
        {"name": "country", "type": "text", "object_types": ["tenancy.tenant"]}])
    tenants = _bulk(nb.tenancy.tenants, [{"name": f"Operator {i}", "slug": f"op-{i}", "custom_fields": {"country": "DE"}}
                                         for i in range(10)])
    n_sites = -(-devices // per_site)
    sites = _bulk(nb.dcim.sites, [{"name": f"site-{i:06d}", "slug": f"site-{i:06d}", "tenant": tenants[i % 10].id,
                                   "latitude": round(47.3 + (i * 7919 % 10000) / 10000 * 7.7, 6),
                                   "longitude": round(5.9 + (i * 104729 % 10000) / 10000 * 9.1, 6)}
                                  for i in range(n_sites)])
    mans = {m.slug: m.id for m in nb.dcim.manufacturers.create([{"name": n, "slug": s} for s, n in MANUFACTURERS.items()])}
    types = {(r, m): x.id for (r, m), x in zip(
        dict.fromkeys(LAYOUT), nb.dcim.device_types.create(
            [{"manufacturer": mans[m], "model": f"{m}-{r}", "slug": f"{m}-{r}"} for r, m in dict.fromkeys(LAYOUT)]))}
    roles = {x.slug: x.id for x in nb.dcim.device_roles.create(
        [{"name": r, "slug": r, "color": "9e9e9e"} for r in dict.fromkeys(r for r, _ in LAYOUT)])}
    return n_sites, sites, types, roles


def populate(nb, devices: int, per_site: int) -> dict:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    n_sites, sites, types, roles = _catalogue(nb, devices, per_site)
    t["sites"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows = []
    for i in range(devices):
        s, k = divmod(i, per_site)
        role, man = LAYOUT[k % len(LAYOUT)]
        rows.append({"name": f"d{i:07d}", "site": sites[s].id, "role": roles[role], "device_type": types[(role, man)],
                     "custom_fields": {"generation": "4G" if role in ("aau", "bbu") else None,
                                       "install_date": f"{2015 + i % 10}-0{1 + i % 9}-15"}})
    made = _bulk(nb.dcim.devices, rows)
    t["devices"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    by_site: dict[int, list[int]] = {}
    for d in made:
        by_site.setdefault(d.site.id, []).append(d.id)
    pairs = []
    site_ids = list(by_site)
    for j, sid in enumerate(site_ids):
        ds = by_site[sid]
        pairs += [(ds[0], ds[1]), (ds[1], ds[2])] if len(ds) >= 3 else []
        if len(ds) >= 3 and j + 1 < len(site_ids) and len(by_site[site_ids[j + 1]]) >= 3:
            pairs.append((ds[2], by_site[site_ids[j + 1]][2]))
    ifaces = _bulk(nb.dcim.interfaces, [{"device": d, "name": f"eth{k}-{n}", "type": "10gbase-x-sfpp"}
                                        for n, pair in enumerate(pairs) for k, d in enumerate(pair)])
    t["interfaces"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    _bulk(nb.dcim.cables, [{"a_terminations": [{"object_type": "dcim.interface", "object_id": ifaces[2 * n].id}],
                            "b_terminations": [{"object_type": "dcim.interface", "object_id": ifaces[2 * n + 1].id}]}
                           for n in range(len(pairs))])
    t["cables"] = time.perf_counter() - t3
    t["total"] = time.perf_counter() - t0
    return {"seconds": t, "sites": n_sites, "devices": devices, "cables": len(pairs)}


_ORM = """
import json, time
from dcim.models import Cable, Device, Interface
spec = json.loads(open({spec!r}).read())
t0 = time.perf_counter()
Device.objects.bulk_create([Device(name=n, site_id=s, role_id=r, device_type_id=t, status="active",
                                   custom_field_data=cf) for n, s, r, t, cf in spec["devices"]], batch_size=2000)
t1 = time.perf_counter()
ids = dict(Device.objects.filter(name__in=[p for pair in spec["pairs"] for p in pair]).values_list("name", "id"))
made = Interface.objects.bulk_create([Interface(device_id=ids[d], name=f"eth{{k}}-{{n}}", type="10gbase-x-sfpp")
                                      for n, pair in enumerate(spec["pairs"]) for k, d in enumerate(pair)],
                                     batch_size=2000)
t2 = time.perf_counter()
for n in range(len(spec["pairs"])):  # save() runs NetBox's signals: terminations and cable paths
    c = Cable(a_terminations=[made[2 * n]], b_terminations=[made[2 * n + 1]])
    c.save()
t3 = time.perf_counter()
print(json.dumps({{"devices": t1 - t0, "interfaces": t2 - t1, "cables": t3 - t2}}))
"""


def populate_orm(srv, nb, devices: int, per_site: int, cables_per_site: int = 3) -> dict:
    """The same inventory, devices, interfaces and cables written by NetBox's own ORM in one
    ``netbox shell`` (bulk inserts; cables saved one by one so NetBox traces their paths):
    what 50 k devices take when the REST path (about 15 devices/s here) is too slow to wait for."""
    t0 = time.perf_counter()
    n_sites, sites, types, roles = _catalogue(nb, devices, per_site)
    t_rest = time.perf_counter() - t0
    devs, pairs = [], []
    for i in range(devices):
        s, k = divmod(i, per_site)
        role, man = LAYOUT[k % len(LAYOUT)]
        devs.append((f"d{i:07d}", sites[s].id, roles[role], types[(role, man)],
                     {"generation": "4G" if role in ("aau", "bbu") else None,
                      "install_date": f"{2015 + i % 10}-0{1 + i % 9}-15"}))
    for s in range(n_sites):
        ds = [d[0] for d in devs[s * per_site:(s + 1) * per_site]]
        if len(ds) >= 3:
            if cables_per_site == 3:
                pairs += [(ds[0], ds[1]), (ds[1], ds[2])]
            nxt = devs[(s + 1) * per_site:(s + 2) * per_site]
            if len(nxt) >= 3:
                pairs.append((ds[2], nxt[2][0]))
    spec = srv.dir / "populate.json"
    spec.write_text(json.dumps({"devices": devs, "pairs": pairs}))
    code = srv.dir / "populate.py"
    code.write_text(_ORM.format(spec=str(spec)))
    out = srv.manage("shell", "-c", f"exec(open({str(code)!r}).read())")
    t = json.loads(out.strip().splitlines()[-1])
    t["rest_parts"] = t_rest
    t["total"] = time.perf_counter() - t0
    return {"seconds": t, "sites": n_sites, "devices": devices, "cables": len(pairs), "how": "orm"}


def baseline(url: str, token: str) -> dict:
    """pynetbox as its README shows it: .all(), Records, attributes read one by one."""
    nb = pynetbox.api(url, token=token)
    t0 = time.perf_counter()
    sites = [(s.id, s.slug, s.latitude, s.longitude, s.region.name if s.region else None,
              s.tenant.slug if s.tenant else None) for s in nb.dcim.sites.all()]
    devices = [(d.id, d.name, d.site.id, d.role.slug, d.device_type.model, d.device_type.manufacturer.name,
                d.status.value, d.custom_fields.get("generation"), d.custom_fields.get("install_date"))
               for d in nb.dcim.devices.all()]
    links = []
    for i in nb.dcim.interfaces.filter(connected=True):
        for e in i.connected_endpoints or []:
            links.append((i.device.id, e.device.id))
    return {"seconds": time.perf_counter() - t0, "sites": len(sites), "devices": len(devices),
            "interface_pairs": len(links)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=50_000)
    ap.add_argument("--per-site", type=int, default=10)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--cables-per-site", type=int, choices=[1, 3], default=3,
                    help="orm: 3 = radio-baseband, baseband-router, router-next site's router; 1 = the last only "
                         "(NetBox traces every cable's path on save, about 0.1 s each here)")
    ap.add_argument("--populate", choices=["rest", "orm"], default="rest",
                    help="rest: pynetbox bulk creates (what the tests do); orm: NetBox's ORM in a netbox shell")
    args = ap.parse_args()
    why = unavailable()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    import cleanpath
    from cleanpath.io.netbox import read_netbox

    out: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine(("pandas", "pyarrow", "pynetbox")),
                 "devices": args.devices}
    with NetBoxServer(workers=2, threads=4) as srv:
        out["server_start_s"] = srv.timings
        nb = pynetbox.api(srv.url, token=srv.token)
        print(f"populating {args.devices:,} devices...", file=sys.stderr)
        out["populate"] = (populate(nb, args.devices, args.per_site) if args.populate == "rest"
                           else populate_orm(srv, nb, args.devices, args.per_site, args.cables_per_site))
        print(json.dumps(out["populate"]), file=sys.stderr)
        t0 = time.perf_counter()
        got = read_netbox(url=srv.url, token=srv.token)
        out["read_netbox_s"] = time.perf_counter() - t0
        out["rows"] = {k: len(v) for k, v in got.tables.items()}
        print(f"read_netbox {out['read_netbox_s']:.1f} s {out['rows']}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as d:
            ws = cleanpath.open_workspace(Path(d) / "ws.duckdb")
            t0 = time.perf_counter()
            rep = cleanpath.ingest(ws, "netbox", [], snapshot="nb", url=srv.url, token=srv.token)
            out["import_s"] = time.perf_counter() - t0
            out["stored"] = rep.totals
            ws.close()
        print(f"import {out['import_s']:.1f} s", file=sys.stderr)
        if not args.no_baseline:
            out["baseline"] = baseline(srv.url, srv.token)
            print(f"baseline {out['baseline']}", file=sys.stderr)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
