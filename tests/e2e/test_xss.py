"""Stored XSS: payloads in every user-text field, every page that shows them, in Chromium.

A page fails if a dialog opens, a payload's script runs, the browser reports a CSP
violation (markup got through escaping and only the CSP stopped it), or an element
of a payload exists in the DOM. To cover a new page, add one line to XSS_PAGES.
"""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box

from tests.conftest import login, pin_body
from tests.e2e.conftest import sign_in

PAYLOADS = [
    '<script>alert("xss");window.__xss=1</script>',
    '<img src=x id=xss-img onerror="alert(1);window.__xss=1">',
    '"><svg id=xss-svg onload="alert(1);window.__xss=1">',
    "';alert(1);window.__xss=1;//",
    "</script><script>alert(1);window.__xss=1</script>",
    '<b id=xss-b onmouseover="alert(1);window.__xss=1">{{7*7}}</b>',
    '<a id=xss-a href="javascript:alert(1)">lien</a>',
]

# (who is signed in, URL with {placeholders}) — one line per page that shows user text.
XSS_PAGES = [
    ("anonymous", "/"),
    ("anonymous", "/t/xss"),
    ("anonymous", "/t/xss/q/Q0"),
    ("admin", "/admin/utilisateurs"),
    ("admin", "/admin/utilisateurs/{victim_id}"),
    ("admin", "/admin/journal"),
    ("anonymous", "/j/{code}"),
    ("admin", "/t/rennes/ateliers/"),
    ("admin", "/t/rennes/ateliers/{workshop_id}"),
    ("admin", "/t/rennes/ateliers/{workshop_id}/moderation"),
    ("admin", "/t/rennes/ateliers/{workshop_id}/diagnostics"),
    ("admin", "/t/rennes/ateliers/{workshop_id}/direct"),
    ("admin", "/t/rennes/ateliers/{workshop_id}/qr"),
    ("anonymous", "/j/{code}/diagnostic"),
    ("admin", "/admin/categories"),
    ("admin", "/t/rennes/tableau-de-bord/"),
    ("anonymous", "/ogc/collections?f=html"),
    ("anonymous", "/ogc/collections/xss-quartiers/items?f=html"),
    ("admin", "/ogc/collections/rennes-points/items?f=html"),
    ("admin", "/t/rennes/suivi/"),
    ("admin", "/t/rennes/suivi/actions/{action_id}"),
    ("admin", "/t/rennes/suivi/actions/{action_id}/modifier"),
    ("admin", "/t/rennes/suivi/actions/nouvelle"),
    ("anonymous", "/t/rennes/q/Q.11"),
    ("admin", "/t/rennes/ateliers/{workshop_id}/synthese"),
    ("admin", "/admin/themes"),
]

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));
"""
INJECTED = "#xss-img, #xss-svg, #xss-b, #xss-a, img[src='x'], [onerror], [onload], [onmouseover]"


@pytest.fixture
def poisoned(app, runner, tmp_path, make_user, make_workshop):
    """Store a payload in every field that users or imported files can fill."""
    features = [
        {
            "type": "Feature",
            "properties": {"nom": payload, "code": f"Q{i}"},
            "geometry": box(-1.70 + i * 0.01, 48.10, -1.69 + i * 0.01, 48.11).__geo_interface__,
        }
        for i, payload in enumerate(PAYLOADS)
    ]
    path = tmp_path / "xss.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(
        args=[
            "quartiers",
            "import",
            str(path),
            "--territory",
            "xss",
            "--territory-name",
            PAYLOADS[0],
        ]
    )
    assert result.exit_code == 0, result.output
    admin = make_user("admin", email="admin@example.org", name=PAYLOADS[1])
    victim = make_user("planner", "xss", email="victim@example.org", name=PAYLOADS[2])
    runner.invoke(args=["users", "token", "create", victim.email, "--name", PAYLOADS[3]])
    client = app.test_client()
    for payload in PAYLOADS:  # failed logins store the typed e-mail in the audit log
        assert login(client, payload, "wrong").status_code == 401
    workshop = make_workshop(title=PAYLOADS[4])
    code = workshop["codes"][0]
    _poison_workshop(app, workshop["id"])
    _poison_category(app)
    for payload in PAYLOADS:
        assert (
            client.post(f"/api/v1/groups/{code}/pins", json=pin_body(comment=payload)).status_code
            == 201
        )
    diagnostic = dict.fromkeys(("troubles", "causes", "solutions", "residents_role"), PAYLOADS[5])
    client.put(f"/api/v1/groups/{code}/diagnostic", json={**diagnostic, "proposals": PAYLOADS})
    action_id = _poison_action(app, workshop["id"])
    return {
        "admin": admin,
        "victim_id": victim.id,
        "code": code,
        "workshop_id": workshop["id"],
        "action_id": action_id,
    }


def _poison_action(app, workshop_id: int) -> int:
    """A public action on Le Blosne with payloads in its texts, timeline and theme."""
    from app.extensions import db
    from app.models import Action, ActionUpdate, Proposal, Quartier, Theme, Workshop

    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        zone = db.session.scalar(db.select(Quartier.geom).where(Quartier.code == "Q.11"))
        theme = db.session.scalar(db.select(Theme).where(Theme.code == "aller_vers"))
        theme.label_fr = PAYLOADS[3]
        proposals = db.session.scalars(db.select(Proposal)).all()
        for proposal in proposals:
            proposal.theme = theme
        action = Action(
            territory_id=workshop.territory_id,
            title=PAYLOADS[0],
            description=PAYLOADS[1],
            theme=theme,
            partners=["mediation"],
            status="engaged",
            zone=zone,
            zone_kind="quartiers",
            public=True,
            proposals=proposals,
            workshops=[workshop],
        )
        action.updates = [
            ActionUpdate(author_name=PAYLOADS[4], text=payload, status_to="engaged")
            for payload in PAYLOADS
        ]
        db.session.add(action)
        db.session.commit()
        return action.id


def _poison_category(app) -> None:
    from app.extensions import db
    from app.models import Category

    with app.app_context():
        category = db.session.scalar(db.select(Category).where(Category.code == "lighting"))
        category.label_fr = category.label_en = PAYLOADS[2]
        db.session.commit()


def _poison_workshop(app, workshop_id: int) -> None:
    from app.extensions import db
    from app.models import Workshop

    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        workshop.place, workshop.edition = PAYLOADS[6], PAYLOADS[3]
        for group, payload in zip(workshop.groups, PAYLOADS[1:], strict=False):
            group.name = payload
        db.session.commit()


@pytest.mark.parametrize(("who", "path"), XSS_PAGES)
def test_stored_payloads_stay_text(poisoned, live_server, browser, who, path):
    context = browser.new_context(locale="fr-FR")
    context.add_init_script(WATCH)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    if who == "admin":
        sign_in(page, live_server, poisoned["admin"].email)
    page.goto(live_server + path.format(**poisoned))
    page.wait_for_load_state("networkidle")
    for shape in page.locator("path.leaflet-interactive").all():
        shape.hover(force=True)  # tooltips render the quartier names
    for element in page.locator("main *").all()[:200]:
        element.dispatch_event("mouseover")
    text = page.locator("body").inner_text()
    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__csp") == []
    assert page.locator(INJECTED).count() == 0
    assert any(payload.split(">")[0] in text for payload in PAYLOADS), "no payload on the page"
    context.close()
