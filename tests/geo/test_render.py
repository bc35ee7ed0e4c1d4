"""Static map images: polygons filled where they are, lines drawn, bad bounds refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from shapely.geometry import LineString, box

from geo.errors import GeoError
from geo.render import Style, render_png

BOUNDS = (-1.70, 48.08, -1.64, 48.12)


def test_polygon_is_filled_where_it_lies_and_the_rest_stays_white():
    west_half = box(-1.70, 48.08, -1.67, 48.12)
    png = render_png([([west_half], Style(outline=None, fill=(200, 0, 0, 255)))], BOUNDS, 600)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    assert width == 600 and 500 < height < 700  # 0.06° × 0.04° at 48° N in Web Mercator
    assert image.getpixel((width // 4, height // 2)) == (200, 0, 0)
    assert image.getpixel((3 * width // 4, height // 2)) == (255, 255, 255)


def test_lines_and_layers_in_order():
    line = LineString([(-1.70, 48.10), (-1.64, 48.10)])
    area = box(*BOUNDS)
    png = render_png(
        [
            ([area], Style(outline=None, fill=(0, 0, 255, 255))),
            ([line], Style(outline=(0, 255, 0, 255), width=5)),
        ],
        BOUNDS,
        400,
    )
    image = Image.open(io.BytesIO(png)).convert("RGB")
    column = [image.getpixel((200, y)) for y in range(image.size[1])]
    assert (0, 255, 0) in column and (0, 0, 255) in column  # the line over the area


def test_empty_bounds_are_refused():
    with pytest.raises(GeoError, match="extent"):
        render_png([], (1.0, 48.0, 1.0, 48.1))
