"""The study configuration (visits, windows, instruments per visit, thresholds) read from TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from respine_desktop.errors import RespineError
from respine_desktop.instruments import instrument_ids
from respine_desktop.paths import resource

OdiRule = Literal["relative", "points"]


class StudyConfigError(RespineError, ValueError):
    """The study configuration is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Visit:
    """A scheduled visit: target day after day 0, its window, and its questionnaires."""

    code: str
    label: Mapping[str, str]
    day: int
    window_before: int
    window_after: int
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class Endpoint:
    """The responder definition of the primary endpoint."""

    visit: str
    baseline_visit: str
    vas_points: float
    vas_percent: float
    odi_rule: OdiRule
    odi_threshold: float


@dataclass(frozen=True)
class Mcid:
    """Minimal clinically important differences, with their source."""

    source: str
    vas_points: float
    vas_percent: float
    odi_points: float
    odi_percent: float
    pcs_points: float
    mcs_points: float


@dataclass(frozen=True)
class Study:
    """The whole study configuration."""

    id: str
    oid: str
    title: str
    protocol: str
    instrument_order: tuple[str, ...]
    visits: tuple[Visit, ...]
    odi_min_sections: int
    sf36_reported: Literal["standard", "rand"]
    endpoint: Endpoint
    mcid: Mcid
    path: Path

    @property
    def visit_codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.visits)

    def visit(self, code: str) -> Visit:
        for v in self.visits:
            if v.code == code:
                return v
        raise KeyError(f"visit {code!r} is not in the schedule ({', '.join(self.visit_codes)})")


def _get(where: str, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise StudyConfigError(f"{where}: missing key {key!r}")
    value = table[key]
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise StudyConfigError(f"{where}: {key!r} has the wrong type ({value!r})")
    return value


def parse_study(path: Path, raw: Mapping[str, Any]) -> Study:
    """Validate a parsed TOML document."""
    name = path.name
    study = _get(f"{name} [study]", raw, "study", dict)
    order = tuple(_get(f"{name} [study]", study, "instrument_order", list))
    for instrument in order:
        if instrument not in instrument_ids():
            raise StudyConfigError(f"{name} [study]: unknown instrument {instrument!r}")
    visits = []
    for n, v in enumerate(_get(name, raw, "visits", list), start=1):
        where = f"{name} [[visits]] #{n}"
        instruments = tuple(_get(where, v, "instruments", list))
        unknown = [i for i in instruments if i not in order]
        if unknown:
            raise StudyConfigError(f"{where}: instruments {unknown} not in instrument_order")
        visits.append(
            Visit(
                code=_get(where, v, "code", str),
                label=_get(where, v, "label", dict),
                day=_get(where, v, "day", int),
                window_before=_get(where, v, "window_before", int),
                window_after=_get(where, v, "window_after", int),
                instruments=tuple(i for i in order if i in instruments),
            )
        )
    codes = [v.code for v in visits]
    if len(set(codes)) != len(codes) or not visits:
        raise StudyConfigError(f"{name} [[visits]]: visit codes must be unique and non-empty")
    scoring = _get(name, raw, "scoring", dict)
    min_sections = _get(f"{name} [scoring]", scoring, "odi_min_sections", int)
    if not 1 <= min_sections <= 10:
        raise StudyConfigError(f"{name} [scoring]: odi_min_sections must be 1..10")
    reported = _get(f"{name} [scoring]", scoring, "sf36_reported", str)
    if reported not in ("standard", "rand"):
        raise StudyConfigError(f"{name} [scoring]: sf36_reported must be 'standard' or 'rand'")
    ep = _get(name, raw, "endpoint", dict)
    where = f"{name} [endpoint]"
    rule = _get(where, ep, "odi_rule", str)
    if rule not in ("relative", "points"):
        raise StudyConfigError(f"{where}: odi_rule must be 'relative' or 'points'")
    endpoint = Endpoint(
        visit=_get(where, ep, "visit", str),
        baseline_visit=_get(where, ep, "baseline_visit", str),
        vas_points=float(_get(where, ep, "vas_points", (int, float))),
        vas_percent=float(_get(where, ep, "vas_percent", (int, float))),
        odi_rule=rule,
        odi_threshold=float(_get(where, ep, "odi_threshold", (int, float))),
    )
    for code in (endpoint.visit, endpoint.baseline_visit):
        if code not in codes:
            raise StudyConfigError(f"{where}: visit {code!r} is not in the schedule")
    m = _get(name, raw, "mcid", dict)
    where = f"{name} [mcid]"
    mcid = Mcid(
        source=_get(where, m, "source", str),
        **{
            k: float(_get(where, m, k, (int, float)))
            for k in (
                "vas_points",
                "vas_percent",
                "odi_points",
                "odi_percent",
                "pcs_points",
                "mcs_points",
            )
        },
    )
    return Study(
        id=_get(f"{name} [study]", study, "id", str),
        oid=_get(f"{name} [study]", study, "oid", str),
        title=_get(f"{name} [study]", study, "title", str),
        protocol=_get(f"{name} [study]", study, "protocol", str),
        instrument_order=order,
        visits=tuple(visits),
        odi_min_sections=min_sections,
        sf36_reported=reported,
        endpoint=endpoint,
        mcid=mcid,
        path=path,
    )


def load_study_file(path: Path) -> Study:
    """Load and validate a study configuration file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyConfigError(f"{path.name}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StudyConfigError(f"{path.name}: not valid TOML ({exc})") from exc
    return parse_study(path, raw)


@cache
def load_study() -> Study:
    """The shipped RESPINE configuration (`resources/study/respine.toml`)."""
    return load_study_file(resource("study", "respine.toml"))
