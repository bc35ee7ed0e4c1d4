"""Aggregated layers of a territory's pins: hexagons, Gi* hot spots and the net layer.

PostGIS counts the filtered pins per hexagon (the same cube rounding as
:mod:`geo.hexgrid`, in the territory's metric CRS); no pin is loaded into Python.
Anonymous readers get the k-suppressed layers of DESIGN §6; the territory's staff may
ask for the full counts. Every filter is checked against a whitelist: an unknown
filter or value is a 422 naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import shapely
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, make_response, request
from flask_babel import gettext as _

from app import access, openapi
from app.analysis import release
from app.analysis.cells import DEFAULT_SIZE, Layer, empty_message, hexagon_features, territory_cells
from app.errors import ValidationError
from app.extensions import db
from app.models import FEELINGS, TIMES_OF_DAY, Category, Pin, Quartier, Territory, Workshop
from app.territories import places
from geo import projections
from geo.hexgrid import axial_sql, hex_centres, suppression_mask

bp = Blueprint("layers", __name__, url_prefix="/api/v1/territories/<slug>/layers")

FILTERS = (
    "feeling",
    "category",
    "time_of_day",
    "workshop",
    "from",
    "to",
    "size",
    "bandwidth",
    "full",
)
FILTER_PARAMS = (
    openapi.query("feeling", openapi.text(), "unsafe, safe or both (comma-separated)."),
    openapi.query("category", openapi.text(), "Category codes, comma-separated."),
    openapi.query("time_of_day", openapi.text(), "morning, day, evening, night, always."),
    openapi.query("workshop", openapi.text(), "Workshop ids of the territory, comma-separated."),
    openapi.query("from", openapi.text(format="date"), "Pins placed on or after (YYYY-MM-DD)."),
    openapi.query("to", openapi.text(format="date"), "Pins placed on or before (YYYY-MM-DD)."),
    openapi.query("size", {"type": "number"}, "Hexagon size in metres (25 to 5000)."),
    openapi.query("bandwidth", {"type": "number"}, "Density bandwidth in metres (20 to 10000)."),
    openapi.query("full", openapi.text(enum=["0", "1", "true", "false"]), "Unsuppressed (staff)."),
)
LAYER_RESPONSES = {200: {openapi.GEOJSON: openapi.ref("FeatureCollection")}}
SIZE_RANGE = (25.0, 5000.0)
BANDWIDTH_RANGE = (20.0, 10000.0)


@dataclass
class Filters:
    feeling: list[str]
    category: list[int]
    time_of_day: list[str]
    workshop: list[int]
    start: datetime | None
    end: datetime | None
    size: float
    bandwidth: float | None
    full: bool


def territory_or_404(slug: str) -> Territory:
    territory = places.get_territory(slug)
    if territory is None:
        abort(404, description=_("Territoire inconnu : %(slug)s", slug=slug))
    return territory


def parse_filters(territory: Territory, args, compare: bool = False) -> Filters:
    """Check the query string against the whitelist; 422 naming each bad field.

    With ``compare``, the workshop sets ``a`` and ``b`` replace ``workshop`` (they are
    read by :func:`parse_sets`).
    """
    errors: dict[str, str] = {}
    allowed = [n for n in FILTERS if n != "workshop"] + ["a", "b"] if compare else FILTERS
    for name in args:
        if name not in allowed:
            errors[name] = _(
                "Filtre inconnu ; filtres possibles : %(names)s.", names=", ".join(allowed)
            )
    values = {
        "feeling": _choices(args, "feeling", FEELINGS, errors),
        "time_of_day": _choices(args, "time_of_day", TIMES_OF_DAY, errors),
        "category": _categories(args, errors),
        "workshop": _workshops(args, territory, errors),
        "start": _date(args, "from", time.min, errors),
        "end": _date(args, "to", time.max, errors),
        "size": _number(args, "size", SIZE_RANGE, errors, default=DEFAULT_SIZE),
        "bandwidth": _number(args, "bandwidth", BANDWIDTH_RANGE, errors, default=None),
        "full": args.get("full", "0") in ("1", "true"),
    }
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    if values["full"] and not access.staff(territory):
        abort(403, description=_("Les couches non masquées sont réservées aux équipes."))
    return Filters(**values)


def _listed(args, name: str) -> list[str]:
    return [v.strip() for v in args.get(name, "").split(",") if v.strip()]


def _choices(args, name, allowed, errors) -> list[str]:
    wanted = _listed(args, name)
    unknown = [v for v in wanted if v not in allowed]
    if unknown:
        errors[name] = _(
            "Valeur inconnue : %(value)s ; valeurs possibles : %(values)s.",
            value=unknown[0][:50],
            values=", ".join(allowed),
        )
    return wanted


def _categories(args, errors) -> list[int]:
    wanted = _listed(args, "category")
    if not wanted:
        return []
    found = dict(
        db.session.execute(
            sa.select(Category.code, Category.id).where(Category.code.in_(wanted))
        ).all()
    )
    unknown = [v for v in wanted if v not in found]
    if unknown:
        errors["category"] = _("Catégorie inconnue : %(value)s.", value=unknown[0][:50])
    return list(found.values())


def _workshops(args, territory, errors, name: str = "workshop") -> list[int]:
    wanted = _listed(args, name)
    if not wanted:
        return []
    if not all(v.isascii() and v.isdigit() and int(v) < 2**31 for v in wanted):
        errors[name] = _("Identifiants d'ateliers attendus (nombres).")
        return []
    ids = [int(v) for v in wanted]
    found = set(
        db.session.scalars(
            sa.select(Workshop.id).where(
                Workshop.id.in_(ids), Workshop.territory_id == territory.id
            )
        )
    )
    missing = [i for i in ids if i not in found]
    if missing:
        errors[name] = _("Atelier inconnu dans ce territoire : %(id)s.", id=missing[0])
    return ids


def parse_sets(territory: Territory, args) -> tuple[list[int], list[int]]:
    """The two workshop sets ``a`` and ``b`` of a comparison (both required)."""
    errors: dict[str, str] = {}
    sets = []
    for name in ("a", "b"):
        ids = _workshops(args, territory, errors, name)
        if not ids and name not in errors:
            errors[name] = _("Donnez au moins un atelier à comparer.")
        sets.append(ids)
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    return sets[0], sets[1]


def _date(args, name, bound, errors) -> datetime | None:
    if not args.get(name):
        return None
    try:
        day = date.fromisoformat(args[name])
    except ValueError:
        errors[name] = _("Date AAAA-MM-JJ attendue.")
        return None
    return day_bound(day, bound)


def day_bound(day: date, bound: time) -> datetime:
    """The first or last instant of ``day`` in the towns' time zone (any year, 1 to 9999)."""
    return datetime.combine(
        day, bound, tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    )


