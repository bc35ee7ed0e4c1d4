"""Maps of the follow-up, described as data for static/js/layermap.js: action zones over
the hot spots (board), one action's zone, the zone drawing form (static/js/drawzone.js,
leaflet-draw from npm), and the public quartier map.

Action titles go into popups as plain text: the browser inserts them as text.
"""

from __future__ import annotations

import shapely
from flask import url_for
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape

from app import access, vocabulary
from app.analysis.dashboard_map import hotspots
from app.analysis.filters import parse_filters
from app.models import Action, Territory
from app.territories import maps


def zones(actions: list[Action], link_slug: str | None = None) -> tuple[dict, list]:
    """Each action's zone, coloured by status, with its title and status in a popup (and
    a link to the action's page, with ``link_slug``: the territory's slug); the layer
    and the zones' shapes."""
    group = maps.layer(_("Actions"), True)
    shapes = []
    for action in actions:
        if action.zone is None:
            continue
        shape = to_shape(action.zone)
        shapes.append(shape)
        colour = vocabulary.ACTION_STATUS_COLOURS[action.status]
        style = {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.25}
        link = None
        if link_slug:
            href = url_for("followup.show", slug=link_slug, action_id=action.id)
            link = {"href": href, "text": _("Voir l’action")}
        group["features"].append(
            maps.feature(
                shapely.geometry.mapping(shape),
                style,
                [vocabulary.ACTION_STATUS_LABELS[action.status]],
                title=action.title,
                link=link,
            )
        )
    return group, shapes


def _staff_hotspots(territory: Territory) -> dict:
    filters = parse_filters(territory, {})
    filters.full = True
    return hotspots(territory, filters, show=True)


def board_map(territory: Territory, actions: list[Action]) -> dict:
    spec = maps.base_spec(territory)
    spec["control"] = True
    spec["layers"] = [_staff_hotspots(territory), zones(actions, link_slug=territory.slug)[0]]
    return spec


def zone_map(territory: Territory, actions: list[Action]) -> dict:
    spec = maps.base_spec(territory)
    group, shapes = zones(actions)
    spec["layers"] = [group]
    if shapes:
        spec["bounds"] = maps.bounds_of(shapes)
    return spec


def draw_map(territory: Territory, action: Action | None) -> dict:
    """The form's map: hot spots, the action's zone (its drawing, editable, when it was
    drawn) and, under ``draw``, leaflet-draw's French labels."""
    spec = maps.base_spec(territory)
    spec["layers"] = [_staff_hotspots(territory)]
    initial = None
    if action is not None and action.zone is not None:
        shape = to_shape(action.zone)
        spec["bounds"] = maps.bounds_of([shape])
        if action.zone_kind == "drawn":
            initial = shapely.geometry.mapping(shape)
        else:
            spec["layers"].append(zones([action])[0])
    spec["draw"] = {"initial": initial, "labels": draw_labels()}
    return spec


def draw_labels() -> dict:
    """leaflet-draw's texts, in the page's language."""
    return {
        "polygon": _("Dessiner un polygone"),
        "rectangle": _("Dessiner un rectangle"),
        "cancel": _("Annuler"),
        "finish": _("Terminer"),
        "undo": _("Effacer le dernier point"),
        "start": _("Cliquez pour placer le premier sommet."),
        "cont": _("Cliquez pour continuer le polygone."),
        "end": _("Cliquez le premier sommet pour fermer."),
        "drag": _("Cliquez-glissez pour dessiner un rectangle."),
        "release": _("Relâchez pour terminer."),
        "edit": _("Modifier la zone"),
        "remove": _("Effacer la zone"),
        "nothing": _("Aucune zone"),
        "save": _("Enregistrer"),
        "clear": _("Tout effacer"),
    }


def public_quartier_map(territory: Territory, feature: dict, hexagons: list[dict], actions) -> dict:
    """The quartier, its k-suppressed hexagons and the public actions' zones."""
    spec = maps.base_spec(territory, [feature])
    group = maps.layer(_("Ressentis (agrégés)"), True)
    for cell in hexagons:
        props = cell["properties"]
        unsafe, safe = props["unsafe"] or 0, props["safe"] or 0  # None: under k
        share = unsafe / max(unsafe + safe, 1)
        colour = vocabulary.FEELING_COLOURS["unsafe" if share >= 0.5 else "safe"]
        fewer = _("moins de %(k)d", k=access.suppression_k())
        text = _(
            "%(unsafe)s ressentis d'insécurité, %(safe)s de sécurité",
            unsafe=props["unsafe"] if props["unsafe"] is not None else fewer,
            safe=props["safe"] if props["safe"] is not None else fewer,
        )
        style = maps.cell_style(colour, 0.2 + 0.5 * abs(share - 0.5) * 2)
        group["features"].append(maps.feature(cell["geometry"], style, [text]))
    spec["layers"] = [group, zones(actions)[0]]
    spec["bounds"] = maps.bounds_of([shapely.geometry.shape(feature["geometry"])])
    return spec
