"""`verify`: check a database file: SQLite integrity, audit hash chains, answers against the log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "verify"
HELP = (
    "Verify a study database without modifying it: PRAGMA integrity_check, every device's audit "
    "hash chain recomputed, every answer row matched with its audit entry. Exit 0 with a "
    "one-line summary; 1 naming the first bad entry; 2 if the file is missing or unreadable. "
    "Every state table is rebuilt from the audit log and compared row by row; --expect checks "
    "that the file still holds chain heads printed or recorded earlier (a rollback to an older "
    "copy, or a chain rewritten inside the file, fails)."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="HEAD",
        help="a chain head the file must still contain: a 64-digit hash (as a report prints "
        "it), DEVICE:SEQ:HASH (as `status` prints it), or a receipt file (`status --receipt`); "
        "repeatable",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    expect = [head for spec in args.expect for head in storage.parse_expected(spec)]
    result = storage.verify_database(args.db, expect=expect)
    if result.ok:
        print(f"{args.db}: {result.message}")
        return 0
    print(f"{args.db}: FAILED: {result.message}", file=sys.stderr)
    return 1
