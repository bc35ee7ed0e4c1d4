"""OGC API – Features Part 2 (CRS by reference): which CRSs a territory's collections
offer, the ``crs`` and ``bbox-crs`` parameters, and features and boxes moved between
CRS84 (how everything is stored and cached) and the asked CRS.

Each collection offers CRS84 (the default), EPSG:4326 (latitude first, as its
definition and Part 2 require), the territory's metric CRS (Lambert-93, Belgian
Lambert 2008 or its UTM zone; :func:`geo.projections.metric_srid`) and Web Mercator.
The CRS only changes coordinates: which features a reader gets, and their properties,
do not depend on it (the public release rule holds whatever the CRS).
"""

from __future__ import annotations

import shapely
from flask_babel import gettext as _

from app.gis.ogc.collections import CRS84, ParameterError
from app.models import Territory
from geo import projections

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
NAMED = (
    projections.WGS84,
    projections.LAMBERT_93,
    projections.BELGIAN_LAMBERT_2008,
    projections.WEB_MERCATOR,
)
# The UTM zones, north (326xx) and south (327xx), of territories elsewhere.
UTM_PATTERN = r"^http://www\.opengis\.net/def/crs/EPSG/0/32[67](0[1-9]|[1-5][0-9]|60)$"
# Coordinates as written: about a centimetre in degrees or in metres.
DECIMALS = {"degree": 7, "metre": 2}


def uri(srid: int) -> str:
    return f"{EPSG}{srid}"


def srid(crs_uri: str) -> int:
    """The EPSG code of an offered URI (CRS84 is EPSG:4326 with longitude first)."""
    return projections.WGS84 if crs_uri == CRS84 else int(crs_uri.removeprefix(EPSG))


def offered(territory: Territory) -> list[str]:
    """The CRS URIs the territory's collections offer, CRS84 first."""
    codes = (projections.WGS84, territory.metric_srid, projections.WEB_MERCATOR)
    return [CRS84, *dict.fromkeys(uri(code) for code in codes)]


def schema() -> dict:
    """The OpenAPI schema of ``crs`` and ``bbox-crs`` (every territory's choices)."""
    return {
        "anyOf": [
            {"type": "string", "enum": [CRS84, *(uri(code) for code in NAMED)]},
            {"type": "string", "pattern": UTM_PATTERN},
        ],
        "default": CRS84,
    }


def read(args, name: str, choices: list[str], errors: dict) -> str:
    """The CRS URI of parameter ``name`` (CRS84 when absent); a URI not in ``choices``
    goes to ``errors`` under ``name``."""
    raw = args.get(name)
    if raw is None:
        return CRS84
    if raw not in choices:
        errors[name] = _(
            "Système de coordonnées non proposé ici ; possibles : %(uris)s.",
            uris=", ".join(choices),
        )
        return CRS84
    return raw


def requested(args, territory: Territory) -> str:
    """``crs`` of a single feature's request; a :class:`ParameterError` if not offered."""
    errors: dict[str, str] = {}
    target = read(args, "crs", offered(territory), errors)
    if errors:
        raise ParameterError(errors, _("Paramètres invalides."))
    return target


# -- bbox in bbox-crs --------------------------------------------------------------------


def bbox_fits(values: list[float], bbox_crs: str) -> bool:
    """Whether (min, min, max, max), in ``bbox_crs``'s axis order, lies in its range."""
    low_1, low_2, high_1, high_2 = values
    if bbox_crs == CRS84:
        low_1, low_2, high_1, high_2 = low_2, low_1, high_2, high_1
    first_min, second_min, first_max, second_max = projections.crs_bounds(srid(bbox_crs))
    return first_min <= low_1 <= high_1 <= first_max and second_min <= low_2 <= high_2 <= second_max


def bbox_expected(bbox_crs: str) -> str:
    """What ``bbox`` should hold in ``bbox_crs``, for the error naming it."""
    if bbox_crs == CRS84:
        return _("Quatre nombres attendus : ouest,sud,est,nord en degrés (CRS84).")
    if bbox_crs == uri(projections.WGS84):
        return _("Quatre nombres attendus : sud,ouest,nord,est en degrés (EPSG:4326).")
    return _(
        "Quatre nombres attendus : xmin,ymin,xmax,ymax en mètres, dans le domaine de %(crs)s.",
        crs=projections.crs_label(srid(bbox_crs)),
    )


def bbox_area(bbox: tuple[float, ...], bbox_crs: str) -> shapely.Polygon:
    """The box as a CRS84 polygon: a box in a projected CRS is not a box in degrees,
    so its edges are cut into 64 steps before they are moved."""
    box = shapely.box(*bbox)
    if bbox_crs == CRS84:
        return box
    step = max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 64 or 1.0
    return projections.to_crs84([shapely.segmentize(box, step)], srid(bbox_crs))[0]


# -- features in the asked CRS ---------------------------------------------------------------


def reproject(features: list[dict], target: str) -> list[dict]:
    """The features with their geometries in ``target`` (an offered URI), in its axis
    order; CRS84 features are returned as they are."""
    if target == CRS84:
        return features
    code = srid(target)
    decimals = DECIMALS.get(projections.crs(code).axis_info[0].unit_name, 2)
    placed = [i for i, feature in enumerate(features) if feature.get("geometry")]
    moved = projections.geojson_from_crs84(
        [features[i]["geometry"] for i in placed], code, decimals=decimals
    )
    found = list(features)
    for i, geometry in zip(placed, moved, strict=True):
        found[i] = {**features[i], "geometry": geometry}
    return found


def with_content_crs(answer, target: str):
    """The ``(headers, status, content)`` answer with its ``Content-Crs`` header."""
    headers, status, content = answer
    return {**headers, "Content-Crs": f"<{target}>"}, status, content
