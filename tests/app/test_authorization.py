"""Every route × every kind of visitor → the expected HTTP status (DESIGN §6).

A route missing from MATRIX fails ``test_every_route_is_in_the_matrix``: add it here,
with what each visitor must get, when you add it to the app.
"""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login, pin_body

# Admin last: its requests change things (passwords, tokens) the others rely on.
PRINCIPALS = (
    "anonymous",
    "resident",
    "coordinator",
    "police",
    "planner",
    "other_territory",
    "planner_token",
    "admin",
)
SIGNED_IN = PRINCIPALS[2:]
VISITORS = ("anonymous", "resident")


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PRINCIPALS, status)


def signed_in(status: int, anonymous: int) -> dict[str, int]:
    return {**dict.fromkeys(SIGNED_IN, status), **dict.fromkeys(VISITORS, anonymous)}


def admin_only(status: int) -> dict[str, int]:
    return {**dict.fromkeys(SIGNED_IN, 403), **dict.fromkeys(VISITORS, 302), "admin": status}


def territory_readers(status: int) -> dict[str, int]:
    """Coordinators, police, planners (token too) of Rennes, and admins."""
    return {**signed_in(status, anonymous=302), "other_territory": 403}


def territory_exports(status: int) -> dict[str, int]:
    """Staff of Rennes (session or token); the API answers 401 to visitors."""
    return {**territory_readers(status), **dict.fromkeys(VISITORS, 401)}


def territory_writers(status: int) -> dict[str, int]:
    """Coordinators of Rennes and admins."""
    readers = territory_readers(status)
    return {**readers, "police": 403, "planner": 403, "planner_token": 403}


