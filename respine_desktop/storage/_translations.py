"""Installed translations: the checked JSON text of each, kept in the ``settings`` table.

`respine_desktop.translations` checks a translation file against the shipped masters; storage
only keeps its text under ``translation.<language>`` (so a backup keeps it) and audits each
installation with the SHA-256 of the text. A later installation of the same language replaces
the earlier one only with ``replace`` (a new licensed version), also audited.
"""

from __future__ import annotations

import hashlib
import re

from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput
from respine_desktop.storage._records import Staff
from respine_desktop.storage._staff import require

PREFIX = "translation."
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?\Z")


def install_translation(
    db: StudyDb, language: str, text: str, *, staff: Staff | None = None, replace: bool = False
) -> bool:
    """Keep the checked translation `text` of `language`; False when the same is installed.

    A different translation of the language is replaced only with `replace` (else
    AlreadyExists). `staff`, when given, must be an active account (it is the audit's actor).
    """
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise InvalidInput(f"language {language!r} is not an ISO 639 code")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the translation is empty")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with transaction(db):
        actor = require(db, staff, doing="install a translation") if staff is not None else None
        row = db.conn.execute(
            "SELECT value FROM settings WHERE key=?", [PREFIX + language]
        ).fetchone()
        if row is not None and row["value"] == text:
            return False
        if row is not None and not replace:
            raise AlreadyExists(
                f"a different {language} translation is installed: replace it only on purpose "
                "(--replace)"
            )
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            [PREFIX + language, text],
        )
        audit.append(
            db,
            action="translation.replaced" if row is not None else "translation.installed",
            entity="settings",
            entity_id=PREFIX + language,
            actor=actor.id if actor is not None else None,
            payload={"language": language, "sha256": digest},
        )
    return True


def installed_translations(db: StudyDb) -> dict[str, str]:
    """The text of every installed translation, by language."""
    rows = db.conn.execute(
        "SELECT key, value FROM settings WHERE key LIKE 'translation.%' ORDER BY key"
    ).fetchall()
    return {str(r["key"])[len(PREFIX) :]: str(r["value"]) for r in rows}
