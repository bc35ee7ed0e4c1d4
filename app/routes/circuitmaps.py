"""What the circuit pages show of a computed route: its figures, a map description for
static/js/layermap.js (names as text), the printed sheet's picture, and the GPX/GeoJSON
files. A route is the planner's FeatureCollection (:func:`app.routes.planner.plan_route`):
features ``recommended`` and ``shortest`` with their figures, and ``meta``.
"""

from __future__ import annotations

import math

import shapely
import shapely.affinity
import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape
from shapely.geometry import shape

from app import vocabulary
from app.extensions import db
from app.models import Circuit, Street, Territory
from app.territories import maps
from geo.gpx import Route, Track, Waypoint, gpx_document, segments_of

KINDS = ("recommended", "shortest")
ROUTE_STYLES = {
    "recommended": {"color": vocabulary.ROUTE_COLOURS["recommended"], "weight": 6, "opacity": 0.9},
    "shortest": {
        "color": vocabulary.ROUTE_COLOURS["shortest"],
        "weight": 4,
        "opacity": 0.8,
        "dashArray": "6 8",
    },
}
END_STYLE = {"radius": 7, "color": "#fff", "weight": 2, "fillOpacity": 1,
             "fillColor": vocabulary.ROUTE_COLOURS["ends"]}  # fmt: skip


def paths(result: dict | None) -> dict[str, dict]:
    """The result's features by kind (``recommended``, ``shortest``); {} without one."""
    features = (result or {}).get("features") or []
    return {f["id"]: f for f in features if f.get("id") in KINDS}


def figures(result: dict | None) -> dict | None:
    """For the pages: each path's properties, and how much longer the recommended one
    is (metres, minutes). None when the circuit has no computed route."""
    found = paths(result)
    if len(found) != len(KINDS):
        return None
    recommended, shortest = (found[k]["properties"] for k in KINDS)
    return {
        "recommended": recommended,
        "shortest": shortest,
        "extra_m": round(recommended["length_m"] - shortest["length_m"]),
        "extra_minutes": round(recommended["minutes"] - shortest["minutes"]),
        "meta": result.get("meta") or {},
    }


def updated_on(circuit: Circuit) -> str:
    """ "mis à jour le 2 décembre 2026 à 18:30", or that it never was computed."""
    if circuit.computed_at is None:
        return _("pas encore calculé")
    when = format_datetime(circuit.computed_at, "d MMMM y 'à' HH:mm")
    return _("mis à jour le %(when)s", when=when)


def time_label(time_of_day: str) -> str:
    return str(vocabulary.TIME_LABELS.get(time_of_day, _("À toute heure")))


def summary_lines(circuit: Circuit) -> list[str]:
    """A circuit in a few plain lines: from → to, length and time, when, last update."""
    lines = []
    if circuit.origin_label or circuit.destination_label:
        lines.append(f"{circuit.origin_label or '…'} → {circuit.destination_label or '…'}")
    found = figures(circuit.result)
    if found:
        lines.append(
            _(
                "%(m)s m, %(min)s min à pied",
                m=round(found["recommended"]["length_m"]),
                min=round(found["recommended"]["minutes"]),
            )
        )
    lines += [time_label(circuit.time_of_day), updated_on(circuit)]
    return lines


def circuit_map(territory: Territory, circuits: list[Circuit], link=None) -> dict:
    """The territory's base map with each circuit's recommended and shortest paths and
    its two ends; ``link(circuit)`` gives each line's popup link (``{"href", "text"}``)."""
    spec = maps.base_spec(territory)
    layers = {
        "recommended": maps.layer(_("Itinéraires conseillés"), True, id="recommended"),
        "shortest": maps.layer(_("Itinéraires les plus courts"), True, id="shortest"),
        "ends": maps.layer(_("Départs et arrivées"), True, id="ends"),
    }
    shapes = []
    for circuit in circuits:
        lines = summary_lines(circuit)
        for kind, feature in paths(circuit.result).items():
            shapes.append(shape(feature["geometry"]))
            layers[kind]["features"].append(
                maps.feature(
                    feature["geometry"],
                    ROUTE_STYLES[kind],
                    lines,
                    title=circuit.name,
                    link=link(circuit) if link else None,
                )
            )
        for point, label in _ends(circuit):
            layers["ends"]["features"].append(
                maps.feature(point, END_STYLE, [circuit.name], title=label)
            )
    # The shortest under the recommended, the ends on top.
    spec["layers"] = [layers["shortest"], layers["recommended"], layers["ends"]]
    spec["control"] = bool(circuits)
    if shapes:
        spec["bounds"] = maps.bounds_of(shapes)
    return spec


