"""Importer for OpenCelliD cell exports: cells become operators, cell sites and RAN elements.

OpenCelliD (``cell_towers.csv`` and its per-MCC extracts, plain or gzipped, with or without the
header row) lists *cells* with crowd-sourced positions, one per line::

    radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal

(``lon`` comes before ``lat``). The model wants *sites* and *elements*, so cells are grouped:

* **LTE**: the 28-bit ECI is a 20-bit eNB id and an 8-bit local cell id, so eNB = ``cell // 256``.
* **NR**: the 36-bit NR cell identity splits into a gNB id of 22 to 32 bits (the operator's choice,
  never broadcast) and a local cell id. We assume a 12-bit local part, gNB = ``cell // 4096``
  (a 24-bit gNB id, a common configuration). An operator with shorter gNB ids has each gNB split
  into up to four; one with longer ids has neighbouring gNBs merged; the import warns when a gNB
  or eNB group spans more than :data:`NODE_SPREAD_WARN_M`, which is how either shows up.
* Each eNB is a site (key: mcc, net, eNB). A gNB whose position lies within
  :data:`COLOCATION_M` of an eNB of the same network joins that site, otherwise it is a site of
  its own. Co-located 5G is taken to be non-standalone (NSA), which is how most operators started
  5G; a lone gNB is standalone (SA).
* **GSM, UMTS, CDMA** cells carry no base-station id that is standard across operators, so they
  join the nearest eNB/gNB site of the same network within :data:`COLOCATION_M`; the rest are
  clustered by position per network: snapped to a :data:`GRID_M` grid, grid clusters whose
  centroids lie within :data:`MERGE_M` merged (so a site that straddles a grid line stays one
  site), unless the merged cluster would spread wider than :data:`MAX_SITE_SPREAD_M` (no chains
  across a city).
* A site's position is the mean of its cells' positions (on the sphere) weighted by their
  ``samples``; cells with ``changeable = 0`` (position given by the operator, not estimated)
  outweigh estimated ones.

Elements: per site and generation (GSM -> 2G, UMTS/CDMA -> 3G, LTE -> 4G, NR -> 5G-NSA at a site
that also has LTE, else 5G-SA) one ``ran.baseband`` and one ``ran.radio`` joined by a transport
(fronthaul) link, plus an ``anchor`` link from each 5G-NSA radio to its site's 4G baseband. One
radio element per *site and generation* rather than per cell: the world file has about 40 M
cells, and one element per cell would make every analysis carry tens of millions of elements that
are swapped together anyway (a site's RAN is replaced as one unit); the radio's ``model`` records
how many cells it stands for ("3 cells").

Operators come from the shipped MCC/MNC table (``cleanpath/data/mccmnc.csv``); several MNCs of one
operator become one operator. An MCC/MNC the table does not know becomes an operator named
``"mcc-mnc"`` with a warning; its cells are never dropped. OpenCelliD has no vendor field: every
element gets ``vendor`` (``--vendor``) or ``"unknown"``.

Bad rows (a non-numeric mcc, a latitude of 95, an unknown radio, too few fields...) are reported
together, with file and line, up to :data:`cleanpath.errors.MAX_PROBLEMS`; nothing is imported.
Everything after reading is vectorised (numpy, pyarrow, scipy's k-d tree and sparse graph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cleanpath.errors import MAX_PROBLEMS, Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import InputFile, check_text, expand_paths, read_input
from cleanpath.io.registry import Imported, as_paths
from cleanpath.model.schema import ELEMENTS, LINKS, OPERATORS, SITES
from cleanpath.model.validate import Source, arrow_frame

#: Columns of an OpenCelliD export without a header row, in order.
COLUMNS = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
           "changeable", "created", "updated", "averagesignal")
#: Radio technologies, in code order.
RADIOS = ("GSM", "UMTS", "CDMA", "LTE", "NR")
GSM, UMTS, CDMA, LTE, NR = range(len(RADIOS))
#: Generation index (0: 2G .. 3: 5G) of each radio code.
_GEN_OF_RADIO = np.array([0, 1, 1, 2, 3], dtype=np.int64)
_GEN_LABEL = ("2G", "3G", "4G", "5G")

#: Bits of the local cell id inside an LTE ECI (3GPP TS 36.300: 20-bit eNB id + 8-bit cell id).
LTE_LOCAL_BITS = 8
#: Bits assumed for the local cell id inside an NR cell identity (36 bits; gNB id 22..32 bits).
NR_LOCAL_BITS = 12
#: A gNB or legacy cell this close (metres) to a site of the same network joins it.
COLOCATION_M = 200.0
#: Grid spacing (metres) for clustering GSM/UMTS/CDMA cells that joined no eNB/gNB site.
GRID_M = 150.0
#: Grid clusters whose centroids are this close (metres) are merged into one site.
MERGE_M = 100.0
#: A merged cluster whose cells spread wider than this (metres) is split back into grid cells.
MAX_SITE_SPREAD_M = 300.0
#: eNB/gNB groups whose cells lie farther than this (metres) from their centre are reported.
NODE_SPREAD_WARN_M = 5000.0
#: Largest LTE ECI and NR cell identity (exclusive) that 3GPP allows.
_CELL_LIMIT = {LTE: 1 << 28, NR: 1 << 36}

_EARTH_RADIUS_M = 6_371_008.8
#: Offset (metres) on a fourth k-d tree axis that keeps different networks from ever matching.
_NETWORK_SEPARATION_M = 1e8
_REQUIRED = ("radio", "mcc", "net", "area", "cell", "lon", "lat")
_OPTIONAL = ("samples", "changeable")
_INT_COLUMNS = ("mcc", "net", "area", "cell", "samples", "changeable")
_INT_RE = r"^\s*-?\d{1,18}\s*$"
_FLOAT_RE = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
#: Weight of a cell whose position the operator supplied (changeable = 0).
_EXACT_WEIGHT = 1e9


# --- the MCC/MNC table ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def mccmnc_table() -> pd.DataFrame:
    """The shipped MCC/MNC table (``cleanpath/data/mccmnc.csv``).

    Returns
    -------
    DataFrame
        Columns ``operator_id, mcc, mnc, country, operator, brand`` as text (``mnc`` keeps its
        leading zeros: ``"01"`` and ``"001"`` are different codes) plus integer ``mcc_int`` and
        ``mnc_int``. The first row of an operator is its primary network code.
    """
    ref = resources.files("cleanpath.data").joinpath("mccmnc.csv")
    df = pd.read_csv(ref.open("rb"), dtype=str, keep_default_na=False, encoding="utf-8")
    df["mcc_int"] = df["mcc"].astype(int)
    df["mnc_int"] = df["mnc"].astype(int)
    return df


def mcc_countries() -> dict[int, str]:
    """ISO country of each MCC in the shipped table (310-316 -> US...)."""
    t = mccmnc_table()
    return dict(zip(t["mcc_int"].tolist(), t["country"].tolist()))


@dataclass(frozen=True)
class _Networks:
    """Per distinct (mcc, net) pair in the input: label and operator."""

    mcc: np.ndarray
    net: np.ndarray
    label: np.ndarray  # "262-01"
    operator_id: np.ndarray
    country: np.ndarray  # ISO2, or None where the MCC is unknown
    known: np.ndarray  # bool: pair found in the table
    rank: np.ndarray  # row in the table (its primary code comes first), or a large number


def _networks(mcc: np.ndarray, net: np.ndarray) -> _Networks:
    """Look the distinct (mcc, net) pairs up in the shipped table (a loop over pairs, not cells)."""
    t = mccmnc_table()
    by_pair = {(m, n): i for i, (m, n) in enumerate(zip(t["mcc_int"], t["mnc_int"]))}
    countries = mcc_countries()
    label, op, cty, rank = [], [], [], []
    for m, n in zip(mcc.tolist(), net.tolist()):
        i = by_pair.get((m, n))
        if i is None:
            label.append(f"{m}-{n:02d}")
            op.append(label[-1])
            cty.append(countries.get(m))
            rank.append(len(t) + len(rank))
        else:
            label.append(f"{m}-{t['mnc'].iat[i]}")
            op.append(t["operator_id"].iat[i])
            cty.append(t["country"].iat[i])
            rank.append(i)
    rank_arr = np.array(rank, dtype=np.int64)
    return _Networks(mcc, net, np.array(label, dtype=object), np.array(op, dtype=object),
                     np.array(cty, dtype=object), rank_arr < len(t), rank_arr)


# --- reading -------------------------------------------------------------------------------------

@dataclass
class _Cells:
    """Cells as typed numpy columns."""

    radio: np.ndarray  # int8 code into RADIOS
    mcc: np.ndarray
    net: np.ndarray
    area: np.ndarray
    cell: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.radio)

    def take(self, rows: np.ndarray) -> "_Cells":
        return _Cells(**{k: v[rows] for k, v in self.__dict__.items()})

    @classmethod
    def concat(cls, parts: list["_Cells"]) -> "_Cells":
        if len(parts) == 1:
            return parts[0]
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in parts[0].__dict__})


def _nonblank_lines(data: bytes) -> np.ndarray:
    """1-based physical line number of every non-blank line (pyarrow skips blank ones)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    length = ends - starts
    first = arr[np.minimum(starts, max(len(arr) - 1, 0))] if len(arr) else np.zeros(0, np.uint8)
    blank = (length == 0) | ((length == 1) & (first == 13)) | (starts >= len(arr))
    return np.flatnonzero(~blank) + 1