# (method, rule) -> (URL with {placeholders}, expected status per principal)
MATRIX: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    ("GET", "/static/<path:filename>"): ("/static/css/app.css", everyone(200)),
    ("GET", "/healthz"): ("/healthz", everyone(200)),
    ("GET", "/"): ("/", everyone(200)),
    ("GET", "/t/<slug>"): ("/t/rennes", everyone(200)),
    ("GET", "/t/<slug>/q/<code>"): ("/t/rennes/q/Q.11", everyone(200)),
    ("GET", "/api/v1/territories/<slug>/streets.geojson"): (
        "/api/v1/territories/rennes/streets.geojson",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/routes"): (  # public routes; full=1 is staff's
        "/api/v1/territories/rennes/routes?from=-1.69,48.087&to=-1.65,48.096",
        everyone(200),
    ),
    ("GET", "/lang/<code>"): ("/lang/en", everyone(302)),
    ("GET", "/connexion"): ("/connexion", everyone(200)),
    ("POST", "/connexion"): ("/connexion", everyone(400)),  # empty form
    ("POST", "/deconnexion"): ("/deconnexion", signed_in(302, anonymous=302)),
    ("GET", "/confidentialite"): ("/confidentialite", everyone(200)),
    ("GET", "/api/v1/me"): ("/api/v1/me", signed_in(200, anonymous=401)),
    ("GET", "/admin/"): ("/admin/", admin_only(302)),
    ("GET", "/admin/utilisateurs"): ("/admin/utilisateurs", admin_only(200)),
    ("POST", "/admin/utilisateurs"): ("/admin/utilisateurs", admin_only(422)),
    ("GET", "/admin/utilisateurs/<int:user_id>"): (
        "/admin/utilisateurs/{police_id}",
        admin_only(200),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>"): (
        "/admin/utilisateurs/{police_id}",
        admin_only(422),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>/mot-de-passe"): (
        "/admin/utilisateurs/{police_id}/mot-de-passe",
        admin_only(200),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>/jetons/<int:token_id>/revoquer"): (
        "/admin/utilisateurs/{planner_id}/jetons/{token_id}/revoquer",
        admin_only(302),
    ),
    ("GET", "/admin/journal"): ("/admin/journal", admin_only(200)),
    ("GET", "/admin/journal.csv"): ("/admin/journal.csv", admin_only(200)),
    # Residents: the join code in the URL is the credential, whoever holds it.
    ("GET", "/j/<code>"): ("/j/{code}", everyone(200)),
    ("GET", "/j"): ("/j", everyone(200)),
    ("POST", "/j"): ("/j", everyone(422)),  # no code typed
    ("GET", "/api/v1/groups/<code>/pins"): ("/api/v1/groups/{code}/pins", everyone(200)),
    ("POST", "/api/v1/groups/<code>/pins"): ("/api/v1/groups/{code}/pins", everyone(422)),
    ("PATCH", "/api/v1/groups/<code>/pins/<pin_id>"): (
        "/api/v1/groups/{code}/pins/{pin_id}",
        everyone(422),
    ),
    ("DELETE", "/api/v1/groups/<code>/pins/<pin_id>"): (
        "/api/v1/groups/{code}/pins/{other_pin_id}",
        everyone(204),
    ),
    ("GET", "/api/v1/groups/<code>/streets.geojson"): (
        "/api/v1/groups/{code}/streets.geojson",
        everyone(200),
    ),
    ("GET", "/api/v1/groups/<code>/diagnostic"): (
        "/api/v1/groups/{code}/diagnostic",
        everyone(200),
    ),
    ("PUT", "/api/v1/groups/<code>/diagnostic"): (
        "/api/v1/groups/{code}/diagnostic",
        everyone(200),
    ),
    ("GET", "/j/<code>/diagnostic"): ("/j/{code}/diagnostic", everyone(200)),
    # The resident page's offline pieces: public, like the page.
    ("GET", "/j/<code>/manifest.webmanifest"): ("/j/{code}/manifest.webmanifest", everyone(200)),
    ("GET", "/sw.js"): ("/sw.js", everyone(200)),
    ("POST", "/j/<code>/diagnostic"): ("/j/{code}/diagnostic", everyone(302)),
    # Questionnaires (issue 18): coordinators write, staff of the territory read; the
    # free text only to coordinators and police.
    ("GET", "/t/<slug>/questionnaires/"): ("/t/rennes/questionnaires/", territory_readers(200)),
    ("GET", "/t/<slug>/questionnaires/nouveau"): (
        "/t/rennes/questionnaires/nouveau",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/questionnaires/nouveau"): (
        "/t/rennes/questionnaires/nouveau",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/questionnaires/<int:survey_id>"): (
        "/t/rennes/questionnaires/{questionnaire_id}",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/questionnaires/<int:survey_id>/modifier"): (
        "/t/rennes/questionnaires/{questionnaire_id}/modifier",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/questionnaires/<int:survey_id>/modifier"): (
        "/t/rennes/questionnaires/{questionnaire_id}/modifier",
        territory_writers(302),  # fields not sent keep their values
    ),
    ("GET", "/t/<slug>/questionnaires/<int:survey_id>/affiche"): (
        "/t/rennes/questionnaires/{questionnaire_id}/affiche",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/questionnaires/<int:survey_id>/textes"): (
        "/t/rennes/questionnaires/{questionnaire_id}/textes",
        {**territory_readers(200), "planner": 403, "planner_token": 403},
    ),
    ("POST", "/t/<slug>/questionnaires/<int:survey_id>/textes/<int:text_id>"): (
        "/t/rennes/questionnaires/{questionnaire_id}/textes/{text_id}",
        territory_writers(422),  # no decision
    ),
    ("GET", "/t/<slug>/questionnaires/jeux"): (
        "/t/rennes/questionnaires/jeux",
        territory_readers(200),
    ),
    ("POST", "/t/<slug>/questionnaires/jeux"): (
        "/t/rennes/questionnaires/jeux",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/questionnaires/jeux/<int:set_id>"): (
        "/t/rennes/questionnaires/jeux/{set_id}",
        territory_readers(200),
    ),
    ("POST", "/t/<slug>/questionnaires/jeux/<int:set_id>/titre"): (
        "/t/rennes/questionnaires/jeux/{set_id}/titre",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/questionnaires/jeux/<int:set_id>/questions"): (
        "/t/rennes/questionnaires/jeux/{set_id}/questions",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/questionnaires/jeux/<int:set_id>/questions/<key>"): (
        "/t/rennes/questionnaires/jeux/{set_id}/questions/feeling_day",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/questionnaires/jeux/<int:set_id>/questions/<key>"): (
        "/t/rennes/questionnaires/jeux/{set_id}/questions/feeling_day",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/questionnaires/jeux/<int:set_id>/questions/<key>/supprimer"): (
        "/t/rennes/questionnaires/jeux/{set_id}/questions/nope/supprimer",
        territory_writers(404),  # an unknown key: the allowed write removes nothing
    ),
    ("POST", "/t/<slug>/questionnaires/jeux/<int:set_id>/questions/<key>/deplacer"): (
        "/t/rennes/questionnaires/jeux/{set_id}/questions/feeling_day/deplacer",
        territory_writers(302),
    ),
    # Respondents: the questionnaire's code in the URL, no account.
    ("GET", "/s/<code>"): ("/s/{survey_code}", everyone(200)),
    ("GET", "/api/v1/territories/<slug>/surveys"): (
        "/api/v1/territories/rennes/surveys",
        everyone(200),
    ),
    ("GET", "/api/v1/surveys/<code>"): ("/api/v1/surveys/{survey_code}", everyone(200)),
    ("PUT", "/api/v1/surveys/<code>/responses/<response_id>"): (
        "/api/v1/surveys/{survey_code}/responses/{response_id}",
        everyone(422),  # no answer to the required questions
    ),
    ("GET", "/admin/categories"): ("/admin/categories", admin_only(200)),
    ("POST", "/admin/categories"): ("/admin/categories", admin_only(422)),
    ("GET", "/admin/categories/<int:category_id>"): ("/admin/categories/1", admin_only(200)),
    ("POST", "/admin/categories/<int:category_id>"): ("/admin/categories/1", admin_only(422)),
    # Aggregated layers: public (k-suppressed); staff may add full=1 (tested apart).
    ("GET", "/api/v1/territories/<slug>/layers/hexagons"): (
        "/api/v1/territories/rennes/layers/hexagons",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/layers/net"): (
        "/api/v1/territories/rennes/layers/net",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/layers/difference"): (
        "/api/v1/territories/rennes/layers/difference?a={workshop_id}&b={workshop_id}",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/layers/density"): (
        "/api/v1/territories/rennes/layers/density",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/layers/density.png"): (
        "/api/v1/territories/rennes/layers/density.png",
        everyone(200),
    ),
    # No pin in the matrix's database: every reader gets the JSON 404 (no density).
    ("GET", "/api/v1/territories/<slug>/layers/density.tif"): (
        "/api/v1/territories/rennes/layers/density.tif",
        everyone(404),
    ),
    ("GET", "/api/v1/territories/<slug>/layers/hotspots"): (
        "/api/v1/territories/rennes/layers/hotspots",
        everyone(200),
    ),
    # Trends follow exact counts: the territory's staff only (the API refuses others).
    ("GET", "/api/v1/territories/<slug>/layers/trends"): (
        "/api/v1/territories/rennes/layers/trends?full=1",
        {**territory_readers(200), **dict.fromkeys(VISITORS, 403)},
    ),
    # The patrol brief quotes comments: police, coordinators, admins (not planners).
    ("GET", "/t/<slug>/consignes/"): (
        "/t/rennes/consignes/",
        {**territory_readers(200), "planner": 403, "planner_token": 403},
    ),
    ("GET", "/t/<slug>/consignes/fiche.pdf"): (
        "/t/rennes/consignes/fiche.pdf",
        {**territory_readers(200), "planner": 403, "planner_token": 403},
    ),
    ("GET", "/t/<slug>/tableau-de-bord/"): ("/t/rennes/tableau-de-bord/", territory_readers(200)),
    ("GET", "/t/<slug>/tableau-de-bord/points.json"): (
        "/t/rennes/tableau-de-bord/points.json",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/tableau-de-bord/carte.png"): (
        "/t/rennes/tableau-de-bord/carte.png?layers=hexagons",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/tableau-de-bord/carte.pdf"): (
        "/t/rennes/tableau-de-bord/carte.pdf?layers=",
        territory_readers(200),
    ),
    ("GET", "/api/v1/openapi.json"): ("/api/v1/openapi.json", everyone(200)),
    ("GET", "/ogc/api"): ("/ogc/api", everyone(200)),
    # Aggregated exports: k-suppressed for all, like the layers (full=1 tested apart).
    (
        "GET",
        "/api/v1/territories/<slug>/<any(hexagons, hotspots, quartiers, actions):layer>"
        ".<any(geojson, csv, gpkg):fmt>",
    ): (
        "/api/v1/territories/rennes/hexagons.csv",
        everyone(200),
    ),
    # OGC API: public collections for all (tested apart); the points for the staff.
    ("GET", "/ogc"): ("/ogc", everyone(200)),
    ("GET", "/ogc/"): ("/ogc/", everyone(200)),
    ("GET", "/ogc/conformance"): ("/ogc/conformance", everyone(200)),
    ("GET", "/ogc/collections"): ("/ogc/collections", everyone(200)),
    ("GET", "/ogc/collections/<collection_id>"): (
        "/ogc/collections/rennes-points",
        territory_exports(200),
    ),
    ("GET", "/ogc/collections/<collection_id>/queryables"): (
        "/ogc/collections/rennes-points/queryables",
        territory_exports(200),
    ),
    ("GET", "/ogc/collections/<collection_id>/items"): (
        "/ogc/collections/rennes-points/items",
        territory_exports(200),
    ),
    ("GET", "/ogc/collections/<collection_id>/items/<feature_id>"): (
        "/ogc/collections/rennes-points/items/{pin_id}",
        territory_exports(200),
    ),
    # OGC API - Tiles: the pins' tiles for the staff (public tilesets tested apart).
    ("GET", "/ogc/collections/<collection_id>/tiles"): (
        "/ogc/collections/rennes-points/tiles",
        territory_exports(200),
    ),
    ("GET", "/ogc/collections/<collection_id>/tiles/<tms>"): (
        "/ogc/collections/rennes-points/tiles/WebMercatorQuad",
        territory_exports(200),
    ),
    ("GET", "/ogc/collections/<collection_id>/tiles/<tms>/<z>/<y>/<x>"): (
        "/ogc/collections/rennes-points/tiles/WebMercatorQuad/15/11378/16232",
        territory_exports(200),
    ),
    ("GET", "/api/v1/territories/<slug>/pins.geojson"): (
        "/api/v1/territories/rennes/pins.geojson",
        territory_exports(200),
    ),
    ("GET", "/api/v1/territories/<slug>/pins.csv"): (
        "/api/v1/territories/rennes/pins.csv",
        territory_exports(200),
    ),
    ("GET", "/api/v1/territories/<slug>/pins.gpkg"): (
        "/api/v1/territories/rennes/pins.gpkg",
        territory_exports(200),
    ),
    # Workshops of Rennes.
    ("GET", "/t/<slug>/ateliers/"): ("/t/rennes/ateliers/", territory_readers(200)),
    ("GET", "/t/<slug>/ateliers/nouveau"): ("/t/rennes/ateliers/nouveau", territory_writers(200)),
    ("POST", "/t/<slug>/ateliers/nouveau"): ("/t/rennes/ateliers/nouveau", territory_writers(422)),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>"): (
        "/t/rennes/ateliers/{workshop_id}",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/modifier"): (
        "/t/rennes/ateliers/{workshop_id}/modifier",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/ateliers/<int:workshop_id>/modifier"): (
        "/t/rennes/ateliers/{workshop_id}/modifier",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/ateliers/<int:workshop_id>/statut"): (
        "/t/rennes/ateliers/{workshop_id}/statut",
        territory_writers(409),
    ),
    ("POST", "/t/<slug>/ateliers/<int:workshop_id>/groupes"): (
        "/t/rennes/ateliers/{workshop_id}/groupes",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/qr"): (
        "/t/rennes/ateliers/{workshop_id}/qr",
        territory_writers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/direct"): (
        "/t/rennes/ateliers/{workshop_id}/direct",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/direct.json"): (
        "/t/rennes/ateliers/{workshop_id}/direct.json",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/moderation"): (
        "/t/rennes/ateliers/{workshop_id}/moderation",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/ateliers/<int:workshop_id>/moderation/<pin_id>"): (
        "/t/rennes/ateliers/{workshop_id}/moderation/{pin_id}",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/diagnostics"): (
        "/t/rennes/ateliers/{workshop_id}/diagnostics",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/synthese"): (
        "/t/rennes/ateliers/{workshop_id}/synthese",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/ateliers/<int:workshop_id>/synthese.pdf"): (
        "/t/rennes/ateliers/{workshop_id}/synthese.pdf",
        territory_readers(200),
    ),
    # Follow-up: police and planners read, coordinators write (DESIGN §6).
    ("GET", "/t/<slug>/suivi/"): ("/t/rennes/suivi/", territory_readers(200)),
    ("GET", "/t/<slug>/suivi/actions.csv"): (
        "/t/rennes/suivi/actions.csv",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/suivi/actions/nouvelle"): (
        "/t/rennes/suivi/actions/nouvelle",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/suivi/actions/nouvelle"): (
        "/t/rennes/suivi/actions/nouvelle",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/suivi/actions/<int:action_id>"): (
        "/t/rennes/suivi/actions/{action_id}",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/suivi/actions/<int:action_id>/modifier"): (
        "/t/rennes/suivi/actions/{action_id}/modifier",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/suivi/actions/<int:action_id>/modifier"): (
        "/t/rennes/suivi/actions/{action_id}/modifier",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/suivi/actions/<int:action_id>/suivi"): (
        "/t/rennes/suivi/actions/{action_id}/suivi",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/suivi/propositions/<int:proposal_id>"): (
        "/t/rennes/suivi/propositions/{proposal_id}",
        territory_writers(302),
    ),
    # Circuits: police and planners read, coordinators write; the public page shows
    # published circuits only (the matrix's circuit is not published: its sheet and
    # files are for the territory's staff).
    ("GET", "/t/<slug>/circuits/"): ("/t/rennes/circuits/", territory_readers(200)),
    ("GET", "/t/<slug>/circuits/nouveau"): ("/t/rennes/circuits/nouveau", territory_writers(200)),
    ("POST", "/t/<slug>/circuits/nouveau"): (
        "/t/rennes/circuits/nouveau",
        territory_writers(422),
    ),
    ("GET", "/t/<slug>/circuits/<int:circuit_id>"): (
        "/t/rennes/circuits/{circuit_id}",
        territory_readers(200),
    ),
    ("GET", "/t/<slug>/circuits/<int:circuit_id>/modifier"): (
        "/t/rennes/circuits/{circuit_id}/modifier",
        territory_writers(200),
    ),
    ("POST", "/t/<slug>/circuits/<int:circuit_id>/modifier"): (
        "/t/rennes/circuits/{circuit_id}/modifier",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/circuits/<int:circuit_id>/publication"): (
        "/t/rennes/circuits/{circuit_id}/publication",
        territory_writers(422),
    ),
    ("POST", "/t/<slug>/circuits/<int:circuit_id>/suppression"): (
        "/t/rennes/circuits/{circuit_id}/suppression",
        territory_writers(422),  # not confirmed
    ),
    ("GET", "/t/<slug>/itineraires/"): ("/t/rennes/itineraires/", everyone(200)),
    ("GET", "/t/<slug>/itineraires/<int:circuit_id>"): (
        "/t/rennes/itineraires/{circuit_id}",
        {**territory_readers(200), **dict.fromkeys((*VISITORS, "other_territory"), 404)},
    ),
    ("GET", "/t/<slug>/itineraires/<int:circuit_id>.<any(gpx, geojson):fmt>"): (
        "/t/rennes/itineraires/{circuit_id}.gpx",
        {**territory_readers(200), **dict.fromkeys((*VISITORS, "other_territory"), 404)},
    ),
    ("GET", "/admin/themes"): ("/admin/themes", admin_only(200)),
    ("POST", "/admin/themes"): ("/admin/themes", admin_only(422)),
    ("GET", "/admin/themes/<int:theme_id>"): ("/admin/themes/1", admin_only(200)),
    # Fields absent from the form keep their values (WTForms with obj=): a valid edit.
    ("POST", "/admin/themes/<int:theme_id>"): ("/admin/themes/1", admin_only(302)),
    # Questionnaire results: public (the release) or exact for staff; responses: staff.
    ("GET", "/t/<slug>/questionnaires/<int:survey_id>/resultats"): (
        "/t/rennes/questionnaires/{survey_id}/resultats",
        everyone(200),
    ),
    ("GET", "/t/<slug>/questionnaires/comparer"): (
        "/t/rennes/questionnaires/comparer?a={survey_id}&b={survey_b_id}",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/surveys/<int:survey_id>/results"): (
        "/api/v1/territories/rennes/surveys/{survey_id}/results",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/surveys/compare"): (
        "/api/v1/territories/rennes/surveys/compare?a={survey_id}&b={survey_b_id}",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/surveys/<int:survey_id>/results.csv"): (
        "/api/v1/territories/rennes/surveys/{survey_id}/results.csv",
        everyone(200),
    ),
    ("GET", "/api/v1/territories/<slug>/surveys/<int:survey_id>/responses.csv"): (
        "/api/v1/territories/rennes/surveys/{survey_id}/responses.csv",
        territory_exports(200),
    ),
}


