"""The spatial engine against independent oracles: 3-D chord distances, a plain ray-casting loop,
hand-built cases with known answers. Covers the antimeridian, the poles, points exactly on the
radius, polygons with holes, and bad geometry."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from cleanpath.errors import ValidationError
from cleanpath.geo import (EARTH_RADIUS_M, Grid, ZoneJoin, Zones, connect,
                           destination, haversine_m, nearest, parse_area, parse_areas)
from cleanpath.geo.geometry import GeometryError
from cleanpath.geo.join import distance_of_h, fetch
from cleanpath.geo.sphere import MAX_DISTANCE_M, cap_boxes


# -- independent oracles ---------------------------------------------------------------------------

from oracles import brute_within, chord_distance_m, ray_cast  # noqa: E402 (shared oracles)


def scatter_around(rng, lat, lon, radius_m, n):
    """n points around a centre at distances up to 2x the radius, in every direction."""
    lat2, lon2 = destination(np.full(n, lat), np.full(n, lon), rng.uniform(0, 360, n),
                             rng.uniform(0, 2 * radius_m, n))
    return lat2, lon2


# -- distances -------------------------------------------------------------------------------------

def test_haversine_known_values():
    one_degree = EARTH_RADIUS_M * math.pi / 180
    assert haversine_m(0, 0, 0, 1) == pytest.approx(one_degree, rel=1e-12)
    # Across the antimeridian: 179.5 to -179.5 is one degree, not 359.
    assert haversine_m(0, 179.5, 0, -179.5) == pytest.approx(one_degree, rel=1e-9)
    # Pole to pole is half the circumference; over the pole, 89.9N at 0 and 180 are 0.2 degrees apart.
    assert haversine_m(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_M, rel=1e-12)
    assert haversine_m(89.9, 0, 89.9, 180) == pytest.approx(0.2 * one_degree, rel=1e-9)
    # At the pole longitude means nothing.
    assert haversine_m(90, 0, 90, 123) == pytest.approx(0, abs=1e-6)


def test_haversine_matches_chord_formula_everywhere():
    rng = np.random.default_rng(1)
    lat1, lon1 = rng.uniform(-90, 90, 50_000), rng.uniform(-180, 180, 50_000)
    # Partners at all scales, from metres to the antipode, including across the antimeridian.
    lat2, lon2 = destination(lat1, lon1, rng.uniform(0, 360, 50_000), 10 ** rng.uniform(0, 7.3, 50_000))
    np.testing.assert_allclose(haversine_m(lat1, lon1, lat2, lon2), chord_distance_m(lat1, lon1, lat2, lon2),
                               rtol=1e-9, atol=1e-6)


def test_destination_goes_the_distance():
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(-89.99, 89.99, 1000), rng.uniform(-180, 180, 1000)
    d = rng.uniform(1, 2e6, 1000)
    lat2, lon2 = destination(lat, lon, rng.uniform(0, 360, 1000), d)
    assert np.all(np.abs(lon2) <= 180)
    np.testing.assert_allclose(chord_distance_m(lat, lon, lat2, lon2), d, rtol=1e-9, atol=1e-6)


def test_cap_boxes_contain_their_caps_at_poles_and_antimeridian():
    rng = np.random.default_rng(3)
    centres = [(0, 179.999), (0, -180), (89.99, 10), (-89.95, -60), (75, 179.9), (45, 0), (-60, -179.5)]
    for lat, lon in centres:
        r = 50_000.0
        plat, plon = destination(np.full(5000, lat), np.full(5000, lon), rng.uniform(0, 360, 5000),
                                 rng.uniform(0, r, 5000))
        lo, hi, wlo, whi = (float(v) for v in cap_boxes(lat, lon, r))
        assert np.all((plat >= lo) & (plat <= hi))
        # Longitudes compared modulo 360 inside the unwrapped box.
        shifted = wlo + np.mod(plon - wlo, 360.0)
        assert np.all(shifted <= whi) or whi - wlo >= 360


# -- grid ------------------------------------------------------------------------------------------

def test_point_keys_in_numpy_and_sql_agree_including_edges():
    rng = np.random.default_rng(4)
    lat = np.concatenate([rng.uniform(-90, 90, 20_000), [90, -90, 0, 89.9999999, -90]])
    lon = np.concatenate([rng.uniform(-180, 180, 20_000), [180, -180, 180, -180, 179.9999999]])
    grid = Grid.for_cell(5000)
    con = connect()
    con.register("p", pa.table({"lat": lat, "lon": lon}))
    sql_keys = fetch(con, f"SELECT {grid.key_sql('lat', 'lon')} AS k FROM p").column("k").to_numpy()
    keys = grid.point_keys(lat, lon)
    np.testing.assert_array_equal(sql_keys, keys)
    assert keys.min() >= 0 and keys.max() < grid.bands * grid.columns
    # 180 and -180 are one meridian; both poles' rows are the outermost bands.
    assert grid.point_keys(0, 180) == grid.point_keys(0, -180)
    assert grid.point_keys(90, 0) // grid.columns == grid.bands - 1


def test_cover_lists_every_cell_a_cap_touches():
    rng = np.random.default_rng(5)
    grid = Grid.for_cell(2500)
    for lat, lon, r in [(0, 179.99, 5000), (89.98, 0, 5000), (-89.999, 100, 300), (60, -180, 20000),
                        (10, 20, 5000), (0, 0, 0)]:
        owner, keys = grid.cover_caps(np.array([lat]), np.array([lon]), np.array([r]))
        assert len(np.unique(keys)) == len(keys)  # no duplicates
        plat, plon = destination(np.full(3000, lat), np.full(3000, lon), rng.uniform(0, 360, 3000),
                                 rng.uniform(0, r, 3000))
        assert np.isin(grid.point_keys(plat, plon), keys).all()


# -- the join --------------------------------------------------------------------------------------

def _join_counts(zones: Zones, lat, lon) -> np.ndarray:
    con = connect()
    con.register("pts", pa.table({"pid": np.arange(lat.size), "lat": lat, "lon": lon}))
    j = ZoneJoin(con, zones)
    res = fetch(con, f"SELECT zone, pid FROM ({j.within_sql('SELECT * FROM pts', ['pid'])})")
    got = np.zeros((len(zones), lat.size), dtype=bool)
    got[res.column("zone").to_numpy(), res.column("pid").to_numpy()] = True
    return got


def test_join_equals_brute_force_on_random_subsets_with_poles_and_antimeridian():
    rng = np.random.default_rng(6)
    centres = np.array([(0, 179.99), (0, -180), (12, -179.999), (89.99, 0), (-89.9, 45), (-85, -170),
                        (70, 179.5), (48.1, 11.6), (-33.9, 151.2), (0, 0)])
    radii = np.array([5000, 5000, 20000, 5000, 30000, 100000, 50000, 5000, 2000, 0], dtype=float)
    lats, lons = [], []
    for (lat, lon), r in zip(centres, radii):
        a, b = scatter_around(rng, lat, lon, max(r, 10), 800)
        lats.append(a), lons.append(b)
    lats.append(rng.uniform(-90, 90, 5000)), lons.append(rng.uniform(-180, 180, 5000))
    # Random zones too, with radii from metres to thousands of kilometres.
    zl = np.concatenate([centres[:, 0], rng.uniform(-90, 90, 40)])
    zo = np.concatenate([centres[:, 1], rng.uniform(-180, 180, 40)])
    zr = np.concatenate([radii, 10 ** rng.uniform(2, 6.5, 40)])
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    got = _join_counts(Zones.build(zl, zo, zr), lat, lon)
    expected = brute_within(zl, zo, zr, lat, lon)
    assert got.sum() > 5000
    np.testing.assert_array_equal(got.sum(axis=1), expected.sum(axis=1))
    np.testing.assert_array_equal(got, expected)


def test_points_exactly_on_the_radius_count_and_just_beyond_do_not():
    """Inclusive: distance <= radius (to 1 mm). Points placed on the circle by the destination
    formula are in; points 5 mm beyond are out; the zone's own centre is in a zero radius."""
    rng = np.random.default_rng(7)
    zl = np.array([0.0, 51.5, 89.999, -45.0, 10.0])
    zo = np.array([179.9995, -0.1, 0.0, -179.9999, 20.0])
    zr = np.array([1000.0, 5000.0, 500.0, 2500.0, 0.0])
    lats, lons, want = [], [], []
    for la, lo, r in zip(zl, zo, zr):
        b = rng.uniform(0, 360, 200)
        on_lat, on_lon = destination(np.full(200, la), np.full(200, lo), b, np.full(200, r))
        out_lat, out_lon = destination(np.full(200, la), np.full(200, lo), b, np.full(200, r + 0.005))
        lats += [on_lat, out_lat]
        lons += [on_lon, out_lon]
        want += [np.ones(200, bool), np.zeros(200, bool)]
    lat, lon, want = np.concatenate(lats), np.concatenate(lons), np.concatenate(want)
    got = _join_counts(Zones.build(zl, zo, zr), lat, lon)
    owner = np.repeat(np.arange(5), 400)
    np.testing.assert_array_equal(got[owner, np.arange(lat.size)], want)
    # Exactly: one degree of the equator with the radius set to that very distance.
    one = float(haversine_m(0, 0, 0, 1))
    assert _join_counts(Zones.build([0.0], [0.0], [one]), np.array([0.0]), np.array([1.0]))[0, 0]


