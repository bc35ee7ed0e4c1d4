"""The dashboard's map, described as data: density, hexagons, hot spots, net, difference
and raw points over the quartiers and streets (drawn in the page by static/js/layermap.js).

Popups are lists of plain text lines: category labels and comments stay data and are
inserted as text by the browser, never as markup or template source.
"""

from __future__ import annotations

import base64

import shapely
import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape

from app import access, audit
from app.analysis import layers
from app.analysis.counts import pin_conditions
from app.analysis.density import density_image
from app.extensions import db
from app.models import Category, Pin
from app.territories import maps
from app.vocabulary import (
    DIFFERENCE_COLOURS,
    FEELING_COLOURS,
    HEX_STEPS,
    HOTSPOT_COLOURS,
    TIME_LABELS,
    stored_label,
)

RAW_POINT_LIMIT = 5000  # points drawn at most on the dashboard


def build_map(territory, filters, compare=None) -> tuple[dict, dict]:
    """The map's description and the totals of its hexagons."""
    spec = maps.base_spec(territory)
    spec["control"] = True
    hexagons, summary = _hexagons(territory, filters)
    hot = layers.hotspot_layer(territory, filters)
    summary["hotspots"] = hot.meta
    spec["layers"] += [_density(territory, filters), hexagons, hotspot_group(hot)]
    spec["layers"].append(_net(territory, filters))
    if compare:
        spec["layers"].append(_difference(territory, filters, *compare))
    spec["layers"].append(_raw_points(territory, filters))
    return spec, summary


def _density(territory, filters) -> dict:
    image = density_image(territory, filters)
    if image is None:
        return maps.image_layer(_("Densité"), True, None)
    png, bbox, _bandwidth = image
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return maps.image_layer(_("Densité"), True, url, bbox)


def _hex_colour(total: int) -> str:
    colour = HEX_STEPS[0][1]
    for threshold, step_colour in HEX_STEPS:
        if total >= threshold:
            colour = step_colour
    return colour


def _hexagons(territory, filters) -> tuple[dict, dict]:
    """The hexagon layer and the totals it shows."""
    layer = layers.hexagon_layer(territory, filters)
    group = maps.layer(_("Hexagones"), False)
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
        style = {**maps.cell_style(_hex_colour(props["total"]), 0.7), "color": "#555"}
        group["features"].append(maps.feature(feature["geometry"], style, lines))
    summary = {
        "unsafe": sum(f["properties"]["unsafe"] for f in layer.features),
        "safe": sum(f["properties"]["safe"] for f in layer.features),
        "cells": len(layer.features),
    }
    return group, summary


def hotspots(territory, filters, show: bool = False) -> dict:
    """The Gi* hot and cold spots, coloured by confidence."""
    return hotspot_group(layers.hotspot_layer(territory, filters), show)


def hotspot_group(layer, show: bool = False) -> dict:
    """A computed Gi* layer as a map layer, coloured by confidence."""
    group = maps.layer(_("Points chauds (Gi*)"), show)
    for feature in layer.features:
        props = feature["properties"]
        text = _(
            "Gi* z = %(z)s, confiance %(level)s",
            z=props["z"],
            level={3: "99 %", 2: "95 %", 1: "90 %"}[abs(props["bin"])],
        )
        style = maps.cell_style(HOTSPOT_COLOURS[props["bin"]], 0.75)
        group["features"].append(maps.feature(feature["geometry"], style, [text]))
    return group


def _net(territory, filters) -> dict:
    group = maps.layer(_("Ressenti net"), False)
    if not filters.feeling:
        for feature in layers.net_layer(territory, filters).features:
            props = feature["properties"]
            colour = FEELING_COLOURS["unsafe" if props["net"] > 0 else "safe"]
            style = maps.cell_style(colour, 0.15 + 0.6 * abs(props["net"]))
            text = _("Net : %(net)s", net=props["net"])
            group["features"].append(maps.feature(feature["geometry"], style, [text]))
    return group


def _difference(territory, filters, a, b) -> dict:
    """B's share of pins minus A's, per hexagon: red where B weighs more, blue less."""
    group = maps.layer(_("Différence B − A"), True)
    features = layers.difference_layer(territory, filters, a, b).features
    top = max((abs(f["properties"]["difference"]) for f in features), default=0) or 1
    for feature in features:
        props = feature["properties"]
        colour = DIFFERENCE_COLOURS["b" if props["difference"] > 0 else "a"]
        style = maps.cell_style(colour, 0.1 + 0.7 * abs(props["difference"]) / top)
        text = _("A : %(a)d points, B : %(b)d points", a=props["a"], b=props["b"])
        group["features"].append(maps.feature(feature["geometry"], style, [text]))
    return group


def _raw_points(territory, filters) -> dict:
    """Individual pins; approved comments only, and only for the roles of DESIGN §6."""
    pins = db.session.scalars(
        sa.select(Pin)
        .where(*pin_conditions(territory, filters))
        .order_by(Pin.created_at.desc())
        .limit(RAW_POINT_LIMIT)
    ).all()
    with_comments = access.reads_comments()
    audit.record(
        "points.viewed",
        target=f"territory:{territory.slug}",
        territory=territory,
        view="dashboard",
        count=len(pins),
        filters=dict(request.args),
    )
    db.session.commit()
    labels = {c.id: stored_label(c) for c in db.session.scalars(sa.select(Category))}
    group = maps.layer(_("Points"), False)
    for pin in pins:
        text = f"{labels.get(pin.category_id, '')} · {TIME_LABELS[pin.time_of_day]}"
        if with_comments and pin.comment_status == "approved" and pin.comment:
            text += f" — « {pin.comment} »"
        style = {
            "radius": 4,
            "weight": 1,
            "color": "#fff",
            "fillColor": FEELING_COLOURS[pin.feeling],
            "fillOpacity": 0.9,
        }
        geometry = shapely.geometry.mapping(to_shape(pin.geom))
        group["features"].append(maps.feature(geometry, style, [text]))
    return group