def test_every_route_is_in_the_matrix(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - set(MATRIX) == set(), "add these routes to MATRIX"
    assert set(MATRIX) - routes == set(), "these MATRIX entries match no route"


@pytest.fixture
def visitors(app, rennes, paris, runner, make_user, make_workshop):
    """A client per principal, signed in (or carrying a token) as that principal."""
    users = {
        "admin": make_user("admin"),
        "coordinator": make_user("coordinator", "rennes"),
        "police": make_user("police", "rennes"),
        "planner": make_user("planner", "rennes"),
        "other_territory": make_user("coordinator", "paris", email="coord-paris@example.org"),
    }
    clients = {"anonymous": app.test_client(), "resident": app.test_client()}
    for name, user in users.items():
        clients[name] = app.test_client()
        assert login(clients[name], user.email).status_code == 302
    token = runner.invoke(args=["users", "token", "create", users["planner"].email, "--name", "t"])
    clients["planner_token"] = app.test_client()
    clients["planner_token"].environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token.output.strip()}"
    from app.extensions import db
    from app.models import ApiToken

    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    workshop = make_workshop()
    code = workshop["codes"][0]
    pins = [pin_body(comment="Commentaire"), pin_body()]
    for pin in pins:
        assert clients["resident"].post(f"/api/v1/groups/{code}/pins", json=pin).status_code == 201
    clients["resident"].put(
        f"/api/v1/groups/{code}/diagnostic", json={"troubles": "", "proposals": ["Éclairer"]}
    )
    from app.models import Action, Circuit, Proposal

    with app.app_context():
        proposal_id = db.session.scalar(db.select(Proposal.id))
        action = Action(territory_id=1, title="Éclairer", status="proposed", partners=[])
        action.description, action.public = "", False
        db.session.add(action)
        db.session.commit()
        action_id = action.id
        circuit = Circuit(
            territory_id=1,
            name="Circuit",
            origin="SRID=4326;POINT(-1.6625 48.0865)",
            destination="SRID=4326;POINT(-1.657 48.085)",
            time_of_day="night",
            result={
                "type": "FeatureCollection",
                "meta": {},
                "features": [
                    {
                        "type": "Feature",
                        "id": kind,
                        "properties": {
                            "kind": kind,
                            "length_m": 400.0,
                            "minutes": 5.3,
                            "exposure": 0.0,
                            "detour_pct": 0.0,
                            "exposure_reduction_pct": 0.0,
                            "streets": [],
                            "avoided": [],
                        },
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[-1.6625, 48.0865], [-1.657, 48.085]],
                        },
                    }
                    for kind in ("recommended", "shortest")
                ],
            },  # fmt: skip
        )
        db.session.add(circuit)
        db.session.commit()
        circuit_id = circuit.id
    from datetime import date, timedelta

    from app.models import Territory
    from app.survey.demo import add_response, add_survey

    with app.app_context():
        rennes_territory = db.session.scalar(db.select(Territory).where(Territory.slug == "rennes"))
        editions = []
        for title in ("2025", "2026"):
            survey = add_survey(
                rennes_territory, title, date.today() - timedelta(days=3), date.today()
            )
            add_response(survey, {"feeling_night": "rather_safe"}, texts={"comment": "Texte"})
            editions.append(survey.id)
        db.session.commit()
    survey_ids = survey_rows(app)
    ids = {
        **survey_ids,
        "circuit_id": circuit_id,
        "action_id": action_id,
        "proposal_id": proposal_id,
        "police_id": users["police"].id,
        "planner_id": users["planner"].id,
        "token_id": token_id,
        "workshop_id": workshop["id"],
        "code": code,
        "pin_id": pins[0]["id"],
        "other_pin_id": pins[1]["id"],
        "survey_id": editions[0],
        "survey_b_id": editions[1],
    }
    return clients, ids


