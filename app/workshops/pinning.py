"""What residents use, with a join code and no account: the pinning page and pin API.

Errors are JSON under /api: 404 unknown code, 403 workshop not open (``error`` is
``workshop_closed`` once closed: the phone keeps its unsent pins and says so), 409 pin id
already used with other content, 413 body too large, 422 invalid field, 429 too fast.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app import openapi, ratelimit, security, vocabulary
from app.errors import ValidationError
from app.extensions import autocommit, db
from app.models import TIMES_OF_DAY, Category, Pin, Proposal, WorkshopGroup, utcnow
from app.territories import places
from app.workshops import groups, ingest, pins

bp = Blueprint("pinning", __name__)
security.csrf_exempt(bp)  # no cookie identifies a resident: the join code in the URL does


def _json_body() -> dict:
    payload = request.get_json(silent=True)
    if payload is None:
        abort(400, description=_("Corps JSON attendu."))
    return payload


def _shared(group: WorkshopGroup) -> bool:
    """A questionnaire's single public code is shared by strangers: nobody lists the
    others' pins; each browser keeps the ids of its own."""
    return group.workshop.kind == "questionnaire"


@bp.get("/j/<code>")
def pin_page(code: str):
    """The resident's phone page: the quartier map, pin form and the group's pins. Still
    shown once the workshop is closed (it says so), so that a phone reloading it sees
    the pins it could not send and can show them to the coordinator."""
    group = groups.group_by_code(code, closed_too=True)
    closed = group.workshop.status == "closed"
    context = {**page_context(group), "closed": closed}
    return render_template("pinning/pin.html", group=group, context=context, closed=closed)


def page_context(group: WorkshopGroup) -> dict:
    """The pin map's settings (also the questionnaire page's map question)."""
    workshop = group.workshop
    categories = db.session.scalars(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.position)
    )
    features = [
        f for q in workshop.quartiers for f in places.quartier_features(workshop.territory, q.code)
    ]
    return {
        "code": group.join_code,
        "shared": _shared(group),
        "api": f"/api/v1/groups/{group.join_code}",
        "quartiers": {"type": "FeatureCollection", "features": features},
        "categories": [
            {
                "code": c.code,
                "label": vocabulary.stored_label(c),
                "feelings": c.feelings,
                "colour": c.colour,
            }
            for c in categories
        ],
        "times": [{"code": t, "label": str(vocabulary.TIME_LABELS[t])} for t in TIMES_OF_DAY],
        "comment_max": current_app.config["COMMENT_MAX_LENGTH"],
        "tiles": current_app.config.get("TILE_URL") or None,
        "attribution": current_app.config.get("TILE_ATTRIBUTION"),
    }


PIN = {openapi.JSON: openapi.ref("Pin")}
PIN_LIST = {
    openapi.JSON: {
        "type": "object",
        "required": ["pins"],
        "properties": {"pins": {"type": "array", "items": openapi.ref("Pin")}},
    }
}
DIAGNOSTIC = {openapi.JSON: openapi.ref("Diagnostic")}


@bp.get("/api/v1/groups/<code>/pins")
@openapi.operation(tag="pins", responses={200: PIN_LIST})
def list_pins(code: str):
    """The group's pins, newest first (empty for a shared questionnaire code); comment
    text only once approved, ``comment_status`` always."""
    group = groups.group_by_code(code)
    if _shared(group):
        return jsonify(pins=[])
    rows = db.session.scalars(
        sa.select(Pin)
        .where(Pin.territory_id == group.territory_id, Pin.group_id == group.id)
        .order_by(Pin.created_at.desc())
    )
    return jsonify(pins=[pins.to_json(p) for p in rows])


