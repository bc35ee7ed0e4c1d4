"""Aggregated layers on the real database: counts made by PostGIS, filters, suppression."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import login

BASE = "/api/v1/territories/rennes/layers"


def _total(features, key="total"):
    return sum(f["properties"][key] for f in features)


def test_no_pins_give_empty_layers_with_a_message(client, rennes):
    for layer in ("hexagons", "net", "hotspots"):
        body = client.get(f"{BASE}/{layer}").get_json()
        assert body["features"] == [] and body["message"], layer


def test_hexagons_count_every_pin_for_staff(app, client, demo, make_user):
    login(client, make_user("police", "rennes").email)
    body = client.get(f"{BASE}/hexagons?full=1&size=200").get_json()
    assert _total(body["features"]) == 320
    assert body["suppression_k"] is None and body["size_m"] == 200
    ring = body["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 7 and -1.8 < ring[0][0] < -1.6 and 48.0 < ring[0][1] < 48.2


def test_public_hexagons_hide_small_counts(client, demo):
    body = client.get(f"{BASE}/hexagons?size=200").get_json()
    totals = [f["properties"]["total"] for f in body["features"]]
    assert totals and min(totals) >= 3 and body["suppression_k"] == 3
    assert sum(totals) < 320
    assert client.get(f"{BASE}/hexagons?full=1").status_code == 403


def test_filters_change_the_counts(client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    every = _total(client.get(f"{BASE}/hexagons?full=1").get_json()["features"])
    unsafe = client.get(f"{BASE}/hexagons?full=1&feeling=unsafe").get_json()["features"]
    assert _total(unsafe) == _total(unsafe, "unsafe") < every
    night = _total(client.get(f"{BASE}/hexagons?full=1&time_of_day=night").get_json()["features"])
    lighting = client.get(f"{BASE}/hexagons?full=1&category=lighting,noise").get_json()
    assert 0 < night < every and 0 < _total(lighting["features"]) < every
    later = client.get(f"{BASE}/hexagons?full=1&from=2030-01-01").get_json()
    assert later["features"] == [] and later["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("feeling=scared", "feeling"),
        ("category=aliens", "category"),
        ("time_of_day=noon", "time_of_day"),
        ("workshop=abc", "workshop"),
        ("workshop=999", "workshop"),
        ("workshop=99999999999999999999", "workshop"),  # past PostgreSQL integers (fuzzing)
        ("from=yesterday", "from"),
        ("workshop=\u00b9", "workshop"),  # a digit to str.isdigit, not to int() (fuzzing)
        ("size=5", "size"),
        ("size=big", "size"),
        ("bandwidth=-1", "bandwidth"),
        ("colour=red", "colour"),
    ],
)
def test_unknown_filters_are_422_naming_the_field(client, rennes, query, field):
    response = client.get(f"{BASE}/hexagons?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_net_layer_is_normalised(client, demo, make_user):
    public = client.get(f"{BASE}/net?size=300").get_json()["features"]
    assert public and all(-1 <= f["properties"]["net"] <= 1 for f in public)
    assert client.get(f"{BASE}/net?feeling=unsafe").status_code == 422
    login(client, make_user("police", "rennes").email)
    features = client.get(f"{BASE}/net?size=300&full=1").get_json()["features"]
    assert features
    for feature in features:
        props = feature["properties"]
        assert props["net"] == pytest.approx(
            (props["unsafe"] - props["safe"]) / (props["unsafe"] + props["safe"]), abs=1e-4
        )


def test_hotspots_find_the_demo_clusters(client, demo, make_user):
    """Inside the three surveyed quartiers (not against the rest of Rennes), the demo's
    clusters are hot at 99 % for the staff; the public's hot spots come from the noisy
    release (whether it finds any depends on its noise) and never state a cell's count."""
    body = client.get(f"{BASE}/hotspots?size=150").get_json()
    assert all(f["properties"]["bin"] != 0 for f in body["features"])
    assert all("count" not in f["properties"] for f in body["features"])
    assert body["window"]["quartiers"] == ["Bréquigny", "Le Blosne", "Sud gare"]
    login(client, make_user("planner", "rennes").email)
    staff = client.get(f"{BASE}/hotspots?size=150&full=1").get_json()
    assert "count" in staff["features"][0]["properties"]
    assert 3 in {f["properties"]["bin"] for f in staff["features"]}
    assert staff["window"] == body["window"]


