"""One typed settings object, built once at the entry point and passed down.

Sources, strongest first: ``SHEETQUEUE_*`` environment variables, then the TOML
file (``SHEETQUEUE_CONFIG``, or ``./sheetqueue.toml`` when present: see
:mod:`~sheetqueue.config.settings_sources`), then the defaults below. Entry
points build them with :func:`~sheetqueue.config.loading.load_settings`. Nothing
here runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sheetqueue.config.date_locales import locale_name
from sheetqueue.config.errors import ConfigError
from sheetqueue.config.logs import LEVELS
from sheetqueue.config.policy import Policy
from sheetqueue.config.settings_sources import ENV_PREFIX, TomlSource, config_file
from sheetqueue.config.sign_in import spreadsheet_key

__all__ = ["NOTIFIER_SCHEMES", "Settings", "SheetSettings"]

_LINK_KEYS = (
    "cancellation",
    "refund",
    "return",
    "exchange",
    "address_change",
    "unsubscribe",
    "support",
    "default",
)

_WEB_SCHEMES = ("http://", "https://")
NOTIFIER_SCHEMES = (
    "smtp://",
    "smtp+starttls://",
    "smtps://",
    "maildir:",
    "webhook:",
    "apprise:",
    "log:",
)


class SheetSettings(BaseModel):
    """``[sheet]``: how the queue's tab is read.

    ``aliases`` maps a column (its field name, ``order_id``, or its header,
    ``Order ID``) to other headers a team uses for it, on top of the built-in
    ones (``Order #``, ``Order Number``, ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    aliases: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("aliases")
    @classmethod
    def _non_blank(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, headers in value.items():
            if not key.strip() or any(not header.strip() for header in headers):
                raise ValueError(f"blank column or header in the aliases of {key!r}")
        return value


class Settings(BaseSettings):
    """Everything sheetqueue can be told, with the documented defaults."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    backend: Literal["local", "gsheets"] = "local"
    local_path: Path = Path("sheetqueue.db")
    state_path: Path = Field(
        Path("sheetqueue-state.db"),
        description="worker and outbox state (notification ledger, lookup locks, outbox)",
    )
    state_url: SecretStr = Field(
        SecretStr(""),
        description="postgresql://... to keep the state in PostgreSQL, shared by several hosts",
    )
    spreadsheet_id: str = ""
    credentials_file: Path | None = None
    sheets_api_url: str = "https://sheets.googleapis.com"
    sheets_timeout_seconds: float = Field(30.0, gt=0)
    sheets_landing_seconds: float = Field(
        180.0,
        ge=0,
        description="how long after it was sent an append whose answer was lost may still land "
        "(Google stops processing a request after 180 s); the outbox looks only after that",
    )
    requests_tab: str = "Requests"
    log_tab: str = "Log"
    orders: str = "tab:Orders"
    order_fields: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="[orders.fields]: the shop's column (or columns) for an order field",
    )
    order_statuses: dict[str, str] = Field(
        default_factory=dict,
        description="[orders.statuses]: the shop's status words, each mapped to a status",
    )
    orders_token: SecretStr = SecretStr("")
    orders_timeout_seconds: float = Field(10.0, gt=0)
    notify: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["maildir:./outbox"])
    mail_from: str = "support@localhost"
    store_name: str = "Our store"
    timezone: str = "UTC"
    locale: str = Field(
        "en_US",
        description="how the shop writes dates outside a Google Sheet (en_GB: 03/04/2026 is"
        " 3 April): the local store, order files and the order API",
    )
    templates_dir: Path | None = None
    webhook_secret: SecretStr = SecretStr("")
    notify_on_received: bool = False
    notify_on_review: bool = False
    notify_max_attempts: int = Field(5, ge=1)
    notify_retry_seconds: float = Field(
        30.0, gt=0, description="first retry delay of a failed message; doubles, up to 120x"
    )
    notify_pass_seconds: float = Field(
        30.0, gt=0, description="a send step starts no new message after this many seconds"
    )
    notify_concurrency: int = Field(8, ge=1, description="messages sent at once")
    api_token: SecretStr = SecretStr("")
    public_url: str = Field(
        "", description="the address shoppers' and the sheet's requests reach serve at"
    )
    sheet_events_secret: SecretStr = Field(
        SecretStr(""),
        description="shared secret the sheet's Apps Script signs its edit events with",
    )
    team_alerts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="apprise: or mailto: URLs told when a request needs review"
        " or a shopper could not be told",
    )
    summary_tab: str = Field("Summary", description="the tab the worker keeps counts in")
    review_after_days: int = Field(
        2, ge=1, description="an open request this many days old is overdue (Summary, colour)"
    )
    interval_seconds: int = Field(60, ge=1)
    lease_seconds: int = Field(
        60,
        ge=1,
        description="the pass lease lasts at least this long (and at least 3 intervals);"
        " a crashed worker's queue is taken over after it",
    )
    log_level: str = Field("", description="DEBUG, INFO, WARNING or ERROR; blank: the command's")
    ready_missed_passes: int = Field(
        3, ge=1, description="/readyz fails once the last good pass is this many intervals old"
    )
    lookup_rate_per_minute: int = Field(20, ge=1, description="lookups per minute per client")
    lookup_order_max_failures: int = Field(
        5, ge=1, description="misses on one order number, from anyone, before it locks a while"
    )
    lookup_client_max_failures: int = Field(
        10, ge=1, description="misses from one client address before it locks a while"
    )
    lookup_window_seconds: int = Field(
        900, ge=1, description="how long an order number's or an address's misses count"
    )
    returns_flow_id: str = Field("", description="the returns portal flow (seed: returnFlowId)")
    returns_account_key: SecretStr = SecretStr("")
    shops: Path | None = Field(
        None, description="a TOML file listing the shops this deployment serves (many shops)"
    )
    archive_closed_after_days: int | None = Field(
        None, ge=1, description="the worker archives rows closed this many days ago; off if unset"
    )
    archive_spreadsheet_id: str = Field(
        "", description="archive to this other spreadsheet (key or URL); empty: the queue's own"
    )
    links: dict[str, str] = Field(
        default_factory=dict, description="self-service and policy pages by request type"
    )
    label_webhook: str = Field(
        "", description="URL that makes a return label on approval; empty: no label source"
    )
    label_source: Literal["", "webhook", "column"] = Field(
        "",
        description="where return labels come from: webhook (label_webhook), column (the "
        "team pastes the link in the Requests tab's Label column); empty: the webhook if set",
    )
    policy: Policy = Field(default_factory=Policy)
    sheet: SheetSettings = Field(default_factory=SheetSettings)

    @field_validator("links")
    @classmethod
    def _links(cls, value: dict[str, str]) -> dict[str, str]:
        for key, url in value.items():
            if key not in _LINK_KEYS:
                raise ValueError(f"{key!r} is not a request type; use {', '.join(_LINK_KEYS)}")
            if not url.strip().startswith(_WEB_SCHEMES):
                raise ValueError(f"{key}: must be an http:// or https:// URL")
        return {key: url.strip() for key, url in value.items()}

    @field_validator("spreadsheet_id", "archive_spreadsheet_id")
    @classmethod
    def _spreadsheet_key(cls, value: str) -> str:
        return spreadsheet_key(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if url and not url.startswith(_WEB_SCHEMES):
            raise ValueError("must be an http:// or https:// URL, or empty")
        return url

    @field_validator("label_webhook")
    @classmethod
    def _label_url(cls, value: str) -> str:
        if value.strip() and not value.strip().startswith(_WEB_SCHEMES):
            raise ValueError("must be an http:// or https:// URL, or empty for no label source")
        return value.strip()

    @field_validator("label_source", mode="before")
    @classmethod
    def _label_source_word(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("label_source")
    @classmethod
    def _one_label_source(cls, value: str, info: ValidationInfo) -> str:
        webhook = info.data.get("label_webhook", "")
        if value == "webhook" and not webhook:
            raise ValueError("webhook needs SHEETQUEUE_LABEL_WEBHOOK (the label service's URL)")
        if value == "column" and webhook:
            raise ValueError("column and SHEETQUEUE_LABEL_WEBHOOK are two label sources; keep one")
        return value

    @field_validator("notify", "team_alerts", mode="before")
    @classmethod
    def _split_notify(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("notify", "team_alerts")
    @classmethod
    def _known_notifiers(cls, value: list[str]) -> list[str]:
        for target in value:
            if not target.startswith(NOTIFIER_SCHEMES):
                allowed = ", ".join(NOTIFIER_SCHEMES)
                raise ValueError(f"unknown notifier {target!r}; use one of {allowed}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level and level not in LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LEVELS)}")
        return level

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use a name such as Europe/Paris"
            ) from exc
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        return locale_name(value)

    @field_validator("orders")
    @classmethod
    def _known_order_source(cls, value: str) -> str:
        if not value.startswith(("tab:", "file:", *_WEB_SCHEMES)):
            raise ValueError("must start with tab:, file:, http:// or https://")
        return value

    @field_validator("state_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (or unset, for the local state file)")
        return SecretStr(url)

    @field_validator("sheets_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(_WEB_SCHEMES):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def zone(self) -> ZoneInfo:
        """The store's time zone, used to read naive times."""
        return ZoneInfo(self.timezone)

    @property
    def uses_emulator(self) -> bool:
        """True when the Sheets API URL is not Google's."""
        return self.sheets_api_url != "https://sheets.googleapis.com"

    def require_gsheets(self) -> None:
        """Check what the Google Sheets backend cannot run without."""
        if self.backend == "gsheets" and not self.spreadsheet_id:
            raise ConfigError(
                "SHEETQUEUE_SPREADSHEET_ID: required when SHEETQUEUE_BACKEND=gsheets "
                "(the key in the sheet's URL)"
            )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = config_file(os.environ)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlSource(settings_cls, toml_file=toml_file))
        return tuple(sources)
