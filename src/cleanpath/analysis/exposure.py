"""The ``exposure`` question: what equipment lies around each sensitive site, from whom.

For every sensitive site (a circle of ``radius_m`` around its point, or its GeoJSON polygon) the
sites and elements inside it, counted by vendor, operator and generation; how many are from
untrusted vendors; and the nearest site or cell holding untrusted equipment, wherever it is.

The equipment is either a snapshot's sites and elements (one point per site, weighted by its
elements) or cell tables in Parquet such as an OpenCelliD export (one point per cell) read in row
groups, never wholly in memory. The join is :mod:`cleanpath.geo.join` (exact haversine on the
sphere, inclusive boundaries); the work can be spread by space over processes or a Dask cluster
(:mod:`cleanpath.scale`) with the same results as the local run.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.geo.geometry import parse_areas
from cleanpath.geo.grid import CELLS_PER_RADIUS_DENSE, Grid, choose_cell_m, spatial_order
from cleanpath.geo.join import ZoneJoin, Zones, connect, distance_of_h, fetch, nearest
from cleanpath.geo.sphere import MAX_DISTANCE_M, destination
from cleanpath.model.network import Network
from cleanpath.model.schema import SENSITIVE_KINDS, SENSITIVE_SITES
from cleanpath.model.vendors import UNKNOWN, default_catalogue
from cleanpath.policy.vendorset import network_vendors, resolve_vendor_set
from cleanpath.result import Result
from cleanpath.scale.executor import Executor, chunks, get_executor

#: Breakdown tables a result can carry (``by_vendor``, ``by_operator``, ``by_generation``).
BREAKDOWNS = ("vendor", "operator", "generation")
DEFAULT_BY = BREAKDOWNS
#: OpenCelliD ``radio`` to generation. OpenCelliD cannot tell 5G non-standalone from standalone;
#: NR cells count as 5G-NSA, the layer nearly all NR deployments so far ride on.
RADIO_GENERATION = {"GSM": "2G", "UMTS": "3G", "CDMA": "3G", "LTE": "4G", "NR": "5G-NSA"}
#: Partition tasks see every point this far beyond their sites' areas (at least; twice the typical
#: radius when that is more), so a nearest untrusted point found within it is final; the rest are
#: searched once more over all points. Small, so neighbouring partitions share few points.
NEAREST_MARGIN_M = 10_000.0
#: The columns every point relation has (see :class:`TablePoints`). ``ven``, ``op`` and ``gen``
#: are integer codes of vendor, operator and generation: grouping tens of millions of pairs by
#: small integers is several times cheaper than by text; labels come back after aggregation.
POINT_COLUMNS = ("pid", "lat", "lon", "site", "ven", "op", "gen", "n", "nu", "fs", "fsv", "fsg")
_PAIR_COLUMNS = ("site", "ven", "op", "gen", "n", "nu", "fs", "fsv", "fsg")
#: The code column of each breakdown, and the flag column that counts its sites.
_CODE = {"vendor": "ven", "operator": "op", "generation": "gen"}
_SITE_FLAG = {"total": "fs", "vendor": "fsv", "operator": "fs", "generation": "fsg"}
GENERATION_LABELS = ("2G", "3G", "4G", "5G-NSA", "5G-SA", "none")


def _encode(arr: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, tuple]:
    """Dictionary codes (int32, nulls kept) and labels of a text column."""
    enc = pa.chunked_array(arr).combine_chunks().dictionary_encode() if isinstance(arr, pa.ChunkedArray) \
        else arr.dictionary_encode()
    return enc.indices.cast(pa.int32()), tuple(enc.dictionary.to_pylist())


def _labels(codes: np.ndarray, labels: Sequence) -> np.ndarray:
    lab = np.array(list(labels) + [None], dtype=object)
    c = np.asarray(codes, dtype="float64")
    idx = np.where(np.isnan(c), len(labels), c).astype(np.int64)
    return lab[idx]


# -- point sources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TablePoints:
    """Equipment positions held in memory, one row per (site, vendor, generation).

    Attributes
    ----------
    table
        Arrow table with :data:`POINT_COLUMNS` plus ``ident`` (what to call a point in results);
        ``pid`` is the row's position in the full table, kept in subsets; ``n`` and ``nu`` count
        elements and untrusted elements; ``fs``, ``fsv``, ``fsg`` flag the first row of its site,
        of its (site, vendor) and of its (site, generation), for counting sites.
    vendors, operators, generations
        Labels of the ``ven``, ``op`` and ``gen`` codes.
    """

    table: pa.Table
    vendors: tuple = ()
    operators: tuple = ()
    generations: tuple = ()
    distinct_sites = False
    dense = False

    def sql(self, con) -> str:
        name = f"_pts_{id(self.table):x}"
        # DuckDB scans an Arrow table one record batch per thread: slice it (zero-copy) so every
        # core gets work.
        con.register(name, pa.Table.from_batches(self.table.to_batches(max_chunksize=1 << 17), self.table.schema))
        return f"SELECT * EXCLUDE (ident) FROM {name}"

    def subset(self, rows: np.ndarray) -> "TablePoints":
        return replace(self, table=self.table.take(pa.array(rows, type=pa.int64())))

    @property
    def lat(self) -> np.ndarray:
        return self.table.column("lat").to_numpy()

    @property
    def lon(self) -> np.ndarray:
        return self.table.column("lon").to_numpy()

    def labels(self, kind: str, codes: np.ndarray) -> np.ndarray:
        return _labels(codes, {"vendor": self.vendors, "operator": self.operators,
                               "generation": self.generations}[kind])

    def prepare_untrusted(self, con, pts: str) -> str:
        return f"SELECT pid, lat, lon FROM ({pts}) WHERE nu > 0"

    def lookup(self, pids: np.ndarray, con=None) -> pd.DataFrame:
        """``ident``, ``lat``, ``lon`` of points by pid."""
        pid_col = self.table.column("pid").to_numpy()
        rows = np.searchsorted(pid_col, pids)  # pids are sorted row numbers, kept in subsets
        t = self.table.take(pa.array(rows, type=pa.int64()))
        return pd.DataFrame({"pid": pids, "ident": t.column("ident").to_pylist(),
                             "lat": t.column("lat").to_numpy(), "lon": t.column("lon").to_numpy()})

    def describe(self) -> str:
        return f"{self.table.num_rows:,} site/vendor/generation rows"


def network_points(net: Network, untrusted: set[str]) -> TablePoints:
    """One point per (site, vendor, generation) of a network, with element counts.

    Sites without a position are left out (the caller reports how many); sites without elements
    are kept with zero counts so they still count as sites.
    """
    con = connect()
    sites = pa.Table.from_pandas(net.sites[["site_id", "operator_id", "lat", "lon"]], preserve_index=False)
    els = pa.Table.from_pandas(net.elements[["site_id", "vendor", "generation"]], preserve_index=False)
    bad = pa.table({"vendor": pa.array(sorted(untrusted), type=pa.string())})
    con.register("s", sites)
    con.register("e", els)
    con.register("bad", bad)
    # Ordered, so pid (the row number) is the same on every run and every executor.
    table = fetch(con, """
        WITH s AS (SELECT row_number() OVER (ORDER BY site_id) - 1 AS site, * FROM s),
        e AS (SELECT site_id, vendor, coalesce(generation, 'none') AS generation, count(*) AS n,
                     count(*) FILTER (WHERE vendor IN (SELECT vendor FROM bad)) AS nu
              FROM e GROUP BY ALL)
        SELECT (row_number() OVER (ORDER BY s.site, e.vendor NULLS FIRST, e.generation NULLS FIRST) - 1)::BIGINT AS pid,
               s.lat::DOUBLE AS lat, s.lon::DOUBLE AS lon, s.site::BIGINT AS site,
               e.vendor AS ven, s.operator_id AS op, e.generation AS gen,
               coalesce(e.n, 0)::BIGINT AS n, coalesce(e.nu, 0)::BIGINT AS nu,
               (row_number() OVER (PARTITION BY s.site ORDER BY e.vendor, e.generation) = 1)::BIGINT AS fs,
               (row_number() OVER (PARTITION BY s.site, e.vendor ORDER BY e.generation) = 1)::BIGINT AS fsv,
               (row_number() OVER (PARTITION BY s.site, e.generation ORDER BY e.vendor) = 1)::BIGINT AS fsg,
               s.site_id AS ident
        FROM s LEFT JOIN e USING (site_id)
        WHERE s.lat IS NOT NULL AND s.lon IS NOT NULL AND NOT isnan(s.lat) AND NOT isnan(s.lon)
        ORDER BY pid""")
    con.close()
    labels = {}
    for col in ("ven", "op", "gen"):
        codes, labels[col] = _encode(table.column(col))
        table = table.set_column(table.schema.get_field_index(col), col, codes)
    return TablePoints(table, labels["ven"], labels["op"], labels["gen"])


def _find(names: Iterable[str], *wanted: str) -> str | None:
    lower = {n.lower(): n for n in names}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass(frozen=True)
class ParquetPoints:
    """Cells in Parquet files (OpenCelliD columns, optionally ``vendor``, ``site_id``, ...), streamed.

    Attributes
    ----------
    paths
        The files, in order; a cell's ``pid`` is ``file index << 40 | row``.
    columns
        Per file, the SQL expressions of the point columns.
    maps
        Code tables ``raw -> code`` for vendor (with ``untrusted``), generation and operator
        (operator only when the files have ``operator_id``; else the code is ``mcc * 1000 + net``).
    vendors, generations, operators
        Labels of the codes (``operators`` empty when the code is MCC-MNC arithmetic).
    filter_grid, filter_cells
        Restrict to points in these cells of ``filter_grid`` (a spatial partition), if set.
    lat_range, lon_range
        Plain coordinate bounds of a partition, for row-group pruning.
    """

    paths: tuple[str, ...]
    columns: tuple[dict[str, Any], ...]
    maps: dict[str, pa.Table]
    vendors: tuple
    generations: tuple
    operators: tuple = ()
    filter_grid: Grid | None = None
    filter_cells: np.ndarray | None = None
    lat_range: tuple[float, float] = (-90.0, 90.0)
    lon_range: tuple[float, float] = (-180.0, 180.0)
    dense = True

    @property
    def distinct_sites(self) -> bool:
        """Cells of one ``site_id`` may sit apart, so sites are counted distinct."""
        return any(c["site_from_column"] for c in self.columns)

    def _select(self, i: int) -> str:
        c = self.columns[i]
        op = "om.code" if c["operator_map"] else c["operator"]
        return (f"SELECT ({i}::BIGINT << 40) | file_row_number AS pid, {c['lat']} AS lat, {c['lon']} AS lon, "
                f"{c['site']} AS site, coalesce(vm.code, {len(self.vendors) - 1}) AS ven, {op} AS op, "
                f"coalesce(gm.code, {len(self.generations) - 1}) AS gen, "
                f"1::BIGINT AS n, coalesce(vm.untrusted, false)::BIGINT AS nu, "
                f"1::BIGINT AS fs, 1::BIGINT AS fsv, 1::BIGINT AS fsg "
                f"FROM read_parquet({_lit(self.paths[i])}, file_row_number = true) t "
                f"LEFT JOIN _vmap vm ON vm.raw = {c['vendor']} "
                f"LEFT JOIN _gmap gm ON gm.raw = {c['generation']}"
                + (f" LEFT JOIN _omap om ON om.raw = {c['operator']}" if c["operator_map"] else ""))

    def sql(self, con) -> str:
        for name, table in self.maps.items():
            con.register(f"_{name}map", table)
        body = " UNION ALL ".join(self._select(i) for i in range(len(self.paths)))
        # Plain ranges first: DuckDB checks them against each row group's statistics and skips
        # the groups of a spatially sorted file that lie elsewhere.
        where = []
        if self.lat_range != (-90.0, 90.0):
            where.append(f"lat BETWEEN {self.lat_range[0]!r} AND {self.lat_range[1]!r}")
        if self.lon_range != (-180.0, 180.0):
            where.append(f"lon BETWEEN {self.lon_range[0]!r} AND {self.lon_range[1]!r}")
        if self.filter_cells is not None:
            name = f"_pc_{id(self.filter_cells):x}"
            con.register(name, pa.table({"key": self.filter_cells}))
            where.append(f"{self.filter_grid.key_sql('lat', 'lon')} IN (SELECT key FROM {name})")
        return f"SELECT * FROM ({body})" + (f" WHERE {' AND '.join(where)}" if where else "")

    def labels(self, kind: str, codes: np.ndarray) -> np.ndarray:
        if kind == "operator" and not self.operators:
            c = np.asarray(codes, dtype="float64")
            out = np.full(c.size, None, dtype=object)
            ok = ~np.isnan(c)
            # MCC-MNC as printed on SIM cards and in regulators' tables: 262-01, 310-410.
            out[ok] = [f"{int(v) // 1000:03d}-{int(v) % 1000:02d}" for v in c[ok]]  # distinct codes only
            return out
        return _labels(codes, {"vendor": self.vendors, "operator": self.operators,
                               "generation": self.generations}[kind])

    def prepare_untrusted(self, con, pts: str) -> str:
        """Untrusted cells are read once into a temporary table: the nearest search scans them
        at every level, and a Parquet scan per level would cost seconds each."""
        name = f"_u_{id(self):x}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT pid, lat, lon FROM ({pts}) WHERE nu > 0")
        return f"SELECT * FROM {name}"

    def lookup(self, pids: np.ndarray, con=None) -> pd.DataFrame:
        """``ident``, ``lat``, ``lon`` of cells by pid, reading only those rows' files and rows."""
        pids = np.asarray(pids, dtype=np.int64)
        if pids.size == 0:
            return pd.DataFrame({"pid": pids, "ident": pd.Series([], dtype=object), "lat": [], "lon": []})
        own = con is None
        con = con or connect()
        con.register("_want", pa.table({"f": pids >> 40, "r": pids & ((1 << 40) - 1)}))
        # A filter on file_row_number itself lets DuckDB skip to the wanted rows.
        body = " UNION ALL ".join(
            f"SELECT ({i}::BIGINT << 40) | file_row_number AS pid, {self.columns[i]['ident']} AS ident, "
            f"{self.columns[i]['lat']} AS lat, {self.columns[i]['lon']} AS lon "
            f"FROM read_parquet({_lit(self.paths[i])}, file_row_number = true) t "
            f"WHERE file_row_number IN (SELECT r FROM _want WHERE f = {i})"
            for i in sorted(set((pids >> 40).tolist())))
        t = fetch(con, body)
        con.unregister("_want")
        if own:
            con.close()
        return t.to_pandas()

    def describe(self) -> str:
        return f"{len(self.paths)} Parquet file(s)"


