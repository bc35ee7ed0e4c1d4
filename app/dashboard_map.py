"""The dashboard's folium map: density, hexagons, hot spots, net, difference and raw
points over the quartiers and streets. Imported on the first dashboard page only, so
that workers serving the API do not load folium.

Every user text put in a popup is escaped here, since popups take HTML.
"""

from __future__ import annotations

import base64

import folium
import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from geoalchemy2.shape import to_shape
from markupsafe import escape

from app import audit, layers, maps, territories
from app.dashboard import (
    COMMENT_READERS,
    FEELING_COLOURS,
    HEX_STEPS,
    HOTSPOT_COLOURS,
    RAW_POINT_LIMIT,
)
from app.extensions import db
from app.models import Category, Pin


def build_map(territory, filters, compare=None) -> tuple[dict, dict]:
    fmap = maps.base_map()
    maps.add_streets(fmap, _streets_url(territory))
    features = territories.quartier_features(territory)
    maps.add_quartiers(fmap, features, _("%(area)s\u00a0km²", area="{area:.2f}"))
    _add_density(fmap, territory, filters)
    summary = _add_hexagons(fmap, territory, filters)
    add_hotspots(fmap, territory, filters)
    _add_net(fmap, territory, filters)
    if compare:
        _add_difference(fmap, territory, filters, *compare)
    _add_raw_points(fmap, territory, filters)
    folium.LayerControl(collapsed=False).add_to(fmap)
    bounds = territories.territory_bounds(territory)
    if bounds:
        fmap.fit_bounds(bounds)
    return maps.render_parts(fmap), summary


def _streets_url(territory) -> str:
    from flask import url_for

    return url_for("public.streets", slug=territory.slug)


def _add_density(fmap, territory, filters) -> None:
    image = layers.density_image(territory, filters)
    group = folium.FeatureGroup(name=_("Densité"), show=True)
    if image is not None:
        png, (west, south, east, north), _bandwidth = image
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        folium.raster_layers.ImageOverlay(
            url, bounds=[[south, west], [north, east]], interactive=False
        ).add_to(group)
    group.add_to(fmap)


def _hex_colour(total: int) -> str:
    colour = HEX_STEPS[0][1]
    for threshold, step_colour in HEX_STEPS:
        if total >= threshold:
            colour = step_colour
    return colour


def _add_hexagons(fmap, territory, filters) -> dict:
    """Add the hexagon layer; return the totals it shows."""
    layer = layers.hexagon_layer(territory, filters)
    group = folium.FeatureGroup(name=_("Hexagones"), show=False)
    for feature in layer.features:
        props = feature["properties"]
        lines = [
            _(
                "%(n)d points : %(u)d insécurité, %(s)d sécurité",
                n=props["total"],
                u=props["unsafe"],
                s=props["safe"],
            )
        ]
        lines += [f"{label} ({count})" for label, count in props["top_categories"]]
        colour = _hex_colour(props["total"])
        folium.GeoJson(
            feature,
            style_function=lambda _f, colour=colour: {
                "color": "#555",
                "weight": 0.5,
                "fillColor": colour,
                "fillOpacity": 0.7,
            },
            popup=folium.Popup("<br>".join(str(escape(line)) for line in lines), max_width=260),
        ).add_to(group)
    group.add_to(fmap)
    return {
        "unsafe": sum(f["properties"]["unsafe"] for f in layer.features),
        "safe": sum(f["properties"]["safe"] for f in layer.features),
        "cells": len(layer.features),
    }


def add_cell(group, feature, colour: str, opacity: float, text: str, width: int = 240):
    """One hexagon, filled, with a popup (``text`` is escaped: popups take HTML)."""
    folium.GeoJson(
        feature,
        style_function=lambda _f: {
            "color": colour,
            "weight": 0.5,
            "fillColor": colour,
            "fillOpacity": opacity,
        },
        popup=folium.Popup(str(escape(text)), max_width=width),
    ).add_to(group)


def add_hotspots(fmap, territory, filters, show: bool = False) -> None:
    layer = layers.hotspot_layer(territory, filters)
    group = folium.FeatureGroup(name=_("Points chauds (Gi*)"), show=show)
    for feature in layer.features:
        props = feature["properties"]
        text = _(
            "Gi* z = %(z)s, confiance %(level)s",
            z=props["z"],
            level={3: "99 %", 2: "95 %", 1: "90 %"}[abs(props["bin"])],
        )
        add_cell(group, feature, HOTSPOT_COLOURS[props["bin"]], 0.75, text)
    group.add_to(fmap)


def _add_net(fmap, territory, filters) -> None:
    group = folium.FeatureGroup(name=_("Ressenti net"), show=False)
    if not filters.feeling:
        for feature in layers.net_layer(territory, filters).features:
            props = feature["properties"]
            colour = FEELING_COLOURS["unsafe" if props["net"] > 0 else "safe"]
            strength = abs(props["net"])
            text = _("Net : %(net)s", net=props["net"])
            add_cell(group, feature, colour, 0.15 + 0.6 * strength, text, 200)
    group.add_to(fmap)


def _add_difference(fmap, territory, filters, a, b) -> None:
    """B's share of pins minus A's, per hexagon: red where B weighs more, blue less."""
    group = folium.FeatureGroup(name=_("Différence B − A"), show=True)
    features = layers.difference_layer(territory, filters, a, b).features
    top = max((abs(f["properties"]["difference"]) for f in features), default=0) or 1
    for feature in features:
        props = feature["properties"]
        colour = "#b2182b" if props["difference"] > 0 else "#2166ac"
        strength = abs(props["difference"]) / top
        text = _("A : %(a)d points, B : %(b)d points", a=props["a"], b=props["b"])
        add_cell(group, feature, colour, 0.1 + 0.7 * strength, text, 220)
    group.add_to(fmap)


def _add_raw_points(fmap, territory, filters) -> None:
    """Individual pins; approved comments only, and only for the roles of DESIGN §6."""
    pins = db.session.scalars(
        sa.select(Pin)
        .where(*layers.pin_conditions(territory, filters))
        .order_by(Pin.created_at.desc())
        .limit(RAW_POINT_LIMIT)
    ).all()
    with_comments = current_user.role in COMMENT_READERS
    audit.record(
        "points.viewed",
        target=f"territory:{territory.slug}",
        territory=territory,
        view="dashboard",
        count=len(pins),
        filters=dict(request.args),
    )
    db.session.commit()
    labels = {c.id: c.label_fr for c in db.session.scalars(sa.select(Category))}
    group = folium.FeatureGroup(name=_("Points"), show=False)
    for pin in pins:
        point = to_shape(pin.geom)
        text = f"{labels.get(pin.category_id, '')} · {pin.time_of_day}"
        if with_comments and pin.comment_status == "approved" and pin.comment:
            text += f" — « {pin.comment} »"
        folium.CircleMarker(
            [point.y, point.x],
            radius=4,
            weight=1,
            color="#fff",
            fill_color=FEELING_COLOURS[pin.feeling],
            fill_opacity=0.9,
            popup=folium.Popup(str(escape(text)), max_width=260),
        ).add_to(group)
    group.add_to(fmap)
