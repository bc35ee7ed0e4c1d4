"""OGC API – Features under /ogc: collections per role, paging, filters, errors, audit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Pin
from tests.conftest import BLOSNE, login, pin_body

GEOJSON = "application/geo+json"


@pytest.fixture
def pins(app, client, make_workshop):
    """Two unsafe pins in one spot (one approved comment), one safe pin elsewhere."""
    code = make_workshop()["codes"][0]
    bodies = [
        pin_body(comment="Approuvé"),
        pin_body(comment="En attente"),
        pin_body(feeling="safe", category="good_lighting", lon=-1.6570, lat=48.0850),
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE pin SET comment_status = 'approved' WHERE comment = 'Approuvé'")
        )
        db.session.commit()
    return bodies


@pytest.fixture
def bearer(make_user, make_token):
    def make(role: str, slug: str = "rennes") -> dict:
        return {"Authorization": f"Bearer {make_token(make_user(role, slug))}"}

    return make


def rels(body: dict) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"] if link["type"] != "text/html"}


def test_landing_page_and_conformance(client):
    body = client.get("/ogc").get_json()
    assert {"self", "service-desc", "conformance", "data"} <= set(rels(body))
    assert rels(body)["service-desc"].endswith("/ogc/api")
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in classes} >= {"core", "geojson", "html", "oas30"}


def test_collections_depend_on_who_asks(client, rennes, paris, bearer):
    def ids(headers=None):
        return {
            c["id"]
            for c in client.get("/ogc/collections", headers=headers).get_json()["collections"]
        }

    public = {"rennes-quartiers", "rennes-hexagons", "rennes-hotspots"}
    assert ids() == public | {p.replace("rennes", "paris") for p in public}
    planner = ids(bearer("planner"))
    assert {"rennes-points", "rennes-hexagons-full"} <= planner
    assert "paris-points" not in planner


def test_collection_has_spatial_and_temporal_extent(app, client, pins, close_workshop):
    body = client.get("/ogc/collections/rennes-hexagons").get_json()
    west, south, east, north = body["extent"]["spatial"]["bbox"][0]
    assert -1.76 < west < east < -1.62 and 48.07 < south < north < 48.16
    assert body["extent"]["temporal"]["interval"] == [[None, None]]  # nothing released yet
    with app.app_context():
        close_workshop(db.session.scalar(sa.select(Pin.workshop_id).limit(1)))
    body = client.get("/ogc/collections/rennes-hexagons").get_json()
    start, end = body["extent"]["temporal"]["interval"][0]
    assert start <= end and end.endswith("Z")  # the days the release covers
    assert "temporal" not in client.get("/ogc/collections/rennes-quartiers").get_json()["extent"]
    assert client.get("/ogc/collections/rennes-nothing").status_code == 404
    assert client.get("/ogc/collections/lyon-quartiers").status_code == 404


def test_items_are_paged_with_next_and_prev_links(client, rennes):
    url = "/ogc/collections/rennes-quartiers/items?limit=5"
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == GEOJSON
        body = response.get_json()
        assert body["numberMatched"] == 12
        assert body["numberReturned"] == len(body["features"]) <= 5
        seen += [f["id"] for f in body["features"]]
        links = rels(body)
        if seen[5:]:
            assert "prev" in links
        url = links.get("next", "").replace("http://localhost", "")
    assert len(seen) == len(set(seen)) == 12


def test_items_filter_by_bbox_and_property(client, rennes):
    around_blosne = (
        f"{BLOSNE[0] - 0.001},{BLOSNE[1] - 0.001},{BLOSNE[0] + 0.001},{BLOSNE[1] + 0.001}"
    )
    body = client.get(f"/ogc/collections/rennes-quartiers/items?bbox={around_blosne}").get_json()
    assert [f["id"] for f in body["features"]] == ["Q.11"]
    assert body["features"][0]["properties"]["name"] == "Le Blosne"
    body = client.get("/ogc/collections/rennes-quartiers/items?code=Q.12").get_json()
    assert body["numberMatched"] == 1 and body["features"][0]["geometry"]["type"] == "MultiPolygon"
    item = client.get("/ogc/collections/rennes-quartiers/items/Q.11")
    assert item.mimetype == GEOJSON and item.get_json()["properties"]["code"] == "Q.11"
    assert client.get("/ogc/collections/rennes-quartiers/items/Q.99").status_code == 404


def test_points_need_a_token_of_the_territory(client, pins, bearer, paris):
    url = "/ogc/collections/rennes-points/items"
    assert client.get(url).status_code == 401
    other = bearer("planner", "paris")
    assert client.get(url, headers=other).status_code == 403
    body = client.get(url, headers=bearer("planner")).get_json()
    assert body["numberMatched"] == 3
    assert {f["properties"]["comment"] for f in body["features"]} == {None}
    body = client.get(url, headers=bearer("police")).get_json()
    assert {f["properties"]["comment"] for f in body["features"]} == {"Approuvé", None}
    pin_id = pins[0]["id"]
    item = client.get(f"{url}/{pin_id}", headers=bearer("coordinator")).get_json()
    assert item["id"] == pin_id and item["geometry"]["type"] == "Point"
    assert client.get(f"{url}/not-a-uuid", headers=bearer("admin")).status_code == 404


def test_points_filter_by_datetime_and_feeling(client, pins, bearer):
    url = "/ogc/collections/rennes-points/items"
    headers = bearer("planner")

    def matched(query: str) -> int:
        response = client.get(f"{url}?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["numberMatched"]

    assert matched("feeling=safe") == 1
    assert matched("datetime=2020-01-01T00:00:00Z/..") == 3
    assert matched("datetime=../2020-01-01") == 0
    assert matched("datetime=2020-01-01/2021-01-01") == 0
    assert matched("category=lighting&feeling=unsafe") == 2


def test_public_hexagons_are_suppressed_the_full_ones_are_not(client, pins, bearer):
    public = client.get("/ogc/collections/rennes-hexagons/items").get_json()
    assert public["numberMatched"] == 0  # 2 pins and 1 pin: both under k = 3
    full = client.get("/ogc/collections/rennes-hexagons-full/items", headers=bearer("planner"))
    totals = sorted(f["properties"]["total"] for f in full.get_json()["features"])
    assert totals == [1, 2]
    assert client.get("/ogc/collections/rennes-hexagons-full/items").status_code == 401
    cell = full.get_json()["features"][0]["id"]
    one = client.get(
        f"/ogc/collections/rennes-hexagons-full/items/{cell}", headers=bearer("police")
    )
    assert one.get_json()["id"] == cell


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,50,5,40", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2026-02-01/2026-01-01", "datetime"),
        ("datetime=../..", "datetime"),
        ("feeling=scared", "feeling"),
        ("size=1", "size"),
        ("colour=red", "colour"),
        ("f=xml", "f"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, rennes, query, field):
    response = client.get(f"/ogc/collections/rennes-hexagons/items?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in response.get_json()["fields"]


def test_limit_above_the_maximum_is_clamped(client, rennes):
    body = client.get("/ogc/collections/rennes-quartiers/items?limit=50000").get_json()
    assert body["numberReturned"] == 12
    assert parse_qs(urlsplit(rels(body)["self"]).query)["limit"] == ["10000"]


def test_html_by_accept_header_or_f(client, pins):
    page = client.get("/ogc/collections/rennes-quartiers/items", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "Le Blosne" in page.get_data(as_text=True)
    assert client.get("/ogc/collections?f=html").mimetype == "text/html"
    assert client.get("/ogc?f=json", headers={"Accept": "text/html"}).mimetype == "application/json"


def test_authenticated_reads_are_audited_anonymous_ones_not(app, client, pins, bearer, make_user):
    client.get("/ogc/collections/rennes-hexagons/items")
    client.get("/ogc/collections/rennes-points/items?feeling=unsafe", headers=bearer("planner"))
    login(client, make_user("coordinator", "rennes").email)
    client.get(f"/ogc/collections/rennes-points/items/{pins[0]['id']}")
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "ogc.read").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.target) for e in events] == [
            ("planner-rennes@example.org", "rennes-points"),
            ("coordinator-rennes@example.org", "rennes-points"),
        ]
        assert events[0].details["filters"] == {"feeling": "unsafe"}


def test_public_collections_take_whole_days_only(app, client, pins, bearer, close_workshop):
    """Instants a second apart would reveal when a pin under k was placed."""
    url = "/ogc/collections/rennes-hexagons"
    with app.app_context():
        close_workshop(db.session.scalar(sa.select(Pin.workshop_id).limit(1)))
    response = client.get(f"{url}/items?datetime=2026-01-01T10:00:00Z/..")
    assert response.status_code == 400 and "datetime" in response.get_json()["fields"]
    assert client.get(f"{url}/items?datetime=2020-01-01/..").status_code == 200
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start, end = client.get(url).get_json()["extent"]["temporal"]["interval"][0]
    local = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(
        ZoneInfo("Europe/Paris")
    )
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    staff = client.get("/ogc/collections/rennes-points", headers=bearer("planner")).get_json()
    assert staff["extent"]["temporal"]["interval"][0][0] != start  # to the second


def test_html_pages_link_to_html_pages_and_cells_keep_their_size(client, rennes, pins, bearer):
    body = client.get("/ogc/collections/rennes-quartiers/items?limit=5").get_json()
    kinds = {(link["rel"], link["type"]) for link in body["links"]}
    assert ("next", "text/html") in kinds and ("next", "application/geo+json") in kinds
    headers = bearer("planner")
    url = "/ogc/collections/rennes-hexagons-full/items"
    cell = client.get(f"{url}?size=400", headers=headers).get_json()["features"][0]
    found = client.get(f"{url}/{cell['id']}?size=400", headers=headers).get_json()
    assert found["properties"] == cell["properties"]
    page = client.get(f"{url}?size=400&f=html", headers=headers).get_data(as_text=True)
    assert "size=400" in page.split("<tbody>")[1]


# -- the core, without a request -------------------------------------------------------------


def test_core_reads_no_request_and_imports_no_flask():
    """The core's own imports name no Flask package nor the Flask-bound session."""
    import ast
    from pathlib import Path

    import app.gis.ogc.core as core_module

    tree = ast.parse(Path(core_module.__file__).read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m.split(".")[0].startswith("flask")}
    assert "app.extensions" not in imported


