"""The screenshots' fit check: what it calls clipped, cut or scrolling, and the command's exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.support.kiosk import make_database
from tests.ui.kiosk.test_kiosk_process import ENV, ROOT
from tools.screenshots.fit import fit_problems
from ui.widgets.touch_scroll import touch_scroll


def window(qtbot: QtBot) -> QWidget:
    top = QWidget()
    qtbot.addWidget(top)
    top.resize(400, 300)
    top.show()
    qtbot.waitUntil(top.isVisible)
    return top


def test_a_screen_that_shows_everything_passes(qtbot: QtBot) -> None:
    top = window(qtbot)
    column = QVBoxLayout(top)
    column.addWidget(QLabel("A short text"))
    column.addWidget(QPushButton("Next"))
    qtbot.waitUntil(lambda: top.layout() is not None and top.layout().geometry().isValid())
    assert fit_problems(top) == []


def test_a_control_out_of_the_window_or_clipped_is_reported(qtbot: QtBot) -> None:
    top = window(qtbot)
    button = QPushButton("Next", top)
    button.setGeometry(350, 10, 100, 40)
    gone = QPushButton("Back", top)
    gone.setGeometry(10, 400, 100, 40)
    button.show()
    gone.show()
    problems = fit_problems(top)
    assert any(p.startswith("clipped") and "'Next'" in p for p in problems)
    assert any(p.startswith("outside the visible area") and "'Back'" in p for p in problems)


def test_a_cut_text_is_reported(qtbot: QtBot) -> None:
    top = window(qtbot)
    text = QLabel("a long text that wraps over several lines " * 4, top)
    text.setWordWrap(True)
    text.setGeometry(0, 0, 200, 20)
    narrow = QPushButton("A button with a long text", top)
    narrow.setGeometry(0, 100, 60, 40)
    text.show()
    narrow.show()
    problems = fit_problems(top)
    assert any(p.startswith("text cut: QLabel") for p in problems)
    assert any(p.startswith("text cut: QPushButton") for p in problems)


def test_a_page_that_needs_scrolling_fails_a_list_meant_to_scroll_does_not(
    qtbot: QtBot,
) -> None:
    top = window(qtbot)
    column = QVBoxLayout(top)
    area = QScrollArea()
    body = QWidget()
    rows = QVBoxLayout(body)
    for n in range(30):
        rows.addWidget(QPushButton(f"Option {n}"))
    area.setWidget(body)
    area.setWidgetResizable(True)
    column.addWidget(area)
    qtbot.waitUntil(lambda: area.isVisible() and area.verticalScrollBar().maximum() > 0)
    assert any(p.startswith("needs scrolling") for p in fit_problems(top))
    touch_scroll(area)  # now a list meant to scroll: rows out of view are fine
    assert fit_problems(top) == []
    listing = QListWidget()
    listing.addItems([f"Subject {n}" for n in range(100)])
    column.addWidget(listing)
    qtbot.waitUntil(lambda: listing.isVisible() and listing.verticalScrollBar().maximum() > 0)
    assert fit_problems(top) == []


def screenshots(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "main.py"), "screenshots", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize(
    ("size", "staff_lang", "dpi"),
    [
        ("1024x768", "en", "96"),
        ("800x1280", "en", "96"),  # 800 wide: the console's tabs
        # the staff's screens in French (longer texts): the home page's buttons, the settings
        # and calibration pages, the correction form were cut before (2026-12-05); at 150 DPI
        # the home page's column was fitted before the screen's font was known
        ("1024x768", "fr", "96"),
        ("1280x800", "fr", "96"),
        ("1920x1200", "fr", "150"),
        ("800x1280", "fr", "96"),  # the console's tabs, its rows of buttons, in French
    ],
)
def test_check_fit_passes_every_screen_in_large_text(
    tmp_path: Path, size: str, staff_lang: str, dpi: str
) -> None:
    db_path = make_database(tmp_path / "shots.db")
    out = tmp_path / "out"
    done = screenshots(
        "--db", db_path, "--out", out, "--size", size, "--large-text", "--check-fit",
        "--staff-lang", staff_lang, "--dpi", dpi,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert "smallest type on an item page: choice" in done.stdout
    assert " screens fit" in done.stdout


def test_check_fit_refuses_an_impossible_dpi(tmp_path: Path) -> None:
    done = screenshots("--db", tmp_path / "x.db", "--out", tmp_path / "o", "--dpi", "5")
    assert done.returncode == 2 and done.stderr.startswith("error: --dpi")


def test_screenshots_refuse_a_staff_language_the_app_does_not_have(tmp_path: Path) -> None:
    done = screenshots("--db", tmp_path / "x.db", "--out", tmp_path / "o", "--staff-lang", "de")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --staff-lang 'de': known en, fr")
    assert not (tmp_path / "o").exists()


def test_a_tab_hidden_by_its_tab_bar_or_with_a_cut_title_is_reported(qtbot: QtBot) -> None:
    top = window(qtbot)
    tabs = QTabWidget(top)
    for n in range(8):
        tabs.addTab(QLabel(f"page {n}"), f"A rather long tab title {n}")
    tabs.setGeometry(0, 0, 400, 200)
    tabs.show()
    qtbot.waitUntil(tabs.isVisible)
    tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
    tabs.tabBar().setUsesScrollButtons(True)
    problems = fit_problems(top)
    assert any(p.startswith("tab hidden by its tab bar") for p in problems), problems
    tabs.tabBar().setUsesScrollButtons(False)
    tabs.tabBar().setElideMode(Qt.TextElideMode.ElideRight)
    qtbot.waitUntil(lambda: any(p.startswith("tab title cut") for p in fit_problems(top)))
    while tabs.count() > 1:
        tabs.removeTab(tabs.count() - 1)
    tabs.setTabText(0, "Scores")
    qtbot.waitUntil(lambda: fit_problems(top) == [])
