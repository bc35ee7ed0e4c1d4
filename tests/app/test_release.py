"""The public release (DESIGN §6): public outputs come from noisy counts released once.

The attacker tests play the patterns that recovered hidden counts and located pins in
the public layers before the release existed: complementary filters, the difference
layer of a set with itself at 25 m, two sizes, two feelings, the density with and
without a category, the same request again.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Pin, PublicRelease, Quartier
from tests.conftest import login, pin_body

BASE = "/api/v1/territories/rennes/layers"
K = 3


def _inside_blosne(app, count: int, seed: int) -> list[tuple[float, float]]:
    """Random points well inside Le Blosne (Q.11)."""
    from geoalchemy2.shape import to_shape
    from shapely import contains_xy

    with app.app_context():
        shape = to_shape(
            db.session.scalar(sa.select(Quartier.geom).where(Quartier.code == "Q.11"))
        ).buffer(-0.001)
    rng = np.random.default_rng(seed)
    west, south, east, north = shape.bounds
    found: list[tuple[float, float]] = []
    while len(found) < count:
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        if contains_xy(shape, x, y):
            found.append((float(x), float(y)))
    return found


def _metres(a, b) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def _stated_counts(body: dict) -> list[int]:
    keys = ("total", "unsafe", "safe", "a", "b")
    found = [f["properties"].get(key) for f in body["features"] for key in keys]
    found += [body.get("total_a"), body.get("total_b")]
    return [n for n in found if isinstance(n, int)]


def test_nothing_is_public_before_the_release_and_closing_makes_it(
    app, client, make_workshop, make_user
):
    workshop = make_workshop()
    for _ in range(8):
        body = pin_body()
        assert (
            client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code == 201
        )
    assert client.get(f"{BASE}/hexagons").get_json()["features"] == []
    coordinator = app.test_client()
    login(coordinator, make_user("coordinator", "rennes").email)
    page = f"/t/rennes/ateliers/{workshop['id']}"
    from tests.conftest import csrf_token

    closed = coordinator.post(
        f"{page}/statut", data={"csrf_token": csrf_token(coordinator, page), "status": "closed"}
    )
    assert closed.status_code == 302
    with app.app_context():
        made = db.session.scalars(sa.select(PublicRelease)).all()
        assert [r.workshop_id for r in made] == [workshop["id"]]
        assert made[0].epsilon == pytest.approx(2.0) and made[0].k == K
    body = client.get(f"{BASE}/hexagons").get_json()
    assert body["release"]["epsilon"] == pytest.approx(2.0)
    # Eight pins in one hexagon: noise of sd 1.9 hides it only past 3 deviations.
    assert any(f["properties"]["total"] >= 4 for f in body["features"])


def test_the_same_request_gives_the_same_answer(client, demo):
    for path in ("hexagons", "net", "hotspots", "density?bandwidth=300", "hexagons?size=400"):
        first, second = client.get(f"{BASE}/{path}"), client.get(f"{BASE}/{path}")
        assert first.status_code == 200 and first.get_json() == second.get_json(), path
    png = [client.get(f"{BASE}/density.png?bandwidth=300").data for _ in range(2)]
    assert png[0] == png[1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=lighting", "category"),
        ("time_of_day=night", "time_of_day"),
        ("size=25", "size"),
        ("size=149", "size"),
    ],
)
def test_public_layers_take_only_what_the_release_holds(client, demo, make_user, query, field):
    for path in ("hexagons", "net", "hotspots", "density", "density.png"):
        response = client.get(f"{BASE}/{path}?{query}")
        assert response.status_code == 422 and field in response.get_json()["fields"], path
    assert client.get(f"/ogc/collections/rennes-hexagons/items?{query}").status_code == 400
    assert client.get(f"/api/v1/territories/rennes/hexagons.csv?{query}").status_code == 422
    login(client, make_user("police", "rennes").email)
    assert client.get(f"{BASE}/hexagons?{query}&full=1").status_code == 200


def test_no_public_output_states_a_count_under_k(client, demo):
    workshop = client.get("/ogc/collections/rennes-hexagons/items?limit=1000").get_json()
    bodies = [workshop] + [
        client.get(f"{BASE}/{path}").get_json()
        for path in (
            "hexagons",
            "hexagons?feeling=unsafe",
            "hexagons?feeling=safe",
            "hexagons?size=300",
            "hexagons?size=1000",
            "net",
            "difference?a=1&b=1",
        )
    ]
    stated = [n for body in bodies for n in _stated_counts(body)]
    assert stated and not [n for n in stated if 1 <= n < K]
    page = client.get("/t/rennes/q/Q.11").get_data(as_text=True)
    assert "publication du" in page


def test_attacker_recovers_no_small_count_beyond_chance(client, demo, make_user):
    """Differencing the public layers (two feelings, complementary categories and times,
    a set with itself) against the exact counts the staff see."""
    for query in ("category=lighting", "time_of_day=night,day,evening,always"):
        assert client.get(f"{BASE}/hexagons?{query}").status_code == 422
    public = {
        feeling: {
            f["id"]: f["properties"]["total"]
            for f in client.get(f"{BASE}/hexagons?{query}").get_json()["features"]
        }
        for feeling, query in (("both", ""), ("unsafe", "feeling=unsafe"), ("safe", "feeling=safe"))
    }
    guesses = {}
    for cell, total in public["both"].items():
        for feeling, other in (("safe", "unsafe"), ("unsafe", "safe")):
            if cell in public[other]:
                guesses[(cell, feeling)] = total - public[other][cell]
    same = client.get(f"{BASE}/difference?a=1&b=1").get_json()["features"]
    for feature in same:
        for key in ("a", "b"):
            if feature["properties"][key] is not None:
                guesses.setdefault((feature["id"], "both"), feature["properties"][key])
    login(client, make_user("police", "rennes").email)
    exact = client.get(f"{BASE}/hexagons?full=1").get_json()["features"]
    truth = {}
    for feature in exact:
        props = feature["properties"]
        truth[(feature["id"], "unsafe")] = props["unsafe"]
        truth[(feature["id"], "safe")] = props["safe"]
        truth[(feature["id"], "both")] = props["total"]
    small = [key for key in guesses if 1 <= truth.get(key, 0) < K]
    hits = sum(guesses[key] == truth[key] for key in small)
    # A noisy count equals the truth when its noise is 0: tanh(1/2) of the time at ε = 1.
    chance = math.tanh(0.5)
    assert hits <= chance * len(small) + 3 * math.sqrt(len(small) * chance * (1 - chance)) + 1, (
        hits,
        len(small),
    )


def test_attacker_locates_no_pin_within_100_m(app, client, rennes, make_workshop, close_workshop):
    """Thirty pairs of pins, each the only pins of its workshop: the set against itself at
    25 m used to show each pair's cell. Now the attacker takes the most loaded public cell
    of each workshop alone as its guess."""
    targets = []
    for n, (lon, lat) in enumerate(_inside_blosne(app, 30, seed=5)):
        workshop = make_workshop(title=f"Marche {n}", groups=1)
        for _ in range(2):
            body = pin_body(lon=lon, lat=lat)
            posted = client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body)
            assert posted.status_code == 201
        close_workshop(workshop["id"])
        targets.append((workshop["id"], (lon, lat)))
    located = 0
    for workshop_id, pin in targets:
        at_25 = client.get(f"{BASE}/difference?a={workshop_id}&b={workshop_id}&size=25")
        assert at_25.status_code == 422
        views = [
            client.get(f"{BASE}/hexagons?workshop={workshop_id}").get_json(),
            client.get(f"{BASE}/difference?a={workshop_id}&b={workshop_id}").get_json(),
        ]
        cells = [f for body in views for f in body["features"]]
        if not cells:
            continue
        best = max(cells, key=lambda f: f["properties"].get("total") or 0)
        ring = np.array(best["geometry"]["coordinates"][0][:-1])
        guess = tuple(ring.mean(axis=0))
        located += _metres(guess, pin) <= 100
    # Expected about 1 in 50 (the pair's cell must pass 3 noise deviations and be the
    # most loaded one); before the release, 30 in 30.
    assert located <= 4, located


def test_questionnaires_release_only_new_pins_on_each_run(app, client, runner, make_workshop):
    workshop = make_workshop(kind="questionnaire", groups=1)
    code = workshop["codes"][0]
    client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert "released 1 workshops" in runner.invoke(args=["release", "make"]).output
    client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert "released 1 workshops" in runner.invoke(args=["release", "make"]).output
    with app.app_context():
        first, second = db.session.scalars(sa.select(PublicRelease).order_by(PublicRelease.id))
        assert first.period_start is None and second.period_start == first.period_end
        created = sorted(db.session.scalars(sa.select(Pin.created_at)))
        assert created[0] <= first.period_end < created[1] <= second.period_end


def test_closed_workshops_are_released_once(app, runner, make_workshop, close_workshop):
    closed = make_workshop()
    close_workshop(closed["id"])
    make_workshop(status="open")  # an open atelier waits for its closing
    assert "released 0 workshops" in runner.invoke(args=["release", "make"]).output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicRelease)) == 1


def test_privacy_page_states_epsilon_k_and_when(client, demo):
    page = client.get("/confidentialite").get_data(as_text=True)
    assert "ε = 2" in page and "OpenDP" in page
    with client.application.app_context():
        made = db.session.scalar(sa.select(PublicRelease.made_at))
    row = page[page.index('id="releases"') :]
    assert "Rennes" in row and str(made.year) in row and "<td>3</td>" in row
