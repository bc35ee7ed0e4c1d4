import numpy as np
import pytest
import shapely

from geo.hexgrid import (
    HexError,
    axial_cells,
    hex_centres,
    hex_polygons,
    hexagon_counts,
    suppression_mask,
)


def test_every_point_falls_in_the_hexagon_of_its_cell():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-5000, 5000, 20_000), rng.uniform(-5000, 5000, 20_000)
    q, r = axial_cells(x, y, 150.0, origin=(12.5, -40.0))
    cells = hex_polygons(q, r, 150.0, origin=(12.5, -40.0))
    inside = shapely.covers(cells, shapely.points(x, y))
    assert inside.all()


def test_a_point_goes_to_the_nearest_centre():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1000, 1000, 5000), rng.uniform(-1000, 1000, 5000)
    q, r = axial_cells(x, y, 100.0)
    cx, cy = hex_centres(q, r, 100.0)
    own = np.hypot(x - cx, y - cy)
    for dq, dr in ((1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)):
        nx, ny = hex_centres(q + dq, r + dr, 100.0)
        assert (own <= np.hypot(x - nx, y - ny) + 1e-9).all()


def test_cells_have_the_right_size_and_tile_the_plane():
    cells = hex_polygons(np.array([0, 1, 0]), np.array([0, 0, 1]), 100.0)
    area = 3 * np.sqrt(3) / 2 * 100.0**2
    assert np.allclose(shapely.area(cells), area)
    # Neighbours share an edge, never an area.
    assert shapely.area(shapely.intersection(cells[0], cells[1])) < 1e-6
    assert shapely.length(shapely.intersection(cells[0], cells[1])) == pytest.approx(100.0)


def test_counts_per_class_and_suppression():
    x = np.array([0.0, 10.0, 20.0, 500.0, 510.0, 2000.0])
    y = np.zeros(6)
    feelings = ["unsafe", "safe", "unsafe", "unsafe", "unsafe", "safe"]
    counts = hexagon_counts(x, y, 100.0, classes=feelings)
    assert counts.classes == ("safe", "unsafe")
    by_cell = {(q, r): tuple(c) for q, r, c in zip(counts.q, counts.r, counts.counts, strict=True)}
    assert sorted(by_cell.values()) == [(0, 2), (1, 0), (1, 2)]
    assert counts.totals.sum() == 6
    public = counts.suppressed(3)
    assert public.totals.tolist() == [3]
    assert suppression_mask([1, 2, 3, 4], k=2).tolist() == [False, True, True, True]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: axial_cells([0.0], [0.0], 0), "size"),
        (lambda: axial_cells([0.0], [0.0], "large"), "size"),
        (lambda: axial_cells([np.inf], [0.0], 10), "x"),
        (lambda: hexagon_counts([0.0, 1.0], [0.0, 1.0], 10, classes=["a"]), "classes"),
        (lambda: suppression_mask([1], k=0), "k"),
        (lambda: suppression_mask([1], k=2.5), "k"),
    ],
)
def test_bad_arguments_name_the_field(call, field):
    with pytest.raises(HexError) as excinfo:
        call()
    assert excinfo.value.field == field
