"""Map pages rendered with template and script payloads in every text a map shows
(quartier names, action titles, approved comments, category labels, workshop titles,
theme names): the server evaluates none of it, and the text reaches the page's scripts
only as JSON data (a ``type="application/json"`` island), never as script source."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from app.extensions import db
from tests.conftest import login, pin_body

# Evaluated as a Jinja template it reads 1337 … X; in a script it would run alert().
PAYLOAD = (
    "{{ 7*191 }} {% if 1 %}X{% endif %} ${alert(1)} \\`;alert(2)// "
    "</script><script>alert(3)</script>"
)
SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)
ISLAND = 'type="application/json"'
EVALUATED = re.compile(r"(?<![\d.])1337(?!\d)")  # 7*191, not a coordinate's digits


@pytest.fixture
def poisoned(app, client, runner, tmp_path, make_user, make_workshop):
    """PAYLOAD in a quartier's name (territory "tpl"), and in Rennes in the pins'
    category label and approved comments, a workshop's title, a theme and a public
    action's title (its zone: Le Blosne)."""
    from app.models import Action, Category, Pin, Quartier, Theme, Workshop

    path = tmp_path / "tpl.geojson"
    feature = {
        "type": "Feature",
        "properties": {"nom": PAYLOAD, "code": "T0"},
        "geometry": box(-1.70, 48.10, -1.69, 48.11).__geo_interface__,
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = runner.invoke(args=["quartiers", "import", str(path), "--territory", "tpl"])
    assert result.exit_code == 0, result.output
    workshop = make_workshop(title=PAYLOAD)
    for _ in range(4):
        body = pin_body(comment=PAYLOAD)
        assert (
            client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code == 201
        )
    with app.app_context():
        db.session.execute(sa.update(Pin).values(comment_status="approved"))
        lighting = db.session.scalar(sa.select(Category).where(Category.code == "lighting"))
        lighting.label_fr = lighting.label_en = PAYLOAD
        theme = db.session.scalar(sa.select(Theme).order_by(Theme.id))
        theme.label_fr = PAYLOAD
        action = Action(
            territory_id=db.session.get(Workshop, workshop["id"]).territory_id,
            title=PAYLOAD,
            theme=theme,
            status="engaged",
            zone=db.session.scalar(sa.select(Quartier.geom).where(Quartier.code == "Q.11")),
            zone_kind="quartiers",
            public=True,
        )
        db.session.add(action)
        db.session.commit()
        return {"action_id": action.id}


STAFF_PAGES = [
    ("admin", "/t/rennes/tableau-de-bord/"),
    ("coordinator", "/t/rennes/tableau-de-bord/"),
    ("police", "/t/rennes/tableau-de-bord/"),
    ("planner", "/t/rennes/tableau-de-bord/"),
    ("coordinator", "/t/rennes/suivi/"),
    ("coordinator", "/t/rennes/suivi/actions/{action_id}"),
    ("coordinator", "/t/rennes/suivi/actions/{action_id}/modifier"),
]
PUBLIC_PAGES = ["/t/tpl", "/t/tpl/q/T0", "/t/rennes/q/Q.11"]


def _strings(value):
    """Every string inside parsed JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check(page: str, data: list | None = None) -> None:
    """``data``: JSON the page's script fetches (the dashboard's layers), checked like
    the page's islands."""
    islands = [body for attrs, body in SCRIPT.findall(page) if ISLAND in attrs]
    islands += [json.dumps(body) for body in data or []]
    code = [body for attrs, body in SCRIPT.findall(page) if ISLAND not in attrs]
    outside = SCRIPT.sub(lambda m: "" if ISLAND in m.group(1) else m.group(0), page)
    assert not EVALUATED.search(outside)  # nothing was evaluated
    assert not any("7*191" in body or "alert(" in body for body in code), "text in a script"
    assert PAYLOAD not in page  # as markup, `</script>` would have ended a script
    texts = [text for body in islands for text in _strings(json.loads(body))]
    assert any(PAYLOAD in text for text in texts), "the map did not get the text as data"
    assert not any(EVALUATED.search(text) for text in texts if not text.startswith("data:"))


# What the dashboard's script fetches: the raw points and the hexagons (top categories).
DASHBOARD_DATA = (
    "/t/rennes/tableau-de-bord/points.json",
    "/api/v1/territories/rennes/layers/hexagons?full=1",
)


@pytest.mark.parametrize(("role", "path"), STAFF_PAGES)
def test_staff_map_pages_keep_text_as_data(client, poisoned, make_user, role, path):
    login(client, make_user(role, "rennes").email)
    response = client.get(path.format(**poisoned))
    assert response.status_code == 200
    data = []
    if "tableau-de-bord" in path:
        for url in DASHBOARD_DATA:
            fetched = client.get(url)
            assert fetched.status_code == 200 and fetched.is_json, url
            data.append(fetched.get_json())
    _check(response.get_data(as_text=True), data)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_map_pages_keep_text_as_data(client, rennes, poisoned, path):
    response = client.get(path)
    assert response.status_code == 200
    _check(response.get_data(as_text=True))


def test_popups_are_plain_text_lines(app, rennes, poisoned, make_user):
    """The dashboard's raw points carry the comment for police, not for planners."""
    pages = {}
    for role in ("police", "planner"):
        client = app.test_client()
        login(client, make_user(role, "rennes").email)
        points = client.get("/t/rennes/tableau-de-bord/points.json").get_json()
        pages[role] = [f["properties"]["text"] for f in points["features"]]
    assert pages["police"][0] == f"{PAYLOAD} · La nuit — « {PAYLOAD} »"
    assert pages["planner"][0] == f"{PAYLOAD} · La nuit"