def test_polygon_zones_with_holes_and_the_antimeridian_equal_ray_casting():
    rng = np.random.default_rng(8)
    square_with_hole = [[[10, 50], [12, 50], [12, 52], [10, 52], [10, 50]],
                        [[10.5, 50.5], [11.5, 50.5], [11.5, 51.5], [10.5, 51.5], [10.5, 50.5]]]
    fiji = [[[178.5, -16], [-179.5, -16], [-179.5, -18.5], [178.5, -18.5], [178.5, -16]]]
    texts = [json.dumps({"type": "Polygon", "coordinates": square_with_hole}),
             json.dumps({"type": "Polygon", "coordinates": fiji})]
    areas = parse_areas(texts)
    zones = Zones.build([51.0, -17.0], [11.0, 179.5], [np.nan, np.nan], areas)
    lat = np.concatenate([rng.uniform(49.5, 52.5, 3000), rng.uniform(-19, -15.5, 3000)])
    lon = np.concatenate([rng.uniform(9.5, 12.5, 3000), (rng.uniform(178, 181, 3000) + 180) % 360 - 180])
    # Points exactly on the shell, on the hole's edge and at vertices belong to the area.
    lat = np.concatenate([lat, [50.0, 51.0, 50.5, 52.0, -16.0, -17.0]])
    lon = np.concatenate([lon, [11.0, 10.5, 11.0, 12.0, 180.0, -179.5]])
    got = _join_counts(zones, lat, lon)
    unwrapped_fiji = [[[x + 360 if x < 0 else x, y] for x, y in fiji[0]]]
    exp0 = np.array([ray_cast(x, y, square_with_hole) for x, y in zip(lon, lat)])
    exp1 = np.array([ray_cast(x + 360 if x < 0 else x, y, unwrapped_fiji) for x, y in zip(lon, lat)])
    np.testing.assert_array_equal(got[0], exp0)
    np.testing.assert_array_equal(got[1], exp1)
    assert got[0, -6:-2].all() and got[1, -2:].all()
    assert not got[0, (lat > 50.6) & (lat < 51.4) & (lon > 10.6) & (lon < 11.4)].any()  # the hole