def test_one_pin_gives_a_trivial_answer(client, make_workshop, make_user):
    from tests.conftest import pin_body

    code = make_workshop()["codes"][0]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    for layer in ("hexagons", "net", "hotspots"):  # the public: nothing released yet
        response = client.get(f"{BASE}/{layer}")
        assert response.status_code == 200
        body = response.get_json()
        assert body["features"] == [] and body["message"], layer
    login(client, make_user("police", "rennes").email)  # staff: the pin, counted once
    hexagons = client.get(f"{BASE}/hexagons?full=1").get_json()["features"]
    assert [(f["properties"]["total"], f["properties"]["unsafe"]) for f in hexagons] == [(1, 1)]
    net = client.get(f"{BASE}/net?full=1").get_json()["features"]
    assert [f["properties"]["net"] for f in net] == [1.0]


def test_density_isobands_and_png(client, demo, make_user):
    body = client.get(f"{BASE}/density?bandwidth=300").get_json()
    assert body["bandwidth_m"] == 300.0 and body["peak_per_km2"] > 0
    classes = [f["properties"]["class"] for f in body["features"]]
    assert classes == sorted(classes) and len(classes) >= 3
    assert body["features"][-1]["properties"]["upper_per_km2"] is None
    response = client.get(f"{BASE}/density.png?bandwidth=300")
    assert response.mimetype == "image/png" and response.data[:8] == b"\x89PNG\r\n\x1a\n"
    west, south, east, north = (float(v) for v in response.headers["X-Bounds"].split(","))
    assert -1.8 < west < east < -1.5 and 48.0 < south < north < 48.2
    default = client.get(f"{BASE}/density").get_json()
    assert 20 <= default["bandwidth_m"] <= 10000  # the spatial Silverman rule


def test_public_density_hides_isolated_pins(client, make_workshop, make_user):
    from tests.conftest import pin_body

    code = make_workshop()["codes"][0]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    public = client.get(f"{BASE}/density?bandwidth=200").get_json()
    assert public["features"] == [] and public["message"]
    login(client, make_user("police", "rennes").email)
    staff = client.get(f"{BASE}/density?bandwidth=200&full=1").get_json()
    assert staff["features"]


def _two_editions(client, make_workshop):
    from tests.conftest import BLOSNE, BLOSNE_2, pin_body

    first, second = make_workshop(title="Assises 2022"), make_workshop(title="Assises 2024")
    for workshop, spots in ((first, [BLOSNE] * 4 + [BLOSNE_2] * 4), (second, [BLOSNE_2] * 6)):
        for lon, lat in spots:
            body = pin_body(lon=lon, lat=lat)
            assert (
                client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code
                == 201
            )
    return first["id"], second["id"]


def test_difference_compares_shares_of_two_editions(client, make_workshop, make_user):
    a, b = _two_editions(client, make_workshop)
    login(client, make_user("police", "rennes").email)
    body = client.get(f"{BASE}/difference?a={a}&b={b}&full=1&size=100").get_json()
    assert (body["total_a"], body["total_b"]) == (8, 6)
    by_diff = sorted(f["properties"]["difference"] for f in body["features"])
    assert by_diff == [-0.5, 0.5]  # Blosne: 0.5 → 0; Blosne 2: 0.5 → 1
    assert sum(by_diff) == pytest.approx(0)


@pytest.mark.parametrize(
    ("query", "field"),
    [("a=1", "b"), ("b=1", "a"), ("a=x&b=1", "a"), ("a=1&b=2&workshop=1", "workshop")],
)
def test_difference_needs_two_known_sets(client, make_workshop, query, field):
    make_workshop(), make_workshop()
    response = client.get(f"{BASE}/difference?{query}")
    assert response.status_code == 422 and field in response.get_json()["fields"]


def test_dashboard_draws_the_difference(client, make_workshop, make_user):
    a, b = _two_editions(client, make_workshop)
    login(client, make_user("coordinator", "rennes").email)
    page = client.get(f"/t/rennes/tableau-de-bord/?a={a}&b={b}").get_data(as_text=True)
    # The page offers the layer; its script fetches the cells and writes the popups
    # from the translated pattern.
    assert "Différence B − A" in page and "A : %(a)d points, B : %(b)d points" in page
    cells = client.get(f"{BASE}/difference?a={a}&b={b}&full=1").get_json()["features"]
    assert (4, 6) in [(f["properties"]["a"], f["properties"]["b"]) for f in cells]