@dataclass
class _Layout:
    """How a file is laid out: where data starts and what the columns are called."""

    offset: int  # bytes skipped at the start (BOM, leading blank lines)
    names: list[str]
    header: bool


_BLANK_LINES = re.compile(rb"(?:[ \t\r\f\v]*\n)*")


def _layout(f: InputFile, problems: ProblemCollector) -> _Layout:
    data = f.data
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    # Leading blank lines would confuse pyarrow's skip_rows, so parsing starts after them. One
    # regex match skips them all at C speed (a file of a million newlines is no Python loop).
    start = _BLANK_LINES.match(data, start).end()
    end = data.find(b"\n", start)
    line = data[start: len(data) if end < 0 else end]
    first = line.decode("utf-8").strip()
    fields = [x.strip().strip('"').lower() for x in first.split(",")]
    if fields and fields[0] == "radio":
        seen: set[str] = set()
        for name in fields:
            if name in seen:
                problems.add("column name appears twice in the header", line=1, column=name, value=name)
            seen.add(name)
        missing = [c for c in _REQUIRED if c not in seen]
        if missing:
            problems.add(f"header lacks required column(s) {', '.join(missing)}; an OpenCelliD "
                         f"header reads {','.join(COLUMNS)}", line=1, value=first)
        return _Layout(start, fields, True)
    return _Layout(start, list(COLUMNS), False)


