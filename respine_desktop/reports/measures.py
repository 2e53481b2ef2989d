"""The measures reports show: where each score comes from, its label, and which way is better."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from respine_desktop import scoring
from respine_desktop.study import Study


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """A reported score: its key, the instrument (and method) it comes from, how it is named."""

    key: str
    instrument_id: str
    label: str
    unit: str = ""
    lower_is_better: bool = False


_STANDARD_NAMES: Mapping[str, str] = {
    "PF": "Physical functioning",
    "RP": "Role-physical",
    "BP": "Bodily pain",
    "GH": "General health",
    "VT": "Vitality",
    "SF": "Social functioning",
    "RE": "Role-emotional",
    "MH": "Mental health",
    "PCS": "PCS (physical summary)",
    "MCS": "MCS (mental summary)",
}
_RAND_NAMES: Mapping[str, str] = {
    "PF": "Physical functioning",
    "RP": "Role limitations, physical",
    "RE": "Role limitations, emotional",
    "VT": "Energy/fatigue",
    "MH": "Emotional well-being",
    "SF": "Social functioning",
    "BP": "Pain",
    "GH": "General health",
    "HT": "Health change",
}
_STANDARD_ORDER = ("PF", "RP", "BP", "GH", "VT", "SF", "RE", "MH", "PCS", "MCS")

VAS = MeasureSpec("VAS", "vas", "Pain VAS", "mm", lower_is_better=True)
ODI = MeasureSpec("ODI", "odi", "ODI", "%", lower_is_better=True)


def sf36_method(study: Study) -> str:
    """The SF-36 scoring method reports use: ``standard`` or ``rand`` (study configuration)."""
    return study.sf36_reported


def sf36_label(study: Study) -> str:
    """How the reported SF-36 set is named, e.g. "SF-36 v1 standard scoring, US 1990 norms"."""
    return scoring.label("sf36", sf36_method(study))


def score_methods(study: Study) -> dict[str, str]:
    """The stored scoring method read per instrument: its default, the SF-36's as configured."""
    methods = {i: scoring.registry.method(i).name for i in study.instrument_order}
    return {**methods, "sf36": sf36_method(study)}


def table_measures(study: Study) -> tuple[MeasureSpec, ...]:
    """Every row of a score table: VAS, ODI, then the reported SF-36 set in its usual order."""
    if sf36_method(study) == "rand":
        keys = scoring.score_keys("sf36", "rand")
        sf36 = tuple(MeasureSpec(k, "sf36", f"{_RAND_NAMES[k]} ({k})") for k in keys)
    else:
        sf36 = tuple(MeasureSpec(k, "sf36", f"{_STANDARD_NAMES[k]}") for k in _STANDARD_ORDER)
    return (VAS, ODI, *sf36)


def chart_measures(study: Study) -> tuple[MeasureSpec, ...]:
    """The four charted measures: VAS, ODI, PCS, MCS (RAND-36 has no summaries: PF and MH)."""
    if sf36_method(study) == "rand":
        return (
            VAS,
            ODI,
            MeasureSpec("PF", "sf36", "RAND-36 physical functioning"),
            MeasureSpec("MH", "sf36", "RAND-36 emotional well-being"),
        )
    return (
        VAS,
        ODI,
        MeasureSpec("PCS", "sf36", "SF-36 PCS"),
        MeasureSpec("MCS", "sf36", "SF-36 MCS"),
    )


def mcid_points(study: Study, key: str) -> float | None:
    """The MCID in points for a charted measure (None when the study defines none)."""
    m = study.mcid
    return {
        "VAS": m.vas_points,
        "ODI": m.odi_points,
        "PCS": m.pcs_points,
        "MCS": m.mcs_points,
    }.get(key)