def _number(args, name, bounds, errors, default):
    if not args.get(name):
        return default
    try:
        value = float(args[name])
    except ValueError:
        value = float("nan")
    if not bounds[0] <= value <= bounds[1]:
        errors[name] = _(
            "Nombre de mètres entre %(low)d et %(high)d attendu.", low=bounds[0], high=bounds[1]
        )
        return default
    return value


# -- counting in PostGIS -----------------------------------------------------------------


def pin_conditions(territory: Territory, filters: Filters) -> list:
    """The filters as SQL conditions on :class:`Pin`, for every query of pins."""
    conditions = [Pin.territory_id == territory.id]
    for column, values in (
        (Pin.feeling, filters.feeling),
        (Pin.category_id, filters.category),
        (Pin.time_of_day, filters.time_of_day),
        (Pin.workshop_id, filters.workshop),
    ):
        if values:
            conditions.append(column.in_(values))
    if filters.start:
        conditions.append(Pin.created_at >= filters.start)
    if filters.end:
        conditions.append(Pin.created_at <= filters.end)
    return conditions


def hexagon_counts(territory: Territory, filters: Filters) -> dict[tuple[int, int], list[int]]:
    """``{(q, r): [unsafe, safe]}`` for the filtered pins, counted by PostGIS."""
    return hexagon_tally(territory, filters)[0]


def hexagon_tally(territory: Territory, filters: Filters):
    """Count the filtered pins per hexagon, in one pass of PostGIS over the pins.

    Returns ``(counts, by_category)``: ``{(q, r): [unsafe, safe]}`` and
    ``{(q, r): {category_id: n}}``.
    """
    if filters.size == DEFAULT_SIZE:  # stored by the pin's trigger (migration 0007)
        q, r = "pin.hex_q", "pin.hex_r"
    else:
        q, r = axial_sql("pin.x_m", "pin.y_m", filters.size)
    # Enough memory to hash the groups instead of sorting every pin.
    db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    query = (
        sa.select(
            sa.literal_column(q).label("q"),
            sa.literal_column(r).label("r"),
            Pin.feeling,
            Pin.category_id,
            sa.func.count().label("n"),
        )
        .where(*pin_conditions(territory, filters))
        .group_by(sa.text("1, 2, 3, 4"))
    )
    counts: dict[tuple[int, int], list[int]] = {}
    by_category: dict[tuple[int, int], dict[int, int]] = {}
    for row in db.session.execute(query):
        cell = (row.q, row.r)
        counts.setdefault(cell, [0, 0])[FEELINGS.index(row.feeling)] += row.n
        categories = by_category.setdefault(cell, {})
        categories[row.category_id] = categories.get(row.category_id, 0) + row.n
    return counts, by_category


