"""Keys an export makes at a database's first use (the site key, the device keys) are kept only
with the file that carries them or is signed by them: a file that cannot be written (a full
disk, a read-only folder, an interrupt) leaves no key made for it in the database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from respine_desktop.storage import StudyDb, transaction


@contextlib.contextmanager
def kept_with(db: StudyDb, path: Path, *, making: bool) -> Iterator[None]:
    """Around the writing of `path`, its rename included, when it is `making` the database's
    keys: one transaction, committed once the file is in place; the file is removed again if
    that commit fails (no file signed by, or holding, keys the database does not keep). Only
    at a key's first use, whose other writers wait meanwhile (within their busy timeout, 30 s:
    a 1,000-subject kiosk's first bundle takes some 2 s)."""
    if not making:
        yield
        return
    placed = False
    try:
        with transaction(db):
            yield
            placed = True
    except BaseException:
        if placed:  # the keys not stored
            path.unlink(missing_ok=True)
        raise
