"""The public routes page ``/t/<slug>/itineraires``: the published circuits on a map,
each printable on A4 for signposting and downloadable as GPX and GeoJSON, and the route
finder (static/js/routefinder.js asks the routes API, :mod:`app.routes.api`).

Everything here comes from the public release (DESIGN §6): a circuit's stored result is
computed from it, and the finder asks the API without ``full``. Unpublished circuits
are answered 404, except to the territory's staff (who check them before publishing).

Answers: 200; 404 for an unknown territory or circuit, or a circuit not published.
"""

from __future__ import annotations

import base64

import segno
import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape

from app import access, vocabulary
from app.extensions import db
from app.models import Circuit, Quartier, Territory
from app.routes import circuitmaps
from app.routes.circuits import CIRCUIT_TIMES
from app.territories import maps, places

bp = Blueprint("itineraries", __name__, url_prefix="/t/<slug>/itineraires")


def _territory(slug: str) -> Territory:
    territory = places.get_territory(slug)
    if territory is None:
        abort(404, description=_("Territoire inconnu : %(slug)s", slug=slug))
    return territory


def published(territory: Territory) -> list[Circuit]:
    return db.session.scalars(
        sa.select(Circuit)
        .where(Circuit.territory_id == territory.id, Circuit.published.is_(True))
        .order_by(Circuit.name)
    ).all()


def _visible(territory: Territory, circuit_id: int) -> Circuit:
    """A published circuit of ``territory``, or any of its circuits for its staff."""
    circuit = db.session.get(Circuit, circuit_id)
    if (
        circuit is None
        or circuit.territory_id != territory.id
        or not (circuit.published or access.staff(territory))
        or circuitmaps.figures(circuit.result) is None
    ):
        abort(404, description=_("Circuit inconnu."))
    return circuit


def place_list(territory: Territory, circuits: list[Circuit]) -> list[dict]:
    """Places a resident can pick without the map: the published circuits' labelled
    ends, then each quartier (a point inside it), sorted by name, each name once."""
    found: dict[str, dict] = {}
    for circuit in circuits:
        for geom, label in (
            (circuit.origin, circuit.origin_label),
            (circuit.destination, circuit.destination_label),
        ):
            if label and label not in found:
                point = to_shape(geom)
                found[label] = {"label": label, "lon": point.x, "lat": point.y}
    inside = sa.func.ST_PointOnSurface(Quartier.geom)
    rows = db.session.execute(
        sa.select(Quartier.name, sa.func.ST_X(inside), sa.func.ST_Y(inside))
        .where(Quartier.territory_id == territory.id)
        .order_by(Quartier.name)
    )
    for name, lon, lat in rows:
        label = _("Quartier %(name)s", name=name)
        found.setdefault(label, {"label": label, "lon": lon, "lat": lat})
    return sorted(found.values(), key=lambda p: p["label"].casefold())


def weight_words() -> dict:
    """The cost's weights as the page states them, numbers in the reader's language."""
    alpha, beta = current_app.config["ROUTE_ALPHA"], current_app.config["ROUTE_BETA"]
    return {
        "unsafe": format_decimal(1 + alpha),
        "alpha": format_decimal(alpha),
        "alpha_pct": format_decimal(round(100 * alpha)),
        "beta": format_decimal(beta),
        "beta_pct": format_decimal(round(100 * beta)),
    }


def finder_texts() -> dict:
    """The route finder's words, in the reader's language (the module formats ``{m}``)."""
    return {
        "map_point": _("Point touché sur la carte"),
        "recommended": _("Itinéraire conseillé : {m} m, {min} min"),
        "shortest": _("Le plus court : {m} m, {min} min"),
        "longer": _("{m} m et {min} min de plus que le plus court."),
        "same": _("Le plus court est aussi le plus sûr : les deux itinéraires se confondent."),
        "exposure": _("Exposition aux lieux signalés comme insécurisants réduite de {pct} %."),
        "why": _("Pourquoi ce détour ? Il évite :"),
        "avoided": _("{name} ({m} m)"),
        "streets": _("Rues empruntées, dans l’ordre"),
        "unnamed": _("voie sans nom"),
        "weights": _(
            "Réglages : α = {alpha} (un détour jusqu’à {alpha_pct} % pour éviter la rue "
            "la plus redoutée), β = {beta} (une rue jugée sûre paraît {beta_pct} % plus courte)."
        ),
        "searching": _("Calcul de l’itinéraire…"),
        "next_from": _("Touchez la carte pour placer le départ."),
        "next_to": _("Touchez la carte pour placer l’arrivée."),
        "pick_both": _("Choisissez un départ et une arrivée."),
        "not_found": _("Aucun itinéraire ne relie ces deux points."),
        "failed": _("Le calcul a échoué. Réessayez dans quelques instants."),
        "offline": _("Pas de connexion : réessayez quand le réseau revient."),
        "fields": {
            "from": _("Départ"),
            "to": _("Arrivée"),
            "via": _("Étapes"),
            "time_of_day": _("Moment"),
        },
    }


@bp.get("/")
def page(slug: str):
    """Published circuits (map and list) and the route finder."""
    territory = _territory(slug)
    circuits = published(territory)

    def link(circuit: Circuit) -> dict:
        href = url_for("itineraries.sheet", slug=slug, circuit_id=circuit.id)
        return {"href": href, "text": _("Fiche à imprimer")}

    finder = maps.base_spec(territory)
    finder["api"] = url_for("routes_api.routes", slug=territory.slug)
    return render_template(
        "routes/itineraires.html",
        territory=territory,
        circuits=[(c, circuitmaps.figures(c.result)) for c in circuits],
        map_spec=circuitmaps.circuit_map(territory, circuits, link) if circuits else None,
        finder=finder,
        places=place_list(territory, circuits),
        texts=finder_texts(),
        weights=weight_words(),
        times=CIRCUIT_TIMES,
        updated_on=circuitmaps.updated_on,
        time_label=circuitmaps.time_label,
    )


@bp.get("/<int:circuit_id>")
def sheet(slug: str, circuit_id: int):
    """One circuit on an A4 sheet, for signposting: map, figures, streets in order, the
    date of the last computation and a QR code to the page."""
    territory = _territory(slug)
    circuit = _visible(territory, circuit_id)
    picture = circuitmaps.route_png(territory, circuit)
    page_url = url_for("itineraries.page", slug=slug, _external=True)
    return render_template(
        "routes/sheet.html",
        territory=territory,
        circuit=circuit,
        figures=circuitmaps.figures(circuit.result),
        picture=base64.b64encode(picture).decode("ascii") if picture else None,
        qr=segno.make(page_url, error="m").svg_inline(scale=3, border=1),
        page_url=page_url,
        updated_on=circuitmaps.updated_on(circuit),
        time_label=circuitmaps.time_label(circuit.time_of_day),
        colours=vocabulary.ROUTE_COLOURS,
    )


@bp.get("/<int:circuit_id>.<any(gpx, geojson):fmt>")
def download(slug: str, circuit_id: int, fmt: str):
    """The circuit as a GPX 1.1 file (GPS apps) or GeoJSON (GIS)."""
    territory = _territory(slug)
    circuit = _visible(territory, circuit_id)
    filename = f"circuit-{territory.slug}-{circuit.id}.{fmt}"
    if fmt == "gpx":
        response = Response(circuitmaps.gpx_file(circuit), mimetype="application/gpx+xml")
    else:
        response = jsonify(circuitmaps.geojson_file(circuit))
        response.mimetype = "application/geo+json"
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response