def _parquet_columns(path: str, problems: ProblemCollector) -> dict[str, Any] | None:
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as e:
        problems.add(f"cannot read as Parquet: {e}", file=path)
        return None
    names = schema.names
    lat, lon = _find(names, "lat", "latitude"), _find(names, "lon", "lng", "longitude")
    for want, got in (("lat", lat), ("lon", lon)):
        if got is None:
            problems.add(f"no {want} column; the file has {', '.join(names[:20])}", file=path, column=want)
        elif not pa.types.is_integer(schema.field(got).type) and not pa.types.is_floating(schema.field(got).type) \
                and not pa.types.is_decimal(schema.field(got).type):
            problems.add(f"column {got} is {schema.field(got).type}, expected a number", file=path, column=got)
    if lat is None or lon is None:
        return None
    radio = _find(names, "radio")
    mcc, net = _find(names, "mcc"), _find(names, "net", "mnc")
    area, cell = _find(names, "area", "lac", "tac"), _find(names, "cell", "cid")
    site_id, operator_id = _find(names, "site_id"), _find(names, "operator_id")
    vendor, generation = _find(names, "vendor"), _find(names, "generation")
    if operator_id:
        operator = f"t.{_q(operator_id)}::VARCHAR"
    elif mcc and net:
        operator = f"(t.{_q(mcc)}::BIGINT * 1000 + t.{_q(net)}::BIGINT)"
    else:
        operator = "NULL::BIGINT"
    gen = (f"t.{_q(generation)}::VARCHAR" if generation else
           f"upper(t.{_q(radio)}::VARCHAR)" if radio else "NULL::VARCHAR")
    if site_id:
        ident = f"t.{_q(site_id)}::VARCHAR"
    elif radio and mcc and net and area and cell:
        ident = "concat_ws('-', " + ", ".join(f"t.{_q(c)}::VARCHAR" for c in (radio, mcc, net, area, cell)) + ")"
    else:
        ident = "'row ' || (file_row_number + 1)::VARCHAR"
    return {
        "lat": f"t.{_q(lat)}::DOUBLE", "lon": f"t.{_q(lon)}::DOUBLE",
        # Without site ids every cell is its own site.
        "site": f"t.{_q(site_id)}::VARCHAR" if site_id else "file_row_number",
        "site_from_column": site_id is not None,
        "operator": operator, "operator_map": operator_id is not None,
        "generation": gen, "generation_from_radio": generation is None and radio is not None,
        "ident": ident, "vendor": f"t.{_q(vendor)}::VARCHAR" if vendor else "NULL::VARCHAR",
    }


