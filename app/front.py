"""The buffering front of ``make run``: Debian's nginx, started and stopped by the
project under ``var/front/`` like its PostGIS cluster (``flask front start|stop|status``).

gunicorn's sync workers serve one request each: a client that trickles its headers
holds a worker until it is done, so a few dozen slow phones starve the app. nginx
reads every request whole before passing it on (deploy/nginx-front.conf), and answers
slow readers from its buffers. The configuration is the template with its ``@NAMES@``
filled in; nginx checks it (``-t``) before it starts.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.config import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx-front.conf"
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")
# nginx started as root hands its workers to this account (Debian's web server user).
WORKER_USER = "www-data"

front_cli = AppGroup("front", help="The nginx front of `make run` (under var/front).")


class FrontError(Exception):
    """The front could not be started or stopped: one line for the operator."""


def nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise FrontError("nginx is not installed (Debian: apt-get install nginx)")
    return found


class LocalFront:
    """nginx in ``root``, listening on ``listen`` (host:port), passing to ``upstream``."""

    def __init__(self, root: Path, listen: str, upstream: str):
        self.root, self.listen, self.upstream = root.resolve(), listen, upstream
        self.config = self.root / "nginx.conf"

    def temp_dir(self) -> Path:
        """Where nginx's workers buffer bodies: under ``root``, or, when nginx runs as
        root and its workers (www-data) cannot reach ``root`` (a checkout in a 0700
        home), a private directory under /var/lib/ressenti, as for the cluster."""
        inside = self.root / "tmp"
        if os.geteuid() != 0:
            return inside
        probe = self.root
        while not probe.exists():
            probe = probe.parent
        reach = ["runuser", "-u", WORKER_USER, "--", "test", "-x", str(probe)]
        if subprocess.run(reach, check=False).returncode == 0:
            return inside
        tag = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        return Path("/var/lib/ressenti") / tag / "front-tmp"

    def write_config(self) -> None:
        as_root = os.geteuid() == 0
        temp = self.temp_dir()
        for name in TEMP_DIRS:
            (temp / name).mkdir(parents=True, exist_ok=True)
        if as_root:  # the workers write request bodies and large answers there
            account = pwd.getpwnam(WORKER_USER)
            for directory in (temp, *(temp / name for name in TEMP_DIRS)):
                os.chown(directory, account.pw_uid, account.pw_gid)
        text = TEMPLATE.read_text()
        for name, value in {
            "ROOT": str(self.root),
            "TEMP": str(temp),
            "LISTEN": self.listen,
            "UPSTREAM": self.upstream,
            "USER": f"user {WORKER_USER};" if as_root else "",
        }.items():
            text = text.replace(f"@{name}@", value)
        self.config.write_text(text)

    def _run(self, *args: str) -> None:
        command = [
            nginx(),
            "-p",
            str(self.root),
            "-c",
            str(self.config),
            "-e",
            str(self.root / "error.log"),
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            lines = [
                line for line in result.stderr.splitlines() if "[emerg]" in line or "failed" in line
            ]
            raise FrontError((lines or result.stderr.splitlines() or ["nginx failed"])[0])

    def pid(self) -> int | None:
        """The running master's pid: the pid file's process, if it is this front's nginx
        (a pid file left by a crash may name any process since)."""
        try:
            pid = int((self.root / "nginx.pid").read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        ours = b"nginx" in command and str(self.config).encode() in command
        return pid if ours else None

    def start(self) -> None:
        """Write the configuration, check it and start nginx (stopping an old one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.stop()
        self.write_config()
        self._run("-t", "-q")
        self._run()

    def stop(self, timeout: float = 10) -> bool:
        """Stop nginx gracefully; True when one was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid() is not None:
            os.kill(pid, signal.SIGTERM)
        return True


def _front(listen: str, upstream: str) -> LocalFront:
    return LocalFront(Path(current_app.config["LOCALDB_DIR"]) / "front", listen, upstream)


@front_cli.command("start")
@click.option("--listen", default="127.0.0.1:5000", show_default=True)
@click.option("--upstream", default="127.0.0.1:5001", show_default=True, help="gunicorn")
def front_start(listen: str, upstream: str) -> None:
    """Start nginx in front of gunicorn."""
    try:
        _front(listen, upstream).start()
    except FrontError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"front: nginx on http://{listen}/ → gunicorn on {upstream}")


@front_cli.command("stop")
def front_stop() -> None:
    """Stop the front's nginx."""
    stopped = _front("", "").stop()
    click.echo("front: stopped" if stopped else "front: not running")
