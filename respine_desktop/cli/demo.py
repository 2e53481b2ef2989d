"""`demo`: fill a database with synthetic subjects through the kiosk's own storage API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from respine_desktop.cli import UsageError

NAME = "demo"
HELP = (
    "Add synthetic pseudonymous subjects RSP-<site>-<NNN> (numbered from --first) with "
    "realistic visit histories; creates the database if missing. Demo accounts (printed): "
    "admin/860427 (administrator), coord/731592 (coordinator), inv/594318 (investigator). Prints "
    "'committed <subject> <visit> <instrument>' after each questionnaire is committed. "
    "The database it creates is a plaintext demo database (NOT ENCRYPTED in `status`); it "
    "refuses a database it did not create."
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument(
        "--site", metavar="CODE", help="site code (default: the database's, or 01 if new)"
    )
    parser.add_argument(
        "--subjects", type=_positive, default=20, metavar="N", help="subjects to add (20)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (1)")
    parser.add_argument(
        "--first", type=_positive, default=1, metavar="K", help="number of the first subject (1)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import demo, storage

    path: Path = args.db

    def committed(subject: str, visit: str, instrument: str) -> None:
        sys.stdout.write(f"committed {subject} {visit} {instrument}\n")
        sys.stdout.flush()

    try:
        db = storage.create_database(
            path,
            admin_pin=demo.DEMO_ADMIN_PIN,
            admin_username=demo.DEMO_ADMIN,
            site_code=args.site or storage.DEFAULT_SITE,
            durable=False,
            plaintext_purpose="demo",
        )
    except storage.AlreadyExists:
        db = storage.open_database(path, durable=False)
        if storage.created_for(db) != "demo":
            db.close()
            raise UsageError(
                f"{path}: not a demo database (created by `demo`): refusing to add synthetic "
                "subjects to it"
            ) from None
    with db:
        if args.site is not None:
            storage.check_site_code(args.site)
            if args.site not in storage.list_sites(db):
                raise UsageError(f"{path}: site {args.site} is not registered in this database")
        summary = demo.generate(
            db,
            subjects=args.subjects,
            seed=args.seed,
            first=args.first,
            site_code=args.site,
            progress=committed,
        )
    print(
        f"demo accounts: {demo.DEMO_ADMIN}/{demo.DEMO_ADMIN_PIN} (administrator), "
        f"{demo.DEMO_COORDINATOR}/{demo.DEMO_COORDINATOR_PIN} (coordinator), "
        f"{demo.DEMO_INVESTIGATOR}/{demo.DEMO_INVESTIGATOR_PIN} (investigator)"
    )
    print(
        f"demo: {summary.subjects} subjects, {summary.sessions_submitted} sessions submitted, "
        f"{summary.sessions_open} parked, {summary.missed} visits missed, "
        f"{summary.corrections} corrections in {path}"
    )
    return 0
