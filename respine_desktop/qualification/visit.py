"""A qualification database: one synthetic subject whose baseline visit is answered in full."""

from __future__ import annotations

from pathlib import Path

from respine_desktop import schedule, storage
from respine_desktop.session import Phase, QuestionnaireSession

SUBJECT = "RSP-01-001"
VISIT = "M0"
# A PIN only for the throw-away databases of the qualification (6 digits, not a sequence).
PIN = "739152"
VAS_VALUE = 67.6


def answer_for(item_id: str, item_type: str, codes: tuple[int, ...], n: int) -> float:
    """The deterministic answer the qualification gives to item number `n`."""
    if item_type == "vas":
        return VAS_VALUE
    return codes[n % len(codes)]


def new_database(path: Path) -> storage.StudyDb:
    """A new database with the qualification's subject registered (day 0 today)."""
    db = storage.create_database(path, admin_pin=PIN, device_label="qualification")
    admin = storage.get_staff(db, "admin")
    storage.register_subject(db, SUBJECT, day0=schedule.today(), staff=admin)
    return db


def answer_visit(db: storage.StudyDb) -> dict[str, float]:
    """Answer the baseline visit item by item (each answer committed at once; an item a resumed
    sitting answered already is kept) and submit it. Returns the new answers by item id."""
    admin = storage.get_staff(db, "admin")
    flow = QuestionnaireSession.open(db, SUBJECT, VISIT, staff=admin)
    if flow.language is None:
        flow.choose_language("en")
    given: dict[str, float] = {}
    n = flow.position
    while flow.phase is Phase.ITEMS:
        item = flow.current.item
        if flow.current_response is None:  # a resumed sitting shows its last answer again
            value = answer_for(item.id, item.type, item.codes, n)
            flow.answer(value, vas_line_mm=100.0 if item.type == "vas" else None)
            given[item.id] = value
        flow.next()
        n += 1
    flow.submit()
    return given
