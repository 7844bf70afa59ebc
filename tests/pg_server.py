"""A real PostgreSQL server on 127.0.0.1 for the tests: initdb into a temporary folder, pg_ctl.

The binaries are Debian's (``/usr/lib/postgresql/<version>/bin``, installed by
``make test`` when missing) or any on the PATH. initdb refuses to run as
root, so as root the server runs as the ``postgres`` user (made if missing).
Each test gets its own schema (``search_path`` in the URL), migrated.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["PgServer", "PgServerError", "find_pg_bin", "free_port", "start_pg_server"]

SERVER_USER = "postgres"
_INITDB = ("--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")


class PgServerError(RuntimeError):
    """The test server could not start; the message says why."""


def find_pg_bin() -> Path:
    """The folder holding initdb and pg_ctl (the newest Debian one first)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PgServerError(
        "no PostgreSQL server binaries (initdb) found: run `make test`, which installs "
        "Debian's postgresql package, or apt-get install postgresql"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The prefix that runs a command as a non-root user (none when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SERVER_USER], check=True, timeout=30
        )
    return ["runuser", "-u", SERVER_USER, "--"]


@dataclass
class PgServer:
    """A running server: its base URL, and how to stop it."""

    bin_dir: Path
    data_dir: Path
    port: int
    prefix: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def schema_url(self, schema: str) -> str:
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def fresh_schema(self) -> str:
        """A new, empty schema's URL (not migrated)."""
        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {name}")
        return self.schema_url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_pg_server() -> PgServer:
    """initdb and start a throwaway server on a free port; PgServerError saying why not."""
    bin_dir = find_pg_bin()
    prefix = _as_server_user()
    top = Path(tempfile.mkdtemp(prefix="sheetqueue-pg-"))
    data = top / "data"
    if prefix:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(top, user.pw_uid, user.pw_gid)
    top.chmod(0o755)
    init = subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", SERVER_USER, *_INITDB],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if init.returncode != 0:
        raise PgServerError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    port = free_port()
    options = (
        f"-p {port} -h 127.0.0.1 -k '' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    started = subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(top / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    if started.returncode != 0:
        log = (
            (top / "server.log").read_text(errors="replace")
            if (top / "server.log").exists()
            else ""
        )
        raise PgServerError(f"pg_ctl start failed: {started.stderr.strip()} {log[-2000:]}")
    return PgServer(bin_dir, data, port, prefix)
