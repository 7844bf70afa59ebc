"""Where the settings come from besides the environment: the TOML file.

The file is ``SHEETQUEUE_CONFIG`` when set (it must exist), else
``./sheetqueue.toml`` when present, else none. In it ``[orders]`` may be a table
(``source``, ``fields``, ``statuses``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic_settings import TomlConfigSettingsSource

from sheetqueue.config.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_FILE", "ENV_PREFIX", "TomlSource", "config_file"]

ENV_PREFIX = "SHEETQUEUE_"
DEFAULT_CONFIG_FILE = "sheetqueue.toml"


class TomlSource(TomlConfigSettingsSource):
    """The TOML file, where ``[orders]`` may be a table: ``source``, ``fields``, ``statuses``.

    ``orders = "file:orders.csv"`` stays valid; ``[orders] source = ...`` is the
    same with room for ``[orders.fields]`` and ``[orders.statuses]``.
    """

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        data = dict(super()._read_file(file_path))
        table = data.get("orders")
        if isinstance(table, dict):
            table = dict(table)
            unknown = sorted(set(table) - {"source", "fields", "statuses"})
            if unknown:
                raise ConfigError(
                    f"[orders] {unknown[0]}: unknown setting; use source, fields or statuses"
                )
            del data["orders"]
            if "source" in table:
                data["orders"] = table["source"]
            for key, name in (("fields", "order_fields"), ("statuses", "order_statuses")):
                if key in table:
                    data[name] = table[key]
        return data


def config_file(environ: Mapping[str, str]) -> Path | None:
    """The TOML file the settings read, if any (ConfigError if a named one is missing)."""
    named = environ.get(f"{ENV_PREFIX}CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"SHEETQUEUE_CONFIG: no such file {named!r}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None
