"""How the console names things: statuses (with colours), visits, roles, flags, items, answers."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QColor

from respine_desktop.i18n import error_text, t
from respine_desktop.instruments import load_instrument
from respine_desktop.study import Study

# Cell colours of the visit statuses (the worklist's legend shows them too).
STATUS_COLOURS: dict[str, str] = {
    "not_yet_due": "#ffffff",
    "due": "#ffe9a8",
    "overdue": "#f6c7c0",
    "missed": "#dcdcdc",
    "in_progress": "#cfe2f5",
    "parked": "#e2d7f3",
    "complete": "#cdebd5",
}


def refused(lang: str, error: BaseException) -> str:
    """A refusal as the console says it: "Refused: " and the error in `lang` (`error_text`)."""
    return t(lang, "console.error.refused", message=error_text(lang, error))


def status_text(lang: str, status: str) -> str:
    """A visit status as staff read it ("due today", "overdue", ...)."""
    return t(lang, f"console.status.{status}")


def status_colour(status: str) -> QColor:
    return QColor(STATUS_COLOURS.get(status, "#ffffff"))


def visit_label(study: Study, code: str, lang: str) -> str:
    """The visit's name in `lang` ("6 months"), or its code when it has none."""
    visit = study.visit(code)
    return visit.label.get(lang) or visit.label.get("en") or code


def role_text(lang: str, role: str) -> str:
    return t(lang, f"staff.role.{role}")


def flag_text(lang: str, value: bool | None) -> str:
    """A three-valued result: yes, no, undetermined."""
    if value is None:
        return t(lang, "console.flag.undetermined")
    return t(lang, "console.flag.yes" if value else "console.flag.no")


def local_time(iso: str) -> str:
    """A stored UTC time (ISO 8601) as this device's local date and time, to the minute."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def item_name(lang: str, instrument_id: str, item_id: str) -> str:
    """An item as staff name it: "ODI 3", "SF-36 3a", "VAS"."""
    instrument = load_instrument(instrument_id)
    short = instrument.short_title.get(lang) or instrument.short_title.get("en") or instrument.id
    try:
        item = instrument.item(item_id)
    except KeyError:
        return f"{short} {item_id}"
    return short if len(instrument.items) == 1 else f"{short} {item.label}"


def item_question(lang: str, instrument_id: str, item_id: str) -> str:
    """The item's question text in `lang` (English when the instrument lacks the language)."""
    item = load_instrument(instrument_id).item(item_id)
    return item.text.get(lang) or item.text.get("en") or item_id


def answer_text(
    lang: str, instrument_id: str, item_id: str, value: float | None, status: str | None
) -> str:
    """An answer as staff read it: the option's code and text, the VAS in mm, or "skipped"."""
    if status == "skipped":
        return t(lang, "console.answer.skipped")
    if value is None:
        return "\u2013"
    item = load_instrument(instrument_id).item(item_id)
    if item.type == "choice":
        code = int(value)
        try:
            text = item.choice(code).text
        except ValueError:
            return str(code)
        return f"{code} \u00b7 {text.get(lang) or text.get('en', '')}"
    return t(lang, "console.answer.vas", value=f"{value:g}")
