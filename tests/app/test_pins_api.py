"""The resident pin API on the real database: idempotence, validation, locking, limits."""

from __future__ import annotations

import json
import math
import socket
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Pin
from tests.conftest import BLOSNE_2, pin_body


def count_pins(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Pin))


@pytest.fixture
def code(make_workshop):
    return make_workshop()["codes"][0]


def test_create_then_replay_gives_the_same_pin(app, client, code):
    body = pin_body(comment="  Très sombre  ")
    first = client.post(f"/api/v1/groups/{code}/pins", json=body)
    assert first.status_code == 201
    stored = first.get_json()
    assert stored["comment"] == "Très sombre" and stored["comment_status"] == "pending"
    assert (stored["lon"], stored["lat"]) == (body["lon"], body["lat"])
    again = client.post(f"/api/v1/groups/{code}/pins", json=body)
    assert again.status_code == 200
    assert again.get_json() == stored
    assert count_pins(app) == 1


def test_same_uuid_with_other_content_is_a_conflict(app, client, code):
    body = pin_body()
    client.post(f"/api/v1/groups/{code}/pins", json=body)
    response = client.post(f"/api/v1/groups/{code}/pins", json={**body, "time_of_day": "day"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    assert count_pins(app) == 1


def test_a_tablemate_cannot_test_guesses_at_a_pending_comment(app, client, code):
    """Re-sending another resident's pin id with a guessed comment used to answer 200 for
    the right guess and 409 for a wrong one."""
    body = pin_body(comment="Le code de la porte est 1234")
    assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    answers = []
    for guess in ("Le code de la porte est 1234", "Le code de la porte est 0000", None):
        response = client.post(f"/api/v1/groups/{code}/pins", json={**body, "comment": guess})
        answers.append((response.status_code, response.get_json()["comment"]))
    assert answers == [
        (200, "Le code de la porte est 1234"),
        (200, "Le code de la porte est 0000"),
        (200, None),
    ]  # the same answer whatever the guess, echoing the guess
    with app.app_context():
        assert db.session.scalar(sa.select(Pin.comment)) == "Le code de la porte est 1234"


def test_same_uuid_from_another_group_is_a_conflict(app, client, make_workshop):
    codes = make_workshop()["codes"]
    body = pin_body()
    client.post(f"/api/v1/groups/{codes[0]}/pins", json=body)
    assert client.post(f"/api/v1/groups/{codes[1]}/pins", json=body).status_code == 409


BAD_FIELDS = {
    "lon not a number": ({"lon": "-1.66"}, "lon"),
    "lon infinite": ({"lon": math.inf}, "lon"),
    "lat NaN": ({"lat": math.nan}, "lat"),
    "lat out of range": ({"lat": 95.0}, "lat"),
    "lon boolean": ({"lon": True}, "lon"),
    "outside the quartiers": ({"lon": 2.3522, "lat": 48.8566}, "lon"),
    "unknown category": ({"category": "aliens"}, "category"),
    "category of the other feeling": ({"category": "good_lighting"}, "category"),
    "unknown time of day": ({"time_of_day": "midnight"}, "time_of_day"),
    "unknown feeling": ({"feeling": "scared"}, "feeling"),
    "comment too long": ({"comment": "x" * 501}, "comment"),
    "comment not text": ({"comment": 42}, "comment"),
    "missing id": ({"id": None}, "id"),
    "bad id": ({"id": "not-a-uuid"}, "id"),
}


@pytest.mark.parametrize("case", BAD_FIELDS)
def test_each_bad_field_is_named_and_nothing_is_written(app, client, code, case):
    changes, field = BAD_FIELDS[case]
    response = client.post(
        f"/api/v1/groups/{code}/pins", json=pin_body(**changes), headers={"Accept-Language": "fr"}
    )
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "validation"
    assert field in body["fields"] and body["fields"][field]
    assert count_pins(app) == 0


def test_non_object_and_non_json_bodies(app, client, code):
    response = client.post(f"/api/v1/groups/{code}/pins", json=[pin_body()])
    assert response.status_code == 422 and "body" in response.get_json()["fields"]
    response = client.post(
        f"/api/v1/groups/{code}/pins", data="{oops", content_type="application/json"
    )
    assert response.status_code == 400
    assert count_pins(app) == 0


def test_oversized_body_is_413(app, client, code):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(f"/api/v1/groups/{code}/pins", json=pin_body(comment="x" * 4000))
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert count_pins(app) == 0


def _offset_from_boundary(app, metres: float) -> tuple[float, float]:
    """A point ``metres`` outside Le Blosne, straight out from its nearest edge."""
    from geoalchemy2.shape import to_shape
    from shapely.ops import nearest_points

    from app.models import Quartier
    from geo import projections

    with app.app_context():
        polygon = to_shape(
            db.session.scalar(sa.select(Quartier.geom).where(Quartier.code == "Q.11"))
        )
    inside = polygon.representative_point()
    edge = nearest_points(
        polygon.exterior if polygon.geom_type == "Polygon" else polygon.geoms[0].exterior, inside
    )[0]
    x0, y0 = projections.to_metric(inside.x, inside.y, 2154)
    x1, y1 = projections.to_metric(edge.x, edge.y, 2154)
    # walk from the inside point through the nearest edge point, `metres` beyond it
    length = math.hypot(x1 - x0, y1 - y0)
    x, y = x1 + (x1 - x0) / length * metres, y1 + (y1 - y0) / length * metres
    return projections.to_lonlat(x, y, 2154)


def test_taps_just_outside_the_boundary_are_tolerated(app, client, code):
    lon, lat = _offset_from_boundary(app, 10)
    assert (
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body(lon=lon, lat=lat)).status_code
        == 201
    )
    lon, lat = _offset_from_boundary(app, 200)
    assert (
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body(lon=lon, lat=lat)).status_code
        == 422
    )


