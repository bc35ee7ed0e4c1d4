"""`flask quartiers import` and `flask streets import` against the real PostGIS."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from geoalchemy2 import Geography
from shapely.geometry import box

from app.extensions import db
from app.models import Quartier, Street, Territory
from tests.conftest import QUARTIERS_DATA

RENNES = QUARTIERS_DATA / "rennes_quartiers.geojson"
PARIS = QUARTIERS_DATA / "paris_quartiers_administratifs.geojson"


def snapshot(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            sa.select(
                Quartier.code, Quartier.name, Quartier.imported_at, sa.func.ST_AsEWKB(Quartier.geom)
            ).order_by(Quartier.code)
        ).all()


def import_rennes(runner, *extra):
    return runner.invoke(
        args=[
            "quartiers",
            "import",
            str(RENNES),
            "--territory",
            "rennes",
            "--territory-name",
            "Rennes",
            *extra,
        ]
    )


def test_import_creates_territory_and_twelve_quartiers(app, runner):
    result = import_rennes(runner)
    assert result.exit_code == 0, result.output
    assert "rennes: 12 quartiers created, 0 updated (from EPSG:4326)" in result.output
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory))
        assert (territory.slug, territory.name, territory.metric_srid) == ("rennes", "Rennes", 2154)
        assert db.session.scalar(sa.select(sa.func.count(Quartier.id))) == 12
        srid, kind = db.session.execute(
            sa.select(sa.func.ST_SRID(Quartier.geom), sa.func.GeometryType(Quartier.geom)).limit(1)
        ).one()
        assert (srid, kind) == (4326, "MULTIPOLYGON")
        total_km2 = (
            db.session.scalar(
                sa.select(
                    sa.func.sum(sa.func.ST_Area(sa.cast(Quartier.geom, Geography(srid=4326))))
                )
            )
            / 1e6
        )
        assert 49 < total_km2 < 52  # the commune of Rennes is about 50 km²


def test_reimport_updates_instead_of_duplicating(app, runner):
    import_rennes(runner)
    before = snapshot(app)
    result = import_rennes(runner)
    assert result.exit_code == 0, result.output
    assert "0 quartiers created, 12 updated" in result.output
    after = snapshot(app)
    assert [row[0] for row in after] == [row[0] for row in before]
    assert all(a[2] > b[2] for a, b in zip(after, before, strict=True))  # imported_at moved


def test_skip_unchanged_does_nothing_for_the_same_file(app, runner):
    import_rennes(runner)
    before = snapshot(app)
    result = import_rennes(runner, "--skip-unchanged")
    assert "already imported, nothing to do" in result.output
    assert snapshot(app) == before


def test_paris_imports_eighty_quartiers_with_explicit_fields(app, runner):
    result = runner.invoke(
        args=[
            "quartiers",
            "import",
            str(PARIS),
            "--territory",
            "paris",
            "--name-field",
            "l_qu",
            "--code-field",
            "c_quinsee",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "80 quartiers created" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Quartier.id))) == 80


def _write(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _bad_files(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    points = _write(
        tmp_path / "points.geojson",
        [
            {
                "type": "Feature",
                "properties": {"nom": "Mairie", "code": "M"},
                "geometry": {"type": "Point", "coordinates": [-1.68, 48.11]},
            }
        ],
    )
    return {
        "missing": ([str(tmp_path / "nope.geojson")], "file not found"),
        "empty": ([str(empty)], "is empty"),
        "unknown field": ([str(RENNES), "--name-field", "libelle"], "unknown field 'libelle'"),
        "no polygons": ([str(points)], "no polygon features"),
        "missing crs": ([str(_shapefile_without_prj(tmp_path))], "no coordinate reference system"),
        "zip without shp": ([str(_zip_without_shp(tmp_path))], "holds no Shapefile (.shp"),
        "zip with a broken name": ([str(_zip_with_a_broken_name(tmp_path))], "not a readable zip"),
        "lambert-93 without crs": (
            [str(_lambert93_without_crs(tmp_path))],
            "not longitude/latitude",
        ),
    }


def _zip_without_shp(tmp_path):
    import zipfile

    path = tmp_path / "quartiers.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("LISEZMOI.txt", "les quartiers")
    return path


def _zip_with_a_broken_name(tmp_path):
    """A member name flagged UTF-8 that is not (zipfile raises UnicodeDecodeError)."""
    import zipfile

    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("é.shp", b"")  # a non-ASCII name: written as UTF-8, flagged so
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xff\xfe"))
    return path


def _lambert93_without_crs(tmp_path):
    """One quartier in Lambert-93 metres, written as a GeoJSON with no ``crs`` member
    (so WGS 84 by definition): what a GIS export that dropped its CRS gives."""
    square = box(352_000, 6_785_000, 353_000, 6_786_000)
    feature = {
        "type": "Feature",
        "properties": {"nom": "A", "code": "1"},
        "geometry": json.loads(json.dumps(square.__geo_interface__)),
    }
    return _write(tmp_path / "lambert93.geojson", [feature])


def _shapefile_without_prj(tmp_path):
    import geopandas as gpd

    from tests.geo.conftest import zip_shapefile

    frame = gpd.GeoDataFrame(
        {"nom": ["A"], "code": ["1"]},
        geometry=[box(350_000, 6_788_000, 351_000, 6_789_000)],
        crs=2154,
    )
    return zip_shapefile(frame, tmp_path, "sans_prj", keep_prj=False)


BAD_FILES = [
    "missing",
    "empty",
    "unknown field",
    "no polygons",
    "missing crs",
    "zip without shp",
    "lambert-93 without crs",
    "zip with a broken name",
]


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_gives_clear_error_and_changes_nothing(app, runner, tmp_path, case):
    import_rennes(runner)
    before = snapshot(app)
    args, message = _bad_files(tmp_path)[case]
    result = runner.invoke(args=["quartiers", "import", *args, "--territory", "rennes"])
    assert result.exit_code != 0
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a click error, not a traceback
    assert len(result.output.strip().splitlines()[-1]) > 20
    assert snapshot(app) == before


@pytest.mark.parametrize("case", ["missing", "lambert-93 without crs", "zip without shp"])
def test_bad_file_for_a_new_territory_creates_nothing(app, runner, tmp_path, case):
    args, message = _bad_files(tmp_path)[case]
    result = runner.invoke(args=["quartiers", "import", *args, "--territory", "brest"])
    assert result.exit_code != 0 and message in result.output
    assert isinstance(result.exception, SystemExit)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Territory.id))) == 0


def test_repairs_and_overlaps_are_reported(app, runner, tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[-1.70, 48.10], [-1.68, 48.12], [-1.68, 48.10], [-1.70, 48.12], [-1.70, 48.10]]
        ],
    }
    path = _write(
        tmp_path / "q.geojson",
        [
            {"type": "Feature", "properties": {"nom": "Papillon", "code": "1"}, "geometry": bowtie},
            {
                "type": "Feature",
                "properties": {"nom": "Carré", "code": "2"},
                "geometry": box(-1.69, 48.10, -1.67, 48.12).__geo_interface__,
            },
        ],
    )
    result = runner.invoke(args=["quartiers", "import", str(path), "--territory", "test"])
    assert result.exit_code == 0, result.output
    assert "repaired: 1 (Papillon): Self-intersection" in result.output
    assert "overlap: 1 and 2 share" in result.output


def test_streets_import_replaces_and_skips_unchanged(app, runner, rennes):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Street.id))) == 3065
    result = runner.invoke(args=["demo", "load", "--no-survey"])
    assert result.output.count("already imported, nothing to do") == 2
    assert "demo workshop created with 4 tables" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Street.id))) == 3065


def test_demo_workshop_is_closed_plausible_and_seeded_once(app, runner, rennes):
    from app.models import Pin, Workshop

    runner.invoke(args=["demo", "load", "--no-survey"])
    again = runner.invoke(args=["demo", "load", "--no-survey"])
    assert "demo workshop already there" in again.output
    with app.app_context():
        workshop = db.session.scalar(sa.select(Workshop))
        assert workshop.status == "closed" and len(workshop.groups) == 4
        feelings = dict(
            db.session.execute(sa.select(Pin.feeling, sa.func.count()).group_by(Pin.feeling)).all()
        )
        assert 250 <= sum(feelings.values()) <= 400 and feelings["unsafe"] > feelings["safe"]
        outside = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM pin p WHERE NOT EXISTS (SELECT 1 FROM workshop_quartier wq "
                "JOIN quartier q ON q.id = wq.quartier_id WHERE wq.workshop_id = p.workshop_id "
                "AND ST_Contains(q.geom, p.geom))"
            )
        )
        assert outside == 0


def test_streets_need_a_known_territory(runner):
    result = runner.invoke(args=["streets", "import", str(RENNES), "--territory", "nowhere"])
    assert result.exit_code != 0
    assert "unknown territory 'nowhere'" in result.output