def _ends(circuit: Circuit):
    for geom, label, default in (
        (circuit.origin, circuit.origin_label, _("Départ")),
        (circuit.destination, circuit.destination_label, _("Arrivée")),
    ):
        if geom is not None:
            point = to_shape(geom)
            yield {"type": "Point", "coordinates": [point.x, point.y]}, label or default


def route_png(territory: Territory, circuit: Circuit, width: int = 900) -> bytes | None:
    """The printed sheet's map: the streets around, the shortest path thin and grey, the
    recommended one thick, both ends; None without a computed route."""
    from geo.render import Style, render_png  # Pillow: heavy, loaded late

    found = paths(circuit.result)
    if not found:
        return None
    lines = {kind: shape(f["geometry"]) for kind, f in found.items()}
    west, south, east, north = shapely.union_all(list(lines.values())).bounds
    west, south, east, north = west - 0.002, south - 0.0015, east + 0.002, north + 0.0015
    box = sa.func.ST_MakeEnvelope(west, south, east, north, 4326)
    streets = [
        to_shape(g)
        for g in db.session.scalars(
            sa.select(Street.geom).where(
                Street.territory_id == territory.id, sa.func.ST_Intersects(Street.geom, box)
            )
        )
    ]
    # Round on the Mercator picture: a circle in degrees, widened by 1/cos(latitude).
    radius = 0.012 * max(east - west, north - south)
    stretch = 1 / math.cos(math.radians((south + north) / 2))
    ends = [
        shapely.affinity.scale(to_shape(g).buffer(radius), xfact=stretch)
        for g in (circuit.origin, circuit.destination)
    ]
    colour = {k: (*vocabulary.rgb(c), 255) for k, c in vocabulary.ROUTE_COLOURS.items()}
    layers = [
        (streets, Style(outline=(170, 170, 170, 255), width=2)),
        ([lines["shortest"]] if "shortest" in lines else [], Style(colour["shortest"], width=3)),
        ([lines["recommended"]], Style(colour["recommended"], width=8)),
        (ends, Style(outline=(255, 255, 255, 255), fill=colour["ends"], width=2)),
    ]
    return render_png(layers, (west, south, east, north), width=width)


def gpx_file(circuit: Circuit) -> bytes:
    """The circuit as GPX 1.1: its ends as waypoints, the recommended path as a track."""
    found = paths(circuit.result)
    origin, destination = to_shape(circuit.origin), to_shape(circuit.destination)
    return gpx_document(
        Route(
            name=circuit.name,
            description=circuit.description,
            time=circuit.computed_at,
            waypoints=(
                Waypoint(circuit.origin_label or _("Départ"), origin.x, origin.y),
                Waypoint(circuit.destination_label or _("Arrivée"), destination.x, destination.y),
            ),
            tracks=tuple(
                Track(
                    circuit.name if kind == "recommended" else _("Le plus court"),
                    segments_of(found[kind]["geometry"]),
                    kind=kind,
                )
                for kind in KINDS
                if kind in found
            ),
        )
    )


def geojson_file(circuit: Circuit) -> dict:
    """The circuit as a GeoJSON FeatureCollection: both paths, the circuit's own words
    in each feature's properties and in ``circuit``."""
    about = {
        "name": circuit.name,
        "description": circuit.description,
        "origin_label": circuit.origin_label,
        "destination_label": circuit.destination_label,
        "time_of_day": circuit.time_of_day or None,
        "computed_at": circuit.computed_at.isoformat() if circuit.computed_at else None,
    }
    features = [
        {**f, "properties": {**f["properties"], "circuit": circuit.name}}
        for f in paths(circuit.result).values()
    ]
    meta = (circuit.result or {}).get("meta") or {}
    return {"type": "FeatureCollection", "features": features, "circuit": about, "meta": meta}
