"""The database engine's identity, for the installation record (`respine validate`)."""

from __future__ import annotations

from respine_desktop.storage._driver import sqlite3


def sqlite_library_version() -> str:
    """The SQLite library's version and SQLCipher's, e.g. "3.46.1 (SQLCipher 4.6.1 community)"."""
    conn = sqlite3.connect(":memory:")
    try:
        row = conn.execute("PRAGMA cipher_version").fetchone()
    finally:
        conn.close()
    cipher = f" (SQLCipher {row[0]})" if row else " (no SQLCipher)"
    return f"{sqlite3.sqlite_version}{cipher}"