def test_multipolygon_and_polar_polygon():
    multi = parse_area({"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]]]})
    assert multi.contains([0.5, 5.5, 3, 1], [0.5, 5.5, 3, 0.5]).tolist() == [True, True, False, True]
    # RFC 7946 style polar cap: everything north of 80N.
    arctic = parse_area({"type": "Polygon", "coordinates": [
        [[-180, 80], [180, 80], [180, 90], [-180, 90], [-180, 80]]]})
    assert arctic.contains([85, 89.999, 79.9, 80, 90], [123, -180, 0, 17, 0]).tolist() == [
        True, True, False, True, True]


def test_weighted_join_sums_equal_pairwise_sums_with_dense_overlapping_zones():
    """Summing whole cells first (dense cell files) must give exactly the pairwise totals, with
    zones that overlap, straddle the antimeridian, sit on a pole, and a polygon among them."""
    rng = np.random.default_rng(10)
    centres = [(0.0, 179.99), (0.01, -179.995), (89.99, 0.0), (51.0, 11.0), (51.01, 11.02)]
    lats, lons = [], []
    for la, lo in centres:
        a, b = scatter_around(rng, la, lo, 8000, 20_000)
        lats.append(a), lons.append(b)
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    n = lat.size
    con = connect()
    con.register("pts", pa.table({"lat": lat, "lon": lon, "k": rng.integers(0, 3, n),
                                  "w": rng.integers(1, 5, n), "one": np.ones(n, dtype=np.int64)}))
    square = json.dumps({"type": "Polygon", "coordinates": [[[10.95, 50.95], [11.05, 50.95], [11.05, 51.05],
                                                             [10.95, 51.05], [10.95, 50.95]]]})
    zones = Zones.build([c[0] for c in centres] + [51.0], [c[1] for c in centres] + [11.0],
                        [6000, 7000, 5000, 4000, 4500, np.nan], [None] * 5 + parse_areas([square]))
    join = ZoneJoin(con, zones)
    assert join.cells.column("inner").to_numpy().any()
    sums = "SELECT zone, k, sum(w) AS w, sum(one) AS one FROM ({}) GROUP BY ALL ORDER BY ALL"
    a = fetch(con, sums.format(join.within_sql("SELECT * FROM pts", ["k", "w", "one"]))).to_pandas()
    b = fetch(con, sums.format(join.weighted_sql("SELECT * FROM pts", ["k"], ["w", "one"]))).to_pandas()
    pd_equal = a.astype("int64").equals(b.astype("int64"))
    assert pd_equal, (a, b)
    expected = brute_within(zones.lat[:5], zones.lon[:5], zones.radius_m[:5], lat, lon).sum(axis=1)
    np.testing.assert_array_equal(a.groupby("zone")["one"].sum().reindex(range(5)).to_numpy(), expected)


# -- bad geometry ----------------------------------------------------------------------------------

@pytest.mark.parametrize("geometry, reason", [
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "self-intersecting"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 0], [0, 0]]]}, "latitude 95 outside"),
    ({"type": "Polygon", "coordinates": []}, "empty Polygon"),
    ({}, "not a GeoJSON geometry"),
    ("", "empty GeoJSON"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
    ({"type": "Point", "coordinates": [1, 2]}, "not an area"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]],
                                         [[5, 5], [6, 5], [6, 6], [5, 5]]]}, "outside its shell"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]],
                                         [[1, 1], [3, 1], [3, 1.5], [1, 1]]]}, "crossing"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, "x"]]]}, "[lon, lat] numbers"),
])
def test_bad_geometry_is_a_clear_error(geometry, reason):
    text = geometry if isinstance(geometry, str) else json.dumps(geometry)
    with pytest.raises(GeometryError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_area(text)


def test_bad_geometries_are_collected_with_file_line_column_value():
    texts = [json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
             None,
             json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 0], [0, 0]]]}),
             "{not json",
             json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})]
    with pytest.raises(ValidationError) as e:
        parse_areas(texts, file="sites.geojson", lines=[2, 3, 4, 5, 6])
    probs = e.value.problems
    assert [p.line for p in probs] == [2, 4, 5]
    assert all(p.file == "sites.geojson" and p.column == "geometry" and p.value for p in probs)
    assert "self-intersecting" in probs[0].reason and "0.5" in probs[0].reason
    assert "95" in probs[1].value and "not valid JSON" in probs[2].reason


