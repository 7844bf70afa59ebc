"""The companion script's filling and the address rules, without a server."""

from __future__ import annotations

import json
import re

import pytest

from sheetqueue.companion import check_public_url, filled_script, script_text
from sheetqueue.config.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://queue.example.com/", "https://queue.example.com"),
        ("https://shop.example/sheetqueue", "https://shop.example/sheetqueue"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
    ],
)
def test_accepted_addresses(url: str, expected: str) -> None:
    """https anywhere, http only on this machine; a trailing slash is dropped."""
    assert check_public_url(url, source="--url") == expected


@pytest.mark.parametrize(
    "url",
    ["http://queue.example.com", "ftp://q.example", "queue.example.com", "https://q.example/?a=1"],
)
def test_refused_addresses(url: str) -> None:
    """Plain http to another host, other schemes, no scheme and queries are refused."""
    with pytest.raises(ConfigError, match=r"^--url: "):
        check_public_url(url, source="--url")


def test_values_become_javascript_string_literals() -> None:
    """Quotes, backslashes and non-ASCII in the secret stay one literal; the file stays ASCII."""
    secret = "a\"b\\c'd-é"
    text = filled_script("https://q.example", secret)
    match = re.search(r"^var SHEETQUEUE_SECRET = (.*);$", text, re.M)
    assert match is not None and json.loads(match.group(1)) == secret
    assert text.isascii()
    assert text.count("\n") == script_text().count("\n")
