"""How a locale writes a date: the one table the date rules and the settings share.

A Google Sheet's locale comes from the spreadsheet (any name Google uses); the
shop's own (``SHEETQUEUE_LOCALE``, for dates outside a Google Sheet) must be one
of :data:`KNOWN_LOCALES`, so a typo is refused instead of silently read day first.
"""

from __future__ import annotations

__all__ = ["KNOWN_LOCALES", "date_order", "locale_name", "order_words"]

# Locales that write the month first; most others write the day first (en_GB, fr, de, ...).
_MONTH_FIRST = ("en_US", "en_PH", "es_US", "fil", "en_CA_MDY")
_YEAR_FIRST_LANGUAGES = ("ja", "zh", "ko", "hu", "lt", "sv")

KNOWN_LOCALES = (
    "en_US",
    "en_PH",
    "es_US",
    "en_GB",
    "en_AU",
    "en_NZ",
    "en_IE",
    "en_IN",
    "en_ZA",
    "en_CA",
    "fr_FR",
    "fr_BE",
    "fr_CH",
    "de_DE",
    "de_AT",
    "de_CH",
    "es_ES",
    "es_MX",
    "es_AR",
    "it_IT",
    "nl_NL",
    "nl_BE",
    "pt_PT",
    "pt_BR",
    "pl_PL",
    "cs_CZ",
    "da_DK",
    "fi_FI",
    "nb_NO",
    "ru_RU",
    "tr_TR",
    "el_GR",
    "ja_JP",
    "zh_CN",
    "zh_TW",
    "ko_KR",
    "hu_HU",
    "lt_LT",
    "sv_SE",
)
"""The shop locales ``SHEETQUEUE_LOCALE`` accepts (each one's date order is known)."""

_WORDS = {"MDY": "month first", "DMY": "day first", "YMD": "year first"}


def date_order(locale: str) -> str:
    """``MDY``, ``DMY`` or ``YMD``: how a locale writes a date; ``""`` if unknown."""
    name = locale.replace("-", "_").strip()
    if not name:
        return ""
    if name in _MONTH_FIRST:
        return "MDY"
    if name.split("_")[0] in _YEAR_FIRST_LANGUAGES:
        return "YMD"
    return "DMY"


def order_words(locale: str) -> str:
    """``en_GB, day first``: a locale and its date order, as a note says it."""
    order = date_order(locale)
    return f"{locale}, {_WORDS[order]}" if order else locale


def locale_name(value: str) -> str:
    """A known shop locale as written here (``en-gb`` -> ``en_GB``), or ValueError listing them."""
    wanted = value.strip().replace("-", "_").lower()
    for name in KNOWN_LOCALES:
        if name.lower() == wanted:
            return name
    raise ValueError(f"unknown locale {value!r}; use one of {', '.join(KNOWN_LOCALES)}")
