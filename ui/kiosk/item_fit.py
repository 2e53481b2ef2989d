"""The fit rule of an item page: the question and every answer on screen, never hidden below.

On every item page the question, every option, Back and Next must be visible without scrolling,
at any supported screen and in both text sizes. When the content does not fit, the page gives
way in this order, and stops at the first step that fits:

1. compact spacing: smaller gaps between the texts, the options and around the page (the
   options stay at least `MIN_TARGET_MM` high: touch targets never shrink);
2. smaller type, in steps of `TYPE_STEP`, down to `FLOOR_PT`, the normal-text sizes of
   kiosk.qss (so large text never becomes smaller than normal text, and normal text never
   shrinks);
3. as a last resort the page scrolls, with a "more answers below" cue, and Next stays blocked
   until the patient has scrolled to the last option (`ItemPage` shows the cue).

The sizes of the large-text style are read from the widgets themselves (the style sheet in
force), so the rule needs no knowledge of the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QLayout, QWidget

from ui.widgets.touch_scroll import stop_touch_scroll, touch_scroll
from ui.widgets.units import mm

if TYPE_CHECKING:
    from ui.kiosk.item_page import ItemPage

# The normal-text sizes (kiosk.qss): the type never gets smaller than these.
FLOOR_PT = {"question": 21.0, "stem": 16.0, "instrument": 14.0, "choice": 17.0}
TYPE_STEP = 0.06
# Layout may differ from the computed height by a few pixels (rounding): keep a margin.
SLACK_PX = 4
_NO_BAR = Qt.ScrollBarPolicy.ScrollBarAlwaysOff

_SELECTORS = {
    "question": 'QLabel[role="question"]',
    "stem": 'QLabel[role="stem"]',
    "instrument": 'QLabel[role="instrument"]',
    "choice": "QLabel#choiceText",
}
# Spacing (mm): roomy, compact.
COLUMN_GAP_MM = (4.0, 1.5)
PAGE_MARGIN_MM = (6.0, 3.0)
VAS_GAP_MM = (6.0, 3.0)


@dataclass(frozen=True)
class FitLevel:
    """One way to lay out the page: compact spacing or not, and a type scale (1.0 = the style's)."""

    compact: bool
    scale: float

    def sheet(self, natural: dict[str, float]) -> str:
        """The style sheet of the page's body at this level ('' at the style's own sizes)."""
        if self.scale >= 1.0:
            return ""
        rules = []
        for role, selector in _SELECTORS.items():
            size = max(FLOOR_PT[role], natural.get(role, FLOOR_PT[role]) * self.scale)
            rules.append(f"{selector} {{ font-size: {size:.1f}pt; }}")
        return "\n".join(rules)

    def point_size(self, role: str, natural: dict[str, float]) -> float:
        """The size of `role`'s text at this level."""
        size = natural.get(role, FLOOR_PT[role])
        return size if self.scale >= 1.0 else max(FLOOR_PT[role], size * self.scale)


def natural_sizes() -> dict[str, float]:
    """The point sizes the application's style sheet gives each role (before any fitting)."""
    sizes = {}
    for role, selector in _SELECTORS.items():
        probe = QLabel()
        if selector.startswith("QLabel#"):
            probe.setObjectName(selector.split("#", 1)[1])
        else:
            probe.setProperty("role", role)
        probe.ensurePolished()
        sizes[role] = probe.font().pointSizeF()
        probe.deleteLater()
    return sizes


def levels(natural: dict[str, float]) -> list[FitLevel]:
    """Every level, from the roomiest to the most compact, down to the type floor."""
    result = [FitLevel(False, 1.0), FitLevel(True, 1.0)]
    # The smallest useful scale: every role at its floor.
    lowest = min((FLOOR_PT[r] / s for r, s in natural.items() if s > 0), default=1.0)
    scale = 1.0
    while lowest < 1.0 and scale - TYPE_STEP > lowest + 1e-6:
        scale = round(scale - TYPE_STEP, 3)
        result.append(FitLevel(True, scale))
    if lowest < 1.0 - 1e-6:
        result.append(FitLevel(True, round(lowest, 3)))
    return result


class ItemFitter(QObject):
    """Applies the fit rule to an `ItemPage` (see the module's docstring).

    `level` is the level in force, `scrolling` whether even the last level did not fit (then
    `seen_all` turns true once the patient has scrolled to the end; `on_seen` is called).
    """

    def __init__(self, page: ItemPage) -> None:
        super().__init__(page)
        self.page = page
        self.natural: dict[str, float] | None = None
        self.levels: list[FitLevel] = []
        self.level = FitLevel(False, 1.0)
        self._sheet = ""
        self.scrolling = False
        self.seen_all = True
        self.on_seen: Callable[[], None] = lambda: None
        self._busy = False
        assert page.scroll_area is not None
        self.area = page.scroll_area
        # The scroll area scrolls when the body's minimum height exceeds its own, and the
        # minimum of a wrapped label is its height at some narrow width: let the height for
        # the real width (what `fits` measures) alone decide.
        page.body.setMinimumHeight(1)
        # A drag on an item page marks the VAS: it scrolls only in the last resort.
        stop_touch_scroll(self.area)
        # Whatever changes the room for the answers (the window, the header, the skip panel)
        # resizes the scroll area: fit again then.
        self.area.installEventFilter(self)
        bar = self.area.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_scrolled)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.area and event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self, *, to_top: bool = False) -> None:
        """Choose the roomiest level at which the page fits (when it is on screen)."""
        page = self.page
        if self._busy or not page.isVisible():
            return
        self._busy = True
        try:
            if self.natural is None:
                self.natural = natural_sizes()
                self.levels = levels(self.natural)
            was_scrolling = self.scrolling
            page.more_cue.hide()
            self.area.setVerticalScrollBarPolicy(_NO_BAR)
            fitted = False
            for level in self.levels:
                self._apply(level)
                if self.fits():
                    fitted = True
                    break
            if fitted != (not self.scrolling):
                if fitted:
                    stop_touch_scroll(self.area)
                else:
                    touch_scroll(self.area, by_design=False)
            self.scrolling = not fitted
            # A scroll bar left over from a roomier level would narrow the text and re-wrap it.
            self.area.setVerticalScrollBarPolicy(
                Qt.ScrollBarPolicy.ScrollBarAsNeeded if self.scrolling else _NO_BAR
            )
            if to_top or not self.scrolling:
                self.area.verticalScrollBar().setValue(0)
            if not self.scrolling:
                self.seen_all = True
            elif to_top or not was_scrolling:
                self.seen_all = False  # until the patient has scrolled to the last option
            page.more_cue.setVisible(self.scrolling and not self._at_end())
            page.outer.activate()
        finally:
            self._busy = False

    def fits(self) -> bool:
        """Whether the body's content fits the visible part of the scroll area now."""
        page = self.page
        # Layouts cache their items' heights and hear of a changed text or font inside a child
        # (an option's label) only through posted events: forget every cached height, measure.
        for widget in page.body.findChildren(QWidget):
            if widget.layout() is not None:
                widget.updateGeometry()
        for layout in page.body.findChildren(QLayout):
            layout.invalidate()
        page.column.invalidate()
        page.outer.activate()
        area = self.area
        needed = self.page.column.totalHeightForWidth(area.width())
        if needed < 0:
            needed = self.page.column.totalSizeHint().height()
        return needed + SLACK_PX <= area.height()

    def point_size(self, role: str) -> float:
        """The size of `role`'s text now (pt)."""
        return self.level.point_size(role, self.natural or {})

    def _apply(self, level: FitLevel) -> None:
        page = self.page
        self.level = level
        k = 1 if level.compact else 0
        page.column.setSpacing(mm(COLUMN_GAP_MM[k], page))
        margin = mm(PAGE_MARGIN_MM[k], page)
        page.outer.setContentsMargins(margin, margin, margin, margin)
        page.vas_gap.setFixedHeight(mm(VAS_GAP_MM[k], page))
        if page.choices is not None:
            page.choices.set_compact(level.compact)
        sheet = level.sheet(self.natural or {})
        if sheet != self._sheet:
            self._sheet = sheet
            page.body.setStyleSheet(sheet)

    def _at_end(self) -> bool:
        bar = self.area.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def _on_scrolled(self, *_: int) -> None:
        if self._busy or not self.scrolling:
            return
        at_end = self._at_end()
        if at_end and not self.seen_all:
            self.seen_all = True
            self.on_seen()
        self.page.more_cue.setVisible(not at_end)