@bp.post("/api/v1/groups/<code>/pins")
@openapi.operation(tag="pins", body=openapi.ref("PinInput"), responses={200: PIN, 201: PIN})
def create_pin(code: str):
    """Create a pin with the client's UUID. Same UUID and content again: 200 and the
    stored pin, nothing written; same UUID with other content: 409."""
    group = ingest.group_ref(code)
    with autocommit() as connection:  # one checkout: the count, then the pin
        ratelimit.limit_writes(group.join_code, connection)
        try:
            clean = pins.parse_pin(_json_body(), None)
        except (HTTPException, ValidationError):
            groups.group_by_code(code)  # a closed or removed workshop says so first
            raise
        now = utcnow()
        written = ingest.insert_pin(group, clean, now, connection)
    if written.status == "outside":
        groups.refuse_outside_window(group.workshop_id)  # its 403
    if written.status != "open":
        groups.group_by_code(code)  # its 404 or 403
        abort(503, description=_("L'atelier vient de changer d'état : réessayez."))
    if not written.inside:
        outside = pins.OUTSIDE()
        raise ValidationError(
            {"lon": outside, "lat": outside}, _("Le point n'a pas été enregistré.")
        )
    if written.created_at is None:  # this UUID exists: a replay, or a clash
        return _replayed(_pin(group, clean["id"]), group, clean)
    pin = Pin(id=clean["id"], comment=None, created_at=now, updated_at=now)
    pins.apply(pin, clean)
    return jsonify(pins.to_json(pin, echo_comment=True)), 201


def _pin(group: WorkshopGroup | ingest.GroupRef, pin_id: uuid.UUID) -> Pin | None:
    """A pin of the group's territory by its id (the territory routes it: DESIGN §8)."""
    return db.session.scalar(
        sa.select(Pin).where(Pin.territory_id == group.territory_id, Pin.id == pin_id)
    )


def _replayed(existing: Pin | None, group: WorkshopGroup | ingest.GroupRef, clean: dict):
    """``existing``: the pin of this id in the group's territory (None: another town's)."""
    if existing and existing.group_id == group.id and pins.same_content(existing, clean):
        # The stored text is never echoed: the comment is the one this client just sent.
        data = pins.to_json(existing)
        data["comment"] = clean["comment"]
        return jsonify(data), 200
    abort(409, description=_("Cet identifiant de point est déjà utilisé pour un autre point."))


def _own_pin(group: WorkshopGroup, pin_id: str) -> Pin | None:
    try:
        key = uuid.UUID(pin_id)
    except ValueError:
        abort(404)
    pin = _pin(group, key)
    if pin is not None and pin.group_id != group.id:
        abort(404)
    return pin


@bp.patch("/api/v1/groups/<code>/pins/<pin_id>")
@openapi.operation(tag="pins", body={"type": "object"}, responses={200: PIN})
def update_pin(code: str, pin_id: str):
    """Move or edit one of the group's pins while the workshop is open."""
    group = groups.group_by_code(code)
    if _shared(group):
        groups.refuse_outside_window(group.workshop_id)
    ratelimit.limit_writes(group.join_code)
    pin = _own_pin(group, pin_id) or abort(404)
    clean = pins.parse_pin(_json_body(), group.workshop, partial=True)
    if (
        "category" in clean
        and "feeling" not in clean
        and pin.feeling not in clean["category"].feelings
    ):
        raise ValidationError({"category": _("Cette catégorie ne s'applique pas à ce ressenti.")})
    pins.apply(pin, clean)
    db.session.commit()
    # Echo a comment only to the write that sent it: anyone with the table's code may
    # edit this pin, and must not read a pending comment written by someone else.
    return jsonify(pins.to_json(pin, echo_comment="comment" in clean))


@bp.delete("/api/v1/groups/<code>/pins/<pin_id>")
@openapi.operation(tag="pins", responses={204: {}})
def delete_pin(code: str, pin_id: str):
    """Delete one of the group's pins; deleting it again is not an error (204)."""
    group = groups.group_by_code(code)
    if _shared(group):
        groups.refuse_outside_window(group.workshop_id)
    ratelimit.limit_writes(group.join_code)
    pin = _own_pin(group, pin_id)
    if pin is not None:
        db.session.delete(pin)
        db.session.commit()
    return "", 204


