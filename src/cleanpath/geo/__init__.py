"""The spatial engine: exact distances on the sphere, a grid-key join, polygons with holes.

* :mod:`cleanpath.geo.sphere`: haversine distance, destination points, bounding boxes of caps;
* :mod:`cleanpath.geo.grid`: the global grid whose integer keys make "near" an equi-join;
* :mod:`cleanpath.geo.geometry`: GeoJSON (Multi)Polygons, checked, with point-in-polygon;
* :mod:`cleanpath.geo.join`: the DuckDB join of points to zones and the nearest-point search.
"""

from cleanpath.geo.geometry import Area, GeometryError, parse_area, parse_areas
from cleanpath.geo.grid import Grid
from cleanpath.geo.join import ZoneJoin, Zones, connect, nearest
from cleanpath.geo.sphere import (EARTH_RADIUS_M, RADIUS_TOLERANCE_M, destination, haversine_m)

__all__ = ["Area", "GeometryError", "parse_area", "parse_areas", "Grid", "ZoneJoin", "Zones",
           "connect", "nearest", "EARTH_RADIUS_M", "RADIUS_TOLERANCE_M", "destination",
           "haversine_m"]
