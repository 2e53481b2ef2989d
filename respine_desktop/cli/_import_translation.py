"""`import translation FILE`: install a site's licensed translation of the UI texts and of
instruments, after checking it against the shipped masters (`respine_desktop.translations`).

A subcommand of `import` (registered by `respine_desktop.cli.import_`); the leading underscore
keeps it from being found as a command of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "install a licensed translation (JSON, format respine-translation/1; 'export "
    "translation-template' writes one to fill in): the texts of the patient's screens and every "
    "text of each instrument it translates, checked against the shipped masters (same keys, "
    "placeholders kept, no empty text, the master's version and checksum); refused (exit 2, "
    "nothing installed) otherwise. See docs/translations.md"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("translation", help=HELP)
    p.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    p.add_argument("file", type=Path, metavar="FILE", help="translation file (JSON)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace a different translation of the same language already installed",
    )
    p.set_defaults(handler=run_translation)


def run_translation(args: argparse.Namespace) -> int:
    from respine_desktop import storage
    from respine_desktop.translations import read_translation

    translation = read_translation(args.file)  # checked before the database is opened
    with storage.open_database(args.db) as db:
        changed = storage.install_translation(
            db, translation.language, translation.to_json(), replace=args.replace
        )
    instruments = ", ".join(sorted(translation.instruments))
    if not changed:
        print(f"the {translation.language} translation is installed already")
        return 0
    print(
        f"installed the {translation.language} ({translation.name}) translation: UI texts and "
        f"{instruments}"
    )
    if translation.left_out:
        print(
            f"left out {len(translation.left_out)} texts that this release does not need or has "
            f"in another form (e.g. {translation.left_out[0]}): an installed language shows only "
            "the patient's screens"
        )
    return 0
