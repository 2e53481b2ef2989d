"""Instruments as data: load `resources/instruments/<id>.json` (format 2) into typed objects."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from respine_desktop import json_text
from respine_desktop.errors import RespineError
from respine_desktop.paths import resource, shipped_digests

ItemType = Literal["vas", "choice"]
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
    """A questionnaire: metadata, items in order, and the checksums of its content.

    `content_checksum` is the SHA-256 of the canonical expansion of what a patient is shown
    (`canonical_content`); `checksum` is the value stored with every answer: the format-1 file
    checksum when this very content shipped in format 1 (`format1_checksums`), else the content
    checksum. See docs/instruments.md.
    """

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
    content_checksum: str
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


FORMAT = 2
SCHEMA_FILE = "instrument.schema.json"
FORMAT1_FILE = "format1-checksums.json"
# An instrument file is `<id>.json`; other names (the schema, the checksum table, a future
# per-language `<id>.<language>.json`) are not instruments.
_INSTRUMENT_FILE = re.compile(r"[a-z][a-z0-9_]*\.json")


def instrument_ids() -> tuple[str, ...]:
    """The shipped instruments, one per `resources/instruments/<id>.json`, sorted by id."""
    return _instrument_ids(resource("instruments"))


@cache
def _instrument_ids(directory: Path) -> tuple[str, ...]:
    names = (p.name for p in directory.iterdir() if p.is_file())
    return tuple(sorted(n.removesuffix(".json") for n in names if _INSTRUMENT_FILE.fullmatch(n)))


@cache
def schema() -> Mapping[str, Any]:
    """The JSON Schema of instrument files (`resources/instruments/instrument.schema.json`)."""
    loaded: dict[str, Any] = json_text.loads(resource("instruments", SCHEMA_FILE).read_bytes())
    return loaded


@cache
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]  # only for files not as released

    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema())
    return cls(schema())


# --- checksums ---------------------------------------------------------------------------------


def canonical_content(instrument: Instrument) -> dict[str, Any]:
    """What a patient is shown, independent of the file's layout: the expansion checksummed.

    Every field of the `Instrument` but `source` (provenance, never shown), the checksums and the
    path; items expanded (stem and choices written out on each). Choice items carry `choices`,
    VAS items `anchors`, `min`, `max` and `step` (floats). See docs/instruments.md.
    """
    items: list[dict[str, Any]] = []
    for i in instrument.items:
        item: dict[str, Any] = {
            "id": i.id,
            "type": i.type,
            "label": i.label,
            "text": dict(i.text),
            "stem": dict(i.stem),
            "optional": i.optional,
        }
        if i.type == "choice":
            item["choices"] = [{"code": c.code, "text": dict(c.text)} for c in i.choices]
        else:
            item["anchors"] = {lang: list(pair) for lang, pair in i.anchors.items()}
            item.update(min=i.minimum, max=i.maximum, step=i.step)
        items.append(item)
    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": dict(instrument.title),
        "short_title": dict(instrument.short_title),
        "licence": dict(instrument.licence),
        "credit": dict(instrument.credit),
        "instructions": dict(instrument.instructions),
        "items": items,
    }


def content_checksum(instrument: Instrument) -> str:
    """``sha256:`` + SHA-256 of the canonical content as compact JSON with sorted keys (UTF-8)."""
    canonical = json.dumps(
        canonical_content(instrument), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Format1Checksum:
    """An instrument content that shipped as a format-1 file: that file's checksum (stored with
    the answers given under it) and the content checksum of the same content."""

    instrument_id: str
    version: str
    format1: str
    content: str


@cache
def format1_checksums() -> Mapping[str, Format1Checksum]:
    """The shipped table `format1-checksums.json`, by format-1 checksum."""
    where = FORMAT1_FILE
    try:
        raw = json_text.loads(resource("instruments", FORMAT1_FILE).read_bytes())
        rows = [
            Format1Checksum(r["instrument"], r["version"], r["format1"], r["content"])
            for r in raw["checksums"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InstrumentError(f"{where}: unreadable ({exc})") from exc
    table = {row.format1: row for row in rows}
    if len(table) != len(rows):
        raise InstrumentError(f"{where}: a format-1 checksum is listed twice")
    return table


def stored_content_checksum(checksum: str) -> str:
    """The content checksum an answer's stored `checksum` stands for: a format-1 file checksum
    through the shipped table; any other stored value is a content checksum already."""
    row = format1_checksums().get(checksum)
    return row.content if row is not None else checksum


def shows_content(instrument: Instrument, version: str, checksum: str) -> bool:
    """Whether an answer stored with (`version`, `checksum`) was given on this very content."""
    if version != instrument.version:
        return False
    return stored_content_checksum(checksum) == instrument.content_checksum


def _stored_checksum(instrument_id: str, version: str, content: str) -> str:
    for row in format1_checksums().values():
        if (row.instrument_id, row.version, row.content) == (instrument_id, version, content):
            return row.format1
    return content


# --- format 2 ----------------------------------------------------------------------------------


def _where_in(raw: Any, path: Sequence[object]) -> str:
    """The schema error's place, named by item, group or list (not by array index)."""
    names: list[str] = []
    node = raw
    for n, key in enumerate(path):
        parent_key = path[n - 1] if n else None
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if parent_key == "items" and isinstance(node, dict):
            if isinstance(node.get("id"), str):
                names.append(f"item {node['id']}")
            elif isinstance(node.get("group"), str):
                names.append(f"group {node['group']}")
            else:
                names.append(f"items[{key}]")
        elif parent_key == "lists" and isinstance(key, str):
            names.append(f"list {key}{_users(raw, key)}")
        elif n == 2 and path[0] == "lists" and isinstance(key, int):
            code = node.get("code") if isinstance(node, dict) else None
            names.append(f"choice {code}" if code is not None else f"choice #{key + 1}")
        elif key not in ("items", "lists") and not isinstance(key, int):
            names.append(str(key))
    return ", ".join(names)


