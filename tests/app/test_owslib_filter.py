"""OWSLib (PyPI), a planner's Python client, against the live server: the conformance
it reads, the queryables of a collection, CQL2 filters in text and JSON, sortby and
properties; a bad filter is an error it reports, with our message."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BLOSNE, pin_body

owslib_features = pytest.importorskip("owslib.ogcapi.features")


@pytest.fixture
def pins(client, make_workshop):
    """Three unsafe pins at night, one unsafe in the evening, two safe."""
    code = make_workshop()["codes"][0]
    bodies = [pin_body() for _ in range(3)] + [
        pin_body(time_of_day="evening", category="noise"),
        pin_body(feeling="safe", category="good_lighting", time_of_day="day"),
        pin_body(feeling="safe", category="good_lighting", lon=BLOSNE[0] + 0.002),
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    return bodies


@pytest.fixture
def api(live_server, make_user, make_token):
    token = make_token(make_user("planner", "rennes"))
    return owslib_features.Features(
        f"{live_server}/ogc", headers={"Authorization": f"Bearer {token}"}
    )


def test_owslib_reads_conformance_and_queryables(api, pins):
    classes = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes
    queryables = api.collection_queryables("rennes-points")
    assert queryables["properties"]["time_of_day"]["enum"][0] == "morning"
    assert queryables["properties"]["created_at"]["format"] == "date-time"
    public = api.collection_queryables("rennes-hexagons")["properties"]
    assert "feeling" not in public and "total" in public


def test_owslib_filters_in_cql2_text_and_json(api, pins):
    text = api.collection_items(
        "rennes-points",
        filter="feeling = 'unsafe' AND time_of_day <> 'night'",
        properties="category",
    )
    assert text["numberMatched"] == 1
    assert text["features"][0]["properties"] == {"category": "noise"}
    as_json = {
        "op": "or",
        "args": [
            {"op": "=", "args": [{"property": "category"}, "good_lighting"]},
            {"op": "in", "args": [{"property": "time_of_day"}, ["evening"]]},
        ],
    }
    found = api.collection_items(
        "rennes-points",
        filter=json.dumps(as_json),
        sortby=("created_at", "desc"),
        **{"filter-lang": "cql2-json"},
    )
    assert found["numberMatched"] == 3
    moments = [f["properties"]["created_at"] for f in found["features"]]
    assert moments == sorted(moments, reverse=True)
    assert sorted(f["properties"]["category"] for f in found["features"]) == [
        "good_lighting",
        "good_lighting",
        "noise",
    ]


def test_owslib_reports_a_bad_filter_with_our_message(api, pins):
    with pytest.raises(RuntimeError) as refused:
        api.collection_items("rennes-points", filter="colour = 'red'")
    fields = json.loads(str(refused.value))["fields"]
    assert fields["filter"].startswith("Propriété inconnue ou non interrogeable ici : colour")
