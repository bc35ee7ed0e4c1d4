"""Circuits ("circuits sécurisés"): named walking routes coordinators compose, check
side by side with the shortest path, and publish on the territory's public page
(:mod:`app.routes.public`).

Who does what (DESIGN §6): coordinators of the territory (and admins) create, edit,
publish and delete; police and planners read; the public reads published circuits only,
on the public page. A circuit is computed from the public release (the figures the public
page shows), on save and again by :func:`refresh_circuits` when a release is made.

Answers: 200 pages; 302 after a write; 404 for an unknown territory or circuit; 403 for
another territory's or role's account; 422 with the form and each bad field named, when
the circuit cannot be routed (a point off the graph, no path) nothing is written.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from werkzeug.exceptions import NotFound

from app import access
from app.errors import ValidationError
from app.extensions import db
from app.models import TIMES_OF_DAY, Circuit, Territory, utcnow
from app.routes import circuitmaps
from app.routes.api import MAX_WAYPOINTS
from app.routes.planner import plan_route
from geo.errors import GeoError

bp = Blueprint("circuits", __name__, url_prefix="/t/<slug>/circuits")

NAME_MAX = 200
LABEL_MAX = 200
TEXT_MAX = 5000
# What a circuit may be computed for: every time of day, or all pins ("").
CIRCUIT_TIMES = ("", *[t for t in TIMES_OF_DAY if t != "always"])
# The planner names the points as its API does (from, via[0]…, to); the form names them
# after the circuit.
PLANNER_FIELDS = {"from": "origin", "to": "destination"}


# -- reading ---------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index(slug: str):
    """Every circuit of the territory, published or not, with its figures."""
    territory = access.territory_for(slug, *access.READERS)
    circuits = db.session.scalars(
        sa.select(Circuit).where(Circuit.territory_id == territory.id).order_by(Circuit.name)
    ).all()
    return render_template(
        "routes/circuits.html",
        territory=territory,
        circuits=[(c, circuitmaps.figures(c.result)) for c in circuits],
        can_write=access.may_write(territory),
    )


def circuit_of(territory: Territory, circuit_id: int) -> Circuit:
    """The circuit ``circuit_id`` of ``territory``; 404 otherwise."""
    circuit = db.session.get(Circuit, circuit_id)
    if circuit is None or circuit.territory_id != territory.id:
        abort(404, description=_("Circuit inconnu."))
    return circuit


@bp.get("/<int:circuit_id>")
@login_required
def show(slug: str, circuit_id: int):
    """The recommended and the shortest paths side by side: figures, streets in walking
    order, stretches avoided, both on a map, and when they were last computed."""
    territory = access.territory_for(slug, *access.READERS)
    circuit = circuit_of(territory, circuit_id)
    return render_template(
        "routes/circuit.html",
        territory=territory,
        circuit=circuit,
        figures=circuitmaps.figures(circuit.result),
        map_spec=circuitmaps.circuit_map(territory, [circuit]),
        can_write=access.may_write(territory),
    )


# -- writing ---------------------------------------------------------------------------------


@bp.route("/nouveau", methods=["GET", "POST"])
@login_required
def create(slug: str):
    """A new circuit, routed before it is stored."""
    territory = access.territory_for(slug, *access.WRITERS)
    if request.method == "GET":
        return _form(territory, None, {"time_of_day": "night"}, {})
    circuit = Circuit(territory_id=territory.id, created_by=current_user.id, published=False)
    try:
        _apply(territory, circuit, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _form(territory, None, request.form, exc.fields), 422
    db.session.add(circuit)
    db.session.commit()
    return redirect(url_for("circuits.show", slug=slug, circuit_id=circuit.id))


def _writable(slug: str, circuit_id: int) -> tuple[Territory, Circuit]:
    """The territory and circuit a writer (coordinator, admin) may change; 403/404."""
    territory = access.territory_for(slug, *access.WRITERS)
    return territory, circuit_of(territory, circuit_id)


@bp.route("/<int:circuit_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(slug: str, circuit_id: int):
    """Change a circuit's name, places, waypoints or time of day; routed again."""
    territory, circuit = _writable(slug, circuit_id)
    if request.method == "GET":
        return _form(territory, circuit, values_of(circuit), {})
    try:
        _apply(territory, circuit, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _form(territory, circuit_of(territory, circuit_id), request.form, exc.fields), 422
    db.session.commit()
    return redirect(url_for("circuits.show", slug=slug, circuit_id=circuit.id))


@bp.post("/<int:circuit_id>/publication")
@login_required
def publish(slug: str, circuit_id: int):
    """Publish (``published=1``) or withdraw the circuit from the public page."""
    _territory, circuit = _writable(slug, circuit_id)
    wanted = request.form.get("published", "")
    if wanted not in ("0", "1"):
        _refuse("published", _("Valeur 0 ou 1 attendue."))
    if wanted == "1" and circuitmaps.figures(circuit.result) is None:
        _refuse("published", _("Ce circuit n’a pas encore d’itinéraire calculé."), 409)
    circuit.published = wanted == "1"
    db.session.commit()
    return redirect(url_for("circuits.show", slug=slug, circuit_id=circuit.id))


@bp.post("/<int:circuit_id>/suppression")
@login_required
def delete(slug: str, circuit_id: int):
    """Delete the circuit (and take it off the public page) once ``confirm=1``."""
    _territory, circuit = _writable(slug, circuit_id)
    if request.form.get("confirm") != "1":
        _refuse("confirm", _("Cochez la case pour confirmer la suppression."))
    db.session.delete(circuit)
    db.session.commit()
    return redirect(url_for("circuits.index", slug=slug))


def _refuse(field: str, message: str, status: int = 422) -> None:
    raise ValidationError({field: message}, message, status=status)


def _form(territory: Territory, circuit: Circuit | None, values, errors: dict):
    return render_template(
        "routes/circuit_form.html",
        territory=territory,
        circuit=circuit,
        values=values,
        errors=errors,
        times=CIRCUIT_TIMES,
        map_spec=circuitmaps.circuit_map(territory, [circuit] if circuit else []),
    )


def values_of(circuit: Circuit) -> dict:
    """The form's values for a stored circuit."""
    return {
        "name": circuit.name,
        "description": circuit.description,
        "origin_label": circuit.origin_label,
        "destination_label": circuit.destination_label,
        "origin": point_text(to_shape(circuit.origin).coords[0]),
        "destination": point_text(to_shape(circuit.destination).coords[0]),
        "waypoints": "\n".join(point_text(p) for p in circuit.waypoints),
        "time_of_day": circuit.time_of_day,
    }


# -- the form ----------------------------------------------------------------------------------


def point_text(point) -> str:
    lon, lat = point[:2]
    return f"{lon:.6f}, {lat:.6f}"


def parse_point(text: str) -> tuple[float, float] | None:
    """``"lon, lat"`` (degrees, WGS 84) as a pair, or None if it is not one."""
    parts = text.replace(";", ",").split(",")
    if len(parts) != 2:
        return None
    try:
        lon, lat = (float(p.strip()) for p in parts)
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _text(values, name: str, limit: int, errors: dict, required: bool = False) -> str:
    text = values.get(name, "").strip()
    if required and not text:
        errors[name] = _("Ce champ est obligatoire.")
    elif len(text) > limit:
        errors[name] = _("%(max)d caractères au plus.", max=limit)
    return text


def parse_circuit(values) -> dict:
    """The circuit form checked into clean values; ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    clean = {
        "name": _text(values, "name", NAME_MAX, errors, required=True),
        "description": _text(values, "description", TEXT_MAX, errors),
        "origin_label": _text(values, "origin_label", LABEL_MAX, errors),
        "destination_label": _text(values, "destination_label", LABEL_MAX, errors),
    }
    wrong_point = _("Longitude, latitude attendues (par exemple -1.6742, 48.1119).")
    for name in ("origin", "destination"):
        clean[name] = parse_point(values.get(name, ""))
        if clean[name] is None:
            errors[name] = wrong_point
    lines = [line for line in values.get("waypoints", "").splitlines() if line.strip()]
    clean["waypoints"] = [parse_point(line) for line in lines]
    if any(p is None for p in clean["waypoints"]):
        errors["waypoints"] = _("Une étape par ligne : longitude, latitude.")
    elif len(lines) > MAX_WAYPOINTS:
        errors["waypoints"] = _("%(max)d étapes au plus.", max=MAX_WAYPOINTS)
    clean["time_of_day"] = values.get("time_of_day", "")
    if clean["time_of_day"] not in CIRCUIT_TIMES:
        errors["time_of_day"] = _("Moment de la journée inconnu.")
    if errors:
        raise ValidationError(
            errors, _("Le circuit n’est pas enregistré : corrigez les champs signalés.")
        )
    return clean


def _apply(territory: Territory, circuit: Circuit, values) -> None:
    """Check the form, route the circuit and write both into ``circuit`` (no commit)."""
    clean = parse_circuit(values)
    points = [clean["origin"], *clean["waypoints"], clean["destination"]]
    result = route_points(territory, points, clean["time_of_day"])
    for name in ("name", "description", "origin_label", "destination_label", "time_of_day"):
        setattr(circuit, name, clean[name])
    circuit.origin = f"SRID=4326;{Point(clean['origin']).wkt}"
    circuit.destination = f"SRID=4326;{Point(clean['destination']).wkt}"
    circuit.waypoints = [list(p) for p in clean["waypoints"]]
    store_result(circuit, result)


def route_points(territory: Territory, points: list, time_of_day: str) -> dict:
    """The planner's FeatureCollection for ``points`` from the public release; its
    refusals (bad place, no path, a cost it cannot compute) as a ValidationError on the
    form's fields, so that a refresh after a release skips the circuit instead of failing."""
    try:
        return plan_route(territory, points, time_of_day or None, full=False)
    except ValidationError as exc:
        fields = {_form_field(k): v for k, v in exc.fields.items()}
        raise ValidationError(fields, exc.message) from exc
    except NotFound as exc:
        message = exc.description or _("Aucun itinéraire ne relie ces points.")
        raise ValidationError({"route": message}, message) from exc
    except GeoError as exc:  # the cost or graph computation refused its input
        raise ValidationError(
            {_form_field(exc.field or "route"): exc.message}, exc.message
        ) from exc


def _form_field(planner_field: str) -> str:
    """The form field a planner error lands on; ``route`` (the form's top) for others."""
    if planner_field.startswith("via"):
        return "waypoints"
    if planner_field == "time_of_day":
        return planner_field
    return PLANNER_FIELDS.get(planner_field, "route")


def store_result(circuit: Circuit, result: dict) -> None:
    circuit.result = result
    circuit.computed_at = utcnow()
    circuit.release_id = (result.get("meta") or {}).get("release_id")


def circuit_points(circuit: Circuit) -> list[tuple[float, float]]:
    """The circuit's points in walking order: origin, waypoints, destination."""
    origin = to_shape(circuit.origin).coords[0]
    destination = to_shape(circuit.destination).coords[0]
    return [tuple(origin), *(tuple(p) for p in circuit.waypoints), tuple(destination)]


def refresh_circuits(territory: Territory) -> tuple[int, list[str]]:
    """Compute every circuit of ``territory`` again (after a new public release): its
    result, ``computed_at`` and ``release_id``. No commit: the caller commits.

    A circuit the planner now refuses (its points left the graph, no path any more)
    keeps its last result; its name is returned so that the caller can say so.

    Returns
    -------
    (int, list[str])
        How many circuits were recomputed, and the names of those that could not be.
    """
    done, failed = 0, []
    circuits = db.session.scalars(
        sa.select(Circuit).where(Circuit.territory_id == territory.id).order_by(Circuit.id)
    ).all()
    for circuit in circuits:
        try:
            result = route_points(territory, circuit_points(circuit), circuit.time_of_day)
        except ValidationError as exc:
            current_app.logger.warning("circuit %s not recomputed: %s", circuit.id, exc.fields)
            failed.append(circuit.name)
            continue
        store_result(circuit, result)
        done += 1
    return done, failed
