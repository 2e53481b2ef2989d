"""The fit check of `python main.py screenshots --check-fit`: is all of a screen really visible?

A screen fails when, among its visible widgets:

* a control or a text (label, button, option, field, list, progress bar, tab bar, slider) is
  not entirely inside the window and inside every widget that holds it (cut off by an edge, or
  out of a scroll area's visible part);
* a text is cut: a label shorter than its wrapped text needs, a button, check box or radio
  button narrower (or shorter) than its text needs, an option shorter than its text needs;
* a scroll area needs scrolling (its scroll bar has a range);
* a tab bar hides a tab (behind its scroll arrows, or past its end) or cuts a tab's title
  (elided): every page of a tabbed screen must be reachable by a visible, readable tab. The
  pages inside the tabs are checked when they are shown (the screenshots picture each tab).

Lists and tables (item views) and scroll areas marked as scrolling by design (the property
`SCROLLS_BY_DESIGN`, set by `ui.widgets.touch_scroll.touch_scroll`, e.g. the review list of
47 answers) may scroll: their content may be out of view vertically, but the list itself must be
fully visible, and its content must not be cut at the sides.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollBar,
    QTabBar,
    QWidget,
)

from ui.widgets.touch_scroll import SCROLLS_BY_DESIGN
from ui.widgets.vas_slider import VasSlider

CHECKED = (
    QLabel,
    QAbstractButton,
    QLineEdit,
    QAbstractItemView,
    QProgressBar,
    QTabBar,
    QComboBox,
    QAbstractSpinBox,
    QAbstractSlider,
    VasSlider,
)


def scrolls_by_design(area: QAbstractScrollArea) -> bool:
    """Whether `area` is a list meant to scroll (an item view, or marked so)."""
    return isinstance(area, QAbstractItemView) or bool(area.property(SCROLLS_BY_DESIGN))


def describe(widget: QWidget) -> str:
    """A short name of `widget` for the report: its class, role and text."""
    text = ""
    if isinstance(widget, QLabel | QAbstractButton):
        text = widget.text()
    text = text or widget.accessibleName() or widget.objectName()
    text = " ".join(text.split())
    if len(text) > 48:
        text = text[:45] + "..."
    role = widget.property("role")
    kind = type(widget).__name__ + (f"[{role}]" if role else "")
    return f"{kind} {text!r}" if text else kind


def visible_rect(widget: QWidget, window: QWidget) -> tuple[QRect, QRect]:
    """(`widget`'s rectangle, its part left visible by its ancestors), in window coordinates.

    In a list that scrolls by design only the part of `widget` within the list's rows shown
    now must be visible (both rectangles are cut to them; empty: scrolled out of view)."""
    full = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
    shown = QRect(full)
    parent = widget.parentWidget()
    while parent is not None:
        clip = QRect(parent.mapTo(window, parent.rect().topLeft()), parent.size())
        area = parent.parentWidget()
        if (
            isinstance(area, QAbstractScrollArea)
            and parent is area.viewport()
            and scrolls_by_design(area)
        ):
            rows = QRect(full.left(), clip.top(), full.width(), clip.height())
            full, shown = full.intersected(rows), shown.intersected(rows)
        shown = shown.intersected(clip)
        if parent is window:
            break
        parent = parent.parentWidget()
    return full, shown


def text_cut(widget: QWidget) -> bool:
    """Whether `widget`'s own text needs more room than it has."""
    if isinstance(widget, QLabel):
        if not widget.text():
            return False
        if widget.wordWrap():
            return widget.heightForWidth(widget.width()) > widget.height() + 1
        hint = widget.sizeHint()
        return hint.width() > widget.width() + 1 or hint.height() > widget.height() + 1
    if isinstance(widget, QAbstractButton) and widget.hasHeightForWidth():
        return widget.heightForWidth(widget.width()) > widget.height() + 1
    if isinstance(widget, QAbstractButton) and not isinstance(widget, QPushButton):
        # Check boxes and radio buttons: the box and the whole text.
        return bool(widget.text()) and widget.sizeHint().width() > widget.width() + 1
    if isinstance(widget, QPushButton) and widget.text():
        needed = widget.fontMetrics().horizontalAdvance(widget.text())
        return (
            widget.sizeHint().width() > widget.width() + 1
            or needed > widget.width()
            or widget.fontMetrics().height() > widget.height()
        )
    return False


def tab_problems(bar: QTabBar) -> list[str]:
    """The tabs of `bar` out of its visible part or with a cut title."""
    problems = []
    room = bar.rect()
    for n in range(bar.count()):
        if not bar.isTabVisible(n):
            continue
        rect, title = bar.tabRect(n), " ".join(bar.tabText(n).split())
        if not room.contains(rect):
            problems.append(f"tab hidden by its tab bar: {title!r}")
        elif bar.tabSizeHint(n).width() > rect.width() + 1:
            problems.append(f"tab title cut: {title!r}")
    return problems


def fit_problems(window: QWidget) -> list[str]:
    """Every reason why a part of `window`'s screen is not fully visible (empty: it fits)."""
    problems = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or isinstance(widget, QScrollBar):
            continue
        if isinstance(widget, QAbstractScrollArea) and not scrolls_by_design(widget):
            bar = widget.verticalScrollBar()
            if bar.maximum() > 0:
                problems.append(f"needs scrolling ({bar.maximum()} px): {describe(widget)}")
        if not isinstance(widget, CHECKED):
            continue
        full, shown = visible_rect(widget, window)
        if widget.width() <= 0 or widget.height() <= 0:
            problems.append(f"squeezed to nothing: {describe(widget)}")
        elif full.isEmpty():
            continue  # scrolled out of view in a list meant to scroll
        elif shown != full:
            hidden = full.height() * full.width() - shown.height() * shown.width()
            where = "outside the visible area" if shown.isEmpty() else "clipped"
            problems.append(f"{where} ({hidden} px²): {describe(widget)}")
        elif text_cut(widget):
            problems.append(f"text cut: {describe(widget)}")
        elif isinstance(widget, QTabBar):
            problems.extend(tab_problems(widget))
    return problems
