"""The CLSPD's follow-up: proposals turned into actions tied to places, the monthly
board, each action's timeline, and what changed where actions were carried out.

Who does what (DESIGN §6): coordinators (and admins) write; police and planners read
every action; the public reads public actions and their public updates on the quartier
pages (:mod:`app.public`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape

from app import audit, auth, layers
from app.errors import ValidationError
from app.exports import spreadsheet_safe
from app.extensions import db
from app.models import (
    ACTION_STATUSES,
    PARTNERS,
    Action,
    ActionUpdate,
    Pin,
    Proposal,
    Quartier,
    Territory,
    Theme,
    Workshop,
    utcnow,
)
from geo import projections
from geo.hexgrid import hex_polygons

bp = Blueprint("followup", __name__, url_prefix="/t/<slug>/suivi")

READERS = ("coordinator", "police", "planner")
WRITERS = ("coordinator",)
OPEN_STATUSES = ("proposed", "engaged")
STATUS_LABELS = {
    "proposed": _l("proposée"),
    "engaged": _l("engagée"),
    "done": _l("réalisée"),
    "abandoned": _l("abandonnée"),
}
STATUS_COLOURS = {
    "proposed": "#6c757d",
    "engaged": "#e36414",
    "done": "#2a9d8f",
    "abandoned": "#adb5bd",
}
PARTNER_LABELS = {
    "police_nationale": _l("Police nationale"),
    "police_municipale": _l("Police municipale"),
    "bailleur": _l("Bailleur"),
    "services_techniques": _l("Services techniques"),
    "mediation": _l("Médiation"),
    "parquet": _l("Parquet"),
    "education_nationale": _l("Éducation nationale"),
    "associations": _l("Associations"),
}
TITLE_MAX = 200
TEXT_MAX = 5000
HOTSPOT_SIZE = 150.0
ZONE_TYPE = Geometry("MULTIPOLYGON", srid=4326)


@bp.app_context_processor
def labels() -> dict:
    return {
        "action_status_labels": STATUS_LABELS,
        "action_status_colours": STATUS_COLOURS,
        "partner_labels": PARTNER_LABELS,
        "partner_names": partner_names,
    }


def partner_names(partners: list[str]) -> str:
    return ", ".join(str(PARTNER_LABELS[p]) for p in partners if p in PARTNER_LABELS)


# -- reading ---------------------------------------------------------------------------------


@dataclass
class BoardFilters:
    partner: str | None
    status: str | None
    quartier: str | None
    overdue: bool


def _board_filters(territory: Territory) -> BoardFilters:
    errors: dict[str, str] = {}
    partner = request.args.get("partner") or None
    status = request.args.get("status") or None
    quartier = request.args.get("quartier") or None
    if partner and partner not in PARTNERS:
        errors["partner"] = _("Partenaire inconnu.")
    if status and status not in ACTION_STATUSES:
        errors["status"] = _("Statut inconnu.")
    if quartier and not db.session.scalar(
        sa.select(Quartier.id).where(
            Quartier.territory_id == territory.id, Quartier.code == quartier
        )
    ):
        errors["quartier"] = _("Quartier inconnu.")
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    return BoardFilters(partner, status, quartier, request.args.get("overdue") == "1")


def action_query(territory: Territory, filters: BoardFilters | None = None):
    query = sa.select(Action).where(Action.territory_id == territory.id)
    if filters:
        if filters.partner:
            query = query.where(sa.literal(filters.partner) == sa.any_(Action.partners))
        if filters.status:
            query = query.where(Action.status == filters.status)
        if filters.quartier:
            query = query.where(
                sa.exists().where(
                    Quartier.territory_id == territory.id,
                    Quartier.code == filters.quartier,
                    sa.func.ST_Intersects(Quartier.geom, Action.zone),
                )
            )
        if filters.overdue:
            query = query.where(Action.status.in_(OPEN_STATUSES), Action.due_on < date.today())
    return query.order_by(Action.due_on.is_(None), Action.due_on, Action.id)


def is_overdue(action: Action) -> bool:
    return (
        action.status in OPEN_STATUSES
        and action.due_on is not None
        and (action.due_on < date.today())
    )


@bp.get("/")
@login_required
def board(slug: str):
    """The CLSPD board: counts per status, the actions (filtered) and their zones on the
    hot spot map."""
    territory = auth.territory_for(slug, *READERS)
    try:
        filters = _board_filters(territory)
    except ValidationError as exc:
        return _board_page(territory, [], exc.fields), 422
    actions = db.session.scalars(action_query(territory, filters)).all()
    return _board_page(territory, actions, {})


def _board_page(territory: Territory, actions: list[Action], errors: dict):
    counts = dict(
        db.session.execute(
            sa.select(Action.status, sa.func.count())
            .where(Action.territory_id == territory.id)
            .group_by(Action.status)
        ).all()
    )
    overdue = db.session.scalar(
        sa.select(sa.func.count()).where(
            Action.territory_id == territory.id,
            Action.status.in_(OPEN_STATUSES),
            Action.due_on < date.today(),
        )
    )
    from app.followup_map import board_map

    return render_template(
        "followup/board.html",
        territory=territory,
        actions=actions,
        counts=counts,
        overdue=overdue,
        errors=errors,
        args=request.args,
        quartiers=territory.quartiers,
        map_spec=None if errors else board_map(territory, actions),
        is_overdue=is_overdue,
        can_write=_can_write(territory),
    )


def _can_write(territory: Territory) -> bool:
    return current_user.role == "admin" or (
        current_user.role in WRITERS and current_user.can_see(territory)
    )


@bp.get("/actions.csv")
@login_required
def board_csv(slug: str):
    """The board as CSV for the meeting's minutes (same filters)."""
    territory = auth.territory_for(slug, *READERS)
    filters = _board_filters(territory)
    actions = db.session.scalars(action_query(territory, filters)).all()
    audit.record("export", target="actions.csv", territory=territory, filters=dict(request.args))
    db.session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "titre",
            "thème",
            "partenaires",
            "statut",
            "échéance",
            "en retard",
            "public",
            "quartiers",
            "ateliers",
            "dernière mise à jour",
            "date de mise à jour",
        ]
    )
    for action in actions:
        last = action.updates[-1] if action.updates else None
        writer.writerow(
            [
                action.id,
                *[
                    spreadsheet_safe(v)
                    for v in (
                        action.title,
                        action.theme.label_fr if action.theme else "",
                        partner_names(action.partners),
                        str(STATUS_LABELS[action.status]),
                        action.due_on.isoformat() if action.due_on else "",
                        "oui" if is_overdue(action) else "non",
                        "oui" if action.public else "non",
                        ", ".join(action_quartiers(action)),
                        ", ".join(w.title for w in action.workshops),
                        last.text if last else "",
                        last.created_at.date().isoformat() if last else "",
                    )
                ],
            ]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=ressenti-{territory.slug}-actions.csv"
        },
    )


