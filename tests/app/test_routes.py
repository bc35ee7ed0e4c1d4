"""Walking routes on a synthetic grid city (real PostGIS + pgRouting): the graph the
streets import builds, the detour around what residents fear, the attraction of a safe
street, α = β = 0 against a bare ``pgr_dijkstra``, and what the public's routes may use.

The city: 13 × 13 streets 100 m apart (1.2 km square) in Lambert-93, one quartier around
it reaching 600 m further east (an empty field, for "off the graph"). The straight walk
is along the middle street, west to east.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely.geometry
import shapely.wkt
import sqlalchemy as sa
from shapely.geometry import LineString, Point

from app.extensions import db
from geo import projections
from tests.helpers import login, pin_body

SRID = 2154
X0, Y0 = 370_000.0, 6_800_000.0  # south-west corner, north of Rennes
LINES = 13
STEP = 100.0
SIZE = STEP * (LINES - 1)
MIDDLE = Y0 + SIZE / 2


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = projections.to_lonlat(np.array([x]), np.array([y]), SRID)
    return round(float(lon[0]), 7), round(float(lat[0]), 7)


def _feature(geometry: list, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@pytest.fixture
def grid_city(app, runner, tmp_path):
    """Import the grid city with the real CLI; returns its slug."""
    streets = []
    ticks = [i * STEP for i in range(LINES)]
    for i in ticks:  # through every crossing, as OSM ways share their crossing nodes
        for points in ([(X0 + t, Y0 + i) for t in ticks], [(X0 + i, Y0 + t) for t in ticks]):
            line = {"type": "LineString", "coordinates": [lonlat(*p) for p in points]}
            streets.append(_feature(line, name=f"Rue {len(streets)}", highway="residential"))
    # A trunk road along the south edge, 10 m off: never walked.
    trunk = {"type": "LineString", "coordinates": [lonlat(X0, Y0 - 10), lonlat(X0 + SIZE, Y0 - 10)]}
    streets.append(_feature(trunk, name="Rocade", highway="trunk"))
    ring = [lonlat(X0 - 50, Y0 - 50), lonlat(X0 + SIZE + 600, Y0 - 50),
            lonlat(X0 + SIZE + 600, Y0 + SIZE + 50), lonlat(X0 - 50, Y0 + SIZE + 50)]  # fmt: skip
    quartier = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    files = {}
    for name, features in (("quartiers", [_feature(quartier, nom="Grille", code="G1")]),
                           ("streets", streets)):  # fmt: skip
        files[name] = tmp_path / f"{name}.geojson"
        files[name].write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(args=["quartiers", "import", str(files["quartiers"]), "--territory",
                                 "grille", "--territory-name", "Grille", "--name-field", "nom",
                                 "--code-field", "code"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["streets", "import", str(files["streets"]), "--territory", "grille"]
    )
    assert result.exit_code == 0, result.output
    return "grille"


@pytest.fixture
def grid_workshop(make_workshop, grid_city):
    return make_workshop(territory="grille", quartiers=("G1",), groups=1)


def place_pins(client, code: str, x: float, y: float, count: int, **fields) -> None:
    rng = np.random.default_rng(int(x + y + count))
    for dx, dy in rng.normal(0, 12, size=(count, 2)):
        lon, lat = lonlat(x + dx, y + dy)
        body = pin_body(lon=lon, lat=lat, **fields)
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201


def route(client, start, end, **params):
    query = {"from": "{},{}".format(*lonlat(*start)), "to": "{},{}".format(*lonlat(*end)), **params}
    return client.get("/api/v1/territories/grille/routes", query_string=query)


def line_of(feature) -> LineString:
    xy = [projections.to_metric(lon, lat, SRID) for lon, lat in feature["geometry"]["coordinates"]]
    return LineString([(float(x), float(y)) for x, y in xy])


WEST, EAST = (X0, MIDDLE), (X0 + SIZE, MIDDLE)
CENTRE = Point(X0 + SIZE / 2, MIDDLE)


@pytest.fixture
def staff_client(client, make_user, grid_city):
    login(client, make_user("police", "grille").email)
    return client


def test_the_streets_import_builds_the_walking_graph(runner, grid_city, app):
    result = runner.invoke(args=["routes", "build", "--territory", "grille"])
    assert result.exit_code == 0, result.output
    # 13 × 13 intersections; 2 × 13 streets of 12 blocks each; the trunk road left out.
    assert "169 nodes and 312 edges from 27 streets" in result.output
    assert "100.0% of the edges in the largest connected component" in result.output
    with app.app_context():
        lengths = db.session.scalars(sa.text("SELECT DISTINCT round(length_m) FROM route_edge"))
        assert set(lengths) == {100}
        assert not db.session.scalar(
            sa.text("SELECT count(*) FROM route_edge WHERE name = 'Rocade'")
        )
    assert runner.invoke(args=["routes", "build", "--territory", "nowhere"]).exit_code != 0


def test_the_route_detours_around_an_unsafe_cluster_on_the_straight_path(
    staff_client, grid_workshop
):
    place_pins(staff_client, grid_workshop["codes"][0], CENTRE.x, CENTRE.y, 30)
    answer = route(staff_client, WEST, EAST, full=1, time_of_day="night")
    assert answer.status_code == 200, answer.get_json()
    assert answer.mimetype == "application/geo+json"
    best, shortest = answer.get_json()["features"]
    assert (best["id"], shortest["id"]) == ("recommended", "shortest")
    assert shortest["properties"]["length_m"] == pytest.approx(SIZE, abs=0.5)
    assert line_of(shortest).distance(CENTRE) < 15  # straight through the cluster
    assert line_of(best).distance(CENTRE) >= STEP - 1  # at least one street away
    props = best["properties"]
    assert props["length_m"] > SIZE
    assert props["detour_pct"] == pytest.approx(100 * (props["length_m"] - SIZE) / SIZE, abs=0.1)
    assert props["exposure"] < shortest["properties"]["exposure"]
    assert props["exposure_reduction_pct"] > 50
    assert props["minutes"] == pytest.approx(props["length_m"] / 75, abs=0.1)
    # Why: the stretches of the middle street it leaves out, the most unsafe first.
    assert props["avoided"] and props["avoided"][0]["unsafe"] == pytest.approx(1.0, abs=0.05)
    assert sum(s["length_m"] for s in props["streets"]) == pytest.approx(props["length_m"], abs=1)
    # Daytime pins only: the night cluster does not count.
    day = route(staff_client, WEST, EAST, full=1, time_of_day="day").get_json()["features"][0]
    assert day["properties"]["length_m"] == pytest.approx(SIZE, abs=0.5)


def test_alpha_and_beta_zero_give_exactly_pgr_dijkstra(staff_client, grid_workshop, app):
    place_pins(staff_client, grid_workshop["codes"][0], CENTRE.x, CENTRE.y, 30)
    start, end = (X0, Y0 + 300), (X0 + SIZE, Y0 + 900)  # many equally short paths
    answer = route(staff_client, start, end, full=1, alpha=0, beta=0).get_json()
    ours = line_of(answer["features"][0])
    with app.app_context():
        node = sa.text(
            "SELECT id FROM route_node "
            "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1"
        )
        ends = [
            db.session.scalar(node, dict(zip(("lon", "lat"), lonlat(*p), strict=True)))
            for p in (start, end)
        ]
        bare = db.session.execute(
            sa.text(
                "SELECT ST_AsText(e.geom), e.length_m FROM pgr_dijkstra("
                "'SELECT id, source, target, length_m AS cost, length_m AS reverse_cost "
                "FROM route_edge ORDER BY id', CAST(:a AS bigint), CAST(:b AS bigint), "
                "directed => false) p JOIN route_edge e ON e.id = p.edge ORDER BY p.seq"
            ),
            {"a": ends[0], "b": ends[1]},
        ).all()
    length = answer["features"][0]["properties"]["length_m"]
    assert length == pytest.approx(sum(r[1] for r in bare), abs=0.1)
    pieces = [
        line_of({"geometry": shapely.geometry.mapping(shapely.wkt.loads(r[0]))}) for r in bare
    ]
    middles = [p.interpolate(0.5, normalized=True) for p in pieces]
    # The same edges, in the same order along the path, and nothing else.
    assert all(ours.distance(m) < 0.5 for m in middles)
    along = [ours.project(m) for m in middles]
    assert along == sorted(along)
    assert ours.length == pytest.approx(sum(p.length for p in pieces), abs=0.5)


def test_a_safe_street_attracts_the_route(staff_client, grid_workshop):
    north = MIDDLE + STEP
    for i in range(LINES):
        place_pins(staff_client, grid_workshop["codes"][0], X0 + i * STEP, north, 4,
                   feeling="safe", category="good_lighting")  # fmt: skip
    plain = route(staff_client, WEST, EAST, full=1, alpha=0, beta=0).get_json()["features"][0]
    assert line_of(plain).distance(Point(X0 + SIZE / 2, north)) >= 99
    attracted = route(staff_client, WEST, EAST, full=1, alpha=0, beta=0.9).get_json()["features"][0]
    assert line_of(attracted).distance(Point(X0 + SIZE / 2, north)) < 1
    assert attracted["properties"]["length_m"] == pytest.approx(SIZE + 2 * STEP, abs=0.5)


def test_the_public_route_uses_the_release_and_never_a_count_under_k(
    client, grid_workshop, close_workshop, make_user
):
    code = grid_workshop["codes"][0]
    place_pins(client, code, CENTRE.x, CENTRE.y, 2)  # under k = 3: hidden from the public
    close_workshop(grid_workshop["id"])
    public = route(client, WEST, EAST).get_json()
    best = public["features"][0]["properties"]
    assert public["meta"]["basis"] == "public" and public["meta"]["release_id"]
    # The release is noisy: the public may see a hexagon the noise lifted over the
    # threshold (it is published anyway), never one it hides. With none shown near the
    # straight walk, the route must not know the two pins are there.
    hexagons = client.get("/api/v1/territories/grille/layers/hexagons?feeling=unsafe")
    shown = [line_of({"geometry": {"coordinates": f["geometry"]["coordinates"][0]}})
             for f in hexagons.get_json()["features"]]  # fmt: skip
    straight = LineString([WEST, EAST])
    if all(ring.distance(straight) > 2 * STEP for ring in shown):
        assert best["length_m"] == pytest.approx(SIZE, abs=0.5)
        assert best["exposure"] == 0 and best["avoided"] == []
    # The staff's exact route sees the two pins and goes round them.
    login(client, make_user("coordinator", "grille").email)
    exact = route(client, WEST, EAST, full=1).get_json()["features"][0]
    assert exact["properties"]["length_m"] > SIZE


def test_raising_k_or_the_bandwidth_never_serves_costs_computed_before(
    client, grid_workshop, close_workshop, app
):
    place_pins(client, grid_workshop["codes"][0], CENTRE.x, CENTRE.y, 40)
    close_workshop(grid_workshop["id"])
    assert route(client, WEST, EAST).status_code == 200
    app.config["SUPPRESSION_K"] = 500  # no released count reaches it: nothing to avoid
    after = route(client, WEST, EAST).get_json()["features"][0]["properties"]
    assert after["length_m"] == pytest.approx(SIZE, abs=0.5) and after["exposure"] == 0
    app.config["ROUTE_BANDWIDTH_M"] = 400.0
    assert route(client, WEST, EAST).status_code == 200
    with app.app_context():
        keys = db.session.scalars(sa.text("SELECT workshops FROM route_cost ORDER BY id")).all()
    assert keys == [";bw=225;k=3", ";bw=225;k=500", ";bw=400;k=500"]


def test_stored_cost_sets_are_bounded_per_territory(client, grid_workshop, make_workshop, app):
    others = [make_workshop(territory="grille", quartiers=("G1",), groups=1) for _ in range(3)]
    app.config["ROUTE_COST_SETS"] = 2
    for workshop in [grid_workshop, *others]:
        assert route(client, WEST, EAST, workshop=workshop["id"]).status_code == 200
    with app.app_context():
        keys = db.session.scalars(sa.text("SELECT workshops FROM route_cost ORDER BY id")).all()
        orphans = db.session.scalar(
            sa.text("SELECT count(*) FROM route_edge_cost c LEFT JOIN route_cost r "
                    "ON r.id = c.cost_id WHERE r.id IS NULL")
        )  # fmt: skip
    assert [k.split(";")[0] for k in keys] == [str(others[1]["id"]), str(others[2]["id"])]
    assert orphans == 0


def test_more_than_twenty_workshops_is_a_422(client, make_workshop, grid_city):
    ids = [make_workshop(territory="grille", quartiers=("G1",), groups=1)["id"] for _ in range(21)]
    answer = route(client, WEST, EAST, workshop=",".join(map(str, ids)))
    assert answer.status_code == 422
    assert answer.get_json()["fields"]["workshop"] == "Au plus 20 ateliers."
    assert route(client, WEST, EAST, workshop=",".join(map(str, ids[:20]))).status_code == 200


def test_always_pins_are_counted_once_at_a_time_of_day(
    staff_client, grid_workshop, close_workshop, app
):
    code = grid_workshop["codes"][0]
    place_pins(staff_client, code, CENTRE.x, CENTRE.y, 10, time_of_day="always")
    place_pins(staff_client, code, X0 + 300, Y0 + 300, 10, time_of_day="night")
    for time_of_day in ("always", "night"):
        answer = route(staff_client, WEST, EAST, full=1, time_of_day=time_of_day)
        assert answer.status_code == 200
    with app.app_context():
        sets = db.session.execute(
            sa.text("SELECT r.time_of_day, max(c.unsafe), sum(c.unsafe) FROM route_cost r "
                    "JOIN route_edge_cost c ON c.cost_id = r.id GROUP BY r.time_of_day")
        ).all()  # fmt: skip
    by_time = {t: (peak, total) for t, peak, total in sets}
    assert by_time["always"][1] < by_time["night"][1]  # night adds its own ten pins
    # The public share of a quartier's pins at "always" is the released "always" share.
    close_workshop(grid_workshop["id"])
    from app.analysis import release
    from app.models import Quartier, Territory
    from app.routes import costs

    with app.test_request_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "grille"))
        quartier = db.session.scalar(sa.select(Quartier.id).where(Quartier.code == "G1"))
        times = release.quartier_summary(territory, quartier)["times"]
        edges = np.array(db.session.scalars(sa.text("SELECT id FROM route_edge")).all())
        share = costs._released_time_share(territory, edges, "always")
    total = sum(times.values())
    assert share == pytest.approx(times.get("always", 0) / total if total else 1.0)
    assert share.max() <= 1


def test_a_graph_build_waits_for_route_requests_and_they_for_it(app, grid_city):
    from app.models import Territory
    from app.routes import graph

    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "grille"))
        assert graph.current(territory) is not None  # holds the shared lock until commit
        probe = sa.text("SELECT pg_try_advisory_xact_lock(:space, :territory)")
        with db.engine.connect() as other:  # a build elsewhere cannot start meanwhile
            args = {"space": graph.LOCK_SPACE, "territory": territory.id}
            assert other.scalar(probe, args) is False
            db.session.commit()
            assert other.scalar(probe, args) is True
            other.rollback()


def test_the_public_route_follows_a_released_cluster_and_ignores_unreleased_pins(
    client, make_workshop, grid_city, close_workshop
):
    first = make_workshop(territory="grille", quartiers=("G1",), groups=1)
    place_pins(client, first["codes"][0], CENTRE.x, CENTRE.y, 40)
    before = route(client, WEST, EAST).get_json()["features"][0]
    assert before["properties"]["length_m"] == pytest.approx(SIZE, abs=0.5)  # not released yet
    close_workshop(first["id"])
    after = route(client, WEST, EAST).get_json()["features"][0]
    assert line_of(after).distance(CENTRE) >= STEP - 1
    assert after["properties"]["exposure_reduction_pct"] > 0
    # New pins of an open workshop elsewhere change nothing public.
    second = make_workshop(territory="grille", quartiers=("G1",), groups=1)
    place_pins(client, second["codes"][0], X0 + SIZE / 2, Y0 + 900, 40)
    again = route(client, WEST, EAST).get_json()
    assert again["features"][0]["geometry"] == after["geometry"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "x"}, "to"),
        ({"from": ""}, "from"),
        ({"from": "1,2,3"}, "from"),
        ({"from": "nan,48"}, "from"),
        ({"from": "200,48"}, "from"),
        ({"time_of_day": "midnight"}, "time_of_day"),
        ({"alpha": "-1"}, "alpha"),
        ({"beta": "1"}, "beta"),
        ({"workshop": "999"}, "workshop"),
        ({"via": ";".join(["-1.5,48.2"] * 9)}, "via"),
        ({"colour": "red"}, "colour"),
        ({"full": "2"}, "full"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, grid_city, params, field):
    query = {"from": "{},{}".format(*lonlat(*WEST)), "to": "{},{}".format(*lonlat(*EAST)), **params}
    answer = client.get("/api/v1/territories/grille/routes", query_string=query)
    assert answer.status_code == 422
    assert field in answer.get_json()["fields"]


def test_places_outside_the_territory_or_off_the_graph_are_422(client, grid_city):
    outside = route(client, (X0 - 3000, MIDDLE), EAST)
    assert outside.status_code == 422 and "territoire" in outside.get_json()["fields"]["from"]
    field = route(client, WEST, (X0 + SIZE + 550, MIDDLE))  # in the quartier, 550 m from a street
    assert field.status_code == 422 and "250 m" in field.get_json()["fields"]["to"]
    same = route(client, WEST, (X0 + 5, MIDDLE))
    assert same.status_code == 422 and "to" in same.get_json()["fields"]


def test_waypoints_are_walked_in_order(client, grid_city):
    via = "{},{}".format(*lonlat(X0 + 600, Y0))
    answer = route(client, WEST, EAST, via=via).get_json()["features"][1]
    assert line_of(answer).distance(Point(X0 + 600, Y0)) < 1
    assert answer["properties"]["length_m"] == pytest.approx(SIZE + SIZE, abs=1)


def test_no_graph_is_a_404_and_staff_only_full(client, paris, grid_city):
    answer = client.get("/api/v1/territories/paris/routes?from=2.35,48.85&to=2.36,48.86")
    assert answer.status_code == 404
    assert "réseau" in answer.get_json()["message"]
    assert route(client, WEST, EAST, full=1).status_code == 403
