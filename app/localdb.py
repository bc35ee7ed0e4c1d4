"""The embedded PostGIS cluster that Ressenti runs when no DATABASE_URL is given.

The cluster lives under ``var/`` (data, socket, log), listens only on its own Unix
socket (no TCP port, so it never collides with a system PostgreSQL), and is driven
with the server binaries of the system's PostgreSQL packages. As root, the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "ressenti"
DEFAULT_PORT = 54329
# sun_path holds 108 bytes; keep a margin for ".s.PGSQL.<port>.lock".
_MAX_SOCKET_DIR = 90


class LocalDBError(RuntimeError):
    """The embedded cluster cannot be set up or started; the message says what to do."""


@dataclass
class Status:
    running: bool
    pid: int | None
    data_dir: Path
    url: str


def find_bindir() -> Path:
    """Return the newest PostgreSQL server binary directory (or ``$PG_BINDIR``)."""
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        if not (Path(explicit) / "postgres").exists():
            raise LocalDBError(f"PG_BINDIR={explicit} has no postgres binary")
        return Path(explicit)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).resolve().parent
    raise LocalDBError(
        "PostgreSQL server is not installed: run `make run` (it installs it), or "
        "`apt-get install postgresql postgresql-15-postgis-3`, or set DATABASE_URL"
    )


def check_postgis(bindir: Path) -> None:
    """Raise a clear error when the PostGIS extension is missing for this server.

    Debian splits PostGIS into SQL scripts (``postgis.control``) and the server
    library (``postgis-3.so``): both must be there.
    """
    major = bindir.parent.name
    control = [
        Path(f"/usr/share/postgresql/{major}/extension/postgis.control"),
        bindir.parent / "share" / "extension" / "postgis.control",
    ]
    library = list((bindir.parent / "lib").glob("postgis-3*.so"))
    if not (any(path.exists() for path in control) and library):
        raise LocalDBError(
            f"PostGIS is not installed for PostgreSQL {major}: install it with "
            f"`apt-get install postgresql-{major}-postgis-3` (or run `make run`)"
        )


class LocalCluster:
    """One PostgreSQL cluster under a project directory.

    Parameters
    ----------
    root : Path
        Directory that holds ``pgdata/``, ``run/`` (socket) and ``log/``.
    port : int
        Names the socket file; no TCP port is opened.
    """

    def __init__(self, root: Path, port: int = DEFAULT_PORT):
        self.port = int(port)
        self.root = _usable_root(Path(root).resolve())
        self.data_dir = self.root / "pgdata"
        self.log_file = self.root / "log" / "postgres.log"
        self.socket_dir = self._socket_dir()

    def _socket_dir(self) -> Path:
        preferred = self.root / "run"
        if len(str(preferred)) <= _MAX_SOCKET_DIR:
            return preferred
        tag = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        return Path("/tmp") / f"ressenti-{tag}"

    def url(self, database: str = "ressenti") -> str:
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"
        )

    # -- lifecycle ---------------------------------------------------------------------

    def status(self) -> Status:
        pid = self._live_pid()
        return Status(pid is not None, pid, self.data_dir, self.url())

    def start(self, timeout: int = 60) -> Status:
        """Initialise the cluster if needed and start it; a no-op when it runs."""
        bindir = find_bindir()
        check_postgis(bindir)
        if self._live_pid() is not None:
            return self.status()
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
        self._write_settings()
        self._remove_stale_locks()
        try:
            _run(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    str(timeout),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                ]
            )
        except LocalDBError as exc:
            raise LocalDBError(f"{exc}\n--- {self.log_file} ---\n{self._log_tail()}") from exc
        return self.status()

    def stop(self) -> bool:
        """Stop the cluster; return whether it was running."""
        if self._live_pid() is None:
            return False
        _run([str(find_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
        return True

    def ensure_database(self, name: str) -> bool:
        """Create a database if it does not exist; return whether it was created."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise LocalDBError(f"invalid database name {name!r}")
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
            return not exists

    def clone_from(self, primary: LocalCluster) -> bool:
        """Make this cluster a streaming hot standby of ``primary`` with PostgreSQL's
        own ``pg_basebackup -R`` (it writes ``standby.signal`` and the connection to the
        primary); a no-op when it exists. Returns whether it was made."""
        if (self.data_dir / "PG_VERSION").exists():
            return False
        self._prepare_dirs()
        backup = [str(find_bindir() / "pg_basebackup"), "-D", str(self.data_dir)]
        source = ["-h", str(primary.socket_dir), "-p", str(primary.port), "-U", SUPERUSER]
        _run([*backup, *source, "--write-recovery-conf", "--wal-method=stream", "-c", "fast"])
        # Long layer reads are not cancelled by the primary's vacuum (recovery conflicts).
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("hot_standby_feedback = on\n")
        return True

    # -- helpers -----------------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        for directory in (self.root, self.data_dir, self.log_file.parent, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        if _is_root():
            owner = pwd.getpwnam("postgres")
            for directory in (self.data_dir, self.log_file.parent, self.socket_dir):
                _chown_tree(directory, owner.pw_uid, owner.pw_gid)

    def _initdb(self, bindir: Path) -> None:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'ressenti.conf'\n")

    def _write_settings(self) -> None:
        # Socket only, private to the server's user (root gets through regardless).
        settings = self.data_dir / "ressenti.conf"
        settings.write_text(
            "listen_addresses = ''\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "unix_socket_permissions = 0700\n"
        )
        if _is_root():
            owner = pwd.getpwnam("postgres")
            os.chown(settings, owner.pw_uid, owner.pw_gid)

    def _live_pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _is_postgres(pid) else None

    def _remove_stale_locks(self) -> None:
        """Drop pid and socket lock files left by a server that died without cleaning up."""
        for lock in (
            self.data_dir / "postmaster.pid",
            self.socket_dir / f".s.PGSQL.{self.port}.lock",
        ):
            try:
                pid = int(lock.read_text().split("\n", 1)[0])
            except (OSError, ValueError):
                continue
            if not _is_postgres(pid):
                lock.unlink(missing_ok=True)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _is_root() -> bool:
    return os.geteuid() == 0


def _is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def _usable_root(root: Path) -> Path:
    """Return ``root``, or a private fallback when the postgres user cannot reach it.

    As root, the server runs as ``postgres``, which cannot enter a checkout under a
    home directory of mode 0700; the cluster then lives in /var/lib/ressenti/<hash>.
    """
    if not _is_root():
        return root
    probe = root
    while not probe.exists():
        probe = probe.parent
    reachable = (
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(probe)], check=False
        ).returncode
        == 0
    )
    if reachable:
        return root
    tag = hashlib.sha1(str(root).encode()).hexdigest()[:12]
    return Path("/var/lib/ressenti") / tag


def _run(args: list[str]) -> None:
    if _is_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    try:
        subprocess.run(args, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise LocalDBError(f"cannot run {args[0]}: {exc}") from exc
    except subprocess.CalledProcessError as exc:
        raise LocalDBError(f"{' '.join(args)} failed:\n{exc.stderr or exc.stdout}") from exc


def wait_until_ready(cluster: LocalCluster, timeout: float = 30.0) -> None:
    """Block until the cluster accepts connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(
                host=str(cluster.socket_dir),
                port=cluster.port,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=2,
            ).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
