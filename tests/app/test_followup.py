"""The follow-up: actions with zones and timelines, the CLSPD board, the public quartier
page, before/after, the workshop synthesis (PDF), themes and the actions export."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box, mapping

from app.extensions import db
from app.models import Action, ActionUpdate, AuditEvent, Pin, Proposal, Theme, Workshop
from tests.conftest import BLOSNE, csrf_token, login, pin_body

BOARD = "/t/rennes/suivi"
AROUND_BLOSNE = box(BLOSNE[0] - 0.002, BLOSNE[1] - 0.002, BLOSNE[0] + 0.002, BLOSNE[1] + 0.002)


@pytest.fixture
def coordinator(client, make_user, rennes):
    login(client, make_user("coordinator", "rennes").email)
    return client


@pytest.fixture
def workshop(app, client, make_workshop):
    """A workshop with a table's diagnostic (two proposals) and six pins in Le Blosne."""
    made = make_workshop()
    code = made["codes"][0]
    for n in range(6):
        body = pin_body(comment="secret" if n else None)
        if n == 5:
            body.update(feeling="safe", category="good_lighting")
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    client.put(
        f"/api/v1/groups/{code}/diagnostic",
        json={"troubles": "Rodéos", "proposals": ["Éclairer le passage", "Médiateurs le soir"]},
    )
    with app.app_context():
        made["proposal_ids"] = list(
            db.session.scalars(sa.select(Proposal.id).order_by(Proposal.id))
        )
    return made


def form(client, path: str, **fields) -> dict:
    return {"csrf_token": csrf_token(client, path), **fields}


def create(client, **fields):
    path = f"{BOARD}/actions/nouvelle"
    data = form(client, path, **{"title": "Éclairer le passage", "status": "proposed", **fields})
    return client.post(path, data=data)


def action_id(response) -> int:
    return int(re.search(r"/actions/(\d+)$", response.headers["Location"]).group(1))


def test_action_from_a_proposal_with_a_drawn_zone(app, coordinator, workshop):
    proposal = workshop["proposal_ids"][0]
    page = coordinator.get(f"{BOARD}/actions/nouvelle?proposal={proposal}").get_data(as_text=True)
    assert 'value="Éclairer le passage"' in page  # filled from the proposal
    response = create(
        coordinator,
        description="Deux candélabres",
        partners=["services_techniques", "bailleur"],
        due_on="2027-03-01",
        public="1",
        zone_kind="drawn",
        zone_geojson=json.dumps(mapping(AROUND_BLOSNE)),
        proposals=[str(proposal)],
        workshops=[str(workshop["id"])],
    )
    assert response.status_code == 302
    with app.app_context():
        action = db.session.get(Action, action_id(response))
        assert action.partners == ["bailleur", "services_techniques"]  # in the list's order
        assert action.zone_kind == "drawn" and action.public
        assert [p.id for p in action.proposals] == [proposal]
        assert [(u.status_to, u.author_name) for u in action.updates] == [
            ("proposed", "Coordinator rennes")
        ]
    shown = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deux candélabres" in shown and "Le Blosne" in shown


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"due_on": "31/12/2026"}, "due_on"),
        ({"partners": ["gendarmerie"]}, "partners"),
        ({"status": "finie"}, "status"),
        ({"theme": "999"}, "theme"),
        ({"zone_kind": "drawn", "zone_geojson": "{not json"}, "zone_geojson"),
        (
            {"zone_kind": "drawn", "zone_geojson": json.dumps(mapping(box(2.3, 48.8, 2.4, 48.9)))},
            "zone_geojson",
        ),
        ({"zone_kind": "quartiers", "zone_quartiers": ["Q.99"]}, "zone_quartiers"),
        ({"zone_kind": "hotspots", "zone_cells": ["1:1"]}, "zone_cells"),
        ({"zone_kind": "circle"}, "zone_kind"),
        ({"proposals": ["999"]}, "proposals"),
        ({"workshops": ["999"]}, "workshops"),
    ],
)
def test_bad_action_forms_name_the_field_and_write_nothing(app, coordinator, rennes, fields, field):
    path = f"{BOARD}/actions/nouvelle"
    data = form(coordinator, path, title="Une action", status="proposed")
    data.update(fields)
    response = coordinator.post(path, data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Action)) == 0


