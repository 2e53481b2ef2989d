"""Reports: the subject's and the study's numbers, their charts, and the patient and study PDFs.

Public API (the console and the ``report`` command use only these)::

    patient_summary(db, subject_code, on=None) -> PatientSummary     # subject view data
    study_summary(db, arms=None, on=None, progress=None) -> StudySummary
    write_patient_pdf(db, subject_code, out, on=None) -> ReportFile
    write_study_pdf(db, out, arms=None, on=None, progress=None) -> ReportFile
    write_qualification_pdf(identity, checks, out) -> ReportFile   (`respine validate --out`)
    read_arms(path) -> Arms                                          # ArmsFileError, names line

``progress(fraction, message)`` gets 0..1 and what is being done; raising from it cancels (no
file is written). A PDF is written to a temporary file and renamed, so `out` is either the
complete new report or untouched. Each summary reads the database in ONE read snapshot
(`storage.read_snapshot`) and only what was recorded by the end of `on` (a data cut-off,
`storage.report_reads`), printed in every page's footer. An arms file must list every subject of
the database exactly once (`ArmsFileError` otherwise). The statistics (t, Wilson, Newcombe,
Fisher) are in `reports.stats`; pure Python (no scipy, which is a test-only dependency).
Text is set in the embedded DejaVu Sans (`resources/fonts`). The study report reads a chunk of
subjects at a time: memory stays bounded for any number of subjects. SQLite connections belong
to one thread: to run a report off the UI thread, open the database in that thread
(``open_database(path, readonly=True)``).

matplotlib and reportlab are imported only when a PDF or a chart is made (`charts`, `pdf`,
`patient_pdf`, `study_pdf`), never when this package is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from respine_desktop import clock, files
from respine_desktop.errors import RespineError
from respine_desktop.reports.arms import Arms, ArmsFileError, read_arms
from respine_desktop.reports.data import (
    Change,
    Correction,
    InstrumentUse,
    ItemRow,
    PatientSummary,
    ResponderStatus,
    VisitItems,
    VisitRow,
    patient_summary,
)
from respine_desktop.reports.study_data import (
    GroupSummary,
    Progress,
    ResponderTally,
    Stat,
    StudySummary,
    study_summary,
)
from respine_desktop.storage import StudyDb


class ReportOutputError(RespineError, ValueError):
    """The report cannot be written where asked (the message names the path)."""


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A written report: where, how many pages, and what its footer cites."""

    path: Path
    pages: int
    generated_at: str
    chain_head: str


def check_output(out: str | Path) -> Path:
    """`out` as a Path if a PDF can be written there, else ReportOutputError."""
    path = files.check_target(Path(out))
    if path.is_dir():
        raise ReportOutputError(f"{path}: is a directory, give a file name")
    if not path.parent.is_dir():
        raise ReportOutputError(files.no_folder(path.parent))
    return path


def write_patient_pdf(
    db: StudyDb, subject_code: str, out: str | Path, *, on: date | None = None
) -> ReportFile:
    """Write the patient summary of `subject_code` to `out` (UnknownSubject if no such code)."""
    path = check_output(out)
    summary = patient_summary(db, subject_code, on=on)
    from respine_desktop.reports.patient_pdf import patient_pdf, title
    from respine_desktop.reports.pdf import footer_for, write_atomically

    footer = footer_for(db, title(summary))
    data, pages = patient_pdf(summary, footer)
    write_atomically(data, path)
    return ReportFile(path, pages, footer.generated_at, footer.chain_head)


def write_study_pdf(
    db: StudyDb,
    out: str | Path,
    *,
    arms: Arms | None = None,
    on: date | None = None,
    progress: Progress | None = None,
) -> ReportFile:
    """Write the study summary to `out`, split by arm if `arms` is given (see `read_arms`)."""
    path = check_output(out)
    from respine_desktop.reports.study_data import scaled_progress

    summary = study_summary(db, arms=arms, on=on, progress=scaled_progress(progress, 0.0, 0.8))
    if progress:
        progress(0.8, "drawing charts and laying out pages")
    from respine_desktop.reports.pdf import footer_for, write_atomically
    from respine_desktop.reports.study_pdf import study_pdf, title

    footer = footer_for(db, title(summary))
    data, pages = study_pdf(summary, footer)
    if progress:
        progress(0.97, "writing the file")
    write_atomically(data, path)
    if progress:
        progress(1.0, f"done: {pages} pages")
    return ReportFile(path, pages, footer.generated_at, footer.chain_head)


__all__ = [
    "Arms",
    "ArmsFileError",
    "Change",
    "Correction",
    "GroupSummary",
    "InstrumentUse",
    "ItemRow",
    "PatientSummary",
    "Progress",
    "ReportFile",
    "ReportOutputError",
    "ResponderStatus",
    "ResponderTally",
    "Stat",
    "StudySummary",
    "VisitItems",
    "VisitRow",
    "check_output",
    "patient_summary",
    "read_arms",
    "study_summary",
    "write_patient_pdf",
    "write_study_pdf",
]


def write_qualification_pdf(
    identity: Sequence[tuple[str, str]],
    checks: Sequence[tuple[str, str, str, str, str]],
    out: str | Path,
    *,
    signature: Sequence[tuple[str, str]] | None = None,
) -> ReportFile:
    """Write the device qualification report (`respine validate --out`): `identity` key/value
    rows, then one (requirement, check, expected, observed, pass/FAIL) row per check, then the
    e-signature block `signature` (label/value rows), or a block to sign on paper."""
    path = check_output(out)
    from respine_desktop.reports.qualification_pdf import qualification_pdf

    pages = qualification_pdf(identity, checks, path, signature=signature)
    return ReportFile(path, pages, clock.now_iso(), "")
