"""The console's PDFs: the study summary off the UI thread with progress, the patient summary."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.reports import ReportFile
from tests.support.console import COMPLETE, INVESTIGATOR, make_console_db, staff_of
from ui.console.page import ConsolePage
from ui.widgets.jobs import BackgroundJob, running_jobs


@pytest.fixture
def console(qtbot: QtBot, tmp_path: Path) -> Iterator[ConsolePage]:
    with storage.open_database(make_console_db(tmp_path / "console.db")) as db:
        page = ConsolePage(db, staff_of(db, INVESTIGATOR), "en")
        qtbot.addWidget(page)
        page.resize(1280, 800)
        page.show()
        yield page
        qtbot.waitUntil(lambda: not running_jobs(), timeout=60_000)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_study_report_is_made_off_the_ui_thread_with_progress(
    qtbot: QtBot, console: ConsolePage, tmp_path: Path
) -> None:
    panel = console.reports.study_pdf
    threads: set[int] = set()
    fractions: list[float] = []

    def watch(job: object) -> None:
        assert isinstance(job, BackgroundJob)
        # Direct: called in the thread that emits, i.e. where the report is being made.
        job.progressed.connect(
            lambda *_: threads.add(threading.get_ident()), Qt.ConnectionType.DirectConnection
        )
        job.progressed.connect(lambda fraction, _: fractions.append(fraction))

    panel.started.connect(watch)
    out = tmp_path / "study.pdf"
    with qtbot.waitSignal(panel.written, timeout=120_000) as written:
        assert panel.start(out) is not None
        # While it runs the console is usable and the button cannot start a second one.
        assert not panel.make_button.isEnabled() and panel.progress.isVisibleTo(panel)
        assert panel.start(tmp_path / "second.pdf") is None
    report = written.args[0]
    assert isinstance(report, ReportFile) and report.path == out and report.pages >= 1
    assert threads and threading.get_ident() not in threads
    assert fractions and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert "study summary" in pdf_text(out).lower()
    assert not (tmp_path / "second.pdf").exists()
    qtbot.waitUntil(lambda: panel.job is None)
    assert panel.make_button.isEnabled() and panel.open_button.isEnabled()
    assert not panel.progress.isVisibleTo(panel)
    assert str(out) in panel.status.text()


def test_a_study_report_that_cannot_be_written_says_why(
    qtbot: QtBot, console: ConsolePage, tmp_path: Path
) -> None:
    panel = console.reports.study_pdf
    with qtbot.waitSignal(panel.failed, timeout=60_000) as failed:
        panel.start(tmp_path / "no such folder" / "study.pdf")
    assert "no such directory" in failed.args[0]
    assert "could not be made" in panel.status.text()
    qtbot.waitUntil(lambda: panel.job is None)
    assert not panel.open_button.isEnabled()


def test_the_patient_summary_is_made_from_the_subject_view(
    qtbot: QtBot, console: ConsolePage, tmp_path: Path
) -> None:
    view = console.open_subject(COMPLETE)
    out = tmp_path / "patient"  # the extension is added
    with qtbot.waitSignal(view.pdf.written, timeout=120_000):
        view.pdf.start(out)
    text = pdf_text(tmp_path / "patient.pdf")
    assert COMPLETE in text


def test_printing_is_offered_only_where_it_can_work(console: ConsolePage) -> None:
    from ui.console.printing import print_unavailable

    panel = console.reports.study_pdf
    assert not panel.print_button.isEnabled()  # nothing written yet
    why = print_unavailable()
    if why is not None:
        assert panel.print_button.toolTip()
        assert "open the PDF" in panel.print_button.toolTip()


def test_the_french_console_opens(qtbot: QtBot, tmp_path: Path) -> None:
    with storage.open_database(make_console_db(tmp_path / "c.db")) as db:
        page = ConsolePage(db, staff_of(db, "admin"), "fr")
        qtbot.addWidget(page)
        view = page.open_subject(COMPLETE)
        assert page.tabs.tabText(0) == "Liste de travail"
        assert view.scores.text_at("EVA douleur (mm)", "M0") == "60.0"


def test_a_cancelled_report_writes_nothing(
    qtbot: QtBot, console: ConsolePage, tmp_path: Path
) -> None:
    panel = console.reports.study_pdf
    # As a lock does (dropping the page cancels its job), here before the work even begins.
    panel.started.connect(lambda job: job.cancel())
    outcomes: list[object] = []
    panel.written.connect(outcomes.append)
    panel.failed.connect(outcomes.append)
    out = tmp_path / "study.pdf"
    assert panel.start(out) is not None
    qtbot.waitUntil(lambda: panel.job is None, timeout=60_000)
    assert not out.exists() and outcomes == []
    assert panel.status.text() == "Cancelled: no file was written."
    assert panel.make_button.isEnabled() and not panel.open_button.isEnabled()