def test_status_changes_go_to_the_timeline(app, coordinator, workshop):
    response = create(coordinator, zone_kind="quartiers", zone_quartiers=["Q.11"], public="1")
    url = response.headers["Location"]
    update = f"{url}/suivi"
    coordinator.post(
        update, data=form(coordinator, url, text="Devis signé", status="engaged", public="1")
    )
    coordinator.post(update, data=form(coordinator, url, text="Note interne", status="engaged"))
    coordinator.post(update, data=form(coordinator, url, text="Posés", status="done", public="1"))
    empty = coordinator.post(update, data=form(coordinator, url, text="", status="done"))
    assert empty.status_code == 422
    with app.app_context():
        action = db.session.get(Action, action_id(response))
        assert action.status == "done"
        assert [(u.status_from, u.status_to, u.text, u.public) for u in action.updates] == [
            (None, "proposed", "Action créée.", True),
            ("proposed", "engaged", "Devis signé", True),
            (None, None, "Note interne", False),
            ("engaged", "done", "Posés", True),
        ]
    edit = f"{url}/modifier"
    data = form(coordinator, edit, title="Éclairer le passage", status="abandoned")
    assert coordinator.post(edit, data=data).status_code == 302
    with app.app_context():
        last = db.session.scalars(sa.select(ActionUpdate).order_by(ActionUpdate.id.desc())).first()
        assert (last.status_from, last.status_to) == ("done", "abandoned")


def test_board_counts_filters_and_csv(app, coordinator, workshop):
    late = (date.today() - timedelta(days=3)).isoformat()
    create(
        coordinator,
        partners=["mediation"],
        due_on=late,
        zone_kind="quartiers",
        zone_quartiers=["Q.11"],
    )
    create(coordinator, title="=HYPERLINK(1)", status="done", partners=["bailleur"])
    page = coordinator.get(f"{BOARD}/").get_data(as_text=True)
    assert 'data-status="proposed">1<' in page and 'data-status="done">1<' in page
    assert 'data-status="overdue">1<' in page

    def titles(query: str) -> list[str]:
        text = coordinator.get(f"{BOARD}/actions.csv?{query}").get_data(as_text=True)
        return [row["titre"] for row in csv.DictReader(io.StringIO(text))]

    assert titles("") == ["Éclairer le passage", "'=HYPERLINK(1)"]  # formula defused
    assert titles("partner=mediation") == ["Éclairer le passage"]
    assert titles("status=done") == ["'=HYPERLINK(1)"]
    assert titles("quartier=Q.11") == ["Éclairer le passage"]
    assert titles("quartier=Q.1") == []
    assert titles("overdue=1") == ["Éclairer le passage"]
    assert coordinator.get(f"{BOARD}/?status=late").status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.target == "actions.csv"))
            == 6
        )


def test_zone_from_hot_spot_cells(app, client, make_workshop, make_user):
    code = make_workshop(quartiers=("Q.11", "Q.12", "Q.8"))["codes"][0]
    for _ in range(25):  # one crowded cell among thousands of empty ones
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    login(client, make_user("coordinator", "rennes").email)
    page = client.get(f"{BOARD}/actions/nouvelle").get_data(as_text=True)
    cells = re.findall(r'<option value="(-?\d+:-?\d+)"', page)
    assert cells, "no hot cell offered"
    # Named as people name places: street (quartier), how many points, z; not "q:r".
    labels = re.findall(r'<option value="-?\d+:-?\d+"[^>]*>([^<]+)</option>', page)
    assert len(labels) == len(cells)
    assert all(re.fullmatch(r"[^()]+ \([^()]+\), \d+ points, z = [\d.]+", x) for x in labels)
    assert any("25 points" in x and "(Le Blosne)" in x for x in labels)  # the crowded cell
    assert "Cellule" not in page
    response = create(client, zone_kind="hotspots", zone_cells=cells)  # ties: take them all
    assert response.status_code == 302
    with app.app_context():
        inside = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Pin)
            .join(Action, sa.func.ST_Intersects(Action.zone, Pin.geom))
        )
        assert inside == 25


def test_proposals_get_a_theme_and_keep_it_when_the_table_saves_again(
    app, client, coordinator, workshop
):
    proposal = workshop["proposal_ids"][1]
    with app.app_context():
        theme = db.session.scalar(sa.select(Theme.id).where(Theme.code == "aller_vers"))
    page = f"/t/rennes/ateliers/{workshop['id']}/diagnostics"
    assert "Créer une action" in coordinator.get(page).get_data(as_text=True)
    url = f"{BOARD}/propositions/{proposal}"
    assert coordinator.post(url, data=form(coordinator, page, theme=str(theme))).status_code == 302
    code = workshop["codes"][0]
    client.put(
        f"/api/v1/groups/{code}/diagnostic",
        json={
            "troubles": "Rodéos",
            "proposals": ["Éclairer le passage", "Médiateurs le soir", "Un banc"],
        },
    )
    with app.app_context():
        themed = db.session.get(Proposal, proposal)
        assert themed is not None and themed.theme_id == theme
    assert coordinator.post(url, data=form(coordinator, page, theme="abc")).status_code == 422


