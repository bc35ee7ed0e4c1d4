"""The action form: its values checked into clean fields (a zone drawn, taken from hot
spot cells or from quartiers) and applied to the action; no commit here."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import shapely
import sqlalchemy as sa
from flask_babel import gettext as _
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape

from app.analysis import layers
from app.analysis.filters import parse_filters
from app.errors import ValidationError
from app.extensions import db
from app.models import (
    ACTION_STATUSES,
    PARTNERS,
    Action,
    Quartier,
    Territory,
)
from app.territories import places
from geo import projections
from geo.hexgrid import hex_polygons

TITLE_MAX = 200
TEXT_MAX = 5000
HOTSPOT_SIZE = 150.0
ZONE_TYPE = Geometry("MULTIPOLYGON", srid=4326)


def hot_cells(territory: Territory) -> list[dict]:
    """Significant hot spots (Gi*, every pin) a zone can be made of: id, z, count, and
    the place people would name: its quartier and nearest street."""
    filters = parse_filters(territory, {})
    filters.full = True
    features = [
        f for f in layers.hotspot_layer(territory, filters).features if f["properties"]["bin"] > 0
    ]
    centres = [shapely.geometry.shape(f["geometry"]).centroid for f in features]
    names = places.place_names(territory, [(c.x, c.y) for c in centres])
    cells = [
        {"id": f["id"], "z": f["properties"]["z"], "count": f["properties"].get("count"), **name}
        for f, name in zip(features, names, strict=True)
    ]
    return sorted(cells, key=lambda c: -c["z"])


def values_of(action: Action) -> dict:
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


def apply_values(action: Action, clean: dict) -> None:
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
