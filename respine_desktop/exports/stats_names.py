"""Names and labels valid in each statistics format: the documented mapping of the stats export.

* **SPSS (.sav)**: the CSV column names as they are (up to 64 bytes), labels up to 256 characters.
* **Stata (.dta)**: the CSV names (all are valid Stata names of at most 32 characters; checked),
  variable labels cut to 80 characters (``...`` at the end; the full text is in
  ``stats_names.csv`` and ``codebook.csv``).
* **SAS XPORT v5 (.xpt)**: names of at most 8 characters, upper case: the fixed short names of
  `XPT_NAMES`, else the CSV name upper-cased without underscores (``odi_01`` -> ``ODI01``,
  ``sf36_12`` -> ``SF3612``, ``RAND36_PF`` -> ``RAND36PF``); labels cut to 40 characters.

Every export writes ``stats_names.csv`` (file, column, sav, dta, xpt, full label) so that each
short name can be traced to its column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# CSV name -> SAS XPORT v5 name where the plain rule would give more than 8 characters or an
# unclear name.
XPT_NAMES: dict[str, str] = {
    "subject_id": "SUBJID",
    "visit_number": "VISITNUM",
    "year_of_birth": "BIRTHYR",
    "visit_date": "VISITDT",
    "study_day": "STUDYDAY",
    "session_id": "SESSID",
    "session_date": "SESSDT",
    "withdrawn_on": "WDRAWNDT",
    "withdrawal_reason": "WDREASON",
    "instrument": "INSTR",
    "instrument_version": "INSTRVER",
    "instrument_checksum": "INSTRSUM",
    "language": "LANG",
    "given_at": "GIVENAT",
    "superseded_by": "SUPERSBY",
    "answer_id": "ANSWERID",
    "given_by": "GIVENBY",
    "vas_calibration": "VASCALIB",
    "SF36_PCS_CHG": "PCSCHG",
    "SF36_MCS_CHG": "MCSCHG",
    "SF36_PCS_MCID": "PCSMCID",
    "SF36_MCS_MCID": "MCSMCID",
    "RESPONDER": "RESPONDR",
}
# Table (member) names inside the XPORT files: at most 8 characters.
XPT_TABLES = {"visits_wide": "VISITSW", "answers_long": "ANSWERSL"}

DTA_LABEL = 80
XPT_LABEL = 40
SAV_LABEL = 256
_STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_XPT_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")


def xpt_name(column: str) -> str:
    """The SAS XPORT v5 name of a column (see the module docstring)."""
    return XPT_NAMES.get(column) or column.upper().replace("_", "")


def short_label(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word, ``...`` marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "..."


def check_names(columns: Iterable[str]) -> None:
    """Raise ValueError unless every column has a valid, distinct Stata and XPORT name."""
    seen: dict[str, str] = {}
    for column in columns:
        if not _STATA_NAME.match(column):
            raise ValueError(f"{column!r} is not a valid Stata name")
        short = xpt_name(column)
        if not _XPT_NAME.match(short):
            raise ValueError(f"{column!r}: XPORT name {short!r} is not valid (8 characters)")
        if short in seen:
            raise ValueError(f"{column!r} and {seen[short]!r} share the XPORT name {short!r}")
        seen[short] = column
