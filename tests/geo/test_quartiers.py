import json

import pytest
import shapely
from shapely.geometry import box

from geo.errors import QuartierFileError
from geo.quartiers import file_digest, find_overlaps, read_quartiers
from tests.geo.conftest import RENNES, feature, write_geojson, zip_shapefile


def test_rennes_reads_as_twelve_valid_multipolygons():
    result = read_quartiers(RENNES, "nom", "matricule")
    frame = result.frame
    assert len(frame) == 12
    assert set(frame.geom_type) == {"MultiPolygon"}
    assert frame.geometry.is_valid.all()
    assert frame.crs.to_epsg() == 4326
    assert "Le Blosne" in set(frame["name"])
    assert "Q.11" in set(frame["code"])
    assert result.repaired == [] and result.skipped == []
    # The official quartiers tile the commune: no overlap bigger than a sliver.
    assert result.overlaps == []


def test_fields_are_detected_when_not_given():
    frame = read_quartiers(RENNES).frame
    assert "Le Blosne" in set(frame["name"])
    assert set(frame["code"]) >= {"Q.1", "Q.12"}


def test_lambert93_geopackage_is_reprojected_to_wgs84(tmp_path, rennes_frame):
    path = tmp_path / "rennes_l93.gpkg"
    rennes_frame.to_crs(2154).to_file(path, driver="GPKG")
    result = read_quartiers(path, "nom", "matricule")
    assert result.source_crs == "EPSG:2154"
    original = rennes_frame.set_index("matricule").geometry
    for code, geom in zip(result.frame["code"], result.frame.geometry, strict=True):
        assert shapely.equals_exact(
            shapely.normalize(geom), shapely.normalize(_multi(original[code])), tolerance=1e-7
        )


def test_zipped_shapefile_in_web_mercator_is_read(tmp_path, rennes_frame):
    archive = zip_shapefile(rennes_frame.to_crs(3857), tmp_path, "rennes")
    result = read_quartiers(archive, "nom", "matricule")
    assert len(result.frame) == 12
    bounds = result.frame.total_bounds
    assert -1.8 < bounds[0] < bounds[2] < -1.6 and 48.0 < bounds[1] < bounds[3] < 48.2


def test_invalid_geometry_is_repaired_and_reported(bowtie_file):
    result = read_quartiers(bowtie_file)
    assert result.frame.geometry.is_valid.all()
    assert len(result.repaired) == 1
    assert result.repaired[0].startswith("X1 (Noeud papillon): Self-intersection")
    bowtie = result.frame.set_index("code").geometry["X1"]
    assert len(bowtie.geoms) == 2  # the two triangles of the bow-tie


def test_overlaps_are_reported_with_their_area(tmp_path, squares):
    shifted = squares.copy()
    shifted.geometry = [squares.geometry[0], box(350_900, 6_788_000, 351_900, 6_789_000)]
    path = tmp_path / "overlap.gpkg"
    shifted.to_file(path)
    result = read_quartiers(path)
    assert len(result.overlaps) == 1
    code_a, code_b, area = result.overlaps[0]
    assert {code_a, code_b} == {"A", "B"}
    assert area == pytest.approx(100 * 1000, rel=0.01)  # 100 m x 1 km


def test_adjacent_quartiers_do_not_overlap(squares):
    assert find_overlaps(squares.to_crs(4326)) == []


def test_non_polygon_features_are_skipped_and_reported(tmp_path):
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [
            feature(box(-1.70, 48.10, -1.69, 48.11).__geo_interface__, nom="Carré", code="C"),
            feature({"type": "Point", "coordinates": [-1.68, 48.11]}, nom="Mairie", code="M"),
        ],
    )
    result = read_quartiers(path)
    assert list(result.frame["code"]) == ["C"]
    assert result.skipped == ["Mairie: Point"]


# -- bad files: each one a clear error naming the problem ---------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(QuartierFileError, match="file not found") as excinfo:
        read_quartiers(tmp_path / "nope.geojson")
    assert excinfo.value.field == "file"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    with pytest.raises(QuartierFileError, match="empty.geojson is empty"):
        read_quartiers(path)


def test_feature_collection_without_features(tmp_path):
    path = write_geojson(tmp_path / "none.geojson", [])
    with pytest.raises(QuartierFileError, match="no features"):
        read_quartiers(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(QuartierFileError, match="cannot read broken.geojson"):
        read_quartiers(path)


def test_unsupported_format(tmp_path):
    path = tmp_path / "quartiers.csv"
    path.write_text("nom,code\nA,1\n")
    with pytest.raises(QuartierFileError, match="unsupported file type"):
        read_quartiers(path)


def test_unknown_name_field_lists_the_fields():
    with pytest.raises(QuartierFileError) as excinfo:
        read_quartiers(RENNES, name_field="libelle_quartier")
    assert excinfo.value.field == "name_field"
    assert "unknown field 'libelle_quartier'" in excinfo.value.message
    assert "matricule" in excinfo.value.message


def test_unknown_code_field():
    with pytest.raises(QuartierFileError, match="unknown field 'numero'") as excinfo:
        read_quartiers(RENNES, "nom", code_field="numero")
    assert excinfo.value.field == "code_field"


def test_no_polygon_features(points_file):
    with pytest.raises(QuartierFileError, match=r"no polygon features \(found: Point ×1\)"):
        read_quartiers(points_file)


def test_shapefile_without_crs(tmp_path, squares):
    archive = zip_shapefile(squares, tmp_path, "sans_prj", keep_prj=False)
    with pytest.raises(QuartierFileError, match="has no coordinate reference system"):
        read_quartiers(archive)


def test_duplicate_codes(tmp_path):
    square = box(-1.70, 48.10, -1.69, 48.11).__geo_interface__
    path = write_geojson(
        tmp_path / "dup.geojson",
        [feature(square, nom="Un", code="Q"), feature(square, nom="Deux", code="Q")],
    )
    with pytest.raises(QuartierFileError, match="not unique: Q") as excinfo:
        read_quartiers(path)
    assert excinfo.value.field == "code_field"


def test_blank_name(tmp_path):
    square = box(-1.70, 48.10, -1.69, 48.11).__geo_interface__
    path = write_geojson(tmp_path / "blank.geojson", [feature(square, nom="  ", code="Q")])
    with pytest.raises(QuartierFileError, match="'nom' is empty for feature"):
        read_quartiers(path)


def test_digest_changes_with_content(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"a": 1}))
    first = file_digest(path)
    path.write_text(json.dumps({"a": 2}))
    assert file_digest(path) != first and len(first) == 64


def _multi(geom):
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def test_progress_is_reported_per_feature():
    seen = []
    read_quartiers(RENNES, progress=seen.append)
    assert sum(seen) == 12
