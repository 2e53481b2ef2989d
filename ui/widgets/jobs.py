"""BackgroundJob: slow domain work (reports, charts, exports) on Qt's thread pool, with progress.

The work runs in a pool thread and must open its own database connection there (an SQLite
connection belongs to the thread that opened it). Its signals are delivered in the UI thread.
A job outlives the page that started it (a lock may drop the page at any time): the page's
connections go with it, `cancel()` stops the work at its next progress call, and the job
object itself is deleted in the UI thread once it has ended.

Python's cyclic garbage collector is paused while a job runs. The collector runs in whichever
thread happens to allocate, and a worker allocates a lot (matplotlib, reportlab): a collection
there would destroy unreachable Qt widgets of the UI (pages dropped at a lock) from the wrong
thread and crash the process. The garbage is collected in the UI thread when the last job ends.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, Signal

from respine_desktop.errors import RespineError
from ui.widgets.signals import emit

Progress = Callable[[float, str], None]
Work = Callable[[Progress], object]

_log = logging.getLogger(__name__)
# Jobs that have not ended yet.
_RUNNING: set[BackgroundJob] = set()
# Whether the jobs paused the garbage collector (it stays as it was found otherwise).
_gc_paused = False
# Whether quitting the application cancels the running jobs yet.
_quit_hooked = False


class JobCancelled(Exception):
    """Raised from a cancelled job's progress callback: the work stops and writes nothing."""


# What a job may fail with that a person can act on (a refused input, a file that cannot be
# written): shown on the status line without a logged traceback. Anything else is a bug and logged.
USER_ERRORS: tuple[type[BaseException], ...] = (RespineError, OSError)


def failure_text(error: BaseException) -> str:
    """The one line a person reads of a job's failure: a file error as the command line says it
    ("PATH: Permission denied", or "No space left on device" for a write to a file already
    open, which names none; not "[Errno 13] ..."), anything else by its message (its class
    name if it has none), its line breaks made spaces."""
    if isinstance(error, OSError) and error.strerror:
        names = [str(n) for n in (error.filename, error.filename2) if n is not None]
        text = f"{' -> '.join(names)}: {error.strerror}" if names else error.strerror
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.splitlines())


class BackgroundJob(QObject):
    """`work(progress)` run off the UI thread.

    `progressed(fraction, message)` at most once per whole percent; then `succeeded(result)` or
    `failed(message)` (not after `cancel()`: its receiver may be gone), and `ended` in every case.
    A cancel that comes too late (the work reports its completion, fraction 1.0, once its result
    is written) does not stop it: `cancelled` stays False, `completed` is True and `result` holds
    what was made, for a view that is still there to say so.
    """

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(
        self, work: Work, *, expected: tuple[type[BaseException], ...] = USER_ERRORS
    ) -> None:
        # Owned by the application, not by Python: whichever thread drops the last Python
        # reference, the object is deleted by `deleteLater` in the UI thread.
        super().__init__(QCoreApplication.instance())
        self._work = work
        self._expected = expected
        self._cancelled = threading.Event()
        self._stopped = False
        self.completed = False
        self.result: object = None
        self.error: BaseException | None = None  # what the work failed with
        self._finished = threading.Event()
        self._percent = -1

    @property
    def running(self) -> bool:
        return self in _RUNNING

    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` stopped the work (it raised at a progress call)."""
        return self._stopped

    def start(self) -> None:
        """Queue the work on the global thread pool."""
        _pause_gc()
        _cancel_all_on_quit()
        _RUNNING.add(self)
        # Queued to the UI thread, where this object lives: the last reference is dropped there.
        self.ended.connect(self._on_ended)
        QThreadPool.globalInstance().start(self._run)

    def cancel(self) -> None:
        """Stop at the next progress call; no `succeeded` or `failed` will follow."""
        self._cancelled.set()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until the work has returned (for shutdown); True if it did in time."""
        return self._finished.wait(timeout_ms / 1000)

    def _progress(self, fraction: float, message: str) -> None:
        if self._cancelled.is_set() and fraction < 1.0:
            raise JobCancelled
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if percent != self._percent:
            self._percent = percent
            emit(self.progressed, percent / 100, message)

    def _run(self) -> None:
        try:
            result = self._work(self._progress)
        except JobCancelled:
            self._stopped = True
        except Exception as exc:
            self.error = exc
            if not isinstance(exc, self._expected):
                _log.exception("background job failed")
            if not self._cancelled.is_set():
                emit(self.failed, failure_text(exc))
        else:
            self.result, self.completed = result, True
            if not self._cancelled.is_set():
                emit(self.succeeded, result)
        finally:
            self._finished.set()
            emit(self.ended)

    def _on_ended(self) -> None:
        _RUNNING.discard(self)
        self.deleteLater()
        _resume_gc()


def cancel_all() -> None:
    """Cancel every running job (the application is quitting: nothing more is written)."""
    for job in tuple(_RUNNING):
        job.cancel()


def _cancel_all_on_quit() -> None:
    global _quit_hooked
    app = QCoreApplication.instance()
    if app is not None and not _quit_hooked:
        app.aboutToQuit.connect(cancel_all)
        _quit_hooked = True


def _pause_gc() -> None:
    global _gc_paused
    if not _RUNNING and gc.isenabled():
        gc.disable()
        _gc_paused = True


def _resume_gc() -> None:
    global _gc_paused
    if not _RUNNING and _gc_paused:
        _gc_paused = False
        gc.enable()
        gc.collect()


def running_jobs() -> tuple[BackgroundJob, ...]:
    """Jobs started and not ended yet (tests wait for them; shutdown may cancel them)."""
    return tuple(_RUNNING)
