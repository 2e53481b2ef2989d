"""The instrument content a bundle's answers were given on, against the content this program shows.

Every answer stores the version and checksum of the instrument it was given on
(docs/instruments.md), so that what a patient saw can be named later. A kiosk that showed another
content (another release whose questionnaire changed, an instrument file edited on the tablet)
writes answers the hub would otherwise merge and score as its own instrument without a word.
They are what the patient answered, so the merge keeps them, but it flags each session and
instrument concerned (a ``bundle.mismatch``, field ``instrument``: `bundle_merge`) for review,
as ODK or REDCap name a submission made on a form version the server lacks.

`foreign_contents(rows)` finds them: a set of the few distinct (instrument, version, checksum)
of the rows (built in C), each looked up once per process (`instruments.shows_content`: the
format-1 checksums of the same content count as it); only when one is foreign are the rows
walked again to name their sessions. An instrument this program has no file for is left to the
row validation (its items are no instrument's: refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from operator import attrgetter

from respine_desktop.instruments import instrument_ids, load_instrument, shows_content
from respine_desktop.storage._records import Answer

__all__ = ["Content", "foreign_contents"]

Content = tuple[str, str, str]
"""(instrument id, version, checksum) as an answer stores them."""

_CONTENT = attrgetter("instrument_id", "instrument_version", "instrument_checksum")


def foreign_contents(rows: Sequence[Answer]) -> dict[Content, dict[str, int]]:
    """The contents of `rows` this program does not show, each with its sessions and how many
    of their rows (in the rows' order); empty for rows given on the shipped instruments."""
    foreign = {c for c in set(map(_CONTENT, rows)) if not _shown(c)}
    if not foreign:
        return {}
    out: dict[Content, dict[str, int]] = {}
    for r in rows:
        content = _CONTENT(r)
        if content in foreign:
            sessions = out.setdefault(content, {})
            sessions[r.session_id] = sessions.get(r.session_id, 0) + 1
    return out


@cache
def _shown(content: Content) -> bool:
    instrument_id, version, checksum = content
    if not all(isinstance(x, str) for x in content) or instrument_id not in instrument_ids():
        return True  # (not this check's: the row validation refuses it)
    return shows_content(load_instrument(instrument_id), version, checksum)
