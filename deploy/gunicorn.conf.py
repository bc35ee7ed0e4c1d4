"""Gunicorn settings for Ressenti.

`make run` uses them, and so should production (behind a reverse proxy):
``gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'``.

No IP address is logged with a pin write (DESIGN §6): the access log format has no
remote address (``%(h)s``) and no forwarded-for header, and the error log goes through
a filter that masks addresses (gunicorn warns "Invalid request from ip=…" at the default
level). The reverse proxy must do the same: deploy/nginx.conf.example.

Environment: HOST and PORT (default 127.0.0.1:5000), WEB_CONCURRENCY (default: two
workers per core, plus one).
"""

import logging
import multiprocessing
import os
import re

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# Rate-limit counters and the layer cache's version live in PostgreSQL (DESIGN §8), so
# plain sync workers share everything that matters; recycle them now and then.
worker_class = "sync"
max_requests = 2000
max_requests_jitter = 200
timeout = 120  # a GeoPackage export of a whole territory takes a while
graceful_timeout = 30

# Time, request line, status, size, duration: who sent it is nobody's business.
accesslog = "-"
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
if loglevel.lower() == "debug":  # debug messages carry client addresses
    loglevel = "info"


_ADDRESS = re.compile(r"ip=\S+?(?=: |$)|\b(?:\d{1,3}\.){3}\d{1,3}\b")


class _MaskAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = _ADDRESS.sub("ip=[masquée]", record.getMessage()), ()
        return True


class NoAddressLogger(Logger):
    """Gunicorn's logger, with client addresses masked in the error log."""

    def setup(self, cfg) -> None:
        """Set gunicorn's handlers up, then filter the error log's."""
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(_MaskAddresses())


logger_class = NoAddressLogger