def _distinct(con, paths: Sequence[str], exprs: Sequence[str]) -> list[str]:
    """Distinct non-null values of an expression over files (dictionary columns: a quick scan)."""
    out: set[str] = set()
    for p, e in zip(paths, exprs):
        if not e.startswith("NULL"):
            out |= {r[0] for r in con.execute(
                f"SELECT DISTINCT {e} FROM read_parquet({_lit(p)}) t").fetchall() if r[0] is not None}
    return sorted(out)


def parquet_points(paths: Sequence[str | Path], untrusted: set[str], *, check: bool = True) -> ParquetPoints:
    """Open cell files for streaming, after checking their columns and coordinates.

    Parameters
    ----------
    paths
        Parquet files with at least ``lat`` and ``lon`` (OpenCelliD names); used when present:
        ``vendor``, ``site_id``, ``operator_id`` (else ``mcc``-``net``), ``generation`` (else
        ``radio``), and ``radio, mcc, net, area, cell`` to name cells.
    untrusted
        Vendor ids counted as untrusted.
    check
        Scan the coordinates for values outside the globe (one pass over two columns, mostly
        answered from row-group statistics).

    Raises
    ------
    ValidationError
        Missing files or columns, unreadable files, and up to 100 rows with a latitude outside
        -90..90, a longitude outside -180..180 or a missing coordinate (file, row, column, value).
    """
    problems = ProblemCollector()
    strs = [str(p) for p in paths]
    cols = []
    for p in strs:
        if not Path(p).is_file():
            problems.add("file not found" if not Path(p).exists() else "not a file", file=p)
            continue
        c = _parquet_columns(p, problems)
        if c is not None:
            cols.append(c)
    problems.raise_if_any()
    con = connect()
    if check:
        for i, p in enumerate(strs):
            c = cols[i]
            bad = fetch(con, f"""
                SELECT file_row_number + 1 AS row, {c['lat']} AS lat, {c['lon']} AS lon
                FROM read_parquet({_lit(p)}, file_row_number = true) t
                WHERE NOT (coalesce({c['lat']} BETWEEN -90 AND 90, false))
                   OR NOT (coalesce({c['lon']} BETWEEN -180 AND 180, false))
                ORDER BY row LIMIT {100 - len(problems.problems) + 1}""").to_pylist()
            for r in bad:
                for col, lim in (("lat", 90.0), ("lon", 180.0)):
                    v = r[col]
                    if v is None or not (abs(v) <= lim):
                        reason = ("missing coordinate" if v is None else "not a number" if v != v else
                                  f"{'latitude' if col == 'lat' else 'longitude'} outside -{lim:g}..{lim:g}")
                        problems.add(reason, file=p, line=int(r["row"]), column=col, value=v)
    problems.raise_if_any()
    # Vendor spellings are few: resolve each once with the catalogue, then join codes in SQL.
    cat = default_catalogue()
    raw_vendors = _distinct(con, strs, [c["vendor"] for c in cols])
    canon = [cat.resolve(v) or v.strip() for v in raw_vendors]
    vendors = tuple(sorted(set(canon))) + (UNKNOWN,)
    maps = {"v": pa.table({"raw": pa.array(raw_vendors, type=pa.string()),
                           "code": pa.array([vendors.index(c) for c in canon], type=pa.int32()),
                           "untrusted": pa.array([c in untrusted for c in canon], type=pa.bool_())})}
    raw_gen = _distinct(con, strs, [c["generation"] for c in cols])
    from_radio = any(c["generation_from_radio"] for c in cols)
    gen_of = {r: RADIO_GENERATION.get(r.upper(), "none") if from_radio else r for r in raw_gen}
    generations = tuple(dict.fromkeys([g for g in GENERATION_LABELS if g in gen_of.values()]
                                      + sorted(set(gen_of.values()) - set(GENERATION_LABELS)) + ["none"]))
    maps["g"] = pa.table({"raw": pa.array(raw_gen, type=pa.string()),
                          "code": pa.array([generations.index(gen_of[r]) for r in raw_gen], type=pa.int32())})
    operators: tuple = ()
    if any(c["operator_map"] for c in cols):
        operators = tuple(_distinct(con, strs, [c["operator"] if c["operator_map"] else "NULL" for c in cols]))
        maps["o"] = pa.table({"raw": pa.array(operators, type=pa.string()),
                              "code": pa.array(range(len(operators)), type=pa.int64())})
    con.close()
    return ParquetPoints(tuple(strs), tuple(cols), maps, vendors, generations, operators)


