"""The DB-API module behind every storage connection: SQLCipher 4 (``sqlcipher3``).

SQLCipher is SQLite with page encryption; without a key it reads and writes ordinary SQLite
files, so plaintext (demo and test) databases and encrypted ones go through the same module.
Storage modules that catch SQLite's exceptions or make connections at run time import
``sqlite3`` from here: ``sqlcipher3`` has its own exception, ``Row`` and ``Connection`` classes
(the standard library's do not catch or accept them). For the type checker the module is the
standard library's, whose interface ``sqlcipher3`` copies.

``sqlcipher3`` 0.6 ships wheels for CPython 3.11-3.13 on Linux (manylinux_2_28 x86_64) and
Windows (win_amd64) with SQLCipher 4 (community edition, OpenSSL provider) built in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
else:
    from sqlcipher3 import dbapi2 as sqlite3

__all__ = ["sqlite3"]
