"""Pain VAS: the value of the mark, 0–100 mm, as the instrument stores it (0.1 mm precision)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from respine_desktop.scoring import registry
from respine_desktop.scoring._answers import bad_answer, items

KEYS: tuple[str, ...] = ("VAS",)
LABEL = "Pain VAS, 0–100 mm (0 = no pain)"
ITEM = "vas_pain"


@lru_cache(maxsize=4096)  # a study has at most 1001 distinct stored values (0.0 … 100.0)
def _stored(answer: float) -> float:
    return float(items("vas")[ITEM].validate(answer))


def score_vas(answers: Mapping[str, object]) -> dict[str, float | None]:
    """``{"VAS": mm}``; None when the item is unanswered. Bad input raises ValueError."""
    value: float | None = None
    for key, answer in answers.items():
        if key != ITEM:
            raise bad_answer("vas", key, answer)
        if answer is None:
            continue
        if type(answer) is float or type(answer) is int:  # not bool: it would share 0/1's entry
            value = _stored(answer)
        else:
            value = float(items("vas")[ITEM].validate(answer))
    return {"VAS": value}


registry.register("vas", registry.DEFAULT, score_vas, keys=KEYS, label=LABEL)