# -- GeoJSON -------------------------------------------------------------------------------


def _collection(features, filters: Filters, layer: str, message: str | None, **meta):
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
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    return response


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
    tops = top_categories(by_category, k=access.threshold(filters.full))
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
    k = access.threshold(filters.full)
    kept = {cell: uv for cell, uv in counts.items() if sum(uv) >= k}
    cells = np.array(list(kept), dtype=np.int64).reshape(-1, 2)
    props = [{"unsafe": u, "safe": s, "net": round((u - s) / (u + s), 4)} for u, s in kept.values()]
    features = hexagon_features(territory, filters.size, cells[:, 0], cells[:, 1], props)
    return Layer(features, empty_message(features))


def hotspot_layer(territory: Territory, filters: Filters) -> Layer:
    """Getis-Ord Gi* over every hexagon of the territory (empty ones count as 0).

    Weights: binary, within two rings of cells (2√3 × size), the cell included. Only
    significant cells are returned.
    """
    if filters.full:
        counts = hexagon_counts(territory, filters)
        q, r = territory_cells(territory, filters.size)
        values = np.array(
            [sum(counts.get((a, b), (0, 0))) for a, b in zip(q, r, strict=True)], dtype=float
        )
    else:  # the public's hot spots: Gi* of the released noisy counts
        q, r, values = release.hotspot_values(territory, filters)
    distance = round(2 * np.sqrt(3) * filters.size * 1.001, 1)
    if len(values) < 3 or values.sum() <= 0:
        message = _("Pas assez de points pour chercher des points chauds.")
        return Layer([], message, {"distance_m": distance})
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
    return Layer(features, message, {"distance_m": distance})


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
    labels = dict(db.session.execute(sa.select(Category.id, Category.label_fr)).all())
    return {
        cell: [
            [labels.get(c, "?"), n]
            for c, n in sorted(tally.items(), key=lambda i: -i[1])[:top]
            if n >= k
        ]
        for cell, tally in by_category.items()
    }


def _serve(layer: Layer, filters: Filters, name: str):
    return _collection(layer.features, filters, name, layer.message, **(layer.meta or {}))


@openapi.operation(tag="layers", params=FILTER_PARAMS, responses=LAYER_RESPONSES)
def geojson_layer(slug: str, name: str):
    """One layer as GeoJSON: ``/hexagons``, ``/net``, ``/hotspots`` or ``/density``."""
    territory = territory_or_404(slug)
    filters = parse_filters(territory, request.args)
    return _serve(LAYERS[name](territory, filters), filters, name)


# -- density ---------------------------------------------------------------------------------

DENSITY_BREAKS = (0.1, 0.25, 0.5, 0.75)  # fractions of the peak


def density_grid(territory: Territory, filters: Filters):
    """Kernel density of the filtered pins, from PostGIS counts on a fine metric grid.

    Returns ``(grid, support)``: the :class:`geo.density.DensityGrid` over the
    quartiers (padded by the bandwidth) and, per cell, how many pins lie within the
    bandwidth (for suppression); ``(None, None)`` when no pin matches.
    """
    from geo.density import (  # scipy: heavy, loaded late
        default_bandwidth,
        kernel_density,
        neighbour_counts,
    )

    if territory.grid_cell:  # stored at quartier import, each pin's cell by its trigger
        extent = (
            territory.grid_west,
            territory.grid_south,
            territory.grid_east,
            territory.grid_north,
        )
        cell = territory.grid_cell
        i, j = Pin.grid_i, Pin.grid_j
    else:
        extent = _metric_extent(territory)
        if extent is None:
            return None, None
        cell = max(extent[2] - extent[0], extent[3] - extent[1]) / places.DENSITY_MAX_CELLS
        i = sa.func.floor((Pin.x_m - extent[0]) / cell)
        j = sa.func.floor((Pin.y_m - extent[1]) / cell)
    if filters.full:
        counts = _grid_counts(territory, filters, extent, cell, i, j)
    else:  # the public's density: the released hexagons it may see, smoothed
        counts = release.density_points(territory, filters)
    if counts is None:
        return None, None
    x, y, n = counts
    bandwidth = filters.bandwidth or float(
        np.clip(default_bandwidth(x, y, n), BANDWIDTH_RANGE[0], BANDWIDTH_RANGE[1])
    )
    padded = (
        extent[0] - bandwidth,
        extent[1] - bandwidth,
        extent[2] + bandwidth,
        extent[3] + bandwidth,
    )
    grid = kernel_density(x, y, padded, cell, bandwidth, weights=n, crs=territory.metric_srid)
    support = neighbour_counts(x, y, padded, cell, bandwidth, weights=n)
    return grid, support


