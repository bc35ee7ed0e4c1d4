"""Walking graphs from street centre-lines, and the perception cost of their edges.

A walking graph is noded where streets meet: at every crossing of two streets on the
same level (OSM ``layer``) and wherever two streets share an end or a vertex, so a
bridge passes over the street under it without meeting it. Motorways and trunk roads
are left out (:data:`NOT_WALKABLE`). Lengths are metres in the territory's metric CRS.

The cost of an edge is ``length × max(FLOOR, 1 + α·unsafe − β·safe)``, where ``unsafe``
and ``safe`` are the kernel densities of unsafe and safe pins along the edge, divided by
the largest such density over the graph's edges: 1 on the street residents fear most,
0 where nobody placed a pin. So α reads as "how much longer I would walk to avoid the
most-feared street" (α = 1: up to twice its length) and β as "how much shorter a street
where people feel safe seems" (β = 0.3: 30 % shorter). With α = β = 0 the cost is the
length, and routes are the shortest paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.errors import GeoError

if TYPE_CHECKING:
    from geo.density import DensityGrid

NOT_WALKABLE = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})
FLOOR = 0.1  # an edge never costs less than a tenth of its length (and never 0)
SNAP_M = 0.01  # street ends closer than 1 cm are one node
SAMPLE_STEP_M = 20.0  # densities are read along each edge every 20 m at most
WALKING_SPEED_M_PER_MIN = 75.0  # 4.5 km/h, the usual planning figure for pedestrians


class RoutingError(GeoError):
    """Bad arguments for a graph or cost computation."""

    code = "routing"
    status = 422


@dataclass(frozen=True)
class WalkingGraph:
    """Nodes and edges of a walking graph, in a metric CRS.

    Attributes
    ----------
    node_x, node_y : numpy.ndarray
        Node coordinates in metres.
    component : numpy.ndarray
        Connected component of each node; 0 is the largest (most edges).
    source, target : numpy.ndarray
        Node index at each end of each edge (edges are walkable both ways).
    length : numpy.ndarray
        Edge lengths in metres.
    geometry : numpy.ndarray
        Edge LineStrings (metres), from ``source`` to ``target``.
    street : numpy.ndarray
        Index of the input street each edge lies on.
    """

    node_x: np.ndarray
    node_y: np.ndarray
    component: np.ndarray
    source: np.ndarray
    target: np.ndarray
    length: np.ndarray
    geometry: np.ndarray
    street: np.ndarray

    @property
    def largest_share(self) -> float:
        """Share of the edges in the largest connected component (0 to 1)."""
        if not len(self.source):
            return 0.0
        return float(np.mean(self.component[self.source] == 0))


def walking_graph(lines, highway=None, level=None) -> WalkingGraph:
    """Node street centre-lines into a walking graph.

    Parameters
    ----------
    lines : array_like of shapely geometries
        LineStrings or MultiLineStrings in a metric CRS (metres).
    highway : array_like of str or None, optional
        OSM ``highway`` class of each line; :data:`NOT_WALKABLE` classes are dropped.
    level : array_like of int, optional
        OSM ``layer`` of each line (0 when absent): lines cross only on the same level.

    Returns
    -------
    WalkingGraph
        Every edge a stretch between two nodes, of positive length; nodes numbered from 0.

    Raises
    ------
    RoutingError
        If the inputs differ in length or a geometry is not linear.
    """
    lines = np.asarray(lines, dtype=object)
    n = len(lines)
    highway = np.asarray([None] * n if highway is None else highway, dtype=object)
    level = np.zeros(n, dtype=int) if level is None else np.asarray(level, dtype=int)
    if len(highway) != n or len(level) != n:
        raise RoutingError(
            f"{n} lines but {len(highway)} highway and {len(level)} level values", "highway"
        )
    kinds = shapely.get_type_id(lines) if n else np.array([], dtype=int)
    if np.any(~np.isin(kinds, (1, 5))):
        raise RoutingError("streets must be LineStrings or MultiLineStrings", "lines")
    keep = np.array([h not in NOT_WALKABLE for h in highway], dtype=bool)
    pieces, street = _noded_pieces(lines[keep], level[keep], np.flatnonzero(keep))
    return _graph(pieces, street)


def _noded_pieces(lines: np.ndarray, level: np.ndarray, index: np.ndarray):
    """Split the lines of each level where they cross or touch.

    Each piece keeps the index of the street it lies on.
    """
    pieces, owners = [], []
    for value in np.unique(level):
        group = lines[level == value]
        noded = shapely.get_parts(shapely.node(shapely.GeometryCollection(list(group))))
        noded = noded[shapely.length(noded) > SNAP_M]
        if not len(noded):
            continue
        middle = shapely.line_interpolate_point(noded, 0.5, normalized=True)
        tree = shapely.STRtree(group)
        hit, nearest = tree.query_nearest(middle, all_matches=False)
        owner = np.empty(len(noded), dtype=int)
        owner[hit] = index[level == value][nearest]
        pieces.append(noded)
        owners.append(owner)
    if not pieces:
        return np.array([], dtype=object), np.array([], dtype=int)
    return np.concatenate(pieces), np.concatenate(owners)


def _graph(pieces: np.ndarray, street: np.ndarray) -> WalkingGraph:
    if not len(pieces):
        empty = np.array([], dtype=float)
        none = np.array([], dtype=int)
        return WalkingGraph(empty, empty, none, none, none, empty, pieces, none)
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, i)) for i in (0, -1)])
    keys = np.round(ends / SNAP_M).astype(np.int64)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    source, target = inverse[: len(pieces)], inverse[len(pieces) :]
    loop = source == target  # a closed street alone: no use to a path
    source, target, pieces, street = source[~loop], target[~loop], pieces[~loop], street[~loop]
    nodes_xy = uniq * SNAP_M
    return WalkingGraph(
        node_x=nodes_xy[:, 0].astype(float),
        node_y=nodes_xy[:, 1].astype(float),
        component=_components(len(uniq), source, target),
        source=source,
        target=target,
        length=shapely.length(pieces),
        geometry=pieces,
        street=street,
    )


def _components(nodes: int, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Component labels, renumbered by decreasing number of edges (0 the largest)."""
    from scipy import sparse  # scipy: heavy, loaded late (the app imports this module)
    from scipy.sparse import csgraph

    adjacency = sparse.coo_matrix((np.ones(len(source)), (source, target)), shape=(nodes, nodes))
    _count, labels = csgraph.connected_components(adjacency, directed=False)
    edges_per = np.bincount(labels[source], minlength=labels.max() + 1)
    order = np.argsort(-edges_per, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


def edge_densities(geometry, grid: DensityGrid, step: float = SAMPLE_STEP_M) -> np.ndarray:
    """Mean density along each edge, read from a density grid.

    Parameters
    ----------
    geometry : array_like of shapely LineStrings
        Edges in the grid's metric CRS (metres).
    grid : DensityGrid
        Densities per square metre (:func:`geo.density.kernel_density`).
    step : float
        Largest distance between two readings along an edge, in metres; both ends and
        at least one point between them are read.

    Returns
    -------
    numpy.ndarray
        Mean density (per square metre) of each edge's readings; 0 off the grid.
    """
    geometry = np.asarray(geometry, dtype=object)
    if not len(geometry):
        return np.zeros(0)
    if not step > 0:
        raise RoutingError(f"step must be positive metres, got {step!r}", "step")
    counts = np.maximum(np.ceil(shapely.length(geometry) / step).astype(int), 2) + 1
    edge = np.repeat(np.arange(len(geometry)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    fraction = (np.arange(len(edge)) - first) / (counts[edge] - 1)
    points = shapely.line_interpolate_point(geometry[edge], fraction, normalized=True)
    xy = shapely.get_coordinates(points)
    values = _read_grid(grid, xy[:, 0], xy[:, 1])
    return np.bincount(edge, weights=values, minlength=len(geometry)) / counts


def _read_grid(grid: DensityGrid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    a, _, c, _, e, f = grid.transform
    rows, cols = grid.values.shape
    col = np.floor((x - c) / a).astype(int)
    row = np.floor((y - f) / e).astype(int)
    inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    values = np.zeros(len(x))
    values[inside] = grid.values[row[inside], col[inside]]
    return values


def normalised(values, reference: float | None = None) -> np.ndarray:
    """Densities divided by ``reference`` (their largest value by default), in [0, 1].

    All zeros (nobody placed a pin) stay zeros, and so do values under a millionth of
    the reference (what the FFT of a density leaves where no kernel reaches).
    """
    values = np.asarray(values, dtype=float)
    top = float(values.max(initial=0.0)) if reference is None else float(reference)
    if top <= 0:
        return np.zeros_like(values)
    unit = np.clip(values / top, 0.0, 1.0)
    unit[unit < 1e-6] = 0.0
    return unit


def _check_weights(alpha: float, beta: float) -> None:
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise RoutingError(f"{name} must be a finite number ≥ 0, got {value!r}", name)


def perception_cost(length, unsafe, safe, alpha: float, beta: float) -> np.ndarray:
    """Edge costs in metres: ``length × max(FLOOR, 1 + α·unsafe − β·safe)``.

    Parameters
    ----------
    length : array_like
        Edge lengths in metres.
    unsafe, safe : array_like
        Normalised densities along the edges (:func:`normalised`, 0 to 1).
    alpha, beta : float
        Weights ≥ 0 of the unsafe and safe densities (see the module docstring).
    """
    _check_weights(alpha, beta)
    factor = 1.0 + alpha * np.asarray(unsafe, dtype=float) - beta * np.asarray(safe, dtype=float)
    return np.asarray(length, dtype=float) * np.maximum(FLOOR, factor)


def cost_sql(alpha: float, beta: float, length: str, unsafe: str, safe: str) -> str:
    """Write :func:`perception_cost` as an SQL expression over the named columns.

    For ``pgr_dijkstra``'s edge query; the weights are checked numbers, the column
    names are the caller's constants.
    """
    _check_weights(alpha, beta)
    if alpha == 0 and beta == 0:
        return length
    return (
        f"{length} * greatest({FLOOR!r}::float8, "
        f"1.0 + {float(alpha)!r}::float8 * {unsafe} - {float(beta)!r}::float8 * {safe})"
    )


def exposure(length, unsafe) -> float:
    """Integrate the normalised unsafe density along a path.

    Metres walked weighted by the normalised unsafe density: 100 m on the most-feared
    street count 100.
    """
    return float(np.dot(np.asarray(length, dtype=float), np.asarray(unsafe, dtype=float)))


def walking_minutes(length_m: float) -> float:
    """Minutes to walk ``length_m`` metres at 4.5 km/h."""
    return float(length_m) / WALKING_SPEED_M_PER_MIN
