"""Coordinate reference systems: storage in WGS84, measurement in a metric CRS.

Every territory stores its geometries in EPSG:4326 (longitude, latitude in degrees)
and measures them in one projected CRS whose unit is the metre:

* metropolitan France (Corsica included): Lambert-93, EPSG:2154;
* Belgium: Belgian Lambert 2008, EPSG:3812;
* anywhere else (overseas France included): the WGS84 / UTM zone of the territory.

All transformers are built with ``always_xy=True`` so that coordinates are always
passed and returned as (x, y) = (longitude, latitude) or (easting, northing),
whatever axis order the CRS authority defines, and they are cached.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.errors import CRSError

WGS84 = 4326
LAMBERT_93 = 2154
BELGIAN_LAMBERT_2008 = 3812
WEB_MERCATOR = 3857

# Areas of use of the two national CRSs (EPSG registry), west, south, east, north.
_METROPOLITAN_FRANCE = (-9.86, 41.15, 10.38, 51.56)
_BELGIUM = (2.50, 49.50, 6.40, 51.51)


def _inside(bbox: tuple[float, float, float, float], lon: float, lat: float) -> bool:
    west, south, east, north = bbox
    return west <= lon <= east and south <= lat <= north


def _check_lonlat(lon: float, lat: float) -> None:
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise CRSError(f"longitude and latitude must be finite, got ({lon}, {lat})", "lonlat")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CRSError(f"({lon}, {lat}) is not a longitude/latitude pair in degrees", "lonlat")


def utm_srid(lon: float, lat: float) -> int:
    """Return the EPSG code of the WGS84 / UTM zone containing a point.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in degrees (EPSG:4326).

    Returns
    -------
    int
        326xx for the northern hemisphere, 327xx for the southern one.
    """
    _check_lonlat(lon, lat)
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def metric_srid(country: str, lon: float, lat: float) -> int:
    """Choose the metric CRS of a territory.

    Parameters
    ----------
    country : str
        ISO 3166-1 alpha-2 code of the territory's country (``"FR"``, ``"BE"``, ...).
    lon, lat : float
        A representative point of the territory (its centroid), in degrees.

    Returns
    -------
    int
        EPSG code: 2154 (Lambert-93) for metropolitan France, 3812 (Belgian
        Lambert 2008) for Belgium, otherwise the UTM zone of the point.

    Raises
    ------
    CRSError
        If the coordinates are not finite degrees, or a Belgian territory lies
        outside Belgium's area of use.
    """
    _check_lonlat(lon, lat)
    code = (country or "").strip().upper()
    if code == "FR" and _inside(_METROPOLITAN_FRANCE, lon, lat):
        return LAMBERT_93
    if code == "BE":
        if not _inside(_BELGIUM, lon, lat):
            raise CRSError(f"({lon:.4f}, {lat:.4f}) is outside Belgium", "country")
        return BELGIAN_LAMBERT_2008
    return utm_srid(lon, lat)


@lru_cache(maxsize=64)
def crs(srid: int) -> CRS:
    """Return the pyproj CRS of an EPSG code, cached.

    Raises
    ------
    CRSError
        If the code is not a known EPSG CRS.
    """
    try:
        return CRS.from_epsg(int(srid))
    except (PyprojCRSError, ValueError, TypeError) as exc:
        raise CRSError(f"unknown EPSG code {srid!r}", "srid") from exc


@lru_cache(maxsize=64)
def transformer(src: int, dst: int) -> Transformer:
    """Return a cached transformer between two EPSG codes, in (x, y) axis order.

    Parameters
    ----------
    src, dst : int
        EPSG codes of the source and target CRS.
    """
    return Transformer.from_crs(crs(src), crs(dst), always_xy=True)


def to_metric(lon, lat, srid: int):
    """Project longitude/latitude (EPSG:4326, degrees) to a metric CRS.

    Parameters
    ----------
    lon, lat : float or array_like
        Coordinates in degrees.
    srid : int
        EPSG code of the metric CRS.

    Returns
    -------
    x, y : float or ndarray
        Easting and northing in metres.
    """
    return transformer(WGS84, srid).transform(lon, lat)


def to_lonlat(x, y, srid: int):
    """Unproject metric coordinates to longitude/latitude (EPSG:4326, degrees).

    Parameters
    ----------
    x, y : float or array_like
        Easting and northing in metres, in ``srid``.
    srid : int
        EPSG code of the metric CRS.
    """
    return transformer(srid, WGS84).transform(x, y)


def crs_label(srid: int) -> str:
    """Return a readable name of a CRS, e.g. ``"EPSG:2154 RGF93 v1 / Lambert-93"``."""
    return f"EPSG:{srid} {crs(srid).name}"


@lru_cache(maxsize=64)
def northing_first(srid: int) -> bool:
    """Tell whether a CRS's authority axis order puts the north axis first.

    EPSG:4326 is (latitude, longitude) by its definition, although GeoJSON, PostGIS
    and this module's transformers use (longitude, latitude); the projected CRSs used
    here (2154, 3812, UTM, 3857) are (easting, northing).

    Parameters
    ----------
    srid : int
        EPSG code.
    """
    return crs(srid).axis_info[0].direction in ("north", "south")


def _moved(coords: np.ndarray, src: int, dst: int, swap_in: bool, swap_out: bool, decimals):
    """(N, 2) coordinates from ``src`` to ``dst``, swapping axes on the way in or out."""
    x, y = (coords[:, 1], coords[:, 0]) if swap_in else (coords[:, 0], coords[:, 1])
    if src != dst:
        x, y = transformer(src, dst).transform(x, y)
    moved = np.column_stack((y, x) if swap_out else (x, y))
    return moved if decimals is None else np.round(moved, decimals)


def to_crs84(geometries, srid: int) -> np.ndarray:
    """Transform geometries from an EPSG CRS, in its axis order, to CRS84.

    The inverse of :func:`geojson_from_crs84`, for shapely geometries.

    Parameters
    ----------
    geometries : array_like of shapely.Geometry
        Geometries in ``srid``, coordinates in its authority axis order
        ((latitude, longitude) for EPSG:4326, (easting, northing) in metres for the
        projected CRSs).
    srid : int
        EPSG code of their CRS.

    Returns
    -------
    ndarray of shapely.Geometry
        The geometries as (longitude, latitude) in degrees.
    """
    swap = northing_first(srid)
    return shapely.transform(
        np.asarray(geometries, dtype=object),
        lambda coords: _moved(coords, srid, WGS84, swap, False, None),
    )


def geojson_from_crs84(geometries: list[dict], srid: int, *, decimals: int | None = None):
    """Transform GeoJSON geometries from CRS84 to an EPSG CRS, in that CRS's axis order.

    The vertices of all geometries go through pyproj in one call; no geometry object is
    built, so a page of GeoJSON features (cached layers, query rows) is moved at the
    cost of reading and writing its coordinate lists.

    Parameters
    ----------
    geometries : list of dict
        GeoJSON geometry objects (``{"type": ..., "coordinates": ...}``, any type but
        GeometryCollection) in CRS84: longitude, latitude in degrees.
    srid : int
        EPSG code of the target CRS.
    decimals : int, optional
        Round the output coordinates to this many decimals (in the target's unit).

    Returns
    -------
    list of dict
        New geometry objects of the same types, with coordinates in ``srid`` and its
        authority axis order: (latitude, longitude) in degrees for EPSG:4326,
        (easting, northing) in metres for 2154, 3812, the UTM zones and 3857.
        Exterior rings keep their turning direction on the ground; with latitude first
        it reads the other way in the plane.
    """
    pairs: list = []
    for geometry in geometries:
        _collect(geometry["coordinates"], pairs)
    if not pairs:
        return [dict(geometry) for geometry in geometries]
    moved = _moved(np.array(pairs, dtype=float), WGS84, srid, False, northing_first(srid), decimals)
    vertices = iter(moved.tolist())
    return [
        {**geometry, "coordinates": _rebuilt(geometry["coordinates"], vertices)}
        for geometry in geometries
    ]


def _collect(coordinates: list, pairs: list) -> None:
    if coordinates and not isinstance(coordinates[0], list | tuple):
        pairs.append(coordinates[:2])  # a position; heights are not kept
        return
    for part in coordinates:
        _collect(part, pairs)


def _rebuilt(coordinates: list, vertices):
    if coordinates and not isinstance(coordinates[0], list | tuple):
        return next(vertices)
    return [_rebuilt(part, vertices) for part in coordinates]


@lru_cache(maxsize=64)
def crs_bounds(srid: int, margin: float = 1.0) -> tuple[float, float, float, float]:
    """Return the range of a CRS's coordinates: its area of use, in its own axis order.

    Parameters
    ----------
    srid : int
        EPSG code.
    margin : float, default 1.0
        Degrees added around the EPSG area of use (within -180..180, -90..90): a
        territory at the edge of its UTM zone still lies within its metric CRS's range.

    Returns
    -------
    tuple of float
        (min, min, max, max) of the first then the second axis, in the CRS's unit and
        authority axis order: (south, west, north, east) in degrees for EPSG:4326,
        (xmin, ymin, xmax, ymax) in metres for the projected CRSs.
    """
    west, south, east, north = crs(srid).area_of_use.bounds
    west, east = max(west - margin, -180.0), min(east + margin, 180.0)
    south, north = max(south - margin, -90.0), min(north + margin, 90.0)
    if srid == WEB_MERCATOR:  # the poles are at infinity
        south, north = max(south, -85.06), min(north, 85.06)
    xmin, ymin, xmax, ymax = transformer(WGS84, srid).transform_bounds(
        west, south, east, north, densify_pts=21
    )
    return (ymin, xmin, ymax, xmax) if northing_first(srid) else (xmin, ymin, xmax, ymax)
