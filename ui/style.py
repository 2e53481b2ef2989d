"""The kiosk's look: the style sheets of `resources/style/`, with large-text and high-contrast."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from respine_desktop.paths import resource


def style_sheet(*, large_text: bool = False, high_contrast: bool = False) -> str:
    """kiosk.qss, followed by the overrides for the options switched on."""
    names = ["kiosk.qss"]
    if large_text:
        names.append("kiosk-large.qss")
    if high_contrast:
        names.append("kiosk-contrast.qss")
    return "\n".join(resource("style", n).read_text(encoding="utf-8") for n in names)


def apply_style(
    app: QApplication, *, large_text: bool = False, high_contrast: bool = False
) -> None:
    """Style the whole application."""
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet(large_text=large_text, high_contrast=high_contrast))