def test_bad_zone_coordinates_are_reported_by_line():
    with pytest.raises(ValidationError) as e:
        Zones.build([95.0, 10.0, np.nan], [0.0, 200.0, 0.0], [5000, 5000, -1], file="s.csv", lines=[2, 3, 4])
    got = {(p.line, p.column) for p in e.value.problems}
    assert got == {(2, "lat"), (3, "lon"), (4, "lat"), (4, "radius_m")}


# -- nearest ---------------------------------------------------------------------------------------

def test_nearest_equals_brute_force_across_antimeridian_and_poles():
    rng = np.random.default_rng(9)
    lat = np.concatenate([rng.uniform(-90, 90, 3000), [89.9, -89.95, 0.0, 0.0]])
    lon = np.concatenate([rng.uniform(-180, 180, 3000), [120.0, -10.0, 179.99, -179.99]])
    qlat = np.concatenate([rng.uniform(-90, 90, 300), [89.95, -89.99, 0.0]])
    qlon = np.concatenate([rng.uniform(-180, 180, 300), [-60.0, 170.0, -179.995]])
    con = connect()
    con.register("p", pa.table({"pid": np.arange(lat.size), "lat": lat, "lon": lon}))
    h, pid, ok = nearest(con, "SELECT * FROM p", qlat, qlon, start_m=100)
    d = chord_distance_m(qlat[:, None], qlon[:, None], lat[None, :], lon[None, :])
    assert ok.all()
    np.testing.assert_allclose(distance_of_h(h), d.min(axis=1), rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(pid, d.argmin(axis=1))
    assert pid[-1] == lat.size - 1  # across the antimeridian, 1.1 km away


def test_nearest_ties_go_to_the_smaller_id_and_limits_are_honoured():
    con = connect()
    # Two points at exactly the same place, listed with the larger id first.
    con.register("p", pa.table({"pid": np.array([7, 3, 9]), "lat": [1.0, 1.0, -50.0], "lon": [1.0, 1.0, 0.0]}))
    h, pid, ok = nearest(con, "SELECT * FROM p", np.array([0.0, 60.0]), np.array([0.0, 0.0]),
                         start_m=1000, max_m=500_000)
    assert pid[0] == 3 and ok[0]
    # Beyond max_m nothing is claimed, and the answer is marked not final.
    assert np.isnan(h[1]) and pid[1] == -1 and not ok[1]
    empty = connect()
    empty.register("p", pa.table({"pid": np.array([], dtype=np.int64), "lat": np.array([], float),
                                  "lon": np.array([], float)}))
    h, pid, ok = nearest(empty, "SELECT * FROM p", np.array([0.0]), np.array([0.0]), start_m=1000)
    assert np.isnan(h[0]) and ok[0] and MAX_DISTANCE_M > 2e7


# -- one geometry: distance to the edge, poles, the radius index ---------------------------------------

def _oracle_distance(lat, lon, polygons, *, shift_west=False):
    """0 inside (ray casting), else the sampled edge distance (oracles)."""
    from oracles import edge_distance_m, inside_polygons

    qlon = np.where(shift_west & (np.asarray(lon) < 0), np.asarray(lon) + 360, lon)
    inside = inside_polygons(lat, qlon, polygons)
    return np.where(inside, 0.0, edge_distance_m(lat, qlon, polygons))


def test_distance_to_the_edge_equals_brute_force_near_edges_holes_and_the_antimeridian():
    rng = np.random.default_rng(21)
    square_with_hole = [[[10, 50], [12, 50], [12, 52], [10, 52], [10, 50]],
                        [[10.5, 50.5], [11.5, 50.5], [11.5, 51.5], [10.5, 51.5], [10.5, 50.5]]]
    area = parse_area({"type": "Polygon", "coordinates": square_with_hole})
    # points spread round, and points within a few metres of the edges
    lat = np.r_[rng.uniform(49, 53, 300), 50 + rng.uniform(-1e-4, 1e-4, 100), rng.uniform(50.4, 51.6, 100)]
    lon = np.r_[rng.uniform(9, 13, 300), rng.uniform(10, 12, 100), rng.uniform(10.4, 11.6, 100)]
    np.testing.assert_allclose(area.distance_m(lat, lon), _oracle_distance(lat, lon, [square_with_hole]),
                               atol=0.06)
    fiji = [[[178.5, -16], [180.5, -16], [180.5, -18.5], [178.5, -18.5], [178.5, -16]]]
    area = parse_area({"type": "Polygon", "coordinates": [[[(x + 180) % 360 - 180 if x > 180 else x, y]
                                                            for x, y in fiji[0]]]})
    lat, lon = rng.uniform(-20, -14, 400), (rng.uniform(177, 182, 400) + 180) % 360 - 180
    np.testing.assert_allclose(area.distance_m(lat, lon), _oracle_distance(lat, lon, [fiji], shift_west=True),
                               atol=0.06)


def test_a_ring_round_a_pole_holds_the_pole_like_the_cut_cap():
    ring = [[x, 80.0] for x in range(-170, 180, 10)] + [[-170.0, 80.0]]
    round_pole = parse_area({"type": "Polygon", "coordinates": [ring]})
    cut = parse_area({"type": "Polygon", "coordinates": [[[-180, 80], [180, 80], [180, 90], [-180, 90],
                                                          [-180, 80]]]})
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(70, 90, 2000), rng.uniform(-180, 180, 2000)
    np.testing.assert_array_equal(round_pole.contains(lat, lon), cut.contains(lat, lon))
    np.testing.assert_allclose(round_pole.distance_m(lat, lon), cut.distance_m(lat, lon), atol=0.06)
    assert round_pole.contains([90.0], [0.0])[0] and not round_pole.contains([-90.0], [0.0])[0]
    # south: a ring round the south pole holds the south pole
    south = parse_area({"type": "Polygon", "coordinates": [[[x, -75.0] for x in range(180, -180, -15)]
                                                           + [[180.0, -75.0]]]})
    assert south.contains([-89.0, -76.0, -74.0], [33.0, 0.0, 0.0]).tolist() == [True, True, False]
    zigzag = [[x, 10.0 if (x // 10) % 2 else -10.0] for x in range(-170, 180, 10)]
    with pytest.raises(GeometryError, match="crosses the equator"):
        parse_area({"type": "Polygon", "coordinates": [zigzag + [zigzag[0]]]})


def test_point_index_near_area_equals_brute_force():
    from cleanpath.geo import PointIndex

    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(-19, -15, 3000), (rng.uniform(177, 183, 3000) + 180) % 360 - 180
    fiji = [[[178.5, -16], [180.5, -16.2], [180.5, -18.5], [178.5, -18.5], [178.5, -16]]]
    area = parse_area({"type": "Polygon", "coordinates": [[[x - 360 if x > 180 else x, y] for x, y in fiji[0]]]})
    want = _oracle_distance(lat, lon, [fiji], shift_west=True)
    idx = PointIndex(lat, lon)
    clear = np.abs(want - 25_000) > 1.0
    got = np.zeros(lat.size, bool)
    got[idx.near_area(area, 25_000)] = True
    np.testing.assert_array_equal(got[clear], (want <= 25_000)[clear])
    got = np.zeros(lat.size, bool)
    got[idx.near_area(area)] = True
    np.testing.assert_array_equal(got, want == 0)
    c, p = idx.pairs([-17.0, np.nan], [180.0, 0.0], [30_000, 1e9])
    d = chord_distance_m(-17.0, 180.0, lat, lon)
    assert set(c.tolist()) == {0} and set(p.tolist()) == set(np.flatnonzero(d <= 30_000 + 1e-3).tolist())


def test_wkt_and_garbage_say_what_to_give():
    with pytest.raises(GeometryError, match="WKT, not GeoJSON"):
        parse_area("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))")
    with pytest.raises(GeometryError, match="not valid JSON"):
        parse_area("somewhere near the gate")


def test_representative_point_lies_inside_even_across_the_antimeridian_and_for_a_u():
    u = {"type": "Polygon", "coordinates": [[[179, 0], [-178, 0], [-178, 3], [-179, 3], [-179, 1], [180, 1],
                                             [180, 3], [179, 3], [179, 0]]]}
    a = parse_area(u)
    lat, lon = a.representative_point()
    assert a.contains([lat], [lon])[0] and -180 <= lon <= 180


def test_pruned_distance_search_equals_the_brute_force_one():
    """Many points near an outline of many edges take the k-d tree path; it must agree exactly."""
    from cleanpath.geo.geometry import arc_distance_m
    from cleanpath.geo.sphere import unit_vectors

    rng = np.random.default_rng(12)
    t = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    r = 1 + 0.3 * np.sin(7 * t)
    ring = [[179.0 + 2 * rr * np.cos(a), 50 + rr * np.sin(a)] for rr, a in zip(r, t)]
    ring = [[x - 360 if x > 180 else x, y] for x, y in ring]  # across the antimeridian
    area = parse_area({"type": "Polygon", "coordinates": [ring + [ring[0]]]})
    lat, lon = rng.uniform(47, 53, 3000), (rng.uniform(175, 183, 3000) + 180) % 360 - 180
    d = area.distance_m(lat, lon)
    out = d > 0
    assert out.sum() > 1000 and (~out).sum() > 100
    brute = arc_distance_m(unit_vectors(lat[out], lon[out]), *area._arcs)  # no tree: brute force
    np.testing.assert_allclose(d[out], brute, atol=1e-6)
