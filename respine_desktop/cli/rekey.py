"""`rekey`: change the site passphrase of an encrypted database (its key wrapped again)."""

from __future__ import annotations

import argparse
from pathlib import Path

from respine_desktop.cli._passphrase import add_remember_key

NAME = "rekey"
HELP = (
    "Change the site passphrase of an encrypted database: its key is wrapped again by the new "
    "passphrase into PATH.key (the database itself is not rewritten; audited). Asks the current "
    "passphrase, or with --recovery the code of the recovery sheet (also when PATH.key is lost), "
    "then the new one; with --passphrase-stdin they are the first two lines of standard input."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument(
        "--recovery",
        action="store_true",
        help="unlock with the recovery sheet's code instead of the current passphrase",
    )
    add_remember_key(parser)
    parser.set_defaults(handler=run, unlock=False)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage
    from respine_desktop.cli._passphrase import read_new_passphrase, read_secret

    path: Path = args.db
    if args.recovery:
        code = read_secret(args, "Recovery code: ", what="recovery code")
        key = storage.unlock_with_recovery_code(path, code)
    else:
        if not storage.is_encrypted(path):
            storage.inspect_database(path)
            raise storage.InvalidInput(f"{path}: not encrypted (`encrypt` encrypts it)")
        key = storage.unlock(path, read_secret(args, "Current passphrase: ", what="passphrase"))
    new = read_new_passphrase(args, "new passphrase")
    key_id = storage.change_passphrase(path, key, new)
    print(f"{path}: new passphrase set (key id {key_id} unchanged, {path.name}.key replaced)")
    if args.remember_key:
        print(f"key stored in {storage.remember_key(path)}")
    return 0
