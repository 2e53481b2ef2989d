"""sqlite-utils, imported when first needed and without the numpy and pandas it would load.

sqlite-utils costs about a tenth of a second to import, and the kiosk's start (open the database,
show the lock screen) needs none of it: plain SQL on the connection does. So:

* `wrap(conn)` imports it on first use (`StudyDb.sql` calls it the first time a repository needs
  the sqlite-utils API);
* `LazyMigrations` registers the schema's migrations with the same decorator as sqlite-utils'
  ``Migrations`` and hands them to the real one only to apply them.

``sqlite_utils.db`` imports pandas and numpy at import time when they are installed (they are:
matplotlib needs numpy for the reports' charts), only to map their scalar types to column types
in ``insert``. The storage layer never inserts numpy or pandas values, and those two imports
were a third of the kiosk's start-up. So sqlite-utils is imported with both marked as absent
(``sys.modules[name] = None`` makes ``import name`` raise ImportError), and the marks are
removed at once: the reports import numpy normally later.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database, Migrations

_SKIPPED = ("numpy", "pandas")
_F = TypeVar("_F", bound=Callable[..., None])


def _sqlite_utils() -> Any:
    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    absent = [name for name in _SKIPPED if name not in sys.modules]
    for name in absent:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils
    finally:
        for name in absent:
            del sys.modules[name]
    return sqlite_utils


def wrap(conn: sqlite3.Connection) -> Database:
    """sqlite-utils' `Database` on an open connection (no plugins, no recursive triggers: it
    runs no statement)."""
    database: Database = _sqlite_utils().Database(
        conn, execute_plugins=False, recursive_triggers=False
    )
    return database


class Registered(NamedTuple):
    # (a named tuple, not a dataclass: some 1.5 ms less to define when a database is opened)
    name: str
    fn: Callable[..., None]
    transactional: bool


class LazyMigrations:
    """A set of migrations declared as with sqlite-utils' ``Migrations`` (``@migrations(name=)``),
    without importing sqlite-utils until they are applied."""

    migrations_table = "_sqlite_migrations"  # sqlite-utils' table of applied migrations

    def __init__(self, name: str) -> None:
        self.name = name
        self._migrations: list[Registered] = []

    def __call__(
        self, *, name: str | None = None, transactional: bool = True
    ) -> Callable[[_F], _F]:
        def inner(fn: _F) -> _F:
            migration_name = name or fn.__name__
            if any(m.name == migration_name for m in self._migrations):
                raise ValueError(f"migration {migration_name!r} is registered twice")
            self._migrations.append(Registered(migration_name, fn, transactional))
            return fn

        return inner

    def real(self) -> Migrations:
        """sqlite-utils' ``Migrations`` holding the same migrations in the same order."""
        migrations: Migrations = _sqlite_utils().Migrations(self.name)
        if migrations.migrations_table != self.migrations_table:  # pragma: no cover
            raise RuntimeError(
                f"sqlite-utils now keeps migrations in {migrations.migrations_table}"
            )
        for m in self._migrations:
            migrations(name=m.name, transactional=m.transactional)(m.fn)
        return migrations

    def apply(self, db: Database, *, stop_before: str | Iterable[str] | None = None) -> None:
        """Apply the pending migrations (sqlite-utils' ``Migrations.apply``)."""
        self.real().apply(db, stop_before=stop_before)


__all__ = ["LazyMigrations", "wrap"]
