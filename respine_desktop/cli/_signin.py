"""Signed-in commands: the staff member, PIN and role a command needs, checked before it runs.

`add_signin_options` gives every command of the role matrix (`respine_desktop.cli._roles`) that
needs sign-in ``--user NAME`` and ``--pin-stdin``; `run_signed_in` signs in (PIN from the terminal
with getpass, or the first line of standard input with ``--pin-stdin``; never an argument),
checks the role, runs the handler and then appends one ``command.run`` audit entry: the actor,
the arguments, and every file the command wrote with its SHA-256. A refusal (no ``--user``, a
wrong PIN, a PIN that must be changed, a role that may not run the command) is one line, exit 2,
and a ``command.refused`` audit entry when the database exists; nothing else is written.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respine_desktop.cli._roles import Rule, rule_for
from respine_desktop.errors import RespineError

if TYPE_CHECKING:
    from respine_desktop.storage import Staff

Handler = Callable[[argparse.Namespace], int]
_INTERNAL = (
    "handler",
    "access_key",
    "pin_stdin",
    "passphrase_stdin",
    "unlock",
    "signature_pin",
)


class SignInRefused(RespineError):
    """A command refused before it ran: not signed in, or a role that may not run it."""


def has_subcommands(parser: argparse.ArgumentParser) -> bool:
    """Whether `parser` takes a second word (``export`` does: ``csv``, ``odm``...)."""
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def leaf_parsers(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(``"export csv"``, its parser) for every command and subcommand that runs a handler."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_parsers(child, f"{prefix} {name}".strip())


def add_signin_options(key: str, parser: argparse.ArgumentParser) -> None:
    """Mark `parser` as command `key`; add ``--user``/``--pin-stdin`` if it needs sign-in."""
    parser.set_defaults(access_key=key)
    rule = rule_for(key)
    if rule.roles is None:
        return
    group = parser.add_argument_group(
        "sign-in", f"who runs it (roles: {', '.join(rule.roles)}); the PIN is never an argument"
    )
    group.add_argument("--user", metavar="NAME", help="staff username (required)")
    group.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from the first line of standard input (the second with "
        "--passphrase-stdin; default: asked on the terminal)",
    )


def read_pin(user: str, from_stdin: bool) -> str:
    """The PIN from standard input's first line, or the terminal (never an argument)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SignInRefused(
            "not a terminal: give the PIN on standard input with --pin-stdin, never as an argument"
        )
    return getpass.getpass(f"PIN for {user}: ")


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed arguments as JSON values (the PIN is never one of them)."""
    out: dict[str, Any] = {}
    for name, value in sorted(vars(args).items()):
        if name in _INTERNAL or name == "user":
            continue
        out[name] = (
            value if value is None or isinstance(value, bool | int | float) else _text(value)
        )
    return out


def _text(value: object) -> str:
    """`value` as text the audit log can hold: a file name's bytes that are not UTF-8 (which
    Python keeps as lone surrogates) written as ``\\xff``."""
    return os.fsencode(str(value)).decode("utf-8", "backslashreplace")


def _stamp(path: Path) -> dict[Path, tuple[int, int, int]]:
    """(inode, size, mtime) of `path`, or of each file directly inside it if it is a folder."""
    try:
        paths = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        found = {}
        for p in paths:
            with contextlib.suppress(OSError):
                st = p.stat()
                found[p] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return found
    except OSError:
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _outputs(args: argparse.Namespace, rule: Rule) -> list[Path]:
    return [Path(v) for name in rule.outputs if (v := getattr(args, name, None)) is not None]


def _written(before: dict[Path, tuple[int, int, int]], outputs: list[Path]) -> list[dict[str, Any]]:
    files = []
    for out in outputs:
        for path, stamp in _stamp(out).items():
            if before.get(path) != stamp and path.is_file():
                files.append(
                    {"path": _text(path), "sha256": _sha256(path), "bytes": path.stat().st_size}
                )
    return files


def _audit(db_path: Path, action: str, actor: str | None, payload: dict[str, Any]) -> None:
    """An audit entry in `db_path` if it is a RESPINE database (else nothing: no file made)."""
    from respine_desktop import storage

    if not db_path.is_file():
        return
    with contextlib.suppress(storage.StorageError), storage.open_database(db_path) as db:
        storage.log_event(db, action, entity="command", actor=actor, payload=payload)


def _sign_in(args: argparse.Namespace, key: str, rule: Rule, db_path: Path) -> tuple[Staff, str]:
    from respine_desktop import storage

    roles = rule.roles or ()
    refused: dict[str, Any] = {"command": key, "arguments": _arguments(args)}
    user: str | None = getattr(args, "user", None)
    if not user:
        _audit(db_path, "command.refused", None, {**refused, "reason": "not signed in"})
        raise SignInRefused(
            f"'{key}' needs a signed-in user: --user NAME (role {' or '.join(roles)}), the PIN "
            "from the terminal or from standard input with --pin-stdin"
        )
    pin = read_pin(user, bool(getattr(args, "pin_stdin", False)))
    with storage.open_database(db_path) as db:
        try:
            staff = storage.authenticate(db, user, pin)
        except storage.AuthenticationError as exc:
            storage.log_event(
                db,
                "command.refused",
                entity="command",
                payload={**refused, "reason": type(exc).__name__},
            )
            raise
        reason = ""
        if storage.pin_breaks_policy(pin):
            reason = "PIN must be changed"
            message = (
                f"the PIN of {user!r} no longer meets the PIN policy ("
                f"{storage.pin_policy_problem(pin)}): change it in the console, or ask an "
                "administrator to reset it, then run the command again"
            )
        elif staff.role not in roles:
            reason = "role"
            message = (
                f"{user!r} ({staff.role}) may not run '{key}': it needs the role "
                f"{' or '.join(roles)}"
            )
        if reason:
            storage.log_event(
                db,
                "command.refused",
                entity="command",
                actor=staff.id,
                payload={**refused, "user": user, "role": staff.role, "reason": reason},
            )
            raise SignInRefused(message)
    return staff, pin


def run_signed_in(args: argparse.Namespace, handler: Handler) -> int:
    """Run `handler` as the role matrix says: directly, or after sign-in and with its audit."""
    key: str = getattr(args, "access_key", "")
    rule = rule_for(key)
    if rule.roles is None:
        return handler(args)
    db_arg = getattr(args, "db", None)
    db_path = Path(db_arg) if db_arg is not None else None
    staff: Staff | None = None
    if db_path is None:
        raise SignInRefused(f"'{key}' needs a database to sign in with (--db)")
    if rule.read_only and os.path.lexists(db_path):
        from respine_desktop import storage

        # A read-only command never upgrades a file: its errors come before any audit entry.
        storage.open_database(db_path, readonly=True).close()
    if not (rule.creates and not os.path.lexists(db_path)):
        staff, pin = _sign_in(args, key, rule, db_path)
        if rule.signs:  # an e-signature checks the username and PIN again (21 CFR 11.200)
            args.signature_pin = pin
    outputs = _outputs(args, rule)
    before: dict[Path, tuple[int, int, int]] = {}
    for out in outputs:
        before.update(_stamp(out))
    code = handler(args)
    if code == 0:
        from respine_desktop.cli import work_done

        work_done()  # its audit entry is written whatever comes now
        payload = {
            "command": key,
            "arguments": _arguments(args),
            "files": _written(before, outputs),
        }
        if staff is not None:
            payload["user"] = staff.username
            payload["role"] = staff.role
        _audit(db_path, "command.run", staff.id if staff else None, payload)
    return code
