"""The device qualifies itself: installation (IQ) and operational (OQ) checks, with evidence.

`run_checks(workdir)` runs every check in a temporary folder and returns one `Check` per
requirement tested: its requirement id (docs/requirements.md), what was expected, what was
observed and whether it passed. `respine validate` prints them and writes them as a PDF
(`reports.write_qualification_pdf`); any failure makes it exit 1.

IQ (`installation`): the build's identity and every shipped file against the manifest written
when it was built (`manifest`), the runtime's versions, fonts, the screen (`screen`). OQ
(`operational`): the published scoring fixtures, the endpoint's boundary cases, a database's
life cycle (create, durable writes, read, verify, backup, restore), a writer killed mid-visit
(`crash`), tampering detected, an ODM export validated against the shipped XSD, a bundle
exported and imported, a PDF rendered.
"""

from __future__ import annotations

from respine_desktop.qualification.check import Check, run_checks

__all__ = ["Check", "run_checks"]