@bp.get("/api/v1/groups/<code>/streets.geojson")
@openapi.operation(tag="base map", responses=openapi.CACHED_GEOJSON)
def group_streets(code: str):
    """Streets crossing the workshop's quartiers, for the offline base map."""
    group = groups.group_by_code(code)
    ids = [q.id for q in group.workshop.quartiers]
    data = places.streets_geojson(group.workshop.territory, quartier_ids=ids)
    response = jsonify(data)
    response.mimetype = "application/geo+json"
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    response.add_etag()
    return response.make_conditional(request)


DIAGNOSTIC_FIELDS = ("troubles", "causes", "solutions", "residents_role")


@bp.route("/j/<code>/diagnostic", methods=["GET", "POST"])
def diagnostic_page(code: str):
    """The table's answers to the four questions and its proposals (a plain form)."""
    group = groups.group_by_code(code)
    if _shared(group):
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        ratelimit.limit_writes(group.join_code)
        payload = {name: request.form.get(name, "") for name in DIAGNOSTIC_FIELDS}
        payload["proposals"] = request.form.get("proposals", "").splitlines()
        try:
            _save_diagnostic(group, _parse_diagnostic(payload))
        except ValidationError as exc:
            errors = exc.fields
        else:
            return redirect(url_for("pinning.diagnostic_page", code=group.join_code, saved=1))
    return render_template(
        "pinning/diagnostic.html",
        group=group,
        answers=_diagnostic_json(group),
        errors=errors,
        saved=bool(request.args.get("saved")),
    ), 422 if errors else 200


@bp.get("/api/v1/groups/<code>/diagnostic")
@openapi.operation(tag="diagnostics", responses={200: DIAGNOSTIC})
def get_diagnostic(code: str):
    """The group's answers to the four questions and its proposals."""
    group = groups.group_by_code(code)
    return jsonify(_diagnostic_json(group))


@bp.put("/api/v1/groups/<code>/diagnostic")
@openapi.operation(tag="diagnostics", body=openapi.ref("Diagnostic"), responses={200: DIAGNOSTIC})
def put_diagnostic(code: str):
    """Replace the group's answers to the four questions and its proposals."""
    group = groups.group_by_code(code)
    if _shared(group):
        abort(403, description=_("Un questionnaire n'a pas de diagnostic de groupe."))
    ratelimit.limit_writes(group.join_code)
    _save_diagnostic(group, _parse_diagnostic(_json_body()))
    return jsonify(_diagnostic_json(group))


def _save_diagnostic(group: WorkshopGroup, clean: dict) -> None:
    for name in DIAGNOSTIC_FIELDS:
        setattr(group, name, clean[name])
    # Keep the proposals whose text is unchanged: the follow-up may have themed them or
    # linked them to actions.
    kept = {p.text: p for p in group.proposals}
    group.proposals = [
        kept.pop(text, None)
        or Proposal(territory_id=group.territory_id, workshop_id=group.workshop_id, text=text)
        for text in clean["proposals"]
    ]
    db.session.commit()


def _parse_diagnostic(payload) -> dict:
    if not isinstance(payload, dict):
        raise ValidationError({"body": _("Le corps doit être un objet JSON.")})
    errors, clean = {}, {}
    for name in DIAGNOSTIC_FIELDS:
        value = payload.get(name, "")
        if not isinstance(value, str) or len(value) > 5000:
            errors[name] = _("Texte de 5000 caractères au plus attendu.")
        else:
            clean[name] = value.strip()
    proposals = payload.get("proposals", [])
    if (
        not isinstance(proposals, list)
        or len(proposals) > 50
        or not all(isinstance(p, str) and len(p) <= 1000 for p in proposals)
    ):
        errors["proposals"] = _("Liste de 50 propositions au plus, de 1000 caractères chacune.")
    else:
        clean["proposals"] = [p.strip() for p in proposals if p.strip()]
    if errors:
        raise ValidationError(errors, _("Le diagnostic n'a pas été enregistré."))
    return clean


def _diagnostic_json(group: WorkshopGroup) -> dict:
    data = {name: getattr(group, name) for name in DIAGNOSTIC_FIELDS}
    data["proposals"] = [p.text for p in group.proposals]
    return data
