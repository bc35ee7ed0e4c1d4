"""geo.export: the file writers, on plain values."""

from __future__ import annotations

import csv
import io

import pyogrio
import pytest

from geo import export


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+33 6 12", "'+33 6 12"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Éclairage", "Éclairage"),
        (None, ""),
        (12, "12"),
    ],
)
def test_spreadsheet_safe(value, cell):
    assert export.spreadsheet_safe(value) == cell


def test_csv_chunks_guards_text_keeps_numbers_and_streams():
    rows = [[-1.5, 48.1, "=1+1"]] * 5
    chunks = list(export.csv_chunks(["lon", "lat", "note"], rows, every=2))
    assert len(chunks) == 3  # 2 + 2 + the last row (with the header in the first)
    table = list(csv.reader(io.StringIO("".join(chunks))))
    assert table[0] == ["lon", "lat", "note"]
    assert table[1:] == [["-1.5", "48.1", "'=1+1"]] * 5


def test_features_csv_writes_a_point_inside_each_shape():
    ring = [[0, 0], [0, 1], [1, 1], [1, 0.9], [0.1, 0.9], [0.1, 0.1], [1, 0.1], [1, 0], [0, 0]]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": "-U-", "n": 3},
        },
        {"type": "Feature", "geometry": None, "properties": {"other": "x"}},
    ]
    table = list(csv.reader(io.StringIO(export.features_csv(features))))
    assert table[0] == ["lon", "lat", "wkt", "name", "n", "other"]
    lon, lat = float(table[1][0]), float(table[1][1])
    assert lon < 0.1 or lat < 0.1 or lat > 0.9  # on the U's arm, not its empty middle
    assert table[1][2].startswith("POLYGON ((0 0")
    assert table[1][3:] == ["'-U-", "3", ""]
    assert table[2] == ["", "", "", "", "", "x"]


def test_geopackage_layers_written_in_batches_with_metadata(tmp_path):
    path = export.temporary_gpkg()
    try:
        for batch in ([(-1.68, 48.11), (-1.67, 48.10)], [(-1.66, 48.09)]):
            records = [{"id": str(i), "n": i} for i in range(len(batch))]
            frame = export.points_frame(records, ["id", "n"], batch, srid=2154)
            export.write_layer(frame, path, "pins")
        export.write_metadata(path, {"licence": "ODbL 1.0", "filters": {"feeling": "unsafe"}})
        assert {name for name, _ in pyogrio.list_layers(path)} == {"pins", "metadata"}
        pins = pyogrio.read_dataframe(path, layer="pins")
        assert len(pins) == 3 and pins.crs.to_epsg() == 2154
        assert 300_000 < pins.geometry.x.min() < 400_000  # Rennes in Lambert-93
        meta = pyogrio.read_dataframe(path, layer="metadata")
        assert dict(zip(meta.key, meta.value, strict=True))["filters"] == '{"feeling": "unsafe"}'
    finally:
        import os

        os.unlink(path)


def test_geopackages_are_version_1_2():
    """GDAL 3.6 (Debian 12, QGIS 3.22) warns "may only be partially supported" on 1.4."""
    import sqlite3

    path = export.temporary_gpkg()
    try:
        frame = export.points_frame([{"n": 1}], ["n"], [(-1.68, 48.11)])
        export.write_layer(frame, path, "pins")
        export.write_layer(frame, path, "pins")  # appended, still 1.2
        export.write_metadata(path, {"licence": "ODbL 1.0"})
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
    finally:
        import os

        os.unlink(path)
