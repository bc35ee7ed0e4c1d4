"""The density as a GeoTIFF in the territory's metric CRS, read back by rasterio and by
Debian's gdalinfo: the same grid as the PNG and the isobands, public or exact."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import rasterio
import sqlalchemy as sa
from rasterio.io import MemoryFile

from app.extensions import db
from app.models import AuditEvent, Territory
from tests.conftest import login

BASE = "/api/v1/territories/rennes/layers"
GEOTIFF = "image/tiff; application=geotiff"


def _read(data: bytes):
    with MemoryFile(data) as memory, memory.open() as dataset:
        return {
            "crs": dataset.crs.to_epsg(),
            "dtype": dataset.dtypes[0],
            "nodata": dataset.nodata,
            "transform": tuple(dataset.transform)[:6],
            "bounds": tuple(dataset.bounds),
            "values": dataset.read(1),
            "description": dataset.descriptions[0],
            "tags": dataset.tags(),
        }


def _expected(app, query: dict):
    """The grid the PNG is drawn from, for an anonymous reader of these filters."""
    from app.analysis.density import density_raster
    from app.analysis.filters import parse_filters

    with app.test_request_context(f"{BASE}/density.png", query_string=query):
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        return density_raster(territory, parse_filters(territory, query))


def test_public_geotiff_is_the_png_grid_in_lambert_93(app, client, demo):
    response = client.get(f"{BASE}/density.tif?bandwidth=300")
    assert response.status_code == 200 and response.content_type == GEOTIFF
    name = response.headers["Content-Disposition"]
    assert name.endswith("ressenti-rennes-density-epsg2154-bandwidth-300.tif")
    tif = _read(response.data)
    grid, hidden = _expected(app, {"bandwidth": "300"})
    assert tif["crs"] == 2154 and tif["dtype"] == "float32"
    assert tif["transform"] == pytest.approx(grid.transform)
    assert tif["bounds"] == pytest.approx(grid.bounds)
    assert tif["values"].shape == grid.values.shape
    shown = ~hidden
    assert hidden.any() and shown.any()  # the demo has cells the release hides
    assert np.all(tif["values"][hidden] == tif["nodata"])
    np.testing.assert_allclose(tif["values"][shown], grid.values[shown] * 1e6, rtol=1e-6)
    assert tif["description"] == "Densité (points par km²)"
    tags = tif["tags"]
    assert tags["units"] == "points/km2" and tags["suppression_threshold"] == "3"
    assert json.loads(tags["filters"]) == {"bandwidth": "300"}
    assert "Rennes" in tags["attribution"] and tags["generated_at"][:2] == "20"
    english = client.get(f"{BASE}/density.tif?bandwidth=300&lang=en")
    assert english.headers["Content-Disposition"] == name  # the language names no file
    assert _read(english.data)["description"] == "Density (points per km²)"
    with app.app_context():  # the public release is public: no audit row
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_gdalinfo_reads_crs_pixel_size_and_nodata(client, demo, tmp_path):
    path = tmp_path / "density.tif"
    path.write_bytes(client.get(f"{BASE}/density.tif?bandwidth=300").data)
    info = json.loads(
        subprocess.run(
            ["gdalinfo", "-json", "-mm", str(path)], check=True, capture_output=True, text=True
        ).stdout
    )
    assert 'ID["EPSG",2154]' in info["coordinateSystem"]["wkt"]
    with rasterio.open(path) as dataset:
        a, _, c, _, e, f = tuple(dataset.transform)[:6]
        assert info["size"] == [dataset.width, dataset.height]
    assert info["geoTransform"] == pytest.approx([c, a, 0.0, f, 0.0, e])
    assert a == -e > 0  # square cells, north up
    band = info["bands"][0]
    assert band["type"] == "Float32" and band["noDataValue"] == -9999.0
    assert band["description"] == "Densité (points par km²)"
    assert band["computedMax"] > 0 and band["computedMin"] >= 0  # nodata left out
    assert info["metadata"][""]["licence"] == "ODbL 1.0"


def test_staff_geotiff_is_exact_audited_and_named_apart(app, client, demo, make_user):
    public = client.get(f"{BASE}/density.tif?bandwidth=300")
    assert client.get(f"{BASE}/density.tif?bandwidth=300&full=1").status_code == 403
    login(client, make_user("police", "rennes").email)
    response = client.get(f"{BASE}/density.tif?bandwidth=300&full=1")
    assert response.status_code == 200
    names = {r.headers["Content-Disposition"] for r in (public, response)}
    assert len(names) == 2
    tif = _read(response.data)
    assert not np.any(tif["values"] == tif["nodata"])  # exact: nothing hidden
    assert tif["tags"]["suppression_threshold"] == "null"
    isobands = client.get(f"{BASE}/density?bandwidth=300&full=1").get_json()
    assert float(tif["values"].max()) == pytest.approx(isobands["peak_per_km2"], rel=1e-4)
    again = client.get(f"{BASE}/density.tif?bandwidth=300&full=1")  # from the cache
    assert again.data == response.data
    with app.app_context():  # every staff read is audited, cached or not
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export"))
        assert [(e.target, e.details["format"]) for e in events] == [("density.tif", "geotiff")] * 2


def test_no_pins_is_a_json_404(client, rennes):
    response = client.get(f"{BASE}/density.tif?feeling=safe")
    assert response.status_code == 404 and response.get_json()["message"]
