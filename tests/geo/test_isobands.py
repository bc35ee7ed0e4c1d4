"""geo.raster.isobands: valid polygons, holes kept, even where cells touch at a corner."""

from __future__ import annotations

import numpy as np
import shapely

from geo.density import DensityGrid
from geo.export import rfc7946
from geo.raster import isobands


def test_bands_are_valid_with_holes_and_corner_touching_cells():
    values = np.zeros((9, 9))
    values[1:8, 1:8] = 2.0  # a ring of class 1 …
    values[3:6, 3:6] = 0.0  # … around a hole
    values[0, 0] = values[1, 1] = 5.0  # cells of class 2 touching at a corner only
    values[8, 8] = values[7, 7] = 5.0
    # A hole that meets the outside at one corner: a shell touching itself (invalid).
    block = np.full((3, 3), 2.0)
    block[1, 1] = block[2, 2] = 0.0
    values = np.block([[values, np.zeros((9, 4))], [np.zeros((3, 9)), np.zeros((3, 4))]])
    values[9:12, 10:13] = block
    grid = DensityGrid(values, (10.0, 0.0, 0.0, 0.0, -10.0, 90.0), 2154, 20.0, "quartic")
    bands = isobands(grid, [1.0, 4.0])
    assert [lower for lower, _upper, _shape in bands] == [1.0, 4.0]
    for _lower, _upper, shape in bands:
        assert shapely.is_valid(shape), shapely.is_valid_reason(shape)
    ring = bands[0][2]
    assert any(len(p.interiors) == 1 for p in getattr(ring, "geoms", [ring]))  # the hole
    assert bands[1][2].area == 4 * 100.0  # the four corner cells, nothing lost
    for polygon in getattr(rfc7946(ring), "geoms", [rfc7946(ring)]):
        assert polygon.exterior.is_ccw and all(not hole.is_ccw for hole in polygon.interiors)
