"""The composition root's allocator setting: glibc's mmap and trim thresholds fixed once."""

from __future__ import annotations

import platform

import pytest

from sheetqueue.bootstrap import tune_allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_accepts_the_thresholds() -> None:
    """On glibc, mallopt accepts both thresholds, and asking again keeps the answer."""
    assert tune_allocator() is True
    assert tune_allocator() is True
