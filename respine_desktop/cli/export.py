"""`export`: CSV + codebook, CDISC ODM 1.3.2, REDCap import files, a signed site bundle, a key."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from respine_desktop.cli import UsageError, work_done

NAME = "export"
HELP = (
    "Export the study database: 'csv' (answers_long, visits_wide, codebook, audit_trail), 'odm' "
    "(CDISC ODM 1.3.2; --history for every answer version with its audit record), 'redcap' (data "
    "dictionary, events and records for REDCap's Data Import Tool), 'stats' (labelled SPSS, "
    "Stata and SAS files with read-in scripts), 'bundle' (everything a hub needs, signed with "
    "the site key; --since for what changed since a day) or 'key' (the site key file, to install "
    "on the site's other kiosks and its hub with 'import key'), 'device' (this device's public "
    "keys, for the hub's 'import device') or 'hub-key' (the hub's public keys, for the kiosks' "
    "'import hub-key'; a kiosk that has it writes bundles of format 3, encrypted to the hub and "
    "signed by the kiosk), 'translation-template' (the texts a site's licensed translation "
    "gives, in English, to fill in for 'import translation'; opens no database). Progress goes "
    "to stderr; files are replaced only once complete."
)


class ProgressLine:
    """Prints progress to `stream`: one rewritten line on a terminal, else a line per 10 %."""

    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = -1

    def __call__(self, fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if self.tty:
            end = "\n" if fraction >= 1 else ""
            self.stream.write(f"\r{self.what}: {percent:3d}% {message}\x1b[K{end}")
            self.stream.flush()
            return
        if percent // 10 > self.last // 10 or (fraction >= 1 and self.last < 100):
            self.last = percent
            print(f"{self.what}: {percent:3d}% {message}", file=self.stream, flush=True)


@contextlib.contextmanager
def user_errors(out: Path | None = None) -> Iterator[None]:
    """Turn file errors into one-line usage errors naming `out` (exit 2); the domain's own
    errors are `RespineError`s, which the CLI reports as they are."""
    try:
        yield
    except BrokenPipeError:  # the reader of the progress lines went away, not a file's fault
        raise
    except OSError as exc:
        where = f"{out}: " if out is not None else ""
        raise UsageError(f"{where}{exc.strerror or exc}") from None


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 16")
    return int(text)


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    p = sub.add_parser("csv", help="answers_long.csv, visits_wide.csv and codebook.csv in DIR")
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="processes writing the files in parallel, 1 to 16 (default: one per core, at most 4, "
        "and at most one per 2,000 subjects: a smaller study is written in one process; the "
        "files are the same whatever the number)",
    )
    p.set_defaults(handler=run_csv)
    p = sub.add_parser("odm", help="one CDISC ODM 1.3.2 XML file")
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="output XML file")
    p.add_argument(
        "--history",
        action="store_true",
        help="Transactional file: every answer version with its AuditRecord (default: Snapshot)",
    )
    p.set_defaults(handler=run_odm)
    p = sub.add_parser("redcap", help="REDCap data dictionary, arms, events and records in DIR")
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.set_defaults(handler=run_redcap)
    p = sub.add_parser("bundle", help="signed site bundle for the hub ('import bundle')")
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="bundle file")
    p.add_argument(
        "--since",
        metavar="ISO",
        help="only audit entries, answers and scores since this ISO date (midnight UTC) or "
        "date-time with a zone; subjects, visits, sessions and staff are always complete",
    )
    p.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="site key file to sign with (default: the database's key, created at first use)",
    )
    p.set_defaults(handler=run_bundle)
    p = sub.add_parser("key", help="write the site key to a new file (created at first use)")
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="new key file")
    p.set_defaults(handler=run_key)
    for name, role, text in (
        ("device", "kiosk", "this device's public keys, for the hub ('import device')"),
        ("hub-key", "hub", "this hub's public keys, for the site's kiosks ('import hub-key')"),
    ):
        p = sub.add_parser(name, help=text)
        _db(p)
        p.add_argument("--out", required=True, type=Path, metavar="FILE", help="device file")
        p.set_defaults(handler=run_device, role=role)
    p = sub.add_parser(
        "stats",
        help="labelled SPSS (.sav), Stata (.dta) and SAS XPORT (.xpt) files of visits_wide and "
        "answers_long, with SAS and R read-in scripts, in DIR",
    )
    _db(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.set_defaults(handler=run_stats)
    p = sub.add_parser(
        "translation-template",
        help="the texts a site's translation must give, in English, to fill in for "
        "'import translation' (opens no database)",
    )
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="JSON file to write")
    p.set_defaults(handler=run_translation_template)


def run_csv(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    # checked by export_csv, beside its worker processes (see there)
    with user_errors(args.out), storage.open_database(args.db, readonly=True, check=False) as db:
        r = exports.export_csv(
            db, args.out, progress=ProgressLine("export csv"), workers=args.workers
        )
    work_done()  # the files are in place: a Ctrl-C from now on changes nothing
    print(
        f"wrote {', '.join(p.name for p in r.files)} in {r.directory}: {r.subjects} subjects, "
        f"{r.answer_rows} answer rows, {r.visit_rows} visit rows"
        + (f" ({r.workers} processes)" if r.workers > 1 else "")
    )
    return 0


def run_odm(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(args.out), storage.open_database(args.db, readonly=True) as db:
        r = exports.export_odm(
            db, args.out, history=args.history, progress=ProgressLine("export odm")
        )
    work_done()  # the files are in place: a Ctrl-C from now on changes nothing
    print(f"wrote {r.path}: ODM 1.3.2 {r.file_type}, {r.subjects} subjects, {r.item_data} ItemData")
    return 0


def run_redcap(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(args.out), storage.open_database(args.db, readonly=True) as db:
        r = exports.export_redcap(db, args.out, progress=ProgressLine("export redcap"))
    work_done()  # the files are in place: a Ctrl-C from now on changes nothing
    print(
        f"wrote {', '.join(p.name for p in r.files)} in {r.directory}: {r.records} records, "
        f"{r.rows} event rows"
    )
    return 0


def run_bundle(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    try:
        since = exports.parse_since(args.since) if args.since is not None else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with user_errors(args.out):
        key = exports.read_key_file(args.key).key if args.key is not None else None
        with storage.open_database(args.db) as db:
            info = exports.export_bundle(
                db, args.out, since=since, key=key, progress=ProgressLine("export bundle")
            )
    work_done()  # the bundle is in place: a Ctrl-C from now on changes nothing
    if info.transition:
        print(
            f"wrote {info.path}: {info.describe()}; signed with site key {info.key_id} "
            "(format 2, not encrypted: install the hub's key with 'import hub-key' to write "
            "encrypted bundles of format 3)"
        )
    else:
        print(
            f"wrote {info.path}: {info.describe()}; encrypted to the hub, signed with device "
            f"key {info.key_id} (format 3)"
        )
    return 0


def run_key(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(args.out), storage.open_database(args.db) as db:
        key = exports.write_key_file(db, args.out)
    work_done()  # the key file is in place: a Ctrl-C from now on changes nothing
    print(
        f"wrote site key {key.key_id} (study {key.study_id}, site {key.site_code}) to {args.out}: "
        "a secret, copy it only to this site's devices ('import key'), then delete it"
    )
    return 0


def run_device(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(args.out), storage.open_database(args.db) as db:
        written = exports.write_device_file(db, args.out, role=args.role)
    key = written.key
    print(
        f"wrote the public keys of {args.role} {key.device_id} ({key.label}, site "
        f"{key.site_code}) to {args.out}: fingerprint {key.fingerprint} (compare it with what "
        f"'import {'device' if args.role == 'kiosk' else 'hub-key'}' prints on the other device)"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from respine_desktop import storage
    from respine_desktop.exports.stats import export_stats

    with user_errors(args.out), storage.open_database(args.db, readonly=True) as db:
        r = export_stats(db, args.out, progress=ProgressLine("export stats"))
    work_done()  # the files are in place: a Ctrl-C from now on changes nothing
    print(
        f"wrote {', '.join(p.name for p in r.files)} in {r.directory}: {r.subjects} subjects, "
        f"{r.visit_rows} visit rows, {r.answer_rows} answer rows"
    )
    return 0


def run_translation_template(args: argparse.Namespace) -> int:
    from respine_desktop.i18n import patient_texts
    from respine_desktop.instruments import instrument_ids
    from respine_desktop.translations import write_template

    with user_errors(args.out):
        write_template(args.out)
    print(
        f"wrote {args.out}: {len(patient_texts())} screen texts and the instruments "
        f"{', '.join(instrument_ids())} in English; set language and name, translate each text, "
        "leave out the instruments you hold no licensed translation of, then 'import translation'"
    )
    return 0
