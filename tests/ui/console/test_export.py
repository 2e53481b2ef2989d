"""The console's exports: run off the UI thread with progress, write what the exports API writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from respine_desktop import exports, storage
from tests.support.console import INVESTIGATOR, make_console_db, staff_of
from ui.console.export import ExportView
from ui.widgets.jobs import BackgroundJob, running_jobs


@pytest.fixture
def view(qtbot: QtBot, tmp_path: Path) -> Iterator[ExportView]:
    with storage.open_database(make_console_db(tmp_path / "console.db")) as db:
        assert staff_of(db, INVESTIGATOR).active
        widget = ExportView(db, "en")
        qtbot.addWidget(widget)
        yield widget
        qtbot.waitUntil(lambda: not running_jobs(), timeout=60_000)


def test_a_csv_export_runs_off_the_ui_thread(
    qtbot: QtBot, view: ExportView, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    threads: set[int] = set()

    def watch(job: BackgroundJob) -> None:
        # Direct: called in the thread that emits, i.e. where the export runs.
        job.progressed.connect(
            lambda *_: threads.add(threading.get_ident()), Qt.ConnectionType.DirectConnection
        )

    view.started.connect(watch)
    with qtbot.waitSignal(view.exported, timeout=120_000) as exported:
        assert view.start(out) is not None
        assert not view.export_button.isEnabled()
        assert view.start(tmp_path / "again") is None
    result = exported.args[0]
    assert isinstance(result, exports.CsvExport) and result.subjects == 6
    assert {p.name for p in out.iterdir()} >= {"answers_long.csv", "visits_wide.csv"}
    assert threads and threading.get_ident() not in threads
    assert view.status.text() == f"Exported 6 subjects to {out}."
    qtbot.waitUntil(lambda: view.job is None)
    assert view.export_button.isEnabled() and view.open_button.isEnabled()


def test_a_running_export_can_be_cancelled_and_writes_nothing(
    qtbot: QtBot, view: ExportView, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    out.mkdir()
    (out / "visits_wide.csv").write_bytes(b"an earlier export\r\n")
    gate = threading.Event()

    def hold(job: BackgroundJob) -> None:
        # The export waits in its first progress report until the test has clicked Cancel.
        job.progressed.connect(lambda *_: gate.wait(60), Qt.ConnectionType.DirectConnection)

    view.started.connect(hold)
    assert view.cancel_button.isHidden()
    job = view.start(out)
    assert job is not None
    assert not view.cancel_button.isHidden() and view.cancel_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    # The view's state, not the job's `ended`: the job deletes itself when it ends, and a queued
    # signal of a deleted sender may never reach a waiter.
    qtbot.waitUntil(lambda: view.job is None, timeout=120_000)
    assert view.status.text() == "Cancelled: no file was written."
    assert [p.name for p in out.iterdir()] == ["visits_wide.csv"]
    assert (out / "visits_wide.csv").read_bytes() == b"an earlier export\r\n"
    assert view.cancel_button.isHidden() and view.export_button.isEnabled()


@pytest.mark.parametrize("key", ["odm", "odm_history"])
def test_an_odm_export_writes_one_xml_file(
    qtbot: QtBot, view: ExportView, tmp_path: Path, key: str
) -> None:
    view.choose(key)
    out = tmp_path / "study.xml"
    with qtbot.waitSignal(view.exported, timeout=120_000):
        view.start(out)
    root = etree.parse(str(out)).getroot()
    assert root.tag.endswith("ODM")
    assert root.get("FileType") == ("Transactional" if key == "odm_history" else "Snapshot")


def test_a_site_bundle_is_written(qtbot: QtBot, view: ExportView, tmp_path: Path) -> None:
    view.choose("bundle")
    out = tmp_path / "site.bundle"
    with qtbot.waitSignal(view.exported, timeout=120_000) as exported:
        view.start(out)
    assert isinstance(exported.args[0], exports.BundleInfo) and out.is_file()
    assert "site bundle" in view.status.text()


def test_an_export_that_cannot_be_written_says_why(
    qtbot: QtBot, view: ExportView, tmp_path: Path
) -> None:
    with qtbot.waitSignal(view.failed, timeout=60_000):
        view.start(tmp_path / "missing" / "deeper" / "csv")
    assert view.status.text().startswith("The export failed:")
    qtbot.waitUntil(lambda: view.job is None)
    assert not view.open_button.isEnabled()
