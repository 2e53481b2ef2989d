"""What both PDF reports share: page template, styles, tables, images, the footer, safe writing.

Every page carries the footer: "Page x of y", the generation time (application clock, UTC), the
application version and the database's audit-chain head hash, so a printed page names the exact
state of the audit log it was made from. The total page count needs the whole document, so the
canvas keeps each page's state and draws the footers when the document is saved.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL.Image import Image as Bitmap
from reportlab import rl_config
from reportlab.graphics import shapes
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from respine_desktop import __version__, clock, files
from respine_desktop.paths import resource
from respine_desktop.storage import StudyDb, audit_chain_head

PAGE = A4
MARGIN = 16 * mm
FOOTER_HEIGHT = 12 * mm
# DejaVu Sans (resources/fonts, licence beside it), embedded as a subset in every report: Latin,
# Greek, Cyrillic and more print as typed; CJK ideographs and emoji are outside it (see README).
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
PRODUCER = "RESPINE Desktop (ReportLab)"
GRID = colors.HexColor("#b8b8b8")
HEADER_BG = colors.HexColor("#e4eaf1")
ZEBRA = colors.HexColor("#f6f7f9")
HIGHLIGHT = colors.HexColor("#fff4d6")

# Images are stored Flate-compressed and binary: ASCII85 on top (reportlab's default) only makes
# them a quarter bigger and slower. Only reports use reportlab, so the global switch is ours.
rl_config.useA85 = 0


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(resource("fonts", "DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(resource("fonts", "DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


_register_fonts()
# The canvas and vector drawings start in our font too, so no base-14 font is referenced.
rl_config.canvas_basefontname = FONT
shapes.STATE_DEFAULTS["fontName"] = FONT


def pdf_date(iso: str) -> str:
    """A PDF date string (D:YYYYMMDDHHmmSS+00'00') of an ISO UTC time from our clock."""
    digits = "".join(c for c in iso[:19] if c.isdigit())
    return f"D:{digits}+00'00'"


@dataclass(frozen=True, slots=True)
class Footer:
    """What the footer of every page says."""

    title: str
    generated_at: str
    app_version: str
    chain_head: str

    def lines(self, page: int, pages: int) -> tuple[str, str, str]:
        """(left line 1, left line 2, right) texts of one page's footer."""
        return (
            f"{self.title} \u00b7 RESPINE Desktop {self.app_version}",
            f"generated {self.generated_at} \u00b7 Audit chain head: {self.chain_head}",
            f"Page {page} of {pages}",
        )


def footer_for(db: StudyDb, title: str) -> Footer:
    """The footer of a report made now from `db`."""
    return Footer(
        title=title,
        generated_at=clock.now_iso(),
        app_version=__version__,
        chain_head=audit_chain_head(db).hash,
    )


def _canvas_class(footer: Footer, pages: list[int]) -> type[canvas.Canvas]:
    class FooterCanvas(canvas.Canvas):  # type: ignore[misc]
        """Keeps every page's state until `save`, then draws each footer with the page total."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("initialFontName", FONT)
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.setProducer(PRODUCER)
            stamp = pdf_date(footer.generated_at)
            self.setDateFormatter(lambda *_: stamp)

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            pages.append(total)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(number, total)
                super().showPage()
            super().save()

        def _draw_footer(self, page: int, total: int) -> None:
            left1, left2, right = footer.lines(page, total)
            width, _ = PAGE
            self.saveState()
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            self.line(MARGIN, FOOTER_HEIGHT, width - MARGIN, FOOTER_HEIGHT)
            self.setFillColor(colors.HexColor("#444444"))
            self.setFont(FONT, 7)
            self.drawString(MARGIN, FOOTER_HEIGHT - 9, left1)
            self.drawString(MARGIN, FOOTER_HEIGHT - 18, left2)
            self.setFont(BOLD, 8)
            self.drawRightString(width - MARGIN, FOOTER_HEIGHT - 9, right)
            self.restoreState()

    return FooterCanvas


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of both reports."""
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=8.5, leading=11)
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName=BOLD, fontSize=16, leading=20, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=9,
            spaceAfter=4,
            keepWithNext=True,
        ),
        "h3": ParagraphStyle(
            "h3", parent=body, fontName=BOLD, fontSize=9, leading=12, spaceBefore=7, spaceAfter=3
        ),
        "body": body,
        "note": ParagraphStyle(
            "note", parent=body, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444")
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
        "key": ParagraphStyle("key", parent=body, fontName=BOLD, fontSize=10, leading=13),
    }


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped: data never becomes markup)."""
    return Paragraph(escape(text), style)


def rich(markup: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of our own markup (callers escape any data they put in)."""
    return Paragraph(markup, style)


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float | None] | None = None,
    *,
    header_rows: int = 1,
    header_cols: int = 0,
    align_right_from: int | None = 1,
    highlight_rows: Sequence[int] = (),
    font_size: float = 7.5,
) -> Table:
    """A grid table: bold shaded header, zebra rows, numbers right-aligned from a column on."""
    t = Table([list(r) for r in rows], colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, font_size),
        ("LEADING", (0, 0), (-1, -1), font_size + 1.5),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands += [
            ("FONT", (0, 0), (-1, header_rows - 1), BOLD, font_size),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_BG),
        ]
    if header_cols:
        commands.append(("FONT", (0, header_rows), (header_cols - 1, -1), BOLD, font_size))
    for r in range(header_rows, len(rows)):
        if (r - header_rows) % 2 == 1:
            commands.append(("BACKGROUND", (0, r), (-1, r), ZEBRA))
    for r in highlight_rows:
        commands += [
            ("BACKGROUND", (0, r), (-1, r), HIGHLIGHT),
            ("FONT", (0, r), (-1, r), BOLD, font_size),
        ]
    if align_right_from is not None:
        commands.append(("ALIGN", (align_right_from, 0), (-1, -1), "RIGHT"))
    t.setStyle(TableStyle(commands))
    return t


