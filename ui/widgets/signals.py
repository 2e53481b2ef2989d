"""emit(): `SignalInstance.emit` minus a reference leak of PySide6 6.12 that crashes Python 3.11.

PySide6 6.12.0's `emit()` returns `True` without taking a reference to it, so each call from
Python drops one reference that `True` never had. On Python < 3.12 (where `True` is not
immortal) a few hundred emits later `True` is freed and the interpreter aborts with "Fatal
Python error: bool_dealloc". Signals emitted by Qt itself (clicked, timeout...) are not
affected. Every emit from our Python code goes through `emit()`, which gives the reference
back only when a probe (at the first emit) shows that this PySide6 has the leak.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    fired = Signal()


def _leaks_true() -> bool:
    if sys.version_info >= (3, 12):  # True is immortal: nothing to give back, nothing to crash
        return False
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    return sys.getrefcount(True) == before - 8


_leaks: bool | None = None


def emit(signal: SignalInstance, *args: object) -> None:
    """`signal.emit(*args)`, giving back the reference PySide6 6.12 takes from `True`."""
    global _leaks
    if _leaks is None:
        # Probed at the first emit rather than at import, to keep ctypes off the start-up path.
        _leaks = _leaks_true()
    signal.emit(*args)
    if _leaks:
        _incref(True)


def _incref(obj: object) -> None:
    import ctypes

    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
