"""E-signatures in the console (21 CFR Part 11): an investigator signs a visit or the whole
casebook from the subject view, with the meaning and its attestation, re-entering the username
and PIN the first time and the PIN only after; a wrong PIN signs nothing; other roles never see
the action; a later correction shows the signature BROKEN. Real widgets offscreen on a real
database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import (
    ADMIN_PIN,
    COMPLETE,
    COORDINATOR,
    INVESTIGATOR,
    INVESTIGATOR_PIN,
    staff_of,
)
from ui.console.page import ConsolePage
from ui.console.signing import CASEBOOK, SigningPanel
from ui.console.subject import SubjectView

DATA_MANAGER, DATA_MANAGER_PIN = "dm", "318274"


OpenView = Callable[..., SubjectView]


@pytest.fixture
def open_view(qtbot: QtBot, db: StudyDb) -> Iterator[OpenView]:
    """Open the subject with a submitted M0 in a console signed in as `username`."""
    pages: list[ConsolePage] = []

    def open_(username: str, lang: str = "en") -> SubjectView:
        page = ConsolePage(db, staff_of(db, username), lang)
        qtbot.addWidget(page)
        pages.append(page)
        page.resize(1280, 800)
        page.show()
        return page.open_subject(COMPLETE)

    yield open_
    pages.clear()


def start_signing(view: SubjectView, target: str, meaning: str) -> SigningPanel:
    panel = view.signing
    assert panel.open_button.isVisibleTo(view)
    panel.open_button.click()
    assert view.tabs.currentWidget() is view.signatures_tab
    assert panel.form.isVisibleTo(panel)
    assert panel.choose(target, meaning)
    return panel


@pytest.mark.req("SIG-01")
def test_an_investigator_signs_a_visit_then_the_casebook_with_the_pin_only(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = view.signing
    assert panel.state_text("M0") == "M0: not signed"
    assert panel.state_text(CASEBOOK) == "Whole casebook: not signed"
    # Only the submitted visit is offered, and the whole casebook.
    offered = [panel.target.itemData(n) for n in range(panel.target.count())]
    assert offered == ["M0", CASEBOOK]
    panel.open_button.click()
    assert not panel.sign_button.isEnabled()  # no meaning yet
    assert "Choose the meaning" in panel.attestation.text()
    assert panel.choose("M0", "reviewed")
    assert panel.attestation.text() == "By signing you attest: “I have reviewed these data”."
    option = panel.meaning_buttons["reviewed"]
    qtbot.waitUntil(lambda: option.height() >= option.minimumHeight())
    assert option.height() >= 36 and option.width() >= 150  # a big touch target
    # The first signing of the page's lifetime asks for the username and the PIN.
    fields = panel.reauth
    assert fields.asks_username() and fields.username.isVisibleTo(panel)
    fields.username.setText(INVESTIGATOR)
    assert not panel.sign_button.isEnabled()
    fields.pin.setText(INVESTIGATOR_PIN)
    assert panel.sign_button.isEnabled()
    with qtbot.waitSignal(panel.signed):
        panel.sign_button.click()
    assert not panel.form.isVisibleTo(panel)
    (sig,) = storage.list_signatures(db, COMPLETE)
    assert (sig.username, sig.role, sig.meaning) == (INVESTIGATOR, "investigator", "reviewed")
    assert (sig.target_kind, sig.visit_code) == ("visit", "M0")
    shown = panel.state_text("M0")
    assert shown.startswith("M0: signed by inv (investigator), Reviewed — “I have reviewed")
    assert panel.state_role("M0") == "hint"
    # The signature is in the subject's audit history too.
    assert storage.audit_entries(db, action="signature.signed", subject_code=COMPLETE)
    # The second signing: the PIN only.
    panel = start_signing(view, CASEBOOK, "approved")
    assert not panel.reauth.asks_username()
    assert not panel.reauth.username.isVisibleTo(panel)
    assert "approve these data as accurate and complete" in panel.attestation.text()
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.signed):
        panel.sign_button.click()
    casebook = storage.list_signatures(db, COMPLETE)[-1]
    assert (casebook.target_kind, casebook.meaning) == ("subject", "approved")
    assert panel.state_text(CASEBOOK).startswith("Whole casebook: signed by inv (investigator)")
    assert panel.done.text() == "Whole casebook signed."


@pytest.mark.req("SIG-01")
def test_a_wrong_pin_signs_nothing_and_says_so(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = start_signing(view, "M0", "responsibility")
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText("000000")
    with qtbot.assertNotEmitted(panel.signed):
        panel.sign_button.click()
    assert storage.list_signatures(db, COMPLETE) == []
    left = storage.login_policy(db).max_failures - 1
    assert panel.reauth.error.isVisibleTo(panel)
    assert panel.reauth.error.text() == (
        f"Wrong PIN: nothing was saved. {left} attempts left before your account is locked."
    )
    assert panel.reauth.pin.text() == "" and panel.form.isVisibleTo(panel)
    assert staff_of(db, INVESTIGATOR).failed_attempts == 1
    assert panel.state_text("M0") == "M0: not signed"
    # The username is still asked: a refused attempt is not a re-entry.
    assert panel.reauth.asks_username()
    # Another account's username signs nothing either (and is not checked at all).
    panel.reauth.username.setText(COORDINATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    panel.sign_button.click()
    assert storage.list_signatures(db, COMPLETE) == []
    assert "not the credentials of the signed-in account (inv)" in panel.reauth.error.text()
    # Cancel forgets what was typed and signs nothing.
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    panel.cancel_button.click()
    assert not panel.form.isVisibleTo(panel) and panel.reauth.pin.text() == ""
    assert storage.list_signatures(db, COMPLETE) == []


@pytest.mark.req("SIG-01")
def test_a_coordinator_or_data_manager_does_not_see_the_action(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    admin = storage.authenticate(db, "admin", ADMIN_PIN)
    storage.create_staff(db, admin, DATA_MANAGER, "data_manager", DATA_MANAGER_PIN)
    for username in (COORDINATOR, DATA_MANAGER):
        view = open_view(username)
        panel = view.signing
        assert not panel.open_button.isVisibleTo(view)
        panel.open_form()  # even if called, nothing opens
        assert not panel.form.isVisibleTo(panel)
        # They still see the states.
        assert panel.state_text("M0") == "M0: not signed"
    admin_view = open_view("admin")
    assert admin_view.signing.open_button.isVisibleTo(admin_view)


@pytest.mark.req("SIG-03")
def test_a_correction_after_signing_shows_the_signature_broken(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = start_signing(view, "M0", "approved")
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.signed):
        panel.sign_button.click()
    assert panel.state_role("M0") == "hint"
    # A correction in the same console (the PIN only now) breaks the visit's signature.
    correction = view.correction
    correction.open_button.click()
    assert correction.choose("M0", "vas_pain")
    correction.set_value(25.0)
    correction.reason.setText("source document says 25 mm")
    assert not correction.reauth.asks_username()
    correction.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(correction.corrected):
        correction.save_button.click()
    assert view.signing.state_text("M0").startswith("M0: BROKEN — signed by inv (investigator)")
    assert view.signing.state_text("M0").endswith("then the data changed: sign again")
    assert view.signing.state_role("M0") == "error"  # the warning colour
    # Signing again makes it valid.
    panel = start_signing(view, "M0", "approved")
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.signed):
        panel.sign_button.click()
    assert view.signing.state_text("M0").startswith("M0: signed by inv")
    assert view.signing.state_role("M0") == "hint"


def test_french_texts(qtbot: QtBot, db: StudyDb, open_view: OpenView) -> None:
    view = open_view(INVESTIGATOR, "fr")
    panel = view.signing
    assert panel.open_button.text() == "Signer…"
    assert panel.state_text(CASEBOOK) == "Dossier complet : non signé"
    panel = start_signing(view, "M0", "reviewed")
    assert panel.attestation.text() == "En signant vous attestez : « J'ai revu ces données »."
    assert panel.meaning_buttons["approved"].text() == "Approuvé"
    assert panel.sign_button.text() == "Signer"
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.signed):
        panel.sign_button.click()
    assert panel.state_text("M0").startswith("M0 : signé par inv (investigateur), Revu — « J'ai")
    assert view.tabs.tabText(view.tabs.indexOf(view.signatures_tab)) == "Signatures"


@pytest.mark.req("SIG-01")
def test_wrong_pins_lock_the_account_and_say_for_how_long(
    qtbot: QtBot, db: StudyDb, open_view: OpenView
) -> None:
    view = open_view(INVESTIGATOR)
    panel = start_signing(view, CASEBOOK, "reviewed")
    for _ in range(storage.login_policy(db).max_failures):
        if panel.reauth.asks_username():
            panel.reauth.username.setText(INVESTIGATOR)
        panel.reauth.pin.setText("000000")
        panel.sign_button.click()
    assert "Your account is locked for" in panel.reauth.error.text()
    assert staff_of(db, INVESTIGATOR).locked_until is not None
    # Even the right PIN signs nothing while the account is locked.
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    panel.sign_button.click()
    assert "Your account is locked for" in panel.reauth.error.text()
    assert storage.list_signatures(db, COMPLETE) == []
    assert panel.state_text(CASEBOOK) == "Whole casebook: not signed"