def _metric_extent(territory: Territory):
    metric = sa.func.ST_Transform(Quartier.geom, territory.metric_srid)
    extent = sa.func.ST_Extent(metric)
    box = db.session.execute(
        sa.select(
            sa.func.ST_XMin(extent),
            sa.func.ST_YMin(extent),
            sa.func.ST_XMax(extent),
            sa.func.ST_YMax(extent),
        ).where(Quartier.territory_id == territory.id)
    ).one()
    return None if box[0] is None else tuple(float(v) for v in box)


def _grid_counts(territory, filters, extent, cell, i, j):
    """Pins per fine cell (``i``, ``j``: SQL cell indices), as (cell-centre x, y, count)
    arrays, or None."""
    cells = (
        sa.select(i.label("i"), j.label("j"), sa.func.count().label("n"))
        .where(*pin_conditions(territory, filters), i.isnot(None))
        .group_by(sa.text("1, 2"))
        .subquery()
    )
    # Three arrays in one row: ~10^5 cells reach numpy without a Python object per cell.
    query = sa.select(
        sa.func.array_agg(cells.c.i), sa.func.array_agg(cells.c.j), sa.func.array_agg(cells.c.n)
    )
    i, j, n = db.session.execute(query).one()
    if i is None:
        return None
    i, j, n = (np.asarray(v, dtype=float) for v in (i, j, n))
    return extent[0] + (i + 0.5) * cell, extent[1] + (j + 0.5) * cell, n


def _public_density(grid, support, filters: Filters):
    """Hide, for the public, every cell fewer than k pins contribute to."""
    if filters.full:
        return grid.values
    return np.where(support >= access.suppression_k(), grid.values, 0.0)


def _shown_density(territory: Territory, filters: Filters):
    grid, support = density_grid(territory, filters)
    if grid is None:
        return None
    values = _public_density(grid, support, filters)
    if values.max() <= 0:
        return None
    return type(grid)(values, grid.transform, grid.crs, grid.bandwidth, grid.kernel)


def density_layer(territory: Territory, filters: Filters) -> Layer:
    """Isobands of the kernel density (quartic) in pins per km²."""
    from geo.raster import isobands  # scipy: heavy, loaded late

    shown = _shown_density(territory, filters)
    if shown is None:
        return Layer([], empty_message([]))
    peak = float(shown.values.max())
    transformer = projections.transformer(territory.metric_srid, projections.WGS84)
    features = []
    for number, (lower, upper, shape) in enumerate(
        isobands(shown, np.multiply(DENSITY_BREAKS, peak))
    ):
        shape = shapely.transform(
            shape,
            lambda xy: np.round(np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), 6),
        )
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(shape),
                "properties": {
                    "class": number,
                    "lower_per_km2": round(lower * 1e6, 3),
                    "upper_per_km2": None if np.isinf(upper) else round(upper * 1e6, 3),
                },
            }
        )
    meta = {"bandwidth_m": round(shown.bandwidth, 1), "peak_per_km2": round(peak * 1e6, 3)}
    return Layer(features, None, meta)


def density_image(territory: Territory, filters: Filters):
    """``(png bytes, (west, south, east, north), bandwidth)`` or None with no density."""
    from geo.raster import (  # scipy: heavy, loaded late
        colourise,
        encode_png,
        resample_to_web_mercator,
    )

    shown = _shown_density(territory, filters)
    if shown is None:
        return None
    pixels, bounds = resample_to_web_mercator(shown)
    return encode_png(colourise(pixels)), bounds, shown.bandwidth


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
    image = density_image(territory, filters)
    if image is None:  # a transparent pixel over the territory, and why
        from geo.raster import encode_png  # scipy: heavy, loaded late

        west_south, east_north = places.territory_bounds(territory) or [[0, 0], [0, 0]]
        bounds = (west_south[1], west_south[0], east_north[1], east_north[0])
        image = (encode_png(np.zeros((1, 1, 4), dtype=np.uint8)), bounds, 0.0)
    png, bounds, bandwidth = image
    response = make_response(png)
    response.mimetype = "image/png"
    response.headers["X-Bounds"] = ",".join(f"{v:.6f}" for v in bounds)
    response.headers["X-Bandwidth-M"] = f"{bandwidth:.1f}"
    return response


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
    k = access.threshold(filters.full)
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
    return _serve(difference_layer(territory, filters, a, b), filters, "difference")


LAYERS = {
    "hexagons": hexagon_layer,
    "net": net_layer,
    "hotspots": hotspot_layer,
    "density": density_layer,
}
for _name in LAYERS:
    bp.add_url_rule(f"/{_name}", endpoint=_name, view_func=geojson_layer, defaults={"name": _name})
