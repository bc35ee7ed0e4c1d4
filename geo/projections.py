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
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.errors import CRSError

WGS84 = 4326
LAMBERT_93 = 2154
BELGIAN_LAMBERT_2008 = 3812

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
