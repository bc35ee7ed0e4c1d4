"""OWSLib (PyPI), the Python client planners script with, reads the OGC API of the
running app: landing page, conformance, collections, items in Lambert-93, and a staff
collection with HTTP Basic (any user name, the token as the password)."""

from __future__ import annotations

import os

import pytest
from owslib.ogcapi.features import Features
from owslib.util import Authentication

from tests.conftest import pin_body

LAMBERT_93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
CRS_CLASS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"


@pytest.fixture
def ogc(live_server, monkeypatch):
    """The endpoint's URL, reached directly (no proxy from the environment)."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)
    return f"{live_server}/ogc"


@pytest.fixture
def pins(client, make_workshop):
    """Four pins in Le Blosne."""
    code = make_workshop()["codes"][0]
    for _ in range(4):
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201


def test_landing_page_leads_to_the_endpoints_openapi_document(ogc, rennes):
    service = Features(ogc)
    assert {"service-desc", "conformance", "data"} <= {link["rel"] for link in service.links}
    document = service.api()  # found by its media type, as OWSLib looks for it
    assert document["servers"][0]["url"] == ogc
    assert "/collections/{collectionId}/items" in document["paths"]


def test_conformance_names_part_1_and_the_crs_class(ogc, rennes):
    classes = Features(ogc).conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert CRS_CLASS in classes


def test_collections_are_the_public_ones_with_their_crs(ogc, rennes):
    service = Features(ogc)
    assert set(service.feature_collections()) == {
        "rennes-quartiers",
        "rennes-hexagons",
        "rennes-hotspots",
    }
    quartiers = service.collection("rennes-quartiers")
    assert LAMBERT_93 in quartiers["crs"]
    assert quartiers["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_items_with_a_limit_in_lambert_93(ogc, rennes):
    service = Features(ogc)
    page = service.collection_items("rennes-quartiers", limit=5, crs=LAMBERT_93)
    assert service.response_headers["Content-Crs"] == f"<{LAMBERT_93}>"
    assert (page["numberMatched"], page["numberReturned"]) == (12, 5)
    for feature in page["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            for x, y in polygon[0]:
                # Rennes in metres: about 351,900 E, 6,789,300 N in Lambert-93.
                assert 340_000 < x < 365_000 and 6_775_000 < y < 6_800_000
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "crs=" in following and "limit=5" in following
    one = service.collection_item("rennes-quartiers", "Q.11")
    assert one["properties"]["name"] == "Le Blosne"
    assert one["geometry"]["coordinates"][0][0][0][0] < 0  # CRS84 degrees by default


def test_a_staff_collection_with_basic_auth_and_401_without(ogc, pins, make_user, make_token):
    token = make_token(make_user("planner", "rennes"))
    staff = Features(ogc, auth=Authentication("qgis", token))
    assert {"rennes-points", "rennes-hexagons-full"} <= set(staff.feature_collections())
    points = staff.collection_items("rennes-points", limit=2, crs=LAMBERT_93)
    assert (points["numberMatched"], points["numberReturned"]) == (4, 2)
    x, y = points["features"][0]["geometry"]["coordinates"]
    assert 350_000 < x < 360_000 and 6_780_000 < y < 6_790_000
    anonymous = Features(ogc)
    assert "rennes-points" not in anonymous.feature_collections()
    with pytest.raises(RuntimeError, match="jeton"):
        anonymous.collection_items("rennes-points")
    wrong = Features(ogc, auth=Authentication("qgis", "rst_wrong"))
    with pytest.raises(RuntimeError):
        wrong.collection_items("rennes-points")
