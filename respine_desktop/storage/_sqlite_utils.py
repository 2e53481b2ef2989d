"""sqlite-utils, imported without the numpy and pandas it would load for nothing.

``sqlite_utils.db`` imports pandas and numpy at import time when they are installed (they are:
matplotlib needs numpy for the reports' charts), only to map their scalar types to column types
in ``insert``. The storage layer never inserts numpy or pandas values, and those two imports
were a third of the kiosk's start-up. So sqlite-utils is imported with both marked as absent
(``sys.modules[name] = None`` makes ``import name`` raise ImportError), and the marks are
removed at once: the reports import numpy normally later.
"""

from __future__ import annotations

import sys

_SKIPPED = ("numpy", "pandas")

_absent = [name for name in _SKIPPED if name not in sys.modules]
for _name in _absent:
    sys.modules[_name] = None  # type: ignore[assignment]
try:
    from sqlite_utils import Database, Migrations
finally:
    for _name in _absent:
        del sys.modules[_name]

__all__ = ["Database", "Migrations"]
