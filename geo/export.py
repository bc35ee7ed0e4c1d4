"""File writers for planners' exports.

CSV that a spreadsheet cannot run, features as CSV rows (a point inside each shape, its
WKT, the properties), GeoPackage layers and their ``metadata`` table. Plain values in,
text or files out: the views choose what goes in.

GDAL, pandas and geopandas are heavy: each writer loads them when first called.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence

import shapely

GPKG_VERSION = "1.2"

# A cell starting with one of these is a formula for Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(
    header: Sequence, rows: Iterable[Sequence], every: int = 500, excel_fr: bool = False
) -> Iterator[str]:
    """Yield ``header`` then ``rows`` as CSV text, ``every`` rows at a time.

    Text cells go through :func:`spreadsheet_safe`; numbers stay numbers. ``excel_fr``:
    what French Excel opens by a double click — a byte order mark, ``;`` between cells
    and a decimal comma.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel_fr else ",")
    if excel_fr:
        buffer.write("\ufeff")
    writer.writerow(header)

    def cell(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return spreadsheet_safe(value)
        return str(value).replace(".", ",") if excel_fr else value

    for number, row in enumerate(rows, start=1):
        writer.writerow([cell(v) for v in row])
        if number % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def features_csv(features: list[dict], excel_fr: bool = False) -> str:
    """Write GeoJSON features as CSV text.

    Columns: lon, lat (a point inside the shape), WKT, then the properties (the union of
    every feature's keys, in order of appearance). ``excel_fr``: see :func:`csv_chunks`.
    """
    columns = list(dict.fromkeys(k for f in features for k in f["properties"]))

    def rows():
        for feature in features:
            values = [feature["properties"].get(c) for c in columns]
            if feature["geometry"] is None:
                yield ["", "", "", *values]
                continue
            shape = shapely.geometry.shape(feature["geometry"])
            inside = shape.representative_point()
            wkt = shapely.to_wkt(shape, rounding_precision=7, trim=True)
            yield [round(inside.x, 7), round(inside.y, 7), wkt, *values]

    header = ["lon", "lat", "wkt", *columns]
    return "".join(csv_chunks(header, rows(), excel_fr=excel_fr))


def rfc7946(shapes):
    """Orient polygons as RFC 7946 asks.

    Exterior rings counter-clockwise, holes clockwise; a geometry or an array of them.
    """
    return shapely.orient_polygons(shapes, exterior_cw=False)


def file_name(
    slug: str, layer: str, ext: str, filters: dict, srid: int | None = None, excel_fr=False
) -> str:
    """Name a download so that it differs with the format, CRS, dialect and filters.

    Two downloads never overwrite each other: ``ressenti-rennes-pins-epsg2154-feeling-
    unsafe.gpkg``. Only ASCII letters, digits and dashes; long filters are hashed.
    """
    parts = ["ressenti", slug, layer]
    if srid:
        parts.append(f"epsg{srid}")
    if excel_fr:
        parts.append("excel-fr")
    if filters:
        text = "-".join(f"{k}-{v}" for k, v in sorted(filters.items())).lower()
        text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
        if len(text) > 60:
            text = "f" + hashlib.sha256(text.encode()).hexdigest()[:10]
        parts.append(text)
    return "-".join(p for p in parts if p) + "." + ext


def mapping(shape) -> dict:
    """Return a shapely geometry as GeoJSON with 7-decimal coordinates (about 1 cm).

    Its rings are oriented as RFC 7946 asks (:func:`rfc7946`).
    """
    return shapely.geometry.mapping(rfc7946(shapely.set_precision(shape, 1e-7)))


def feature_frame(features: list[dict], srid: int = 4326):
    """GeoJSON features (lon/lat) as a GeoDataFrame in ``srid``."""
    import geopandas as gpd  # geopandas: heavy, loaded late

    return gpd.GeoDataFrame.from_features(features, crs=4326).to_crs(srid)


def points_frame(records: list[dict], columns: Sequence[str], lonlat: list, srid: int = 4326):
    """Point features from ``records`` (one dict per point) and their (lon, lat)."""
    import geopandas as gpd  # geopandas: heavy, loaded late

    frame = gpd.GeoDataFrame(
        records,
        columns=list(columns),
        geometry=shapely.points(lonlat) if lonlat else [],
        crs=4326,
    )
    return frame.to_crs(srid)


def temporary_gpkg() -> str:
    """Return a path for a new GeoPackage (not created: GDAL creates it)."""
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    os.unlink(path)
    return path


def write_layer(frame, path: str, layer: str) -> None:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path``, appending (batches)."""
    import pyogrio  # GDAL: heavy, loaded late

    new = not os.path.exists(path)
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        driver="GPKG",
        append=has_layer(path, layer),
        # GeoPackage 1.2: GDAL 3.6 (Debian 12, QGIS 3.22) warns on the default 1.4.
        dataset_options={"VERSION": GPKG_VERSION} if new else None,
    )


def has_layer(path: str, layer: str) -> bool:
    """Tell whether the GeoPackage ``path`` exists and holds ``layer``."""
    import pyogrio  # GDAL: heavy, loaded late

    if not os.path.exists(path):
        return False
    return layer in {name for name, _geometry in pyogrio.list_layers(path)}


def write_metadata(path: str, metadata: dict) -> None:
    """Write the ``metadata`` table: one row per key, its value as JSON."""
    import pandas as pd  # pandas: heavy, loaded late
    import pyogrio  # GDAL: heavy, loaded late

    table = pd.DataFrame(
        {
            "key": list(metadata),
            "value": [json.dumps(v, ensure_ascii=False) for v in metadata.values()],
        }
    )
    pyogrio.write_dataframe(table, path, layer="metadata", driver="GPKG")
