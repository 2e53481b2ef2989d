"""The read-in scripts of the stats export: SAS (formats, special missing values) and R (haven).

``read_stats.sas`` reads both XPORT files, turns the codes -9991 to -9997 into SAS's special
missing values ``.S .N .M .U .D .I`` and attaches a format (value labels) to every coded column.
``read_stats.R`` reads the SPSS files with haven, keeping variable labels, value labels and the
user-defined missing codes, and shows how to turn them into factors and plain NA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from respine_desktop.exports.missing_codes import MissingCode
from respine_desktop.exports.stats_names import XPT_TABLES, xpt_name

if TYPE_CHECKING:
    from respine_desktop.exports.stats import Variable


def _sas_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _format_name(n: int) -> str:
    """F + letters (a SAS format name may not end in a digit): FA, FB ... FZ, FBA ..."""
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return "F" + letters


def sas_script(variables: Mapping[str, Sequence[Variable]]) -> str:
    """The SAS program reading ``visits_wide.xpt`` and ``answers_long.xpt``."""
    formats: dict[tuple[tuple[float | str, str], ...], str] = {}
    assigned: dict[str, list[tuple[str, str]]] = {}
    for table, vs in variables.items():
        for v in vs:
            if v.kind != "number" or not (v.value_labels or v.has_missing_codes):
                continue
            key: tuple[tuple[float | str, str], ...] = tuple(sorted(v.value_labels.items()))
            if v.has_missing_codes:
                key += (("missing", ""),)
            name = formats.setdefault(key, _format_name(len(formats)))
            assigned.setdefault(table, []).append((xpt_name(v.column.name), name))
    lines = [
        "/* RESPINE stats export: reads the SAS XPORT v5 files written by",
        "   'respine export stats' (run from the folder holding them).",
        "   Codes -9991 to -9997 become the special missing values",
        "   .S skipped, .N not due, .M missed, .U uncomputable, .D undetermined,",
        "   .I incomplete, .W withdrawn; coded columns get formats (value labels).",
        "   Short names: see stats_names.csv. */",
        "",
        "proc format;",
    ]
    for key, name in formats.items():
        lines.append(f"  value {name}")
        for code, label in key:
            if isinstance(code, str):  # the missing codes
                lines += [f"    .{m.value[1]} = {_sas_text(m.label)}" for m in MissingCode]
            else:
                lines.append(f"    {code:g} = {_sas_text(label)}")
        lines.append("  ;")
    lines += ["run;", ""]
    for table, member in XPT_TABLES.items():
        lines += [
            f'libname x{member[:7]} xport "{table}.xpt";',
            f"data {table};",
            f"  set x{member[:7]}.{member};",
            "  array _n _numeric_;",
            "  do _i = 1 to dim(_n);",
        ]
        lines += [
            f"    {'else ' if k else ''}if _n(_i) = {m.numeric} then _n(_i) = .{m.value[1]};"
            for k, m in enumerate(MissingCode)
        ]
        lines += ["  end;", "  drop _i;"]
        pairs = assigned.get(table, [])
        if pairs:
            lines.append("  format")
            lines += [f"    {column} {name}." for column, name in pairs]
            lines.append("  ;")
        lines += ["run;", ""]
    return "\n".join(lines) + "\n"


def r_script(variables: Mapping[str, Sequence[Variable]]) -> str:
    """The R program reading ``visits_wide.sav`` and ``answers_long.sav`` with haven."""
    del variables  # the .sav files carry every label themselves
    codes = ", ".join(f"{m.numeric} = {m.label!r}" for m in MissingCode)
    return f"""# RESPINE stats export: reads the SPSS files written by 'respine export stats'
# (run from the folder holding them). Needs the haven package (install.packages("haven")).
# Variable labels: attr(x, "label"); value labels: haven::as_factor(x);
# missing codes ({codes}) are user-defined missing values:
# is.na(x) is TRUE for them, haven::na_values(x) lists them, haven::zap_missing(x) makes them NA.
library(haven)

visits_wide <- read_sav("visits_wide.sav", user_na = TRUE)
answers_long <- read_sav("answers_long.sav", user_na = TRUE)

# Visits in time order (visit_number), one row per subject x visit.
visits_wide <- visits_wide[order(visits_wide$subject_id, visits_wide$visit_number), ]

# Example: the labels of every column.
# sapply(visits_wide, function(x) attr(x, "label"))
# The answers the results use (a conflict's chosen session, current rows only):
# counted <- answers_long[answers_long$counts == 1, ]
"""
