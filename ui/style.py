"""The kiosk's look: the style sheets of `resources/style/`, with large-text and high-contrast."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from respine_desktop.paths import resource

STYLE = "Fusion"
# The dynamic property of an application made by `application`: its first `apply_style` need not
# set the style (Qt makes it from the -style option).
_STYLED = "respineStyleGiven"


def application(argv: list[str]) -> QApplication:
    """A new QApplication for `argv` (its program name first) in the kiosk's style.

    The style is given as Qt's own ``-style`` option, so Qt makes it in C++ when the first
    widget needs it: ``QApplication.setStyle`` returns the style to Python, and wrapping that
    `QStyle` builds the Python enums of its class (some 15 ms at start-up). The first
    `apply_style` then leaves the style as it is; later ones set it as always.
    """
    app = QApplication([argv[0], "-style", STYLE, *argv[1:]])
    app.setProperty(_STYLED, True)
    return app


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
    if app.property(_STYLED) is True:
        app.setProperty(_STYLED, False)
    else:
        app.setStyle(STYLE)
    app.setStyleSheet(style_sheet(large_text=large_text, high_contrast=high_contrast))
