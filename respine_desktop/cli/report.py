"""`report`: write the patient summary or the study summary PDF of a study database."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from respine_desktop.cli import UsageError, work_done

NAME = "report"
HELP = "Write a PDF summary (read-only): one subject's (patient) or the whole study's (study)."
EPILOG = """\
patient: page 1 with the primary endpoint row and its rule, visits and correction flags; scores,
change from baseline and MCID, responder status, charts, corrections, instrument versions and
scoring rules; an appendix with every answer of every visit (code, label, skipped, corrections);
only the pseudonymous subject id.
study: flow of subjects through visits by arm (done, missed, withdrawn, lost, overdue, open), missed
reasons, mean +/- SD (n) with 95 % CI per visit, change from baseline and MCID, responder rate at
every follow-up with Wilson CI and a missing-as-non-responder sensitivity, between-arm difference
(Newcombe CI, Fisher exact test), SF-36 domains in an appendix; --arms FILE (CSV with header
subject_id,arm, after unblinding) must list every subject of the database exactly once. The
allocation is read for the report only and never stored.
--on DATE is a data cut-off: only what was recorded by the end of that day (UTC) is used.
Every page's footer: the cut-off, page x of y, generation time, app version, audit-chain head.
OUT is replaced only once the whole PDF is made. Exit 2 (one line on stderr) for a bad database,
subject, arms file or output path."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="PDF to write")
    parser.add_argument(
        "--on",
        type=_date,
        metavar="YYYY-MM-DD",
        help="data cut-off: what was recorded by the end of this day (today)",
    )


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    kinds = parser.add_subparsers(dest="kind", metavar="patient|study", required=True)
    patient = kinds.add_parser(
        "patient", help="one subject's summary", description="Write one subject's summary PDF."
    )
    _common(patient)
    patient.add_argument("--subject", required=True, metavar="ID", help="e.g. RSP-01-023")
    patient.set_defaults(handler=run_patient)
    study = kinds.add_parser(
        "study", help="the study summary", description="Write the study summary PDF."
    )
    _common(study)
    study.add_argument(
        "--arms", type=Path, metavar="FILE", help="CSV subject_id,arm to split by arm"
    )
    study.set_defaults(handler=run_study)


def run_patient(args: argparse.Namespace) -> int:
    from respine_desktop import reports, storage

    try:
        with storage.open_database(args.db, readonly=True) as db:
            written = reports.write_patient_pdf(db, args.subject, args.out, on=args.on)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    work_done()  # the file is in place: a Ctrl-C from now on changes nothing
    print(f"wrote {written.path} ({written.pages} pages, audit chain head {written.chain_head})")
    return 0


class _ProgressLine:
    """Prints the study report's progress to stderr: one line per 10 %, or one updated line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = -1

    def __call__(self, fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if self.tty:
            end = "\n" if fraction >= 1 else ""
            self.stream.write(f"\rreport: {percent:3d}% {message}\x1b[K{end}")
            self.stream.flush()
            return
        if percent // 10 > self.last // 10 or (fraction >= 1 and self.last < 100):
            self.last = percent
            print(f"report: {percent:3d}% {message}", file=self.stream, flush=True)


def run_study(args: argparse.Namespace) -> int:
    from respine_desktop import reports, storage

    try:
        arms = reports.read_arms(args.arms) if args.arms is not None else None
        reports.check_output(args.out)
        with storage.open_database(args.db, readonly=True) as db:
            written = reports.write_study_pdf(
                db, args.out, arms=arms, on=args.on, progress=_ProgressLine(sys.stderr)
            )
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    work_done()  # the file is in place: a Ctrl-C from now on changes nothing
    print(f"wrote {written.path} ({written.pages} pages, audit chain head {written.chain_head})")
    return 0
