"""Write the shipped OpenCelliD-format sample: synthetic cells around Kaiserslautern (DE).

    python scripts/make_opencellid_sample.py            # rewrites the shipped file
    python scripts/make_opencellid_sample.py --check    # exit 1 if the shipped file differs

The file has OpenCelliD's exact format (header, column order ``lon`` before ``lat``, LTE ECI =
eNB id x 256 + local cell id, NR cell identity = gNB id x 4096 + local id, UMTS long CID =
RNC x 65536 + CID, epoch timestamps) but **every value is invented** by this script with a fixed
seed: no row comes from OpenCelliD or any other source, so the file needs no attribution and
carries no share-alike licence (real OpenCelliD data is CC BY-SA 4.0). It exists so that the
README's ``cleanpath estimate`` example runs offline on a realistic file.

Layout: three German networks (MCC 262, MNC 1, 2, 3) with macro sites scattered around
Kaiserslautern, denser in the city than 25 km out (the distance from the centre is drawn from a
gamma distribution); Ramstein Air Base, one of the shipped sensitive sites, lies inside the
covered area. Every site has LTE (one to three sectors); some also carry 5G NR (non-standalone,
same mast), GSM or UMTS; a few NR-only sites exist. Cell positions scatter up to 80 m around
the mast, as crowd-sourced estimates do.

Deterministic: the same seed gives the same bytes (the gzip header's time is fixed at 0).
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "cleanpath" / "data" / "examples" / \
    "opencellid_synthetic_sample.csv.gz"
SEED = 20261205
CENTRE = (49.4447, 7.7690)  # Kaiserslautern, Stiftsplatz
HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
#: MNC -> (macro sites, share of sites with NR, with GSM, with UMTS)
NETWORKS = {1: (260, 0.55, 0.45, 0.0), 2: (230, 0.45, 0.40, 0.0), 3: (200, 0.50, 0.0, 0.15)}
M_PER_DEG = 111_195.0


def _offsets(rng: np.random.Generator, lat: np.ndarray, dist_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude steps of ``dist_m`` metres in uniformly random directions."""
    bearing = rng.uniform(0, 2 * np.pi, dist_m.size)
    dlat = dist_m * np.cos(bearing) / M_PER_DEG
    dlon = dist_m * np.sin(bearing) / (M_PER_DEG * np.cos(np.radians(lat)))
    return dlat, dlon


def _cells(rng: np.random.Generator, mnc: int, n_sites: int, p_nr: float, p_gsm: float, p_umts: float) -> list[np.ndarray]:
    """Columns (radio, area, cell, unit, lon, lat) of one network's cells, vectorised."""
    dist = rng.gamma(1.6, 4_000.0, n_sites).clip(150, 30_000)  # metres from the centre
    dlat, dlon = _offsets(rng, np.full(n_sites, CENTRE[0]), dist)
    site_lat, site_lon = CENTRE[0] + dlat, CENTRE[1] + dlon
    sectors = rng.choice([1, 2, 3], n_sites, p=[0.1, 0.2, 0.7])
    enb = 20_000 * mnc + 1_000 + np.arange(n_sites)  # eNB ids, unique per network
    nr_only = rng.random(n_sites) < 0.04
    has_lte = ~nr_only
    has_nr = nr_only | (rng.random(n_sites) < p_nr)
    has_gsm = has_lte & (rng.random(n_sites) < p_gsm)
    has_umts = has_lte & (rng.random(n_sites) < p_umts)
    tac = 41_000 + 100 * mnc + (dist // 5_000).astype(np.int64)  # tracking areas in rings

    radio, area, cell, site = [], [], [], []
    for local in (1, 2, 3):  # LTE sectors
        m = has_lte & (sectors >= local)
        radio += ["LTE"] * int(m.sum()); area.append(tac[m]); cell.append(enb[m] * 256 + local); site.append(np.flatnonzero(m))
    for local in (1, 2, 3):  # NR sectors, gNB id = eNB id (a common planning choice)
        m = has_nr & (sectors >= local)
        radio += ["NR"] * int(m.sum()); area.append(tac[m]); cell.append(enb[m] * 4096 + local); site.append(np.flatnonzero(m))
    radio += ["GSM"] * int(has_gsm.sum()); area.append(tac[has_gsm] - 40_000)
    cell.append(10_000 + np.flatnonzero(has_gsm)); site.append(np.flatnonzero(has_gsm))
    radio += ["UMTS"] * int(has_umts.sum()); area.append(tac[has_umts] - 40_000)
    cell.append((300 + mnc) * 65536 + np.flatnonzero(has_umts)); site.append(np.flatnonzero(has_umts))

    area_a, cell_a, site_a = np.concatenate(area), np.concatenate(cell), np.concatenate(site)
    radio_a = np.array(radio, dtype=object)
    n = radio_a.size
    jlat, jlon = _offsets(rng, site_lat[site_a], rng.uniform(0, 80, n))
    unit = np.where(radio_a == "GSM", -1, rng.integers(0, 504, n))
    return [radio_a, np.full(n, mnc), area_a, cell_a, unit, site_lon[site_a] + jlon, site_lat[site_a] + jlat]


def build(seed: int = SEED) -> bytes:
    """The sample's gzip bytes."""
    rng = np.random.default_rng(seed)
    parts = [_cells(rng, mnc, *spec) for mnc, spec in NETWORKS.items()]
    radio, mnc, area, cell, unit, lon, lat = (np.concatenate([p[i] for p in parts]) for i in range(7))
    order = np.lexsort((cell, radio.astype(str), mnc))
    n = order.size
    rng_ = rng.integers(200, 6_000, n)
    samples = rng.integers(1, 400, n)
    changeable = (rng.random(n) > 0.03).astype(np.int64)
    created = 1_420_070_400 + rng.integers(0, 300_000_000, n)
    updated = created + rng.integers(86_400, 200_000_000, n)
    buf = io.StringIO()
    buf.write(HEADER + "\n")
    for i in order:  # a few thousand rows, written once by a script
        u = "" if unit[i] < 0 else str(unit[i])
        buf.write(f"{radio[i]},262,{mnc[i]},{area[i]},{cell[i]},{u},{lon[i]:.6f},{lat[i]:.6f},{rng_[i]},"
                  f"{samples[i]},{changeable[i]},{created[i]},{updated[i]},0\n")
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as g:
        g.write(buf.getvalue().encode("ascii"))
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = ap.parse_args()
    data = build()
    if args.check:
        same = OUT.exists() and OUT.read_bytes() == data
        print(f"{OUT}: {'up to date' if same else 'differs'}")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
