"""Kernel density of points on a regular metric grid.

Points (pins, or per-cell counts from PostGIS with their counts as weights) are
spread onto the grid by linear binning, then convolved with the kernel by FFT: the
cost is O(n) for the points plus O(G log G) for a grid of G cells, whatever the
bandwidth. The quartic (biweight) kernel is the default, as in QGIS's heatmap and
ArcGIS's Kernel Density; the Gaussian is an option.

All lengths are metres in the territory's metric CRS (see :mod:`geo.projections`);
densities are points (or weight units) per square metre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from geo.errors import GeoError

KERNELS = ("quartic", "gaussian")
GAUSSIAN_TRUNCATION = 4.0  # the Gaussian kernel is cut at 4 standard deviations
MAX_CELLS = 25_000_000


class DensityError(GeoError):
    """Bad arguments for a density computation."""

    code = "density"
    status = 422


@dataclass(frozen=True)
class DensityGrid:
    """A density raster.

    Attributes
    ----------
    values : numpy.ndarray
        ``(rows, cols)`` densities per square metre; row 0 is the northern edge.
    transform : tuple of float
        Affine ``(a, b, c, d, e, f)`` as in GDAL/rasterio: the cell at (row, col) has
        its upper-left corner at ``x = c + col * a``, ``y = f + row * e`` (``e < 0``).
    crs : int or None
        EPSG code of the metric CRS the coordinates were in.
    bandwidth : float
        Kernel bandwidth used, in metres (support radius for the quartic kernel,
        standard deviation for the Gaussian).
    kernel : str
        ``"quartic"`` or ``"gaussian"``.
    """

    values: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: int | None
    bandwidth: float
    kernel: str

    @property
    def cell_size(self) -> float:
        """Side of a cell in metres."""
        return self.transform[0]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid in metres."""
        rows, cols = self.values.shape
        a, _, c, _, e, f = self.transform
        return (c, f + rows * e, c + cols * a, f)


def kernel_density(
    x,
    y,
    extent: tuple[float, float, float, float],
    cell_size: float,
    bandwidth: float | None = None,
    kernel: str = "quartic",
    weights=None,
    crs: int | None = None,
) -> DensityGrid:
    """Estimate the density of points on a grid.

    Parameters
    ----------
    x, y : array_like
        Point coordinates in metres (a metric CRS).
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the grid, in metres. It is widened to a whole
        number of cells. Points outside it still count where their kernel reaches in,
        up to one cell beyond the edge; points further out are ignored.
    cell_size : float
        Side of a grid cell in metres.
    bandwidth : float, optional
        Metres: the support radius of the quartic kernel, or the standard deviation of
        the Gaussian. Default: :func:`default_bandwidth` of the points.
    kernel : {"quartic", "gaussian"}
        Kernel shape.
    weights : array_like, optional
        Non-negative weight of each point (for example counts of pre-binned cells).
    crs : int, optional
        EPSG code carried to the result.

    Returns
    -------
    DensityGrid
        Densities per square metre at cell centres.

    Raises
    ------
    DensityError
        Naming the argument: non-finite or mismatched coordinates or weights, negative
        weights, a non-positive cell size or bandwidth, an unknown kernel, an empty
        or inverted extent, or a grid over ``MAX_CELLS`` cells.
    """
    x, y, w = _check_points(x, y, weights)
    kernel = _check_kernel(kernel)
    xmin, ymin, rows, cols = _grid(extent, cell_size)
    if bandwidth is None:
        bandwidth = default_bandwidth(x, y, w) if len(x) else 10 * cell_size
    bandwidth = _positive(bandwidth, "bandwidth")
    if len(x):
        grids = linear_binning(x, y, w, xmin, ymin, cell_size, rows, cols, curvature=True)
        laplacian = kernel_laplacian_stencil(bandwidth, cell_size, kernel)
        stencils = (kernel_stencil(bandwidth, cell_size, kernel), -laplacian)
        values = _convolve(grids, stencils)
    else:
        values = np.zeros((rows, cols))
    # Rounding in the FFT leaves tiny negatives where the density is zero.
    np.maximum(values, 0.0, out=values)
    transform = (cell_size, 0.0, xmin, 0.0, -cell_size, ymin + rows * cell_size)
    return DensityGrid(values[::-1], transform, crs, bandwidth, kernel)


def _check_points(x, y, weights):
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise DensityError(f"x and y differ in length ({x.size} and {y.size})", "x")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DensityError("coordinates must be finite", "x")
    if weights is None:
        return x, y, None
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise DensityError(f"{w.size} weights for {x.size} points", "weights")
    if not np.isfinite(w).all() or (w < 0).any():
        raise DensityError("weights must be finite and non-negative", "weights")
    return x, y, w


