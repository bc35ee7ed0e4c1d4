"""Closing asks for confirmation; reopening is possible within the grace period and
keeps the public release consistent: no pin released twice, no noise re-drawn."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from app.analysis import release
from app.extensions import db
from app.models import Pin, PublicRelease, Workshop
from app.workshops.status import REOPEN_GRACE
from tests.conftest import csrf_token, login, pin_body


@pytest.fixture
def coordinator(client, make_user, rennes):
    login(client, make_user("coordinator", "rennes").email)
    return client


@pytest.fixture
def workshop(make_workshop):
    return make_workshop(status="open", groups=1)


def _page(workshop) -> str:
    return f"/t/rennes/ateliers/{workshop['id']}"


def _post_status(client, workshop, status: str, confirm: bool = True):
    data = {"status": status, "csrf_token": csrf_token(client, _page(workshop))}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"{_page(workshop)}/statut", data=data)


def _status(app, workshop) -> str:
    with app.app_context():
        return db.session.get(Workshop, workshop["id"]).status


def _releases(app, workshop) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(PublicRelease)
            .where(PublicRelease.workshop_id == workshop["id"])
            .order_by(PublicRelease.id)
        )
        return [
            {
                "id": r.id,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "cells": r.cells,
                "quartiers": r.quartiers,
            }
            for r in rows
        ]


def test_closing_needs_the_confirmation_box(app, coordinator, workshop):
    page = coordinator.get(_page(workshop)).get_data(as_text=True)
    assert 'name="confirm" value="yes" required' in page
    assert "Vous pourrez rouvrir l’atelier pendant 24 heures" in page
    refused = _post_status(coordinator, workshop, "closed", confirm=False)
    assert refused.status_code == 422
    assert "Cochez la case de confirmation" in refused.get_data(as_text=True)
    assert _status(app, workshop) == "open" and _releases(app, workshop) == []
    assert _post_status(coordinator, workshop, "closed").status_code == 302
    assert _status(app, workshop) == "closed" and len(_releases(app, workshop)) == 1


def test_pins_after_closing_get_a_clear_403(app, client, coordinator, workshop):
    code = workshop["codes"][0]
    pin = pin_body()
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin).status_code == 201
    _post_status(coordinator, workshop, "closed")
    for method, url, body in (
        ("POST", f"/api/v1/groups/{code}/pins", pin_body()),
        ("PATCH", f"/api/v1/groups/{code}/pins/{pin['id']}", {"feeling": "safe"}),
        ("DELETE", f"/api/v1/groups/{code}/pins/{pin['id']}", None),
    ):
        response = client.open(url, method=method, json=body)
        assert response.status_code == 403
        data = response.get_json()
        assert data["error"] == "workshop_closed"
        assert data["message"].startswith("Cet atelier est clôturé")


def test_reopening_within_the_grace_period(app, client, coordinator, workshop):
    code = workshop["codes"][0]
    _post_status(coordinator, workshop, "closed")
    page = coordinator.get(_page(workshop)).get_data(as_text=True)
    assert "Rouvrir l’atelier" in page and "24 heures après la clôture" in page
    assert _post_status(coordinator, workshop, "open", confirm=False).status_code == 302
    assert _status(app, workshop) == "open"
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    assert "Je confirme la clôture" in coordinator.get(_page(workshop)).get_data(as_text=True)


def test_no_reopening_after_the_grace_period(app, coordinator, workshop):
    _post_status(coordinator, workshop, "closed")
    with app.app_context():
        row = db.session.get(Workshop, workshop["id"])
        row.closed_at -= REOPEN_GRACE + timedelta(minutes=1)
        db.session.commit()
    page = coordinator.get(_page(workshop)).get_data(as_text=True)
    assert "ne peut plus être rouvert" in page and "Rouvrir l’atelier" not in page
    refused = _post_status(coordinator, workshop, "open")
    assert refused.status_code == 409
    assert "pendant 24 heures après la clôture" in refused.get_data(as_text=True)
    assert _status(app, workshop) == "closed"


def test_close_reopen_close_releases_each_pin_once_and_keeps_released_noise(
    app, client, coordinator, workshop, monkeypatch
):
    """The attacker compares the public outputs before and after a reopening. The first
    release is never rewritten (its noise is not re-drawn, so nothing averages), and the
    next one is made from the pins placed while reopened alone: a pin deleted meanwhile
    is in neither difference, a pin added is in exactly one release."""
    exact_inputs: list[np.ndarray] = []
    noisy = release.noisy_counts

    def spy(values, epsilon):
        exact_inputs.append(np.asarray(values).copy())
        return noisy(values, epsilon)

    monkeypatch.setattr(release, "noisy_counts", spy)
    code = workshop["codes"][0]
    placed = [pin_body() for _ in range(6)]
    for body in placed:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    _post_status(coordinator, workshop, "closed")
    assert [int(a.sum()) for a in exact_inputs] == [6, 6, 6]  # cells, categories, times
    first = _releases(app, workshop)

    # Reopen; one pin deleted, nothing added; close: nothing about the deleted pin leaks.
    exact_inputs.clear()
    _post_status(coordinator, workshop, "open")
    assert client.delete(f"/api/v1/groups/{code}/pins/{placed[0]['id']}").status_code == 204
    _post_status(coordinator, workshop, "closed")
    assert [int(np.abs(a).sum()) for a in exact_inputs] == [0, 0, 0]
    second = _releases(app, workshop)
    assert second[0] == first[0]  # the first release, noise included, untouched
    assert second[1]["period_start"] == first[0]["period_end"]

    # Reopen; one pin added; close: the new release holds it and only it.
    exact_inputs.clear()
    _post_status(coordinator, workshop, "open")
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    _post_status(coordinator, workshop, "closed")
    assert [int(a.sum()) for a in exact_inputs] == [1, 1, 1]
    third = _releases(app, workshop)
    assert third[:2] == second and len(third) == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Pin)) == 6
    # The public still answers, and from the releases only.
    assert client.get("/api/v1/territories/rennes/layers/hexagons").status_code == 200
