"""Integration tests: real servers on 127.0.0.1 (Sheets emulator, SMTP, HTTP) and real processes."""
