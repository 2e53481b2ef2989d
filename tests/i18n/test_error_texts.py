"""Errors staff meet in the screens are said in the screens' language (`i18n.error_text`); the
command line keeps the English message; an error without a text of its own shows its message."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.errors import RespineError
from respine_desktop.i18n import (
    UI_LANGUAGES,
    error_text,
    forget_installed,
    install_texts,
    t,
    texts,
)
from respine_desktop.storage import InvalidInput
from tests.support.storage import ADMIN_PIN, coord, new_db

ROOT = Path(__file__).resolve().parents[2]
KEYED = re.compile(r"""\.keyed\(\s*["']([a-z0-9_]+)["']""")


def _refusal(check: object, *args: object, **options: object) -> RespineError:
    with pytest.raises(RespineError) as caught:
        check(*args, **options)  # type: ignore[operator]
    return caught.value


def test_every_keyed_error_has_its_text_in_every_language() -> None:
    keys = {
        key
        for path in (ROOT / "respine_desktop").rglob("*.py")
        for key in KEYED.findall(path.read_text(encoding="utf-8"))
    }
    assert {"subject_code", "username_format", "account_exists"} <= keys
    # the PIN policy's keys, given with its sentences (`storage._pin_policy._problem`)
    policy = (ROOT / "respine_desktop" / "storage" / "_pin_policy.py").read_text(encoding="utf-8")
    pins = set(re.findall(r'"(pin_[a-z]+)"', policy))
    assert pins == {"pin_format", "pin_sequence", "pin_repeat", "pin_common"}
    keys |= pins
    for lang in UI_LANGUAGES:
        missing = sorted(k for k in keys if f"common.error.{k}" not in texts(lang))
        assert not missing, f"{lang}.json lacks common.error.{missing}"


def test_every_keyed_error_passes_the_values_its_texts_name() -> None:
    """A text naming a value its error does not pass would end in a KeyError in the screens."""
    call = re.compile(
        r"""\.keyed\(\s*["']([a-z0-9_]+)["']((?:\s*,\s*\w+=[^,()]+(?:\([^()]*\))?)*)\s*,?\s*\)"""
    )
    found: set[str] = set()
    for path in (ROOT / "respine_desktop").rglob("*.py"):
        for key, args in call.findall(path.read_text(encoding="utf-8")):
            passed = set(re.findall(r"(\w+)=", args))
            for lang in UI_LANGUAGES:
                text = texts(lang)[f"common.error.{key}"]
                named = {n for _, n, _, _ in string.Formatter().parse(text) if n}
                assert named <= passed, f"{path.name}: {key} in {lang} names {named - passed}"
            found.add(key)
    # every error text of the catalog is some refusal's (the PIN policy's, which pass their
    # key as a variable with min and max, are raised in the test below)
    pins = {"pin_format", "pin_sequence", "pin_repeat", "pin_common"}
    catalog = {
        k.removeprefix("common.error.") for k in texts("en") if k.startswith("common.error.")
    }
    assert found | pins == catalog


@pytest.mark.parametrize(
    ("check", "value", "english", "french"),
    [
        (storage.check_pin_policy, "1234", "a PIN must be 6 to 12 digits", "de 6 à 12 chiffres"),
        (storage.check_pin_policy, "654321", "sequence of digits", "une suite de chiffres"),
        (storage.check_pin_policy, "121212", "repeat a digit", "répéter un chiffre"),
        (storage.check_subject_code, "RSP-1-23", "must look like RSP-01-023", "forme RSP-01-023"),
    ],
)
def test_a_refusal_speaks_the_screens_language_and_the_message_stays_english(
    check: object, value: str, english: str, french: str
) -> None:
    error = _refusal(check, value)
    assert english in str(error)  # what the command line prints
    assert french in error_text("fr", error)
    # the screens' English is the catalog's text, not the message by fallback
    assert error.key is not None
    assert error_text("en", error) == t("en", f"common.error.{error.key}", **(error.params or {}))
    assert error_text("en", error)[0].islower() and not error_text("fr", error).endswith(".")


def test_an_error_without_a_text_of_its_own_shows_its_message() -> None:
    assert error_text("fr", InvalidInput("day 0 'x' is not a date")) == "day 0 'x' is not a date"
    assert error_text("fr", OSError(28, "No space left on device")) == (
        "[Errno 28] No space left on device"
    )
    # a key the catalogs do not have (an error of a later version read by an older screen)
    unknown = InvalidInput("refused\n  on two lines").keyed("not_a_text_of_ours")
    assert error_text("fr", unknown) == "refused on two lines"


def test_an_installed_language_without_the_text_shows_the_message() -> None:
    error = _refusal(storage.check_subject_code, "nope")
    install_texts("xx", {k: v for k, v in texts("en").items() if not k.startswith("common.error")})
    try:
        assert error_text("xx", error) == str(error)
    finally:
        forget_installed()


def test_the_staff_accounts_refusals_speak_french(tmp_path: Path) -> None:
    with new_db(tmp_path / "site.db") as db:
        admin = storage.authenticate(db, "admin", ADMIN_PIN)
        error = _refusal(storage.create_staff, db, admin, "Nurse One", "coordinator", "482915")
        assert "'Nurse One' must be 2-32" in str(error)
        assert error_text("fr", error).startswith("l'identifiant « Nurse One » doit compter")
        error = _refusal(storage.create_staff, db, admin, "admin", "coordinator", "482915")
        assert error_text("fr", error) == "un compte du personnel « admin » existe déjà"
        error = _refusal(storage.create_staff, db, admin, "two\nlines", "coordinator", "482915")
        assert "\n" not in error_text("fr", error) and "two lines" in error_text("fr", error)


def test_the_reasons_staff_must_give_are_asked_in_french(tmp_path: Path) -> None:
    with new_db(tmp_path / "site.db") as db:
        staff = coord(db)
        storage.register_subject(db, "RSP-01-001", day0=date(2026, 1, 5), staff=staff)
        error = _refusal(storage.mark_missed, db, "RSP-01-001", "M1", staff=staff, reason=" ")
        assert "a reason is required to mark it missed" in str(error)
        assert error_text("fr", error) == (
            "RSP-01-001 M1 : un motif est nécessaire pour déclarer la visite manquée"
        )
        on = date(2026, 1, 6)
        error = _refusal(storage.withdraw_subject, db, "RSP-01-001", staff=staff, on=on, reason="")
        assert error_text("fr", error) == (
            "RSP-01-001 : un motif est nécessaire pour enregistrer un retrait"
        )
        storage.withdraw_subject(db, "RSP-01-001", staff=staff, on=on, reason="moved away")
        error = _refusal(
            storage.withdraw_subject, db, "RSP-01-001", staff=staff, on=on, reason="again"
        )
        assert error_text("fr", error) == "RSP-01-001 est déjà retiré de l'étude"
        error = _refusal(
            storage.withdraw_subject, db, "RSP-01-001", staff=staff, on=on, reason="x" * 5000
        )
        assert error_text("fr", error).startswith("RSP-01-001 : le motif dépasse ")
        error = _refusal(
            storage.correct_answer, db, "no-session", "vas_pain", 10.0, staff=staff, reason=""
        )
        assert error_text("fr", error) == (
            "vas_pain : un motif est nécessaire pour corriger une réponse"
        )