class Picture(Flowable):  # type: ignore[misc]
    """A bitmap drawn at a given width (aspect ratio kept), embedded once, without alpha."""

    def __init__(self, bitmap: Bitmap, width: float) -> None:
        super().__init__()
        self.reader = ImageReader(bitmap)
        w, h = bitmap.size
        self.width = width
        self.height = width * h / w

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.reader, 0, 0, self.width, self.height)


def info_table(rows: Sequence[Sequence[str]], cell: ParagraphStyle) -> Table:
    """The key / value block under a report's title (study, subject, site, dates)."""
    return table(
        [[k, para(v, cell)] for k, v in rows],
        [34 * mm, None],
        header_rows=0,
        header_cols=1,
        align_right_from=None,
    )


def image(bitmap: Bitmap, width: float) -> Picture:
    """`bitmap` scaled to `width` points, keeping its aspect ratio."""
    return Picture(bitmap, width)


def vector(svg: bytes, width: float) -> Flowable:
    """An SVG picture (matplotlib's) drawn as PDF vector graphics, scaled to `width` points."""
    from reportlab.graphics.shapes import Drawing
    from svglib.svglib import svg2rlg

    drawing = svg2rlg(io.BytesIO(svg))
    if not isinstance(drawing, Drawing):  # pragma: no cover - our own SVG always parses
        raise ValueError("chart SVG could not be read")
    scale = width / drawing.width
    drawing.width, drawing.height = width, drawing.height * scale
    drawing.scale(scale, scale)
    return drawing


def frame_width() -> float:
    """The width of the text frame in points."""
    return float(PAGE[0] - 2 * MARGIN) - 12  # the frame pads its content 6 pt each side


def spacer(height: float = 4) -> Spacer:
    return Spacer(1, height)


class _End(Flowable):  # type: ignore[misc]
    """Placed last: records the height left on the last page when it is laid out."""

    def __init__(self, sink: list[float]) -> None:
        super().__init__()
        self.sink = sink

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.sink.append(available_height)
        return 0, 0

    def draw(self) -> None:
        return None


# A last page filled less than this is "near-empty": the layout is tried again with the top and
# bottom margins narrowed (each page then holds a little more, which usually absorbs it).
NEAR_EMPTY = 0.2
_TIGHTER = (0.0, 6 * mm)


def _build_once(
    story: list[Any], footer: Footer, title: str, subject: str, tighter: float
) -> tuple[bytes, int, float]:
    buffer = io.BytesIO()
    top = MARGIN - tighter
    bottom = FOOTER_HEIGHT + 6 * mm - tighter / 2
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author="RESPINE Desktop",
        subject=subject,
        creator=f"RESPINE Desktop {footer.app_version}",
        producer=PRODUCER,
    )
    pages: list[int] = []
    left: list[float] = []
    doc.build([*story, _End(left)], canvasmaker=_canvas_class(footer, pages))
    frame = PAGE[1] - top - bottom - 12  # the frame pads 6 pt top and bottom
    used = 1.0 - (left[-1] if left else 0.0) / frame
    return buffer.getvalue(), pages[-1], used


def build(
    story: Callable[[], list[Any]], footer: Footer, *, title: str, subject: str
) -> tuple[bytes, int]:
    """Lay out the flowables `story()` makes on A4 pages with the footer; returns the PDF bytes
    and the page count. A near-empty last page (`NEAR_EMPTY`) is avoided when narrower top and
    bottom margins absorb it (`story` is called again for that layout)."""
    best: tuple[bytes, int, float] | None = None
    for tighter in _TIGHTER:
        data, pages, used = _build_once(story(), footer, title, subject, tighter)
        if best is None or pages < best[1]:
            best = (data, pages, used)
        if pages == 1 or best[2] >= NEAR_EMPTY:
            break
    assert best is not None
    return best[0], best[1]


def write_atomically(data: bytes, out: Path) -> None:
    """Write `data` to `out` through a temporary file in the same directory (never half a PDF)."""
    directory = out.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is an ordinary document
        files.replace(Path(tmp), out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
