"""Importer for Internet Topology Zoo networks (GML or GraphML), one operator per file.

The Zoo (S. Knight et al., "The Internet Topology Zoo", IEEE JSAC 29(9), 2011; CC BY 4.0) holds
261 real backbone maps. Each file becomes:

- one **operator**: ``--operator`` or a slug of the graph's ``Network`` name; the country is
  ``--country``, else the one country the graph's ``GeoLocation`` names, else the one country every
  node's ``Country`` names, else ``ZZ`` with a warning;
- one **site** per node, ``<operator>:<node id>``: ``exchange`` for a PoP, ``gateway`` for an
  external node (``Internal 0``: a peer, an exchange point, "the Internet"), ``aggregation`` for a
  hyperedge node (``hyperedge 1``: a shared medium the Zoo draws as a node); with the node's
  coordinates where it has them and its label as ``region``;
- one **element** per node: ``transport.router`` (``<site>:router``), ``transport.switch``
  (``<site>:switch``) for hyperedges, ``gateway.interconnect`` (``<site>:interconnect``) for
  external nodes; vendor from ``--vendor-map`` (CSV ``node,vendor[,operator]``; ``node`` is a node
  id or label), else ``--vendor``, else ``unknown``;
- one **transport link** per edge, parallel edges kept, self-loops dropped with a warning;
  ``capacity_gbps`` from ``LinkSpeedRaw`` (bit/s), else ``LinkSpeed`` with ``LinkSpeedUnits``.

Everything that is wrong in a file (an edge to a missing node, a latitude of 95, a node without
an id) is reported with file, line, column and value, up to 100 problems across all files.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.gml import GraphData, Item, Value, read_graph
from cleanpath.io.guard import InputFile, check_regular, read_input, zip_members
from cleanpath.io.registry import Imported, as_paths
from cleanpath.model.validate import Source

#: File name endings read from directories and zip archives.
SUFFIXES = (".gml", ".graphml", ".gml.gz", ".graphml.gz", ".xml")
#: Country code used when a network's country cannot be told.
UNKNOWN_COUNTRY = "ZZ"
#: Attribute values the Zoo and its derivatives use for "no value".
_MISSING = {"", "none", "nan", "null", "-", "?", "n/a"}
_UNIT_BITS = {"": 1.0, "b": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}

_ROLE = {"exchange": "transport.router", "aggregation": "transport.switch",
         "gateway": "gateway.interconnect"}
_SUFFIX = {"exchange": "router", "aggregation": "switch", "gateway": "interconnect"}


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _wanted(name: str) -> bool:
    return name.lower().endswith(SUFFIXES) and not Path(name).name.startswith(".")


def _inputs(paths: Iterable[Path], problems: ProblemCollector) -> list[InputFile]:
    """Files named directly, graph files inside directories (sorted) and zip archives.

    A path that cannot be read adds its problem and the others are still read.
    """
    out: list[InputFile] = []
    for p in paths:
        try:
            if p.is_dir():
                # Every wanted name that is not a directory is read, so that a FIFO or a link to a
                # device named like a graph file is refused by read_input rather than skipped.
                out += [read_input(q) for q in sorted(p.iterdir()) if not q.is_dir() and _wanted(q.name)]
                continue
            # is_zipfile would open (and block on) a FIFO: only a regular file gets that far.
            check_regular(p)
            if p.suffix.lower() == ".zip" and zipfile.is_zipfile(p):
                out += [m for m in zip_members(p) if _wanted(m.label)]
            else:
                out.append(read_input(p))
        except ValidationError as e:
            problems.extend(e.problems)
    return out


# --------------------------------------------------------------------------------------------
# countries and names
# --------------------------------------------------------------------------------------------


def _fold(s: str) -> str:
    """Case-, accent-, dot- and space-insensitive form of a name."""
    s = unicodedata.normalize("NFKD", str(s))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold().replace(".", "")
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Folded country name -> ISO 3166-1 alpha-2, from ``cleanpath/data/country_names.csv``."""
    text = resources.files("cleanpath.data").joinpath("country_names.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return {_fold(r["name"]): r["iso2"] for r in rows}


def country_code(name: str | None) -> str | None:
    """ISO2 code of a country name or code ("Germany", "UK", "de"), or None."""
    if name is None:
        return None
    s = str(name).strip()
    if re.fullmatch(r"[A-Za-z]{2}", s) and s.upper() in set(country_names().values()):
        return s.upper()
    return country_names().get(_fold(s))


def _geo_country(geo: str | None) -> str | None:
    """The one country a GeoLocation such as "Germany", "Tokyo, Japan" or "Fife, UK" names."""
    if not isinstance(geo, str) or not geo.strip():
        return None
    whole = country_code(geo)
    if whole:
        return whole
    codes = {c for c in (country_code(p) for p in geo.split(",")) if c}
    return codes.pop() if len(codes) == 1 else None


def slug(s: str) -> str:
    """A lower-case identifier ("Deutsche Telekom " -> "deutsche-telekom")."""
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


# --------------------------------------------------------------------------------------------
# one graph -> model rows
# --------------------------------------------------------------------------------------------


@dataclass
class _Frames:
    """Model rows of one file, and the line each row came from."""

    file: str
    operators: pd.DataFrame
    sites: pd.DataFrame
    links: pd.DataFrame
    node_lines: np.ndarray
    link_lines: np.ndarray
    graph_line: int
    warnings: list[str] = field(default_factory=list)


def _node_key(v: Any) -> str | None:
    """A node id as text; 3.0 and 3 are the same node."""
    if isinstance(v, float) and np.isfinite(v) and v == int(v):
        return str(int(v))
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return None if v is None else str(v)


def _column(items: list[Item], key: str) -> tuple[list[Any], list[int], list[int]]:
    """Values of one attribute over items (None where absent), with their lines and columns."""
    vals, lines, cols = [], [], []
    for it in items:
        v = it.attrs.get(key)
        if v is None:
            vals.append(None)
            lines.append(it.line)
            cols.append(it.column)
        else:
            vals.append(v.value)
            lines.append(v.line)
            cols.append(v.column)
    return vals, lines, cols


def _numbers(values: list[Any], what: str, lines: list[int], cols: list[int], file: str,
             problems: ProblemCollector, notes: list[str]) -> np.ndarray:
    """Floats from attribute values (NaN where absent).

    Text such as "None" or "" and non-finite numbers are read as missing, with a note; any other
    text is a problem.
    """
    s = pd.Series(values, dtype=object)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")
    given = s.notna().to_numpy()
    blank = s.map(lambda v: isinstance(v, str) and v.strip().casefold() in _MISSING).to_numpy(dtype=bool)
    numeric_text = s.map(lambda v: not isinstance(v, str) or v.strip().casefold() in _MISSING
                         or _is_number(v)).to_numpy(dtype=bool)
    bad = given & ~numeric_text
    for i in np.flatnonzero(bad)[:100]:
        problems.add(f"{what} is not a number", file=file, line=lines[i], column=cols[i], value=values[i])
    missing = given & ~bad & (blank | ~np.isfinite(num))
    for i in np.flatnonzero(missing)[:3]:
        notes.append(f"{file}:{lines[i]}: {what} {values[i]!r} read as missing")
    return np.where(np.isfinite(num), num, np.nan)


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _capacity_gbps(edges: list[Item], file: str, notes: list[str]) -> np.ndarray:
    """Link capacity in Gbit/s: LinkSpeedRaw (bit/s), else LinkSpeed x LinkSpeedUnits."""
    raw, rl, _ = _column(edges, "LinkSpeedRaw")
    speed, _, _ = _column(edges, "LinkSpeed")
    units, _, _ = _column(edges, "LinkSpeedUnits")
    raw_n = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype="float64")
    speed_n = pd.to_numeric(pd.Series(speed, dtype=object), errors="coerce").to_numpy(dtype="float64")
    scale = np.array([_UNIT_BITS.get(str(u).strip().lower()[:1], np.nan) if u is not None else np.nan
                      for u in units], dtype="float64").reshape(-1)
    bits = np.where(np.isfinite(raw_n), raw_n, speed_n * scale)
    odd = np.array([r is not None for r in raw], dtype=bool) & ~np.isfinite(raw_n)
    for i in np.flatnonzero(odd)[:3]:
        notes.append(f"{file}:{rl[i]}: LinkSpeedRaw {raw[i]!r} is not a number; capacity left empty")
    negative = np.isfinite(bits) & (bits < 0)
    for i in np.flatnonzero(negative)[:3]:
        notes.append(f"{file}:{edges[i].line}: negative link speed {bits[i]:g}; capacity left empty")
    bits = np.where(negative | ~np.isfinite(bits), np.nan, bits)
    return bits / 1e9