def test_public_quartier_page_shows_public_actions_and_no_raw_data(
    app, client, coordinator, workshop, close_workshop
):
    from tests.helpers import page_text

    public = create(coordinator, public="1", zone_kind="quartiers", zone_quartiers=["Q.11"])
    url = public.headers["Location"]
    assert (
        coordinator.post(
            f"{url}/suivi",
            data=form(coordinator, url, text="Devis signé", status="engaged", public="1"),
        ).status_code
        == 302
    )
    internal = form(coordinator, url, text="Réunion avec le bailleur X")
    assert coordinator.post(f"{url}/suivi", data=internal).status_code == 302
    create(coordinator, title="Action interne", zone_kind="quartiers", zone_quartiers=["Q.11"])
    anonymous = app.test_client()
    page = anonymous.get("/t/rennes/q/Q.11").get_data(as_text=True)
    assert "Éclairer le passage" in page and "engagée" in page and "Devis signé" in page
    assert "Action interne" not in page and "Réunion avec le bailleur X" not in page
    assert "secret" not in page  # no comment text
    assert "Coordinator" not in page  # no author names
    assert "Pas encore assez de réponses" in page  # open: not released yet
    assert f"[{BLOSNE[0]}, {BLOSNE[1]}]" not in page and '"lon"' not in page  # no raw point
    close_workshop(workshop["id"])
    page = anonymous.get("/t/rennes/q/Q.11").get_data(as_text=True)
    said = page_text(page).split("Vous nous avez dit…")[1].split("Nous avons fait…")[0]
    assert "publication du" in said and "secret" not in page
    # Six pins: the noisy totals rarely pass their threshold (3 noise deviations).
    counted = r"(\d+|moins de 3)"
    assert "Pas encore assez de réponses" in said or re.search(
        f"en insécurité : {counted} ; en sécurité : {counted}\\.", said
    )
    stated = re.findall(r"\((\d+)\)|: (\d+)", said)
    assert all(int(n) >= 3 for group in stated for n in group if n)  # noisy, never under k


def test_before_and_after_the_action_in_its_zone(app, client, coordinator, workshop, make_workshop):
    later = make_workshop(title="Atelier 2027")
    with app.app_context():
        db.session.get(Workshop, later["id"]).held_on = date.today() + timedelta(days=400)
        db.session.get(Workshop, workshop["id"]).held_on = date.today() - timedelta(days=30)
        db.session.commit()
    body = pin_body(feeling="safe", category="good_lighting")
    assert client.post(f"/api/v1/groups/{later['codes'][0]}/pins", json=body).status_code == 201
    response = create(
        coordinator, zone_kind="drawn", zone_geojson=json.dumps(mapping(AROUND_BLOSNE))
    )
    url = response.headers["Location"]
    coordinator.post(f"{url}/suivi", data=form(coordinator, url, text="Fait", status="done"))
    from app.followup.actions import before_after

    with app.app_context():
        result = before_after(db.session.get(Action, action_id(response)))
    assert [(r["title"], r["unsafe"], r["safe"]) for r in result["before"]] == [("Atelier", 5, 1)]
    assert [(r["title"], r["unsafe"], r["safe"]) for r in result["after"]] == [
        ("Atelier 2027", 0, 1)
    ]
    assert result["before"][0]["unsafe_share"] == pytest.approx(5 / 6)
    assert 0.1 < result["area_km2"] < 0.3  # 0.004° × 0.004° at 48° N ≈ 0.13 km²
    page = coordinator.get(url).get_data(as_text=True)
    assert "Atelier 2027" in page and "Ateliers avant l’action" in page


def test_synthesis_pdf_renders_with_its_map(app, coordinator, workshop, tmp_path):
    create(coordinator, workshops=[str(workshop["id"])])
    html = coordinator.get(f"/t/rennes/ateliers/{workshop['id']}/synthese")
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and "Éclairage" in text and "Médiateurs le soir" in text
    assert 'src="data:image/png;base64,' in text
    response = coordinator.get(f"/t/rennes/ateliers/{workshop['id']}/synthese.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "synthese.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    assert (tmp_path / "p-1.png").stat().st_size > 5000
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    )
    rows = [line.split() for line in images.stdout.splitlines()[2:]]
    assert any(row[2] == "image" and int(row[3]) >= 1000 for row in rows), images.stdout