def test_all_pins_in_one_cell(client, make_workshop, make_user):
    from tests.conftest import pin_body

    code = make_workshop()["codes"][0]
    for _ in range(5):
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    login(client, make_user("police", "rennes").email)
    hexagons = client.get(f"{BASE}/hexagons?full=1").get_json()["features"]
    assert [f["properties"]["total"] for f in hexagons] == [5]
    hotspots = client.get(f"{BASE}/hotspots?full=1").get_json()
    assert all(f["properties"]["bin"] > 0 for f in hotspots["features"])
    density = client.get(f"{BASE}/density?bandwidth=200&full=1").get_json()
    assert density["features"] and density["peak_per_km2"] > 0


def test_dates_at_the_ends_of_the_calendar_are_valid_filters(client, rennes):
    """Year 1 once failed converting to local time (found by the schemathesis run)."""
    url = "/api/v1/territories/rennes/layers/hexagons?from=0001-01-01&to=9999-12-31"
    assert client.get(url).status_code == 200


def test_stored_density_grid_gives_the_computed_density(app, client, make_workshop):
    """Each pin's stored grid cell (migration 0008, set at quartier import and by the
    pin's trigger) gives the same density as cells computed per request."""
    import numpy as np
    import sqlalchemy as sa

    from app.analysis.density import density_grid
    from app.analysis.filters import parse_filters
    from app.extensions import db
    from app.models import Pin, Territory
    from tests.conftest import BLOSNE, pin_body

    code = make_workshop()["codes"][0]
    rng = np.random.default_rng(9)
    for dx, dy in rng.normal(0, 0.0015, (40, 2)):
        body = pin_body(lon=BLOSNE[0] + dx, lat=BLOSNE[1] + dy / 2)
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        assert (
            territory.grid_cell
            and db.session.scalar(sa.select(sa.func.count()).where(Pin.grid_i.is_(None))) == 0
        )
        filters = parse_filters(territory, {"bandwidth": "300"})
        filters.full = True  # exact counts (staff)
        stored, _support = density_grid(territory, filters)
        territory.grid_cell = None  # in memory only: the per-request path
        computed, _support = density_grid(territory, filters)
        db.session.rollback()
        assert stored.transform == computed.transform
        np.testing.assert_allclose(stored.values, computed.values, rtol=1e-9)


def _pins_at_cell_centres(app, client, code, cells, size, extra=()):
    """One pin at the centre of each cell, and more at the cells of ``extra``."""
    import numpy as np

    from app.extensions import db
    from app.models import Territory
    from geo import projections
    from geo.hexgrid import hex_centres
    from tests.conftest import pin_body

    with app.app_context():
        srid = db.session.query(Territory.metric_srid).filter_by(slug="rennes").scalar()
    q = np.array([c[0] for c in [*cells, *extra]])
    r = np.array([c[1] for c in [*cells, *extra]])
    x, y = hex_centres(q, r, size)
    lon, lat = projections.transformer(srid, projections.WGS84).transform(x, y)
    for a, b in zip(lon.tolist(), lat.tolist(), strict=True):
        body = pin_body(lon=round(a, 7), lat=round(b, 7))
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201