def _sites(g: GraphData, op: str, problems: ProblemCollector, notes: list[str]
           ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Site rows of one graph and the row of each node id."""
    f = g.file
    ids_raw, id_lines, id_cols = _column(g.nodes, "id")
    ids = [_node_key(v) for v in ids_raw]
    row_of: dict[str, int] = {}
    for i, (k, it) in enumerate(zip(ids, g.nodes)):
        if k is None:
            problems.add("node has no id (the key edges refer to)", file=f, line=it.line,
                         column=it.column, value="node")
        elif k in row_of:
            first = g.nodes[row_of[k]].line
            problems.add(f"node id repeated (first at line {first})", file=f, line=id_lines[i],
                         column=id_cols[i], value=k)
        else:
            row_of[k] = i
    labels, _, _ = _column(g.nodes, "label")
    region = [None if not isinstance(v, (str, int, float)) or str(v).strip().casefold() in _MISSING
              else str(v).strip() for v in labels]
    internal, _, _ = _column(g.nodes, "Internal")
    hyper, _, _ = _column(g.nodes, "hyperedge")
    internal_n = pd.to_numeric(pd.Series(internal, dtype=object), errors="coerce").to_numpy(dtype="float64")
    hyper_n = pd.to_numeric(pd.Series(hyper, dtype=object), errors="coerce").to_numpy(dtype="float64")
    external = internal_n == 0
    hyperedge = np.nan_to_num(hyper_n) != 0
    kind = np.select([external, hyperedge], ["gateway", "aggregation"], "exchange")

    lat_v, lat_l, lat_c = _column(g.nodes, "Latitude")
    lon_v, lon_l, lon_c = _column(g.nodes, "Longitude")
    lat = _numbers(lat_v, "Latitude", lat_l, lat_c, f, problems, notes)
    lon = _numbers(lon_v, "Longitude", lon_l, lon_c, f, problems, notes)
    for arr, vals, lines, cols, name, lim in ((lat, lat_v, lat_l, lat_c, "latitude", 90),
                                               (lon, lon_v, lon_l, lon_c, "longitude", 180)):
        for i in np.flatnonzero(np.abs(np.nan_to_num(arr)) > lim)[:100]:
            problems.add(f"{name} {arr[i]:g} is outside -{lim}..{lim} degrees", file=f,
                         line=lines[i], column=cols[i], value=vals[i])
    half = np.isnan(lat) != np.isnan(lon)
    for i in np.flatnonzero(half)[:3]:
        notes.append(f"{f}:{g.nodes[i].line}: node has only one of Latitude/Longitude; "
                     "position left empty")
    lat[half] = np.nan
    lon[half] = np.nan
    if not g.nodes:
        notes.append(f"{f}: the graph has no nodes; only its operator is imported")
    unlocated = int(np.isnan(lat).sum())
    if unlocated:
        notes.append(f"{f}: {unlocated} of {len(g.nodes)} nodes have no coordinates (external "
                     "peers, hyperedges or unmapped PoPs); their sites have no position")
    text = {
        "site_id": [None if k is None else f"{op}:{k}" for k in ids],
        "operator_id": [op] * len(ids),
        "kind": list(kind),
        "region": region,
        "_node": ids,
        "_label": [None if v is None else str(v) for v in labels],
    }
    sites = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in text.items()})
    sites.insert(3, "lat", lat)
    sites.insert(4, "lon", lon)
    return sites, row_of


def _links(g: GraphData, op: str, sites: pd.DataFrame, row_of: dict[str, int],
           problems: ProblemCollector, notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Transport links of one graph (self-loops dropped) and their lines."""
    f = g.file
    ends = {}
    for end in ("source", "target"):
        vals, lines, cols = _column(g.edges, end)
        keys = [_node_key(v) for v in vals]
        for i, (k, v) in enumerate(zip(keys, vals)):
            if v is None:
                problems.add(f"edge has no {end}", file=f, line=lines[i], column=cols[i], value="edge")
            elif k not in row_of:
                problems.add(f"edge {end} {k} is not the id of any node in this graph", file=f,
                             line=lines[i], column=cols[i], value=v)
        ends[end] = keys
    src = np.array(ends["source"], dtype=object)
    dst = np.array(ends["target"], dtype=object)
    lines = np.array([e.line for e in g.edges], dtype=np.int64)
    loop = np.array([s is not None and s == t for s, t in zip(src, dst)], dtype=bool)
    for i in np.flatnonzero(loop)[:10]:
        notes.append(f"{f}:{lines[i]}: self-loop on node {src[i]} dropped")
    if loop.sum() > 10:
        notes.append(f"{f}: {int(loop.sum()) - 10} more self-loops dropped")
    cap = _capacity_gbps(g.edges, f, notes)
    keep = ~loop
    element = {k: f"{op}:{k}:{_SUFFIX[kind]}" for k, kind in zip(sites["_node"], sites["kind"])
               if isinstance(k, str)}
    links = pd.DataFrame({
        "a": [element.get(k) for k in src[keep]],
        "b": [element.get(k) for k in dst[keep]],
        "kind": "transport",
        "capacity_gbps": cap[keep],
    })
    return links, lines[keep]


def _frames(g: GraphData, op: str, country: str, problems: ProblemCollector) -> _Frames:
    notes = list(g.warnings)
    sites, row_of = _sites(g, op, problems, notes)
    links, link_lines = _links(g, op, sites, row_of, problems, notes)
    name = _text(g.attrs.get("Network")) or _text(g.attrs.get("label")) or Path(g.file).name
    operators = pd.DataFrame({"operator_id": [op], "name": [name], "country": [country]})
    return _Frames(g.file, operators, sites, links,
                   np.array([n.line for n in g.nodes], dtype=np.int64), link_lines,
                   (g.attrs["Network"].line if "Network" in g.attrs else g.line), notes)


def _text(v: Value | None) -> str | None:
    if v is None or v.value is None:
        return None
    s = str(v.value).strip()
    return s or None


# --------------------------------------------------------------------------------------------
# operators and countries per file
# --------------------------------------------------------------------------------------------


def _operator_ids(graphs: list[GraphData], operator_id: str | None, notes: list[str]) -> list[str]:
    """One distinct operator id per graph; a Network name used twice falls back to the Zoo label."""
    if operator_id is not None:
        op = str(operator_id).strip()
        if not op:
            raise ValidationError(Problem("--operator is empty", value=operator_id))
        if len(graphs) > 1:
            raise ValidationError(Problem(
                f"--operator {op!r} names one operator but {len(graphs)} files were given; each file "
                "is its own operator: import them one by one, or leave --operator out",
                ", ".join(g.file for g in graphs)))
        return [op]
    first = [slug(_text(g.attrs.get("Network")) or "") or slug(_text(g.attrs.get("label")) or "")
             or slug(Path(g.file).name.split(".")[0]) or "topologyzoo" for g in graphs]
    counts = pd.Series(first).value_counts()
    out: list[str] = []
    for g, s in zip(graphs, first):
        if counts[s] > 1:
            alt = slug(_text(g.attrs.get("label")) or "") or slug(Path(g.file).name.split(".")[0])
            base, n = alt or s, 2
            cand = base
            while cand in out:
                cand, n = f"{base}-{n}", n + 1
            notes.append(f"{g.file}: network name {s!r} is shared by several files; operator id "
                         f"{cand!r} used for this one")
            out.append(cand)
        else:
            out.append(s)
    return out


def _country(g: GraphData, given: str | None, notes: list[str]) -> str:
    if given is not None:
        return given
    geo = _text(g.attrs.get("GeoLocation"))
    code = _geo_country(geo)
    if code:
        return code
    node_codes = {c for c in (country_code(v.attrs["Country"].value) for v in g.nodes
                              if "Country" in v.attrs and isinstance(v.attrs["Country"].value, str)) if c}
    if len(node_codes) == 1:
        return node_codes.pop()
    spread = (f"the nodes lie in {len(node_codes)} countries" if node_codes
              else "no node names its country")
    notes.append(f"{g.file}: GeoLocation {geo!r} does not name one country and {spread}; "
                 f"operator country set to {UNKNOWN_COUNTRY} (give --country to set it)")
    return UNKNOWN_COUNTRY


def _given_country(country: str | None) -> str | None:
    if country is None:
        return None
    code = country_code(country)
    if code is None:
        raise ValidationError(Problem("--country is not an ISO 3166-1 alpha-2 code or a known "
                                      "country name", value=country))
    return code


# --------------------------------------------------------------------------------------------
# vendors
# --------------------------------------------------------------------------------------------


def _read_vendor_map(path: str | Path) -> tuple[pd.DataFrame, str]:
    """The vendor map as rows (operator, node, vendor, line)."""
    from cleanpath.io.tables import read_csv_bytes

    f = read_input(path)
    df, src = read_csv_bytes(f)
    problems = ProblemCollector(f.label)
    cols = {c.strip().lower(): c for c in df.columns}
    for need in ("node", "vendor"):
        if need not in cols:
            problems.add(f"vendor map needs a {need!r} column (columns: node, vendor, and "
                         "optionally operator)", line=1, column=need)
    problems.raise_if_any()
    n = len(df)

    def texts(name: str) -> list[str | None]:
        if name not in cols:
            return [None] * n
        vals = df[cols[name]].to_numpy(dtype=object, na_value=None)
        return [None if v is None or not str(v).strip() else str(v).strip() for v in vals]

    out = pd.DataFrame({"operator": texts("operator"), "node": texts("node"),
                        "vendor": texts("vendor"), "line": src.line_of(np.arange(n))}, dtype=object)
    for c in ("node", "vendor"):
        for i in np.flatnonzero(out[c].isna().to_numpy())[:100]:
            problems.add(f"{c} is empty", line=int(out["line"].iloc[i]), column=c)
    out["key"] = [None if v is None else _fold(v) for v in out["node"]]
    out["opkey"] = ["" if v is None else v for v in out["operator"]]
    dup = out.duplicated(["opkey", "key"], keep=False) & out["key"].notna()
    groups = out[dup].groupby(["opkey", "key"])
    for _, grp in groups:
        if grp["vendor"].map(lambda v: str(v).casefold()).nunique() > 1:
            first = int(grp["line"].iloc[0])
            for _, r in grp.iloc[1:].iterrows():
                problems.add(f"node listed again with another vendor (first at line {first})",
                             line=int(r["line"]), column="node", value=r["node"])
    problems.raise_if_any()
    return out.dropna(subset=["key", "vendor"]), f.label


def _assign_vendors(sites: pd.DataFrame, vendor: str | None, vmap: pd.DataFrame | None,
                    map_label: str, notes: list[str]) -> np.ndarray:
    """Vendor of each site's element: the map (id match beats label match, an operator-specific
    row beats a generic one), else ``vendor``, else ``unknown``."""
    default = vendor.strip() if isinstance(vendor, str) and vendor.strip() else "unknown"
    out = np.full(len(sites), default, dtype=object)
    if vmap is None or len(vmap) == 0:
        return out

    def keys(col: str) -> list[str | None]:
        return [None if pd.isna(v) else _fold(v) for v in sites[col].to_numpy(dtype=object)]

    nodes = pd.DataFrame({"op": sites["operator_id"].to_numpy(dtype=object),
                          "id_key": keys("_node"), "label_key": keys("_label")}, dtype=object)
    nodes["row"] = np.arange(len(sites))
    hits = []
    for col, score in (("id_key", 2), ("label_key", 0)):
        m = nodes.dropna(subset=[col]).merge(vmap, left_on=col, right_on="key")
        generic = m["operator"].isna().to_numpy(dtype=bool)
        m = m[generic | (m["operator"] == m["op"]).to_numpy(dtype=bool)]
        m = m.assign(score=score + (~m["operator"].isna()).astype(int))
        hits.append(m[["row", "vendor", "score", "line"]])
    allhits = pd.concat(hits, ignore_index=True).sort_values(["row", "score"], ascending=[True, False],
                                                             kind="stable")
    best = allhits.drop_duplicates("row", keep="first")
    out[best["row"].to_numpy(dtype=np.int64)] = best["vendor"].to_numpy(dtype=object)
    unused = vmap[~vmap["line"].isin(allhits["line"])]
    if len(unused):
        shown = ", ".join(f"{r.node!r} (line {r.line})" for r in unused.head(10).itertuples())
        notes.append(f"{map_label}: {len(unused)} vendor-map row(s) match no node id or label: {shown}")
    return out


# --------------------------------------------------------------------------------------------
# the importer
# --------------------------------------------------------------------------------------------


def _source(file: str, lines: np.ndarray, files: np.ndarray) -> Source:
    """Where rows came from: row i was written at ``lines[i]`` of ``files[i]``."""
    lines = np.asarray(lines, dtype=np.int64)
    files = np.asarray(files, dtype=object)
    return Source(file, lambda rows: np.take(lines, np.asarray(rows, dtype=np.int64), mode="clip"),
                  file_of=lambda rows: np.take(files, np.asarray(rows, dtype=np.int64), mode="clip").tolist())


def import_topologyzoo(paths, *, vendor: str | None = None, vendor_map: str | Path | None = None,
                       operator_id: str | None = None, country: str | None = None,
                       **_ignored: Any) -> Imported:
    """Read Topology Zoo GML or GraphML files into model tables.

    Parameters
    ----------
    paths
        GML or GraphML files (optionally gzipped), directories of them, or zip archives.
    vendor
        Vendor of every element the vendor map does not cover (default ``unknown``).
    vendor_map
        CSV with columns ``node`` (a node id or label) and ``vendor``, optionally ``operator``
        (the operator id a row applies to, for imports of several files).
    operator_id
        Operator id (only with a single file); default a slug of the graph's ``Network``.
    country
        ISO 3166-1 alpha-2 code or country name of every imported operator; default derived
        from the file's ``GeoLocation`` (``ZZ`` with a warning when it names no single country).

    Returns
    -------
    Imported
        ``operators``, ``sites``, ``elements`` and ``links`` with the line of every row.

    Raises
    ------
    ValidationError
        Unreadable or malformed files, edges to missing nodes, coordinates out of range, a bad
        vendor map; every problem found, up to 100, with file, line, column and value.
    """
    problems = ProblemCollector()
    notes: list[str] = []
    given_country = _given_country(country)
    graphs: list[GraphData] = []
    files = _inputs(as_paths(paths), problems)
    for f in files:
        try:
            graphs.append(read_graph(f))
        except ValidationError as e:
            problems.extend(e.problems)  # and go on: other files may have problems to report too
    if not graphs and not problems:
        raise ValidationError(Problem(f"no GML or GraphML files found (looked for "
                                      f"{', '.join(SUFFIXES)})", ", ".join(map(str, as_paths(paths)))))
    vmap, map_label = None, ""
    if vendor_map is not None:
        try:
            vmap, map_label = _read_vendor_map(vendor_map)
        except ValidationError as e:
            problems.extend(e.problems)
    ops = _operator_ids(graphs, operator_id, notes)
    frames = [_frames(g, op, _country(g, given_country, notes), problems) for g, op in zip(graphs, ops)]
    problems.raise_if_any()
    for fr in frames:
        notes.extend(fr.warnings)

    sites = pd.concat([fr.sites for fr in frames], ignore_index=True)
    sites["_vendor"] = _assign_vendors(sites, vendor, vmap, map_label, notes)
    elements = pd.DataFrame({
        "element_id": sites["site_id"] + ":" + sites["kind"].map(_SUFFIX),
        "site_id": sites["site_id"],
        "role": sites["kind"].map(_ROLE),
        "vendor": sites["_vendor"],
    })
    label = frames[0].file if len(frames) == 1 else ", ".join(fr.file for fr in frames)
    node_lines = np.concatenate([fr.node_lines for fr in frames])
    link_lines = np.concatenate([fr.link_lines for fr in frames])
    tables = {
        "operators": pd.concat([fr.operators for fr in frames], ignore_index=True),
        "sites": sites[["site_id", "operator_id", "kind", "lat", "lon", "region"]],
        "elements": elements,
        "links": pd.concat([fr.links for fr in frames], ignore_index=True),
    }
    node_files = np.concatenate([np.full(len(fr.node_lines), fr.file, dtype=object) for fr in frames])
    link_files = np.concatenate([np.full(len(fr.link_lines), fr.file, dtype=object) for fr in frames])
    sources = {
        "operators": _source(label, np.array([fr.graph_line for fr in frames]),
                             np.array([fr.file for fr in frames], dtype=object)),
        "sites": _source(label, node_lines, node_files),
        "elements": _source(label, node_lines, node_files),
        "links": _source(label, link_lines, link_files),
    }
    return Imported(tables, sources, notes)
