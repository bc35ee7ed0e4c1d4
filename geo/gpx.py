"""GPX 1.1 documents for walking routes (a GPS watch, OsmAnd, a signposting crew's app).

Plain values in, bytes out: names, descriptions and labels are people's text and land
in the document as XML text (escaped by the writer, never as markup); characters XML 1.0
cannot hold (control characters, lone surrogates) are dropped rather than making the
whole file unreadable. Coordinates are WGS 84 longitude/latitude (EPSG:4326), written
as GPX's ``lat``/``lon`` attributes with seven decimals (about a centimetre).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from geo.errors import GeoError

GPX_NAMESPACE = "http://www.topografix.com/GPX/1/1"
SCHEMA_LOCATION = f"{GPX_NAMESPACE} http://www.topografix.com/GPX/1/1/gpx.xsd"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
CREATOR = "Ressenti"
# What XML 1.0 cannot hold (its Char production), removed from people's text.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Point = tuple[float, float]  # (lon, lat), degrees, EPSG:4326


@dataclass(frozen=True)
class Track:
    """One GPX track: a name, an optional type and segments of (lon, lat) points."""

    name: str
    segments: Sequence[Sequence[Point]]
    kind: str = ""


@dataclass(frozen=True)
class Waypoint:
    """A named point (start, finish, a stop on the way)."""

    name: str
    lon: float
    lat: float
    description: str = ""


@dataclass(frozen=True)
class Route:
    """What one GPX file holds: a title, a description, points and tracks."""

    name: str
    description: str = ""
    time: datetime | None = None
    waypoints: Sequence[Waypoint] = field(default_factory=tuple)
    tracks: Sequence[Track] = field(default_factory=tuple)


def xml_text(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot carry.

    Parameters
    ----------
    text : str
        People's text (a circuit name, a label).

    Returns
    -------
    str
        The same text, less control characters and lone surrogates.
    """
    return NOT_XML.sub("", str(text))


def segments_of(geometry: dict) -> list[list[Point]]:
    """Return the lines of a GeoJSON LineString or MultiLineString as (lon, lat) lists.

    Parameters
    ----------
    geometry : dict
        A GeoJSON geometry in EPSG:4326.

    Raises
    ------
    GeoError
        For any other geometry type.
    """
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "LineString":
        lines = [geometry["coordinates"]]
    elif kind == "MultiLineString":
        lines = geometry["coordinates"]
    else:
        raise GeoError(f"a route is a LineString or MultiLineString, got {kind!r}", "geometry")
    return [[(float(x), float(y)) for x, y, *_ in line] for line in lines if line]


def gpx_document(route: Route) -> bytes:
    """Write ``route`` as a GPX 1.1 document (UTF-8, with its XML declaration).

    Parameters
    ----------
    route : Route
        Name, description and time (metadata), waypoints, then tracks, in the order
        the GPX 1.1 schema wants them.

    Returns
    -------
    bytes
        The document; every text is XML text.
    """
    ET.register_namespace("", GPX_NAMESPACE)
    root = ET.Element(
        _tag("gpx"),
        {
            "version": "1.1",
            "creator": CREATOR,
            f"{{{XSI_NAMESPACE}}}schemaLocation": SCHEMA_LOCATION,
        },
    )
    metadata = ET.SubElement(root, _tag("metadata"))
    _text(metadata, "name", route.name)
    if route.description:
        _text(metadata, "desc", route.description)
    if route.time is not None:
        _text(metadata, "time", route.time.isoformat().replace("+00:00", "Z"))
    for point in route.waypoints:
        wpt = ET.SubElement(root, _tag("wpt"), _position(point.lon, point.lat))
        _text(wpt, "name", point.name)
        if point.description:
            _text(wpt, "desc", point.description)
    for track in route.tracks:
        _track(root, track)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _track(root: ET.Element, track: Track) -> None:
    trk = ET.SubElement(root, _tag("trk"))
    _text(trk, "name", track.name)
    if track.kind:
        _text(trk, "type", track.kind)
    for segment in track.segments:
        trkseg = ET.SubElement(trk, _tag("trkseg"))
        for lon, lat in segment:
            ET.SubElement(trkseg, _tag("trkpt"), _position(lon, lat))


def _tag(name: str) -> str:
    return f"{{{GPX_NAMESPACE}}}{name}"


def _text(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, _tag(name)).text = xml_text(text)


def _position(lon: float, lat: float) -> dict[str, str]:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoError(f"({lon}, {lat}) is not a longitude, latitude pair", "geometry")
    return {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}
