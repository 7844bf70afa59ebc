"""Deflection links: the store's self-service and policy pages, per request type.

Configured under ``[links]`` (or ``SHEETQUEUE_LINKS__<TYPE>``), keyed by request
type, with ``default`` for the rest::

    [links]
    address_change = "https://shop.example/account/address"   # address-change portal
    return = "https://shop.example/returns"                    # returns portal
    default = "https://shop.example/help"                      # support page

A type without its own link gets ``default``; with neither, no link is given
and no sentence mentions one. The bot's answers carry the link (``link``) and
a sentence in ``message``; the shopper's emails carry it as ``$help_link``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sheetqueue.sheets.model import RequestType

__all__ = ["link_for", "link_sentence", "with_link"]

_SENTENCES = {
    RequestType.ADDRESS_CHANGE: "You can also update the address yourself in our portal: {url}",
    RequestType.RETURN: "You can follow your return in our returns portal: {url}",
    RequestType.EXCHANGE: "You can follow your exchange in our returns portal: {url}",
    RequestType.REFUND: "Our refund and returns policy is here: {url}",
}
_DEFAULT_SENTENCE = "Our help pages may answer your question right away: {url}"


def link_for(links: Mapping[str, str], kind: RequestType | None) -> str:
    """The page for ``kind``: its own link, else ``default``, else empty."""
    if kind is not None and links.get(kind.value):
        return links[kind.value]
    return links.get("default", "")


def link_sentence(kind: RequestType | None, url: str) -> str:
    """One sentence pointing the shopper to ``url``; empty when there is none."""
    if not url:
        return ""
    template = _SENTENCES.get(kind, _DEFAULT_SENTENCE) if kind else _DEFAULT_SENTENCE
    return template.format(url=url)


def with_link(message: str, kind: RequestType | None, url: str) -> str:
    """``message`` followed by the link's sentence, when there is a link."""
    sentence = link_sentence(kind, url)
    return f"{message} {sentence}" if sentence else message
