"""GPX 1.1 writer: a document GPS apps read back, with people's text as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from lxml import etree

from geo.errors import GeoError
from geo.gpx import GPX_NAMESPACE, Route, Track, Waypoint, gpx_document, segments_of, xml_text

NS = {"g": GPX_NAMESPACE}
LINE = [(-1.6612345, 48.0871234), (-1.6601, 48.0875), (-1.6589, 48.0880)]


def route(name="Du métro à l'école", **kwargs) -> Route:
    return Route(
        name=name,
        description=kwargs.pop("description", "La nuit, par les rues éclairées"),
        time=datetime(2026, 12, 2, 18, 30, tzinfo=UTC),
        waypoints=(Waypoint("Départ : métro", *LINE[0]), Waypoint("Arrivée", *LINE[-1])),
        tracks=(Track("Itinéraire conseillé", [LINE], kind="recommended"),),
        **kwargs,
    )


def test_document_parses_back_as_gpx_1_1_with_every_point():
    document = gpx_document(route())
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(document)
    assert root.tag == f"{{{GPX_NAMESPACE}}}gpx"
    assert root.get("version") == "1.1" and root.get("creator") == "Ressenti"
    assert root.findtext("g:metadata/g:name", namespaces=NS) == "Du métro à l'école"
    assert root.findtext("g:metadata/g:time", namespaces=NS) == "2026-12-02T18:30:00Z"
    # The schema's order: metadata, wpt, trk.
    assert [child.tag.split("}")[1] for child in root] == ["metadata", "wpt", "wpt", "trk"]
    names = [w.findtext("g:name", namespaces=NS) for w in root.findall("g:wpt", NS)]
    assert names == ["Départ : métro", "Arrivée"]
    points = root.findall("g:trk/g:trkseg/g:trkpt", NS)
    assert [(float(p.get("lon")), float(p.get("lat"))) for p in points] == LINE
    assert root.findtext("g:trk/g:type", namespaces=NS) == "recommended"


def test_markup_in_names_survives_as_text():
    name = 'Rue <b>"A"</b> & <script>alert(1)</script> ]]>'
    document = gpx_document(route(name=name, description="<desc>&amp;</desc>"))
    assert b"<script>" not in document and b"<b>" not in document
    strict = etree.fromstring(document, etree.XMLParser(resolve_entities=False))
    assert strict.findtext("g:metadata/g:name", namespaces=NS) == name
    assert strict.findtext("g:metadata/g:desc", namespaces=NS) == "<desc>&amp;</desc>"
    assert len(strict.findall("g:metadata/*", NS)) == 3  # no element was injected


def test_characters_xml_cannot_hold_are_dropped_not_fatal():
    document = gpx_document(route(name="Parc\x00 des\x1b Gayeulles\ud800 🌳"))
    root = etree.fromstring(document)
    assert root.findtext("g:metadata/g:name", namespaces=NS) == "Parc des Gayeulles 🌳"
    assert xml_text("a\tb\nc\x7f") == "a\tb\nc\x7f"


def test_segments_of_lines_and_multilines():
    line = {"type": "LineString", "coordinates": [[1, 2], [3, 4, 5]]}
    assert segments_of(line) == [[(1.0, 2.0), (3.0, 4.0)]]
    multi = {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]], [], [[5, 6], [7, 8]]]}
    assert segments_of(multi) == [[(1.0, 2.0), (3.0, 4.0)], [(5.0, 6.0), (7.0, 8.0)]]
    with pytest.raises(GeoError, match="Point"):
        segments_of({"type": "Point", "coordinates": [1, 2]})


def test_coordinates_outside_wgs84_are_refused_naming_them():
    bad = Route(name="x", tracks=(Track("t", [[(350000.0, 6780000.0)]]),))
    with pytest.raises(GeoError, match="350000"):
        gpx_document(bad)