def test_codes_are_typed_by_hand(client, code):
    typed = f"{code[:4].lower()}-{code[4:]}"
    assert client.post(f"/api/v1/groups/{typed}/pins", json=pin_body()).status_code == 201


@pytest.mark.parametrize(("status", "page"), [("draft", 403), ("closed", 200)])
def test_workshop_not_open_refuses_everything(app, client, make_workshop, status, page):
    """Pins are refused; a closed workshop's page still opens and says it is closed (the
    phone shows what it could not send), a draft's does not."""
    code = make_workshop(status=status)["codes"][0]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 403
    assert client.get(f"/api/v1/groups/{code}/pins").status_code == 403
    response = client.get(f"/j/{code}")
    assert response.status_code == page
    assert ("Cet atelier est clôturé" in response.get_data(as_text=True)) == (status == "closed")
    assert count_pins(app) == 0


def test_unknown_code_is_404(client, rennes):
    response = client.post("/api/v1/groups/ZZZZZZZZZ/pins", json=pin_body())
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_move_edit_and_delete(app, client, code):
    body = pin_body()
    client.post(f"/api/v1/groups/{code}/pins", json=body)
    url = f"/api/v1/groups/{code}/pins/{body['id']}"
    moved = client.patch(url, json={"lon": BLOSNE_2[0], "lat": BLOSNE_2[1]})
    assert moved.status_code == 200 and moved.get_json()["lon"] == BLOSNE_2[0]
    outside = client.patch(url, json={"lon": 2.35, "lat": 48.85})
    assert outside.status_code == 422
    assert client.patch(url, json={"category": "good_lighting"}).status_code == 422
    assert client.patch(url, json={"lon": 2.35}).status_code == 422  # lat missing
    assert client.patch(url, json={}).status_code == 422
    both = client.patch(url, json={"feeling": "safe", "category": "good_lighting"})
    assert both.get_json()["feeling"] == "safe"
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204  # a replayed delete is not an error
    assert count_pins(app) == 0


