"""The OpenAPI document, and schemathesis fuzzing the running app against it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.openapi import document
from tests.conftest import pin_body


def test_every_api_and_ogc_route_is_documented(app):
    with app.test_request_context():
        paths = document(app)["paths"]
    routes = {
        rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/api/v1/", "/ogc"))
    }
    assert len(paths) == len(routes - {"/ogc/"})
    items = paths["/ogc/collections/{collection_id}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["default"] == 100
    assert paths["/api/v1/groups/{code}/pins"]["post"]["requestBody"]["required"] is True


def test_a_route_without_declaration_is_refused(app):
    app.add_url_rule("/api/v1/undocumented", "undocumented", lambda: "")
    with app.test_request_context(), pytest.raises(LookupError, match="undocumented"):
        document(app)


def test_served_document_names_the_token_scheme(client):
    response = client.get("/api/v1/openapi.json")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    body = response.get_json()
    assert body["openapi"].startswith("3.0")
    assert body["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def _surveys(app) -> list[int]:
    """Two editions of a questionnaire with answers, one released: real survey results."""
    from datetime import date, timedelta

    from app.models import Territory
    from app.survey import release
    from app.survey.demo import add_response, add_survey

    with app.app_context():
        rennes = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        ids = []
        for title in ("2025", "2026"):
            survey = add_survey(rennes, title, date.today() - timedelta(days=3), date.today())
            for n in range(40):
                add_response(
                    survey,
                    {"feeling_night": "very_unsafe" if n % 3 else "rather_safe", "gender": "woman",
                     "safer": ["lighting", "other"], "quartier": "Q.11"},
                    texts={"comment": "Texte"},
                )  # fmt: skip
            ids.append(survey.id)
        release.make_release(survey, final=True)
        db.session.commit()
        return ids


@pytest.fixture
def fuzz_data(app, client, make_workshop, make_user, make_token):
    """A workshop with pins and a coordinator's token: the fuzzer reaches real data."""
    workshop = make_workshop()
    code = workshop["codes"][0]
    ids = []
    for n in range(4):
        body = pin_body(
            feeling="safe" if n % 2 else "unsafe", category="good_lighting" if n % 2 else "lighting"
        )
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
        ids.append(body["id"])
    with app.app_context():
        db.session.execute(sa.text("UPDATE pin SET comment_status = 'approved'"))
        db.session.commit()
    token = make_token(make_user("coordinator", "rennes"))
    surveys = _surveys(app)
    return {
        "slug": ["rennes"],
        "survey_id": surveys,
        "code": [code],
        "pin_id": ids,
        "collection_id": [
            "rennes-quartiers",
            "rennes-hexagons",
            "rennes-hotspots",
            "rennes-points",
            "rennes-hexagons-full",
        ],
        "feature_id": ["Q.11", *ids],
    }, {"Authorization": f"Bearer {token}"}


def test_fuzzing_finds_no_server_error_and_no_schema_violation(live_server, fuzz_data, app):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    valid, auth = fuzz_data
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    def fuzz(operation):
        @settings(
            max_examples=50,
            derandomize=True,  # the same cases on every run: CI does not flake
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def run(case, data):
            for name, choices in valid.items():
                if name in (case.path_parameters or {}) and data.draw(st.booleans()):
                    case.path_parameters[name] = data.draw(st.sampled_from(choices))
            headers = auth if data.draw(st.booleans()) else None
            case.call_and_validate(base_url=live_server, headers=headers, checks=checks)

        return run

    for operation in operations:
        run = fuzz(operation)
        try:
            run()
        except Exception as exc:  # one line per failing operation, then fail
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
