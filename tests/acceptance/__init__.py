"""Acceptance tests: the sheetqueue command line as a user runs it."""