def test_another_groups_pin_cannot_be_touched(app, client, make_workshop):
    codes = make_workshop()["codes"]
    body = pin_body()
    client.post(f"/api/v1/groups/{codes[0]}/pins", json=body)
    url = f"/api/v1/groups/{codes[1]}/pins/{body['id']}"
    assert client.patch(url, json={"time_of_day": "day"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(f"/api/v1/groups/{codes[1]}/pins").get_json() == {"pins": []}
    assert len(client.get(f"/api/v1/groups/{codes[0]}/pins").get_json()["pins"]) == 1


def _set_comment_status(app, pin_id: str, status: str) -> None:
    with app.app_context():
        db.session.get(Pin, uuid.UUID(pin_id)).comment_status = status
        db.session.commit()


def test_only_approved_comment_text_is_listed(app, client, code):
    """Anyone with the table's code reads its pins: pending and rejected text stays in
    the database, only its status is sent (the author's phone keeps its own text)."""
    bodies = {
        status: pin_body(comment=f"Texte {status} de quelqu'un")
        for status in ("pending", "approved", "rejected")
    }
    for status, body in bodies.items():
        created = client.post(f"/api/v1/groups/{code}/pins", json=body)
        assert created.get_json()["comment"] == body["comment"]  # echoed to its author
        _set_comment_status(app, body["id"], status)
    listing = client.get(f"/api/v1/groups/{code}/pins")
    by_id = {p["id"]: p for p in listing.get_json()["pins"]}
    assert by_id[bodies["approved"]["id"]]["comment"] == "Texte approved de quelqu'un"
    for status in ("pending", "rejected"):
        pin = by_id[bodies[status]["id"]]
        assert "comment" not in pin and pin["comment_status"] == status
        assert f"Texte {status}" not in listing.get_data(as_text=True)


def test_editing_someone_elses_pin_does_not_reveal_its_pending_comment(app, client, code):
    body = pin_body(comment="Mon voisin deale ici")
    client.post(f"/api/v1/groups/{code}/pins", json=body)
    url = f"/api/v1/groups/{code}/pins/{body['id']}"
    other_phone = app.test_client()
    moved = other_phone.patch(url, json={"time_of_day": "day"})
    assert moved.status_code == 200
    assert "comment" not in moved.get_json() and moved.get_json()["comment_status"] == "pending"
    assert "deale" not in moved.get_data(as_text=True)
    replaced = other_phone.patch(url, json={"comment": "Rue sombre"}).get_json()
    assert replaced["comment"] == "Rue sombre"  # the text this client just sent


def test_questionnaire_code_lists_nobodys_pins(client, make_workshop):
    code = make_workshop(kind="questionnaire", groups=1)["codes"][0]
    client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert client.get(f"/api/v1/groups/{code}/pins").get_json() == {"pins": []}


def test_editing_an_approved_comment_sends_it_back_to_moderation(app, client, code):
    body = pin_body(comment="Rue mal éclairée")
    client.post(f"/api/v1/groups/{code}/pins", json=body)
    with app.app_context():
        pin = db.session.scalar(sa.select(Pin))
        pin.comment_status = "approved"
        db.session.commit()
    url = f"/api/v1/groups/{code}/pins/{body['id']}"
    assert client.patch(url, json={"time_of_day": "day"}).get_json()["comment_status"] == "approved"
    edited = client.patch(url, json={"comment": "Rue très mal éclairée"}).get_json()
    assert edited["comment_status"] == "pending"
    assert client.patch(url, json={"comment": ""}).get_json()["comment_status"] is None


def test_writes_are_rate_limited_per_code(app, client, code):
    app.config["PIN_RATE_PER_CODE"] = (3, 60)
    for _ in range(3):
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    limited = client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert count_pins(app) == 3


def test_writes_are_rate_limited_per_client(app, client, make_workshop):
    app.config["PIN_RATE_PER_CLIENT"] = (2, 60)
    codes = make_workshop()["codes"]
    assert client.post(f"/api/v1/groups/{codes[0]}/pins", json=pin_body()).status_code == 201
    assert client.post(f"/api/v1/groups/{codes[1]}/pins", json=pin_body()).status_code == 201
    assert client.post(f"/api/v1/groups/{codes[1]}/pins", json=pin_body()).status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert other.post(f"/api/v1/groups/{codes[1]}/pins", json=pin_body()).status_code == 201


def test_a_window_reopens_after_its_period_and_old_counters_are_purged(app, client, code):
    from app import ratelimit

    with app.app_context():
        db.session.execute(
            sa.text("INSERT INTO rate_counter VALUES ('code:OLD', now() - interval '2 days', 5)")
        )
        db.session.commit()
    ratelimit._last_purge["at"] = -1e9  # this worker has not purged yet
    app.config["PIN_RATE_PER_CODE"] = (1, 1)
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    limited = client.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    with app.app_context():
        keys = db.session.scalars(sa.text("SELECT key FROM rate_counter")).all()
    assert "code:OLD" not in keys and f"code:{code}" in keys


def test_rate_counters_hold_no_ip_address(app, code):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    with app.app_context():
        keys = db.session.scalars(sa.text("SELECT key FROM rate_counter")).all()
    assert f"code:{code}" in keys
    clients = [k for k in keys if k.startswith("client:")]
    assert len(clients) == 1 and "203.0.113" not in clients[0]
    assert len(clients[0]) == len("client:") + 24
    # Not reversible with the secret key: the hash is salted by a random value of the
    # hour, which is purged; a new salt keys the same address differently.
    import hashlib
    import hmac

    from app import ratelimit

    by_secret = hmac.new(app.config["SECRET_KEY"].encode(), b"203.0.113.77", hashlib.sha256)
    assert by_secret.hexdigest()[:24] not in clients[0]
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM rate_counter"))
        db.session.commit()
    ratelimit._salts.clear()
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    with app.app_context():
        again = db.session.scalars(
            sa.text("SELECT key FROM rate_counter WHERE key LIKE 'client:%'")
        ).all()
    assert again and again != clients


def test_no_ip_or_device_is_stored_with_a_pin(app, client, code):
    client.post(
        f"/api/v1/groups/{code}/pins",
        json=pin_body(),
        headers={"User-Agent": "Mozilla/5.0 (Android 14; Pixel 7)"},
    )
    with app.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("pin")}
        row = db.session.execute(sa.text("SELECT row_to_json(pin)::text FROM pin")).scalar()
    assert not {"ip", "ip_address", "user_agent", "device_id"} & columns
    assert "127.0.0.1" not in row and "Android" not in row


def test_group_streets_are_those_of_its_quartiers(client, code):
    data = client.get(f"/api/v1/groups/{code}/streets.geojson").get_json()
    assert 50 < len(data["features"]) < 3065


def test_diagnostic_round_trip_and_validation(app, client, code):
    url = f"/api/v1/groups/{code}/diagnostic"
    answers = {
        "troubles": "Rodéos le soir",
        "causes": "Absence de présence humaine",
        "solutions": "Médiateurs",
        "residents_role": "Signaler",
        "proposals": ["Éclairer le passage", "  ", "Marche exploratoire"],
    }
    saved = client.put(url, json=answers).get_json()
    assert saved["proposals"] == ["Éclairer le passage", "Marche exploratoire"]
    assert client.get(url).get_json() == saved
    bad = client.put(url, json={"troubles": 3, "proposals": "pas une liste"})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"troubles", "proposals"}
    assert client.get(url).get_json() == saved


