"""The qualification report (`respine validate --out FILE.pdf`): the device's IQ/OQ evidence.

Page layout: title, the build and device identity, the verdict, then one row per check
(requirement, what was checked, expected, observed, pass/FAIL; failures highlighted), and at
the end the block the person who ran it signs (name, role, date, signature, meaning).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.units import mm

from respine_desktop import __version__, clock
from respine_desktop.reports.pdf import (
    Footer,
    build,
    frame_width,
    info_table,
    para,
    spacer,
    styles,
    table,
    write_atomically,
)

TITLE = "Installation and operational qualification"
# (requirement, title, expected, observed, verdict) per check
CheckRow = tuple[str, str, str, str, str]


def qualification_pdf(
    identity: Sequence[tuple[str, str]],
    checks: Sequence[CheckRow],
    out: Path,
    *,
    signature: Sequence[tuple[str, str]] | None = None,
) -> int:
    """Write the report to `out` (atomically); returns its page count. `signature`: the rows of
    the electronic signature (name, role, time, meaning, results hash); None: a paper block."""
    s = styles()
    failed = [c for c in checks if c[4] != "pass"]
    verdict = (
        f"PASSED: all {len(checks)} checks passed."
        if not failed
        else f"FAILED: {len(failed)} of {len(checks)} checks failed "
        f"({', '.join(c[0] for c in failed[:8])}). The device must not be used for the study "
        "until they pass."
    )
    cell = s["cell"]
    rows: list[list[object]] = [["Requirement", "Check", "Expected", "Observed", "Result"]]
    rows += [
        [para(req, cell), para(what, cell), para(exp, cell), para(obs, cell), result]
        for req, what, exp, obs, result in checks
    ]
    highlight = [n for n, c in enumerate(checks, start=1) if c[4] != "pass"]
    width = frame_width()

    def story() -> list[object]:
        return [
            para(TITLE, s["title"]),
            para(
                "RESPINE Desktop checked itself on this device: the installed files against the "
                "manifest written when they were built (IQ), then what the application must do, "
                "each run here in a temporary folder (OQ). Requirement ids refer to "
                "docs/requirements.md.",
                s["body"],
            ),
            spacer(4),
            info_table(identity, cell),
            spacer(6),
            para(verdict, s["key"]),
            spacer(4),
            table(
                rows,
                [24 * mm, 0.27 * width, 0.2 * width, None, 13 * mm],
                align_right_from=None,
                highlight_rows=highlight,
            ),
            spacer(10),
            para("Performed by" + (" (electronic signature)" if signature else ""), s["h2"]),
            table(
                [[label, para(value, cell)] for label, value in signature]
                if signature
                else [
                    ["Name", ""],
                    ["Role", ""],
                    ["Date and time", ""],
                    ["Meaning", "I performed this qualification and reviewed its results."],
                    ["Signature", "\n\n"],
                ],
                [(42 if signature else 34) * mm, None],
                header_rows=0,
                header_cols=1,
                align_right_from=None,
                font_size=9,
            ),
        ]

    footer = Footer(TITLE, clock.now_iso(), __version__, "none (no study database)")
    data, pages = build(story, footer, title=TITLE, subject="RESPINE Desktop device qualification")
    write_atomically(data, out)
    return pages