def _parse(f: InputFile, lay: _Layout, *, typed: bool, threads: bool
           ) -> tuple[pa.Table, list[tuple[int | None, int, int, str]]]:
    """Parse the columns the importer needs; typed, or as text for precise error reports."""
    include = [c for c in _REQUIRED + _OPTIONAL if c in lay.names]
    if typed:
        types = {c: pa.int64() for c in _INT_COLUMNS}
        types.update(lon=pa.float64(), lat=pa.float64(), radio=pa.dictionary(pa.int32(), pa.string()))
    else:
        types = {c: pa.string() for c in include}
    bad: list[tuple[int | None, int, int, str]] = []

    def on_invalid(row) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    buf = pa.py_buffer(f.data)
    if lay.offset:
        buf = buf.slice(lay.offset)
    table = pacsv.read_csv(
        pa.BufferReader(buf),
        read_options=pacsv.ReadOptions(column_names=lay.names, skip_rows=1 if lay.header else 0,
                                       use_threads=threads, block_size=16 << 20),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(include_columns=include,
                                             column_types={c: types[c] for c in include},
                                             null_values=[""], strings_can_be_null=True,
                                             quoted_strings_can_be_null=True),
    )
    return table, bad


def _int_column(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Values (-1 where null) and null mask of an int64 column."""
    null = col.is_null().to_numpy(zero_copy_only=False)
    return pc.fill_null(col, -1).to_numpy(), null


def _radio_codes(col: pa.ChunkedArray) -> np.ndarray:
    """Code into :data:`RADIOS` of each value; -1 for unknown or missing (case-insensitive)."""
    if col.num_chunks == 0:
        return np.zeros(0, dtype=np.int8)
    out = []
    wanted = pa.array(RADIOS)
    for chunk in col.chunks:
        if not isinstance(chunk, pa.DictionaryArray):
            chunk = chunk.dictionary_encode()
        # Map the few distinct spellings, then gather by index: no per-row string work.
        codes = pc.index_in(pc.utf8_upper(pc.utf8_trim_whitespace(chunk.dictionary)), value_set=wanted)
        codes = pc.fill_null(codes, -1).to_numpy().astype(np.int8)
        idx = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
        out.append(np.where(idx >= 0, codes[np.maximum(idx, 0)] if len(codes) else -1, -1).astype(np.int8))
    return np.concatenate(out)


class _Report:
    """Problems of one file, kept sorted by line, at most :data:`MAX_PROBLEMS`."""

    def __init__(self, f: InputFile, line_of: Callable[[np.ndarray], np.ndarray]):
        self.f = f
        self.line_of = line_of
        self.found: list[tuple[int, str | None, str | None, str]] = []
        self.total = 0

    def rows(self, bad: np.ndarray, column: str, reason: str, values) -> None:
        rows = np.flatnonzero(bad)
        self.total += len(rows)
        rows = rows[:MAX_PROBLEMS]
        if len(rows) == 0:
            return
        lines = self.line_of(rows)
        vals = values(rows)
        self.found += [(int(ln), column, v, reason) for ln, v in zip(lines, vals)]

    def line(self, line: int, reason: str, value: str | None) -> None:
        self.total += 1
        self.found.append((int(line), None, value, reason))

    def problems(self) -> list[Problem]:
        self.found.sort(key=lambda t: t[0])
        return [Problem(reason, self.f.label, line, column, value)
                for line, column, value, reason in self.found[:MAX_PROBLEMS]]


def _check(cols: dict[str, tuple[np.ndarray, np.ndarray]], radio: np.ndarray, raw_radio: pa.ChunkedArray,
           rep: _Report, text: dict[str, pa.ChunkedArray] | None, unparsed: dict[str, np.ndarray]) -> None:
    """Report missing, unparseable and out-of-range values (vectorised per column)."""

    def values(name: str):
        def get(rows: np.ndarray) -> list[str | None]:
            if name == "radio":
                return raw_radio.take(pa.array(rows)).to_pylist()
            if text is not None and name in text:
                return text[name].take(pa.array(rows)).to_pylist()
            v, null = cols[name]
            return [None if null[r] else repr(v[r].item()) if v.dtype.kind == "f" else str(v[r]) for r in rows]
        return get

    radio_null = raw_radio.is_null().to_numpy(zero_copy_only=False)
    rep.rows(radio_null, "radio", "radio is missing", values("radio"))
    rep.rows((radio < 0) & ~radio_null, "radio", "unknown radio; expected GSM, UMTS, CDMA, LTE or NR",
             values("radio"))
    for name in _REQUIRED[1:] + _OPTIONAL:
        if name not in cols:
            continue
        v, null = cols[name]
        bad_text = unparsed.get(name, np.zeros(len(v), dtype=bool))
        kind = "a whole number" if name in _INT_COLUMNS else "a number"
        rep.rows(bad_text, name, f"not {kind}", values(name))
        if name in _REQUIRED:
            rep.rows(null & ~bad_text, name, f"{name} is missing", values(name))
        ok = ~null
        if name == "mcc":
            rep.rows(ok & ((v < 1) | (v > 999)), name, "mcc must be 1..999", values(name))
        elif name == "net":
            cdma = radio == CDMA
            rep.rows(ok & ~cdma & ((v < 0) | (v > 999)), name, "net (MNC) must be 0..999", values(name))
            rep.rows(ok & cdma & ((v < 0) | (v > 32767)), name, "net (CDMA SID) must be 0..32767",
                     values(name))
        elif name in ("area", "cell", "samples"):
            rep.rows(ok & (v < 0), name, f"{name} must not be negative", values(name))
        elif name == "changeable":
            rep.rows(ok & (v != 0) & (v != 1), name, "changeable must be 0 or 1", values(name))
        elif name == "lon":
            rep.rows(ok & ~((v >= -180) & (v <= 180)), name,
                     "longitude outside -180..180 (OpenCelliD puts lon before lat)", values(name))
        elif name == "lat":
            rep.rows(ok & ~((v >= -90) & (v <= 90)), name,
                     "latitude outside -90..90 (OpenCelliD puts lon before lat)", values(name))


def _typed_columns(table: pa.Table) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    cols = {}
    for name in table.column_names:
        if name == "radio":
            continue
        col = table.column(name)
        if name in ("lon", "lat"):
            cols[name] = (pc.fill_null(col, np.nan).to_numpy(), col.is_null().to_numpy(zero_copy_only=False))
        else:
            cols[name] = _int_column(col)
    return cols


def _from_text(table: pa.Table) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """Parse text columns; values that do not parse become null and are flagged."""
    cols, unparsed = {}, {}
    for name in table.column_names:
        if name == "radio":
            continue
        col = table.column(name)
        ok = pc.match_substring_regex(col, _FLOAT_RE if name in ("lon", "lat") else _INT_RE)
        bad = pc.and_(pc.is_valid(col), pc.invert(pc.fill_null(ok, False)))
        unparsed[name] = bad.to_numpy(zero_copy_only=False)
        clean = pc.if_else(pc.fill_null(ok, False), pc.utf8_trim_whitespace(col), pa.scalar(None, pa.string()))
        if name in ("lon", "lat"):
            f = pc.cast(clean, pa.float64())
            cols[name] = (pc.fill_null(f, np.nan).to_numpy(), f.is_null().to_numpy(zero_copy_only=False))
        else:
            cols[name] = _int_column(pc.cast(clean, pa.int64()))
    return cols, unparsed


def _read_cells(f: InputFile) -> _Cells:
    """Read one OpenCelliD file, or raise every problem it has (with lines)."""
    check_text(f, what="OpenCelliD CSV")
    head = ProblemCollector(f.label)
    lay = _layout(f, head)
    head.raise_if_any()
    lines_cache: dict[str, np.ndarray] = {}

    def nonblank() -> np.ndarray:
        if "l" not in lines_cache:
            lines_cache["l"] = _nonblank_lines(f.data)
        return lines_cache["l"]

    first_record = 2 if lay.header else 1
    text = None
    unparsed: dict[str, np.ndarray] = {}
    invalid: list[tuple[int | None, int, int, str]] = []
    try:
        table, invalid = _parse(f, lay, typed=True, threads=True)
        if invalid:
            raise pa.ArrowInvalid("ragged rows")
        cols = _typed_columns(table)
        radio = _radio_codes(table.column("radio"))

        def line_of(rows: np.ndarray) -> np.ndarray:
            return nonblank()[np.asarray(rows) + first_record - 1]
    except pa.ArrowInvalid:
        # Something does not parse: read again as text, single-threaded so that every ragged row
        # has its line number, and report everything at once.
        try:
            table, invalid = _parse(f, lay, typed=False, threads=False)
        except pa.ArrowInvalid as e:
            raise ValidationError(Problem(f"cannot parse as CSV: {e}", f.label)) from None
        cols, unparsed = _from_text(table)
        text = {c: table.column(c) for c in table.column_names}
        radio = _radio_codes(table.column("radio"))
        skipped = np.array(sorted(n for n, *_ in invalid if n is not None), dtype=np.int64)
        n_records = len(nonblank())
        records = np.arange(first_record, n_records + 1, dtype=np.int64)
        if len(skipped):
            records = np.setdiff1d(records, skipped, assume_unique=True)

        def line_of(rows: np.ndarray) -> np.ndarray:
            return nonblank()[records[np.asarray(rows)] - 1]
    rep = _Report(f, line_of)
    lines = nonblank() if invalid else None
    for number, expected, actual, row_text in invalid:
        line = int(lines[number - 1]) if number is not None and number - 1 < len(lines) else 0
        rep.line(line, f"row has {actual} field{'s' if actual != 1 else ''}, expected {expected}"
                 + (" (truncated row?)" if actual < expected else ""), row_text)
    _check(cols, radio, table.column("radio"), rep, text, unparsed)
    if rep.found:
        raise ValidationError(rep.problems(), truncated=rep.total > MAX_PROBLEMS)
    n = len(radio)
    samples = cols["samples"][0] if "samples" in cols else np.full(n, -1)
    weight = np.maximum(samples, 1).astype(np.float64)
    if "changeable" in cols:
        weight = np.where(cols["changeable"][0] == 0, _EXACT_WEIGHT, weight)
    return _Cells(radio.astype(np.int8), cols["mcc"][0], cols["net"][0], cols["area"][0],
                  cols["cell"][0], cols["lon"][0], cols["lat"][0], weight)


# --- geometry helpers ----------------------------------------------------------------------------

def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the sphere in metres (Earth-centred); chord distance ~ great-circle distance."""
    la, lo = np.radians(lat), np.radians(lon)
    c = np.cos(la)
    return _EARTH_RADIUS_M * np.column_stack((c * np.cos(lo), c * np.sin(lo), np.sin(la)))


def _latlon(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    return np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))