# -- the work of one task --------------------------------------------------------------------------

@dataclass
class ExposureTask:
    """Zones (with their global positions) and the points that can lie in them or near them.

    ``margin_m`` is how far around every zone the points are complete: nearest distances up to it
    are final, beyond it they are searched again over all points.
    """

    index: np.ndarray
    zones: Zones
    source: Any
    by: tuple[str, ...]
    margin_m: float
    start_m: float
    threads: int | None = None
    memory_limit: str | None = None


@dataclass
class TaskOutput:
    """What a task hands back: counts per zone (``total``) and per breakdown code, and the
    nearest untrusted point of each zone (haversine value, pid, final or not, ident/position)."""

    index: np.ndarray
    counts: dict[str, pd.DataFrame]
    near_h: np.ndarray
    near_pid: np.ndarray
    resolved: np.ndarray
    near_points: pd.DataFrame
    seconds: float = 0.0


def _counts_sql(within: str, by: Sequence[str], distinct_sites: bool) -> str:
    """The aggregation over the pairs.

    Normally one GROUP BY on (zone, vendor, operator, generation) codes; totals and breakdowns are
    sums of it (:func:`_rollup`). Sites are counted by summing "first row of its site (and vendor,
    and generation)" flags, exact because all rows of a site share its position. Cell files whose
    cells of one ``site_id`` have positions of their own need ``count(DISTINCT site)``, which does
    not add up, so they get GROUPING SETS instead.
    """
    if not distinct_sites:
        return (f"SELECT zone, ven, op, gen, sum(n)::BIGINT AS n, sum(nu)::BIGINT AS nu, sum(fs)::BIGINT AS fs, "
                f"sum(fsv)::BIGINT AS fsv, sum(fsg)::BIGINT AS fsg FROM ({within}) GROUP BY ALL")
    sets = ["(zone)"] + [f"(zone, {_CODE[b]})" for b in by]
    grouped = " + ".join(f"(1 - GROUPING({_CODE[b]})) * {bit}" for b, bit in zip(by, (1, 2, 4))) or "0"
    group = f"GROUPING SETS ({', '.join(sets)})" if by else "zone"
    cols = ", ".join(_CODE[b] if b in by else f"NULL::INTEGER AS {_CODE[b]}" for b in _CODE)
    return (f"SELECT zone, {cols}, ({grouped})::INTEGER AS g, sum(n)::BIGINT AS n, sum(nu)::BIGINT AS nu, "
            f"count(DISTINCT site) AS sites FROM ({within}) GROUP BY {group}")