def _check_kernel(kernel: str) -> str:
    if kernel not in KERNELS:
        raise DensityError(f"unknown kernel {kernel!r}; use one of {', '.join(KERNELS)}", "kernel")
    return kernel


def _positive(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise DensityError(f"{name} must be a number of metres, got {value!r}", name) from None
    if not (np.isfinite(value) and value > 0):
        raise DensityError(f"{name} must be a positive number of metres, got {value}", name)
    return value


def _grid(extent, cell_size) -> tuple[float, float, int, int]:
    cell_size = _positive(cell_size, "cell_size")
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise DensityError("extent must be (xmin, ymin, xmax, ymax)", "extent") from None
    if not (np.isfinite([xmin, ymin, xmax, ymax]).all() and xmax > xmin and ymax > ymin):
        raise DensityError(f"extent {extent} is empty or inverted", "extent")
    cols = int(np.ceil((xmax - xmin) / cell_size - 1e-9))
    rows = int(np.ceil((ymax - ymin) / cell_size - 1e-9))
    if rows * cols > MAX_CELLS:
        raise DensityError(
            f"{rows} × {cols} cells is too many (max {MAX_CELLS}); use larger cells", "cell_size"
        )
    return xmin, ymin, rows, cols


def linear_binning(x, y, weights, xmin, ymin, cell_size, rows, cols, curvature=False):
    """Share each point's weight among the four cell centres around it.

    Returns an array ``(rows, cols)`` with row 0 at ``ymin`` (south). A point's weight
    goes to the centres surrounding it in proportion to the opposite rectangle's area
    (bilinear weights); shares that fall outside the grid are dropped.

    With ``curvature``, also returns the grid of ``w · (tx(1 - tx) + ty(1 - ty)) / 4 ·
    cell²`` (tx, ty the point's fractional position between centres), on the centre
    below-left of the point: convolved with the kernel's Laplacian it gives the error
    that linear binning makes, which :func:`kernel_density` subtracts. (The part of the
    error that depends on ``tx(1 - tx) - ty(1 - ty)`` is left: it vanishes at the
    kernel's centre and averages out over points.)
    """
    fx = (x - xmin) / cell_size - 0.5
    fy = (y - ymin) / cell_size - 0.5
    near = (fx > -1) & (fx < cols) & (fy > -1) & (fy < rows)
    if not near.all():  # farther points have no share on the grid
        fx, fy = fx[near], fy[near]
        weights = None if weights is None else weights[near]
    ix = np.floor(fx)
    iy = np.floor(fy)
    tx = fx - ix
    ty = fy - iy
    # Work on a grid with a one-cell margin so that no corner needs a bounds check.
    stride = cols + 2
    base = (iy.astype(np.int64) + 1) * stride + ix.astype(np.int64) + 1
    south = 1.0 - ty if weights is None else (1.0 - ty) * weights
    north = ty if weights is None else ty * weights
    size = (rows + 2) * stride
    grid = np.bincount(base, weights=(1.0 - tx) * south, minlength=size)
    grid += np.bincount(base + 1, weights=tx * south, minlength=size)
    grid += np.bincount(base + stride, weights=(1.0 - tx) * north, minlength=size)
    grid += np.bincount(base + stride + 1, weights=tx * north, minlength=size)
    counts = grid.reshape(rows + 2, stride)[1:-1, 1:-1]
    if not curvature:
        return counts
    bend = tx * (1.0 - tx) + ty * (1.0 - ty)
    bend *= 0.25 * cell_size * cell_size
    if weights is not None:
        bend *= weights
    bends = np.bincount(base, weights=bend, minlength=size)
    return counts, bends.reshape(rows + 2, stride)[1:-1, 1:-1]


def kernel_stencil(bandwidth: float, cell_size: float, kernel: str = "quartic") -> np.ndarray:
    """Sample the kernel at cell-centre offsets, per square metre.

    Parameters
    ----------
    bandwidth, cell_size : float
        Metres.
    kernel : {"quartic", "gaussian"}
        Kernel shape.

    Returns
    -------
    numpy.ndarray
        Square array of odd side, centred on offset (0, 0).
    """
    kernel = _check_kernel(kernel)
    reach = bandwidth * (GAUSSIAN_TRUNCATION if kernel == "gaussian" else 1.0)
    half = int(np.floor(reach / cell_size))
    offsets = np.arange(-half, half + 1) * cell_size
    d2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    return kernel_values(d2, bandwidth, kernel)


def kernel_laplacian_stencil(
    bandwidth: float, cell_size: float, kernel: str = "quartic"
) -> np.ndarray:
    """Sample the kernel's Laplacian ∂²K/∂x² + ∂²K/∂y² at cell-centre offsets, per m⁴."""
    reach = bandwidth * (GAUSSIAN_TRUNCATION if kernel == "gaussian" else 1.0)
    half = int(np.floor(reach / cell_size))
    offsets = np.arange(-half, half + 1) * cell_size
    d2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    h2 = bandwidth * bandwidth
    if kernel == "quartic":
        u = 1.0 - d2 / h2
        values = -24.0 / (np.pi * h2 * h2) * (u - d2 / h2)
        return np.where(u > 0, values, 0.0)
    return kernel_values(d2, bandwidth, kernel) * (d2 / (h2 * h2) - 2.0 / h2)


def kernel_values(d2, bandwidth: float, kernel: str) -> np.ndarray:
    """Kernel value (per square metre) at squared distances ``d2`` (square metres)."""
    h2 = bandwidth * bandwidth
    if kernel == "quartic":
        u = np.clip(1.0 - d2 / h2, 0.0, None)
        return 3.0 / (np.pi * h2) * u * u
    values = np.exp(-0.5 * d2 / h2) / (2.0 * np.pi * h2)
    return np.where(d2 <= (GAUSSIAN_TRUNCATION**2) * h2, values, 0.0)


def _convolve(grids, stencils) -> np.ndarray:
    """Σ grid_k ⊛ stencil_k by FFT ("same" size as the grids)."""
    rows, cols = grids[0].shape
    half = stencils[0].shape[0] // 2
    shape = (
        fft.next_fast_len(rows + 2 * half, real=True),
        fft.next_fast_len(cols + 2 * half, real=True),
    )
    # Single precision: its rounding (1e-7 of the peak) is far below the binning error.
    spectra = fft.rfft2(np.stack(grids).astype(np.float32), shape, workers=-1)
    spectra *= fft.rfft2(np.stack(stencils).astype(np.float32), shape, workers=-1)
    full = fft.irfft2(spectra.sum(axis=0), shape, workers=-1)
    return full[half : half + rows, half : half + cols].astype(np.float64)


def exact_kernel_density(x, y, grid: DensityGrid, weights=None) -> np.ndarray:
    """Sum every kernel directly at every cell centre of ``grid`` (for checking; slow).

    Costs O(points × cells): use it on small grids or subsamples.
    """
    x, y, w = _check_points(x, y, weights)
    rows, cols = grid.values.shape
    a, _, c, _, e, f = grid.transform
    cx = c + (np.arange(cols) + 0.5) * a
    cy = f + (np.arange(rows) + 0.5) * e
    out = np.zeros((rows, cols))
    w = np.ones_like(x) if w is None else w
    for start in range(0, len(x), 256):
        px, py, pw = x[start : start + 256], y[start : start + 256], w[start : start + 256]
        d2 = (cy[None, :, None] - py[:, None, None]) ** 2 + (
            cx[None, None, :] - px[:, None, None]
        ) ** 2
        out += np.tensordot(pw, kernel_values(d2, grid.bandwidth, grid.kernel), axes=1)
    return out


def default_bandwidth(x, y, weights=None) -> float:
    """ArcGIS's spatial variant of Silverman's rule of thumb, in metres.

    ``0.9 × min(SD, sqrt(1 / ln 2) × Dm) × n ** -0.2`` where SD is the standard distance
    of the points, Dm the (weighted) median distance to their (weighted) mean centre
    and n the number (or total weight) of points. Falls back to 100 m when the points
    are all at one place.
    """
    x, y, w = _check_points(x, y, weights)
    w = np.ones_like(x) if w is None else w
    total = w.sum()
    if len(x) == 0 or total <= 0:
        raise DensityError("no points to estimate a bandwidth from", "x")
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    d2 = (x - mx) ** 2 + (y - my) ** 2
    sd = np.sqrt(np.average(d2, weights=w))
    dm = _weighted_median(np.sqrt(d2), w)
    spread = min(sd, np.sqrt(1.0 / np.log(2.0)) * dm)
    if spread <= 0:
        return 100.0
    return float(0.9 * spread * total**-0.2)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def neighbour_counts(x, y, extent, cell_size: float, radius: float, weights=None) -> np.ndarray:
    """Count the points (or weights) within ``radius`` metres of every cell centre.

    Same grid and orientation (row 0 north) as :func:`kernel_density` with the same
    ``extent`` and ``cell_size``. Points are linearly binned, so counts are exact for
    points at cell centres (such as counts per cell from PostGIS) and approximate by
    fractions of a point otherwise; the result is rounded to whole points.
    """
    x, y, w = _check_points(x, y, weights)
    xmin, ymin, rows, cols = _grid(extent, cell_size)
    radius = _positive(radius, "radius")
    if not len(x):
        return np.zeros((rows, cols))
    counts = linear_binning(x, y, w, xmin, ymin, cell_size, rows, cols)
    half = int(np.floor(radius / cell_size))
    offsets = np.arange(-half, half + 1) * cell_size
    disc = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius).astype(float)
    return np.maximum(np.rint(_convolve((counts,), (disc,))), 0.0)[::-1]