def test_hotspots_window_is_the_surveyed_quartiers(app, client, make_workshop, make_user):
    """Gi*'s window is the workshop's quartiers, not the town: one pin in every surveyed
    cell is no hot spot at all (against the unsurveyed rest of Rennes, every one of them
    was "hot"), and the z-scores are esda's on the same window."""
    import numpy as np
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand

    from app.analysis.cells import surveyed_cells
    from app.extensions import db
    from app.models import Quartier, Territory
    from geo.hexgrid import hex_centres

    size = 150
    workshop = make_workshop(quartiers=("Q.11",))
    with app.app_context():
        territory = db.session.query(Territory).filter_by(slug="rennes").one()
        q, r, names = surveyed_cells(territory, size, [workshop["id"]])
        quartier = db.session.query(Quartier.name).filter_by(code="Q.11").scalar()
    cells = list(zip(q.tolist(), r.tolist(), strict=True))
    assert names == [quartier] and len(cells) >= 10
    _pins_at_cell_centres(app, client, workshop["codes"][0], cells, size)
    login(client, make_user("police", "rennes").email)
    url = f"{BASE}/hotspots?full=1&size={size}"
    even = client.get(url).get_json()
    assert even["features"] == [] and even["message"]
    assert even["window"] == {"cells": len(cells), "quartiers": [quartier]}

    # Six more pins in the first cell and each of its six neighbours: a crowded corner.
    cx, cy = hex_centres(q, r, size)
    near = np.hypot(cx - cx[0], cy - cy[0]) < 1.01 * np.sqrt(3) * size
    crowded = [cells[i] for i in np.flatnonzero(near)]
    _pins_at_cell_centres(app, client, workshop["codes"][1], [], size, extra=crowded * 6)
    body = client.get(url).get_json()
    values = np.ones(len(cells))
    values[near] += 6
    weights = DistanceBand(np.column_stack([cx, cy]), threshold=body["distance_m"], binary=True)
    expected = G_Local(values, weights, transform="B", star=True, permutations=0).Zs
    by_cell = {f"{a}:{b}": z for (a, b), z in zip(cells, expected, strict=True)}
    assert body["features"], "the crowded corner is a hot spot"
    for feature in body["features"]:
        assert feature["properties"]["z"] == pytest.approx(by_cell[feature["id"]], abs=1e-3)
    assert f"{cells[0][0]}:{cells[0][1]}" in {f["id"] for f in body["features"]}


def _held_on(app, workshop_id: int, day: str) -> None:
    from app.extensions import db
    from app.models import Workshop

    with app.app_context():
        db.session.get(Workshop, workshop_id).held_on = date.fromisoformat(day)
        db.session.commit()


def _cluster(lon: float, lat: float) -> list[tuple[float, float]]:
    """Four pins at a spot and at six spots ~150 m around it."""
    around = [(0, 0), (0.002, 0), (-0.002, 0), (0.001, 0.0012), (-0.001, 0.0012)]
    around += [(0.001, -0.0012), (-0.001, -0.0012)]
    return [(lon + a, lat + b) for a, b in around for _ in range(4)]


def test_trends_across_three_editions(app, client, make_workshop, make_user):
    """Three editions: a place crowded in all three is persistent, one crowded only in the
    last is new; the periods follow the dates the workshops were held."""
    import shapely

    from tests.conftest import BLOSNE, pin_body

    elsewhere = (-1.6480, 48.0830)  # 1.1 km east, in Le Blosne too
    editions = []
    for n, day in enumerate(("2024-11-20", "2025-11-20", "2026-11-20")):
        made = make_workshop(quartiers=("Q.11", "Q.12", "Q.8"), title=f"Édition {n}")
        _held_on(app, made["id"], day)
        editions.append(made)
        spots = _cluster(*BLOSNE) + (_cluster(*elsewhere) if n == 2 else [])
        url = f"/api/v1/groups/{made['codes'][0]}/pins"
        for lon, lat in spots:
            assert client.post(url, json=pin_body(lon=lon, lat=lat)).status_code == 201
    assert client.get(f"{BASE}/trends").status_code == 422  # the public: no trends
    assert "full" in client.get(f"{BASE}/trends").get_json()["fields"]
    login(client, make_user("police", "rennes").email)
    body = client.get(f"{BASE}/trends?full=1").get_json()
    assert [p["title"] for p in body["periods"]] == ["Édition 0", "Édition 1", "Édition 2"]

    def at(lon, lat):
        point = shapely.Point(lon, lat)
        return next(
            f["properties"]
            for f in body["features"]
            if shapely.geometry.shape(f["geometry"]).contains(point)
        )

    assert at(*BLOSNE)["pattern"] == "persistent"
    assert at(*elsewhere)["pattern"] == "new"
    assert at(*elsewhere)["pattern_label"] == "Nouveau point chaud"
    assert at(*elsewhere)["counts"][:2] == [0, 0]

    two = ",".join(str(e["id"]) for e in editions[:2])
    few = client.get(f"{BASE}/trends?full=1&workshop={two}")
    assert few.status_code == 200 and few.get_json()["features"] == []
    assert "au moins 3" in few.get_json()["message"]


def test_the_interface_language_is_no_filter(client, rennes):
    english = client.get(f"{BASE}/hexagons?lang=en")
    assert english.status_code == 200
    assert english.get_json()["message"] == "No point matches these filters."