def test_metric_coordinates_follow_the_pin(app, client, code):
    from geo import projections

    body = pin_body()
    client.post(f"/api/v1/groups/{code}/pins", json=body)
    client.patch(
        f"/api/v1/groups/{code}/pins/{body['id']}", json={"lon": BLOSNE_2[0], "lat": BLOSNE_2[1]}
    )
    with app.app_context():
        x, y = db.session.execute(sa.select(Pin.x_m, Pin.y_m)).one()
    expected = projections.to_metric(*BLOSNE_2, 2154)
    assert (x, y) == pytest.approx(expected, abs=0.01)


def test_each_pin_knows_its_quartier_kept_by_the_database(app, client, code):
    """Set by a trigger on insert and move: the containing quartier, else the nearest
    one within the tolerance (checked here with shapely, not with the same SQL)."""
    from geoalchemy2.shape import to_shape
    from shapely.geometry import Point

    from app.models import Pin, Quartier

    def quartier_of(pin_id: str) -> str | None:
        with app.app_context():
            return db.session.scalar(
                sa.select(Quartier.code)
                .join(Pin, Pin.quartier_id == Quartier.id)
                .where(Pin.id == uuid.UUID(pin_id))
            )

    body = pin_body()
    assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    assert quartier_of(body["id"]) == "Q.11"
    lon, lat = _offset_from_boundary(app, 10)
    url = f"/api/v1/groups/{code}/pins/{body['id']}"
    assert client.patch(url, json={"lon": lon, "lat": lat}).status_code == 200
    with app.app_context():
        shapes = {q.code: to_shape(q.geom) for q in db.session.scalars(sa.select(Quartier))}
    containing = [c for c, shape in shapes.items() if shape.intersects(Point(lon, lat))]
    assert quartier_of(body["id"]) == (min(containing) if containing else "Q.11")


