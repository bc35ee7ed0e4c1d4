"""Turn a density grid into what a web map shows: a PNG and isoband polygons.

The PNG is in Web Mercator, with its longitude/latitude bounds.

A metric grid (Lambert-93, say) is not aligned with a Web Mercator map: around Rennes
grid north is about 3.5° off true north. The PNG is therefore resampled onto a Web
Mercator grid before Leaflet stretches it between its longitude/latitude bounds.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import shapely
from scipy.ndimage import map_coordinates

from geo import projections
from geo.density import DensityGrid

WEB_MERCATOR = 3857
# Transparent → yellow → orange → red → dark red, as (position, r, g, b, alpha).
RAMP = np.array(
    [
        (0.00, 255, 255, 178, 0),
        (0.15, 254, 204, 92, 150),
        (0.40, 253, 141, 60, 185),
        (0.70, 240, 59, 32, 210),
        (1.00, 150, 0, 38, 230),
    ]
)


def resample_to_web_mercator(grid: DensityGrid, max_side: int = 1024):
    """Resample a density grid onto a north-up Web Mercator grid.

    Parameters
    ----------
    grid : DensityGrid
        Densities in a metric CRS (``grid.crs`` must be set).
    max_side : int
        Largest side of the output, in pixels.

    Returns
    -------
    values : numpy.ndarray
        ``(rows, cols)`` densities, row 0 north; zero outside the source grid.
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    """
    west, south, east, north = _lonlat_bounds(grid)
    to_merc = projections.transformer(projections.WGS84, WEB_MERCATOR)
    (mx0, mx1), (my0, my1) = to_merc.transform([west, east], [south, north])
    rows_src, cols_src = grid.values.shape
    scale = max(rows_src, cols_src) / max_side
    cols = max(1, min(max_side, int(round(cols_src / max(scale, 1.0)))))
    rows = max(1, min(max_side, int(round((my1 - my0) / (mx1 - mx0) * cols))))
    px = mx0 + (np.arange(cols) + 0.5) * (mx1 - mx0) / cols
    py = my1 - (np.arange(rows) + 0.5) * (my1 - my0) / rows
    gx, gy = np.meshgrid(px, py)
    back = projections.transformer(WEB_MERCATOR, grid.crs)
    x, y = back.transform(gx.ravel(), gy.ravel())
    a, _, c, _, e, f = grid.transform
    col = (np.asarray(x) - c) / a - 0.5
    row = (np.asarray(y) - f) / e - 0.5
    values = map_coordinates(grid.values, [row, col], order=1, mode="constant", cval=0.0)
    return values.reshape(rows, cols), (west, south, east, north)


def _lonlat_bounds(grid: DensityGrid) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = grid.bounds
    xs = np.linspace(xmin, xmax, 21)
    ys = np.linspace(ymin, ymax, 21)
    edge_x = np.concatenate([xs, xs, np.full(21, xmin), np.full(21, xmax)])
    edge_y = np.concatenate([np.full(21, ymin), np.full(21, ymax), ys, ys])
    lon, lat = projections.to_lonlat(edge_x, edge_y, grid.crs)
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


def colourise(values: np.ndarray, top: float | None = None) -> np.ndarray:
    """Map densities to RGBA with :data:`RAMP` (0 → transparent, ``top`` → darkest)."""
    top = float(values.max()) if top is None else float(top)
    scaled = np.zeros_like(values) if top <= 0 else np.clip(values / top, 0.0, 1.0)
    channels = [np.interp(scaled, RAMP[:, 0], RAMP[:, i]) for i in range(1, 5)]
    rgba = np.stack(channels, axis=-1).round().astype(np.uint8)
    rgba[values <= 0, 3] = 0
    return rgba


def encode_png(rgba: np.ndarray) -> bytes:
    """Encode an ``(rows, cols, 4)`` uint8 array as a PNG file."""
    rows, cols, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[i].tobytes() for i in range(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", cols, rows, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def isobands(grid: DensityGrid, breaks, max_side: int = 300) -> list[tuple[float, float, object]]:
    """Polygons of the cells whose density lies between consecutive breaks.

    Parameters
    ----------
    grid : DensityGrid
        Densities in a metric CRS.
    breaks : sequence of float
        Increasing class limits (densities per square metre); the last class is open.
    max_side : int
        Grids larger than this are averaged over blocks of cells first, so that the
        outlines stay light (a step outline of a 600 × 600 grid is mostly vertices).

    Returns
    -------
    list of (lower, upper, geometry)
        One entry per non-empty class; ``upper`` is ``inf`` for the last; geometries
        are in the grid's CRS, along cell edges (not smoothed), without collinear
        vertices, and valid (OGC simple features).
    """
    breaks = [float(b) for b in breaks]
    values, (a, c, e, f) = _block_mean(grid, max_side)
    bands = []
    for lower, upper in zip(breaks, [*breaks[1:], np.inf], strict=True):
        row, col = np.nonzero((values >= lower) & (values < upper))
        if row.size == 0:
            continue
        x0 = c + col * a
        y0 = f + row * e
        cells = shapely.box(x0, y0 + e, x0 + a, y0)
        # Cells touching only at a corner make rings that touch themselves: make_valid
        # splits them, so every band is a valid (multi)polygon with its holes.
        union = shapely.make_valid(shapely.coverage_union_all(cells), method="structure")
        bands.append((lower, upper, shapely.simplify(union, 0.0)))
    return bands


def _block_mean(grid: DensityGrid, max_side: int):
    a, _, c, _, e, f = grid.transform
    rows, cols = grid.values.shape
    factor = int(np.ceil(max(rows, cols) / max_side))
    if factor <= 1:
        return grid.values, (a, c, e, f)
    padded = np.zeros((-(-rows // factor) * factor, -(-cols // factor) * factor))
    padded[:rows, :cols] = grid.values
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return blocks.mean(axis=(1, 3)), (a * factor, c, e * factor, f)


GEOTIFF_NODATA = -9999.0


def encode_geotiff(
    grid: DensityGrid,
    hidden: np.ndarray | None = None,
    description: str = "density",
    tags: dict | None = None,
    scale: float = 1e6,
) -> bytes:
    """Encode a density grid as a single-band float32 GeoTIFF in the grid's metric CRS.

    Parameters
    ----------
    grid : DensityGrid
        Densities per square metre in a metric CRS (``grid.crs``, an EPSG code, must
        be set); row 0 north, its transform in metres.
    hidden : numpy.ndarray of bool, optional
        Cells whose value is not stated (written as :data:`GEOTIFF_NODATA`), e.g. those
        a privacy threshold hides; same shape as ``grid.values``.
    description : str
        The band's description (GDAL shows it as the band name).
    tags : dict, optional
        Dataset metadata (filters, date, attribution…); text stays text, other values
        are written as JSON.
    scale : float
        Multiplier applied to the densities; the default gives points per km².

    Returns
    -------
    bytes
        The GeoTIFF file (DEFLATE-compressed, tiled when large), pixel size
        ``grid.cell_size`` metres, the same transform and bounds as ``grid``.
    """
    if grid.crs is None:
        raise ValueError("encode_geotiff needs a grid with its EPSG code (grid.crs is None)")
    values = np.asarray(grid.values, dtype=np.float64) * scale
    if hidden is not None:
        if hidden.shape != values.shape:
            raise ValueError(f"hidden has shape {hidden.shape}, the grid {values.shape}")
        values = np.where(hidden, GEOTIFF_NODATA, values)
    return _write_tiff(values.astype(np.float32), grid, description, tags or {})


def _tag_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _write_tiff(values: np.ndarray, grid: DensityGrid, description: str, tags: dict) -> bytes:
    from affine import Affine  # rasterio's dependency: loaded with it
    from rasterio.io import MemoryFile  # GDAL: heavy, loaded late

    rows, cols = values.shape
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": rows,
        "width": cols,
        "crs": f"EPSG:{grid.crs}",
        "transform": Affine(*grid.transform),
        "nodata": GEOTIFF_NODATA,
        "compress": "deflate",
        "tiled": rows >= 256 and cols >= 256,
    }
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(values, 1)
            dataset.set_band_description(1, description)
            dataset.update_tags(**{k: _tag_text(v) for k, v in tags.items()})
        return memory.read()
