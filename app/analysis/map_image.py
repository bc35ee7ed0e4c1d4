"""The dashboard's map as a file for a slide or a meeting: a PNG, or an A4 landscape PDF,
drawn on the server from the same layers as the page (quartier outlines, streets, the
visible layers), with a title, the filters, the date, a legend and the attribution.

Nothing is fetched from a tile server and nothing is taken from the browser's DOM, so the
image is the same whether the hall has Internet or not.
"""

from __future__ import annotations

import io
from datetime import datetime

import shapely
import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _

from app import vocabulary
from app.analysis import layers
from app.analysis.density import density_layer
from app.analysis.filters import Filters
from app.extensions import db
from app.models import Category, Quartier, Street, Territory, Workshop
from app.territories import places

DRAWABLE = ("density", "hexagons", "hotspots", "net")
DEFAULT_SHOWN = ("density", "hexagons", "hotspots")
MAP_WIDTH = 1600
STREET_SOURCE = "© les contributeurs d'OpenStreetMap (ODbL)"


def _rgba(colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*vocabulary.rgb(colour), alpha)


def _hex_colour(total: int) -> str:
    colour = vocabulary.HEX_STEPS[0][1]
    for threshold, step in vocabulary.HEX_STEPS:
        if total >= threshold:
            colour = step
    return colour


def _layer_shapes(territory: Territory, filters: Filters, name: str):
    """``(shapes, styles, legend rows)`` of one visible layer."""
    from geo.render import Style  # Pillow: heavy, loaded late

    if name == "density":
        features = density_layer(territory, filters).features
        steps = [c for _t, c in vocabulary.HEX_STEPS]
        styles = [
            Style(
                outline=None, fill=_rgba(steps[min(f["properties"]["class"], len(steps) - 1)], 150)
            )
            for f in features
        ]
        legend = [(steps[-1], _("Densité : plus foncé, plus concentré"))]
    elif name == "hexagons":
        features = layers.hexagon_layer(territory, filters).features
        styles = [
            Style(
                outline=(120, 120, 120, 255), fill=_rgba(_hex_colour(f["properties"]["total"]), 190)
            )
            for f in features
        ]
        legend = [(c, _("%(n)d points et plus", n=t)) for t, c in vocabulary.HEX_STEPS]
    elif name == "hotspots":
        features = layers.hotspot_layer(territory, filters).features
        colours = vocabulary.HOTSPOT_COLOURS
        styles = [
            Style(
                outline=_rgba(colours[f["properties"]["bin"]]),
                fill=_rgba(colours[f["properties"]["bin"]], 170),
            )
            for f in features
        ]
        legend = [
            (colours[3], _("point chaud, %(level)s", level="99 %")),
            (colours[-3], _("point froid, %(level)s", level="99 %")),
        ]
    else:
        features = [] if filters.feeling else layers.net_layer(territory, filters).features
        feeling = vocabulary.FEELING_COLOURS
        styles = [
            Style(
                outline=None,
                fill=_rgba(
                    feeling["unsafe" if f["properties"]["net"] > 0 else "safe"],
                    int(40 + 150 * abs(f["properties"]["net"])),
                ),
            )
            for f in features
        ]
        legend = [
            (feeling["unsafe"], _("plus d'insécurité que de sécurité")),
            (feeling["safe"], _("plus de sécurité")),
        ]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
    return shapes, styles, legend