def action_quartiers(action: Action) -> list[str]:
    """Names of the quartiers the action's zone touches."""
    if action.zone is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Quartier.name)
            .where(
                Quartier.territory_id == action.territory_id,
                sa.func.ST_Intersects(Quartier.geom, zone_of(action)),
            )
            .order_by(Quartier.name)
        )
    )


def zone_of(action: Action):
    """The stored zone as SQL (a bound geometry value would need its type spelt out)."""
    return sa.select(Action.zone).where(Action.id == action.id).scalar_subquery()


def _action(territory: Territory, action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or action.territory_id != territory.id:
        abort(404)
    return action


@bp.get("/actions/<int:action_id>")
@login_required
def show(slug: str, action_id: int):
    """One action: what, who, where, its timeline and perception before and after."""
    territory = auth.territory_for(slug, *READERS)
    return _show_page(territory, _action(territory, action_id))


def _show_page(territory: Territory, action: Action, **update_form):
    from app.followup_map import zone_map

    return render_template(
        "followup/show.html",
        territory=territory,
        action=action,
        quartiers=action_quartiers(action),
        map_spec=zone_map(territory, [action]),
        before_after=before_after(action),
        is_overdue=is_overdue(action),
        can_write=_can_write(territory),
        **update_form,
    )


# -- writing ---------------------------------------------------------------------------------


def _choices(territory: Territory, action: Action | None = None) -> dict:
    """What the action form offers: themes (the action's own, even withdrawn), proposals,
    workshops, quartiers, hot cells."""
    current = action.theme_id if action else None
    return {
        "themes": db.session.scalars(
            sa.select(Theme)
            .where(sa.or_(Theme.active.is_(True), Theme.id == current))
            .order_by(Theme.position)
        ).all(),
        "proposals": db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.territory_id == territory.id)
            .order_by(Proposal.workshop_id.desc(), Proposal.id)
        ).all(),
        "workshops": db.session.scalars(
            sa.select(Workshop)
            .where(Workshop.territory_id == territory.id)
            .order_by(Workshop.held_on.desc())
        ).all(),
        "quartiers": territory.quartiers,
        "hot_cells": hot_cells(territory),
        "partners": PARTNERS,
        "statuses": ACTION_STATUSES,
    }