def test_core_answers_headers_status_content_from_plain_arguments(app, rennes, pins):
    """Called with no request context at all: plain arguments in, a triple out."""
    from flask import has_request_context

    from app.gis.ogc import core
    from app.gis.ogc.collections import KINDS
    from app.models import Territory

    with app.app_context():
        assert not has_request_context()
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        asked = core.Asked(
            base="https://maps.example.org/ogc", fmt="json", args={"limit": "1"}, comments=True
        )
        headers, status, content = core.items(asked, db.session, territory, KINDS["points"])
        assert (headers["Content-Type"], status) == (GEOJSON, 200)
        assert (content["numberMatched"], content["numberReturned"]) == (3, 1)
        nxt = next(link["href"] for link in content["links"] if link["rel"] == "next")
        assert nxt.startswith("https://maps.example.org/ogc/collections/rennes-points/items?")
        assert parse_qs(urlsplit(nxt).query)["offset"] == ["1"]

        # Comment text follows the argument, not whoever happens to be signed in.
        every = core.Asked(base="x", fmt="json", args={}, comments=True)
        _, _, shown = core.items(every, db.session, territory, KINDS["points"])
        hidden = core.items(
            core.Asked(base="x", fmt="json", args={}, comments=False),
            db.session,
            territory,
            KINDS["points"],
        )[2]
        assert "Approuvé" in {f["properties"]["comment"] for f in shown["features"]}
        assert {f["properties"]["comment"] for f in hidden["features"]} == {None}

        headers, status, content = core.item(
            every, db.session, territory, KINDS["quartiers"], "NO-SUCH"
        )
        assert status == 404 and "NO-SUCH" in content["message"]


