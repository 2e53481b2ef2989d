"""CPU-bound work run meanwhile on another core (`start`), its outcome collected later.

A bundle merge checks hundreds of thousands of rows in Python (validation, answer digests, scores
recomputed) while the merging process stages and writes the same rows: the checks do not need
the database, and their outcome is needed only before the commit. `start` runs such a function in a
child process forked from this one, so that it sees the caller's data as it is (nothing copied or
pickled but the outcome), while the caller goes on; `Running.result` waits for it and returns its
value or raises its exception, as a call would have.

A child is forked only where that is safe and cheap: on Linux, from a process with a single
thread (a thread of another library holding a lock at the fork would leave the child waiting on
it forever; the command line and the benches are single-threaded, the console and the test
workers are not). Anywhere else, when no process can be forked (a limit reached), and when the
child dies or its outcome cannot be read back, the function runs here, in the caller's process:
the outcome is the same, only later. So it is when the child's exception would not read the same
once sent (unpickled into another class or message, `_same_error`).

The child only computes: it writes its outcome (pickled) to a pipe and ends with ``os._exit``
(no cleanup of the parent's objects, files or database connections runs twice), its garbage
collector off (no finalizer of the caller's garbage runs in it, and it does not walk the
caller's objects: it copies only the pages it reads). It must not use SQLite, not even through
a connection of its own: SQLite's record of the file locks this process holds is copied into the
child without the locks themselves (SQLite's own rule: no fork with a connection open), so a
child reading the database could read pages a writer is changing (the CSV export's workers,
which read the database, are spawned for that reason: `subject_parts`). An interruption of the
child alone (KeyboardInterrupt, SystemExit) is no outcome: nothing is sent. An interruption of
the wait in the caller kills and reaps the child at once.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["INTERRUPTIONS", "Running", "can_fork", "start", "threads_gone"]

_T = TypeVar("_T")
_UNSET = object()
# The signals the command line turns into an interruption (Ctrl-C, and SIGTERM as
# `cli.Terminated`): held across a fork here, and around a merge's commit (`bundle_merge`).
INTERRUPTIONS = (signal.SIGINT, signal.SIGTERM)


def can_fork() -> bool:
    """Whether `start` forks here: Linux, and this process runs a single thread."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: unknown, not forked
        return False


def threads_gone(native_ids: Iterable[int], *, within: float = 1.0) -> None:
    """Returns once the system no longer lists these threads of this process (their
    ``threading.get_native_id``), or after `within` seconds. A thread joined has ended as Python
    sees it (`threading.active_count`), while the system lists it still for the moment it takes
    to end: a `can_fork` asked then says no (a merge's checks would run in line)."""
    deadline = time.monotonic() + within
    for tid in native_ids:
        while os.path.exists(f"/proc/self/task/{tid}") and time.monotonic() < deadline:
            time.sleep(0.0005)


class Running(Generic[_T]):
    """A function started by `start`: `result` waits for its outcome (once; later calls give
    the same). As a context manager, leaving the block without the result kills the child; so
    does an interruption of the wait (asked again, the function then runs here)."""

    def __init__(self, fn: Callable[[], _T]) -> None:
        self._fn = fn
        self.forked = False
        """Whether a child runs it (else it ran here, in `start`)."""
        self._pid = 0
        self._read = -1
        self._value: object = _UNSET
        self._error: BaseException | None = None

    def _fork(self) -> None:
        read, write = os.pipe()
        # Ctrl-C held back across the fork, and SIGTERM (the command line raises it as an
        # interruption, `cli.Terminated`): an interruption raised before the child is known
        # here would leave it unreaped, and one raised in the child before it is inside the
        # block that ends it would have it run the caller's code (its stdio buffers flushed
        # twice, its database connections closed); held, it is raised where it is handled.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTIONS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(read)
            os.close(write)
            raise
        if pid == 0:  # pragma: no cover - the child (its lines are not measured)
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
                # the caller's garbage is not the child's to finalize (a database connection
                # closed here would act on the caller's locks and files)
                gc.disable()
                os.close(read)
                try:
                    outcome: tuple[bool, object] = (True, self._fn())
                except Exception as exc:
                    outcome = (False, exc)
                # (an interruption of the child alone, KeyboardInterrupt or SystemExit, is no
                # outcome of the function: nothing sent, the caller runs it itself)
                try:
                    data = pickle.dumps(outcome)
                    if not outcome[0] and not _same_error(pickle.loads(data)[1], outcome[1]):
                        data = b""  # an exception that would read otherwise there
                except Exception:
                    data = b""
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._read = pid, read
        self.forked = True
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        except BaseException:  # the interruption held back: the child killed, then raised
            self.close()
            raise

    def _run_here(self) -> None:
        try:
            self._value = self._fn()
        except Exception as exc:
            self._error = exc

    def _collect(self) -> None:
        read, self._read = self._read, -1  # (closed below, whatever happens)
        try:
            with os.fdopen(read, "rb") as f:
                data = f.read()
            os.waitpid(self._pid, 0)
        except BaseException:  # interrupted while waiting: the child killed, reaped at once
            self.close()
            raise
        self._pid = 0
        try:
            ok, value = pickle.loads(data)
        except Exception:
            self._run_here()
            return
        if ok:
            self._value = value
        else:
            self._error = value if isinstance(value, BaseException) else RuntimeError(value)

    def result(self) -> _T:
        """The function's return value, or its exception raised here."""
        if self._pid:
            self._collect()
        elif self._value is _UNSET and self._error is None:
            self._run_here()  # its child stopped before its outcome was read (`close`)
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the child if its result was never asked for (a refusal elsewhere)."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            if self._read >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._read)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid, self._read = 0, -1

    def __enter__(self) -> Running[_T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _same_error(copy: object, exc: object) -> bool:
    """Whether an exception read back from its pickle is the one raised: its class, arguments
    and message (one whose ``__init__`` rewrites its arguments, a message built from them,
    unpickles into another message)."""
    return type(copy) is type(exc) and bool(
        getattr(copy, "args", None) == getattr(exc, "args", None) and str(copy) == str(exc)
    )


def start(fn: Callable[[], _T], *, fork: bool | None = None) -> Running[_T]:
    """Start `fn` meanwhile: in a forked child where `can_fork` (or `fork` says so), else run
    here and now (its exception, if any, raised by `Running.result` as in the other case)."""
    running = Running(fn)
    if can_fork() if fork is None else fork:
        try:
            running._fork()
        except OSError:  # no process or pipe to be had (a limit reached): run here
            running._run_here()
    else:
        running._run_here()
    return running
