"""The bot-facing HTTP API (FastAPI): ``create_app(settings)``."""

from __future__ import annotations

from sheetqueue.bot_actions.api.app import create_app

__all__ = ["create_app"]
