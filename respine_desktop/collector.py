"""Python's cyclic garbage collector paused for a bulk operation (`paused`).

An export or a merge makes millions of short-lived or long-held tuples, lists and strings, none
of them in a reference cycle: reference counting frees them, while the collector, started again
and again by those allocations, walks the live objects each time for nothing (a fifth of an
export's reading, a third of a merge's parsing and row building; bench/exports.py,
bench/merge.py). The few cycles such work may make are collected once the collector runs again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile, back as it was after (an exception too)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