def _users(raw: Any, list_name: str) -> str:
    users = [str(r.get("id")) for r in _raw_items(raw) if r.get("list") == list_name]
    return f" (item {', '.join(users)})" if users else ""


def _raw_items(raw: Any) -> Iterable[dict[str, Any]]:
    for entry in raw.get("items", []) if isinstance(raw, dict) else []:
        if isinstance(entry, dict) and "group" in entry:
            yield from (i for i in entry.get("items", []) if isinstance(i, dict))
        elif isinstance(entry, dict):
            yield entry


def _schema_error(where: str, raw: Any) -> InstrumentError | None:
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(raw))
    if error is None:
        return None
    path = list(error.absolute_path)
    place = _where_in(raw, path)
    if error.validator == "pattern" and error.validator_value == r"\S":
        message = "text is empty"
    elif error.validator is None:  # a `false` subschema: a property of the other item type
        message = "choice items take 'list'; vas items 'anchors', 'min', 'max', 'step'"
    elif error.validator == "required" and not place:
        message = "missing " + error.message.removesuffix(" is a required property")
    else:
        message = error.message
    pointer = "/".join(str(p) for p in path) or "top level"
    named = f"{where}, {place}" if place else where
    return InstrumentError(f"{named}: {message} (at {pointer})")


def _texts(raw: Mapping[str, str]) -> dict[str, str]:
    return dict(raw)


def _choices(where: str, name: str, raw: list[dict[str, Any]], users: str) -> tuple[Choice, ...]:
    choices = []
    for c in raw:
        code = c["code"]
        if isinstance(code, bool) or not isinstance(code, int):  # the schema takes 1.0 as integer
            raise InstrumentError(
                f"{where}, list {name}{users}: choice code {code!r} is not an integer"
            )
        choices.append(Choice(code, _texts(c["text"])))
    codes = [c.code for c in choices]
    if len(set(codes)) != len(codes):
        raise InstrumentError(f"{where}, list {name}{users}: duplicate choice codes {codes}")
    return tuple(choices)


def _item(
    where: str,
    raw: dict[str, Any],
    stem: Mapping[str, str],
    lists: Mapping[str, tuple[Choice, ...]],
) -> Item:
    item_id: str = raw["id"]
    label = str(raw.get("label", item_id))
    text, optional = _texts(raw["text"]), bool(raw.get("optional", False))
    if raw["type"] == "choice":
        name = raw["list"]
        if name not in lists:
            known = ", ".join(lists) or "none"
            raise InstrumentError(
                f"{where}, item {item_id}: list {name!r} is not defined (lists: {known})"
            )
        return Item(item_id, "choice", label, text, dict(stem), optional, lists[name])
    anchors = {lang: (pair["low"], pair["high"]) for lang, pair in raw["anchors"].items()}
    lo, hi, step = float(raw.get("min", 0)), float(raw.get("max", 100)), float(raw["step"])
    if not lo < hi:
        raise InstrumentError(f"{where}, item {item_id}: needs min < max")
    return Item(item_id, "vas", label, text, dict(stem), optional, (), anchors, lo, hi, step)


