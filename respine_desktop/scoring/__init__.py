"""Pure scoring functions: answers to scores (VAS, ODI, SF-36) and RESPINE endpoints.

``answers`` maps item id -> code (a missing key or None = unanswered). Scores are unrounded
doubles; bad input raises ValueError naming the item and the value. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial

from respine_desktop.scoring import odi, sf36, vas

# Stored with every computed score: bump it whenever a rule or a constant changes a value.
SCORING_VERSION = "respine-scoring 1.0"

Scores = dict[str, float | None]
Answers = Mapping[str, object]
Scorer = Callable[[Answers], Scores]

METHODS: Mapping[str, tuple[str, ...]] = {"vas": (), "odi": (), "sf36": ("standard", "rand")}


def scorer(
    instrument_id: str, method: str | None = None, *, min_sections: int = odi.MIN_SECTIONS
) -> Scorer:
    """The scoring function for one instrument and method, resolved once (for loops)."""
    if instrument_id == "sf36":
        if method is None or method == "standard":
            return sf36.score_standard
        if method == "rand":
            return sf36.score_rand
        raise ValueError(f"sf36: unknown scoring method {method!r} (known: standard, rand)")
    if instrument_id not in METHODS:
        raise ValueError(f"unknown instrument {instrument_id!r} (known: {', '.join(METHODS)})")
    if method is not None:
        raise ValueError(f"{instrument_id}: has no scoring method {method!r} (only sf36 has)")
    if instrument_id == "odi":
        odi.check_min_sections(min_sections)  # now, not at the first row
        return partial(odi.score_odi, min_sections=min_sections)
    return vas.score_vas


def score(
    instrument_id: str,
    answers: Answers,
    method: str | None = None,
    *,
    min_sections: int = odi.MIN_SECTIONS,
) -> Scores:
    """Score one questionnaire.

    - ``"vas"`` -> ``{"VAS"}``
    - ``"odi"`` -> ``{"ODI", "answered"}``; ODI is None below ``min_sections`` answered sections
    - ``"sf36"`` -> ``{"PF", "RP", "RE", "VT", "MH", "SF", "BP", "GH", "PCS", "MCS"}`` (SF-36 v1
      standard scoring, US 1990 norms); with ``method="rand"`` -> the 8 scales and ``"HT"``
      (RAND 36-Item Health Survey 1.0)
    """
    # The usual cases directly (this runs once per form); `scorer` for the rest and the errors.
    if instrument_id == "sf36" and method is None:
        return sf36.score_standard(answers)
    if instrument_id == "odi" and method is None:
        return odi.score_odi(answers, min_sections)
    if instrument_id == "vas" and method is None:
        return vas.score_vas(answers)
    return scorer(instrument_id, method, min_sections=min_sections)(answers)


def score_methods(
    instrument_id: str, answers: Answers, *, min_sections: int = odi.MIN_SECTIONS
) -> dict[str, Scores]:
    """Scores by every method, as stored: ``{"standard": …, "rand": …}`` for the SF-36 (both
    from one pass over the answers), ``{"default": …}`` for the VAS and the ODI."""
    if instrument_id == "sf36":
        standard, rand = sf36.score_both(answers)
        return {"standard": standard, "rand": rand}
    return {"default": score(instrument_id, answers, min_sections=min_sections)}


def score_many(
    instrument_id: str,
    rows: Iterable[Answers],
    method: str | None = None,
    *,
    min_sections: int = odi.MIN_SECTIONS,
) -> Iterator[Scores]:
    """Score many questionnaires of one instrument lazily, in order (same rules as `score`)."""
    return map(scorer(instrument_id, method, min_sections=min_sections), rows)


def score_keys(instrument_id: str, method: str | None = None) -> tuple[str, ...]:
    """The keys `score` returns for this instrument and method, in order."""
    scorer(instrument_id, method)  # same errors as `score`
    if instrument_id == "sf36":
        return sf36.RAND_KEYS if method == "rand" else sf36.STANDARD_KEYS
    return odi.KEYS if instrument_id == "odi" else vas.KEYS


def label(instrument_id: str, method: str | None = None) -> str:
    """How scores of this instrument and method are named in reports and exports."""
    scorer(instrument_id, method)
    if instrument_id == "sf36":
        return sf36.RAND_LABEL if method == "rand" else sf36.STANDARD_LABEL
    return odi.LABEL if instrument_id == "odi" else vas.LABEL