def describe_filters(territory: Territory, filters: Filters) -> str:
    """The filters as a sentence people read (labels, not codes)."""
    parts = []
    if filters.feeling:
        parts.append(", ".join(str(vocabulary.FEELING_LABELS[f]) for f in filters.feeling))
    if filters.category:
        rows = db.session.scalars(sa.select(Category).where(Category.id.in_(filters.category)))
        parts.append(", ".join(vocabulary.stored_label(c) for c in rows))
    if filters.time_of_day:
        parts.append(", ".join(str(vocabulary.TIME_LABELS[t]) for t in filters.time_of_day))
    if filters.workshop:
        titles = db.session.scalars(
            sa.select(Workshop.title).where(Workshop.id.in_(filters.workshop))
        )
        parts.append(", ".join(titles))
    if filters.start or filters.end:
        start = filters.start.date().isoformat() if filters.start else "…"
        end = filters.end.date().isoformat() if filters.end else "…"
        parts.append(f"{start} → {end}")
    parts.append(_("hexagones de %(size)d m", size=round(filters.size)))
    return " · ".join(parts) if parts else _("tous les points")


def attribution(territory: Territory) -> str:
    sources = db.session.scalars(
        sa.select(Quartier.source).where(Quartier.territory_id == territory.id).distinct()
    ).all()
    return _(
        "Quartiers : %(quartiers)s · rues : %(streets)s · Ressenti",
        quartiers=", ".join(s for s in sources if s) or "—",
        streets=STREET_SOURCE,
    )


def map_png(territory: Territory, filters: Filters, shown, bbox=None) -> tuple[bytes, list]:
    """The map alone (PNG) and the legend rows of its layers, over ``bbox`` (west, south,
    east, north) or the territory."""
    from geo.render import Style, render_png  # Pillow: heavy, loaded late

    bounds = bbox or places.territory_bbox(territory)
    quartiers = [shapely.geometry.shape(f["geometry"]) for f in places.quartier_features(territory)]
    box = sa.func.ST_MakeEnvelope(*bounds, 4326)
    streets = [
        shapely.from_wkb(bytes(g))
        for g in db.session.scalars(
            sa.select(sa.func.ST_AsBinary(Street.geom)).where(
                Street.territory_id == territory.id, sa.func.ST_Intersects(Street.geom, box)
            )
        )
    ]
    drawn = [(streets, Style(outline=(180, 180, 180, 255), width=1))]
    legend = []
    for name in (n for n in DRAWABLE if n in shown):
        shapes, styles, rows = _layer_shapes(territory, filters, name)
        drawn.append((shapes, styles))
        legend += rows
    drawn.append((quartiers, Style(outline=(31, 78, 121, 255), fill=None, width=3)))
    return render_png(drawn, bounds, width=MAP_WIDTH, margin=0.01), legend


def dashboard_png(territory: Territory, filters: Filters, shown, bbox=None) -> bytes:
    """The map with its title, filters, date, legend and attribution around it."""
    from PIL import Image, ImageDraw, ImageFont  # Pillow: heavy, loaded late

    png, legend = map_png(territory, filters, shown, bbox)
    body = Image.open(io.BytesIO(png)).convert("RGBA")
    title_font = ImageFont.load_default(size=34)
    font = ImageFont.load_default(size=22)
    header, row, footer = 110, 34, 50
    legend_h = 20 + row * len(legend)
    canvas = Image.new(
        "RGBA", (body.width, header + body.height + legend_h + footer), (255, 255, 255, 255)
    )
    draw = ImageDraw.Draw(canvas)
    draw.text((20, 16), title(territory), fill=(20, 20, 20, 255), font=title_font)
    when = format_datetime(datetime.now(), "d MMMM y, HH:mm")
    draw.text(
        (20, 64),
        f"{describe_filters(territory, filters)} — {when}",
        fill=(60, 60, 60, 255),
        font=font,
    )
    canvas.alpha_composite(body, (0, header))
    y = header + body.height + 14
    for colour, label in legend:
        draw.rectangle((20, y + 4, 44, y + 26), fill=_rgba(colour), outline=(80, 80, 80, 255))
        draw.text((56, y + 2), label, fill=(20, 20, 20, 255), font=font)
        y += row
    draw.text((20, y + 12), attribution(territory), fill=(90, 90, 90, 255), font=font)
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def title(territory: Territory) -> str:
    return _("%(territory)s — tableau de bord Ressenti", territory=territory.name)
