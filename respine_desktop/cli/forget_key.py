"""`forget-key`: remove an encrypted database's key from this machine's key store."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "forget-key"
HELP = (
    "Remove the key of an encrypted database from this machine's key store: the kiosk then "
    "needs the site passphrase again (e.g. before a tablet leaves the site)."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.set_defaults(handler=run, unlock=False)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    removed = storage.forget_key(args.db)
    print(f"{args.db}: key {'removed from' if removed else 'was not in'} this machine's key store")
    return 0
