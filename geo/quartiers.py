"""Reading and checking quartier boundary files.

A quartier file is a GeoJSON, GeoPackage or zipped Shapefile of polygons in any CRS,
with one field for the quartier's name and one for its code. :func:`read_quartiers`
turns it into clean WGS84 MultiPolygons and a report of what it repaired, skipped
and found overlapping, or raises :class:`~geo.errors.QuartierFileError` naming the
problem before anything is written anywhere.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo import projections
from geo.errors import QuartierFileError

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
NAME_FIELDS = ("nom", "name", "l_qu", "nom_quartier", "libelle", "lib_quartier", "NOM", "NAME")
CODE_FIELDS = ("code", "matricule", "c_quinsee", "code_quartier", "id_quartier", "CODE", "id")
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class QuartierImport:
    """Quartiers read from a file, ready to be stored.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        Columns ``code``, ``name`` and ``geometry`` (valid MultiPolygons in EPSG:4326).
    source_crs : str
        The CRS the file was written in.
    repaired : list of str
        One line per invalid geometry that was repaired, with the reason.
    skipped : list of str
        One line per feature that was left out (empty or not a polygon).
    overlaps : list of tuple
        ``(code_a, code_b, area_m2)`` for quartiers overlapping by more than the tolerance.
    """

    frame: gpd.GeoDataFrame
    source_crs: str
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)


def file_digest(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, to recognise an unchanged re-import."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_quartiers(
    path: str | Path,
    name_field: str | None = None,
    code_field: str | None = None,
    overlap_tolerance_m2: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> QuartierImport:
    """Read a quartier boundary file into valid WGS84 MultiPolygons.

    Parameters
    ----------
    path : str or Path
        A GeoJSON (``.geojson``/``.json``), GeoPackage (``.gpkg``), Shapefile
        (``.shp``) or zipped Shapefile (``.zip``), in any CRS.
    name_field, code_field : str, optional
        Attribute holding the quartier's name and its code. When omitted, the first
        of :data:`NAME_FIELDS` / :data:`CODE_FIELDS` present in the file is used.
    overlap_tolerance_m2 : float
        Overlaps smaller than this area (square metres) are not reported.
    progress : callable, optional
        Called with the number of features just processed, for a progress bar.

    Returns
    -------
    QuartierImport
        The quartiers, with geometries in EPSG:4326, and the import report.

    Raises
    ------
    QuartierFileError
        If the file is missing, empty or unreadable, has no CRS, no polygon
        feature, an unknown name or code field, or empty or duplicate codes.
    """
    frame = _open(Path(path))
    if frame.crs is None:
        raise QuartierFileError(
            f"{Path(path).name} has no coordinate reference system (a Shapefile needs its "
            ".prj); add one or reproject the file",
            "file",
        )
    _check_degrees(frame, Path(path).name)
    source_crs = frame.crs.to_string()
    name_col = _pick_field(frame, name_field, NAME_FIELDS, "name_field")
    code_col = _pick_field(frame, code_field, CODE_FIELDS, "code_field")
    frame, skipped = _polygon_features(frame, name_col)
    result = gpd.GeoDataFrame(
        {
            "code": _clean_text(frame[code_col]),
            "name": _clean_text(frame[name_col]),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    _check_identifiers(result, code_col, name_col)
    repaired = _repair(result, progress)
    result = result.to_crs(projections.WGS84)
    result["geometry"] = [_as_multipolygon(geom) for geom in result.geometry]
    overlaps = find_overlaps(result, overlap_tolerance_m2)
    return QuartierImport(result.reset_index(drop=True), source_crs, repaired, skipped, overlaps)


def _open(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise QuartierFileError(f"file not found: {path}", "file")
    if path.is_dir() or path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise QuartierFileError(
            f"{path.name}: unsupported file type; use GeoJSON, GeoPackage or a zipped Shapefile",
            "file",
        )
    if path.stat().st_size == 0:
        raise QuartierFileError(f"{path.name} is empty", "file")
    if path.suffix.lower() == ".zip":
        _check_zip(path)
    source = f"/vsizip/{path.resolve()}" if path.suffix.lower() == ".zip" else path
    try:
        frame = gpd.read_file(source, engine="pyogrio")
    except (DataSourceError, DataLayerError, ValueError, OSError) as exc:
        raise QuartierFileError(f"cannot read {path.name}: {exc}", "file") from exc
    if len(frame) == 0:
        raise QuartierFileError(f"{path.name} contains no features", "file")
    return frame


def _check_zip(path: Path) -> None:
    """Check that a zipped Shapefile is a zip archive holding a ``.shp``.

    GDAL's own message speaks of a "/vsizip/" path that is not the user's.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError) as exc:
        raise QuartierFileError(f"{path.name} is not a readable zip archive", "file") from exc
    if not any(n.lower().endswith(".shp") for n in names):
        found = ", ".join(names[:5]) or "nothing"
        raise QuartierFileError(
            f"{path.name} holds no Shapefile (.shp with its .dbf, .shx and .prj); found: {found}",
            "file",
        )


