"""Pure scoring functions: answers to scores (VAS, ODI, SF-36) and RESPINE endpoints.

``answers`` maps item id -> code (a missing key or None = unanswered). Scores are unrounded
doubles; bad input raises ValueError naming the item and the value. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# Each instrument's module registers its methods in `registry` when imported.
from respine_desktop.scoring import odi, registry, sf36, vas  # noqa: F401
from respine_desktop.scoring.registry import Answers as Answers
from respine_desktop.scoring.registry import Scorer as Scorer
from respine_desktop.scoring.registry import Scores as Scores

# Stored with every computed score: bump it whenever a rule or a constant changes a value.
SCORING_VERSION = "respine-scoring 1.0"


def scorer(
    instrument_id: str, method: str | None = None, *, min_sections: int = odi.MIN_SECTIONS
) -> Scorer:
    """The scoring function for one instrument and method, resolved once (for loops)."""
    return registry.method(instrument_id, method).scorer(min_sections)


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

    The scorer comes from the registry (`registry.register`, called by each instrument's module);
    an unknown instrument or method is a ValueError naming the known ones.
    """
    return registry.method(instrument_id, method).scorer(min_sections)(answers)


def score_methods(
    instrument_id: str, answers: Answers, *, min_sections: int = odi.MIN_SECTIONS
) -> dict[str, Scores]:
    """Scores by every method, as stored: ``{"standard": …, "rand": …}`` for the SF-36 (both
    from one pass over the answers), ``{"default": …}`` for the VAS and the ODI."""
    return registry.every_method(instrument_id, answers, min_sections)


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
    return registry.method(instrument_id, method).keys


def label(instrument_id: str, method: str | None = None) -> str:
    """How scores of this instrument and method are named in reports and exports."""
    return registry.method(instrument_id, method).label