def _rollup(raw: pd.DataFrame, by: Sequence[str], distinct_sites: bool) -> dict[str, pd.DataFrame]:
    """Per-zone totals and per-breakdown counts: columns zone, [code], elements, untrusted, sites."""
    out = {}
    for kind in ("total", *by):
        keys = ["zone"] + ([] if kind == "total" else [_CODE[kind]])
        if distinct_sites:
            bit = 0 if kind == "total" else (1, 2, 4)[list(by).index(kind)]
            part = raw[raw["g"] == bit][keys + ["n", "nu", "sites"]]
        else:
            part = raw.groupby(keys, dropna=False, sort=False)[["n", "nu", _SITE_FLAG[kind]]].sum().reset_index()
            part = part.rename(columns={_SITE_FLAG[kind]: "sites"})
        out[kind] = part.rename(columns={"n": "elements", "nu": "untrusted"}).reset_index(drop=True)
    return out


def run_task(task: ExposureTask) -> TaskOutput:
    """Count what lies in each zone and find each zone's nearest untrusted point (one partition).

    Module-level so executors can send it to other processes and machines.
    """
    t0 = time.perf_counter()
    con = connect(threads=task.threads, memory_limit=task.memory_limit)
    pts = task.source.sql(con)
    distinct = task.source.distinct_sites
    if task.source.dense and not distinct:
        # Cell files are dense (hundreds of cells per grid cell in towns): summing whole cells
        # first saves about a third of the work. Snapshot sites are sparse, where it would not.
        join = ZoneJoin(con, task.zones, per_radius=CELLS_PER_RADIUS_DENSE)
        within = join.weighted_sql(pts, ["ven", "op", "gen"], ["n", "nu", "fs", "fsv", "fsg"])
    else:
        join = ZoneJoin(con, task.zones)
        within = join.within_sql(pts, list(_PAIR_COLUMNS))
    raw = fetch(con, _counts_sql(within, task.by, distinct)).to_pandas()
    counts = _rollup(raw, task.by, distinct)
    # Nearest untrusted point from each circle's centre or each polygon's edge, wherever it is: searched apart
    # from the counts (only untrusted points, widening circles), which is cheaper than carrying an
    # arg-min through the aggregation.
    upts = task.source.prepare_untrusted(con, pts)
    near_h, near_pid, resolved = nearest(con, upts, task.zones.lat, task.zones.lon,
                                         start_m=task.start_m, max_m=task.margin_m, areas=task.zones.areas)
    found = np.unique(near_pid[resolved & (near_pid >= 0)])
    near_points = task.source.lookup(found, con)
    con.close()
    return TaskOutput(task.index, counts, near_h, near_pid, resolved, near_points, time.perf_counter() - t0)


# -- sensitive sites -------------------------------------------------------------------------------

