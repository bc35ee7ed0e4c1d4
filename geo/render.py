"""A static map as a PNG: polygons and lines drawn in Web Mercator with Pillow.

Used for printed documents (the workshop synthesis), where an interactive Leaflet map
cannot go. Geometries are in WGS84 longitude/latitude.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import shapely
from PIL import Image, ImageDraw

from geo.errors import GeoError
from geo.projections import transformer

WEB_MERCATOR = 3857


@dataclass(frozen=True)
class Style:
    """How to draw a layer: RGBA outline and fill (``None``: not drawn), outline width."""

    outline: tuple[int, int, int, int] | None = (0, 0, 0, 255)
    fill: tuple[int, int, int, int] | None = None
    width: int = 1


def render_png(
    layers: list[tuple[list, Style | list[Style]]],
    bounds: tuple[float, float, float, float],
    width: int = 1200,
    margin: float = 0.03,
) -> bytes:
    """Draw ``layers`` bottom first over ``bounds``, ``width`` pixels wide.

    Each layer is (geometries, one style or one style per geometry); ``bounds`` is
    (west, south, east, north) in degrees.

    Returns
    -------
    bytes
        The PNG, white background, height from the bounds' aspect in Web Mercator.
    """
    west, south, east, north = bounds
    if not (west < east and south < north):
        raise GeoError("The map has no extent: west < east and south < north.", "bounds")
    to_mercator = transformer(4326, WEB_MERCATOR)
    (x0, x1), (y0, y1) = to_mercator.transform([west, east], [south, north])
    pad_x, pad_y = (x1 - x0) * margin, (y1 - y0) * margin
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
    scale = width / (x1 - x0)
    height = max(1, round((y1 - y0) * scale))
    image = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    for geometries, styles in layers:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        if isinstance(styles, Style):
            styles = [styles] * len(geometries)
        for geometry, style in zip(geometries, styles, strict=True):
            for ring, is_area in _rings(geometry):
                lon, lat = ring[:, 0], ring[:, 1]
                x, y = to_mercator.transform(lon, lat)
                px = (np.asarray(x) - x0) * scale
                py = (y1 - np.asarray(y)) * scale
                points = list(zip(px.tolist(), py.tolist(), strict=True))
                if len(points) < 2:
                    continue
                if is_area and style.fill:
                    draw.polygon(points, fill=style.fill)
                if style.outline:
                    draw.line(points, fill=style.outline, width=style.width)
        image = Image.alpha_composite(image, overlay)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _rings(geometry):
    """(coordinates, is an area) for each exterior ring or line of ``geometry``."""
    if geometry is None or geometry.is_empty:
        return
    kind = geometry.geom_type
    if kind == "Polygon":
        yield np.asarray(geometry.exterior.coords), True
        for interior in geometry.interiors:
            yield np.asarray(interior.coords), False
    elif kind == "LineString":
        yield np.asarray(geometry.coords), False
    elif kind in ("MultiPolygon", "MultiLineString", "GeometryCollection"):
        for part in shapely.get_parts(geometry):
            yield from _rings(part)
