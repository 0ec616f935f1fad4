"""Benchmark of the mapped import (``cleanpath import tables FILES --map MAP``).

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_mapped.py [--rows 1000000] [--xlsx-rows 100000]

A German OSS-style flat export (one row per element with its site repeated, ``;`` delimiter,
decimal comma, ``dd.mm.yyyy`` dates, vendor legal names) is written with ``--rows`` rows, and a
workbook with ``--xlsx-rows`` rows (written as plain SpreadsheetML, inline strings). Each stage
runs in a fresh process so that its peak RSS is its own:

``csv_dry_run``
    ``ingest(ws, "mapped", [csv], mapping=..., dry_run=True)``: sniff, read, map (values,
    decimal comma, dates, distinct sites), validate everything; nothing written.
``csv_import``
    The same, stored in a new workspace.
``xlsx_dry_run``
    The workbook through python-calamine, mapped and validated.
``baseline``
    What a user would otherwise write: ``pandas.read_csv(sep=";", decimal=",", thousands=".")``,
    ``rename`` and ``replace`` for the value tables (no validation, no storage, no locations).

This is a measurement, never a timed unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

HEADER = ["Standort-ID", "Betreiber", "Standorttyp", "Breitengrad", "Längengrad", "Element-ID", "Funktion",
          "Hersteller", "Technologie", "Inbetriebnahme", "Status", "Wiederbeschaffungswert (USD)"]
MAPPING = """
tables:
  operators:
    constants: {operator_id: telekom-de, name: Telekom Deutschland GmbH, country: DE}
  sites:
    file: FILE
    distinct: true
    columns: {site_id: Standort-ID, kind: Standorttyp, lat: Breitengrad, lon: Längengrad}
    constants: {operator_id: telekom-de}
    values:
      kind: {Funkstandort: cell}
  elements:
    file: FILE
    columns: {element_id: Element-ID, site_id: Standort-ID, role: Funktion, vendor: Hersteller,
              generation: Technologie, installed_on: Inbetriebnahme, in_service: Status,
              unit_cost: Wiederbeschaffungswert (USD)}
    values:
      role: {Funkmodul: ran.radio, Basisband: ran.baseband, Router: transport.router}
      generation: {LTE: 4G, 5G NSA: 5G-NSA, "-": none}
      in_service: {in Betrieb: "true", außer Betrieb: "false"}
