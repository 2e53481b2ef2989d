"""Answer checking shared by the scorers: the slow path behind their precomputed lookup tables."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from respine_desktop.instruments import Item, load_instrument


@cache
def items(instrument_id: str) -> Mapping[str, Item]:
    """The instrument's items by id (built once per process)."""
    return {item.id: item for item in load_instrument(instrument_id).items}


@cache
def code_tables(instrument_id: str) -> Mapping[str, frozenset[int]]:
    """The valid codes of every choice item of the instrument, by item id."""
    return {i.id: frozenset(i.codes) for i in items(instrument_id).values() if i.type == "choice"}


def bad_answer(instrument_id: str, key: object, value: object) -> ValueError:
    """The error for an answer a fast path refused, naming the item and the value."""
    item = items(instrument_id).get(key) if isinstance(key, str) else None
    if item is None:
        return ValueError(f"{instrument_id}: unknown item {key!r} (answer {value!r})")
    try:
        item.validate(value)
    except ValueError as exc:
        return exc
    return ValueError(f"{item.id}: answer {value!r} is not a valid answer")  # pragma: no cover


def plain_code(instrument_id: str, key: object, value: object) -> int:
    """`value` as a plain int when the item accepts it (an int subclass), else raise ValueError.

    The scorers' fast path only takes exact `int`s; anything else comes here, so that a bool or a
    float (``True == 1``, ``1.0 == 1`` as dict keys) is refused instead of being scored as a code.
    """
    item = items(instrument_id).get(key) if isinstance(key, str) else None
    if item is None or item.type != "choice":
        raise bad_answer(instrument_id, key, value)
    return int(item.validate(value))
