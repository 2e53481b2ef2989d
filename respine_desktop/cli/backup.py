"""`backup`: a consistent, verified copy of a study database, safe while the kiosk runs."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "backup"
HELP = (
    "Copy a study database with SQLite's backup API (a consistent snapshot even while the app "
    "writes), verify the copy, then move it to --out. Refuses an existing --out, and a copy that "
    "fails verification (the database itself does: see 'verify'), keeping nothing."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="new backup file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    # A copy that fails verification is refused (`BackupFailed`: one line, exit 2, nothing kept).
    with storage.open_database(args.db, readonly=True) as db:
        result = storage.backup_database(db, args.out)
    print(f"backup {args.out} written and verified: {result.message}")
    return 0
