"""Translations a site installs: the UI texts and the instruments' wording in another language.

The application ships English and French only, and no translation it does not hold a licence
for (docs/translations.md): a site that has licensed a translation of an instrument (ODI via
Mapi Research Trust, SF-36 from its owners) installs it with ``import translation FILE``. The
file is checked against the masters shipped here before anything is stored:

* ``format`` is `FORMAT`; ``language`` a lower-case ISO 639 code (2-3 letters, or with a region
  such as ``pt-br``) that is not a shipped language; ``name`` the language's own name;
* ``ui``: every text a patient's screens show (`i18n.patient_texts`: the keys of the English
  UI texts, ``resources/i18n/en.json``, under ``kiosk.``, and the Back and Next buttons), each
  non-empty with exactly the English text's ``{placeholders}``. Staff pages and the console are
  shown in a shipped language only: their texts may be there (kept when they match this
  release's, else left out, like any text this release does not have), so a release that
  adds, removes or changes a staff or console text changes nothing for a translation
  (`_check_ui`); one that adds a patient text or changes its placeholders sets it aside, saying
  which
  (``export translation-template`` writes the file to fill in: `template`);
* ``instruments``: for each instrument translated (by its id), the ``version`` and
  ``checksum`` of the shipped master it translates, and ``texts``: every text of the master
  (`master_texts`: the path of each English string in the instrument file, e.g.
  ``items/odi_01/choices/0/text``), no other, each non-empty with the master's placeholders.

A translation is offered for a visit only when it covers every instrument of the visit
(`complete_for`). Errors are `TranslationError` (one line, naming the file and the problem).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respine_desktop import files, i18n, json_text
from respine_desktop.errors import RespineError
from respine_desktop.i18n import (
    UI_LANGUAGES,
    error_text,
    patient_texts,
    t,
    texts,
)
from respine_desktop.instruments import (
    add_instrument_texts,
    forget_instrument_texts,
    instrument_ids,
    load_instrument,
)

FORMAT = "respine-translation/1"
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?\Z")
MAX_BYTES = 4_000_000
MAX_NAME = 40


class TranslationError(RespineError):
    """A translation file that cannot be installed (nothing was stored)."""


@dataclass(frozen=True)
class InstrumentTranslation:
    """One instrument's wording in the translation's language, for one master version."""

    instrument_id: str
    version: str
    checksum: str
    texts: Mapping[str, str]


@dataclass(frozen=True)
class Translation:
    """A checked translation: its language, UI texts and instruments."""

    language: str
    name: str
    ui: Mapping[str, str]
    instruments: Mapping[str, InstrumentTranslation]
    # staff or console texts of the file left out (another release's: never shown, not kept)
    left_out: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The translation as the file format gives it (what storage keeps)."""
        return json.dumps(
            {
                "format": FORMAT,
                "language": self.language,
                "name": self.name,
                "ui": dict(self.ui),
                "instruments": {
                    i: {"version": x.version, "checksum": x.checksum, "texts": dict(x.texts)}
                    for i, x in self.instruments.items()
                },
            },
            ensure_ascii=False,
            sort_keys=True,
        )


def _english_strings(node: Any, path: str, out: dict[str, str]) -> None:
    """The English strings of an instrument file: each ``{"en": ...}`` text by its path."""
    if isinstance(node, dict):
        english = node.get("en")
        if isinstance(english, str):
            out[path] = english
            return
        if isinstance(english, dict) and all(isinstance(v, str) for v in english.values()):
            for key, value in english.items():
                out[f"{path}/{key}"] = value
            return
        for key, value in node.items():
            _english_strings(value, f"{path}/{key}" if path else key, out)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            name = value.get("id") if isinstance(value, dict) else None
            _english_strings(value, f"{path}/{name if isinstance(name, str) else n}", out)


