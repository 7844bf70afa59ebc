"""Benchmarks of sheetqueue: run with ``make bench`` (``python -m bench``)."""