def survey_rows(app) -> dict:
    """An open questionnaire of Rennes on the standard set, with one text to moderate."""
    import uuid
    from datetime import timedelta

    from app.extensions import db
    from app.models import Question, SurveyResponse, SurveyText, Territory, utcnow
    from app.survey import questions, surveys
    from app.survey.seed import seed_standard_set

    with app.app_context():
        rennes = db.session.scalar(db.select(Territory).where(Territory.slug == "rennes"))
        today = utcnow().date()
        made = surveys.create(
            rennes, "Questionnaire", seed_standard_set(rennes), today - timedelta(days=2),
            today + timedelta(days=30),
        )  # fmt: skip
        response = SurveyResponse(
            id=uuid.uuid4(), survey_id=made.id, territory_id=rennes.id, answers={}
        )
        db.session.add(response)
        db.session.flush()
        text = SurveyText(
            response_id=response.id, survey_id=made.id, territory_id=rennes.id,
            question_key="comment", text="Texte",
        )  # fmt: skip
        db.session.add(text)
        # A set no questionnaire asked: moving a question changes it in place.
        free = questions.new_set(rennes, "Jeu libre")
        for position, key in enumerate(("feeling_day", "comment")):
            free.questions.append(Question(key=key, position=position, kind="text", label_fr=key))
        db.session.commit()
        return {
            "questionnaire_id": made.id,
            "survey_code": made.code,
            "set_id": free.id,
            "text_id": text.id,
            "response_id": str(uuid.uuid4()),
        }


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_principal_as_expected(visitors, route):
    clients, ids = visitors
    method, _rule = route
    url_template, expected = MATRIX[route]
    assert set(expected) == set(PRINCIPALS)
    url = url_template.format(**ids)
    got = {}
    for principal in PRINCIPALS:
        client = clients[principal]
        if method == "GET":
            got[principal] = client.get(url).status_code
        elif url.startswith("/api/"):
            got[principal] = client.open(url, method=method, json={"email": ""}).status_code
        else:
            # An incomplete form: a write that is allowed still fails validation.
            data = {"email": ""}
            if principal != "planner_token":
                data["csrf_token"] = csrf_token(client)
            got[principal] = client.open(url, method=method, data=data).status_code
    assert got == expected
