"""encode_geotiff: a density grid as a float32 GeoTIFF, read back with rasterio."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.io import MemoryFile

from geo.density import DensityGrid, kernel_density
from geo.raster import GEOTIFF_NODATA, encode_geotiff


def _grid() -> DensityGrid:
    x = np.array([352_000.0, 352_100.0, 352_400.0])
    y = np.array([6_785_000.0, 6_785_050.0, 6_785_300.0])
    return kernel_density(x, y, (351_500, 6_784_500, 353_000, 6_786_000), 25.0, 200.0, crs=2154)


def test_values_transform_crs_and_tags_survive_the_round_trip():
    grid = _grid()
    hidden = np.zeros(grid.values.shape, dtype=bool)
    hidden[:3, :] = True
    tags = {"filters": {"feeling": "unsafe"}, "licence": "ODbL 1.0"}
    data = encode_geotiff(grid, hidden, description="densité", tags=tags)
    with MemoryFile(data) as memory, memory.open() as dataset:
        assert dataset.crs.to_epsg() == 2154 and dataset.dtypes == ("float32",)
        assert tuple(dataset.transform)[:6] == pytest.approx(grid.transform)
        assert tuple(dataset.bounds) == pytest.approx(grid.bounds)
        assert dataset.res == (25.0, 25.0) and dataset.nodata == GEOTIFF_NODATA
        assert dataset.descriptions == ("densité",)
        assert dataset.tags()["filters"] == '{"feeling": "unsafe"}'
        assert dataset.tags()["licence"] == "ODbL 1.0"
        values = dataset.read(1)
    assert np.all(values[:3] == GEOTIFF_NODATA)
    np.testing.assert_allclose(values[3:], grid.values[3:] * 1e6, rtol=1e-6)
    assert values.max() > 0


def test_arguments_are_checked():
    grid = _grid()
    with pytest.raises(ValueError, match="EPSG"):
        encode_geotiff(DensityGrid(grid.values, grid.transform, None, 200.0, "quartic"))
    with pytest.raises(ValueError, match="shape"):
        encode_geotiff(grid, np.zeros((2, 2), dtype=bool))
