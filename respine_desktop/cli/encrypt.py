"""`encrypt`: turn a plaintext study database into an encrypted one, in place."""

from __future__ import annotations

import argparse
from pathlib import Path

from respine_desktop.cli import UsageError
from respine_desktop.cli._passphrase import add_remember_key

NAME = "encrypt"
HELP = (
    "Encrypt an existing plaintext database (SQLCipher 4): an encrypted copy is made beside it "
    "and verified, the recovery sheet and PATH.key are written, then the copy replaces the "
    "original in one rename and the plaintext file's blocks are overwritten. Killed before the "
    "rename, the original is untouched. Close the kiosk first. The new site passphrase is asked "
    "twice at the terminal, or read from the first line of standard input (--passphrase-stdin)."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument(
        "--recovery-sheet",
        required=True,
        type=Path,
        metavar="FILE",
        help="new file for the recovery sheet: print it, keep it in the safe, delete the file",
    )
    add_remember_key(parser)
    parser.set_defaults(handler=run, unlock=False)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage
    from respine_desktop.cli._passphrase import read_new_passphrase

    path: Path = args.db
    if storage.is_encrypted(path):
        raise UsageError(f"{path}: encrypted already (`rekey` changes its passphrase)")
    storage.inspect_database(path)  # ours and plaintext, before asking anything
    if args.recovery_sheet.exists():
        raise UsageError(f"{args.recovery_sheet}: the file exists already")
    passphrase = read_new_passphrase(args)
    key_id = storage.encrypt_database(
        path, passphrase, recovery_sheet=args.recovery_sheet, remember=args.remember_key
    )
    print(
        f"encrypted {path} (SQLCipher 4, key id {key_id}); key file {path.name}.key; "
        f"recovery sheet written to {args.recovery_sheet}: print it, keep it in the site's safe, "
        "then delete the file"
    )
    return 0
