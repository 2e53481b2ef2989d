"""The scoring registry: (instrument, method) -> scorer, filled by each instrument's module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from respine_desktop.instruments import instrument_ids

Scores = dict[str, float | None]
Answers = Mapping[str, object]
Scorer = Callable[[Answers], Scores]

# The stored method name of an instrument scored one way only (VAS, ODI): callers pass no method.
DEFAULT = "default"


@dataclass(frozen=True)
class Method:
    """One way of scoring one instrument: its scorer, the keys it returns and its report label.

    `bind` makes the scorer for a minimum of answered sections (the ODI's option); a method
    without it ignores the option.
    """

    instrument_id: str
    name: str
    score: Scorer
    keys: tuple[str, ...]
    label: str
    bind: Callable[[int], Scorer] | None = None

    def scorer(self, min_sections: int) -> Scorer:
        return self.score if self.bind is None else self.bind(min_sections)


@dataclass
class _Instrument:
    methods: dict[str, Method] = field(default_factory=dict)
    default: str = ""
    every: Callable[[Answers], dict[str, Scores]] | None = None


_REGISTRY: dict[str, _Instrument] = {}


def register(
    instrument_id: str,
    name: str,
    score: Scorer,
    *,
    keys: tuple[str, ...],
    label: str,
    bind: Callable[[int], Scorer] | None = None,
    default: bool = False,
) -> Method:
    """Add a method; the instrument's first one (or the one marked `default`) is used when a
    caller names none. Registering a pair twice is an error."""
    entry = _REGISTRY.setdefault(instrument_id, _Instrument())
    if name in entry.methods:
        raise ValueError(f"{instrument_id}: scoring method {name!r} is registered twice")
    method = Method(instrument_id, name, score, keys, label, bind)
    entry.methods[name] = method
    if default or not entry.default:
        entry.default = name
    return method


def register_every(instrument_id: str, every: Callable[[Answers], dict[str, Scores]]) -> None:
    """Score by every registered method in one pass (as `score_methods` returns them)."""
    _entry(instrument_id).every = every


def _entry(instrument_id: str) -> _Instrument:
    entry = _REGISTRY.get(instrument_id)
    if entry is not None:
        return entry
    known = instrument_ids()
    if instrument_id in known:
        raise ValueError(f"{instrument_id}: no scoring is registered for this instrument")
    raise ValueError(f"unknown instrument {instrument_id!r} (known: {', '.join(known)})")


def method_names(instrument_id: str) -> tuple[str, ...]:
    """The methods a caller may name (none for an instrument scored one way only)."""
    return tuple(name for name in _entry(instrument_id).methods if name != DEFAULT)


def method(instrument_id: str, name: str | None = None) -> Method:
    """The method `name` of the instrument (its default when None); a clear ValueError else."""
    entry = _entry(instrument_id)
    if name is None:
        return entry.methods[entry.default]
    found = entry.methods.get(name) if name != DEFAULT else None
    if found is not None:
        return found
    names = method_names(instrument_id)
    if not names:
        raise ValueError(
            f"{instrument_id}: has no scoring method {name!r} (scored one way: name no method)"
        )
    known = ", ".join(names)
    raise ValueError(f"{instrument_id}: unknown scoring method {name!r} (known: {known})")


def methods(instrument_id: str) -> tuple[Method, ...]:
    """Every method of the instrument, in registration order."""
    return tuple(_entry(instrument_id).methods.values())


def every_method(instrument_id: str, answers: Answers, min_sections: int) -> dict[str, Scores]:
    """Scores by every method, by stored method name (one pass where the module offers it)."""
    entry = _entry(instrument_id)
    if entry.every is not None:
        return entry.every(answers)
    return {m.name: m.scorer(min_sections)(answers) for m in entry.methods.values()}


def registered() -> tuple[str, ...]:
    """The instruments with a registered scoring, sorted."""
    return tuple(sorted(_REGISTRY))
