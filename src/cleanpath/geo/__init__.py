"""The spatial engine: exact distances on the sphere, a grid-key join, polygons with holes.

* :mod:`cleanpath.geo.sphere`: haversine distance, destination points, bounding boxes of caps;
* :mod:`cleanpath.geo.grid`: the global grid whose integer keys make "near" an equi-join;
* :mod:`cleanpath.geo.geometry`: the one GeoJSON (Multi)Polygon validator, point-in-polygon and
  distance to the edge (antimeridian, poles, holes);
* :mod:`cleanpath.geo.index`: the radius index (k-d tree on the sphere) for in-memory "within";
* :mod:`cleanpath.geo.join`: the DuckDB join of points to zones and the nearest-point search.

Every module that asks "inside" or "within" uses these; none keeps a copy.
"""

from cleanpath.geo.geometry import Area, GeometryError, parse_area, parse_areas
from cleanpath.geo.grid import Grid
from cleanpath.geo.index import PointIndex
from cleanpath.geo.join import ZoneJoin, Zones, connect, nearest
from cleanpath.geo.sphere import (EARTH_RADIUS_M, RADIUS_TOLERANCE_M, destination, haversine_m,
                                  unit_vectors)

__all__ = ["Area", "GeometryError", "parse_area", "parse_areas", "Grid", "PointIndex", "ZoneJoin",
           "Zones", "connect", "nearest", "EARTH_RADIUS_M", "RADIUS_TOLERANCE_M", "destination",
           "haversine_m", "unit_vectors"]
