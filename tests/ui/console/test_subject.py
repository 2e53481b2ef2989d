"""The subject view: scores, change and responder, charts, corrections by role, audit history."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from respine_desktop import reports, scoring, storage
from respine_desktop.kiosk_events import KIOSK_ACTIONS
from respine_desktop.reports import fmt
from respine_desktop.storage import CORRECTION_ROLES, ROLES, VISIT_STATUSES, StudyDb
from tests.support.console import (
    ADMIN_PIN,
    BASELINE_VAS,
    COMPLETE,
    COORDINATOR,
    COORDINATOR_PIN,
    INVESTIGATOR,
    INVESTIGATOR_PIN,
    MISSED,
    MISSED_REASON,
    complete_visit,
    staff_of,
    visit_answers,
)
from ui.console.history import action_text, table_texts
from ui.console.page import ConsolePage
from ui.console.reauth import ReauthFields
from ui.console.scores import score_legend
from ui.console.subject import SubjectView
from ui.widgets.tap_details import PlainToolTips


def reenter(fields: ReauthFields, username: str, pin: str) -> None:
    """Type the credentials as staff would (the username only where it is asked)."""
    if fields.asks_username():
        fields.username.setText(username)
    fields.pin.setText(pin)


OpenView = Callable[..., SubjectView]


@pytest.fixture
def open_view(qtbot: QtBot, db: StudyDb) -> Iterator[OpenView]:
    """Open a subject in a console signed in as `username` (the console is kept alive)."""
    pages: list[ConsolePage] = []

    def open_(username: str, subject: str = COMPLETE) -> SubjectView:
        page = ConsolePage(db, staff_of(db, username), "en")
        qtbot.addWidget(page)  # pytest-qt keeps only a weak reference
        pages.append(page)
        page.resize(1280, 800)
        page.show()
        return page.open_subject(subject)

    yield open_
    pages.clear()


def test_scores_change_from_baseline_and_responder_per_follow_up(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    # M1 done with less pain: VAS 60 -> 30 mm (50 %, a responder by the VAS criterion).
    complete_visit(db, COMPLETE, "M1", staff_of(db, COORDINATOR), vas=30.0)
    view = open_view(INVESTIGATOR)
    table = view.scores
    assert table.text_at("Pain VAS (mm)", "M0") == "60.0"
    assert table.text_at("Pain VAS (mm)", "M1") == "30.0"
    answers = visit_answers(db, "M0", BASELINE_VAS)
    odi = scoring.score("odi", {k: v for k, v in answers.items() if k.startswith("odi_")})["ODI"]
    assert table.text_at("ODI (%)", "M1") == fmt.score("ODI", odi)
    assert table.text_at("VAS change from baseline", "M1") == "-30.0\n\u2713 MCID"
    assert table.text_at("ODI change from baseline", "M1") == "0.0"
    assert table.text_at("Responder", "M1") == "yes"
    assert table.text_at("Responder", "M3") == "\u2013"
    assert table.text_at("Visit", "M1").startswith("complete")
    assert (
        "12 months" not in view.primary.text() and "M12 (primary endpoint)" in view.primary.text()
    )
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert "M0\nbaseline" in headers and "M12\nprimary" in headers


def test_a_missed_visit_shows_its_status_and_reason(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR, MISSED)
    item = view.scores.item(0, 0)
    assert item is not None
    assert item.text() == "missed" and item.toolTip() == MISSED_REASON


def test_the_charts_are_drawn_off_the_ui_thread(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    assert view.charts.image is None  # nothing is drawn before the tab is shown
    with qtbot.waitSignal(view.charts.drawn, timeout=60_000):
        view.show_charts()
    assert view.charts.image is not None and not view.charts.image.isNull()
    assert view.charts.image.width() > 600


def test_an_investigator_corrects_an_answer_with_a_reason(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = view.correction
    assert panel.open_button.isEnabled() and not panel.why_not.isVisibleTo(panel)
    panel.open_button.click()
    assert panel.form.isVisibleTo(panel)
    assert panel.choose("M0", "vas_pain")
    assert panel.current.text() == "60 mm"
    panel.set_value(25.0)
    assert not panel.save_button.isEnabled()  # no reason yet
    panel.reason.setText("source document says 25 mm")
    assert not panel.save_button.isEnabled()  # no credentials yet
    reenter(panel.reauth, INVESTIGATOR, INVESTIGATOR_PIN)
    assert panel.save_button.isEnabled()
    with qtbot.waitSignal(panel.corrected):
        panel.save_button.click()
    # Old value, new value, who and why, in the corrections list...
    (row,) = table_texts(view.corrections)
    assert row[:5] == ["M0", "Pain VAS", "60 mm", "25 mm", INVESTIGATOR]
    assert row[6] == "source document says 25 mm"
    # ... the original kept by storage, and the scores recomputed ...
    session_id = storage.subject_visit(db, COMPLETE, "M0").session_id
    assert session_id is not None
    history = storage.answer_history(db, session_id, "vas_pain")
    assert [a.value for a in history] == [BASELINE_VAS, 25.0]
    assert view.scores.text_at("Pain VAS (mm)", "M0") == "25.0"
    assert reports.patient_summary(db, COMPLETE).visit("M0").value("VAS") == 25.0
    # ... and the audit entry, shown in the subject's audit history.
    audit = table_texts(view.audit)
    corrected = [r for r in audit if r[2] == "Answer corrected"]
    assert len(corrected) == 1 and corrected[0][1] == INVESTIGATOR
    assert "reason: source document says 25 mm" in corrected[0][3]
    assert "old_value: 60.0" in corrected[0][3]
    assert any(r[2] == "Scores recomputed" for r in audit)
    # Each action in words, in French too, its code (the name in audit_trail.csv) in the
    # cell's tooltip; one this version has no words for by its code alone.
    (row,) = [r for r, cells in enumerate(audit) if cells[2] == "Answer corrected"]
    assert view.audit.item(row, 2).toolTip() == "Answer corrected (answer.corrected)"
    assert action_text("fr", "answer.corrected") == "Réponse corrigée"
    assert action_text("fr", "kiosk.future_thing") == "kiosk.future_thing"
    # the kiosk's events of an open session carry the subject: each has its words
    for action in KIOSK_ACTIONS:
        assert action_text("en", action) != action and action_text("fr", action) != action


def test_a_choice_item_is_corrected_to_skipped(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(COORDINATOR)
    panel = view.correction
    panel.open_form()
    assert panel.choose("M0", "odi_08")
    panel.set_value(storage.SKIPPED)
    panel.reason.setText("patient asked to withdraw this answer")
    reenter(panel.reauth, COORDINATOR, COORDINATOR_PIN)
    panel.confirm()
    (row,) = table_texts(view.corrections)
    assert row[1] == "ODI 8" and row[3] == "skipped" and row[4] == COORDINATOR


def test_a_correction_without_a_reason_is_refused(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = view.correction
    panel.open_form()
    assert panel.choose("M0", "odi_01")
    panel.set_value(0)
    panel.reason.setText("  ")
    reenter(panel.reauth, INVESTIGATOR, INVESTIGATOR_PIN)
    assert not panel.save_button.isEnabled()
    panel.confirm()  # a forced click: storage refuses and says why
    assert panel.error.isVisibleTo(panel) and "reason is required" in panel.error.text()
    assert table_texts(view.corrections) == []


@pytest.mark.parametrize("role", [r for r in ROLES if r not in CORRECTION_ROLES])
def test_a_role_that_may_not_correct_sees_why_and_is_refused(
    qtbot: QtBot, db: StudyDb, open_view: OpenView, role: str
) -> None:
    admin = staff_of(db, "admin")
    username = f"no.{role}"
    if role != "admin":
        storage.create_staff(db, admin, username, role, "572913")  # type: ignore[arg-type]
    else:
        username = "admin"
    view = open_view(username)
    panel = view.correction
    assert not panel.open_button.isEnabled()
    assert panel.why_not.isVisibleTo(panel)
    assert "Only these roles may correct answers: investigator, coordinator" in (
        panel.why_not.text()
    )
    panel.open_form()
    assert not panel.form.isVisibleTo(panel)
    # Even driven past the disabled button, storage refuses and nothing is written.
    assert panel.choose("M0", "vas_pain")
    panel.set_value(10.0)
    panel.reason.setText("trying anyway")
    reenter(panel.reauth, username, ADMIN_PIN if role == "admin" else "572913")
    assert not panel.save_button.isEnabled()
    panel.confirm()
    assert "not allowed to correct answers" in panel.error.text()
    session_id = storage.subject_visit(db, COMPLETE, "M0").session_id
    assert session_id is not None
    assert len(storage.answer_history(db, session_id, "vas_pain")) == 1
    assert table_texts(view.corrections) == []


def test_the_audit_history_lists_the_subjects_entries(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR, MISSED)
    actions = [row[2] for row in table_texts(view.audit)]
    assert actions == ["Subject registered", "Visit marked missed"]
    registered, missed = table_texts(view.audit)
    assert registered[1] == COORDINATOR and "code: RSP-01-006" in registered[3]
    assert f"reason: {MISSED_REASON}" in missed[3]


def test_a_withdrawal_is_recorded_and_shown_in_the_worklist(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    reason = "moved abroad, Łódź <b>see the file</b>"
    view = open_view(COORDINATOR)
    assert view.withdraw_button.isEnabled() and not view.withdrawal.isVisible()
    view.ask_withdrawal()
    panel = view.withdrawal
    assert panel.isVisible() and not panel.confirm_button.isEnabled()
    day = panel.chosen_day()
    panel.reason.setText(reason)
    panel.confirm()
    found = storage.get_withdrawal(db, COMPLETE)
    assert found is not None and found.reason == reason and found.withdrawn_on == day
    assert not panel.isVisible() and not view.withdraw_button.isEnabled()
    assert view.withdrawal_note.text() == f"Withdrawn on {day.isoformat()}: {reason}"
    # A second withdrawal is refused by storage, shown on the panel.
    view.withdrawal.ask(COMPLETE, day)
    view.withdrawal.reason.setText("again")
    view.withdrawal.confirm()
    assert "withdrawn already" in view.withdrawal.error.text()
    page = view.parentWidget()
    while page is not None and not isinstance(page, ConsolePage):
        page = page.parentWidget()
    assert page is not None
    worklist = page.worklist
    worklist.set_statuses(VISIT_STATUSES)
    model = worklist.model
    rows = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert f"{COMPLETE} (withdrawn)" in rows
    row = worklist.subjects().index(COMPLETE)
    tip = model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"Withdrawn on {day.isoformat()}: {reason}"
    # reachable by touch on the line under the table, and never read as markup
    worklist.table.setCurrentIndex(model.index(row, 0))
    (line,) = worklist.findChildren(QLabel, "cellDetails")
    assert line.text() == tip and line.textFormat() == Qt.TextFormat.PlainText
    assert isinstance(worklist.table.itemDelegate(), PlainToolTips)
    other = next(n for n, code in enumerate(worklist.subjects()) if code != COMPLETE)
    assert model.data(model.index(other, 0), Qt.ItemDataRole.ToolTipRole) is None


@pytest.mark.parametrize("method", ["standard", "rand"])
def test_the_score_legend_names_the_sf36_scoring_in_the_consoles_language(
    db: StudyDb, method: str
) -> None:
    summary = reports.patient_summary(db, COMPLETE)
    summary = dataclasses.replace(
        summary, study=dataclasses.replace(summary.study, sf36_reported=method)
    )
    english = score_legend("en", summary)
    assert english.startswith(f"SF-36: {scoring.label('sf36', method)}.")  # as the PDFs name it
    french = score_legend("fr", summary)
    # named in French (the RAND survey keeps its proper name, with the French for its scoring)
    assert not french.startswith(f"SF-36 : {scoring.label('sf36', method)}.")
    assert french.startswith("SF-36 : ") and "cotation" in french