def select_sensitive(net: Network | None, specs: Sequence[str] = (), *,
                     files: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The sensitive sites named by ``specs``: kinds, ids, or files of sites the caller read.

    Parameters
    ----------
    net
        Network whose ``sensitive_sites`` kinds and ids refer to (may be None with files only).
    specs
        Each one a sensitive kind (``military``...), a ``sensitive_id`` of ``net``, or a key of
        ``files``. None or empty: every sensitive site of ``net``.
    files
        Sensitive sites read from files by a face (the CLI reads them with ``cleanpath import
        sensitive``'s reader: :func:`cleanpath.registry.files.read_sensitive_file`), by the name
        the user gave. Questions read no files themselves.

    Returns
    -------
    pandas.DataFrame
        ``sensitive_sites`` rows, first mention first, each site once.

    Raises
    ------
    ValidationError
        For specs that match nothing, with what would have matched.
    """
    have = net.sensitive_sites if net is not None else _empty_sensitive()
    if not specs:
        return have.reset_index(drop=True)
    frames = []
    problems = ProblemCollector()
    files = files or {}
    for spec in specs:
        if spec in files:
            frames.append(files[spec])
        elif spec in SENSITIVE_KINDS:
            frames.append(have[have["kind"] == spec])
        elif (have["sensitive_id"] == spec).any():
            frames.append(have[have["sensitive_id"] == spec])
        else:
            problems.add(f"not a sensitive site id, a kind ({', '.join(SENSITIVE_KINDS)}) or a file"
                         + (f"; the snapshot has {len(have):,} sensitive sites" if net is not None
                            else "; with --cells and no snapshot, give a file of sites"),
                         column="--sensitive", value=spec)
    problems.raise_if_any()
    out = pd.concat(frames, ignore_index=True) if frames else have.iloc[0:0]
    return out.drop_duplicates("sensitive_id", keep="first").reset_index(drop=True)


def _empty_sensitive() -> pd.DataFrame:
    from cleanpath.model.validate import empty_frame

    return empty_frame(SENSITIVE_SITES)


def _zones_of(sensitive: pd.DataFrame, radius_m: float | None) -> Zones:
    lines = np.arange(len(sensitive)) + 1
    areas = parse_areas(sensitive["geometry"].astype(object).where(sensitive["geometry"].notna(), None).tolist(),
                        file="sensitive_sites", lines=lines) if "geometry" in sensitive else None
    radius = sensitive["radius_m"].to_numpy(dtype="float64", na_value=np.nan) if "radius_m" in sensitive \
        else np.full(len(sensitive), np.nan)
    radius = np.where(np.isnan(radius), SENSITIVE_SITES.column("radius_m").default, radius)
    if radius_m is not None:
        radius = np.full(len(sensitive), float(radius_m))
    return Zones.build(sensitive["lat"].to_numpy(dtype="float64", na_value=np.nan),
                       sensitive["lon"].to_numpy(dtype="float64", na_value=np.nan),
                       radius, areas, file="sensitive_sites", lines=lines)


# -- partitioning ----------------------------------------------------------------------------------

def _partitions(zones: Zones, parts: int) -> list[np.ndarray]:
    """Zones cut into ``parts`` spatially compact groups (Z-order, equal counts)."""
    order = np.argsort(spatial_order(zones.lat, zones.lon), kind="stable")
    return [order[r.start:r.stop] for r in chunks(len(zones), parts)]


def _coverage(zones: Zones, groups: list[np.ndarray], margin_m: float) -> tuple[Grid, list[np.ndarray], list[dict]]:
    """For each group, the cells (of a coarse grid) within ``margin_m`` of its zones, and the
    latitude and (when it does not wrap) longitude range they span."""
    grid = Grid.for_cell(max(choose_cell_m(zones.extents_m() + margin_m), margin_m / 2))
    cells, ranges = [], []
    for g in groups:
        _, lo, hi, wlo, whi = zones.subset(g).boxes(margin_m)
        _, key = grid.cover_boxes(lo, hi, wlo, whi)
        cells.append(np.unique(key))
        r = {"lat_range": (float(lo.min()), float(hi.max()))}
        if wlo.min() >= -180.0 and whi.max() <= 180.0:
            r["lon_range"] = (float(wlo.min()), float(whi.max()))
        ranges.append(r)
    return grid, cells, ranges


def _split_table(points: TablePoints, grid: Grid, cells: list[np.ndarray]) -> list[TablePoints]:
    """The rows of ``points`` in each group's cells (a point near two groups goes to both)."""
    keys = grid.point_keys(points.lat, points.lon)
    allc = np.concatenate(cells)
    grp = np.repeat(np.arange(len(cells)), [c.size for c in cells])
    order = np.argsort(allc, kind="stable")
    allc, grp = allc[order], grp[order]
    uk, first, cnt = np.unique(allc, return_index=True, return_counts=True)
    pos = np.clip(np.searchsorted(uk, keys), 0, max(uk.size - 1, 0))
    hit = np.flatnonzero(uk[pos] == keys) if uk.size else np.array([], dtype=np.int64)
    c = cnt[pos[hit]]
    rows = np.repeat(hit, c)
    g = grp[np.repeat(first[pos[hit]], c) + (np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c))]
    by_group = np.argsort(g, kind="stable")
    rows, g = rows[by_group], g[by_group]
    bounds = np.searchsorted(g, np.arange(len(cells) + 1))
    return [points.subset(rows[bounds[i]:bounds[i + 1]]) for i in range(len(cells))]


def _tasks(zones: Zones, source, by, executor: Executor, memory_limit: str | None) -> list[ExposureTask]:
    # The nearest search starts small and widens 4x a level: in dense areas a wide first circle
    # would drag in millions of candidates, in sparse ones a few extra cheap levels are needed.
    start = max(float(np.median(np.nan_to_num(zones.extents_m(), nan=0.0))) / 8.0, 100.0)
    if executor.kind == "local" or len(zones) <= 1:
        return [ExposureTask(np.arange(len(zones)), zones, source, by, MAX_DISTANCE_M, start,
                             executor.threads_per_task, memory_limit)]
    groups = _partitions(zones, executor.workers)
    margin = max(NEAREST_MARGIN_M, 2.0 * float(np.median(np.nan_to_num(zones.extents_m(), nan=0.0))))
    grid, cells, ranges = _coverage(zones, groups, margin)
    if isinstance(source, TablePoints):
        subsets = _split_table(source, grid, cells)
    else:
        subsets = [replace(source, filter_grid=grid, filter_cells=c, **r) for c, r in zip(cells, ranges)]
    return [ExposureTask(g, zones.subset(g), s, by, margin, start, executor.threads_per_task, memory_limit)
            for g, s in zip(groups, subsets)]


# -- the question ----------------------------------------------------------------------------------

def run_exposure(net: Network | None, *, sensitive: pd.DataFrame | None = None, radius_m: float | None = None,
                 by: Sequence[str] = DEFAULT_BY, untrusted: Iterable[str] | None = None,
                 cells: Sequence[str | Path] | None = None, executor: Executor | str | None = None,
                 memory_limit: str | None = None) -> Result:
    """Equipment within reach of each sensitive site, by vendor, operator and generation.

    Parameters
    ----------
    net
        Network whose sites and elements are the equipment (unless ``cells`` is given) and whose
        sensitive sites are used when ``sensitive`` is None.
    sensitive
        Sensitive sites (``sensitive_sites`` columns; see :func:`select_sensitive`).
    radius_m
        Radius for every point site, replacing each site's own ``radius_m``; sites with a GeoJSON
        polygon keep their polygon.
    by
        Breakdown tables to produce, any of ``vendor``, ``operator``, ``generation``.
    untrusted
        The vendor set counted as untrusted (text, list, :class:`~cleanpath.policy.vendorset.VendorSet`
        or a frozenset of resolved ids; grammar in :mod:`cleanpath.policy.vendorset`); default
        :func:`cleanpath.model.vendors.default_untrusted`.
    cells
        Parquet files of cells (OpenCelliD columns) to use as the equipment instead of ``net``.
    executor
        ``local`` (default), ``processes``, ``dask``, or an :class:`~cleanpath.scale.Executor`.
    memory_limit
        DuckDB memory limit per task (``"2GB"``); joins spill to disk above it.

    Returns
    -------
    Result
        ``exposure``: one row per sensitive site with ``sensitive_id``, ``sites_within``,
        ``elements_within``, ``untrusted_elements_within``, ``untrusted_share``,
        ``nearest_untrusted_id``, ``nearest_untrusted_m``; ``by_vendor``, ``by_operator``,
        ``by_generation`` as asked; ``locations``: each site's point, whether it is a circle or a
        polygon, and the position of its nearest untrusted equipment (for maps). "Within" is
        inclusive: distance <= radius (to 1 mm), or in the polygon or on its boundary.

    Raises
    ------
    ValidationError
        Bad geometry, coordinates or radii; unknown breakdowns; unreadable cell files.
    """
    t0 = time.perf_counter()
    by = tuple(dict.fromkeys(by))
    unknown_by = [b for b in by if b not in BREAKDOWNS]
    if unknown_by:
        raise ValidationError(Problem(f"unknown breakdown; use any of {', '.join(BREAKDOWNS)}",
                                      column="by", value=",".join(unknown_by)))
    if radius_m is not None and not (math.isfinite(radius_m) and radius_m >= 0):
        raise ValidationError(Problem("radius must be a non-negative number of metres", column="radius",
                                      value=radius_m))
    if memory_limit is not None and not re.fullmatch(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*", str(memory_limit),
                                                     re.I):
        raise ValidationError(Problem("memory limit must be a size such as 2GB or 512MiB",
                                      column="memory_limit", value=memory_limit))
    if net is None and (cells is None or sensitive is None):
        raise ValidationError("exposure needs a network, or cell files and sensitive sites")
    cat = net.catalogue if net is not None else default_catalogue()
    # the one vendor-set grammar: packs, country:, only:, spellings; None is the default set
    bad = set(resolve_vendor_set(untrusted, catalogue=cat,
                                 present=network_vendors(net) if net is not None else ()))
    sens = (net.sensitive_sites if sensitive is None else sensitive).reset_index(drop=True)
    zones = _zones_of(sens, radius_m)
    source = parquet_points(cells, bad) if cells else network_points(net, bad)
    own = not isinstance(executor, Executor)
    ex = get_executor(executor or "local") if own else executor
    try:
        tasks = _tasks(zones, source, by, ex, memory_limit) if len(zones) else []
        outputs = ex.map(run_task, tasks)
        desc = ex.describe()
    finally:
        if own:
            ex.close()
    near_h, near_pid, counts, points = _combine(zones, outputs, by)
    unresolved = np.flatnonzero(~_all_resolved(zones, outputs))
    if unresolved.size:
        # Partitions see points only up to their margin; the rest search all points.
        con = connect(memory_limit=memory_limit)
        pts = source.sql(con)
        h, p, _ = nearest(con, source.prepare_untrusted(con, pts), zones.lat[unresolved], zones.lon[unresolved],
                          start_m=NEAREST_MARGIN_M, areas=[zones.areas[i] for i in unresolved])
        near_h[unresolved] = h
        near_pid[unresolved] = p
        points = pd.concat([points, source.lookup(np.unique(p[p >= 0]), con)], ignore_index=True)
        con.close()
    tables = _tables(sens, zones, counts, near_h, near_pid, points, source, by)
    ex_tab = tables["exposure"]
    summary = {
        "sensitive_sites": int(len(sens)),
        "with_untrusted_within": int((ex_tab["untrusted_elements_within"] > 0).sum()),
        "with_no_equipment_within": int((ex_tab["elements_within"] == 0).sum()),
        "median_nearest_untrusted_m": (None if ex_tab["nearest_untrusted_m"].isna().all()
                                       else float(ex_tab["nearest_untrusted_m"].median())),
        "untrusted_vendors": sorted(bad),
        "equipment": source.describe(),
        **desc,
        "tasks": len(outputs),
        "slowest_task_seconds": round(max((o.seconds for o in outputs), default=0.0), 3),
        "task_seconds_total": round(sum(o.seconds for o in outputs), 3),
        "nearest_searched_globally": int(unresolved.size),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if not cells and net is not None:
        summary["sites_without_position"] = int((net.sites["lat"].isna() | net.sites["lon"].isna()).sum())
    params = {"radius_m": radius_m, "by": list(by), "untrusted": sorted(bad),
              "cells": [str(c) for c in cells] if cells else None, "executor": desc.get("executor")}
    return Result("exposure", net.name if net is not None else None, params=params, summary=summary,
                  tables=tables)


def _all_resolved(zones: Zones, outputs: list[TaskOutput]) -> np.ndarray:
    ok = np.zeros(len(zones), dtype=bool)
    for o in outputs:
        ok[o.index] = o.resolved
    return ok


def _combine(zones: Zones, outputs: list[TaskOutput], by: Sequence[str]
             ) -> tuple[np.ndarray, np.ndarray, dict[str, pd.DataFrame], pd.DataFrame]:
    """Tasks' outputs in global zone numbers (each zone belongs to exactly one task)."""
    n = len(zones)
    near_h = np.full(n, np.nan)
    near_pid = np.full(n, -1, dtype=np.int64)
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in ("total", *by)}
    points = [pd.DataFrame({"pid": np.array([], dtype=np.int64), "ident": pd.Series([], dtype=object),
                            "lat": np.array([]), "lon": np.array([])})]
    for o in outputs:
        near_h[o.index] = np.where(o.resolved, o.near_h, np.nan)
        near_pid[o.index] = np.where(o.resolved, o.near_pid, -1)
        for k, c in o.counts.items():
            c = c.copy()
            c["zone"] = o.index[c["zone"].to_numpy(dtype=np.int64)]
            frames[k].append(c)
        points.append(o.near_points)
    counts = {k: pd.concat(v, ignore_index=True) if v else
              pd.DataFrame(columns=["zone"] + ([] if k == "total" else [_CODE[k]]) + ["elements", "untrusted", "sites"])
              for k, v in frames.items()}
    pts = pd.concat([p for p in points if len(p)] or points[:1], ignore_index=True).drop_duplicates("pid")
    return near_h, near_pid, counts, pts


def _tables(sens: pd.DataFrame, zones: Zones, counts: dict[str, pd.DataFrame], near_h: np.ndarray,
            near_pid: np.ndarray, points: pd.DataFrame, source, by: Sequence[str]) -> dict[str, pd.DataFrame]:
    n = len(zones)
    total = counts["total"]
    z = total["zone"].to_numpy(dtype=np.int64)
    sites = np.zeros(n, dtype=np.int64)
    elements = np.zeros(n, dtype=np.int64)
    untrusted = np.zeros(n, dtype=np.int64)
    sites[z] = total["sites"].to_numpy(dtype=np.int64)
    elements[z] = total["elements"].to_numpy(dtype=np.int64)
    untrusted[z] = total["untrusted"].to_numpy(dtype=np.int64)
    found = near_pid >= 0
    ident = np.full(n, None, dtype=object)
    nlat = np.full(n, np.nan)
    nlon = np.full(n, np.nan)
    if found.any():
        look = points.set_index("pid")
        idx = near_pid[found]
        ident[found] = look.loc[idx, "ident"].to_numpy(dtype=object)
        nlat[found] = look.loc[idx, "lat"].to_numpy(dtype="float64")
        nlon[found] = look.loc[idx, "lon"].to_numpy(dtype="float64")
    dist = np.where(np.isnan(near_h), np.nan, distance_of_h(np.nan_to_num(near_h)))
    ids = sens["sensitive_id"].astype(object).to_numpy()

    def col(name: str) -> np.ndarray:
        return sens[name].astype(object).where(sens[name].notna(), None).to_numpy() if name in sens \
            else np.full(n, None, dtype=object)

    share = np.where(elements > 0, untrusted / np.maximum(elements, 1), np.nan)
    exposure = pd.DataFrame({
        "sensitive_id": ids, "name": col("name"), "kind": col("kind"), "radius_m": zones.radius_m,
        "sites_within": sites, "elements_within": elements, "untrusted_elements_within": untrusted,
        "untrusted_share": share, "nearest_untrusted_id": ident, "nearest_untrusted_m": dist,
    })
    # Positions apart, for maps (exposure_geojson), so the main table stays readable.
    locations = pd.DataFrame({
        "sensitive_id": ids, "area": np.where(zones.is_area, "polygon", "circle"),
        "lat": zones.lat, "lon": zones.lon, "nearest_untrusted_lat": nlat, "nearest_untrusted_lon": nlon,
    })
    tables = {"exposure": exposure}
    names = {"vendor": "vendor", "operator": "operator_id", "generation": "generation"}
    for b in by:
        rows = counts[b][counts[b]["elements"] > 0]
        zi = rows["zone"].to_numpy(dtype=np.int64)
        name = names[b]
        frame = pd.DataFrame({"sensitive_id": ids[zi], "_zone": zi,
                              name: source.labels(b, rows[_CODE[b]].to_numpy(dtype="float64")),
                              "elements": rows["elements"].to_numpy(dtype=np.int64),
                              "untrusted_elements": rows["untrusted"].to_numpy(dtype=np.int64),
                              "sites": rows["sites"].to_numpy(dtype=np.int64)})
        if b == "vendor":
            frame[name] = frame[name].where(frame[name].notna(), UNKNOWN)
            frame.insert(3, "untrusted", frame["untrusted_elements"] > 0)
            frame = frame.drop(columns="untrusted_elements")
        # Largest first within each site; ties by label, so every executor prints the same table.
        frame["_label"] = frame[name].astype(str)
        frame = frame.sort_values(["_zone", "elements", "_label"], ascending=[True, False, True], ignore_index=True)
        tables[f"by_{b}"] = frame.drop(columns=["_zone", "_label"])
    tables["locations"] = locations
    return tables


# -- map layer -------------------------------------------------------------------------------------

def _circle_geometry(lat: float, lon: float, radius_m: float, vertices: int = 64) -> dict:
    """A GeoJSON polygon approximating a circle on the sphere, cut at the antimeridian."""
    bearings = np.linspace(0.0, 360.0, vertices, endpoint=False)
    plat, plon = destination(np.full(vertices, lat), np.full(vertices, lon), bearings, radius_m)
    if radius_m / 6_371_008.8 + abs(math.radians(lat)) >= math.pi / 2:
        # The circle holds a pole: a band from -180 to 180 closed along the pole.
        pole = 90.0 if lat > 0 else -90.0
        order = np.argsort(plon)
        ring = [[float(x), float(y)] for x, y in zip(plon[order], plat[order])]
        ring = [[-180.0, ring[0][1]]] + ring + [[180.0, ring[-1][1]], [180.0, pole], [-180.0, pole]]
        return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
    x = lon + ((plon - lon + 180.0) % 360.0 - 180.0)  # continuous around the centre
    ring = np.column_stack([x, plat])
    if x.min() >= -180.0 and x.max() <= 180.0:
        pts = [[float(a), float(b)] for a, b in ring]
        return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}
    edge = 180.0 if x.max() > 180.0 else -180.0
    parts = []
    for keep_low in (True, False):  # clip the ring at the antimeridian, one half-plane at a time
        out = []
        for i in range(vertices):
            a, b = ring[i], ring[(i + 1) % vertices]
            ina = a[0] <= edge if keep_low else a[0] >= edge
            inb = b[0] <= edge if keep_low else b[0] >= edge
            if ina:
                out.append(a)
            if ina != inb:
                t = (edge - a[0]) / (b[0] - a[0])
                out.append(np.array([edge, a[1] + t * (b[1] - a[1])]))
        if len(out) >= 3:
            shift = -360.0 if (not keep_low and edge == 180.0) else (360.0 if keep_low and edge == -180.0 else 0.0)
            pts = [[float(p[0] + shift), float(p[1])] for p in out]
            parts.append([pts + [pts[0]]])
    return {"type": "MultiPolygon", "coordinates": parts}