"""


def _columns(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    site = np.arange(n) // 3
    fn = np.array(["Funkmodul", "Basisband", "Router"])[np.arange(n) % 3]
    tech = np.where(fn == "Router", "-", np.where(rng.random(n) < 0.3, "5G NSA", "LTE"))
    vendor = np.array(["HUAWEI TECHNOLOGIES CO., LTD.", "Telefonaktiebolaget LM Ericsson",
                       "Nokia Solutions and Networks Oy", "ZTE Corporation"])[rng.integers(0, 4, n)]
    lat = 47.5 + (site % 997) * 0.0055
    lon = 6.0 + (site // 997 % 997) * 0.0089
    day = rng.integers(1, 29, n)
    month = rng.integers(1, 13, n)
    year = rng.integers(2010, 2025, n)
    cost = rng.integers(1_000, 300_000, n)
    return [np.char.add("S", site.astype(str)), np.full(n, "Telekom Deutschland GmbH"), np.full(n, "Funkstandort"),
            np.char.replace(np.char.mod("%.5f", lat), ".", ","), np.char.replace(np.char.mod("%.5f", lon), ".", ","),
            np.char.add("E", np.arange(n).astype(str)), fn, vendor, tech,
            np.char.add(np.char.add(np.char.add(np.char.zfill(day.astype(str), 2), "."),
                                    np.char.add(np.char.zfill(month.astype(str), 2), ".")), year.astype(str)),
            np.full(n, "in Betrieb"),
            np.char.add(np.char.add((cost // 1000).astype(str), "."), np.char.add(np.char.zfill((cost % 1000).astype(str), 3), ",00"))]


def write_csv(path: Path, n: int) -> None:
    import pandas as pd

    cols = _columns(n)
    pd.DataFrame(dict(zip(HEADER, cols))).to_csv(path, sep=";", index=False)


def write_xlsx(path: Path, n: int) -> None:
    from xml.sax.saxutils import escape

    cols = _columns(n)
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w") as w:
            w.write(f'<?xml version="1.0"?><worksheet {ns}><sheetData>'.encode())
            rows = [HEADER] + [list(r) for r in zip(*cols)]
            for i, row in enumerate(rows, 1):
                # positions and costs as number cells (as Excel stores them), the rest as text
                w.write((f'<row r="{i}">' + "".join(
                    f'<c><v>{str(v).replace(".", "").replace(",", ".")}</v></c>' if i > 1 and j in (3, 4, 11) else
                    f'<c t="inlineStr"><is><t>{escape(str(v))}</t></is></c>' for j, v in enumerate(row))
                         + "</row>").encode())
            w.write(b"</sheetData></worksheet>")


def stage(name: str, path: str, mapping: str, ws: str) -> dict:
    from _measure import peak_rss_mb

    t0 = time.perf_counter()
    c0 = os.times()
    if name == "baseline":
        import pandas as pd

        df = pd.read_csv(path, sep=";", decimal=",", thousands=".", dtype={"Standort-ID": str, "Inbetriebnahme": str})
        df = df.rename(columns={"Element-ID": "element_id", "Standort-ID": "site_id", "Funktion": "role"})
        df["role"] = df["role"].replace({"Funkmodul": "ran.radio", "Basisband": "ran.baseband",
                                         "Router": "transport.router"})
        df["installed_on"] = pd.to_datetime(df["Inbetriebnahme"], format="%d.%m.%Y")
        sites = df.drop_duplicates("site_id")
        rows = {"elements": len(df), "sites": len(sites)}
    else:
        import cleanpath
        from cleanpath.store.ingest import ingest

        with cleanpath.open_workspace(ws) as w:
            rep = ingest(w, "mapped", [path], snapshot="bench", mode="replace", mapping=mapping,
                         dry_run=name.endswith("dry_run"))
        rows = rep.added
    c1 = os.times()
    return {"stage": name, "seconds": round(time.perf_counter() - t0, 2),
            "cpu": round(c1.user + c1.system - c0.user - c0.system, 2), "peak_mb": round(peak_rss_mb()),
            "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--stage", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(stage(*args.stage)))
        return
    from _measure import machine

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        csv_path, xlsx_path = d / "export.csv", d / "export.xlsx"
        t = time.perf_counter()
        write_csv(csv_path, args.rows)
        write_xlsx(xlsx_path, args.xlsx_rows)
        print(f"# wrote {args.rows:,} CSV rows ({csv_path.stat().st_size / 1e6:.0f} MB) and {args.xlsx_rows:,} "
              f"xlsx rows ({xlsx_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        for src, name in ((csv_path, "map_csv.yaml"), (xlsx_path, "map_xlsx.yaml")):
            (d / name).write_text(MAPPING.replace("FILE", src.name))
        print("# load average", os.getloadavg()[0], json.dumps(machine(("numpy", "pandas", "pyarrow", "duckdb",
                                                                         "python-calamine"))))
        for name, src, m in (("csv_dry_run", csv_path, "map_csv.yaml"), ("csv_import", csv_path, "map_csv.yaml"),
                             ("xlsx_dry_run", xlsx_path, "map_xlsx.yaml"), ("baseline", csv_path, "")):
            out = subprocess.run([sys.executable, __file__, "--stage", name, str(src), str(d / m) if m else "-",
                                  str(d / "ws.duckdb")], capture_output=True, text=True)
            print(out.stdout.strip() or out.stderr[-2000:])


if __name__ == "__main__":
    main()
