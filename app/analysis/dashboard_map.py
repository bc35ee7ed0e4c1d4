"""The dashboard's map, described as data: the quartiers, streets and empty overlays the
page draws (static/js/layermap.js), the texts and API addresses its script fills them
from (static/js/dashboard.js fetches the layers API), and the raw points for those who
may see them.

Popups are plain text lines: category labels and comments stay data and are inserted as
text by the browser, never as markup or template source.
"""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from flask import current_app, request, url_for
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape

from app import access, audit
from app.analysis import layers
from app.analysis.counts import pin_conditions
from app.extensions import db
from app.models import Category, Pin
from app.territories import maps
from app.vocabulary import HOTSPOT_COLOURS, TIME_LABELS, stored_label

RAW_POINT_LIMIT = 5000  # points drawn at most on the dashboard
# The overlays the page offers, by machine name; the first four are those the server can
# draw into the PNG/PDF (app/analysis/map_image.py).
OVERLAYS = ("density", "hexagons", "hotspots", "net", "difference", "points", "trends")


def page_spec(territory) -> dict:
    """The map without data: outlines, streets, tiles and one empty overlay per layer."""
    spec = maps.base_spec(territory)
    spec["control"] = True
    names = {
        "density": _("Densité"),
        "hexagons": _("Hexagones"),
        "hotspots": _("Points chauds (Gi*)"),
        "net": _("Ressenti net"),
        "difference": _("Différence B − A"),
        "points": _("Points"),
        "trends": _("Tendances"),
    }
    spec["layers"] = [maps.image_layer(names["density"], True, None, id="density")]
    spec["layers"] += [maps.layer(names[n], False, id=n) for n in OVERLAYS[1:]]
    return spec


def page_data(territory) -> dict:
    """What static/js/dashboard.js needs besides the palette: where the layers are, and
    the translated texts of popups and summary (``%(name)d`` placeholders it fills)."""
    api = {n: url_for(f"layers.{n}", slug=territory.slug) for n in OVERLAYS[1:4]}
    api["density"] = url_for("layers.density_png", slug=territory.slug)
    api["difference"] = url_for("layers.difference", slug=territory.slug)
    api["points"] = url_for("dashboard.points", slug=territory.slug)
    api["trends"] = url_for("layers.trends", slug=territory.slug)
    return {
        "api": api,
        "full": access.staff(territory),
        "tiles": tile_urls(territory),
        "texts": {
            # gettext without variables: the translated pattern, filled in by the script.
            "summary": _("%(n)d points : %(u)d insécurité, %(s)d sécurité, dans %(c)d hexagones."),
            "hexagon": _("%(n)d points : %(u)d insécurité, %(s)d sécurité"),
            "hotspot": _("Gi* z = %(z)s, confiance %(level)s"),
            "net": _("Net : %(net)s"),
            "difference": _("A : %(a)d points, B : %(b)d points"),
            "window": _(
                "Un point chaud est une zone où les points sont significativement plus "
                "nombreux qu’ailleurs dans les quartiers enquêtés (%(quartiers)s : %(cells)d "
                "hexagones, vides compris), voisinage de %(distance)d m, correction du taux "
                "de fausses découvertes."
            ),
            "trend": _("%(label)s ; points par période : %(counts)s"),
            "loading": _("Chargement des couches…"),
            "failed": _("Les couches n’ont pas pu être chargées."),
        },
    }


def tile_urls(territory) -> dict | None:
    """Where the dashboard reads its hexagon and point tiles (``{z}/{y}/{x}`` templates of
    the OGC API – Tiles) on a territory of more than ``DASHBOARD_TILES_FROM_PINS`` pins;
    None below, where the layers API and points.json are drawn as they are."""
    limit = current_app.config["DASHBOARD_TILES_FROM_PINS"]
    # Counting stops past the limit: the question is only "more than that?".
    some = sa.select(Pin.id).where(Pin.territory_id == territory.id).limit(limit + 1).subquery()
    if db.session.scalar(sa.select(sa.func.count()).select_from(some)) <= limit:
        return None
    hexagons = "hexagons-full" if access.staff(territory) else "hexagons"

    def template(kind: str) -> str:
        url = url_for(
            "ogc.tileset", collection_id=f"{territory.slug}-{kind}", tms="WebMercatorQuad"
        )
        return url + "/{z}/{y}/{x}"

    return {"hexagons": template(hexagons), "points": template("points")}


def hotspots(territory, filters, show: bool = False) -> dict:
    """The Gi* hot and cold spots, coloured by confidence."""
    return hotspot_group(layers.hotspot_layer(territory, filters), show)


def hotspot_group(layer, show: bool = False) -> dict:
    """A computed Gi* layer as a map layer, coloured by confidence."""
    group = maps.layer(_("Points chauds (Gi*)"), show, id="hotspots")
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


def raw_points(territory, filters) -> dict:
    """Individual pins as GeoJSON (``feeling`` and one text line each); approved comments
    only, and only for the roles of DESIGN §6. Every call is audited."""
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
    features = []
    for pin in pins:
        text = f"{labels.get(pin.category_id, '')} · {TIME_LABELS[pin.time_of_day]}"
        if with_comments and pin.comment_status == "approved" and pin.comment:
            text += f" — « {pin.comment} »"
        geometry = shapely.geometry.mapping(to_shape(pin.geom))
        props = {"feeling": pin.feeling, "text": text}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}