def parse_instrument(path: Path, content: bytes, *, as_released: bool = False) -> Instrument:
    """Validate the JSON `content` of the instrument file at `path` and expand it.

    `as_released`: the content is byte for byte a shipped file as released (its SHA-256 in the
    resources' manifest), whose schema validity the test suite proved: the JSON Schema check
    (and the jsonschema import, a sixth of the kiosk's start-up) is skipped; every other check
    still runs.
    """
    where = path.name
    try:
        raw = json_text.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise InstrumentError(f"{where}: the top level must be an object")
    if raw.get("format") != FORMAT:
        found = raw.get("format", 1)
        raise InstrumentError(
            f"{where}: file format {found!r}; this version reads format {FORMAT} "
            "(docs/instruments.md)"
        )
    error = None if as_released else _schema_error(where, raw)
    if error is not None:
        raise error
    raw_lists: dict[str, Any] = raw.get("lists", {})
    lists = {
        name: _choices(where, name, choices, _users(raw, name))
        for name, choices in raw_lists.items()
    }
    items: list[Item] = []
    groups: list[str] = []
    for entry in raw["items"]:
        if "group" in entry:
            groups.append(entry["group"])
            items += (_item(where, i, entry["stem"], lists) for i in entry["items"])
        else:
            items.append(_item(where, entry, {}, lists))
    ids = [i.id for i in items] + groups
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InstrumentError(f"{where}: duplicate item ids {duplicates}")
    used = {r["list"] for r in _raw_items(raw) if "list" in r}
    unused = [name for name in lists if name not in used]
    if unused:
        raise InstrumentError(f"{where}: lists {unused} are used by no item")
    instrument = Instrument(
        id=raw["id"],
        version=raw["version"],
        title=_texts(raw["title"]),
        short_title=_texts(raw.get("short_title") or raw["title"]),
        source=raw["source"],
        licence=_texts(raw["licence"]),
        credit=_texts(raw["credit"]),
        instructions=_texts(raw["instructions"]),
        items=tuple(items),
        checksum="",
        content_checksum="",
        path=path,
    )
    content_sum = content_checksum(instrument)
    stored = _stored_checksum(instrument.id, instrument.version, content_sum)
    return replace(instrument, checksum=stored, content_checksum=content_sum)


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
    known = instrument_ids()
    if instrument_id not in known:
        raise ValueError(f"unknown instrument {instrument_id!r} (known: {', '.join(known)})")
    path = resource("instruments", f"{instrument_id}.json")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InstrumentError(f"{path.name}: cannot read ({exc.strerror})") from exc
    released = shipped_digests().get(f"instruments/{path.name}")
    as_released = hashlib.sha256(content).hexdigest() == released
    instrument = parse_instrument(path, content, as_released=as_released)
    if instrument.id != instrument_id:
        raise InstrumentError(f"{instrument_id}.json: declares id {instrument.id!r}")
    added = _ADDED_TEXTS.get(instrument_id)
    if not added:
        return instrument
    raw = json_text.loads(content)
    for lang, by_path in sorted(added.items()):
        _add_language(raw, "", lang, by_path)
    localized = parse_instrument(path, json.dumps(raw).encode("utf-8"), as_released=as_released)
    # The wording shown is the licensed translation of this very master: answers keep the
    # master's version and checksum, and record the language they were given in.
    return replace(
        localized, checksum=instrument.checksum, content_checksum=instrument.content_checksum
    )


# Installed translations' texts (`respine_desktop.translations.activate`): instrument id ->
# language -> text by its path in the master file (as `translations.master_texts` names them).
_ADDED_TEXTS: dict[str, dict[str, Mapping[str, str]]] = {}


def _add_language(node: Any, path: str, lang: str, by_path: Mapping[str, str]) -> None:
    """Put `lang`'s text beside every English text of the raw instrument file `node`."""
    if isinstance(node, dict):
        english = node.get("en")
        if isinstance(english, str):
            node[lang] = by_path[path]
            return
        if isinstance(english, dict) and all(isinstance(v, str) for v in english.values()):
            node[lang] = {key: by_path[f"{path}/{key}"] for key in english}
            return
        for key, value in node.items():
            _add_language(value, f"{path}/{key}" if path else key, lang, by_path)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            name = value.get("id") if isinstance(value, dict) else None
            _add_language(value, f"{path}/{name if isinstance(name, str) else n}", lang, by_path)


def add_instrument_texts(instrument_id: str, lang: str, by_path: Mapping[str, str]) -> None:
    """Show instrument `instrument_id` in the installed language `lang` too (checked texts)."""
    _ADDED_TEXTS.setdefault(instrument_id, {})[lang] = dict(by_path)
    load_instrument.cache_clear()


def shipped_texts(texts: Texts) -> dict[str, str]:
    """`texts` without the installed translations' languages: what every process shows, for
    exports that must not depend on which process writes them (ODM, CSV labels)."""
    added = {lang for by_lang in _ADDED_TEXTS.values() for lang in by_lang}
    return {lang: text for lang, text in texts.items() if lang not in added}


def forget_instrument_texts() -> None:
    """Drop every installed language's instrument texts."""
    _ADDED_TEXTS.clear()
    load_instrument.cache_clear()


def load_instruments() -> dict[str, Instrument]:
    """Every shipped instrument, by id, sorted by id (a study's order: its `instrument_order`)."""
    return {i: load_instrument(i) for i in instrument_ids()}