def exposure_geojson(result: Result, sensitive: pd.DataFrame | None = None) -> dict:
    """The exposure result as a GeoJSON FeatureCollection for maps.

    One feature per sensitive site: its polygon, or its circle drawn with 64 vertices (cut at the
    antimeridian, closed along a pole it contains), with the ``exposure`` row as properties; and
    a LineString from each site to its nearest untrusted site or cell.

    Parameters
    ----------
    result
        What :func:`run_exposure` returned.
    sensitive
        The sensitive sites it was run on, for polygon geometry (circles need nothing else).
    """
    from cleanpath.result import records

    ex = result.tables["exposure"].merge(result.tables["locations"], on="sensitive_id", how="left")
    geoms: dict[str, Any] = {}
    if sensitive is not None and "geometry" in sensitive:
        has = sensitive[sensitive["geometry"].notna()]
        areas = parse_areas(has["geometry"].astype(object).tolist(), file="sensitive_sites")
        geoms = {sid: a.geojson for sid, a in zip(has["sensitive_id"].astype(object), areas) if a is not None}
    features = []
    for row in records(ex):
        sid = row["sensitive_id"]
        if row["area"] == "polygon" and sid in geoms:
            geom = geoms[sid]
        elif row["area"] == "polygon":
            geom = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        else:
            geom = _circle_geometry(row["lat"], row["lon"], row["radius_m"])
        features.append({"type": "Feature", "geometry": geom, "properties": {"layer": "sensitive", **row}})
        if row["nearest_untrusted_lat"] is not None:
            line = [[row["lon"], row["lat"]], [row["nearest_untrusted_lon"], row["nearest_untrusted_lat"]]]
            features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
                             "properties": {"layer": "nearest_untrusted", "sensitive_id": sid,
                                            "nearest_untrusted_id": row["nearest_untrusted_id"],
                                            "distance_m": row["nearest_untrusted_m"]}})
    return {"type": "FeatureCollection", "features": features}
