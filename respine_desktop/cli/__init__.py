"""Headless commands behind `python main.py COMMAND`: one module per command, found by name.

Each module of this package (except this one) defines ``NAME``, ``HELP`` and
``register(parser)``, and sets ``parser.set_defaults(handler=...)`` with a handler taking the
parsed arguments and returning an exit code. Modules import heavy dependencies inside handlers.

Who may run a command is the role matrix of `respine_desktop.cli._roles`; the commands that need
sign-in get ``--user``/``--pin-stdin`` and are signed in, checked and audited by
`respine_desktop.cli._signin` before and after their handler runs (the handlers do not change).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import cache
from types import ModuleType

from respine_desktop import __version__
from respine_desktop.cli import _signin
from respine_desktop.errors import RespineError


class UsageError(RespineError):
    """Bad usage or bad input: printed as one line on stderr, exit code 2."""


@cache
def _modules() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.NAME] = module
    return found


def COMMANDS() -> list[str]:
    """The names of every headless command."""
    return sorted(_modules())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="RESPINE Desktop. Without a command, opens the kiosk app.",
    )
    parser.add_argument("--version", action="version", version=f"RESPINE Desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from respine_desktop.cli import _passphrase

    for name, module in sorted(_modules().items()):
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.register(command)
        if _signin.has_subcommands(command):  # also before the second word: export --pa.. csv
            _passphrase.add_option(command)
    for key, leaf in _signin.leaf_parsers(parser):
        if key:  # the commands' parsers; sign-in options where the role matrix asks for them
            _passphrase.add_option(leaf)  # every command may open an encrypted database
            _signin.add_signin_options(key, leaf)
    return parser


def run(argv: list[str]) -> int:
    """Parse `argv` and run the command; user errors become one stderr line and exit code 2; a
    reader of stdout or stderr that goes away ends the command quietly with 141 (128 + SIGPIPE)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    with _terminate_as_interrupt():
        return _run(args, handler)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager, `kill`): handled as Ctrl-C is, so that what the command
    was writing is removed on the way out instead of left half-made."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises `Terminated` in the block; both signals' handlers are restored after it
    (`work_done` may have set them to be ignored)."""
    if threading.current_thread() is not threading.main_thread():  # only it can take signals
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def work_done() -> None:
    """The command's work is done (its files renamed into place, its changes committed): a
    Ctrl-C or SIGTERM from now on changes nothing and is ignored, so that the command's audit
    entry is written and it ends as it did, instead of saying 'interrupted' (or being killed
    with no word) with its work there. Until the process ends (`ui.launcher`), or the end of
    `run` for a caller in the same process."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def _run(args: argparse.Namespace, handler: Callable[[argparse.Namespace], int]) -> int:
    try:
        if getattr(args, "unlock", True):  # init, encrypt, rekey handle their keys themselves
            from respine_desktop.cli import _passphrase

            _passphrase.unlock_for(args)  # the passphrase first (its line of stdin), then the PIN
        return _signin.run_signed_in(args, handler)
    except RespineError as exc:  # every user-facing error, whichever layer raised it
        return _say(f"error: {exc}", 2)
    except KeyboardInterrupt as exc:
        return _say("interrupted (SIGTERM)" if isinstance(exc, Terminated) else "interrupted", 130)
    except BrokenPipeError:
        return _reader_gone()


def _say(line: str, code: int) -> int:
    """`line` on stderr, and `code`; if stderr's reader is gone too (`2>&1 | head -1`), the
    quiet end of `_reader_gone`."""
    try:
        print(line, file=sys.stderr, flush=True)
    except BrokenPipeError:
        return _reader_gone()
    return code


def _reader_gone() -> int:
    """The reader of stdout or stderr went away (`demo ... | head -1`): stop quietly, like a
    command killed by SIGPIPE, with both pointed at /dev/null so that the flush at exit is
    silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a stream closed or replaced
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return 141
