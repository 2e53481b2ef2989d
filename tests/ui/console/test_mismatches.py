"""The "Mismatches between kiosks" list beside the conflicts: subject, what differs, hub value,
bundle value, what the hub keeps, kiosk, when; in English and French; an empty state on a kiosk."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import Mismatch, StudyDb
from tests.support.console import make_console_db
from tests.support.exports import TODAY, hub_and_kiosks, mismatched_hub
from tests.support.review import console_on, opened_copy
from ui.console.mismatches import detail_text, field_text, outcome_text, value_text

DAY0 = TODAY - timedelta(days=40)


@pytest.fixture(scope="module")
def hub_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mismatches")
    with hub_and_kiosks(root) as (hub, a, b, c):
        mismatched_hub(hub, a, b, c)
    return hub


@pytest.fixture
def hub(hub_file: Path, tmp_path: Path) -> Iterator[StudyDb]:
    with opened_copy(hub_file, tmp_path) as db:
        yield db


def test_the_mismatches_are_listed_beside_the_conflicts(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub)
    review = page.review
    assert review.conflicts.isVisibleTo(page) and not review.mismatches.isVisibleTo(page)
    assert review.switch_button.isVisibleTo(page)
    assert review.switch_button.text() == "Mismatches between kiosks…"
    review.switch_button.click()
    assert review.switch_button.text() == "← Conflicts"
    view = page.mismatches
    assert view.isVisibleTo(page) and not review.conflicts.isVisibleTo(page)
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(7)]
    assert headers == [
        "Subject",
        "What differs",
        "Hub value",
        "Bundle value",
        "Outcome",
        "Kiosk",
        "Flagged",
    ]
    rows = view.rows()
    kept = "the hub's value kept"
    assert [r[:6] for r in rows] == [
        ["RSP-01-040", "State of the visit Baseline", "complete", "missed", kept, "kiosk b"],
        ["RSP-01-041", "Day 0", str(DAY0), str(DAY0 + timedelta(days=2)), kept, "kiosk b"],
    ]
    assert all(len(r[6]) == len("2026-01-01 09:00") for r in rows)
    assert view.count.text() == "2 flagged" and not view.empty.isVisibleTo(page)
    # The row in one sentence is its tooltip, and a tap on the row shows it.
    assert view.table.item(0, 1).toolTip() == (
        "State of the visit Baseline: hub “complete”, bundle “missed”; the hub's value kept"
    )
    (line,) = view.findChildren(QLabel, "cellDetails")
    view.table.setCurrentCell(0, 1)
    assert line.isVisibleTo(page) and line.text() == view.table.item(0, 1).toolTip()
    review.switch_button.click()
    assert review.conflicts.isVisibleTo(page)
    page.tabs.setCurrentWidget(page.worklist)  # the switch belongs to the Conflicts tab
    assert not review.switch_button.isVisibleTo(page)


def test_the_mismatches_speak_french(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub, "fr")
    page.review.show_mismatches()
    assert page.review.switch_button.text() == "← Conflits"
    rows = page.mismatches.rows()
    assert rows[0][1:5] == [
        "État de la visite Inclusion",
        "faite",
        "manquée",
        "valeur du serveur central gardée",
    ]
    assert rows[1][1] == "Jour 0"
    assert page.mismatches.count.text() == "2 signalée(s)"
    assert page.mismatches.table.item(0, 0).toolTip() == (
        "État de la visite Inclusion : serveur central « faite », lot « manquée » ; "
        "valeur du serveur central gardée"
    )


def test_a_kiosk_without_mismatches_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    with storage.open_database(make_console_db(tmp_path / "kiosk.db")) as db:
        page = console_on(qtbot, db)
        page.review.show_mismatches()
        assert page.mismatches.rows() == []
        assert page.mismatches.empty.isVisibleTo(page)
        assert page.mismatches.empty.text() == "No mismatches between kiosks."
        assert not page.mismatches.table.isVisibleTo(page)


@pytest.mark.parametrize(
    ("field", "lang", "words"),
    [
        ("superseded_by", "en", "Answer replaced on two kiosks, visit Baseline"),
        ("superseded_by", "fr", "Réponse remplacée sur deux bornes, visite Inclusion"),
        ("first_answer", "en", "Answer given on two kiosks, visit Baseline"),
        ("first_answer", "fr", "Réponse donnée sur deux bornes, visite Inclusion"),
    ],
)
def test_a_fork_is_named_as_such(hub: StudyDb, field: str, lang: str, words: str) -> None:
    """A fork the merge flagged (field ``superseded_by``: two kiosks replaced one answer;
    ``first_answer``: two kiosks answered one item first) says so, with its visit, not
    "Record"; its rows by the start of their ids."""
    fork = Mismatch(
        entry_id="e",
        flagged_at="2026-01-01T09:00:00.000Z",
        subject_code="RSP-01-040",
        visit_code="M0",
        field=field,
        hub_value="row-1",
        bundle_value="row-2",
        device_id="d",
        device_label="kiosk a",
        text="",
    )
    assert field_text(hub, lang, fork) == words
    # both rows were kept (not the hub's alone): the last written counts
    outcome = {"en": "both kept; the last written counts", "fr": "les deux gardées ; la dernière"}
    assert outcome_text(lang, fork).startswith(outcome[lang])
    # two rows written in the same minute: UUIDv7s of one start, told apart by their ends
    ids = "01a2475f-c14d-703c-81a0-fe74044bafea 01a2475f-c155-7963-b9b9-c0c8d42ad2f9"
    assert value_text(lang, fork, ids) == "…044bafea …d42ad2f9"
    # the row's sentence (tooltip, details line) has them whole
    assert "row-1" in detail_text(hub, lang, fork) and "row-2" in detail_text(hub, lang, fork)
    unknown = dataclasses.replace(fork, field="colour", text="the merge's own sentence")
    assert detail_text(hub, lang, unknown) == "the merge's own sentence"


def test_answers_given_on_another_content_are_kept_and_said_so(hub: StudyDb) -> None:
    content = Mismatch(
        entry_id="e",
        flagged_at="2026-01-01T09:00:00.000Z",
        subject_code="RSP-01-040",
        visit_code="M0",
        field="instrument",
        hub_value="1.0 sha256:aaaa",
        bundle_value="0.9 sha256:bbbb",
        device_id="d",
        device_label="kiosk a",
        text="",
    )
    assert outcome_text("en", content) == "kept, scored as this program's questionnaire"
    day0 = dataclasses.replace(content, field="day0", visit_code=None)
    assert outcome_text("en", day0) == "the hub's value kept"
    # an entry whose field is not known here: nothing claimed
    assert outcome_text("en", dataclasses.replace(content, field="other")) == ""
