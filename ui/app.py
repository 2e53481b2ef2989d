"""Start the Qt application (the kiosk and the staff console)."""

from __future__ import annotations


def run_app(argv: list[str]) -> int:
    raise SystemExit("the kiosk window is not built yet")
