"""ui.signals.emit: emitting many times never costs `True` a reference (PySide6 6.12 leak)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from ui.widgets.signals import emit


class Source(QObject):
    fired = Signal(float)


def test_a_thousand_emits_leave_the_refcount_of_true_unchanged() -> None:
    source = Source()
    got: list[float] = []
    source.fired.connect(got.append)
    before = sys.getrefcount(True)
    for n in range(1000):
        emit(source.fired, float(n))
    # Without the fix it drops by one per emit; allow for one or two unrelated references.
    assert abs(sys.getrefcount(True) - before) <= 2
    assert len(got) == 1000
