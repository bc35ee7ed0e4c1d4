"""The walking graph and the perception cost (geo/routing.py), on small known networks."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from geo.density import kernel_density
from geo.routing import (
    FLOOR,
    RoutingError,
    cost_sql,
    edge_densities,
    exposure,
    normalised,
    perception_cost,
    walking_graph,
    walking_minutes,
)


def test_crossing_streets_meet_at_a_node_and_split_into_four_edges():
    graph = walking_graph([LineString([(0, 0), (200, 0)]), LineString([(100, -100), (100, 100)])])
    assert len(graph.node_x) == 5
    assert len(graph.source) == 4
    assert sorted(np.round(graph.length, 6)) == [100.0] * 4
    centre = np.flatnonzero((graph.node_x == 100) & (graph.node_y == 0))
    assert len(centre) == 1
    assert np.sum((graph.source == centre[0]) | (graph.target == centre[0])) == 4
    assert graph.largest_share == 1.0


def test_a_bridge_passes_over_the_street_under_it():
    ground = LineString([(0, 0), (200, 0)])
    bridge = LineString([(100, -100), (100, 100)])
    graph = walking_graph([ground, bridge], level=[0, 1])
    assert len(graph.source) == 2  # no node where they cross
    assert len(np.unique(graph.component)) == 2
    assert graph.largest_share == 0.5


def test_streets_sharing_an_end_are_joined_and_a_t_junction_splits_the_through_street():
    graph = walking_graph(
        [
            LineString([(0, 0), (100, 0)]),
            LineString([(100, 0), (200, 0)]),
            LineString([(50, 0), (50, 80)]),  # T-junction on the first street's middle
        ]
    )
    assert len(graph.source) == 4
    assert set(np.unique(graph.component)) == {0}
    assert sorted(np.round(graph.length, 6)) == [50.0, 50.0, 80.0, 100.0]
    assert sorted(graph.street.tolist()) == [0, 0, 1, 2]


def test_motorways_and_trunk_roads_are_not_walked():
    lines = [LineString([(0, 0), (100, 0)]), LineString([(0, 10), (100, 10)])]
    for excluded in ("motorway", "trunk", "trunk_link", "motorway_link"):
        graph = walking_graph(lines, highway=["residential", excluded])
        assert len(graph.source) == 1 and graph.street.tolist() == [0]


def test_bad_inputs_name_what_they_got():
    with pytest.raises(RoutingError, match="LineStrings"):
        walking_graph([shapely.Point(0, 0)])
    with pytest.raises(RoutingError, match="highway"):
        walking_graph([LineString([(0, 0), (1, 0)])], highway=["a", "b"])
    with pytest.raises(RoutingError, match="alpha"):
        perception_cost([1.0], [0.0], [0.0], alpha=-1, beta=0)
    with pytest.raises(RoutingError, match="beta"):
        cost_sql(1.0, float("nan"), "l", "u", "s")


def test_an_empty_network_is_an_empty_graph():
    graph = walking_graph([])
    assert len(graph.source) == 0 and graph.largest_share == 0.0


def test_cost_reads_as_how_much_longer_one_would_walk():
    length = np.array([100.0, 100.0, 100.0, 100.0])
    unsafe = np.array([0.0, 1.0, 0.5, 0.0])
    safe = np.array([0.0, 0.0, 0.0, 1.0])
    cost = perception_cost(length, unsafe, safe, alpha=1.0, beta=0.3)
    assert cost.tolist() == pytest.approx([100.0, 200.0, 150.0, 70.0])
    # Floored above zero however safe the street.
    assert perception_cost([100.0], [0.0], [1.0], alpha=0, beta=5.0)[0] == pytest.approx(
        100 * FLOOR
    )
    # No weights: the length itself, so routes are shortest paths.
    assert perception_cost(length, unsafe, safe, 0, 0).tolist() == length.tolist()
    assert cost_sql(0, 0, "e.length_m", "c.unsafe", "c.safe") == "e.length_m"


def test_the_sql_cost_is_the_numpy_cost():
    """cost_sql and perception_cost are one formula: evaluate the SQL text as Python."""
    expression = cost_sql(1.5, 0.4, "length", "unsafe", "safe")
    python = expression.replace("greatest", "max").replace("::float8", "")
    for length, unsafe, safe in [(100, 0.2, 0.9), (50, 1.0, 0.0), (10, 0.0, 1.0), (7, 0.3, 0.3)]:
        value = eval(python, {"max": max, "length": length, "unsafe": unsafe, "safe": safe})  # noqa: S307
        assert value == pytest.approx(perception_cost([length], [unsafe], [safe], 1.5, 0.4)[0])


def test_edge_densities_are_high_near_the_pins_and_zero_far_away():
    x = np.full(20, 500.0)
    y = np.full(20, 500.0)
    grid = kernel_density(x, y, (0, 0, 1000, 1000), 10.0, bandwidth=150.0)
    near = LineString([(400, 500), (600, 500)])
    far = LineString([(0, 0), (0, 300)])
    values = edge_densities([near, far], grid)
    assert values[0] > 0 and values[1] < 1e-6 * values[0]  # FFT rounding only
    unit = normalised(values)
    assert unit.tolist() == [1.0, 0.0]
    assert normalised(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert exposure([200.0, 300.0], unit) == pytest.approx(200.0)


def test_walking_minutes_at_four_and_a_half_km_an_hour():
    assert walking_minutes(4500) == pytest.approx(60.0)
