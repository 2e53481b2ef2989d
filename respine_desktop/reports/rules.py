"""The rules a report states in words: endpoint definition, MCID thresholds, scoring methods."""

from __future__ import annotations

from respine_desktop import scoring
from respine_desktop.reports.measures import sf36_label
from respine_desktop.study import Study


def _num(value: float) -> str:
    return f"{value:g}"


def endpoint_text(study: Study) -> str:
    """The responder definition with the study's thresholds."""
    ep = study.endpoint
    odi = (
        f"ODI improvement of at least {_num(ep.odi_threshold)} % of the baseline ODI"
        if ep.odi_rule == "relative"
        else f"ODI improvement of at least {_num(ep.odi_threshold)} points"
    )
    return (
        f"Responder = (pain VAS improvement of at least {_num(ep.vas_points)} mm and at least "
        f"{_num(ep.vas_percent)} % of baseline) or ({odi}); improvement = {ep.baseline_visit} "
        f"minus the follow-up value. Primary endpoint: responder at {ep.visit}."
    )


def mcid_text(study: Study) -> str:
    """The MCID thresholds and their source."""
    m = study.mcid
    parts = [
        f"VAS {_num(m.vas_points)} mm or {_num(m.vas_percent)} %",
        f"ODI {_num(m.odi_points)} points or {_num(m.odi_percent)} %",
    ]
    if study.sf36_reported == "standard":
        parts.append(f"PCS {_num(m.pcs_points)} points, MCS {_num(m.mcs_points)} points")
    return f"MCID (improvement of at least): {'; '.join(parts)}. Source: {m.source}."


def scoring_rules(study: Study) -> list[str]:
    """One sentence per scoring rule used by the report."""
    return [
        f"Scoring rules: {scoring.SCORING_VERSION} (this application).",
        f"SF-36: {sf36_label(study)}.",
        f"ODI: {scoring.label('odi')}, computed when at least {study.odi_min_sections} of 10 "
        "sections are answered (100 x sum / (5 x sections answered)).",
        f"{scoring.label('vas')}; displayed to 0.1 mm (the precision its thresholds use).",
        "Scores are kept at full precision and rounded only for display (half away from zero).",
    ]