def test_actions_export_public_for_all_every_action_for_staff(app, client, coordinator, workshop):
    create(coordinator, public="1", zone_kind="quartiers", zone_quartiers=["Q.11"])
    create(coordinator, title="Interne")
    staff = coordinator.get("/api/v1/territories/rennes/actions.geojson").get_json()
    assert [f["properties"]["title"] for f in staff["features"]] == [
        "Éclairer le passage",
        "Interne",
    ]
    assert staff["features"][1]["geometry"] is None
    anonymous = app.test_client().get("/api/v1/territories/rennes/actions.csv")
    rows = list(csv.DictReader(io.StringIO(anonymous.get_data(as_text=True))))
    assert [r["title"] for r in rows] == ["Éclairer le passage"]
    assert rows[0]["wkt"].startswith("MULTIPOLYGON") and rows[0]["status_label"] == "proposée"


def test_themes_are_seeded_and_editable(app, client, make_user):
    login(client, make_user("admin").email)
    page = client.get("/admin/themes").get_data(as_text=True)
    for label in ("Aller-vers", "Peines alternatives et sanctions éducatives", "Place de l'animal"):
        assert label in page or label.replace("'", "&#39;") in page
    data = form(
        client,
        "/admin/themes",
        code="night_life",
        label_fr="Vie nocturne",
        label_en="Night life",
        position="9",
        active="y",
    )
    assert client.post("/admin/themes", data=data).status_code == 302
    with app.app_context():
        theme = db.session.scalar(sa.select(Theme).where(Theme.code == "night_life"))
    edit = f"/admin/themes/{theme.id}"
    data = form(client, edit, code="night_life", label_fr="Nuit", label_en="Night", position="9")
    assert client.post(edit, data=data).status_code == 302
    with app.app_context():
        theme = db.session.get(Theme, theme.id)
        assert (theme.label_fr, theme.active) == ("Nuit", False)


def test_edits_keep_the_zone_and_a_withdrawn_theme(app, coordinator, workshop):
    with app.app_context():
        theme = db.session.scalar(sa.select(Theme).where(Theme.code == "awareness"))
        theme_id = theme.id
    response = create(
        coordinator, theme=str(theme_id), zone_kind="quartiers", zone_quartiers=["Q.11"]
    )
    url = response.headers["Location"]
    with app.app_context():
        db.session.get(Theme, theme_id).active = False
        zone = db.session.scalar(sa.select(sa.func.ST_AsText(Action.zone)))
        db.session.commit()
    edit = f"{url}/modifier"
    page = coordinator.get(edit).get_data(as_text=True)
    assert 'value="keep" checked' in page
    data = form(
        coordinator,
        edit,
        title="Renommée",
        status="proposed",
        theme=str(theme_id),
        zone_kind="keep",
    )
    assert coordinator.post(edit, data=data).status_code == 302
    with app.app_context():
        action = db.session.get(Action, action_id(response))
        assert action.title == "Renommée" and action.theme_id == theme_id
        assert db.session.scalar(sa.select(sa.func.ST_AsText(Action.zone))) == zone


def test_drawn_zones_with_heights_or_absurd_nesting(app, coordinator, workshop):
    west, south, east, north = AROUND_BLOSNE.bounds
    ring = [[west, south, 30], [east, south, 30], [east, north, 31], [west, south, 30]]
    response = create(
        coordinator,
        zone_kind="drawn",
        zone_geojson=json.dumps({"type": "Polygon", "coordinates": [ring]}),
    )
    assert response.status_code == 302  # heights dropped
    nested = "[" * 50_000 + "]" * 50_000
    response = create(coordinator, title="Autre", zone_kind="drawn", zone_geojson=nested)
    assert response.status_code == 422


def test_timeline_notes_of_internal_actions_start_unticked(coordinator, workshop):
    url = create(coordinator).headers["Location"]
    page = coordinator.get(url).get_data(as_text=True)
    assert 'name="public" value="1" >' in page or 'name="public" value="1">' in page


def test_synthesis_without_quartiers_says_so(app, coordinator):
    from app.models import Territory, WorkshopGroup

    with app.app_context():
        rennes = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        workshop = Workshop(
            territory=rennes,
            kind="atelier",
            title="Sans quartier",
            status="closed",
            held_on=date(2026, 1, 5),
        )
        workshop.groups = [WorkshopGroup(territory_id=rennes.id, name="T1", join_code="ABCDEFGHJ")]
        db.session.add(workshop)
        db.session.flush()
        for quartier in rennes.quartiers:
            db.session.delete(quartier)
        db.session.commit()
        workshop_id = workshop.id
    page = coordinator.get(f"/t/rennes/ateliers/{workshop_id}/synthese")
    assert page.status_code == 200 and "Pas de carte" in page.get_data(as_text=True)
    assert coordinator.get(f"/t/rennes/ateliers/{workshop_id}/synthese.pdf").status_code == 200
