"""Boundary files written on the fly: good ones in several formats and CRSs, and bad ones."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, box

from tests.helpers import PROJECT_ROOT

RENNES = PROJECT_ROOT / "data" / "quartiers" / "rennes_quartiers.geojson"


def write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def zip_shapefile(frame: gpd.GeoDataFrame, folder: Path, name: str, keep_prj=True) -> Path:
    shp_dir = folder / f"{name}_shp"
    shp_dir.mkdir()
    frame.to_file(shp_dir / f"{name}.shp")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            if keep_prj or part.suffix != ".prj":
                zf.write(part, part.name)
    return archive


@pytest.fixture
def rennes_frame() -> gpd.GeoDataFrame:
    return gpd.read_file(RENNES)[["nom", "matricule", "geometry"]]


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    """Two adjacent 1 km squares near Rennes, in Lambert-93."""
    return gpd.GeoDataFrame(
        {"nom": ["Ouest", "Est"], "code": ["A", "B"]},
        geometry=[
            box(350_000, 6_788_000, 351_000, 6_789_000),
            box(351_000, 6_788_000, 352_000, 6_789_000),
        ],
        crs=2154,
    )


@pytest.fixture
def bowtie_file(tmp_path) -> Path:
    bowtie = Polygon([(-1.70, 48.10), (-1.68, 48.12), (-1.68, 48.10), (-1.70, 48.12)])
    square = box(-1.66, 48.10, -1.65, 48.11)
    return write_geojson(
        tmp_path / "bowtie.geojson",
        [
            feature(bowtie.__geo_interface__, nom="Noeud papillon", code="X1"),
            feature(square.__geo_interface__, nom="Carré", code="X2"),
        ],
    )


@pytest.fixture
def points_file(tmp_path) -> Path:
    return write_geojson(
        tmp_path / "points.geojson",
        [feature(Point(-1.68, 48.11).__geo_interface__, nom="Mairie", code="P1")],
    )