def _check_degrees(frame: gpd.GeoDataFrame, name: str) -> None:
    """Check that coordinates in a geographic CRS are degrees.

    A GeoJSON without ``crs`` is WGS 84 by definition (RFC 7946), so a projected file
    that lost its CRS arrives here with metres read as degrees.
    """
    if not frame.crs.is_geographic:
        return
    west, south, east, north = frame.total_bounds
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return  # empty geometries only: the polygon check names that
    if -180 <= west <= east <= 180 and -90 <= south <= north <= 90:
        return
    raise QuartierFileError(
        f"coordinates such as ({west:.0f}, {south:.0f}) are not longitude/latitude "
        f"in degrees, yet the file declares {frame.crs.name}. It looks projected (for example "
        "Lambert-93, EPSG:2154) with its CRS missing: reproject it to WGS 84 "
        "(ogr2ogr -s_srs EPSG:2154 -t_srs EPSG:4326 out.geojson in.geojson) or declare its CRS",
        "file",
    )


def _pick_field(
    frame: gpd.GeoDataFrame, wanted: str | None, candidates: Sequence[str], option: str
) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if wanted is not None:
        if wanted not in columns:
            raise QuartierFileError(
                f"unknown field {wanted!r} for {option}; the file has: {', '.join(columns)}",
                option,
            )
        return wanted
    for candidate in candidates:
        if candidate in columns:
            return candidate
    raise QuartierFileError(
        f"no {option.replace('_field', '')} field found; give {option} (the file has: "
        f"{', '.join(columns) or 'no fields'})",
        option,
    )


def _polygon_features(frame: gpd.GeoDataFrame, name_col: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    types = frame.geometry.geom_type
    keep = types.isin(POLYGONAL) & ~frame.geometry.is_empty
    skipped = [
        f"{frame[name_col].iloc[i]!s}: {types.iloc[i] or 'no geometry'}"
        for i in range(len(frame))
        if not keep.iloc[i]
    ]
    if not keep.any():
        found = ", ".join(f"{kind} ×{n}" for kind, n in types.fillna("none").value_counts().items())
        raise QuartierFileError(f"no polygon features (found: {found})", "file")
    return frame[keep], skipped


def _clean_text(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v).strip() for v in values]


def _check_identifiers(frame: gpd.GeoDataFrame, code_col: str, name_col: str) -> None:
    for column, option, label in (
        ("code", "code_field", code_col),
        ("name", "name_field", name_col),
    ):
        blank = [i + 1 for i, v in enumerate(frame[column]) if not v]
        if blank:
            raise QuartierFileError(f"field {label!r} is empty for feature(s) {blank[:10]}", option)
    duplicated = sorted(set(frame["code"][frame["code"].duplicated()]))
    if duplicated:
        raise QuartierFileError(
            f"field {code_col!r} is not unique: {', '.join(duplicated[:10])} appear more "
            "than once; choose another code_field",
            "code_field",
        )


def _repair(frame: gpd.GeoDataFrame, progress: Callable[[int], None] | None) -> list[str]:
    """Repair invalid geometries in place and describe each repair."""
    geoms = frame.geometry.values
    valid = shapely.is_valid(geoms)
    repaired = []
    for i in range(len(frame)):
        if not valid[i]:
            reason = shapely.is_valid_reason(geoms[i])
            geoms[i] = _polygonal_part(shapely.make_valid(geoms[i]))
            repaired.append(f"{frame['code'].iloc[i]} ({frame['name'].iloc[i]}): {reason}")
        if progress is not None:
            progress(1)
    frame["geometry"] = geoms
    return repaired


def _polygonal_part(geom: BaseGeometry) -> MultiPolygon:
    parts = shapely.get_parts(geom)
    polygons: list[Polygon] = []
    for part in parts:
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polygons.extend(_polygonal_part(part).geoms)
    return MultiPolygon(polygons)


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom])


def find_overlaps(
    frame: gpd.GeoDataFrame, tolerance_m2: float = 1.0
) -> list[tuple[str, str, float]]:
    """Find pairs of quartiers that overlap.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Columns ``code`` and ``geometry``, in any CRS.
    tolerance_m2 : float
        Overlaps of this area or less (square metres) are ignored: adjacent
        boundaries digitised separately often share slivers of a few square metres.

    Returns
    -------
    list of (str, str, float)
        ``(code_a, code_b, area_m2)``, each pair once, largest overlap first.
    """
    if len(frame) < 2:
        return []
    centroid = frame.to_crs(projections.WGS84).geometry.union_all().centroid
    metric = frame.to_crs(projections.utm_srid(centroid.x, centroid.y))
    left, right = metric.sindex.query(metric.geometry, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    geoms = metric.geometry.values
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    codes = metric["code"].to_numpy()
    found = [
        (str(codes[a]), str(codes[b]), float(area))
        for a, b, area in zip(left, right, areas, strict=True)
        if area > tolerance_m2
    ]
    return sorted(found, key=lambda item: -item[2])
