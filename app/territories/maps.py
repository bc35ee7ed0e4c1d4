"""Map descriptions for the pages: plain JSON-able dicts that static/js/layermap.js draws.

A page puts the description in a JSON data island (``{{ spec|tojson }}``) and the module
draws it with Leaflet, inserting every text (quartier names, titles, labels, comments)
as text. Nothing here is markup, script or template source: user text stays data
(DESIGN §3, §6).

A description::

    {"quartiers": FeatureCollection (properties: name, area), "streets": URL,
     "tiles": {"url", "attribution", "name"} | None, "bounds": [[s, w], [n, e]] | None,
     "control": bool (show the layer switcher), "layers": [layer, ...]}

a layer: ``{"name", "show", "features": [feature, ...]}`` or, for a picture,
``{"name", "show", "image": {"url", "bounds"}}``; a feature is GeoJSON whose properties
hold ``style`` (Leaflet path options; a point also ``radius``) and ``popup``:
``{"title": str | None, "lines": [str], "link": {"href", "text"} | None}``.
"""

from __future__ import annotations

import shapely
from flask import current_app, url_for
from flask_babel import gettext as _

from app.models import Territory
from app.territories import places


def base_spec(territory: Territory, features: list[dict] | None = None) -> dict:
    """The territory's quartiers (or ``features``), streets and tiles; no layer yet."""
    if features is None:
        features = places.quartier_features(territory)
    tile_url = current_app.config.get("TILE_URL")
    return {
        "quartiers": {
            "type": "FeatureCollection",
            "features": [_quartier(feature) for feature in features],
        },
        "streets": url_for("public.streets", slug=territory.slug),
        "tiles": {
            "url": tile_url,
            "attribution": current_app.config["TILE_ATTRIBUTION"],
            "name": _("Fond de plan"),
        }
        if tile_url
        else None,
        "bounds": places.territory_bounds(territory),
        "control": False,
        "layers": [],
    }


def _quartier(feature: dict) -> dict:
    props = feature["properties"]
    return {
        "type": "Feature",
        "geometry": feature["geometry"],
        "properties": {
            "name": str(props["name"]),
            "area": _("%(area)s\u00a0km²", area=f"{props['area_km2']:.2f}"),
        },
    }


def layer(name: str, show: bool, id: str | None = None) -> dict:
    """An empty overlay named for people (the layer switcher shows ``name``); ``id``: the
    layer's machine name, for the page's scripts (the map image asks for the visible ones)."""
    return {"name": str(name), "show": bool(show), "features": [], "id": id}


def image_layer(name: str, show: bool, url: str | None, bbox=None, id: str | None = None) -> dict:
    """A picture overlay (the density) over ``bbox`` = (west, south, east, north)."""
    image = None
    if url is not None:
        west, south, east, north = bbox
        image = {"url": url, "bounds": [[south, west], [north, east]]}
    return {"name": str(name), "show": bool(show), "image": image, "id": id}


def feature(geometry: dict, style: dict, lines: list, title=None, link: dict | None = None) -> dict:
    """A GeoJSON feature drawn with ``style``, whose popup shows ``title`` and ``lines``
    (plain text each) and an optional ``link`` ``{"href", "text"}``."""
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "style": style,
            "popup": {
                "title": None if title is None else str(title),
                "lines": [str(line) for line in lines],
                "link": link,
            },
        },
    }


def cell_style(colour: str, opacity: float) -> dict:
    """A filled hexagon of one colour."""
    return {"color": colour, "weight": 0.5, "fillColor": colour, "fillOpacity": round(opacity, 3)}


def bounds_of(shapes: list) -> list[list[float]]:
    """``[[south, west], [north, east]]`` around shapely ``shapes``, for Leaflet."""
    west, south, east, north = shapely.union_all(shapes).bounds
    return [[south, west], [north, east]]
