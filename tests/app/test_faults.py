"""Faults a real deployment meets, with a retrying client like the phone's queue: the
database restarts and a gunicorn worker is killed while pins are being posted. Every
pin the server acknowledged is stored exactly once, and nothing answers 500 (the
outage answers 503 with Retry-After, and the client resends the same pin).

It runs on a cluster of its own (started here, under var/, on a free port), seeded
from the test database with ``flask backup``, so restarting it disturbs nothing else.
Bounded: 240 pins, a 120-second deadline, on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from app import backup
from tests.app.conftest import private_cluster, serve_gunicorn
from tests.helpers import pin_body

PINS = 240
DEADLINE = 120  # seconds for the whole run


@pytest.fixture
def own_database(app, database_url_for_tests, make_workshop, tmp_path):
    """A private cluster holding a copy of the test database with one open workshop;
    yields (cluster, its URL, the workshop's join code)."""
    code = make_workshop(groups=1)["codes"][0]
    with private_cluster(database_url_for_tests, tmp_path) as (cluster, url):
        yield cluster, url, code


class RetryingClient:
    """Posts pins one after the other; each is resent (same id, same body) until the
    server acknowledges it with 200 or 201, as the phone's queue does."""

    def __init__(self, url: str, code: str):
        self.target = f"{url}/api/v1/groups/{code}/pins"
        self.acknowledged: list[str] = []
        self.statuses: dict[int, int] = {}
        self.replays = 0
        self.done = threading.Event()

    def post(self, body: dict) -> int:
        request = urllib.request.Request(
            self.target,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (OSError, urllib.error.URLError):
            return 0  # reset by a killed worker, refused, or no answer in time

    def run(self, deadline: float) -> None:
        for _ in range(PINS):
            body = pin_body(id=str(uuid.uuid4()))
            tries = 0
            while time.monotonic() < deadline:
                status = self.post(body)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                tries += 1
                if status in (200, 201):
                    self.acknowledged.append(body["id"])
                    self.replays += tries - 1
                    break
                time.sleep(0.2)
        self.done.set()


def _workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _stored(url: str) -> list[str]:
    uri, env = backup.libpq_target(url)
    with psycopg.connect(uri, password=env.get("PGPASSWORD")) as connection:
        return [str(row[0]) for row in connection.execute("SELECT id FROM pin")]


def test_every_acknowledged_pin_is_stored_once_through_a_restart_and_a_killed_worker(
    own_database, tmp_path
):
    cluster, url, code = own_database
    settings = {
        "RESSENTI_PIN_RATE_PER_CODE": "[100000, 60]",
        "RESSENTI_PIN_RATE_PER_CLIENT": "[100000, 60]",
    }
    with serve_gunicorn(url, tmp_path / "gunicorn.log", workers=3, **settings) as (app_url, master):
        client = RetryingClient(app_url, code)
        deadline = time.monotonic() + DEADLINE
        thread = threading.Thread(target=client.run, args=(deadline,), daemon=True)
        thread.start()
        while len(client.acknowledged) < PINS // 3 and not client.done.is_set():
            time.sleep(0.05)
        cluster.stop()  # PostgreSQL goes away, then comes back
        time.sleep(2)
        cluster.start()
        while len(client.acknowledged) < 2 * PINS // 3 and not client.done.is_set():
            time.sleep(0.05)
        victim = _workers(master.pid)[0]
        os.kill(victim, signal.SIGKILL)  # gunicorn starts another
        thread.join(timeout=DEADLINE)
    assert len(client.acknowledged) == PINS, client.statuses
    stored = _stored(url)
    assert sorted(stored) == sorted(client.acknowledged)  # each once, none lost, none extra
    assert 500 not in client.statuses, client.statuses
    assert client.statuses.get(503, 0) > 0  # the outage was met, and said so
