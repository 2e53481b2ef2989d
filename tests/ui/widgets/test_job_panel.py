"""JobPanel: the one progress bar, Cancel button and status line of every background job."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from respine_desktop.errors import RespineError
from ui.widgets.job_panel import JobPanel
from ui.widgets.jobs import Progress, Work, failure_text, running_jobs

WORKING, CANCELLED = "console.export.working", "console.pdf.cancelled"
FIRST = "first <b>step</b> & more"  # (a step's message may name a file: shown as written)


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[JobPanel]:
    panel = JobPanel("en", name="Export", working=WORKING, cancelled=CANCELLED)
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    # No job may outlive the test (a stuck one would hold the pool and the paused collector).
    qtbot.waitUntil(lambda: not running_jobs())


def gated(gate: threading.Event, *steps: float, result: object = "done") -> Work:
    """Work that reports `steps[0]`, waits for `gate`, then reports the other steps."""

    def work(progress: Progress) -> object:
        progress(steps[0], FIRST)
        assert gate.wait(60)
        for fraction in steps[1:]:
            progress(fraction, "next step")
        return result

    return work


def test_progress_then_success(qtbot: QtBot, panel: JobPanel) -> None:
    gate = threading.Event()
    with qtbot.waitSignal(panel.started) as started:
        job = panel.run(gated(gate, 0.5, 1.0))
    assert job is not None and started.args == [job]
    assert panel.busy and panel.progress.isVisible() and panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: panel.progress.value() == 50)
    # The step is on the line itself (touch cannot hover), and in the tooltip for a mouse.
    assert panel.status.text() == f"Exporting… 50 %\n{FIRST}"
    shown = QTextDocument()
    shown.setHtml(panel.status.toolTip())  # as written, never as markup
    assert shown.toPlainText() == FIRST
    assert panel.run(gated(gate, 0.0)) is None  # one job at a time
    with (
        qtbot.waitSignal(panel.succeeded) as succeeded,
        qtbot.waitSignal(panel.ended),
    ):
        gate.set()
    assert succeeded.args == ["done"]
    assert not panel.busy and panel.job is None
    assert not panel.progress.isVisible() and not panel.cancel_button.isVisible()


def test_cancel_stops_the_work_and_says_so(qtbot: QtBot, panel: JobPanel) -> None:
    gate = threading.Event()
    finished: list[object] = []
    panel.succeeded.connect(finished.append)
    job = panel.run(gated(gate, 0.1, 0.2, 0.3))
    assert job is not None
    qtbot.waitUntil(lambda: panel.progress.value() == 10)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.cancel_requested and not panel.cancel_button.isEnabled()
    with qtbot.waitSignals([panel.cancelled, panel.ended]):
        gate.set()
    assert job.cancelled and finished == []
    assert panel.status.text() == "Cancelled: no file was written."
    assert panel.status.property("role") == "hint"
    assert not panel.progress.isVisible() and not panel.cancel_button.isVisible()


def test_a_cancel_too_late_still_reports_what_was_made(qtbot: QtBot, panel: JobPanel) -> None:
    gate = threading.Event()
    job = panel.run(gated(gate, 1.0, result="written"))  # complete before the gate opens
    assert job is not None
    qtbot.waitUntil(lambda: panel.progress.value() == 100)
    panel.cancel()
    with qtbot.waitSignal(panel.succeeded) as succeeded, qtbot.waitSignal(panel.ended):
        gate.set()
    assert succeeded.args == ["written"] and job.completed and not job.cancelled


def test_failure_is_reported_and_the_panel_is_idle_again(qtbot: QtBot, panel: JobPanel) -> None:
    def work(progress: Progress) -> object:
        raise ValueError("disk full")

    with qtbot.waitSignal(panel.failed) as failed, qtbot.waitSignal(panel.ended):
        panel.run(work, expected=(ValueError,))
    assert failed.args == ["disk full"]
    panel.say("The export failed: disk full", "error")
    assert panel.status.text() == "The export failed: disk full"
    assert panel.status.property("role") == "error"
    assert not panel.busy and not panel.cancel_button.isVisible()


def test_a_file_error_reads_as_the_command_line_says_it(qtbot: QtBot, panel: JobPanel) -> None:
    def work(progress: Progress) -> object:
        with open("/dev/full", "w") as f:  # a real disk-full: ENOSPC on the flush
            f.write("x" * 100_000)
        return None

    with qtbot.waitSignal(panel.failed) as failed, qtbot.waitSignal(panel.ended):
        panel.run(work)
    assert failed.args == ["No space left on device"]
    assert failure_text(FileNotFoundError(2, "No such file or directory", "/x/a b.csv")) == (
        "/x/a b.csv: No such file or directory"
    )
    assert failure_text(RuntimeError("two\nlines")) == "two lines"
    assert failure_text(OSError(18, "Invalid cross-device link", "/a  b", None, "/c")) == (
        "/a  b -> /c: Invalid cross-device link"
    )
    assert failure_text(RuntimeError()) == "RuntimeError"


def test_a_refusal_with_a_text_is_said_in_the_panel_s_language(qtbot: QtBot) -> None:
    panel = JobPanel("fr", name="Export", working=WORKING, cancelled=CANCELLED)
    qtbot.addWidget(panel)

    def work(progress: Progress) -> object:
        raise RespineError("RSP-01-001 is withdrawn already").keyed(
            "withdrawn_already", subject="RSP-01-001"
        )

    with qtbot.waitSignal(panel.failed) as failed, qtbot.waitSignal(panel.ended):
        panel.run(work)
    assert failed.args == ["RSP-01-001 est déjà retiré de l'étude"]
    qtbot.waitUntil(lambda: not running_jobs())
