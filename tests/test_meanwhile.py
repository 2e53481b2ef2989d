"""`respine_desktop.meanwhile`: a function run in a forked child, its outcome collected later.

Real children forked from this process: the value and the exception come back as a call would
give them (a RespineError with its message and class); a child that dies, or whose outcome
cannot be sent back, has the function run here instead; a child whose result is never asked for
is killed and reaped when the block ends, or at once when the wait for it is interrupted (its
pipe closed once, the function run here if asked again); a child interrupted alone (not the
function's outcome) has it run here; the child runs no finalizer of the caller's garbage; the
fork is taken only on Linux from a process of one thread, and `fork=False` always runs here.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import meanwhile
from respine_desktop.storage import MergeRefused

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: POSIX only")


@pytest.fixture(autouse=True)
def _fork_in_a_test_worker() -> Iterator[None]:
    with warnings.catch_warnings():
        # (Python 3.12+ warns of a fork in a process of several threads: xdist's worker has two)
        warnings.filterwarnings("ignore", ".*fork.*", DeprecationWarning)
        yield


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def test_the_value_comes_back_from_a_child() -> None:
    with meanwhile.start(lambda: _pid_and_square(7), fork=True) as running:
        assert running.forked
        pid, value = running.result()
    assert value == 49
    assert pid != os.getpid()  # computed in another process
    assert running.result() == (pid, 49)  # asked again: the same, no second child


def test_the_exception_comes_back_with_its_class_and_message() -> None:
    def refuse() -> None:
        raise MergeRefused("bundle answers row 3, field value: 1000 is outside 0..100")

    with meanwhile.start(refuse, fork=True) as running:
        with pytest.raises(MergeRefused, match=r"^bundle answers row 3, field value: 1000"):
            running.result()
        with pytest.raises(MergeRefused):  # asked again: raised again
            running.result()


def test_the_child_sees_the_data_as_it_was_at_the_fork() -> None:
    rows = [1, 2, 3]
    running = meanwhile.start(lambda: sum(rows), fork=True)
    rows.append(100)  # the caller goes on: the child's copy is the one of the fork
    assert running.result() == 6


def test_a_child_that_dies_has_the_function_run_here() -> None:
    parent = os.getpid()

    def dies_in_a_child() -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return 42

    with meanwhile.start(dies_in_a_child, fork=True) as running:
        assert running.forked
        assert running.result() == 42  # the child was killed: computed here


def test_an_outcome_that_cannot_be_sent_back_is_computed_here() -> None:
    parent = os.getpid()

    def unpicklable() -> object:
        return lambda: "in a child" if os.getpid() != parent else "here"

    with meanwhile.start(unpicklable, fork=True) as running:
        assert running.result()() == "here"


def _blocked_forever() -> tuple[Callable[[], bytes], Callable[[], None]]:
    """A function that waits on a pipe nobody writes to (a child running it ends only when
    killed), and what closes the pipe once the test is done."""
    read, write = os.pipe()

    def close() -> None:
        os.close(read)
        os.close(write)

    return lambda: os.read(read, 1), close


def test_a_child_whose_result_is_not_asked_for_is_killed_and_reaped() -> None:
    blocked, close = _blocked_forever()
    try:
        # (the block's end waits for the child: if it were not killed, the test would hang)
        with meanwhile.start(blocked, fork=True) as running:
            pid = running._pid
            assert pid
    finally:
        close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left


def test_a_fork_refused_by_the_system_runs_it_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_more_processes() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN: a limit reached

    monkeypatch.setattr(meanwhile.os, "fork", no_more_processes)
    running = meanwhile.start(lambda: _pid_and_square(3), fork=True)
    assert not running.forked
    assert running.result() == (os.getpid(), 9)


def test_without_a_fork_it_runs_here_at_once() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        return 5

    running = meanwhile.start(work, fork=False)
    assert calls == [os.getpid()]  # ran in `start`, in this process
    assert not running.forked
    assert running.result() == 5

    def refuse() -> None:
        raise MergeRefused("refused")

    running = meanwhile.start(refuse, fork=False)  # not raised by start ...
    with pytest.raises(MergeRefused, match=r"^refused$"):
        running.result()  # ... but by result, as in a child


def test_a_process_of_several_threads_does_not_fork() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not meanwhile.can_fork()
        assert not meanwhile.start(lambda: 1).forked
    finally:
        stop.set()
        thread.join()


def test_a_single_threaded_linux_process_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meanwhile.os, "listdir", lambda path: ["1"])  # one task
    monkeypatch.setattr(meanwhile.sys, "platform", "linux")
    assert meanwhile.can_fork()
    monkeypatch.setattr(meanwhile.sys, "platform", "win32")
    assert not meanwhile.can_fork()


def test_without_proc_it_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_proc(path: str) -> list[str]:
        raise FileNotFoundError(path)

    monkeypatch.setattr(meanwhile.sys, "platform", "linux")
    monkeypatch.setattr(meanwhile.os, "listdir", no_proc)
    assert not meanwhile.can_fork()


def test_an_interruption_while_waiting_kills_the_child_and_closes_only_its_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    blocked, close = _blocked_forever()

    def slow_in_the_child() -> int:
        if os.getpid() != parent:
            blocked()  # until killed
        return 7

    real_fdopen = os.fdopen

    def interrupted_read(fd: int, mode: str) -> Any:
        return _Interrupted(real_fdopen(fd, mode))

    with meanwhile.start(slow_in_the_child, fork=True) as running:
        pid = running._pid
        monkeypatch.setattr(meanwhile.os, "fdopen", interrupted_read)  # (after the fork)
        with pytest.raises(KeyboardInterrupt):  # Ctrl-C while waiting for the outcome
            running.result()
        monkeypatch.setattr(meanwhile.os, "fdopen", real_fdopen)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # killed and reaped at once, no zombie
        # a file opened now takes the lowest free descriptor: the pipe's, closed
        other = (tmp_path / "other").open("w")
        assert running.result() == 7  # asked again: computed here
    other.write("still open")  # the block's end closed no descriptor but the pipe's
    other.close()
    close()


class _Interrupted:
    """A pipe whose read is interrupted (Ctrl-C), closed as the real one is."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe

    def __enter__(self) -> _Interrupted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pipe.close()

    def read(self) -> bytes:
        raise KeyboardInterrupt


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_a_child_interrupted_alone_has_the_function_run_here(stop: type[BaseException]) -> None:
    parent = os.getpid()

    def interrupted_in_the_child() -> int:
        if os.getpid() != parent:
            raise stop  # (a SIGINT sent to the child only: not an outcome of the function)
        return 3

    with meanwhile.start(interrupted_in_the_child, fork=True) as running:
        assert running.result() == 3


