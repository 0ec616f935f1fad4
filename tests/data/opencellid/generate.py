"""Generate the synthetic OpenCelliD fixtures in this directory (run it to rebuild them).

The cells are invented: real OpenCelliD data is CC BY-SA 4.0 and not available offline. The
layout is chosen so the right grouping is known by construction and written to ``truth.json``:
sites 2 km apart, cells of one site within 30 m of its centre, gNBs 60 m and GSM/UMTS cells up
to 50 m from the eNB they share a mast with. Nothing here calls cleanpath.

    python tests/data/opencellid/generate.py
"""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
rng = random.Random(20240711)


def offset(lat: float, lon: float, dist_m: float, bearing_deg: float) -> tuple[float, float]:
    """Point ``dist_m`` metres from (lat, lon) on a bearing (flat-earth, fine at this scale)."""
    b = math.radians(bearing_deg)
    dlat = dist_m * math.cos(b) / 111_195.0
    dlon = dist_m * math.sin(b) / (111_195.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def jitter(lat: float, lon: float, max_m: float = 30.0) -> tuple[float, float]:
    return offset(lat, lon, rng.uniform(0, max_m), rng.uniform(0, 360))


def row(radio: str, mcc: int, net: int, area: int, cell: int, lat: float, lon: float,
        changeable: int = 1) -> str:
    unit = rng.randint(0, 503) if radio in ("LTE", "NR", "UMTS") else ""
    samples = rng.randint(1, 60)
    created = 1_500_000_000 + rng.randint(0, 10**8)
    return (f"{radio},{mcc},{net},{area},{cell},{unit},{lon:.6f},{lat:.6f},{rng.randint(100, 5000)},"
            f"{samples},{changeable},{created},{created + 86400},0")


def grid_site(i: int, lat0: float, lon0: float) -> tuple[float, float]:
    """Site i of a 2 km x 2 km lattice."""
    return lat0 + (i // 10) * 0.018, lon0 + (i % 10) * 0.0277


def germany() -> tuple[list[str], dict]:
    lat0, lon0 = 49.40, 7.60
    rows: list[str] = []
    truth = {}
    # Telekom 262-01: eNB sites 0..9 (3 cells each); gNBs at sites 0..3 (NSA); NR-only sites 10, 11;
    # GSM at sites 0..5; UMTS at 0..1; GSM-only sites 12..14; UMTS-only site 15.
    for s in range(10):
        la, lo = grid_site(s, lat0, lon0)
        for local in (1, 2, 3):
            rows.append(row("LTE", 262, 1, 4100, (100001 + s) * 256 + local, *jitter(la, lo)))
        if s < 4:
            nla, nlo = offset(la, lo, 60, 45 + 90 * s)
            for local in (0, 1):
                rows.append(row("NR", 262, 1, 4100, (200001 + s) * 4096 + local, *jitter(nla, nlo, 20)))
        if s < 6:
            for k in range(2):
                rows.append(row("GSM", 262, 1, 301, 5000 + 10 * s + k, *jitter(la, lo, 50)))
        if s < 2:
            for k in range(3):
                rows.append(row("UMTS", 262, 1, 301, 65536 * 12 + 100 * s + k, *jitter(la, lo, 50)))
    for s in (10, 11):
        la, lo = grid_site(s + 10, lat0, lon0)  # second lattice row + 1: far from every eNB
        for local in (0, 1, 2):
            rows.append(row("NR", 262, 1, 4100, (200010 + s) * 4096 + local, *jitter(la, lo)))
    for s in (12, 13, 14):
        la, lo = grid_site(s + 10, lat0, lon0)
        for k in range(3):
            rows.append(row("GSM", 262, 1, 302, 7000 + 10 * s + k, *jitter(la, lo)))
    la, lo = grid_site(25, lat0, lon0)
    for k in range(2):
        rows.append(row("UMTS", 262, 1, 302, 65536 * 13 + k, *jitter(la, lo)))
    # One cell reported twice (the export merges several sources): must count once.
    rows.append(rows[0])
    truth["de-telekom"] = {"sites": 16, "2G": 9, "3G": 3, "4G": 10, "5G-NSA": 4, "5G-SA": 2,
                           "cells": 30 + 8 + 12 + 6 + 6 + 9 + 2}

    # Vodafone 262-02 shares the masts of sites 0..4 with the same eNB ids as Telekom; its GSM cells
    # at site 5's mast must not join Telekom's site there. 262-09 is another Vodafone code.
    for s in range(5):
        la, lo = grid_site(s, lat0, lon0)
        for local in (1, 2):
            rows.append(row("LTE", 262, 2, 5100, (100001 + s) * 256 + local, *jitter(la, lo)))
    la, lo = grid_site(5, lat0, lon0)
    for k in range(2):
        rows.append(row("GSM", 262, 2, 401, 9000 + k, *jitter(la, lo)))
    la, lo = grid_site(30, lat0, lon0)
    for local in (1, 2, 3):
        rows.append(row("LTE", 262, 9, 5101, 333 * 256 + local, *jitter(la, lo)))
    truth["de-vodafone"] = {"sites": 7, "2G": 1, "3G": 0, "4G": 6, "5G-NSA": 0, "5G-SA": 0,
                            "cells": 10 + 2 + 3}

    # An MNC the table does not know (operator "262-99"); one exact position (changeable = 0).
    la, lo = grid_site(31, lat0, lon0)
    rows.append(row("LTE", 262, 99, 1, 77 * 256 + 1, *jitter(la, lo)))
    rows.append(row("LTE", 262, 99, 1, 77 * 256 + 2, la, lo, changeable=0))
    truth["262-99"] = {"sites": 1, "2G": 0, "3G": 0, "4G": 1, "5G-NSA": 0, "5G-SA": 0, "cells": 2,
                       "exact_lat": round(la, 6), "exact_lon": round(lo, 6)}

    # A CDMA network in the US: net is the SID (4179 > 999); three cells of one site.
    for k in range(3):
        rows.append(row("CDMA", 311, 4179, 12, 3000 + k, *jitter(38.90, -77.03)))
    truth["311-4179"] = {"sites": 1, "2G": 0, "3G": 1, "4G": 0, "5G-NSA": 0, "5G-SA": 0, "cells": 3}
    rng.shuffle(rows)
    return rows, truth


def italy() -> tuple[list[str], dict]:
    lat0, lon0 = 45.50, 11.50
    rows: list[str] = []
    for s in range(4):
        la, lo = grid_site(s, lat0, lon0)
        for local in (11, 12, 13):
            rows.append(row("LTE", 222, 10, 20001, (41000 + s) * 256 + local, *jitter(la, lo)))
        if s < 2:
            rows.append(row("UMTS", 222, 10, 2001, 65536 * 3 + s, *jitter(la, lo, 50)))
    # Eight UMTS-only sites: with 30 m jitter some straddle a 150 m grid line, still one site each.
    for s in range(8):
        la, lo = grid_site(10 + s, lat0, lon0)
        for k in range(3):
            rows.append(row("UMTS", 222, 10, 2002, 65536 * 4 + 10 * s + k, *jitter(la, lo)))
    return rows, {"it-vodafone": {"sites": 12, "2G": 0, "3G": 10, "4G": 4, "5G-NSA": 0, "5G-SA": 0,
                                  "cells": 12 + 2 + 24}}


def bad() -> str:
    good = row("LTE", 262, 1, 4100, 100001 * 256 + 1, 49.4, 7.6)
    lines = [
        HEADER,                                                                  # 1
        good,                                                                    # 2
        good.replace(",262,", ",abc,", 1),                                       # 3 mcc not a number
        "LTE,262,1,4100,25600257,12,7.600000,95.000000,1000,5,1,1500000000,1500086400,0",  # 4 lat 95
        "XYZ,262,1,4100,25600258,12,7.600000,49.400000,1000,5,1,1500000000,1500086400,0",  # 5 radio
        "",                                                                      # 6 blank (skipped)
        "LTE,262,1",                                                             # 7 too few fields
        good,                                                                    # 8
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    de, truth = germany()
    it, truth_it = italy()
    truth.update(truth_it)
    (HERE / "cells_de.csv").write_text(HEADER + "\n" + "\n".join(de) + "\n")
    # The Italian file has no header and is gzipped, like OpenCelliD's per-MCC downloads.
    with gzip.GzipFile(HERE / "cells_it.csv.gz", "wb", mtime=0) as g:
        g.write(("\n".join(it) + "\n").encode())
    (HERE / "bad.csv").write_text(bad())
    (HERE / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
