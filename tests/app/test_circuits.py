"""Circuits (issue 17, point 4): coordinators create, route, edit and publish them; police
and planners read them; the public reads published ones on /t/<slug>/itineraires, each
printable on A4 and downloadable as GPX and GeoJSON; a new release recomputes them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Circuit, Territory
from geo.gpx import GPX_NAMESPACE
from tests.conftest import BLOSNE, BLOSNE_2, csrf_token, login, pin_body
from tests.helpers import page_text

CIRCUITS = "/t/rennes/circuits"
PUBLIC = "/t/rennes/itineraires"
NS = {"g": GPX_NAMESPACE}
MARKUP_NAME = 'Nuit <b>calme</b> & "sûre" <script>alert(1)</script>'
# Two places of Le Blosne about 500 m apart, and a third off the straight line between them.
FROM, TO, ASIDE = BLOSNE, BLOSNE_2, (-1.6600, 48.0890)


def point_text(point) -> str:
    return f"{point[0]}, {point[1]}"


@pytest.fixture
def coordinator(client, make_user, rennes):
    login(client, make_user("coordinator", "rennes").email)
    return client


def form(client, **changes) -> dict:
    values = {
        "csrf_token": csrf_token(client, f"{CIRCUITS}/nouveau"),
        "name": "Du métro au collège",
        "description": "Le soir, par les rues passantes.",
        "origin_label": "Métro Le Blosne",
        "origin": point_text(FROM),
        "destination_label": "Collège",
        "destination": point_text(TO),
        "waypoints": "",
        "time_of_day": "night",
    }
    values.update(changes)
    return values


def circuits(app) -> list[Circuit]:
    with app.app_context():
        found = db.session.scalars(sa.select(Circuit).order_by(Circuit.id)).all()
        db.session.expunge_all()
        return found


def result_of(start, end, middle) -> dict:
    """A route as the planner answers it, for circuits stored without the planner."""

    def feature(kind, coordinates, length, extra):
        return {
            "type": "Feature",
            "id": kind,
            "geometry": {"type": "LineString", "coordinates": coordinates},
            "properties": {
                "kind": kind,
                "length_m": length,
                "minutes": length / 75,
                "exposure": 1.0,
                "streets": [
                    {"name": "Boulevard de Yougoslavie", "length_m": length - 120},
                    {"name": "Rue <i>d'Italie</i>", "length_m": 120},
                ],  # fmt: skip
                **extra,
            },
        }

    return {
        "type": "FeatureCollection",
        "features": [
            feature(
                "recommended",
                [list(start), list(middle), list(end)],
                720.0,
                {
                    "detour_pct": 20.0,
                    "exposure_reduction_pct": 50.0,
                    "avoided": [{"name": "Square de Nimègue", "length_m": 90.0, "unsafe": 0.8}],
                },
            ),  # fmt: skip
            feature("shortest", [list(start), list(end)], 600.0, {"avoided": []}),
        ],
        "meta": {
            "alpha": 1.0,
            "beta": 0.3,
            "basis": "public",
            "time_of_day": "night",
            "computed_at": None,
            "release_id": None,
        },  # fmt: skip
    }


@pytest.fixture
def make_circuit(app, rennes):
    """A computed circuit stored directly: ``make_circuit(name=..., published=True)``."""

    def make(name="Circuit du Blosne", published=False) -> int:
        with app.app_context():
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
            circuit = Circuit(
                territory_id=territory.id,
                name=name,
                description="Par la place <Zagreb> & le parc",
                origin=f"SRID=4326;POINT({FROM[0]} {FROM[1]})",
                origin_label="Métro <Blosne>",
                destination=f"SRID=4326;POINT({TO[0]} {TO[1]})",
                destination_label="Collège & gymnase",
                waypoints=[],
                time_of_day="night",
                published=published,
                result=result_of(FROM, TO, ASIDE),
                computed_at=datetime(2026, 11, 30, 18, 0, tzinfo=UTC),
            )
            db.session.add(circuit)
            db.session.commit()
            return circuit.id

    return make


# -- coordinators: create, route, edit, publish, delete ----------------------------------------


def test_coordinator_creates_a_circuit_routed_on_the_graph(app, coordinator, rennes):
    response = coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator))
    assert response.status_code == 302, page_text(response.get_data(as_text=True))
    [circuit] = circuits(app)
    assert response.headers["Location"].endswith(f"{CIRCUITS}/{circuit.id}")
    assert circuit.name == "Du métro au collège" and not circuit.published
    assert circuit.time_of_day == "night" and circuit.computed_at is not None
    kinds = [f["id"] for f in circuit.result["features"]]
    assert kinds == ["recommended", "shortest"]
    recommended = circuit.result["features"][0]
    line = recommended["geometry"]["coordinates"]
    # The path starts and ends near the chosen places (snapped to the graph).
    assert abs(line[0][0] - FROM[0]) < 0.003 and abs(line[-1][1] - TO[1]) < 0.003
    assert recommended["properties"]["streets"], "no street named along the path"

    page = page_text(coordinator.get(f"{CIRCUITS}/{circuit.id}").get_data(as_text=True))
    assert "Itinéraire conseillé" in page and "Le plus court" in page
    assert "mis à jour le" in page
    first_street = recommended["properties"]["streets"][0]["name"]
    if first_street:
        assert first_street in page
    listing = page_text(coordinator.get(f"{CIRCUITS}/").get_data(as_text=True))
    assert "Du métro au collège" in listing and "non publié" in listing


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"origin": "quarante-huit"}, {"origin"}),
        ({"destination": "-1.66, 95"}, {"destination"}),
        ({"waypoints": "-1.66, 48.08\nrue de Nimègue"}, {"waypoints"}),
        ({"time_of_day": "midnight"}, {"time_of_day"}),
        ({"origin_label": "x" * 201, "name": "y" * 201}, {"origin_label", "name"}),
    ],
)
def test_bad_circuit_forms_name_the_field_and_write_nothing(app, coordinator, changes, fields):
    response = coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in fields:
        assert f'id="{field}-error"' in page
    assert 'aria-invalid="true"' in page
    assert circuits(app) == []


def test_a_point_outside_the_territory_is_refused_on_its_field(app, coordinator, rennes):
    paris = "2.3488, 48.8534"
    response = coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator, origin=paris))
    assert response.status_code == 422
    assert 'id="origin-error"' in response.get_data(as_text=True)
    assert circuits(app) == []


def test_editing_waypoints_routes_the_circuit_again(app, coordinator, rennes):
    coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator))
    [before] = circuits(app)
    url = f"{CIRCUITS}/{before.id}/modifier"
    page = coordinator.get(url).get_data(as_text=True)
    assert f'value="{FROM[0]:.6f}, {FROM[1]:.6f}"' in page
    data = form(coordinator, waypoints=point_text(ASIDE), name="Par la place")
    assert coordinator.post(url, data=data).status_code == 302
    [after] = circuits(app)
    assert after.name == "Par la place" and after.waypoints == [list(ASIDE)]
    old = before.result["features"][0]["properties"]["length_m"]
    new = after.result["features"][0]["properties"]["length_m"]
    assert new > old  # the detour by the waypoint is longer than the direct path
    assert after.computed_at >= before.computed_at


def test_publish_unpublish_and_delete(app, coordinator, make_circuit):
    circuit_id = make_circuit()
    anonymous = app.test_client()
    sheet = f"{PUBLIC}/{circuit_id}"
    assert anonymous.get(sheet).status_code == 404
    assert "Circuit du Blosne" not in anonymous.get(f"{PUBLIC}/").get_data(as_text=True)

    publish = f"{CIRCUITS}/{circuit_id}/publication"
    token = csrf_token(coordinator, f"{CIRCUITS}/{circuit_id}")
    assert (
        coordinator.post(publish, data={"csrf_token": token, "published": "1"}).status_code == 302
    )
    assert anonymous.get(sheet).status_code == 200
    assert anonymous.get(f"{sheet}.gpx").status_code == 200
    assert "Circuit du Blosne" in anonymous.get(f"{PUBLIC}/").get_data(as_text=True)
    bad = coordinator.post(publish, data={"csrf_token": token, "published": "oui"})
    assert bad.status_code == 422 and "published" in bad.get_data(as_text=True)

    assert (
        coordinator.post(publish, data={"csrf_token": token, "published": "0"}).status_code == 302
    )
    for url in (sheet, f"{sheet}.gpx", f"{sheet}.geojson"):
        assert anonymous.get(url).status_code == 404, url
    assert coordinator.get(sheet).status_code == 200  # staff check it before publishing

    delete = f"{CIRCUITS}/{circuit_id}/suppression"
    assert coordinator.post(delete, data={"csrf_token": token}).status_code == 422
    assert len(circuits(app)) == 1
    done = coordinator.post(delete, data={"csrf_token": token, "confirm": "1"})
    assert done.status_code == 302 and circuits(app) == []


def test_police_and_planners_read_but_do_not_write(app, make_user, make_circuit):
    circuit_id = make_circuit()
    for role in ("police", "planner"):
        client = app.test_client()
        login(client, make_user(role, "rennes").email)
        assert client.get(f"{CIRCUITS}/{circuit_id}").status_code == 200
        assert "Publier" not in client.get(f"{CIRCUITS}/{circuit_id}").get_data(as_text=True)
        token = csrf_token(client, f"{CIRCUITS}/")
        response = client.post(
            f"{CIRCUITS}/{circuit_id}/publication", data={"csrf_token": token, "published": "1"}
        )
        assert response.status_code == 403
    assert not circuits(app)[0].published


# -- the public page, the sheet, the files ---------------------------------------------------


def test_gpx_parses_back_with_names_as_text(app, make_circuit):
    circuit_id = make_circuit(name=MARKUP_NAME, published=True)
    response = app.test_client().get(f"{PUBLIC}/{circuit_id}.gpx")
    assert response.status_code == 200
    assert response.mimetype == "application/gpx+xml"
    assert "attachment" in response.headers["Content-Disposition"]
    root = ET.fromstring(response.data)
    assert root.get("version") == "1.1"
    assert root.findtext("g:metadata/g:name", namespaces=NS) == MARKUP_NAME
    assert root.findtext("g:metadata/g:desc", namespaces=NS) == "Par la place <Zagreb> & le parc"
    names = [w.findtext("g:name", namespaces=NS) for w in root.findall("g:wpt", NS)]
    assert names == ["Métro <Blosne>", "Collège & gymnase"]
    track = root.findall("g:trk", NS)[0]
    points = [(float(p.get("lon")), float(p.get("lat"))) for p in track.iter(f"{{{NS['g']}}}trkpt")]
    assert points == [FROM, ASIDE, TO]
    assert b"<script>" not in response.data


def test_gdal_reads_the_gpx_and_geojson_downloads(app, make_circuit, tmp_path):
    """What a planner or a GPS tool does with the files: GDAL's own GPX and GeoJSON drivers."""
    import subprocess

    circuit_id = make_circuit(name=MARKUP_NAME, published=True)
    client = app.test_client()
    # Both paths, recommended and shortest: two tracks, two features.
    for suffix, layer, count in (("gpx", "tracks", 2), ("geojson", None, 2)):
        path = tmp_path / f"circuit.{suffix}"
        path.write_bytes(client.get(f"{PUBLIC}/{circuit_id}.{suffix}").data)
        args = ["ogrinfo", "-ro", "-so", str(path)] + ([layer] if layer else ["-al"])
        info = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
        assert f"Feature Count: {count}" in info, info
        assert "LineString" in info or "Line String" in info, info
    waypoints = subprocess.run(
        ["ogrinfo", "-ro", "-q", str(tmp_path / "circuit.gpx"), "waypoints"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "name (String) = Métro <Blosne>" in waypoints


def test_geojson_download_holds_both_paths_and_the_circuit(app, make_circuit):
    circuit_id = make_circuit(name=MARKUP_NAME, published=True)
    response = app.test_client().get(f"{PUBLIC}/{circuit_id}.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    document = json.loads(response.data)
    assert [f["id"] for f in document["features"]] == ["recommended", "shortest"]
    assert document["circuit"]["name"] == MARKUP_NAME
    assert document["features"][0]["properties"]["circuit"] == MARKUP_NAME


def test_print_sheet_for_signposting(app, make_circuit):
    circuit_id = make_circuit(name=MARKUP_NAME, published=True)
    response = app.test_client().get(f"{PUBLIC}/{circuit_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "size: A4" in app.test_client().get("/static/css/routes.css").get_data(as_text=True)
    assert re.search(r'<img class="sheet-map" alt="[^"]+" src="data:image/png;base64,', page)
    assert "<svg" in page  # the QR code to the page
    text = page_text(page)
    assert MARKUP_NAME in text
    assert "Métro <Blosne> → Collège & gymnase" in text
    assert "720 m, 10 min à pied" in text
    # The streets in walking order, then why: the stretch avoided.
    assert text.index("Boulevard de Yougoslavie") < text.index("Rue <i>d'Italie</i>")
    assert "Square de Nimègue (90 m)" in text
    assert "mis à jour le 30 novembre 2026" in text


def test_public_page_lists_published_circuits_as_text(app, make_circuit):
    make_circuit(name=MARKUP_NAME, published=True)
    make_circuit(name="Brouillon interne")
    response = app.test_client().get(f"{PUBLIC}/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Brouillon interne" not in page
    assert "<script>alert(1)" not in page and "<b>calme" not in page
    islands = re.findall(
        r'<script type="application/json" id="([\w-]+)">(.*?)</script>', page, re.S
    )
    data = {name: json.loads(body) for name, body in islands}
    lines = data["map-data"]["layers"]
    assert {layer["id"] for layer in lines} == {"recommended", "shortest", "ends"}
    titles = {f["properties"]["popup"]["title"] for f in lines[1]["features"]}
    assert titles == {MARKUP_NAME}
    assert data["rf-data"]["api"] == "/api/v1/territories/rennes/routes"
    # The place list: the circuit's labelled ends and the twelve quartiers.
    labels = re.findall(r'<option value="-?[\d.]+,-?[\d.]+">([^<]*)</option>', page)
    assert "Métro &lt;Blosne&gt;" in labels and "Collège &amp; gymnase" in labels
    assert sum(label.startswith("Quartier ") for label in labels) == 2 * 12


def test_unknown_territory_and_circuit_are_404(app, make_circuit, make_user):
    client = app.test_client()
    assert client.get("/t/nulle-part/itineraires/").status_code == 404
    assert client.get(f"{PUBLIC}/99999").status_code == 404
    login(client, make_user("admin").email)
    assert client.get(f"{CIRCUITS}/99999").status_code == 404


# -- recomputed with each release ------------------------------------------------------------------


def test_refresh_recomputes_every_circuit_with_the_latest_release(
    app, coordinator, rennes, make_workshop, close_workshop, make_circuit
):
    from app.analysis import release
    from app.routes.circuits import refresh_circuits

    coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator))
    workshop = make_workshop()
    for _ in range(5):
        body = pin_body(lon=ASIDE[0], lat=ASIDE[1])
        assert (
            coordinator.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code
            == 201
        )
    close_workshop(workshop["id"])
    stranded = make_circuit(name="Hors réseau")  # its ends now far from any street
    with app.app_context():
        db.session.get(Circuit, stranded).origin = "SRID=4326;POINT(2.3488 48.8534)"
        db.session.commit()
    before, kept = circuits(app)
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        assert refresh_circuits(territory) == (1, ["Hors réseau"])
        db.session.commit()
        made = release.latest(territory)
    after, still = circuits(app)
    assert after.computed_at > before.computed_at
    assert after.release_id == made.id
    assert still.result == kept.result and still.computed_at == kept.computed_at
    page = page_text(coordinator.get(f"{CIRCUITS}/{after.id}").get_data(as_text=True))
    assert "mis à jour le" in page


def test_closing_a_workshop_and_the_nightly_release_recompute_the_circuits(
    app, coordinator, rennes, make_workshop, runner
):
    """Both ways a release is made (the coordinator's closing button, and `flask release
    make` for what is due) bring the circuits up to that release."""
    from app.analysis import release

    coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator))
    workshop = make_workshop()
    for _ in range(5):
        body = pin_body(lon=ASIDE[0], lat=ASIDE[1])
        url = f"/api/v1/groups/{workshop['codes'][0]}/pins"
        assert coordinator.post(url, json=body).status_code == 201
    (before,) = circuits(app)
    token = csrf_token(coordinator, f"{CIRCUITS}/nouveau")
    closing = {"status": "closed", "confirm": "yes", "csrf_token": token}
    coordinator.post(f"/t/rennes/ateliers/{workshop['id']}/statut", data=closing)
    (closed,) = circuits(app)
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        made = release.latest(territory)
    assert made is not None and made.workshop_id == workshop["id"]
    assert closed.release_id == made.id and closed.computed_at > before.computed_at
    # A questionnaire's pins are released on a schedule: the command says what it redid.
    questionnaire = make_workshop(kind="questionnaire", groups=1)
    url = f"/api/v1/groups/{questionnaire['codes'][0]}/pins"
    assert coordinator.post(url, json=pin_body(lon=ASIDE[0], lat=ASIDE[1])).status_code == 201
    result = runner.invoke(args=["release", "make"])
    assert result.exit_code == 0, result.output
    assert "rennes: 1 circuits recomputed" in result.output
    (nightly,) = circuits(app)
    assert nightly.release_id > closed.release_id


def test_rebuilding_the_graph_recomputes_the_circuits_on_it(app, coordinator, rennes, runner):
    coordinator.post(f"{CIRCUITS}/nouveau", data=form(coordinator))
    (before,) = circuits(app)
    result = runner.invoke(args=["routes", "build", "--territory", "rennes"])
    assert result.exit_code == 0, result.output
    assert "1 circuit(s) recomputed." in result.output
    (after,) = circuits(app)
    assert after.computed_at > before.computed_at
    with app.app_context():  # the path walks edges of the new graph, which exist
        edges = db.session.scalar(sa.text("SELECT count(*) FROM route_edge"))
    assert edges and after.result["features"][0]["geometry"]["coordinates"]


def test_the_routes_page_states_the_weights_it_routes_with(app, client, rennes):
    page = page_text(client.get("/t/rennes/itineraires/").get_data(as_text=True))
    assert "compte pour 3 fois sa longueur (α = 2" in page and "30 % plus courte (β = 0,3)" in page
    app.config.update(ROUTE_ALPHA=0.5, ROUTE_BETA=0.2)
    page = page_text(client.get("/t/rennes/itineraires/?lang=en").get_data(as_text=True))
    assert "counts as 1.5 times its length (α = 0.5" in page and "20 % shorter (β = 0.2)" in page


def test_a_circuit_the_costs_refuse_does_not_stop_a_release(app, make_circuit, monkeypatch):
    """Closing a workshop recomputes circuits: a planner failure inside geo/ (a
    RoutingError) is the circuit's, kept as it was, never the release's."""
    from app.routes import circuits as module
    from app.routes.circuits import refresh_circuits
    from geo.routing import RoutingError

    def refuse(*args, **kwargs):
        raise RoutingError("no density grid for this territory", "time_of_day")

    circuit_id = make_circuit(name="Sans coûts")
    monkeypatch.setattr(module, "plan_route", refuse)
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        assert refresh_circuits(territory) == (0, ["Sans coûts"])
        assert db.session.get(Circuit, circuit_id).result["features"]