# -- under gunicorn: several worker processes, the shipped configuration ------------------


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_rate_limit_holds_across_gunicorn_workers(app, code, gunicorn):
    url, _log = gunicorn
    target = f"{url}/api/v1/groups/{code}/pins"
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _post(target, pin_body()), range(150)))
    statuses = [status for status, _headers in answers]
    assert statuses.count(201) == 120, statuses
    assert statuses.count(429) == 30
    for status, headers in answers:
        if status == 429:
            assert 1 <= int(headers["Retry-After"]) <= 600
    assert count_pins(app) == 120


def test_gunicorn_logs_no_ip_with_a_pin_write(code, gunicorn):
    url, log = gunicorn
    status, _headers = _post(f"{url}/api/v1/groups/{code}/pins", pin_body(comment="Sombre"))
    assert status == 201
    deadline = time.monotonic() + 10
    lines: list[str] = []
    request_line = f"POST /api/v1/groups/{code}/pins"
    while not lines and time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if request_line in line]
        time.sleep(0.1)
    assert lines, log.read_text()  # the write is logged …
    assert "127.0.0.1" not in lines[0]  # … without the client's address
    # A request line too long for gunicorn is refused with a warning that used to name
    # the client ("Invalid request from ip=127.0.0.1: …").
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(f"GET /api/v1/groups/{code}/pins/{'0' * 9000} HTTP/1.1\r\n\r\n".encode())
        conn.recv(1024)
    deadline = time.monotonic() + 10
    while "Invalid request" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Invalid request" in log.read_text()
    assert "127.0.0.1" not in log.read_text().split("Listening at")[-1]


def _post_chunked(url: str, size: int) -> int:
    """POST ``size`` bytes of JSON with ``Transfer-Encoding: chunked`` (no length), as a
    client streaming its body does; the status the server answers."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    chunks = (b'{"comment": "', *[b"x" * 65536] * (size // 65536), b'"}')
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(
            "POST",
            parts.path,
            body=iter(chunks),
            encode_chunked=True,
            headers={"Content-Type": "application/json"},
        )
        return connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):  # the server may answer before reading all
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_chunked_body_over_the_limit_is_413(app, code, gunicorn):
    url, _log = gunicorn
    assert _post_chunked(f"{url}/api/v1/groups/{code}/pins", 10 * 1024 * 1024) == 413
    assert count_pins(app) == 0