def _centroids(group: np.ndarray, k: int, xyz: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mean position of each group, projected back onto the sphere."""
    s = np.column_stack([np.bincount(group, weights=xyz[:, d] * w, minlength=k) for d in range(3)])
    norm = np.linalg.norm(s, axis=1, keepdims=True)
    return _EARTH_RADIUS_M * s / np.where(norm > 0, norm, 1.0)


def _with_network(xyz: np.ndarray, network: np.ndarray) -> np.ndarray:
    return np.column_stack((xyz, network.astype(np.float64) * _NETWORK_SEPARATION_M))


def _nearest_within(pts: np.ndarray, pts_net: np.ndarray, targets: np.ndarray, targets_net: np.ndarray,
                    radius: float) -> np.ndarray:
    """Index of the nearest target of the same network within ``radius`` metres, else -1."""
    from scipy.spatial import cKDTree

    if len(pts) == 0 or len(targets) == 0:
        return np.full(len(pts), -1, dtype=np.int64)
    tree = cKDTree(_with_network(targets, targets_net), balanced_tree=False)
    _d, idx = tree.query(_with_network(pts, pts_net), distance_upper_bound=radius, workers=-1)
    return np.where(idx < len(targets), idx, -1).astype(np.int64)


def _factorize(*cols: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Codes of the distinct rows of non-negative int columns, in sorted order, and the rows."""
    n = len(cols[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), [c[:0] for c in cols]
    bits = [max(int(c.max()).bit_length(), 1) for c in cols]
    if sum(bits) <= 62:
        # Pack into one int64 key: hashing one column is much faster than sorting several.
        key = np.zeros(n, dtype=np.int64)
        for c, b in zip(cols, bits):
            key = (key << b) | c.astype(np.int64)
        codes, uniq = pd.factorize(key, sort=True)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[codes[::-1]] = np.arange(n - 1, -1, -1)
    else:
        order = np.lexsort(cols[::-1])
        srt = [c[order] for c in cols]
        change = np.zeros(n, dtype=bool)
        change[0] = True
        for c in srt:
            change[1:] |= c[1:] != c[:-1]
        sorted_codes = np.cumsum(change) - 1
        codes = np.empty(n, dtype=np.int64)
        codes[order] = sorted_codes
        first = order[change]
    return codes.astype(np.int64), [c[first] for c in cols]


# --- grouping cells into sites -------------------------------------------------------------------

@dataclass
class _Sites:
    """Sites found: per cell its site; per site its network, kind (0 eNB, 1 gNB, 2 cluster) and id parts."""

    of_cell: np.ndarray
    network: np.ndarray
    kind: np.ndarray
    a: np.ndarray  # eNB / gNB id, or grid row
    b: np.ndarray  # grid column (clusters)
    spread_nodes: int  # eNB/gNB groups wider than NODE_SPREAD_WARN_M


def _cluster_legacy(net: np.ndarray, xyz: np.ndarray, lat: np.ndarray, lon: np.ndarray, w: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cluster cells per network by position: grid snap, merge near neighbours, cap the spread.

    Returns
    -------
    label, network, row, column
        Cluster of each cell; per cluster its network and the grid row/column that names it.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    dlat = np.degrees(GRID_M / _EARTH_RADIUS_M)
    iy = np.floor(lat / dlat).astype(np.int64)
    # Columns are GRID_M wide at the row's mid-latitude, so cells stay about square.
    dlon = dlat / np.maximum(np.cos(np.radians((iy + 0.5) * dlat)), 1e-3)
    ix = np.floor((lon + 180.0) / dlon).astype(np.int64)
    off = int(np.ceil(90.0 / dlat)) + 1
    g, (g_net, g_iy, g_ix) = _factorize(net, iy + off, ix)
    k = len(g_net)
    g_xyz = _centroids(g, k, xyz, w)
    pairs = cKDTree(_with_network(g_xyz, g_net)).query_pairs(MERGE_M, output_type="ndarray")
    adj = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(k, k))
    n_comp, comp = connected_components(adj, directed=False)
    c_xyz = _centroids(comp[g], n_comp, xyz, w)
    dist = np.linalg.norm(xyz - c_xyz[comp[g]], axis=1)
    spread = np.zeros(n_comp)
    np.maximum.at(spread, comp[g], dist)
    # A merged cluster that spreads too far is a chain of separate sites: keep its grid cells.
    label_of_g = np.where(spread[comp] > MAX_SITE_SPREAD_M, n_comp + np.arange(k), comp)
    codes, (uniq,) = _factorize(label_of_g)
    rep = np.full(len(uniq), k, dtype=np.int64)
    np.minimum.at(rep, codes, np.arange(k))  # grid codes are sorted, so the minimum names it
    return codes[g], g_net[rep], g_iy[rep] - off, g_ix[rep]


def _group_sites(radio: np.ndarray, net: np.ndarray, cell: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                 w: np.ndarray) -> _Sites:
    """Assign every cell to a site (see the module docstring for the rules)."""
    n = len(radio)
    xyz = _xyz(lat, lon)
    is_nr = radio == NR
    is_node = (radio == LTE) | is_nr
    node_cells = np.flatnonzero(is_node)
    node_id = np.where(is_nr, cell >> NR_LOCAL_BITS, cell >> LTE_LOCAL_BITS)[node_cells]
    codes, (node_net2, node_num) = _factorize(net[node_cells] * 2 + is_nr[node_cells], node_id)
    k = len(node_num)
    node_xyz = _centroids(codes, k, xyz[node_cells], w[node_cells])
    far = np.linalg.norm(xyz[node_cells] - node_xyz[codes], axis=1) > NODE_SPREAD_WARN_M
    spread_nodes = int(np.unique(codes[far]).size)
    node_net, node_is_nr = node_net2 // 2, (node_net2 % 2).astype(bool)

    # gNBs join a co-located eNB of the same network; the others are sites of their own.
    lte_nodes, nr_nodes = np.flatnonzero(~node_is_nr), np.flatnonzero(node_is_nr)
    hit = _nearest_within(node_xyz[nr_nodes], node_net[nr_nodes], node_xyz[lte_nodes], node_net[lte_nodes],
                          COLOCATION_M)
    anchors = np.concatenate((lte_nodes, nr_nodes[hit < 0]))
    site_of_node = np.empty(k, dtype=np.int64)
    site_of_node[anchors] = np.arange(len(anchors))
    site_of_node[nr_nodes[hit >= 0]] = site_of_node[lte_nodes[hit[hit >= 0]]]

    of_cell = np.full(n, -1, dtype=np.int64)
    of_cell[node_cells] = site_of_node[codes]
    # GSM/UMTS/CDMA cells join the nearest eNB/gNB site of their network...
    legacy = np.flatnonzero(~is_node)
    hit = _nearest_within(xyz[legacy], net[legacy], node_xyz[anchors], node_net[anchors], COLOCATION_M)
    of_cell[legacy[hit >= 0]] = hit[hit >= 0]
    # ...or are clustered among themselves.
    rest = legacy[hit < 0]
    label, c_net, c_row, c_col = _cluster_legacy(net[rest], xyz[rest], lat[rest], lon[rest], w[rest]) \
        if len(rest) else (np.zeros(0, np.int64),) + (np.zeros(0, np.int64),) * 3
    of_cell[rest] = len(anchors) + label
    return _Sites(
        of_cell,
        np.concatenate((node_net[anchors], c_net)),
        np.concatenate((node_is_nr[anchors].astype(np.int8), np.full(len(c_net), 2, np.int8))),
        np.concatenate((node_num[anchors], c_row)),
        np.concatenate((np.zeros(len(anchors), np.int64), c_col)),
        spread_nodes,
    )


# --- building the tables -------------------------------------------------------------------------

def _take_text(values: np.ndarray, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as an Arrow string array, without a per-row Python object."""
    d = pa.DictionaryArray.from_arrays(pa.array(idx, type=pa.int32()), pa.array(values.tolist(), pa.string()))
    return pc.cast(d, pa.string())


def _const(value: str, n: int) -> pa.Array:
    return _take_text(np.array([value], dtype=object), np.zeros(n, dtype=np.int64))


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and string scalars."""
    return pc.binary_join_element_wise(*parts, "")


def _site_ids(sites: _Sites, labels: np.ndarray) -> pa.Array:
    net_label = _take_text(labels, sites.network)
    kind = _take_text(np.array(["-enb", "-gnb", "-cl"], dtype=object), sites.kind.astype(np.int64))
    a = pc.cast(pa.array(sites.a), pa.string())
    tail = pc.if_else(pa.array(sites.kind == 2), _join(".", pc.cast(pa.array(sites.b), pa.string())), "")
    return _join(net_label, kind, a, tail)


def _build_tables(cells: _Cells, nets: _Networks, net_of_cell: np.ndarray, sites: _Sites, vendor: str,
                  country_default: str) -> dict[str, pd.DataFrame]:
    n_sites = len(sites.network)
    site_id = _site_ids(sites, nets.label)
    xyz = _centroids(sites.of_cell, n_sites, _xyz(cells.lat, cells.lon), cells.weight)
    lat, lon = _latlon(xyz)
    op_codes, op_ids = pd.factorize(nets.operator_id)
    site_tab = arrow_frame(SITES, {
        "site_id": site_id,
        "operator_id": _take_text(np.asarray(op_ids, dtype=object), op_codes[sites.network]),
        "kind": _const("cell", n_sites),
        "lat": np.round(lat, 6), "lon": np.round(lon, 6),
    })

    # One baseband and one radio per site and generation.
    gen = _GEN_OF_RADIO[cells.radio]
    groups, counts = np.unique(sites.of_cell * 4 + gen, return_counts=True)
    g_site, g_gen = groups // 4, groups % 4
    g4 = np.full(n_sites, -1, dtype=np.int64)
    g4[g_site[g_gen == 2]] = np.flatnonzero(g_gen == 2)
    nsa = (g_gen == 3) & (g4[g_site] >= 0)
    generation = np.where(nsa, "5G-NSA", np.array(["2G", "3G", "4G", "5G-SA"], dtype=object)[g_gen])
    base = _join(pc.take(site_id, pa.array(g_site)), "/",
                 _take_text(np.array(_GEN_LABEL, dtype=object), g_gen))
    bb_id, radio_id = _join(base, "-bb"), _join(base, "-radio")
    m = len(groups)
    count_txt = pc.cast(pa.array(counts), pa.string())
    model = _join(count_txt, pc.if_else(pa.array(counts == 1), " cell", " cells"))
    gen_txt = pa.array(generation.tolist(), pa.string())
    elements = arrow_frame(ELEMENTS, {
        "element_id": pa.concat_arrays([bb_id, radio_id]),
        "site_id": pa.concat_arrays([pc.take(site_id, pa.array(g_site))] * 2),
        "role": pa.concat_arrays([_const("ran.baseband", m), _const("ran.radio", m)]),
        "vendor": _const(vendor, 2 * m),
        "model": pa.concat_arrays([pa.nulls(m, pa.string()), model]),
        "generation": pa.concat_arrays([gen_txt, gen_txt]),
        "in_service": pa.array(np.ones(2 * m, dtype=bool)),
    })
    anchored = np.flatnonzero(nsa)
    links = arrow_frame(LINKS, {
        "a": pa.concat_arrays([radio_id, pc.take(radio_id, pa.array(anchored))]),
        "b": pa.concat_arrays([bb_id, pc.take(bb_id, pa.array(g4[g_site[anchored]]))]),
        "kind": pa.concat_arrays([_const("transport", m), _const("anchor", len(anchored))]),
    })

    # Operators: one row per operator seen, with the first of its network codes in the table seen.
    used = np.unique(net_of_cell)
    first = {}
    for i in used[np.argsort(nets.rank[used], kind="stable")].tolist():
        first.setdefault(nets.operator_id[i], i)
    table = mccmnc_table()
    names = {r.operator_id: r.brand or r.operator for r in table.drop_duplicates("operator_id").itertuples()}
    rows = []
    for op, i in first.items():
        mnc = int(nets.net[i])
        rows.append({"operator_id": op, "name": names.get(op, op),
                     "country": nets.country[i] or country_default, "mcc": int(nets.mcc[i]),
                     "mnc": mnc if mnc <= 999 else None})
    operators = arrow_frame(OPERATORS, {c: [r[c] for r in rows] for c in ("operator_id", "name", "country",
                                                                         "mcc", "mnc")})
    return {"operators": operators, "sites": site_tab, "elements": elements, "links": links}


def _dedupe(cells: _Cells, warnings: list[str]) -> _Cells:
    """Keep the last record of each logical cell (radio, mcc, net, area, cell)."""
    key = pd.DataFrame({"r": cells.radio, "m": cells.mcc, "n": cells.net, "a": cells.area, "c": cells.cell})
    dup = key.duplicated(keep="last").to_numpy()
    if dup.any():
        warnings.append(f"{int(dup.sum()):,} cell record(s) repeated (same radio, mcc, net, area, cell); "
                        "kept the last of each")
        return cells.take(np.flatnonzero(~dup))
    return cells


def import_opencellid(paths, *, vendor: str | None = None, country: str | None = None,
                      **_ignored) -> Imported:
    """Import OpenCelliD cell exports as operators, cell sites, RAN elements and links.

    Parameters
    ----------
    paths
        OpenCelliD CSV files (``.csv`` or ``.csv.gz``, with or without the header row), or
        directories of them.
    vendor
        Vendor of every element (OpenCelliD has no vendor field); default ``"unknown"``.
    country
        ISO 3166-1 alpha-2 code: import only this country's cells (by MCC, from the shipped
        table). Cells whose MCC the table does not know are kept and taken to be in this country.

    Returns
    -------
    Imported
        ``operators``, ``sites``, ``elements`` and ``links``, with warnings (unknown MCC/MNC,
        repeated cells, cells of other countries, implausible cell ids).

    Raises
    ------
    ValidationError
        Unreadable files or bad rows (every problem with file and line, up to 100); nothing is
        imported.
    """
    files = expand_paths(as_paths(paths))
    if not files:
        raise ValidationError("no input files given")
    if country is not None:
        country = str(country).strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError(Problem("country must be an ISO 3166-1 alpha-2 code such as DE",
                                          column="country", value=country))
    problems = ProblemCollector()
    parts = []
    for p in files:
        try:
            parts.append(_read_cells(read_input(p)))
        except ValidationError as e:
            problems.extend(e.problems)
            problems.truncated |= e.truncated
    problems.raise_if_any()
    cells = _Cells.concat(parts)
    label = ", ".join(map(str, files))
    if len(cells) == 0:
        raise ValidationError(Problem("no cells in the input", label))
    warnings: list[str] = []
    cells = _dedupe(cells, warnings)

    net_of_cell, (net_mcc, net_net) = _factorize(cells.mcc, cells.net)
    nets = _networks(net_mcc, net_net)
    if country is not None:
        keep_net = np.array([c is None or c == country for c in nets.country], dtype=bool)
        keep = keep_net[net_of_cell]
        if not keep.any():
            seen = sorted({c for c in nets.country if c})
            raise ValidationError(Problem(f"no cells of country {country} in the input (countries by MCC: "
                                          f"{', '.join(seen) or 'none known'})", label, column="mcc"))
        if not keep.all():
            warnings.append(f"{int((~keep).sum()):,} cell(s) of other countries than {country} skipped")
            cells, net_of_cell = cells.take(np.flatnonzero(keep)), net_of_cell[keep]
    _warn_networks(nets, net_of_cell, country, warnings)
    _warn_cell_ids(cells, warnings)

    sites = _group_sites(cells.radio, net_of_cell, cells.cell, cells.lat, cells.lon, cells.weight)
    if sites.spread_nodes:
        warnings.append(f"{sites.spread_nodes:,} eNB/gNB group(s) have cells more than "
                        f"{NODE_SPREAD_WARN_M / 1000:g} km from their centre (crowd-sourced positions, "
                        "or a gNB id length other than the assumed 24 bits)")
    tables = _build_tables(cells, nets, net_of_cell, sites, vendor or "unknown", country or "ZZ")
    sources = {t: Source(f"{label} (opencellid -> {t})") for t in tables}
    return Imported(tables, sources, warnings)


def _warn_networks(nets: _Networks, net_of_cell: np.ndarray, country: str | None,
                   warnings: list[str]) -> None:
    counts = np.bincount(net_of_cell, minlength=len(nets.label))
    unknown = np.flatnonzero(~nets.known & (counts > 0))
    if len(unknown):
        top = unknown[np.argsort(-counts[unknown], kind="stable")][:10]
        listed = ", ".join(f"{nets.label[i]} ({counts[i]:,} cells)" for i in top)
        warnings.append(f"{len(unknown)} MCC/MNC pair(s) not in the operator table, kept as operators named "
                        f"'mcc-mnc': {listed}{' ...' if len(unknown) > 10 else ''}")
    no_country = np.flatnonzero(np.array([c is None for c in nets.country], dtype=bool) & (counts > 0))
    if len(no_country):
        mccs = sorted({int(nets.mcc[i]) for i in no_country})
        warnings.append(f"MCC(s) {', '.join(map(str, mccs[:10]))} not in the operator table; their operators "
                        f"get country {country or 'ZZ (unknown)'}")


def _warn_cell_ids(cells: _Cells, warnings: list[str]) -> None:
    for code, limit in _CELL_LIMIT.items():
        bad = int(((cells.radio == code) & (cells.cell >= limit)).sum())
        if bad:
            warnings.append(f"{bad:,} {RADIOS[code]} cell id(s) at or above 2^{limit.bit_length() - 1}, beyond "
                            "the 3GPP range; grouped as given")
