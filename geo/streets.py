"""Reading street centre-lines drawn under the quartiers when no tile server answers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from geo import projections
from geo.errors import QuartierFileError

LINEAR = ("LineString", "MultiLineString")


def read_streets(path: str | Path, name_field: str = "name") -> gpd.GeoDataFrame:
    """Read a street file into WGS84 lines.

    Parameters
    ----------
    path : str or Path
        Any vector file GDAL reads (GeoJSON, GeoPackage, zipped Shapefile) of lines,
        in any CRS.
    name_field : str
        Attribute holding the street's name; missing names are kept as ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name`` (str or None), ``highway`` (the OSM class, str or None),
        ``level`` (int: the OSM ``layer``, 0 when absent or unreadable) and ``geometry``
        (LineString or MultiLineString, EPSG:4326, coordinates rounded to 1e-6 degree,
        about 10 cm).

    Raises
    ------
    QuartierFileError
        If the file is missing or unreadable, has no CRS or no line feature.
    """
    path = Path(path)
    if not path.is_file():
        raise QuartierFileError(f"file not found: {path}", "file")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (DataSourceError, DataLayerError, ValueError, OSError) as exc:
        raise QuartierFileError(f"cannot read {path.name}: {exc}", "file") from exc
    if frame.crs is None:
        raise QuartierFileError(f"{path.name} has no coordinate reference system", "file")
    frame = frame[frame.geometry.geom_type.isin(LINEAR)]
    if frame.empty:
        raise QuartierFileError(f"{path.name} has no line features", "file")
    frame = frame.to_crs(projections.WGS84)
    return gpd.GeoDataFrame(
        {
            "name": _texts(frame, name_field),
            "highway": [h[:40] if h else None for h in _texts(frame, "highway")],
            "level": [_level(v) for v in _column(frame, "layer")],
        },
        geometry=shapely.set_precision(frame.geometry.values, 1e-6),
        crs=projections.WGS84,
    )


def _column(frame: gpd.GeoDataFrame, name: str) -> list:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


def _texts(frame: gpd.GeoDataFrame, name: str) -> list[str | None]:
    return [v if isinstance(v, str) and v.strip() else None for v in _column(frame, name)]


def _level(value) -> int:
    """OSM ``layer`` as an int (-5 to 5); anything else is the ground level."""
    try:
        level = float(str(value).strip())
    except ValueError:
        return 0
    return int(level) if -5 <= level <= 5 and level == int(level) else 0
