"""Two nodes on one database (DESIGN §8): two gunicorn instances, each its own
processes, share what must be shared through PostgreSQL — a session signed in on one is
signed in on the other, a rate limit counts requests to both, and a pin written through
one invalidates the layer the other cached."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import re
import urllib.error
import urllib.request

import pytest

from tests.app.conftest import serve_gunicorn
from tests.helpers import PASSWORD, pin_body

PER_CODE = 10  # pins per join code in the window, for both nodes together


@pytest.fixture(scope="module")
def servers(database_url_for_tests, tmp_path_factory):
    """Node A and node B: two gunicorn instances of two workers each, started once for
    the module (each test's data comes from the ``app`` fixture, in the same database)."""
    tmp_path = tmp_path_factory.mktemp("nodes")
    settings = {"RESSENTI_PIN_RATE_PER_CODE": f"[{PER_CODE}, 600]"}
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(
                serve_gunicorn(database_url_for_tests, tmp_path / f"{n}.log", workers=2, **settings)
            )[0]
            for n in ("a", "b")
        ]
        yield urls


@pytest.fixture
def nodes(app, rennes, servers):
    return servers


def _open(opener, url: str, data: bytes | None = None, headers=None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _post_pin(url: str, code: str) -> int:
    body = json.dumps(pin_body()).encode()
    opener = urllib.request.build_opener()
    return _open(
        opener, f"{url}/api/v1/groups/{code}/pins", body, {"Content-Type": "application/json"}
    )[0]


def test_a_session_from_one_node_is_signed_in_on_the_other(nodes, make_user):
    a, b = nodes
    user = make_user("coordinator", "rennes")
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = _open(browser, f"{a}/connexion")[2].decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = f"email={user.email}&password={PASSWORD.replace(' ', '+')}&csrf_token={token}"
    _open(
        browser,
        f"{a}/connexion",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    status, _headers, body = _open(
        urllib.request.build_opener(), f"{b}/t/rennes/tableau-de-bord/", headers={"Cookie": cookie}
    )
    assert status == 200 and user.name in body.decode()


def test_a_rate_limit_counts_the_requests_to_both_nodes(nodes, make_workshop):
    a, b = nodes
    code = make_workshop(groups=1)["codes"][0]
    statuses = [_post_pin(a if n % 2 else b, code) for n in range(PER_CODE + 4)]
    assert statuses.count(201) == PER_CODE and statuses.count(429) == 4


def test_a_pin_through_one_node_invalidates_the_layer_the_other_cached(
    nodes, make_workshop, make_user, make_token
):
    a, b = nodes
    code = make_workshop(groups=1)["codes"][0]
    for _ in range(3):
        assert _post_pin(a, code) == 201
    auth = {"Authorization": f"Bearer {make_token(make_user('police', 'rennes'))}"}
    opener = urllib.request.build_opener()
    layer = "/api/v1/territories/rennes/layers/hexagons?full=1"

    def total(url: str) -> tuple[int, str]:
        status, headers, body = _open(opener, url + layer, headers=auth)
        assert status == 200
        features = json.loads(body)["features"]
        return sum(f["properties"]["total"] for f in features), headers["X-Cache"]

    assert total(a) == (3, "miss")
    assert total(b) == (3, "hit")  # computed by node A
    assert _post_pin(b, code) == 201
    assert total(a) == (4, "miss")  # node B's write reached node A's cache
    assert total(b) == (4, "hit")
