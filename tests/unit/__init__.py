"""Unit tests: one process, no servers, no subprocesses."""
