"""The Citus plan (DESIGN §8, README "Scaling"): pins, workshops and everything a town
owns would be distributed by ``territory_id``, so that a query names its territory and
is routed to one shard. This walks what residents, police and planners do and checks
that every statement touching a territory-owned table filters on ``territory_id`` —
except the few that cannot know the territory yet, listed with their reason (Citus
answers them by asking every shard, which is fine for a single-row lookup by a unique
key)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Quartier
from tests.helpers import login, pin_body, statements_on

OWNED = ("pin", "workshop", "workshop_group", "quartier", "street", "action",
         "action_update", "proposal", "public_release", "data_version", "layer_cache")  # fmt: skip
TOUCHES = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(" + "|".join(OWNED) + r")\b(?!\.)", flags=re.I
)


# Statements that cannot name their territory yet, and why (README "Scaling").
FAN_OUT = {
    r"FROM workshop_group .* WHERE workshop_group\.join_code = ": (
        "a resident's join code is all the request knows: one row by a unique key"
    ),
    r"^(UPDATE pin SET .*|DELETE FROM pin) WHERE pin\.id = ": (
        "the ORM writes a loaded pin by its primary key; the Citus migration makes that "
        "key (territory_id, id), as Citus requires of a distributed table"
    ),
}


def _routed(statement: str) -> bool:
    """An INSERT carries its row's territory; any other statement must filter on it
    (selecting the column is not enough)."""
    if statement.lstrip().upper().startswith("INSERT"):
        return "territory_id" in statement
    _, _, condition = statement.partition(" WHERE ")
    return "territory_id" in condition


def _walk(client, code: str, police: str, token: str) -> None:
    body = pin_body()
    assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    assert client.get(f"/api/v1/groups/{code}/pins").status_code == 200
    patch = client.patch(f"/api/v1/groups/{code}/pins/{body['id']}", json={"time_of_day": "day"})
    assert patch.status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    for path in (
        "/api/v1/territories/rennes/layers/hexagons?full=1",
        "/api/v1/territories/rennes/layers/density?full=1",
        "/api/v1/territories/rennes/layers/hotspots?full=1",
        "/api/v1/territories/rennes/pins.geojson",
        "/ogc/collections/rennes-points/items",
        "/ogc/collections/rennes-quartiers/items",
    ):
        assert client.get(path, headers=auth).status_code == 200, path
    login(client, police)
    assert client.get("/t/rennes/tableau-de-bord/").status_code == 200


def test_every_statement_on_town_data_names_its_territory(
    app, client, make_workshop, make_user, make_token
):
    code = make_workshop(groups=1)["codes"][0]
    police = make_user("police", "rennes")
    token = make_token(police)
    with app.app_context():
        engine = db.engine
    with statements_on(engine) as seen:
        _walk(client, code, police.email, token)
    touching = [s for s in seen if TOUCHES.search(s)]
    assert len(touching) >= 25  # the walk did reach the town's data
    unrouted = [s for s in touching if not _routed(s) and not any(re.search(p, s) for p in FAN_OUT)]
    assert not unrouted, "\n".join(unrouted)


def test_a_pin_id_taken_in_another_town_is_a_clash_not_an_error(app, client, paris, make_workshop):
    """Pins are looked up within their territory: an id another town already holds is
    refused with 409 (it was found across towns before; now it must not become a 500)."""
    body = pin_body()
    assert (
        client.post(f"/api/v1/groups/{make_workshop()['codes'][0]}/pins", json=body).status_code
        == 201
    )
    paris_workshop = make_workshop(territory="paris", quartiers=("7511101",), groups=1)
    code = paris_workshop["codes"][0]
    with app.app_context():
        geom = db.session.scalar(sa.select(Quartier.geom).where(Quartier.code == "7511101"))
        inside = db.session.scalar(sa.select(sa.func.ST_AsText(sa.func.ST_PointOnSurface(geom))))
    lon, lat = (float(v) for v in inside.removeprefix("POINT(").rstrip(")").split())
    clash = client.post(f"/api/v1/groups/{code}/pins", json={**body, "lon": lon, "lat": lat})
    assert clash.status_code == 409
