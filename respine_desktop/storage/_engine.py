"""The database engine's identity, for the installation record (`respine validate`)."""

from __future__ import annotations

import sqlite3


def sqlite_library_version() -> str:
    """The SQLite library's version, e.g. "3.46.1"."""
    return sqlite3.sqlite_version
