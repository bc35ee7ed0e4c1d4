"""What a CQL2 filter, ``sortby`` and ``properties`` may name in each kind of collection
(OGC API – Features Part 3), and the queryables document that lists it.

**Public collections accept only what the public release allows** (DESIGN §6,
:mod:`app.analysis.release`). The public hexagons and hot spots are computed from the
released noisy counts; their queryables are the *published properties* of the published
features (``total``, ``unsafe``, ``safe``, a cell's ``id``, Gi* ``z``/``p``/``q``/``bin``
and the geometry). A filter there only selects among features everyone already sees: it
never reaches a pin, so it can never count a subset of pins (no ``feeling``, ``category``,
``time_of_day`` or instant; the release-allowed query parameters stay the only way to
choose the released counts). Staff collections (``points``, ``hexagons-full``) take the
pins' own fields; ``comment`` only for readers of comments (:func:`app.access.reads_comments`),
on the approved text alone, the same text the feature shows. LIKE is allowed on it, as
on every text: those readers see every approved comment in full anyway, so a pattern
tells them nothing more, and it scans one territory's pins with a bound parameter
(at most 8 ``%`` and 500 characters).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.gis.ogc.collections import Kind
from app.gis.pinrows import FIELDS
from app.models import FEELINGS, TIMES_OF_DAY

SCHEMA = "https://json-schema.org/draft/2019-09/schema"
MEDIA_TYPE = "application/schema+json"
REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# What the filtering, sorting and property selection here conform to. Sorting and
# property selection are still drafts for Features: sorting as OGC API – Records
# defines ``sortby``, property selection as the draft Features Part 6.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/property-selection",
]


@dataclass(frozen=True)
class Queryable:
    """One property a filter may name. ``type``: string, integer, number, datetime or
    geometry; ``nullable``: the value may be null (a count the release does not state)."""

    name: str
    type: str
    title: object
    enum: tuple[str, ...] | None = None
    nullable: bool = False


GEOMETRY = Queryable("geometry", "geometry", _l("Géométrie (CRS84)"))
CELL = Queryable("id", "string", _l("Identifiant de la cellule (q:r)"))
COUNTS = (
    Queryable("total", "integer", _l("Nombre de points")),
    Queryable("unsafe", "integer", _l("Points d'insécurité"), nullable=True),
    Queryable("safe", "integer", _l("Points de sécurité"), nullable=True),
)
POINTS = (
    Queryable("feeling", "string", _l("Ressenti"), enum=FEELINGS),
    Queryable("category", "string", _l("Catégorie (code)")),
    Queryable("time_of_day", "string", _l("Moment de la journée"), enum=TIMES_OF_DAY),
    Queryable("workshop_id", "integer", _l("Atelier (identifiant)")),
    Queryable("workshop", "string", _l("Atelier (titre)")),
    Queryable("quartier", "string", _l("Quartier (nom)"), nullable=True),
    Queryable("created_at", "datetime", _l("Date et heure du point")),
    GEOMETRY,
)
COMMENT = Queryable("comment", "string", _l("Commentaire approuvé"), nullable=True)

BY_KIND = {
    "quartiers": (
        Queryable("code", "string", _l("Code du quartier")),
        Queryable("name", "string", _l("Nom du quartier")),
        GEOMETRY,
    ),
    "hexagons": (CELL, *COUNTS, GEOMETRY),
    "hexagons-full": (
        CELL,
        *COUNTS,
        Queryable("top_categories", "string", _l("Catégories les plus citées")),
        GEOMETRY,
    ),
    "hotspots": (
        CELL,
        Queryable("z", "number", _l("Score z de Gi*")),
        Queryable("p", "number", _l("Valeur p")),
        Queryable("q", "number", _l("Valeur q (FDR)")),
        Queryable("bin", "integer", _l("Classe : -3 à 3 (froid à chaud)")),
        GEOMETRY,
    ),
    "points": POINTS,
}

# The properties each feature of a kind carries (``properties`` chooses among them).
PROPERTIES = {
    "quartiers": ("code", "name", "area_km2"),
    "hexagons": ("total", "unsafe", "safe", "top_categories"),
    "hexagons-full": ("unsafe", "safe", "total", "top_categories"),
    "hotspots": ("z", "p", "q", "bin"),
    "points": FIELDS,
}


def queryables(kind: Kind, comments: bool = False) -> dict[str, Queryable]:
    """The queryables of ``kind`` by name; ``comment`` too for points when ``comments``."""
    found = {q.name: q for q in BY_KIND[kind.name]}
    if kind.name == "points" and comments:
        found[COMMENT.name] = COMMENT
    return found


def sortables(kind: Kind, comments: bool = False) -> dict[str, Queryable]:
    """What ``sortby`` may name: the queryables but the geometry."""
    return {n: q for n, q in queryables(kind, comments).items() if q.type != "geometry"}


def document(kind: Kind, comments: bool, collection_url: str, title: str) -> dict:
    """The queryables as a JSON Schema (OGC API – Features Part 3, ``/queryables``)."""
    return {
        "$schema": SCHEMA,
        "$id": f"{collection_url}/queryables",
        "type": "object",
        "title": title,
        "properties": {q.name: _schema(q) for q in queryables(kind, comments).values()},
        "additionalProperties": False,
    }


def _schema(queryable: Queryable) -> dict:
    schema: dict = {"title": str(queryable.title)}
    if queryable.type == "geometry":
        schema.update({"format": "geometry-any", "x-ogc-role": "primary-geometry"})
    elif queryable.type == "datetime":
        schema.update({"type": "string", "format": "date-time", "x-ogc-role": "primary-instant"})
    else:
        schema["type"] = [queryable.type, "null"] if queryable.nullable else queryable.type
    if queryable.enum:
        schema["enum"] = list(queryable.enum)
    if queryable.name == "id":
        schema["x-ogc-role"] = "id"
    return schema
