"""Aggregated layers of a territory's pins and their API: hexagons, Gi* hot spots, the
net and difference layers, density (computed in :mod:`.density`).

The filters are read by :mod:`.filters`, the pins counted by PostGIS in :mod:`.counts`;
no pin is loaded into Python. Anonymous readers get the layers of the public release
(DESIGN §6); the territory's staff may ask for the full counts.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import sqlalchemy as sa
from flask import Blueprint, make_response, request
from flask_babel import get_locale
from flask_babel import gettext as _

from app import access, openapi, replica, vocabulary
from app.analysis import cache, release
from app.analysis.cells import Layer, empty_message, hexagon_features, surveyed_cells
from app.analysis.counts import hexagon_counts, hexagon_tally, pin_conditions
from app.analysis.density import density_image, density_layer
from app.analysis.filters import FILTER_PARAMS, Filters, parse_filters, parse_sets, territory_or_404
from app.analysis.trends import trends_layer
from app.errors import ValidationError
from app.extensions import db
from app.models import Category, Pin, Territory
from app.territories import places
from geo.hexgrid import hex_centres, suppression_mask

bp = Blueprint("layers", __name__, url_prefix="/api/v1/territories/<slug>/layers")
bp.before_request(replica.prefer)  # reads what residents wrote: a replica may answer

LAYER_RESPONSES = {200: {openapi.GEOJSON: openapi.ref("FeatureCollection")}}


# -- counting in PostGIS -----------------------------------------------------------------


# -- GeoJSON -------------------------------------------------------------------------------


def _collection(features, filters: Filters, layer: str, message: str | None, **meta) -> dict:
    body = {
        "type": "FeatureCollection",
        "features": features,
        "layer": layer,
        "size_m": filters.size,
        "suppression_k": None if filters.full else access.suppression_k(),
        **meta,
    }
    if message:
        body["message"] = message
    return body


def hexagon_layer(territory: Territory, filters: Filters) -> Layer:
    """Pins per hexagon, unsafe and safe, with each cell's top categories (staff, with
    ``filters.full``); from the public release otherwise."""
    if not filters.full:
        return release.hexagon_layer(territory, filters)
    counts, by_category = hexagon_tally(territory, filters)
    cells = np.array(list(counts), dtype=np.int64).reshape(-1, 2)
    values = np.array(list(counts.values()), dtype=np.int64).reshape(-1, 2)
    if not filters.full and len(values):
        keep = suppression_mask(values.sum(axis=1), access.suppression_k())
        cells, values = cells[keep], values[keep]
    # Public cells name only the categories that reach k themselves.
    tops = top_categories(by_category, k=filters.k)
    props = [
        {
            "unsafe": int(u),
            "safe": int(s),
            "total": int(u + s),
            "top_categories": tops.get((int(q), int(r)), []),
        }
        for (q, r), (u, s) in zip(cells, values, strict=True)
    ]
    features = hexagon_features(territory, filters.size, cells[:, 0], cells[:, 1], props)
    return Layer(features, empty_message(features))


def net_layer(territory: Territory, filters: Filters) -> Layer:
    """(unsafe − safe) / (unsafe + safe) per hexagon, from -1 (safe) to 1 (unsafe)."""
    if filters.feeling:
        raise ValidationError({"feeling": _("La couche nette compare les deux ressentis.")})
    if not filters.full:
        return release.net_layer(territory, filters)
    counts = hexagon_counts(territory, filters)
    k = filters.k
    kept = {cell: uv for cell, uv in counts.items() if sum(uv) >= k}
    cells = np.array(list(kept), dtype=np.int64).reshape(-1, 2)
    props = [{"unsafe": u, "safe": s, "net": round((u - s) / (u + s), 4)} for u, s in kept.values()]
    features = hexagon_features(territory, filters.size, cells[:, 0], cells[:, 1], props)
    return Layer(features, empty_message(features))


def hotspot_layer(territory: Territory, filters: Filters) -> Layer:
    """Getis-Ord Gi* over the surveyed window: every hexagon in the quartiers of the chosen
    workshops (of the workshops the filtered pins come from, when none is chosen), empty
    ones counting 0 (:func:`~app.analysis.cells.surveyed_cells`).

    Weights: binary, within two rings of cells (2√3 × size), the cell included. Only
    significant cells are returned.
    """
    if filters.full:
        counts = hexagon_counts(territory, filters)
        q, r, names = surveyed_cells(territory, filters.size, _surveyed_by(territory, filters))
        values = np.array(
            [sum(counts.get((a, b), (0, 0))) for a, b in zip(q, r, strict=True)], dtype=float
        )
    else:  # the public's hot spots: Gi* of the released noisy counts
        q, r, values, names = release.hotspot_values(territory, filters)
    distance = round(2 * np.sqrt(3) * filters.size * 1.001, 1)
    window = {"cells": len(values), "quartiers": list(names)}
    if len(values) < 3 or values.sum() <= 0:
        message = _("Pas assez de points pour chercher des points chauds.")
        return Layer([], message, {"distance_m": distance, "window": window})
    from geo.hotspots import getis_ord_gi_star  # scipy: loaded with the first hot spots

    cx, cy = hex_centres(q, r, filters.size)
    result = getis_ord_gi_star(values, np.column_stack([cx, cy]), distance)
    shown = result.bins != 0
    props = [
        {"z": round(float(z), 3), "p": float(p), "q": float(qv), "bin": int(b)}
        for z, p, qv, b in zip(
            result.z[shown], result.p[shown], result.q[shown], result.bins[shown], strict=True
        )
    ]
    if filters.full:  # a cell's own count may be small: staff only
        for prop, value in zip(props, values[shown], strict=True):
            prop["count"] = int(value)
    features = hexagon_features(territory, filters.size, q[shown], r[shown], props)
    message = None if features else _("Aucun point chaud ni froid significatif.")
    return Layer(features, message, {"distance_m": distance, "window": window})


def _surveyed_by(territory: Territory, filters: Filters) -> list[int]:
    """The chosen workshops, or those the filtered pins come from."""
    if filters.workshop:
        return list(filters.workshop)
    return db.session.scalars(
        sa.select(Pin.workshop_id).where(*pin_conditions(territory, filters)).distinct()
    ).all()


def gis_layer(territory: Territory, filters: Filters, name: str) -> list[dict]:
    """Hexagon or hot-spot features for GIS clients (exports, OGC API): each cell's top
    categories as one text column."""
    make = hotspot_layer if name == "hotspots" else hexagon_layer
    features = make(territory, filters).features
    for feature in features:
        props = feature["properties"]
        if "top_categories" in props:
            props["top_categories"] = top_categories_text(props["top_categories"])
    return features


def top_categories_text(tops: list) -> str:
    """``[[label, n], …]`` as one text cell: ``Éclairage (12) ; Bruit (4)``."""
    return " ; ".join(f"{label} ({n})" for label, n in tops)


def top_categories(by_category: dict, top: int = 3, k: int = 1) -> dict:
    """``{(q, r): [[label, count], …]}``: each hexagon's most named categories, those
    named at least ``k`` times."""
    labels = {c.id: vocabulary.stored_label(c) for c in db.session.scalars(sa.select(Category))}
    return {
        cell: [
            [labels.get(c, "?"), n]
            for c, n in sorted(tally.items(), key=lambda i: -i[1])[:top]
            if n >= k
        ]
        for cell, tally in by_category.items()
    }


def _serve(territory: Territory, filters: Filters, name: str, make, *extra):
    """The layer ``name`` as GeoJSON, from the shared cache when the territory's data has
    not changed since it was computed (``X-Cache: hit``)."""

    def compute() -> bytes:
        layer = make()
        body = _collection(layer.features, filters, name, layer.message, **(layer.meta or {}))
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    key = cache.cache_key(territory, name, filters, get_locale().language, *extra)
    body, hit = cache.cached(territory, key, compute)
    response = make_response(body)
    response.mimetype = "application/geo+json"
    response.headers["X-Cache"] = "hit" if hit else "miss"
    return response


@openapi.operation(tag="layers", params=FILTER_PARAMS, responses=LAYER_RESPONSES)
def geojson_layer(slug: str, name: str):
    """One layer as GeoJSON: ``/hexagons``, ``/net``, ``/hotspots``, ``/density`` or
    ``/trends`` (staff, ``full=1``: each workshop a period, emerging hot spot patterns)."""
    territory = territory_or_404(slug)
    filters = parse_filters(territory, request.args)
    return _serve(territory, filters, name, lambda: LAYERS[name](territory, filters))


# -- density ---------------------------------------------------------------------------------


@bp.get("/density.png")
@openapi.operation(
    tag="layers", params=FILTER_PARAMS, responses={200: {"image/png": openapi.BINARY}}
)
def density_png(slug: str):
    """The density as a transparent PNG in Web Mercator; bounds in ``X-Bounds``
    (west,south,east,north, degrees) for a Leaflet image overlay; one transparent pixel
    when nothing is left to show."""
    territory = territory_or_404(slug)
    filters = parse_filters(territory, request.args)

    def compute() -> bytes:  # the headers' values, then the picture
        png, bounds, bandwidth = _density_png(territory, filters)
        head = ",".join(f"{v:.6f}" for v in bounds) + f"\n{bandwidth:.1f}\n"
        return head.encode() + png

    key = cache.cache_key(territory, "density.png", filters)
    body, hit = cache.cached(territory, key, compute)
    bounds, bandwidth, png = body.split(b"\n", 2)
    response = make_response(png)
    response.mimetype = "image/png"
    response.headers["X-Bounds"] = bounds.decode()
    response.headers["X-Bandwidth-M"] = bandwidth.decode()
    response.headers["X-Cache"] = "hit" if hit else "miss"
    return response


def _density_png(territory: Territory, filters: Filters):
    image = density_image(territory, filters)
    if image is None:  # a transparent pixel over the territory, and why
        from geo.raster import encode_png  # scipy: heavy, loaded late

        west_south, east_north = places.territory_bounds(territory) or [[0, 0], [0, 0]]
        bounds = (west_south[1], west_south[0], east_north[1], east_north[0])
        image = (encode_png(np.zeros((1, 1, 4), dtype=np.uint8)), bounds, 0.0)
    return image


def difference_layer(territory: Territory, filters: Filters, a: list[int], b: list[int]) -> Layer:
    """Compare two workshop sets (two editions, say) hexagon by hexagon.

    Each set's counts become shares of that set's total, so that a larger second
    edition does not look worse everywhere; ``difference = share_b − share_a``
    (positive: the place weighs more in B). Cells with fewer than k pins in A and B
    together are hidden from the public.
    """
    if not filters.full:
        return release.difference_layer(territory, filters, a, b)
    counts = {}
    for key, ids in (("a", a), ("b", b)):
        for cell, uv in hexagon_counts(territory, replace(filters, workshop=ids)).items():
            counts.setdefault(cell, {"a": 0, "b": 0})[key] = sum(uv)
    totals = {key: sum(c[key] for c in counts.values()) for key in ("a", "b")}
    k = filters.k
    kept = {cell: c for cell, c in counts.items() if c["a"] + c["b"] >= k}
    if not totals["a"] or not totals["b"]:
        message = _("Un des deux ensembles d'ateliers n'a aucun point.")
        return Layer([], message, {"total_a": totals["a"], "total_b": totals["b"]})
    cells = np.array(list(kept), dtype=np.int64).reshape(-1, 2)
    props = []
    for c in kept.values():
        share_a, share_b = c["a"] / totals["a"], c["b"] / totals["b"]
        props.append(
            {
                "a": c["a"],
                "b": c["b"],
                "share_a": round(share_a, 5),
                "share_b": round(share_b, 5),
                "difference": round(share_b - share_a, 5),
            }
        )
    features = hexagon_features(territory, filters.size, cells[:, 0], cells[:, 1], props)
    return Layer(
        features, empty_message(features), {"total_a": totals["a"], "total_b": totals["b"]}
    )


@bp.get("/difference")
@openapi.operation(
    tag="layers",
    params=(
        *[p for p in FILTER_PARAMS if p["name"] != "workshop"],
        openapi.query("a", openapi.text(), "First set of workshop ids.", required=True),
        openapi.query("b", openapi.text(), "Second set of workshop ids.", required=True),
    ),
    responses=LAYER_RESPONSES,
)
def difference(slug: str):
    """Two workshop sets compared per hexagon (GeoJSON): ``?a=1,2&b=3``."""
    territory = territory_or_404(slug)
    filters = parse_filters(territory, request.args, compare=True)
    a, b = parse_sets(territory, request.args)
    make = lambda: difference_layer(territory, filters, a, b)  # noqa: E731
    return _serve(territory, filters, "difference", make, a, b)


LAYERS = {
    "hexagons": hexagon_layer,
    "net": net_layer,
    "hotspots": hotspot_layer,
    "density": density_layer,
    "trends": trends_layer,
}
for _name in LAYERS:
    bp.add_url_rule(f"/{_name}", endpoint=_name, view_func=geojson_layer, defaults={"name": _name})
