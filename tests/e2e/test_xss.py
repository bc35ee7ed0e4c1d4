"""Stored XSS: payloads in every user-text field, every page that shows them, in Chromium.

A page fails if a dialog opens, a payload's script runs, the browser reports a CSP
violation (markup got through escaping and only the CSP stopped it), or an element
of a payload exists in the DOM. To cover a new page, add one line to XSS_PAGES.

Maps get their own test: every popup and tooltip is opened and must show the template
and JS-string payload (MAP_PAYLOAD) verbatim, never evaluated (no 1337, no dialog).
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
    "{{ 7*191 }}",
    "{% if 1 %}X{% endif %}",
    "${alert(1)}",
    "\\`",
    "</script><script>alert(1)</script>",
]
# Evaluated as a template it shows 1337 or X; in a JS string or template literal it opens
# dialogs. Short enough (≤ 100) for a category label. Put in every field a map shows.
MAP_PAYLOAD = (
    "{{ 7*191 }} {% if 1 %}X{% endif %} ${alert(1)} \\`;alert(2)// "
    "</script><script>alert(3)</script>"
)
PAYLOADS.append(MAP_PAYLOAD)

# (who is signed in, URL with {placeholders}) — one line per page that shows user text.
XSS_PAGES = [
    ("anonymous", "/"),
    ("anonymous", "/t/xss"),
    ("anonymous", "/t/xss/q/Q0"),
    ("anonymous", "/t/xss/q/{map_quartier}"),
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
    ("coordinator", "/t/rennes/tableau-de-bord/"),
    ("police", "/t/rennes/tableau-de-bord/"),
    ("planner", "/t/rennes/tableau-de-bord/"),
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
STAFF = ("coordinator", "police", "planner")
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
    staff = {role: make_user(role, "rennes", name=MAP_PAYLOAD) for role in STAFF}
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
    _approve_comments(app)
    diagnostic = dict.fromkeys(("troubles", "causes", "solutions", "residents_role"), PAYLOADS[5])
    client.put(f"/api/v1/groups/{code}/diagnostic", json={**diagnostic, "proposals": PAYLOADS})
    action_id = _poison_action(app, workshop["id"])
    return {
        "admin": admin,
        **staff,
        "map_quartier": f"Q{PAYLOADS.index(MAP_PAYLOAD)}",
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
        theme.label_fr = MAP_PAYLOAD
        proposals = db.session.scalars(db.select(Proposal)).all()
        for proposal in proposals:
            proposal.theme = theme
        action = Action(
            territory_id=workshop.territory_id,
            title=MAP_PAYLOAD,
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
    """The pins' category (lighting) is shown in map popups: it gets MAP_PAYLOAD."""
    from app.extensions import db
    from app.models import Category

    with app.app_context():
        category = db.session.scalar(db.select(Category).where(Category.code == "lighting"))
        category.label_fr = category.label_en = MAP_PAYLOAD
        other = db.session.scalar(
            db.select(Category).where(Category.code != "lighting").order_by(Category.position)
        )
        other.label_fr = other.label_en = PAYLOADS[2]
        db.session.commit()


def _approve_comments(app) -> None:
    """Approved comments reach the dashboard's raw points (for the roles that read them)."""
    from app.extensions import db
    from app.models import Pin

    with app.app_context():
        db.session.execute(db.update(Pin).values(comment_status="approved"))
        db.session.commit()


def _poison_workshop(app, workshop_id: int) -> None:
    from app.extensions import db
    from app.models import Workshop

    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        workshop.place, workshop.edition = PAYLOADS[6], PAYLOADS[3]
        workshop.title = f"{PAYLOADS[4]} {MAP_PAYLOAD}"
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
    if who != "anonymous":
        sign_in(page, live_server, poisoned[who].email)
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


# (who, page with a map): every one shows MAP_PAYLOAD in a popup or tooltip.
MAP_PAGES = [
    ("anonymous", "/t/xss"),  # quartier names, in tooltips
    ("anonymous", "/t/xss/q/{map_quartier}"),  # the quartier's name
    ("anonymous", "/t/rennes/q/Q.11"),  # a public action's title
    ("admin", "/t/rennes/tableau-de-bord/"),  # category labels, approved comments
    ("coordinator", "/t/rennes/tableau-de-bord/"),
    ("police", "/t/rennes/tableau-de-bord/"),
    ("planner", "/t/rennes/tableau-de-bord/"),  # labels only: no comment for planners
    ("coordinator", "/t/rennes/suivi/"),  # the CLSPD board: action titles
    ("police", "/t/rennes/suivi/actions/{action_id}"),
    ("admin", "/t/rennes/suivi/actions/{action_id}/modifier"),
]

# Opens every popup and tooltip of the page's maps, one after the other, and returns
# the text each showed. (Run by Playwright over the DevTools protocol: the CSP does not
# apply to it, and it adds nothing to the page.)
OPEN_ALL = """() => {
  const seen = [];
  const read = () => {
    for (const node of document.querySelectorAll('.leaflet-popup-content, .leaflet-tooltip')) {
      seen.push(node.innerText);
    }
  };
  const fire = (node, type) => node.dispatchEvent(
    new MouseEvent(type, {bubbles: true, cancelable: true, view: window}));
  for (const shape of [...document.querySelectorAll('.leaflet-interactive')].slice(0, 800)) {
    fire(shape, 'mouseover');
    fire(shape, 'click');
    read();
    fire(shape, 'mouseout');
  }
  return seen;
}"""


@pytest.mark.parametrize(("who", "path"), MAP_PAGES)
def test_map_popups_show_user_text_verbatim(poisoned, live_server, browser, who, path):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    if who != "anonymous":
        sign_in(page, live_server, poisoned[who].email)
    page.goto(live_server + path.format(**poisoned))
    page.wait_for_load_state("networkidle")
    page.locator(".leaflet-interactive").first.wait_for(state="attached")
    for checkbox in page.locator(".leaflet-control-layers-overlays input").all():
        if not checkbox.is_checked():
            checkbox.check()  # every layer on: raw points, net, hexagons…
    page.locator(".leaflet-interactive >> visible=true").first.click(force=True)  # a real one
    seen = page.evaluate(OPEN_ALL)
    shown = "\n".join(seen)
    assert MAP_PAYLOAD in shown, seen[:10]  # verbatim: neither evaluated nor mangled
    assert "1337" not in shown and "1337" not in page.locator("body").inner_text()
    assert "\nX\n" not in f"\n{shown}\n"
    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__csp") == []
    assert page.locator(INJECTED).count() == 0
    context.close()
