"""UI texts per language from `resources/i18n/<lang>.json`, with no silent fallback."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from respine_desktop import json_text
from respine_desktop.errors import RespineError
from respine_desktop.paths import resource

UI_LANGUAGES: tuple[str, ...] = ("en", "fr")
# Languages a site installed (`respine_desktop.translations.activate`): their checked UI texts.
_INSTALLED: dict[str, Mapping[str, str]] = {}


class TextError(KeyError):
    """A UI text is missing in a language."""


# The texts a patient's screens show, in the patient's language (`patient_texts`): the kiosk's
# patient pages (``kiosk.``) and the two shared buttons they have. Every other text (staff pages,
# the console, staff's refusals, the shared texts of staff pages) is shown in a shipped language
# only, and each language's name in that language (an installed one's: its translation's name).
PATIENT_PREFIX = "kiosk."
PATIENT_SHARED: frozenset[str] = frozenset({"common.back", "common.next"})


def is_patient_text(key: str) -> bool:
    """Whether the UI text `key` may be shown in a patient's language (see `PATIENT_PREFIX`)."""
    return key.startswith(PATIENT_PREFIX) or key in PATIENT_SHARED


def patient_texts() -> dict[str, str]:
    """The English texts a patient's screens show, by key: what an installed language must have."""
    return {k: v for k, v in texts("en").items() if is_patient_text(k)}


def install_texts(lang: str, values: Mapping[str, str]) -> None:
    """Make the checked UI texts of the installed language `lang` available to `t`."""
    if lang in UI_LANGUAGES:
        raise ValueError(f"{lang} ships with the application")
    _INSTALLED[lang] = dict(values)


def installed_languages() -> tuple[str, ...]:
    """The installed (not shipped) languages whose UI texts are available, sorted."""
    return tuple(sorted(_INSTALLED))


def texts(lang: str) -> Mapping[str, str]:
    """Every UI text of `lang`, by key (a shipped language or an installed one)."""
    if lang in _INSTALLED:
        return _INSTALLED[lang]
    return _shipped(lang)


@cache
def _shipped(lang: str) -> Mapping[str, str]:
    """Every UI text of the shipped language `lang`, by key."""
    if lang not in UI_LANGUAGES:
        raise ValueError(f"unknown UI language {lang!r} (known: {', '.join(UI_LANGUAGES)})")
    path = resource("i18n", f"{lang}.json")
    raw = json_text.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"{path.name}: expected an object of key -> text")
    return raw


def t(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang`, with ``{name}`` placeholders filled from `values`."""
    try:
        text = texts(lang)[key]
    except KeyError:
        raise TextError(f"UI text {key!r} is missing in {lang}.json") from None
    return text.format(**values) if values else text


def error_text(lang: str, error: BaseException) -> str:
    """What a person reads of `error` in `lang`: the UI text its key names (`RespineError.keyed`)
    when `lang` has it, else its one-line message (in English). One line either way."""
    if not isinstance(error, RespineError) or not error.key:
        return str(error)
    key = f"common.error.{error.key}"
    if key not in texts(lang):
        return str(error)
    return " ".join(t(lang, key, **(error.params or {})).split())


def missing_keys() -> dict[str, set[str]]:
    """For each language, the keys another language has and it lacks (empty sets = complete)."""
    every = set().union(*(texts(lang).keys() for lang in UI_LANGUAGES))
    return {lang: every - set(texts(lang)) for lang in UI_LANGUAGES}


def forget_installed() -> None:
    """Drop every installed language's texts (a kiosk opening another database; tests)."""
    _INSTALLED.clear()
