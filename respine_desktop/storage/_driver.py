"""The DB-API module behind every storage connection: SQLCipher 4 (``sqlcipher3``).

SQLCipher is SQLite with page encryption; without a key it reads and writes ordinary SQLite
files, so plaintext (demo and test) databases and encrypted ones go through the same module.
Storage modules that catch SQLite's exceptions or make connections at run time import
``sqlite3`` from here: ``sqlcipher3`` has its own exception, ``Row`` and ``Connection`` classes
(the standard library's do not catch or accept them). For the type checker the module is the
standard library's, whose interface ``sqlcipher3`` copies.

``sqlcipher3`` 0.6 ships wheels for CPython 3.11-3.13 on Linux (manylinux_2_28 x86_64) and
Windows (win_amd64) with SQLCipher 4 (community edition, OpenSSL provider) built in.

``None`` binds as NULL through an adapter registered here (`NULL_ADAPTER`): without one,
``sqlcipher3`` 0.6 first asks the protocol and the object to adapt each ``None`` parameter
(``__adapt__``, ``__conform__``: two failed attribute lookups, each an AttributeError raised
and cleared, about 1 µs a ``None``), so that a row of NULLs bound 5× slower than one of numbers
(the merge binds some five NULLs an answer: 0.8 s of 1.1 s for a 1,000-subject bundle's
answers, bench/merge.py). The adapter is found in the registry instead and returns ``None``,
which binds as NULL as before: no value is stored otherwise (`tests/storage/test_driver.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
else:
    from sqlcipher3 import dbapi2 as sqlite3

__all__ = ["NULL_ADAPTER", "sqlite3"]

# A function of C returning None for any argument (a Python one costs a frame a call).
_NOTHING: dict[object, None] = {}
NULL_ADAPTER: Callable[[object], None] = _NOTHING.get
sqlite3.register_adapter(type(None), NULL_ADAPTER)
