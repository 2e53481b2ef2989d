"""Instruments as data: load and validate `resources/instruments/*.json` into typed objects."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from respine_desktop.errors import RespineError
from respine_desktop.paths import resource

ItemType = Literal["vas", "choice"]
ITEM_TYPES: tuple[str, ...] = ("vas", "choice")
Texts = Mapping[str, str]


class InstrumentError(RespineError, ValueError):
    """An instrument file is malformed; the message names the file and the item."""


@dataclass(frozen=True)
class Choice:
    """One option of a single-choice item: the stored code and its text per language."""

    code: int
    text: Texts


@dataclass(frozen=True)
class Item:
    """One question. `choice` items have `choices`; `vas` items have `anchors` and a range."""

    id: str
    type: ItemType
    label: str
    text: Texts
    stem: Texts = field(default_factory=dict)
    optional: bool = False
    choices: tuple[Choice, ...] = ()
    anchors: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    minimum: float = 0.0
    maximum: float = 100.0
    step: float = 1.0

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.choices)

    def choice(self, code: int) -> Choice:
        for c in self.choices:
            if c.code == code:
                return c
        raise ValueError(f"{self.id}: no option with code {code!r}")

    def validate(self, value: object) -> int | float:
        """Return `value` as stored if it is a valid answer, else raise ValueError naming both."""
        if self.type == "choice":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.id}: answer {value!r} is not an integer code")
            if value not in self.codes:
                raise ValueError(
                    f"{self.id}: answer {value!r} is not one of the codes {self.codes}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.id}: answer {value!r} is not a number")
        number = float(value)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            raise ValueError(
                f"{self.id}: answer {value!r} is outside {self.minimum:g}..{self.maximum:g}"
            )
        # A value finer than the instrument's precision (0.1 mm for the VAS) is refused, not
        # rounded: nothing is silently changed. Binary float noise (70.000000000001) is not a
        # finer value and is snapped to the grid.
        steps = number / self.step
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"{self.id}: answer {value!r} is finer than the step {self.step:g}")
        decimals = max(0, -math.floor(math.log10(self.step)))
        return round(round(steps) * self.step, decimals)

    def languages(self) -> frozenset[str]:
        """Languages in which every text of this item exists."""
        langs = set(self.text)
        if self.stem:
            langs &= set(self.stem)
        for c in self.choices:
            langs &= set(c.text)
        if self.type == "vas":
            langs &= set(self.anchors)
        return frozenset(langs)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: metadata, items in order, and the checksum of its file's content."""

    id: str
    version: str
    title: Texts
    short_title: Texts
    source: str
    licence: Texts
    credit: Texts
    instructions: Texts
    items: tuple[Item, ...]
    checksum: str
    path: Path

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(f"{self.id}: unknown item {item_id!r}")

    def languages(self) -> frozenset[str]:
        """Languages in which every text of the instrument exists (no silent fallback)."""
        langs = set(self.title) & set(self.instructions)
        for i in self.items:
            langs &= i.languages()
        return frozenset(langs)


INSTRUMENT_IDS: tuple[str, ...] = ("vas", "odi", "sf36")


def _texts(where: str, raw: object, *, required: bool = True) -> dict[str, str]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise InstrumentError(f"{where}: expected a non-empty {{language: text}} object")
    for lang, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            raise InstrumentError(f"{where}: text for language {lang!r} is empty or not a string")
    return dict(raw)


def _item(where: str, raw: dict[str, Any]) -> Item:
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise InstrumentError(f"{where}: item without an id")
    where = f"{where}, item {item_id}"
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        raise InstrumentError(f"{where}: type {kind!r} is not one of {ITEM_TYPES}")
    text = _texts(f"{where} text", raw.get("text"))
    stem = _texts(f"{where} stem", raw.get("stem"), required=False)
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise InstrumentError(f"{where}: 'optional' must be true or false")
    label = str(raw.get("label", item_id))
    if kind == "choice":
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            raise InstrumentError(f"{where}: a choice item needs at least two choices")
        choices = []
        for c in raw_choices:
            code = c.get("code") if isinstance(c, dict) else None
            if isinstance(code, bool) or not isinstance(code, int):
                raise InstrumentError(f"{where}: choice code {code!r} is not an integer")
            choices.append(Choice(code, _texts(f"{where} choice {code}", c.get("text"))))
        codes = [c.code for c in choices]
        if len(set(codes)) != len(codes):
            raise InstrumentError(f"{where}: duplicate choice codes {codes}")
        return Item(item_id, "choice", label, text, stem, optional, tuple(choices))
    raw_anchors = raw.get("anchors")
    if not isinstance(raw_anchors, dict) or not raw_anchors:
        raise InstrumentError(f"{where}: a vas item needs anchors per language")
    anchors: dict[str, tuple[str, str]] = {}
    for lang, pair in raw_anchors.items():
        if not isinstance(pair, dict) or not pair.get("low") or not pair.get("high"):
            raise InstrumentError(f"{where}: anchors for {lang!r} need 'low' and 'high'")
        anchors[lang] = (str(pair["low"]), str(pair["high"]))
    try:
        lo, hi, step = float(raw.get("min", 0)), float(raw.get("max", 100)), float(raw["step"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InstrumentError(f"{where}: min, max and step must be numbers") from exc
    if not lo < hi or step <= 0:
        raise InstrumentError(f"{where}: needs min < max and step > 0")
    return Item(item_id, "vas", label, text, stem, optional, (), anchors, lo, hi, step)


def parse_instrument(path: Path, content: bytes) -> Instrument:
    """Validate the JSON `content` of the instrument file at `path`."""
    where = path.name
    try:
        raw = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise InstrumentError(f"{where}: the top level must be an object")
    for key in ("id", "version", "source"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InstrumentError(f"{where}: missing {key!r}")
    raw_items = raw.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise InstrumentError(f"{where}: no items")
    items = tuple(_item(where, r if isinstance(r, dict) else {}) for r in raw_items)
    ids = [i.id for i in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InstrumentError(f"{where}: duplicate item ids {duplicates}")
    return Instrument(
        id=raw["id"],
        version=raw["version"],
        title=_texts(f"{where} title", raw.get("title")),
        short_title=_texts(f"{where} short_title", raw.get("short_title") or raw.get("title")),
        source=raw["source"],
        licence=_texts(f"{where} licence", raw.get("licence")),
        credit=_texts(f"{where} credit", raw.get("credit")),
        instructions=_texts(f"{where} instructions", raw.get("instructions")),
        items=items,
        checksum="sha256:" + hashlib.sha256(content).hexdigest(),
        path=path,
    )


def load_instrument_file(path: Path) -> Instrument:
    """Load and validate one instrument file."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InstrumentError(f"{path.name}: cannot read ({exc.strerror})") from exc
    return parse_instrument(path, content)


@cache
def load_instrument(instrument_id: str) -> Instrument:
    """The shipped instrument `instrument_id` (cached: files are read once per process)."""
    if instrument_id not in INSTRUMENT_IDS:
        raise ValueError(
            f"unknown instrument {instrument_id!r} (known: {', '.join(INSTRUMENT_IDS)})"
        )
    instrument = load_instrument_file(resource("instruments", f"{instrument_id}.json"))
    if instrument.id != instrument_id:
        raise InstrumentError(f"{instrument_id}.json: declares id {instrument.id!r}")
    return instrument


def load_instruments() -> dict[str, Instrument]:
    """Every shipped instrument, by id, in the study's order (VAS, ODI, SF-36)."""
    return {i: load_instrument(i) for i in INSTRUMENT_IDS}