def test_the_child_runs_no_finalizer_of_the_callers_garbage(tmp_path: Path) -> None:
    parent, ran = os.getpid(), tmp_path / "finalized in the child"

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:  # (a database connection's would release its locks)
            if os.getpid() != parent:
                ran.write_text("finalized")

    assert gc.isenabled()
    gc.collect()
    Cycle()  # garbage that only the collector finds

    def allocates() -> int:
        return len([[] for _ in range(100_000)])  # enough for the collector to run, if on

    with meanwhile.start(allocates, fork=True) as running:
        assert running.result() == 100_000
    assert not ran.exists()
    gc.collect()


class _RowRefused(Exception):
    """An exception whose ``__init__`` builds its message from its argument: unpickled, the
    message is built again from the message."""

    def __init__(self, where: str) -> None:
        super().__init__(f"row {where} refused")


def test_an_exception_that_would_read_otherwise_once_sent_is_raised_here() -> None:
    parent = os.getpid()

    def refuse() -> None:
        raise _RowRefused("in a child" if os.getpid() != parent else "here")

    with (
        meanwhile.start(refuse, fork=True) as running,
        pytest.raises(_RowRefused, match=r"^row here refused$"),
    ):
        running.result()  # not "row row in a child refused refused"


_INTERRUPTED_AT_THE_FORK = """
import os, signal
from respine_desktop import meanwhile

parent, fork = os.getpid(), os.fork


def fork_then_ctrl_c() -> int:
    pid = fork()
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just after the fork, in each process
    return pid


os.fork = fork_then_ctrl_c
try:
    with meanwhile.start(lambda: 5, fork=True) as running:
        running.result()
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted " + ("here" if os.getpid() == parent else "in the child"), flush=True)
    if os.getpid() == parent:
        try:
            print("left", os.waitpid(-1, os.WNOHANG), flush=True)
        except ChildProcessError:
            print("no child left", flush=True)
"""


def test_an_interruption_at_the_fork_is_raised_here_only_and_leaves_no_child() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_AT_THE_FORK],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # not "interrupted in the child" (the child running the caller's code), nor a child left
    assert done.stdout.splitlines() == ["interrupted here", "no child left"], done.stderr
