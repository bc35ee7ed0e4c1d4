"""In-memory rate limits (sliding window) for the pin API.

Counters live in the worker's memory only: no IP address reaches the database. With N
workers each enforces its own share, which is enough to stop a runaway script or a
stuck retry loop; a hall full of phones behind one NAT address stays well under them.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests


class SlidingWindow:
    """At most ``limit`` events per ``period`` seconds for each key."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, period: float) -> float:
        """Record one event; return 0 if allowed, else the seconds until the next slot."""
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - period:
                events.popleft()
            if len(events) >= limit:
                return events[0] + period - now
            events.append(now)
            if len(self._events) > 100_000:  # forget idle keys now and then
                self._forget(now - period)
            return 0.0

    def _forget(self, horizon: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= horizon]:
            del self._events[key]

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


windows = SlidingWindow()


def limit_writes(join_code: str) -> None:
    """Abort with 429 (and Retry-After) when this code or this client writes too fast."""
    config = current_app.config
    checks = (
        (f"code:{join_code}", config["PIN_RATE_PER_CODE"]),
        (f"client:{request.remote_addr}", config["PIN_RATE_PER_CLIENT"]),
    )
    for key, (limit, period) in checks:
        wait = windows.hit(key, limit, period)
        if wait:
            error = TooManyRequests(description="trop de requêtes, réessayez plus tard")
            error.retry_after = max(1, int(wait + 0.999))
            raise error
