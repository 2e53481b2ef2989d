"""`init`: create a new RESPINE study database with its first administrator account."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from respine_desktop.cli import UsageError
from respine_desktop.cli._passphrase import add_remember_key

if TYPE_CHECKING:
    from respine_desktop.storage import StudyDb

NAME = "init"
HELP = (
    "Create a new study database (WAL SQLite file) with its first administrator account. "
    "The file appears only complete (made under a temporary name, then linked into place); an "
    "empty file left by an interrupted init is replaced. "
    "Refuses an existing file that is not a RESPINE database (left untouched) and an existing "
    "RESPINE database of another site; on an existing database of the same site it only "
    "applies pending schema upgrades and changes nothing else. "
    "The database is encrypted (SQLCipher 4) with a random key wrapped by a site passphrase "
    "(asked twice at the terminal, or the first line of standard input with --passphrase-stdin) "
    "into PATH.key; the recovery sheet (the key itself) is written once to --recovery-sheet. "
    "--plaintext makes a test database instead, which `status` shows as NOT ENCRYPTED."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument(
        "--site", metavar="CODE", help="site code, 2-8 digits or capitals (default 01)"
    )
    parser.add_argument(
        "--admin-pin",
        metavar="PIN",
        help="PIN of the first administrator, 6-12 digits (prompted twice when omitted)",
    )
    parser.add_argument(
        "--admin-user", default="admin", metavar="NAME", help="its username (default admin)"
    )
    parser.add_argument(
        "--recovery-sheet",
        type=Path,
        metavar="FILE",
        help="new file for the recovery sheet (required unless --plaintext): print it, keep it "
        "in the site's safe, delete the file",
    )
    add_remember_key(parser)
    parser.add_argument(
        "--plaintext",
        action="store_true",
        help="a test database, NOT encrypted (says so in `status`); never for real data",
    )
    parser.set_defaults(handler=run)


def _prompt_pin() -> str:
    if not sys.stdin.isatty():
        raise UsageError("--admin-pin is required when init does not run in a terminal")
    first = getpass.getpass("PIN for the first administrator (6-12 digits): ")
    if getpass.getpass("Same PIN again: ") != first:
        raise UsageError("the two PINs differ")
    return first


def _has_journal(path: Path) -> bool:
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    path: Path = args.db
    if path.is_file() and path.stat().st_size == 0 and not _has_journal(path):
        # What an init of an earlier version left when it was killed: nothing to lose.
        print(f"{path} is an empty file (an interrupted init): replacing it", file=sys.stderr)
        path.unlink()
    if path.exists():
        try:
            applied = storage.inspect_database(path)
        except storage.StorageError as exc:
            raise UsageError(f"{exc}; refusing to initialise it (left untouched)") from None
        with storage.open_database(path) as db:
            if args.site is not None and args.site != db.site_code:
                raise UsageError(
                    f"{path} is the RESPINE database of site {db.site_code}, "
                    f"not {args.site}: left untouched"
                )
            ignored = " (--admin-pin ignored)" if args.admin_pin is not None else ""
            # opening it applied the schema upgrades an older version's file lacked
            upgrades = len(db.info.migrations) - len(applied)
            done = (
                f"its schema upgraded by {upgrades} migration(s) (the file before them kept as "
                f"{path.name}.before-{applied[-1]}-<time>.bak), nothing else changed"
                if upgrades > 0
                else "nothing changed"
            )
            print(
                f"already initialised: {path} (study {db.study_id}, site {db.site_code}); "
                f"{done}{ignored}"
            )
        return 0
    if args.plaintext:
        if args.recovery_sheet is not None or args.remember_key:
            raise UsageError("--plaintext makes an unencrypted test database: no key to keep")
        pin = args.admin_pin if args.admin_pin is not None else _prompt_pin()
        db = storage.create_database(
            path,
            admin_pin=pin,
            site_code=args.site or storage.DEFAULT_SITE,
            admin_username=args.admin_user,
            plaintext_purpose="test",
        )
    else:
        db = _create_encrypted(args, path)
    with db:
        print(
            f"created {path}: study {db.study_id}, site {db.site_code}, "
            f"device {db.device_id}, administrator {args.admin_user!r}; "
            f"{storage.encryption_status(db)}"
        )
    if not args.plaintext:
        print(
            f"recovery sheet written to {args.recovery_sheet}: print it, keep it in the site's "
            "safe, then delete the file"
        )
    return 0


def _create_encrypted(args: argparse.Namespace, path: Path) -> StudyDb:
    from respine_desktop import storage
    from respine_desktop.cli._passphrase import read_new_passphrase

    if args.recovery_sheet is None:
        raise UsageError(
            "--recovery-sheet FILE is required for an encrypted database "
            "(or --plaintext for a test database)"
        )
    if args.recovery_sheet.exists():
        raise UsageError(f"{args.recovery_sheet}: the file exists already")
    passphrase = read_new_passphrase(args)
    pin = args.admin_pin if args.admin_pin is not None else _prompt_pin()
    return storage.create_encrypted_database(
        path,
        passphrase,
        recovery_sheet=args.recovery_sheet,
        admin_pin=pin,
        site_code=args.site or storage.DEFAULT_SITE,
        admin_username=args.admin_user,
        remember=args.remember_key,
    )
