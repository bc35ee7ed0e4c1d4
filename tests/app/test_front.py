"""The front `make run` puts before gunicorn (app/front.py, deploy/nginx-front.conf):
slow clients hold nginx connections, not gunicorn's workers, so a phone posting its
pins is served on time while a hundred clients trickle their headers; and without the
front, the same hundred starve gunicorn (what the front is for)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.front import LocalFront
from tests.app.conftest import free_port, serve_gunicorn
from tests.app.test_pins_api import count_pins
from tests.helpers import pin_body

SLOW_CLIENTS = 100


@pytest.fixture
def code(make_workshop):
    return make_workshop(groups=1)["codes"][0]


@pytest.fixture
def backend(app, database_url_for_tests, tmp_path):
    """gunicorn with 3 sync workers, as a small town's server runs it."""
    with serve_gunicorn(database_url_for_tests, tmp_path / "gunicorn.log", workers=3) as (
        url,
        _server,
    ):
        yield url


@pytest.fixture
def front(backend):
    """nginx in front of it, started by the project's own code; its URL."""
    # Under var/ (not /tmp/pytest-of-root, mode 700): nginx's workers run as www-data.
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="front-test-", dir=PROJECT_ROOT / "var"))
    root.chmod(0o755)
    listen = f"127.0.0.1:{free_port()}"
    running = LocalFront(root, listen, backend.removeprefix("http://"))
    running.start()
    try:
        yield f"http://{listen}", root
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


class Tricklers:
    """``count`` clients that open a request and send one more header byte a second."""

    def __init__(self, url: str, count: int):
        host, port = url.removeprefix("http://").split(":")
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"POST /api/v1/groups/XXXX/pins HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self.sockets.append(sock)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stopped.wait(1.0):
            for sock in self.sockets:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def _post_pin(url: str, code: str, timeout: float) -> int:
    body = pin_body()
    request = urllib.request.Request(
        f"{url}/api/v1/groups/{code}/pins",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (TimeoutError, urllib.error.URLError, ConnectionError):
        return 0  # no answer within the client's patience


def test_slow_clients_do_not_starve_the_app_behind_the_front(app, code, front):
    url, _root = front
    slow = Tricklers(url, SLOW_CLIENTS)
    try:
        time.sleep(1.5)  # every slow client is in, and has trickled
        statuses = [_post_pin(url, code, timeout=10) for _ in range(20)]
    finally:
        slow.close()
    assert statuses == [201] * 20
    assert count_pins(app) == 20


def test_without_the_front_the_same_clients_starve_gunicorn(app, code, backend):
    slow = Tricklers(backend, SLOW_CLIENTS)
    try:
        time.sleep(1.5)
        status = _post_pin(backend, code, timeout=5)
    finally:
        slow.close()
    assert status == 0  # what the front is for: three sync workers are all held
    assert count_pins(app) == 0


def test_the_front_logs_no_client_address(app, code, front):
    url, root = front
    assert _post_pin(url, code, timeout=10) == 201
    deadline = time.monotonic() + 5
    log = root / "access.log"
    while time.monotonic() < deadline and "/pins" not in log.read_text():
        time.sleep(0.1)
    lines = log.read_text().splitlines()
    assert any("/pins" in line and " 201 " in line for line in lines)
    assert not any("127.0.0.1" in line for line in lines)


def test_a_stale_pid_file_never_signals_another_process(tmp_path):
    """After a crash the pid in nginx.pid may belong to any process: stop() (and start(),
    which stops an old front first) leaves it alone."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        front = LocalFront(tmp_path / "front", "127.0.0.1:1", "127.0.0.1:2")
        front.root.mkdir(parents=True)
        (front.root / "nginx.pid").write_text(f"{bystander.pid}\n")
        assert front.pid() is None and front.stop() is False
        assert bystander.poll() is None  # still running
    finally:
        bystander.kill()
        bystander.wait()


def test_large_bodies_pass_when_the_checkout_is_in_a_private_home(app, code, backend, tmp_path):
    """A checkout under a 0700 directory (root's home, here pytest's own tmp): nginx's
    workers (www-data) buffer a body larger than their memory buffer somewhere they can
    write, so the app answers it (422: not a pin), not nginx (500)."""
    listen = f"127.0.0.1:{free_port()}"
    front = LocalFront(tmp_path / "front", listen, backend.removeprefix("http://"))
    front.start()
    try:
        body = json.dumps({**pin_body(), "comment": "x" * 100_000}).encode()
        request = urllib.request.Request(
            f"http://{listen}/api/v1/groups/{code}/pins",
            data=body, headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            status = urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 422
    finally:
        front.stop()
