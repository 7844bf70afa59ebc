"""The shops file: many shops served by one deployment (``SHEETQUEUE_SHOPS``).

A TOML file with one ``[[shop]]`` table per shop. Each shop is the base
settings (environment and ``sheetqueue.toml``) plus the settings its table
names; any setting of the config file may be given (``spreadsheet_id``,
``local_path``, ``orders``, ``notify``, ``templates_dir``, ``store_name``,
``mail_from``, ``credentials_file``, a ``[shop.policy]`` table, ...). Nested
tables (``policy``, ``sheet``) are merged key by key into the base ones.
Relative paths (and ``file:``/``maildir:`` targets) are taken from the shops
file's folder. Top-level keys:

- ``concurrency``: shops passed at once (default 1: one after the other);
- ``sheets_reads_per_minute`` / ``sheets_writes_per_minute``: requests per
  minute each service account (credentials file) may make across all its
  shops (default 60, Google's per-user quota).

Shared PostgreSQL state (``SHEETQUEUE_STATE_URL``) is refused with a shops
file: its tables hold no shop, so the shops' outboxes and ledgers would mix.
Each shop keeps its own state file (``state_path``, by default
``<state folder>/shops/<name>/state.db``), so its ledger, pass lock and lease
are its own. Every problem is a :class:`ConfigError` naming the shop and the
field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings

__all__ = ["DEFAULT_QUOTA_PER_MINUTE", "Shop", "Shops", "load_shops"]

DEFAULT_QUOTA_PER_MINUTE = 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TOP = {"concurrency", "sheets_reads_per_minute", "sheets_writes_per_minute", "shop"}
_PATHS = ("local_path", "state_path", "credentials_file", "templates_dir")
_NESTED = ("policy", "sheet")
_NOT_PER_SHOP = ("shops", "state_url")


@dataclass(frozen=True)
class Shop:
    """One shop: its name and the whole settings its worker runs with."""

    name: str
    settings: Settings

    @property
    def where(self) -> str:
        """The store it works, as a person would name it."""
        if self.settings.backend == "gsheets":
            return f"spreadsheet {self.settings.spreadsheet_id}"
        return f"local {self.settings.local_path}"

    @property
    def quota_key(self) -> str:
        """The account its Sheets calls count against (its credentials file)."""
        credentials = self.settings.credentials_file
        return str(credentials.resolve()) if credentials is not None else "default credentials"


@dataclass(frozen=True)
class Shops:
    """Every shop of the file, in file order, and how they share the Sheets quota."""

    path: Path
    shops: tuple[Shop, ...]
    concurrency: int = 1
    reads_per_minute: int = DEFAULT_QUOTA_PER_MINUTE
    writes_per_minute: int = DEFAULT_QUOTA_PER_MINUTE

    def names(self) -> list[str]:
        return [shop.name for shop in self.shops]


def load_shops(path: Path, base: Settings) -> Shops:
    """Read and check the shops file; raise ConfigError naming the shop and the field."""
    where = f"SHEETQUEUE_SHOPS ({path})"
    if base.state_url.get_secret_value():  # its tables hold no shop: shops would mix
        raise ConfigError(
            "SHEETQUEUE_STATE_URL: shared PostgreSQL state is not kept per shop; unset it "
            f"with SHEETQUEUE_SHOPS ({path}): each shop keeps its state in its own state file"
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"SHEETQUEUE_SHOPS: no such file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(document) - _TOP)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; use [[shop]] tables")
    tables = document.get("shop")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{where}: no shops; add one [[shop]] table per shop")
    shops: list[Shop] = []
    for index, table in enumerate(tables, start=1):
        shops.append(_shop(table, index, base, path.parent, where))
    _no_clashes(shops, where)
    return Shops(
        path,
        tuple(shops),
        concurrency=_positive(document, "concurrency", 1, where),
        reads_per_minute=_positive(
            document, "sheets_reads_per_minute", DEFAULT_QUOTA_PER_MINUTE, where
        ),
        writes_per_minute=_positive(
            document, "sheets_writes_per_minute", DEFAULT_QUOTA_PER_MINUTE, where
        ),
    )


def _positive(document: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = document.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: {key}: must be a whole number of at least 1")
    return value


def _shop(table: Any, index: int, base: Settings, folder: Path, where: str) -> Shop:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: shop {index}: must be a [[shop]] table")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: shop {index}: name: required, lower-case letters, digits, - and _ "
            "(it names the shop's state folder)"
        )
    label = f"{where}: shop {name!r}"
    overrides = {key: value for key, value in table.items() if key != "name"}
    for key in _NOT_PER_SHOP:
        if key in overrides:
            raise ConfigError(f"{label}: {key}: cannot be set per shop")
    if "spreadsheet_id" in overrides and "backend" not in overrides:
        overrides["backend"] = "gsheets"
    elif "local_path" in overrides and "backend" not in overrides:
        overrides["backend"] = "local"
    _resolve_paths(overrides, folder)
    values = base.model_dump()
    values.pop("shops", None)
    values["state_path"] = base.state_path.parent / "shops" / name / "state.db"
    for key, value in overrides.items():
        if key in _NESTED and isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{label}: {_field_error(exc)}") from None
    try:
        settings.require_gsheets()
    except ConfigError:
        raise ConfigError(
            f"{label}: spreadsheet_id: required for a Google Sheets shop "
            "(or give local_path for a local one)"
        ) from None
    if settings.backend == "local" and settings.archive_spreadsheet_id:
        raise ConfigError(
            f"{label}: archive_spreadsheet_id: needs a Google Sheets shop "
            "(a local shop archives into its own file)"
        )
    return Shop(name, settings)


def _resolve_paths(overrides: dict[str, Any], folder: Path) -> None:
    for key in _PATHS:
        value = overrides.get(key)
        if isinstance(value, str) and value:
            overrides[key] = str(folder / Path(value).expanduser())
    orders = overrides.get("orders")
    if isinstance(orders, str) and orders.startswith("file:"):
        overrides["orders"] = "file:" + str(folder / Path(orders.removeprefix("file:")))
    notify = overrides.get("notify")
    if isinstance(notify, str):
        notify = [part.strip() for part in notify.split(",") if part.strip()]
    if isinstance(notify, list):
        overrides["notify"] = [
            "maildir:" + str(folder / Path(t.removeprefix("maildir:")))
            if isinstance(t, str) and t.startswith("maildir:")
            else t
            for t in notify
        ]


def _field_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "settings"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown setting; check the spelling"
    return f"{location}: {message}"


def _no_clashes(shops: list[Shop], where: str) -> None:
    """Two shops may not share a name, a store or a state file (they would pass it twice)."""
    seen: dict[tuple[str, str], str] = {}
    for shop in shops:
        settings = shop.settings
        store = (
            ("spreadsheet_id", settings.spreadsheet_id)
            if settings.backend == "gsheets"
            else ("local_path", str(settings.local_path.resolve()))
        )
        keys = [("name", shop.name), store, ("state_path", str(settings.state_path.resolve()))]
        if settings.archive_spreadsheet_id:
            keys.append(("archive_spreadsheet_id", settings.archive_spreadsheet_id))
        for key in keys:
            other = seen.get(key)
            if other is not None:
                raise ConfigError(
                    f"{where}: shop {shop.name!r}: {key[0]}: the same as shop {other!r}; "
                    "each shop needs its own"
                )
            seen[key] = shop.name
