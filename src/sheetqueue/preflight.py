"""Start-up checks: every setting is looked at before ``serve``, ``worker`` or ``tick`` works.

A long-running process that starts on a broken setting fails every pass
instead of once, so these commands refuse to start: each problem is a
:class:`~sheetqueue.config.errors.ConfigError` (exit 2) naming the setting.
Nothing here connects to a server; ``sheetqueue check`` does that.

- ``SHEETQUEUE_NOTIFY``: every notifier URL parses (scheme, host, port,
  options) and a maildir's folder can be created;
- ``SHEETQUEUE_CREDENTIALS_FILE``: a readable service-account key or
  ``authorized_user`` file with every field its kind needs;
- ``SHEETQUEUE_TEMPLATES_DIR``: an existing folder;
- ``SHEETQUEUE_STATE_PATH`` and ``SHEETQUEUE_LOCAL_PATH``: a file (not a
  folder) in a folder that exists or can be created, and can be written;
- ``--host``/``--port`` (``serve``): the address is one this machine has and
  the port is free; :func:`bind` hands the bound socket to the server.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.config.sign_in import read_credentials_file
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.notify.team import with_team_alerts

__all__ = ["bind", "check_settings"]


def check_settings(settings: Settings) -> None:
    """Raise ConfigError for the first setting that cannot work."""
    with_team_alerts(notifiers_from_settings(settings, clock=utc_now), settings)
    for target in settings.notify:
        if target.startswith("maildir:"):
            _writable_file_place("SHEETQUEUE_NOTIFY", Path(target.removeprefix("maildir:")))
    if settings.credentials_file is not None:
        read_credentials_file(settings.credentials_file)
    if settings.templates_dir is not None and not settings.templates_dir.is_dir():
        raise ConfigError(
            f"SHEETQUEUE_TEMPLATES_DIR: no such folder {str(settings.templates_dir)!r}"
        )
    _state_file("SHEETQUEUE_STATE_PATH", settings.state_path)
    if settings.backend == "local":
        _state_file("SHEETQUEUE_LOCAL_PATH", settings.local_path)
        if settings.archive_spreadsheet_id:
            raise ConfigError(
                "SHEETQUEUE_ARCHIVE_SPREADSHEET_ID: needs SHEETQUEUE_BACKEND=gsheets "
                "(the local store archives into its own file)"
            )


def _state_file(name: str, path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"{name}: {str(path)!r} is a folder; give a file name")
    _writable_file_place(name, path)


def _writable_file_place(name: str, path: Path) -> None:
    """The nearest existing folder at or above ``path`` can be written."""
    place = path if path.is_dir() else path.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise ConfigError(f"{name}: {str(place)!r} is not a folder")
    if not os.access(place, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}: cannot write in {str(place)!r}")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (``[::1]`` and ``::1`` alike), or ConfigError."""
    address = host.strip().removeprefix("[").removesuffix("]")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        try:
            family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0][0]
        except (OSError, UnicodeError):
            raise ConfigError(f"--host: {host!r} is not an address of this machine") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == 98 or "in use" in str(exc).lower():
            raise ConfigError(f"--port: {port} is already in use on {host}") from None
        reason = exc.strerror or str(exc)
        raise ConfigError(f"--host: cannot listen on {host} port {port}: {reason}") from None
    sock.set_inheritable(True)
    return sock
