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
        Columns ``name`` (str or None) and ``geometry`` (LineString or
        MultiLineString, EPSG:4326, coordinates rounded to 1e-6 degree, about 10 cm).

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
    names = frame[name_field] if name_field in frame.columns else [None] * len(frame)
    return gpd.GeoDataFrame(
        {"name": [n if isinstance(n, str) and n.strip() else None for n in names]},
        geometry=shapely.set_precision(frame.geometry.values, 1e-6),
        crs=projections.WGS84,
    )