def hot_cells(territory: Territory) -> list[dict]:
    """Significant hot spots (Gi*, every pin) a zone can be made of: id and z."""
    filters = layers.parse_filters(territory, {})
    filters.full = True
    features = layers.hotspot_layer(territory, filters).features
    cells = [
        {"id": f["id"], "z": f["properties"]["z"], "count": f["properties"].get("count")}
        for f in features
        if f["properties"]["bin"] > 0
    ]
    return sorted(cells, key=lambda c: -c["z"])


@bp.route("/actions/nouvelle", methods=["GET", "POST"])
@login_required
def create(slug: str):
    """A new action, from scratch or from a proposal (``?proposal=<id>``)."""
    territory = auth.territory_for(slug, *WRITERS)
    choices = _choices(territory)
    if request.method == "GET":
        values = _initial_values(territory, request.args.get("proposal", ""))
        return _form(territory, None, values, {}, choices)
    values = request.form
    try:
        clean = parse_action(territory, values, choices)
    except ValidationError as exc:
        return _form(territory, None, values, exc.fields, choices), 422
    action = Action(territory_id=territory.id, created_by=current_user.id)
    _apply(action, clean)
    action.updates.append(
        ActionUpdate(
            author_id=current_user.id,
            author_name=current_user.name,
            text=_("Action créée."),
            status_to=action.status,
        )
    )
    db.session.add(action)
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


def _initial_values(territory: Territory, proposal_id: str) -> dict:
    values: dict = {"status": "proposed", "zone_kind": ""}
    if proposal_id.isascii() and proposal_id.isdigit():
        proposal = db.session.get(Proposal, int(proposal_id))
        if proposal and proposal.territory_id == territory.id:
            values.update(
                title=proposal.text[:TITLE_MAX],
                theme=str(proposal.theme_id or ""),
                proposals=[str(proposal.id)],
                workshops=[str(proposal.workshop_id)],
            )
    return values


