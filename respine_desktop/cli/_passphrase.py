"""The site passphrase of an encrypted database: read from the terminal or standard input, never
from an argument, and used to unlock the database before a command opens it.

Every command has ``--passphrase-stdin``: the passphrase is then the first line of standard
input (a command that also reads a PIN from standard input reads it from the next line). Without
it, an encrypted database whose key is not at hand (not in the OS store, see ``remember-key``)
is unlocked with a passphrase typed at a terminal; with no terminal, the command stops with one
line saying how to give it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from respine_desktop.cli import UsageError

OPTION = "--passphrase-stdin"


def add_option(parser: argparse.ArgumentParser) -> None:
    """Give `parser` the ``--passphrase-stdin`` option. A command of two words has it on both
    parsers (``export --passphrase-stdin csv`` and ``export csv --passphrase-stdin``); no
    default is set, so that the second word's parser, whose values argparse copies over the
    first's, does not undo the option given before it (read with ``getattr(args, ..., False)``)."""
    parser.add_argument(
        OPTION,
        action="store_true",
        default=argparse.SUPPRESS,
        help="read the site passphrase of an encrypted database from the first line of "
        "standard input (it is never given as an argument)",
    )


def add_remember_key(parser: argparse.ArgumentParser) -> None:
    """Give `parser` the ``--remember-key`` option (commands that make or rewrap a key)."""
    parser.add_argument(
        "--remember-key",
        action="store_true",
        help="also keep the key in this machine's key store so the kiosk starts unattended",
    )


def read_new_passphrase(args: argparse.Namespace, what: str = "passphrase") -> str:
    """A new site passphrase, typed twice (or one line of standard input); its length is checked
    by storage."""
    from respine_desktop import storage

    prompt = f"New site passphrase (at least {storage.MIN_PASSPHRASE} characters): "
    return read_secret(args, prompt, what=what, confirm=True)


def read_secret(args: argparse.Namespace, prompt: str, *, what: str, confirm: bool = False) -> str:
    """One secret line: from standard input with ``--passphrase-stdin`` (one line per call),
    else typed at the terminal (twice with `confirm`)."""
    if getattr(args, "passphrase_stdin", False):
        line = sys.stdin.readline()
        if not line.strip():
            raise UsageError(f"{OPTION}: no {what} on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError(f"the {what} is needed: type it in a terminal or give it with {OPTION}")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("The same again: ") != first:
        raise UsageError(f"the two {what}s differ")
    return first


def unlock_for(args: argparse.Namespace) -> None:
    """Before a command runs: unlock its ``--db`` if that is an encrypted database whose key is
    not at hand (or whenever ``--passphrase-stdin`` is given)."""
    from respine_desktop import storage

    path = getattr(args, "db", None)
    if not isinstance(path, Path) or not storage.is_encrypted(path):
        return
    given = bool(getattr(args, "passphrase_stdin", False))
    if not given and storage.key_at_hand(path):
        return
    if given or sys.stdin.isatty():
        passphrase = read_secret(args, f"Site passphrase of {path.name}: ", what="passphrase")
        storage.unlock(path, passphrase)
    # Otherwise opening the database says, in one line, that its key is not at hand.
