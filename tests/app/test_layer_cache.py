"""The shared layer cache: a second identical request counts nothing, on any worker; any
write the layer reads (pins, a release, quartiers) makes the next request compute again;
staff documents never reach the public."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import login, pin_body
from tests.helpers import app_config, statements_on

BASE = "/api/v1/territories/rennes/layers"


@contextlib.contextmanager
def statements(app):
    """The SQL statements the app sends while the block runs."""
    with app.app_context():
        engine = db.engine
    with statements_on(engine) as seen:
        yield seen


def _reads_pins(seen: list[str]) -> list[str]:
    return [s for s in seen if " pin" in s.replace("\n", " ") and "layer_cache" not in s]


@pytest.fixture
def workshop(client, make_workshop):
    made = make_workshop()
    for _ in range(3):
        assert (
            client.post(f"/api/v1/groups/{made['codes'][0]}/pins", json=pin_body()).status_code
            == 201
        )
    return made


@pytest.mark.parametrize(
    "layer", ["hexagons?full=1", "hotspots?full=1", "density?full=1", "net?full=1"]
)
def test_second_identical_request_counts_nothing(app, client, workshop, make_user, layer):
    login(client, make_user("police", "rennes").email)
    first = client.get(f"{BASE}/{layer}")
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    with statements(app) as seen:
        second = client.get(f"{BASE}/{layer}")
    assert second.headers["X-Cache"] == "hit"
    assert second.get_json() == first.get_json()
    assert _reads_pins(seen) == [], _reads_pins(seen)
    assert seen, "the statements were recorded"


def test_a_new_pin_invalidates_on_every_worker(
    app, client, workshop, make_user, database_url_for_tests
):
    police = make_user("police", "rennes").email
    login(client, police)
    url = f"{BASE}/hexagons?full=1"
    assert client.get(url).get_json()["features"][0]["properties"]["total"] == 3

    other = create_app(app_config(database_url_for_tests))  # a second worker
    other_client = other.test_client()
    login(other_client, police)
    hit = other_client.get(url)
    assert hit.headers["X-Cache"] == "hit"  # computed by the first worker

    code = workshop["codes"][1]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    fresh = other_client.get(url)
    assert fresh.headers["X-Cache"] == "miss"
    assert fresh.get_json()["features"][0]["properties"]["total"] == 4
    assert client.get(url).headers["X-Cache"] == "hit"  # and the first worker reuses it


def test_moving_and_deleting_a_pin_invalidate(client, workshop, make_user):
    login(client, make_user("police", "rennes").email)
    url = f"{BASE}/hexagons?full=1"
    code = workshop["codes"][0]
    pins = client.get(f"/api/v1/groups/{code}/pins").get_json()["pins"]
    client.get(url)
    moved = client.patch(
        f"/api/v1/groups/{code}/pins/{pins[0]['id']}", json={"lon": -1.6570, "lat": 48.0850}
    )
    assert moved.status_code == 200
    after = client.get(url)
    assert after.headers["X-Cache"] == "miss"
    assert sorted(f["properties"]["total"] for f in after.get_json()["features"]) == [1, 2]
    assert client.delete(f"/api/v1/groups/{code}/pins/{pins[1]['id']}").status_code == 204
    assert client.get(url).headers["X-Cache"] == "miss"


def test_staff_documents_never_reach_the_public(app, client, workshop, make_user, close_workshop):
    """The key holds who may see what: the public gets the release, not the cached staff
    counts, even right after a staff request with the same filters."""
    login(client, make_user("police", "rennes").email)
    assert client.get(f"{BASE}/hexagons?full=1").get_json()["features"]
    client = app.test_client()  # an anonymous visitor
    public = client.get(f"{BASE}/hexagons")
    assert public.headers["X-Cache"] == "miss"
    assert public.get_json()["features"] == []  # nothing released yet
    close_workshop(workshop["id"])  # the release is a write the public layers read
    released = client.get(f"{BASE}/hexagons")
    assert released.headers["X-Cache"] == "miss"
    assert released.get_json()["suppression_k"] is not None


def test_each_language_has_its_document(client, rennes):
    french = client.get(f"{BASE}/hexagons", headers={"Accept-Language": "fr"})
    english = client.get(f"{BASE}/hexagons", headers={"Accept-Language": "en"})
    assert english.headers["X-Cache"] == "miss"
    assert french.get_json()["message"] != english.get_json()["message"]
    again = client.get(f"{BASE}/hexagons", headers={"Accept-Language": "en"})
    assert again.headers["X-Cache"] == "hit"
    assert again.get_json()["message"] == english.get_json()["message"]


def test_quartier_changes_invalidate(app, client, rennes, make_user):
    client.get(f"{BASE}/hexagons")
    with app.app_context():
        db.session.execute(sa.text("UPDATE quartier SET name = name || ' ' WHERE code = 'Q.11'"))
        db.session.commit()
    assert client.get(f"{BASE}/hexagons").headers["X-Cache"] == "miss"


def test_a_version_is_never_given_twice(app, client, workshop, make_user):
    """Versions come from one sequence: a territory deleted and made again (its version
    row gone with it) cannot meet a document stored for its former data."""
    from app.models import DataVersion

    login(client, make_user("police", "rennes").email)
    url = f"{BASE}/hexagons?full=1"
    client.get(url)
    with app.app_context():
        before = db.session.scalar(sa.select(DataVersion.version))
        db.session.execute(sa.delete(DataVersion))  # as when the territory is deleted
        db.session.execute(sa.text("UPDATE quartier SET name = name WHERE false"))
        db.session.commit()
    assert client.get(url).headers["X-Cache"] == "miss"  # version 0 now
    code = workshop["codes"][0]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    with app.app_context():
        after = db.session.scalar(sa.select(DataVersion.version))
    assert after > before
    assert client.get(url).get_json()["features"][0]["properties"]["total"] == 4
