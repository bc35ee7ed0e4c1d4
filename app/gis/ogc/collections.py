"""What the OGC endpoint offers: the conformance classes and, per territory, the kinds of
collection (``<slug>-<kind>``) with who may read each and which filters it takes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app import access
from app.errors import ValidationError

TILES_CONFORMANCE = ("core", "tileset", "tilesets-list", "mvt")  # app/gis/tiles.py
TILE_KINDS = ("hexagons", "hexagons-full", "points")  # the collections with vector tiles
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *(f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{c}" for c in TILES_CONFORMANCE),
]


# Human texts of the documents (link titles, messages), translated when rendered.
TEXTS = {
    "json": _l("Ce document en JSON"),
    "html": _l("Ce document en HTML"),
    "description": _l(
        "Ressentis d'insécurité et de sécurité placés par les habitants en ateliers, "
        "agrégés par hexagone, et limites des quartiers."
    ),
    "service_desc": _l("Définition de l'API (OpenAPI 3.0)"),
    "conformance": _l("Classes de conformité"),
    "collections": _l("Collections"),
    "items": _l("Les objets"),
    "next": _l("Page suivante"),
    "prev": _l("Page précédente"),
    "unknown_parameter": _l("Paramètre inconnu ; paramètres possibles : %(names)s."),
    "unknown_feature": _l("Objet inconnu : %(id)s"),
}


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


LIMIT_DEFAULT = 100


LIMIT_MAX = 10_000


PIN_FILTERS = ("feeling", "category", "time_of_day", "workshop")


@dataclass(frozen=True)
class Kind:
    """What a collection holds and who may read it."""

    name: str
    title: object
    description: object
    temporal: bool
    filters: tuple[str, ...]

    @property
    def staff(self) -> bool:
        return self.name in access.STAFF_COLLECTIONS


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "quartiers",
            _l("Quartiers"),
            _l("Limites des quartiers (source officielle, voir l'attribution)."),
            False,
            ("code", "name"),
        ),
        Kind(
            "hexagons",
            _l("Ressentis par hexagone"),
            _l("Nombre de points par hexagone ; les cellules de moins de k points sont masquées."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "hotspots",
            _l("Points chauds et froids"),
            _l("Getis-Ord Gi* par hexagone, cellules significatives (FDR 0,05)."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "hexagons-full",
            _l("Ressentis par hexagone (non masqués)"),
            _l("Nombre de points par hexagone, sans masquage : réservé aux équipes."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "points",
            _l("Points de ressenti"),
            _l("Les points placés par les habitants : réservé aux équipes."),
            True,
            PIN_FILTERS,
        ),
    )
}


# Longest suffix first: "rennes-hexagons-full" is not "rennes-hexagons" + "-full".
SUFFIXES = sorted(KINDS, key=len, reverse=True)


class ParameterError(ValidationError):
    """A bad query parameter: 400, as OGC API – Features requires."""

    status = 400
