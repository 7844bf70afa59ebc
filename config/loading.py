"""Building the settings at the entry point: unknown variables refused, errors named.

A ``SHEETQUEUE_*`` variable the settings do not read is an error naming the
closest known one; a bad value is an error naming the setting as the TOML file
and the environment spell it (``[policy] grace_days (SHEETQUEUE_POLICY__GRACE_DAYS)``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from typing import Any, get_origin

from pydantic import ValidationError
from pydantic_settings import SettingsError

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.policy import Policy
from sheetqueue.config.settings import Settings, SheetSettings
from sheetqueue.config.settings_sources import ENV_PREFIX

__all__ = ["known_variables", "load_settings"]


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, or raise ConfigError naming the first bad setting."""
    _refuse_unknown_variables(os.environ)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"SHEETQUEUE_CONFIG: cannot read the TOML file: {exc}") from None
    except SettingsError as exc:
        raise ConfigError(f"configuration: {exc}") from None
    settings.require_gsheets()
    return settings


def known_variables() -> list[str]:
    """Every ``SHEETQUEUE_*`` name the settings read."""
    names = [f"{ENV_PREFIX}CONFIG"]
    for field, nested in (("policy", Policy), ("sheet", SheetSettings)):
        names += [f"{ENV_PREFIX}{field.upper()}__{name.upper()}" for name in nested.model_fields]
    return names + [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields]


def _table_variables() -> list[str]:
    """The variables of settings that are tables: each key is ``NAME__KEY``."""
    return [
        f"{ENV_PREFIX}{name.upper()}"
        for name, info in Settings.model_fields.items()
        if get_origin(info.annotation) is dict
    ]


def _refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    known = known_variables()
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        if any(upper.startswith(f"{name}__") for name in known if "__" in name):  # a table key
            continue
        if any(upper.startswith(f"{table}__") for table in _table_variables()):  # LINKS__RETURN
            continue
        if any(upper == f"{ENV_PREFIX}{group}" for group in ("POLICY", "SHEET")):
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; check the spelling"
        raise ConfigError(f"{name}: unknown setting{hint}")


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    if location and location[0] == "sheet":
        name = "[sheet] " + ".".join(location[1:2]) if len(location) > 1 else "[sheet]"
        where = f"{name} ({ENV_PREFIX}SHEET__{'__'.join(location[1:2]).upper()})"
    elif location and location[0] in ("order_fields", "order_statuses"):
        table = location[0].removeprefix("order_")
        where = f"[orders.{table}] ({ENV_PREFIX}{location[0].upper()})"
    elif location and location[0] == "policy":
        name = "[policy] " + ".".join(location[1:]) if len(location) > 1 else "[policy]"
        env = ENV_PREFIX + "POLICY__" + "__".join(location[1:]).upper()
        where = f"{name} ({env})"
    else:
        where = ENV_PREFIX + "_".join(location[:1]).upper()
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown setting; check the spelling"
    return f"{where}: {message}"