def test_points_speak_the_readers_language(client, pins, bearer):
    """category_label follows Accept-Language in the OGC items and the exports."""
    url = "/ogc/collections/rennes-points/items"
    police = bearer("police")
    french = client.get(url, headers={**police, "Accept-Language": "fr"}).get_json()
    english = client.get(url, headers={**police, "Accept-Language": "en"}).get_json()
    assert {f["properties"]["category_label"] for f in french["features"]} == {
        "Éclairage",
        "Bon éclairage",
    }
    assert {f["properties"]["category_label"] for f in english["features"]} == {
        "Lighting",
        "Good lighting",
    }
    csv = client.get(
        "/api/v1/territories/rennes/pins.csv", headers={**police, "Accept-Language": "en"}
    ).get_data(as_text=True)
    assert ",Lighting," in csv and "Éclairage" not in csv


def _basic(user: str, password: str) -> dict:
    import base64

    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_qgis_basic_auth_with_the_token_as_password(client, pins, make_user, make_token):
    """QGIS 3.22 cannot send a bearer header; its Basic method can: any user name, the
    token as the password. Every 401 says how to authenticate."""
    url = "/ogc/collections/rennes-points/items"
    token = make_token(make_user("planner", "rennes"))
    for name in ("qgis", "", "planner@example.org"):
        answer = client.get(url, headers=_basic(name, token))
        assert answer.status_code == 200 and answer.get_json()["numberMatched"] == 3
    for headers in ({}, _basic("qgis", "rst_wrong"), {"Authorization": "Basic ???"}):
        refused = client.get(url, headers=headers)
        assert refused.status_code == 401
        challenges = refused.headers.getlist("WWW-Authenticate")
        assert 'Bearer realm="Ressenti"' in challenges
        assert any(c.startswith('Basic realm="Ressenti"') for c in challenges)
    # Basic is for reading: a write still needs the page's CSRF token (a browser that
    # remembers Basic credentials sends them on its own, unlike a bearer header).
    export = client.get("/api/v1/territories/rennes/pins.geojson", headers=_basic("q", token))
    assert export.status_code == 200