@bp.route("/actions/<int:action_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(slug: str, action_id: int):
    """Change an action; a change of status is written to its timeline."""
    territory = auth.territory_for(slug, *WRITERS)
    action = _action(territory, action_id)
    choices = _choices(territory, action)
    if request.method == "GET":
        return _form(territory, action, _values_of(action), {}, choices)
    try:
        clean = parse_action(territory, request.form, choices, action)
    except ValidationError as exc:
        return _form(territory, action, request.form, exc.fields, choices), 422
    before = action.status
    _apply(action, clean)
    if action.status != before:
        _status_update(action, before, "")
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


@bp.post("/actions/<int:action_id>/suivi")
@login_required
def add_update(slug: str, action_id: int):
    """Add a dated line to the timeline, optionally with a new status."""
    territory = auth.territory_for(slug, *WRITERS)
    action = _action(territory, action_id)
    text = request.form.get("text", "").strip()
    status = request.form.get("status") or action.status
    errors = {}
    if status not in ACTION_STATUSES:
        errors["status"] = _("Statut inconnu.")
    if len(text) > TEXT_MAX:
        errors["text"] = _("%(max)d caractères au plus.", max=TEXT_MAX)
    if not text and status == action.status:
        errors["text"] = _("Écrivez ce qui a été fait, ou changez le statut.")
    if errors:
        return _show_page(territory, action, update_errors=errors, update_values=request.form), 422
    public = request.form.get("public") == "1"
    if status != action.status:
        before = action.status
        action.status = status
        _status_update(action, before, text, public)
    else:
        action.updates.append(
            ActionUpdate(
                author_id=current_user.id,
                author_name=current_user.name,
                text=text,
                public=public,
            )
        )
    action.updated_at = utcnow()
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


def _status_update(action: Action, before: str, text: str, public: bool = True) -> None:
    action.updates.append(
        ActionUpdate(
            author_id=current_user.id,
            author_name=current_user.name,
            text=text,
            status_from=before,
            status_to=action.status,
            public=public,
        )
    )


def _form(territory, action, values, errors, choices):
    from app.followup_map import draw_map

    return render_template(
        "followup/form.html",
        territory=territory,
        action=action,
        values=values,
        errors=errors,
        map_spec=draw_map(territory, action),
        **choices,
    )


def _values_of(action: Action) -> dict:
    return {
        "title": action.title,
        "description": action.description,
        "theme": str(action.theme_id or ""),
        "partners": action.partners,
        "status": action.status,
        "due_on": action.due_on.isoformat() if action.due_on else "",
        "public": "1" if action.public else "",
        "zone_kind": "keep" if action.zone is not None else "",
        "zone_geojson": json.dumps(shapely.geometry.mapping(to_shape(action.zone)))
        if action.zone is not None and action.zone_kind == "drawn"
        else "",
        "proposals": [str(p.id) for p in action.proposals],
        "workshops": [str(w.id) for w in action.workshops],
    }


def _list(values, name: str) -> list[str]:
    if hasattr(values, "getlist"):
        return values.getlist(name)
    return list(values.get(name, []))


def parse_action(territory: Territory, values, choices: dict, action: Action | None = None) -> dict:
    """Check the action form; ValidationError naming each bad field (French). On an
    edit, ``zone_kind=keep`` keeps the stored zone as it is."""
    errors: dict[str, str] = {}
    clean: dict = {}
    title = values.get("title", "").strip()
    if not title:
        errors["title"] = _("Donnez un titre à l'action.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("%(max)d caractères au plus.", max=TITLE_MAX)
    clean["title"] = title
    description = values.get("description", "").strip()
    if len(description) > TEXT_MAX:
        errors["description"] = _("%(max)d caractères au plus.", max=TEXT_MAX)
    clean["description"] = description
    theme = values.get("theme", "")
    themes = {str(t.id): t for t in choices["themes"]}
    if theme and theme not in themes:
        errors["theme"] = _("Thème inconnu.")
    clean["theme"] = themes.get(theme)
    partners = _list(values, "partners")
    if any(p not in PARTNERS for p in partners):
        errors["partners"] = _("Partenaire inconnu.")
    clean["partners"] = [p for p in PARTNERS if p in partners]
    status = values.get("status", "proposed")
    if status not in ACTION_STATUSES:
        errors["status"] = _("Statut inconnu.")
    clean["status"] = status
    due = values.get("due_on", "").strip()
    clean["due_on"] = None
    if due:
        try:
            clean["due_on"] = date.fromisoformat(due)
        except ValueError:
            errors["due_on"] = _("Date AAAA-MM-JJ attendue.")
    clean["public"] = values.get("public") == "1"
    proposals = {str(p.id): p for p in choices["proposals"]}
    wanted = _list(values, "proposals")
    if any(p not in proposals for p in wanted):
        errors["proposals"] = _("Proposition inconnue.")
    clean["proposals"] = [proposals[p] for p in wanted if p in proposals]
    workshops = {str(w.id): w for w in choices["workshops"]}
    wanted = _list(values, "workshops")
    if any(w not in workshops for w in wanted):
        errors["workshops"] = _("Atelier inconnu.")
    clean["workshops"] = [workshops[w] for w in wanted if w in workshops]
    if values.get("zone_kind") == "keep" and action is not None and action.zone is not None:
        clean["zone_kind"], clean["zone"] = action.zone_kind, action.zone
    else:
        known = {c["id"] for c in choices["hot_cells"]}  # Gi* once per request
        clean["zone_kind"], clean["zone"] = _zone(territory, values, errors, known)
    if errors:
        raise ValidationError(errors, _("L'action n'est pas enregistrée : corrigez les champs."))
    return clean


def _zone(territory: Territory, values, errors: dict, known_cells: set[str]):
    kind = values.get("zone_kind", "")
    if kind == "":
        return None, None
    if kind == "drawn":
        return kind, _drawn_zone(territory, values.get("zone_geojson", ""), errors)
    if kind == "quartiers":
        codes = _list(values, "zone_quartiers")
        union = sa.func.ST_Multi(sa.func.ST_Union(Quartier.geom), type_=ZONE_TYPE)
        found, count = db.session.execute(
            sa.select(union, sa.func.count()).where(
                Quartier.territory_id == territory.id, Quartier.code.in_(codes)
            )
        ).one()
        if not codes or count != len(set(codes)):
            errors["zone_quartiers"] = _("Choisissez un ou plusieurs quartiers du territoire.")
            return kind, None
        return kind, found
    if kind == "hotspots":
        cells = _list(values, "zone_cells")
        if not cells or any(c not in known_cells for c in cells):
            errors["zone_cells"] = _("Choisissez un ou plusieurs points chauds de la liste.")
            return kind, None
        return kind, _cells_zone(territory, cells)
    errors["zone_kind"] = _("Type de zone inconnu.")
    return None, None


def _drawn_zone(territory: Territory, text: str, errors: dict):
    try:
        data = json.loads(text)
        if data.get("type") == "FeatureCollection":
            shapes = [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
        elif data.get("type") == "Feature":
            shapes = [shapely.geometry.shape(data["geometry"])]
        else:
            shapes = [shapely.geometry.shape(data)]
        zone = shapely.union_all([shapely.make_valid(shapely.force_2d(s)) for s in shapes])
        polygons = [
            g for g in getattr(zone, "geoms", [zone]) if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        zone = shapely.union_all(polygons)
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
        shapely.errors.ShapelyError,
    ):
        zone = None
    if zone is None or zone.is_empty or zone.area == 0:
        errors["zone_geojson"] = _("Dessinez un polygone sur la carte.")
        return None
    west, south, east, north = zone.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        errors["zone_geojson"] = _("Coordonnées hors du globe.")
        return None
    inside = db.session.scalar(
        sa.select(sa.func.count()).where(
            Quartier.territory_id == territory.id,
            sa.func.ST_Intersects(Quartier.geom, from_shape(zone, srid=4326)),
        )
    )
    if not inside:
        errors["zone_geojson"] = _("La zone doit toucher au moins un quartier du territoire.")
        return None
    if zone.geom_type == "Polygon":
        zone = shapely.MultiPolygon([zone])
    return from_shape(zone, srid=4326)


def _cells_zone(territory: Territory, cells: list[str]):
    q = np.array([int(c.split(":")[0]) for c in cells])
    r = np.array([int(c.split(":")[1]) for c in cells])
    polygons = hex_polygons(q, r, HOTSPOT_SIZE)
    transformer = projections.transformer(territory.metric_srid, projections.WGS84)
    polygons = shapely.transform(
        polygons, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    zone = shapely.union_all(polygons)
    if zone.geom_type == "Polygon":
        zone = shapely.MultiPolygon([zone])
    return from_shape(zone, srid=4326)


def _apply(action: Action, clean: dict) -> None:
    action.title = clean["title"]
    action.description = clean["description"]
    action.theme = clean["theme"]
    action.partners = clean["partners"]
    action.status = clean["status"]
    action.due_on = clean["due_on"]
    action.public = clean["public"]
    action.proposals = clean["proposals"]
    action.workshops = clean["workshops"]
    action.zone_kind = clean["zone_kind"]
    action.zone = clean["zone"]


@bp.post("/propositions/<int:proposal_id>")
@login_required
def theme_proposal(slug: str, proposal_id: int):
    """Give a proposal its theme (from the workshop's diagnostics page)."""
    territory = auth.territory_for(slug, *WRITERS)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.territory_id != territory.id:
        abort(404)
    theme = request.form.get("theme", "")
    if theme:
        found = db.session.get(Theme, int(theme)) if theme.isascii() and theme.isdigit() else None
        if found is None:
            raise ValidationError({"theme": _("Thème inconnu.")}, _("Thème inconnu."))
        proposal.theme = found
    else:
        proposal.theme = None
    db.session.commit()
    return redirect(
        url_for("workshops.diagnostics", slug=slug, workshop_id=proposal.workshop_id)
        + f"#proposition-{proposal.id}"
    )


# -- before / after ----------------------------------------------------------------------------


def action_dates(action: Action) -> tuple[date, date]:
    """When the action started (engaged, else created) and ended (done, else started)."""
    started = next(
        (u.created_at.date() for u in action.updates if u.status_to == "engaged"),
        action.created_at.date(),
    )
    ended = next((u.created_at.date() for u in action.updates if u.status_to == "done"), started)
    return started, ended


def before_after(action: Action) -> dict | None:
    """Per workshop of the territory: pins inside the zone, unsafe and safe, their share
    of the workshop's pins and the density of unsafe pins (per km²), split into the
    workshops held before the action started and those held after it ended."""
    if action.zone is None:
        return None
    started, ended = action_dates(action)
    area_km2 = db.session.scalar(
        sa.select(sa.func.ST_Area(sa.cast(zone_of(action), _geography())) / 1e6)
    )
    inside = sa.func.ST_Intersects(Pin.geom, zone_of(action))
    rows = db.session.execute(
        sa.select(
            Workshop.id,
            Workshop.title,
            Workshop.edition,
            Workshop.held_on,
            sa.func.count(Pin.id).label("total"),
            sa.func.count(Pin.id).filter(inside, Pin.feeling == "unsafe").label("unsafe"),
            sa.func.count(Pin.id).filter(inside, Pin.feeling == "safe").label("safe"),
        )
        .join(Pin, Pin.workshop_id == Workshop.id)
        .where(Workshop.territory_id == action.territory_id)
        .group_by(Workshop.id)
        .order_by(Workshop.held_on)
    ).all()
    k = _suppression_k()

    def describe(row) -> dict:
        return {
            "title": row.title,
            "edition": row.edition,
            "held_on": row.held_on,
            "unsafe": row.unsafe,
            "safe": row.safe,
            "total": row.total,
            "unsafe_share": row.unsafe / row.total if row.total else 0.0,
            "unsafe_per_km2": row.unsafe / area_km2 if area_km2 else None,
        }

    return {
        "started": started,
        "ended": ended,
        "area_km2": area_km2,
        "k": k,
        "before": [describe(r) for r in rows if r.held_on < started],
        "after": [describe(r) for r in rows if r.held_on > ended],
    }


def _suppression_k() -> int:
    from flask import current_app

    return current_app.config["SUPPRESSION_K"]


def _geography():
    from geoalchemy2 import Geography

    return Geography(srid=4326)
