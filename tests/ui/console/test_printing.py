"""Printing through a real spooler: the console's Print sends the patient summary to a CUPS
virtual PDF printer (cups-pdf), and the printed file carries the report's text; a paused queue
and a missing printer are each said in one line, and the PDF stays."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from tests.support import cups
from tests.support.console import COMPLETE, INVESTIGATOR, make_console_db, staff_of
from ui.console import printing
from ui.console.page import ConsolePage
from ui.console.pdf import PdfPanel
from ui.widgets.jobs import running_jobs

pytestmark = pytest.mark.skipif(cups.missing() is not None, reason=str(cups.missing()))


def _words(path: Path) -> list[str]:
    return " ".join(page.extract_text() for page in PdfReader(path).pages).split()


def _plain(words: list[str]) -> list[str]:
    """The words of letters and digits, typographic apostrophes as typed: what survives the
    spooler's re-rendering (cups-pdf runs the file through Ghostscript, which keeps the vector
    charts' labels as outlines and drops the Unicode names of the subset font's non-ASCII
    glyphs, so arrows and dashes come back as control characters)."""
    return [w.replace("\u2019", "'") for w in words if w.replace("'", "").isalnum() and w.isascii()]


def _in_order(part: list[str], whole: list[str]) -> bool:
    """`part` is `whole` with some words left out, none added or moved."""
    found = iter(whole)
    return all(word in found for word in part)


class ChooseQueue(QPrintDialog):
    """The system print dialog with the nurse's choice made: this queue, accepted."""

    queue = ""
    removed_after_choice = False  # the printer disappears between the dialog and the spooler

    def __init__(self, printer: QPrinter, parent: QWidget | None = None) -> None:
        super().__init__(printer, parent)
        self._printer = printer

    def exec(self) -> int:
        self._printer.setPrinterName(self.queue)
        if self.removed_after_choice:
            cups._run("lpadmin", "-x", self.queue)
        return QDialog.DialogCode.Accepted.value


@pytest.fixture
def queue(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = cups.cups_queue(f"RESPINE-PDF-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    # Qt's printer list (what enables Print) sees a new queue once CUPS publishes it.
    qtbot.waitUntil(lambda: name in QPrinterInfo.availablePrinterNames(), timeout=30_000)
    monkeypatch.setattr(ChooseQueue, "queue", name)
    monkeypatch.setattr(printing, "QPrintDialog", ChooseQueue)
    yield name
    cups._run("cupsenable", name)


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> Iterator[PdfPanel]:
    """The subject view's PDF panel, its patient summary written to tmp_path/patient.pdf."""
    with storage.open_database(make_console_db(tmp_path / "console.db")) as db:
        page = ConsolePage(db, staff_of(db, INVESTIGATOR), "en")
        qtbot.addWidget(page)
        page.show()
        view = page.open_subject(COMPLETE)
        with qtbot.waitSignal(view.pdf.written, timeout=120_000):
            view.pdf.start(tmp_path / "patient.pdf")
        qtbot.waitUntil(lambda: view.pdf.job is None)  # the job has finished, not only written
        yield view.pdf
        qtbot.waitUntil(lambda: not running_jobs(), timeout=60_000)


@pytest.mark.req("REP-03")
def test_print_sends_the_patient_summary_and_the_printed_file_has_its_text(
    qtbot: QtBot, queue: str, panel: PdfPanel, tmp_path: Path
) -> None:
    assert printing.print_unavailable() is None and panel.print_button.isEnabled()
    panel.print_pdf()
    status = panel.jobs.status.text()
    assert status.startswith(f"Sent to the printer {queue} (job {queue}-"), status
    job = status.split("(job ", 1)[1].rstrip(").")
    qtbot.waitUntil(lambda: cups.printed_file(job) is not None, timeout=120_000)
    printed = cups.printed_file(job)
    assert printed is not None
    report, paper = _plain(_words(tmp_path / "patient.pdf")), _plain(_words(printed))
    assert len(PdfReader(printed).pages) == len(PdfReader(tmp_path / "patient.pdf").pages)
    assert COMPLETE in _words(printed)
    assert _in_order(paper, report)  # the report's words, none added or moved
    assert len(paper) >= 0.75 * len(report)  # all but the three charts' axis labels
    assert (tmp_path / "patient.pdf").is_file()


@pytest.mark.req("REP-03")
def test_a_paused_queue_is_said_and_the_job_waits(
    queue: str, panel: PdfPanel, tmp_path: Path
) -> None:
    cups._run("cupsdisable", queue)
    panel.print_pdf()
    status = panel.jobs.status.text()
    assert f"The printer {queue} is paused" in status and "\n" not in status
    assert (tmp_path / "patient.pdf").is_file()


@pytest.mark.req("REP-03")
def test_a_printer_that_is_gone_is_one_line(
    queue: str, panel: PdfPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChooseQueue, "removed_after_choice", True)
    panel.print_pdf()
    status = panel.jobs.status.text()
    assert status.startswith("Printing failed: ") and "\n" not in status, status
    assert "does not exist" in status
    assert (tmp_path / "patient.pdf").is_file()