def test_the_endpoints_openapi_document_is_what_ogc_clients_read(client, rennes):
    """GDAL 3.6 stopped on the whole API's document; QGIS pages at the maximum it reads."""
    landing = client.get("/ogc").get_json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    response = client.get(desc["href"].replace("http://localhost", ""))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.get_json()
    assert doc["servers"][0]["url"] == "http://localhost/ogc"
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}"} <= set(doc["paths"])
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in items
    assert {p.get("name") for p in items} >= {"collectionId", "bbox", "feeling", "time_of_day"}
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10_000
    assert not any(path.startswith(("/api/v1", "/ogc")) for path in doc["paths"])
    assert client.get("/ogc/api?f=html").status_code == 400


def test_ogc_pages_of_a_layer_come_from_the_layer_cache(app, client, pins, bearer):
    """A client paging through hexagons does not recount the pins for every page."""
    from tests.app.test_layer_cache import _reads_pins, statements

    url = "/ogc/collections/rennes-hexagons-full/items?limit=1"
    headers = bearer("police")
    first = client.get(url, headers=headers).get_json()
    with statements(app) as seen:
        second = client.get(f"{url}&offset=1", headers=headers).get_json()
    assert second["numberMatched"] == first["numberMatched"] == 2
    assert second["features"][0]["id"] != first["features"][0]["id"]
    assert _reads_pins(seen) == []