def master_texts(instrument_id: str) -> dict[str, str]:
    """Every English text of the shipped instrument, by its path in the file."""
    instrument = load_instrument(instrument_id)
    raw = json_text.loads(instrument.path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    _english_strings(raw, "", out)
    return out


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def _check_texts(where: str, given: object, master: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(given, dict):
        raise TranslationError(f"{where}: expected an object of key -> text")
    missing = sorted(set(master) - set(given))
    extra = sorted(set(given) - set(master))
    if missing:
        more = f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""
        raise TranslationError(f"{where}: text {missing[0]!r} is missing{more}").keyed(
            "translation_missing", text=missing[0]
        )
    if extra:
        raise TranslationError(f"{where}: {extra[0]!r} is not a text of the master")
    for key, text in given.items():
        if not isinstance(text, str) or not text.strip():
            raise TranslationError(f"{where}: text {key!r} is empty")
        if _fields(text) != _fields(master[key]):
            wanted = ", ".join(sorted(f"{{{f}}}" for f in _fields(master[key])))
            error = TranslationError(
                f"{where}: text {key!r} must keep the placeholders {wanted or 'none'}"
            )
            if wanted:
                raise error.keyed("translation_placeholders", text=key, wanted=wanted)
            raise error.keyed("translation_no_placeholders", text=key)
    return dict(given)


def _instrument(where: str, instrument_id: object, raw: object) -> InstrumentTranslation:
    if not isinstance(instrument_id, str) or instrument_id not in instrument_ids():
        raise TranslationError(f"{where}: {instrument_id!r} is not an instrument of this study")
    here = f"{where} {instrument_id}"
    if not isinstance(raw, dict) or set(raw) != {"version", "checksum", "texts"}:
        raise TranslationError(f"{here}: expected exactly version, checksum and texts")
    master = load_instrument(instrument_id)
    if (raw["version"], raw["checksum"]) != (master.version, master.checksum):
        title = master.short_title.get("en") or instrument_id
        raise TranslationError(
            f"{here}: translates version {raw['version']!r} ({raw['checksum']!r}), not the "
            f"shipped {master.version} ({master.checksum})"
        ).keyed(
            "translation_version",
            instrument=title,
            version=str(raw["version"]),
            shipped=master.version,
        )
    found = _check_texts(f"{here} texts", raw["texts"], master_texts(instrument_id))
    return InstrumentTranslation(instrument_id, master.version, master.checksum, found)


# Characters a one-line button text may not hold: control characters (line breaks, tabs ...)
# and the bidirectional embeddings, overrides and isolates, which would reorder what follows
# them. The marks a right-to-left name may need (LRM, RLM, ALM) and joiners are allowed.
_NOT_ON_A_BUTTON = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _check_name(where: str, name: str) -> None:
    """`TranslationError` unless `name` may be a language button's one line: at most `MAX_NAME`
    characters, none of `_NOT_ON_A_BUTTON`."""
    if len(name) > MAX_NAME:
        raise TranslationError(
            f"{where}: the language's name is longer than {MAX_NAME} characters (it is the "
            "patient's language button)"
        )
    found = _NOT_ON_A_BUTTON.search(name)
    if found is not None:
        raise TranslationError(
            f"{where}: the language's name holds U+{ord(found.group()):04X}, a line break, "
            "control or text-direction character (it is the patient's language button)"
        )


def _check_ui(where: str, given: object) -> tuple[dict[str, str], list[str]]:
    """The UI texts of a translation, and the keys left out: every patient text
    (`i18n.patient_texts`) checked and required; any other text kept when it is one of this
    release's English texts and passes the same checks, else left out (staff and console texts
    are never shown in an installed language, and a text this release does not have is shown
    nowhere: a file made for another release, with texts since added, removed or changed,
    installs and stays usable all the same, as long as it has this release's patient texts). A
    typo in a patient text's key is refused all the same: the text it meant is missing."""
    if not isinstance(given, dict):
        raise TranslationError(f"{where}: expected an object of key -> text")
    master = texts("en")
    patient = patient_texts()
    found = _check_texts(where, {k: v for k, v in given.items() if k in patient}, patient)
    left_out: list[str] = []
    for key, text in given.items():
        if key in patient:
            continue
        if key not in master:
            left_out.append(key)
            continue
        try:
            found.update(_check_texts(where, {key: text}, {key: master[key]}))
        except TranslationError:
            left_out.append(key)
    return found, sorted(left_out)


def parse_translation(
    raw: object, where: str = "translation", *, stored: bool = False
) -> Translation:
    """Check a translation (the parsed JSON of a file) against the masters; `stored`: one
    installed by an earlier build, checked again (see `_check_ui`)."""
    if not isinstance(raw, dict):
        raise TranslationError(f"{where}: expected a JSON object")
    if raw.get("format") != FORMAT:
        raise TranslationError(f"{where}: format must be {FORMAT!r}, not {raw.get('format')!r}")
    unknown = sorted(set(raw) - {"format", "language", "name", "ui", "instruments"})
    if unknown:
        raise TranslationError(f"{where}: unknown field {unknown[0]!r}")
    language = raw.get("language")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        raise TranslationError(f"{where}: language {language!r} is not an ISO 639 code")
    if language in UI_LANGUAGES:
        raise TranslationError(f"{where}: {language} ships with the application")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TranslationError(f"{where}: the language's name is missing")
    if not stored:  # (one installed by an earlier build keeps the name it was installed with)
        _check_name(where, name.strip())
    ui, left_out = _check_ui(f"{where} ui", raw.get("ui"))
    instruments = raw.get("instruments")
    if not isinstance(instruments, dict) or not instruments:
        raise TranslationError(f"{where}: instruments must name at least one instrument")
    found = {i: _instrument(f"{where} instruments", i, x) for i, x in instruments.items()}
    return Translation(language, name.strip(), ui, found, tuple(left_out))


def template() -> dict[str, Any]:
    """A translation file to fill in (``export translation-template``): the English texts a
    translation needs, each to be replaced by its translation, with an empty ``language`` and
    ``name`` to set (the file is refused until they are). Every instrument is listed with the
    version and checksum of its shipped master; a site leaves out those it holds no licensed
    translation of."""
    return {
        "format": FORMAT,
        "language": "",
        "name": "",
        "ui": patient_texts(),
        "instruments": {
            i: {
                "version": load_instrument(i).version,
                "checksum": load_instrument(i).checksum,
                "texts": master_texts(i),
            }
            for i in instrument_ids()
        },
    }


def write_template(path: Path) -> None:
    """Write `template` to the new file `path` (UTF-8 JSON); `RespineError` in one line if it
    cannot be (a folder, a device, a missing folder, or a file there already: a translation
    in progress is never overwritten; nothing written)."""
    files.check_writable(path, "translation template")
    if path.is_symlink() or path.exists():
        raise TranslationError(f"{path}: exists already; write the template to a new file")
    files.write_json(path, template(), "translation template", ascii_only=False)


def read_translation(path: Path) -> Translation:
    """Read and check a translation file (TranslationError: one line, nothing read further)."""
    files.check_input(path, "translation file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TranslationError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        raise TranslationError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        raw = json_text.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TranslationError(f"{path}: not UTF-8 JSON ({exc})") from None
    return parse_translation(raw, path.name)


def complete_for(translation: Translation, instrument_ids: Iterable[str]) -> bool:
    """Whether `translation` covers every one of `instrument_ids` (a visit's instruments)."""
    return all(i in translation.instruments for i in instrument_ids)


def activate(translation: Translation) -> None:
    """Make a checked translation available to this process: its UI texts (with its own name
    as ``common.language.<language>``) and its instruments' wording."""
    ui = dict(translation.ui)
    ui[f"common.language.{translation.language}"] = translation.name
    i18n.install_texts(translation.language, ui)
    for instrument in translation.instruments.values():
        add_instrument_texts(instrument.instrument_id, translation.language, instrument.texts)


def deactivate_all() -> None:
    """Forget every activated translation (another database is opened; tests)."""
    i18n.forget_installed()
    forget_instrument_texts()


@dataclass(frozen=True)
class Installed:
    """What `activate_installed` found: the translations activated and, by language, why an
    installed one could not be (e.g. it translates an older master: `TranslationError`, keyed
    when staff can read it in their language)."""

    translations: tuple[Translation, ...]
    unusable: Mapping[str, TranslationError]


def activate_installed(stored: Mapping[str, str]) -> Installed:
    """Check again and activate every installed translation (`storage.installed_translations`).

    Each is re-checked against the masters shipped with this build, so a translation of an
    older master is not shown after an upgrade; it is listed in `unusable` instead.
    """
    deactivate_all()
    found: list[Translation] = []
    unusable: dict[str, TranslationError] = {}
    for language, text in sorted(stored.items()):
        if language in UI_LANGUAGES:
            continue  # shipped by this release: offered as the program's own
        try:
            translation = parse_translation(
                json_text.loads(text), f"installed {language}", stored=True
            )
        except TranslationError as exc:
            unusable[language] = exc
            continue
        except ValueError as exc:
            unusable[language] = TranslationError(f"installed {language}: not JSON ({exc})")
            continue
        activate(translation)
        found.append(translation)
    return Installed(tuple(found), unusable)


def not_offered(installed: Installed, instrument_ids: Iterable[str], lang: str) -> list[str]:
    """Why each installed language is not offered for a visit, one line each in `lang` (the
    staff language), e.g. "xx: SF-36 missing"; empty when every one is offered."""
    ids = tuple(instrument_ids)
    lines: list[str] = []
    for translation in installed.translations:
        missing = [i for i in ids if i not in translation.instruments]
        if missing:
            titles = [load_instrument(i).short_title for i in missing]
            names = ", ".join(x.get(lang) or x.get("en") or "" for x in titles)
            lines.append(
                t(lang, "staff.translation.missing", language=translation.language, names=names)
            )
    for language, error in sorted(installed.unusable.items()):
        reason = error_text(lang, error)
        lines.append(t(lang, "staff.translation.unusable", language=language, reason=reason))
    return lines
