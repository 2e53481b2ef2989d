"""Kinetic touch scrolling for every list that scrolls: a finger (or mouse) drag moves it.

A touch screen reports a finger as a left mouse button, so `QScroller`'s left-button gesture
serves touch and mouse alike; a tap without a drag still reaches the row or button under the
finger. The list is also marked as scrolling by design (`SCROLLS_BY_DESIGN`), which the
screenshots' fit check reads (a list of 47 answers may scroll; an item page may not).
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QAbstractItemView, QAbstractScrollArea, QScroller, QScrollerProperties

SCROLLS_BY_DESIGN = "scrollsByDesign"
A = TypeVar("A", bound=QAbstractScrollArea)


def touch_scroll(area: A, *, by_design: bool = True) -> A:
    """Let a drag scroll `area` kinetically (pixel by pixel for item views); returns `area`.

    `by_design`: a list meant to scroll (the fit check then accepts that it scrolls); a page
    that scrolls only when the window is too small for it passes False.
    """
    if isinstance(area, QAbstractItemView):
        area.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        area.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    viewport = area.viewport()
    QScroller.grabGesture(viewport, QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    # A tap reaches the button or row under the finger at once (not after a delay); a drag
    # that follows cancels it (the press then ends with a release far away: no click).
    scroller = QScroller.scroller(viewport)
    properties = scroller.scrollerProperties()
    properties.setScrollMetric(QScrollerProperties.ScrollMetric.MousePressEventDelay, 0.0)
    scroller.setScrollerProperties(properties)
    area.setProperty(SCROLLS_BY_DESIGN, by_design)
    return area


def stop_touch_scroll(area: QAbstractScrollArea) -> None:
    """Undo `touch_scroll` (an item page that fits again: a drag there marks the VAS)."""
    QScroller.ungrabGesture(area.viewport())
    area.setProperty(SCROLLS_BY_DESIGN, False)
