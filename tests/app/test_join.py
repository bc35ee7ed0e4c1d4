"""/j: a resident types the code of their table (no account, no cookie)."""

from __future__ import annotations

import pytest

from app.workshops.join import check_code


def test_the_page_asks_for_the_code_in_a_phone_friendly_field(client):
    page = client.get("/j").get_data(as_text=True)
    assert '<label for="code">Code de la table</label>' in page
    for attribute in ('inputmode="text"', 'autocapitalize="characters"', 'autocomplete="off"'):
        assert attribute in page


def test_home_page_leads_residents_to_it(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/j"' in page and "Saisir mon code" in page


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {dashed} "])
def test_a_known_code_in_any_case_leads_to_its_page(client, make_workshop, typed):
    code = make_workshop()["codes"][0]
    text = typed.format(code=code, lower=code.lower(), dashed=f"{code[:3]}-{code[3:6]} {code[6:]}")
    response = client.post("/j", data={"code": text})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/j/{code}"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("K7MQ2X9T0", "«\u00a00\u00a0»"),
        ("k7mq2x9to", "«\u00a0O\u00a0»"),
        ("K7MQ2X9lI", "«\u00a0I\u00a0», «\u00a0L\u00a0»"),
        ("K7MQ2X9T1", "«\u00a01\u00a0»"),
    ],
)
def test_ambiguous_characters_are_refused_with_a_hint(client, typed, hint):
    response = client.post("/j", data={"code": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Code de la table : les codes n&#39;utilisent jamais" in page
    assert hint in page
    assert 'aria-invalid="true"' in page and 'id="code-error"' in page
    assert f'value="{typed}"' in page  # what was typed stays, to correct it


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "saisissez le code"),
        ("K7MQ", "9 caractères attendus, 4 saisis"),
        ("K7MQ2X9T?", "lettres"),
    ],
)
def test_malformed_codes_name_the_field_and_the_reason(typed, reason):
    _code, error = check_code(typed)
    assert error.startswith("Code de la table :") and reason in error


def test_an_unknown_code_says_only_that(client, make_workshop):
    make_workshop()
    response = client.post("/j", data={"code": "ZZZZZZZZZ"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Code inconnu" in page
    assert "Table" not in page.split("<main>")[1]  # nothing about other groups


def test_typing_codes_in_bulk_is_refused(app, client, make_workshop):
    code = make_workshop()["codes"][0]
    limit, _period = app.config["CODE_ENTRY_RATE_PER_CLIENT"]
    for _ in range(limit):
        assert client.post("/j", data={"code": "ZZZZZZZZZ"}).status_code == 404
    refused = client.post("/j", data={"code": code})  # even a good one, once over
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_rubbish_never_gives_a_500(client):
    for data in ({"code": "x" * 10_000}, {"code": "é😀"}, {}):
        assert client.post("/j", data=data).status_code == 422
    # A NUL byte is refused by the app's input check before the view (app.security).
    assert client.post("/j", data={"code": "\x00"}).status_code == 400


def test_a_wrong_code_in_the_url_leads_back_to_the_form(client):
    page = client.get("/j/ZZZZZZZZZ")
    assert page.status_code == 404
    assert 'href="/j"' in page.get_data(as_text=True)
