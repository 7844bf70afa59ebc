"""Test parts that ship with sheetqueue: the Sheets API emulator.

Nothing on the production path imports this package; ``sheetqueue emulator``
and the test suite do.
"""
